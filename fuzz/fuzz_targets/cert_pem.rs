//! Certificate PEM from outside: parse must never panic; checks must hold for any time.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = sealstrap::cert::parse(data) {
        assert!(c.bits >= sealstrap::cert::MIN_RSA_BITS);
        assert!(c.fingerprint.starts_with("sha256:"));
        for now in [i64::MIN, -1, 0, c.not_before, c.not_after, c.not_after + 1, i64::MAX] {
            let _ = c.check(now);
            let _ = c.days_left(now);
        }
    }
});
