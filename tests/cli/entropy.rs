//! How AWS-LC is built: its random generator is seeded from the operating system, without the
//! CPU-jitter entropy collector whose ~30 ms on the first random number of every process was
//! most of a `sealstrap kubeseal` run (issue 28). `.cargo/config.toml` sets
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1` for every build; this fails if a build links the collector
//! anyway (the variable renamed or dropped by an aws-lc-sys upgrade, the config file lost).
//! Checked in the symbol table of the binary cargo built for these tests (never stripped in the
//! test profile), not by timing.

/// Whether `needle` occurs in `haystack`, one `memchr`-speed scan per first byte.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let (first, rest) = needle.split_first().expect("a needle");
    let mut at = 0;
    while let Some(i) = haystack[at..].iter().position(|b| b == first) {
        let start = at + i;
        if haystack[start + 1..].starts_with(rest) {
            return true;
        }
        at = start + 1;
    }
    false
}

#[test]
fn the_binary_seeds_aws_lc_from_the_os_without_the_jitter_collector() {
    let path = env!("CARGO_BIN_EXE_sealstrap");
    let bytes = std::fs::read(path).unwrap();
    // The symbol table is there to read: AWS-LC's own (prefixed) entry points are in it.
    assert!(
        contains(&bytes, b"_RAND_bytes") && contains(&bytes, b"_RSA_generate_key_ex"),
        "{path} has no AWS-LC symbols to check (stripped?)"
    );
    // The jitter collector (aws-lc's third_party/jitterentropy), which seeds AWS-LC's tree DRBG
    // when it is built in.
    for symbol in [
        b"jent_entropy_collector_alloc".as_slice(),
        b"jent_read_entropy",
    ] {
        assert!(
            !contains(&bytes, symbol),
            "{path} links {}: AWS-LC was built with CPU-jitter entropy; build with \
             AWS_LC_SYS_NO_JITTER_ENTROPY=1 (.cargo/config.toml sets it)",
            String::from_utf8_lossy(symbol)
        );
    }
}
