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
