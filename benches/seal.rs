//! `cargo bench`: the cost of sealing and unsealing next to the bare aws-lc-rs RSA-OAEP operations
//! they are built on, and RSA-4096 key generation for `key new`.
//!
//! A plain harness (no benchmark framework): each case runs for a fixed time after a warm-up
//! and reports the median of per-batch timings, so one slow batch does not skew it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::{cert, keys, seal};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/vectors/keys")
            .join(name),
    )
    .unwrap()
}

/// Median seconds per call of `f`, measured over about `budget`.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 5 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    // `cargo bench -- <filter>` and `cargo test --benches` pass arguments; a quick run is enough
    // for the latter.
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let budget = if quick {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(3)
    };
    let mut rng = UnwrapErr(SysRng);
    println!("sealstrap seal benchmark (median of repeated runs)");
    for bits in [4096, 2048] {
        let c = cert::parse(&fixture(&format!("controller-{bits}.crt.pem"))).unwrap();
        let sk = keys::parse_private_keys(&fixture(&format!("controller-{bits}.key.pem"))).unwrap();
        let pk = c.public_key;
        let label = b"secret-source/litellm-master-key";
        let session = [7u8; 32];
        let small = [0x5au8; 64];
        let big = vec![0xa5u8; 1 << 20];

        // The bare backend operations, with no sealstrap code around them.
        let bare_pk =
            OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&pk.spki_der()).unwrap())
                .unwrap();
        let bare_sk = OaepPrivateDecryptingKey::new(
            PrivateDecryptingKey::from_pkcs8(&sk[0].to_pkcs8_der().unwrap()).unwrap(),
        )
        .unwrap();
        let mut wrapped = vec![0u8; bare_pk.ciphertext_size()];
        let rsa = measure(budget, || {
            black_box(
                bare_pk
                    .encrypt(&OAEP_SHA256_MGF1SHA256, &session, &mut wrapped, Some(label))
                    .unwrap(),
            );
        });
        let mut opened = vec![0u8; bare_sk.min_output_size()];
        let rsa_dec = measure(budget, || {
            black_box(
                bare_sk
                    .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut opened, Some(label))
                    .unwrap(),
            );
        });
        let seal64 = measure(budget, || {
            black_box(seal::seal(&mut rng, &pk, label, &small).unwrap());
        });
        let seal1m = measure(budget, || {
            black_box(seal::seal(&mut rng, &pk, label, &big).unwrap());
        });
        let sealed = seal::seal(&mut rng, &pk, label, &small).unwrap();
        let unseal64 = measure(budget, || {
            black_box(seal::unseal(&sk, label, &sealed).unwrap());
        });

        println!();
        println!("RSA-{bits}");
        println!(
            "  bare aws-lc-rs RSA-OAEP encrypt (32-byte key)  {:>9.1} µs",
            rsa * 1e6
        );
        println!(
            "  seal 64-byte value                             {:>9.1} µs   ({:.3}× the bare encrypt)",
            seal64 * 1e6,
            seal64 / rsa
        );
        println!(
            "  seal 1 MiB value                               {:>9.1} µs   ({:.0} MB/s)",
            seal1m * 1e6,
            (1 << 20) as f64 / seal1m / 1e6
        );
        println!(
            "  bare aws-lc-rs RSA-OAEP decrypt                {:>9.1} µs",
            rsa_dec * 1e6
        );
        println!(
            "  unseal 64-byte value                           {:>9.1} µs   ({:.3}× the bare decrypt)",
            unseal64 * 1e6,
            unseal64 / rsa_dec
        );
    }

    // RSA-4096 key generation: one generator, and the first of one per core (what `key new`
    // runs), taken in turn so a change in the machine's load hits both alike. Median and 90th
    // percentile of 20 each (1 in a quick run: it is slow and random).
    let runs = if quick { 1 } else { 20 };
    let threads = sealstrap::par::available_threads();
    let (mut one, mut first_of) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        black_box(sealstrap::rsa::PrivateKey::generate_4096().unwrap());
        one.push(t.elapsed().as_secs_f64());
        // `generate_4096_first_of` leaves the generators that lose running; here every one runs
        // to its end (so none is still running during the next measurement) and the first to
        // finish is what `key new` waits for.
        let t = Instant::now();
        let done: Vec<f64> = std::thread::scope(|s| {
            let gens: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        black_box(sealstrap::rsa::PrivateKey::generate_4096().unwrap());
                        t.elapsed().as_secs_f64()
                    })
                })
                .collect();
            gens.into_iter().map(|g| g.join().unwrap()).collect()
        });
        first_of.push(done.into_iter().fold(f64::INFINITY, f64::min));
    }
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        format!(
            "median {:>7.1} ms   p90 {:>7.1} ms   max {:>7.1} ms",
            v[v.len() / 2] * 1e3,
            v[(v.len() * 9 / 10).min(v.len() - 1)] * 1e3,
            v[v.len() - 1] * 1e3
        )
    };
    println!();
    println!("RSA-4096 key generation ({runs} of each, in turn)");
    println!("  one generator                    {}", summary(&mut one));
    println!(
        "  first of {threads} (one per core, key new) {}",
        summary(&mut first_of)
    );
}
