//! Property tests: whatever sealstrap seals, the controller's rules unseal, in every scope.

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sealstrap::rsa::PrivateKey;
use sealstrap::seal::{self, Scope};
use sealstrap::{cert, keys};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/vectors/keys")
            .join(name),
    )
    .unwrap()
}

fn key_pair(bits: u32) -> (sealstrap::rsa::PublicKey, Vec<PrivateKey>) {
    let c = cert::parse(&fixture(&format!("controller-{bits}.crt.pem"))).unwrap();
    let k = keys::parse_private_keys(&fixture(&format!("controller-{bits}.key.pem"))).unwrap();
    (c.public_key, k)
}

fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 1..64),
        proptest::collection::vec(any::<u8>(), 64..8192),
        // Up to 1 MiB, the largest a Secret can be.
        (0usize..=1 << 20, any::<u8>()).prop_map(|(n, b)| {
            (0..n)
                .map(|i| b.wrapping_add((i * 31 % 251) as u8))
                .collect()
        }),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Strict),
        Just(Scope::NamespaceWide),
        Just(Scope::ClusterWide)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn seal_then_unseal(plain in plaintext(), scope in scope(), seed in any::<u64>(), big in any::<bool>()) {
        let (pk, sk) = key_pair(if big { 4096 } else { 2048 });
        let mut rng = StdRng::seed_from_u64(seed);
        let label = scope.label("ns-1", "app-secret");
        let sealed = seal::seal(&mut rng, &pk, &label, &plain).unwrap();
        prop_assert_eq!(
            base64_len(&sealed),
            seal::sealed_len(&pk, plain.len())
        );
        let back = seal::unseal(&sk, &label, &sealed).unwrap();
        prop_assert_eq!(back.as_slice(), plain.as_slice());
        // Any other label is refused (strict and namespace-wide bind where it unseals).
        let other = Scope::Strict.label("ns-1", "other");
        if other != label {
            prop_assert!(seal::unseal(&sk, &other, &sealed).is_err());
        }
    }
}

fn base64_len(s: &str) -> usize {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap()
        .len()
}

#[test]
fn every_value_gets_a_fresh_session_key() {
    let (pk, _) = key_pair(2048);
    let mut rng = StdRng::seed_from_u64(7);
    let a = seal::seal_bytes(&mut rng, &pk, b"ns/n", b"same").unwrap();
    let b = seal::seal_bytes(&mut rng, &pk, b"ns/n", b"same").unwrap();
    // Same plaintext, same key: the AES part differs only if the session key differs.
    assert_ne!(a[2 + 256..], b[2 + 256..]);
}

#[test]
fn tampering_anywhere_is_detected() {
    let (pk, sk) = key_pair(2048);
    let mut rng = StdRng::seed_from_u64(1);
    let sealed = seal::seal_bytes(&mut rng, &pk, b"ns/n", b"value").unwrap();
    for i in [0usize, 1, 2, 100, 257, 258, sealed.len() - 1] {
        let mut t = sealed.clone();
        t[i] ^= 0x01;
        assert!(seal::unseal_bytes(&sk, b"ns/n", &t).is_err(), "flip at {i}");
    }
    assert!(seal::unseal_bytes(&sk, b"ns/n", &sealed[..sealed.len() - 1]).is_err());
}
