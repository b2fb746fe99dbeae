//! Sealed values from outside: unseal must never panic and never accept a forgery.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealstrap::rsa::PrivateKey;

fn key() -> &'static [PrivateKey] {
    static KEY: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        sealstrap::keys::parse_private_keys(include_bytes!(
            "../../tests/data/vectors/keys/controller-2048.key.pem"
        ))
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let (label, rest) = data.split_at(data.len().min(data.first().copied().unwrap_or(0) as usize % 16));
    // Raw bytes: random input essentially never forms a valid OAEP block and GCM tag.
    assert!(sealstrap::seal::unseal_bytes(key(), label, rest).is_err());
    if let Ok(s) = std::str::from_utf8(rest) {
        let _ = sealstrap::seal::unseal(key(), label, s);
    }
});
