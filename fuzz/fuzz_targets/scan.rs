//! `scan` on arbitrary bytes, as it reads a file: decoded (UTF-8, UTF-16, binary), then every
//! rule. Never panics, and no finding quotes the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealstrap::scan::{self, Decoded, Options};

fuzz_target!(|data: &[u8]| {
    let opts = Options::default();
    let findings = match scan::decode(data) {
        Decoded::Text(t) | Decoded::Utf16(t) => {
            let mut f = scan::scan_text(&t, &scan::classify("x.yaml"), &opts);
            f.extend(scan::scan_text(&t, &scan::classify("x.txt"), &opts));
            f
        }
        Decoded::Binary(t) => scan::scan_values(&t, 1, &scan::classify("x.bin")),
    };
    // The longest fixed message (a rule's what and fix, "inside base64-encoded content", the
    // allow-needs-a-reason note) is under 500 bytes; the rest would be the input leaking in.
    for f in findings {
        assert!(f.message.len() < 600, "a finding message grew with the input");
    }
});
