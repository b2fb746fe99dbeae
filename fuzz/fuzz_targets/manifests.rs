//! Secret and SealedSecret YAML/JSON from outside: parsing, kubeseal's rules and rendering must
//! never panic, and what renders must parse back to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sealstrap::objects::{self, SealRequest};
use sealstrap::yaml::{self, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = yaml::parse_documents(text) else {
        return;
    };
    for (i, doc) in docs.iter().enumerate() {
        if let Ok(mut s) = objects::parse_secret(doc, i + 1) {
            let req = SealRequest {
                default_namespace: "default".into(),
                ..Default::default()
            };
            let _ = objects::resolve(&mut s, &req, i + 1);
        }
        if let Ok(s) = objects::parse_sealed_secret(doc, i + 1) {
            let _ = s.label();
            let _ = s.encrypted_data();
            let _ = objects::unseal_sealed_secret(&s, &[]);
        }
        for f in [Format::Yaml, Format::Json] {
            let out = f.render(std::slice::from_ref(doc));
            let back = yaml::parse_documents(&out).expect("rendered output parses");
            if f == Format::Json {
                assert_eq!(back.len(), 1);
                assert_eq!(&back[0], doc);
            }
        }
    }
});
