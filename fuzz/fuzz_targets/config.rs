//! Environment config files from outside: never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(c) = sealstrap::config::EnvConfig::parse(text)
    {
        for f in sealstrap::contract::Feature::ALL {
            let _ = c.wants(f);
        }
    }
});
