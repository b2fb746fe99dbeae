//! The ExternalSecret patcher on arbitrary text: never panics; a patch only adds, and patching
//! the result again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealstrap::patch::{Options, patch_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = Options::default();
    let Ok(p) = patch_text(text, &opts) else {
        return;
    };
    if let Some(new) = p.text {
        assert!(new.len() > text.len());
        let again = patch_text(&new, &opts).expect("patched text parses");
        assert!(again.text.is_none(), "second run changed the text");
        let _ = sealstrap::patch::unified_diff("f", text, &p.edits);
    }
});
