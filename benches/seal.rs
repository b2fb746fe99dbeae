//! `cargo bench`: the cost of sealing next to the bare RSA-OAEP operation it is built on.
//!
//! A plain harness (no benchmark framework): each case runs for a fixed time after a warm-up
//! and reports the median of per-batch timings, so one slow batch does not skew it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rsa::Oaep;
use sealstrap::{cert, keys, seal};
use sha2::Sha256;

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

        let rsa = measure(budget, || {
            black_box(
                pk.encrypt(
                    &mut rng,
                    Oaep::<Sha256>::new_with_label(label.to_vec()),
                    &session,
                )
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
            "  bare RSA-OAEP encrypt (32-byte key)  {:>9.1} µs",
            rsa * 1e6
        );
        println!(
            "  seal 64-byte value                   {:>9.1} µs   (+{:.1}% over RSA-OAEP)",
            seal64 * 1e6,
            (seal64 / rsa - 1.0) * 100.0
        );
        println!(
            "  seal 1 MiB value                     {:>9.1} µs   ({:.0} MB/s)",
            seal1m * 1e6,
            (1 << 20) as f64 / seal1m / 1e6
        );
        println!(
            "  unseal 64-byte value                 {:>9.1} µs",
            unseal64 * 1e6
        );
    }
}
