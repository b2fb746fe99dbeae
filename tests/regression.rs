//! Regression tests, one per bug found (most by fuzzing: fuzz/run.sh). Each names its input in
//! tests/data/fuzz-regressions/.

use sealstrap::yaml::{self, Format};

fn input(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz-regressions")
            .join(name),
    )
    .unwrap()
}

/// fuzz target `manifests`: a huge integer read as a float rendered to a different float, so a
/// re-rendered manifest (e.g. after --merge-into) changed a number nobody touched. Fixed with
/// serde_json's exact float parsing (`float_roundtrip`).
#[test]
fn fuzz_manifests_float_roundtrip() {
    let text = input("manifests-float-roundtrip.json");
    let docs = yaml::parse_documents(&text).unwrap();
    for f in [Format::Json, Format::Yaml] {
        let back = yaml::parse_documents(&f.render(&docs)).unwrap();
        assert_eq!(back, docs, "{f:?}");
    }
}

/// Issue 12: 16- and 24-byte session keys were refused, but the controller opens the body with
/// Go's `aes.NewCipher`, which takes AES-128 and AES-192 keys too; a value another sealer made
/// that way must unseal (and a 20-byte key, which Go refuses, must not).
#[test]
fn short_aes_session_keys_unseal_like_the_controller() {
    use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors/keys");
    let cert = sealstrap::cert::parse(&std::fs::read(dir.join("controller-2048.crt.pem")).unwrap())
        .unwrap();
    let keys = sealstrap::keys::parse_private_keys(
        &std::fs::read(dir.join("controller-2048.key.pem")).unwrap(),
    )
    .unwrap();
    let label = b"secret-source/example";
    for (len, algorithm) in [
        (16, Some(&AES_128_GCM)),
        (24, Some(&AES_192_GCM)),
        (20, None),
    ] {
        let session: Vec<u8> = (0..len as u8).collect();
        let wrapped = cert.public_key.encrypt(label, &session).unwrap();
        let mut body = b"short-key plaintext".to_vec();
        if let Some(algorithm) = algorithm {
            LessSafeKey::new(UnboundKey::new(algorithm, &session).unwrap())
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key([0; 12]),
                    Aad::empty(),
                    &mut body,
                )
                .unwrap();
        } else {
            body.extend_from_slice(&[0u8; 16]);
        }
        let mut raw = (wrapped.len() as u16).to_be_bytes().to_vec();
        raw.extend_from_slice(&wrapped);
        raw.extend_from_slice(&body);
        let got = sealstrap::seal::unseal_bytes(&keys, label, &raw);
        match algorithm {
            Some(_) => assert_eq!(
                got.unwrap().as_slice(),
                b"short-key plaintext",
                "{len}-byte key"
            ),
            None => assert!(got.is_err(), "a {len}-byte session key must be refused"),
        }
    }
}
