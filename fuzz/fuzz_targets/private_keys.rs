//! Private key files from outside (PEM, key Secret, List): parsing must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(keys) = sealstrap::keys::parse_private_keys(data) {
        assert!(!keys.is_empty());
    }
});
