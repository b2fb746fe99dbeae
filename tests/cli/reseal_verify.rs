//! `sealstrap reseal`, `sealstrap verify` and `seal --private-key`, run as a real binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::cert;
use sealstrap::manifests::{self, Origin, Wiring};
use zeroize::Zeroizing;

const OLD_CERT: &str = "vectors/keys/controller-4096.crt.pem";
const OLD_KEY: &str = "vectors/keys/controller-4096.key.pem";
const NEW_CERT: &str = "vectors/keys/other-4096.crt.pem";
const NEW_KEY: &str = "vectors/keys/other-4096.key.pem";

fn repo_with_seal() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let c = data(OLD_CERT);
    let o = run_in(dir.path(), &["seal", "--cert", p(&c)], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn key(rel: &str) -> Vec<reference::Key> {
    reference::keys_from_file(&data(rel))
}

/// Unseals every SealedSecret in `file` with `keys`: `name/key -> plaintext`, or None.
fn unseal_file(file: &Path, keys: &[reference::Key]) -> Option<BTreeMap<String, Vec<u8>>> {
    reference::open_file(file, keys)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn reseal_moves_a_bootstrap_folder_to_the_new_key() {
    let dir = repo_with_seal();
    let sealed = dir.path().join("secret-source/sealed");
    let (old, new) = (key(OLD_KEY), key(NEW_KEY));
    let before: Vec<_> = yaml_files(&sealed)
        .iter()
        .map(|f| unseal_file(f, &old).unwrap())
        .collect();
    let kust_before = std::fs::read(dir.path().join("secret-source/kustomization.yaml")).unwrap();

    let (k, c) = (data(OLD_KEY), data(NEW_CERT));
    let o = run_in(
        dir.path(),
        &["reseal", "--private-key", p(&k), "--cert", p(&c)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let new_fp = cert::parse(&std::fs::read(&c).unwrap())
        .unwrap()
        .fingerprint;
    for (f, want) in yaml_files(&sealed).iter().zip(&before) {
        assert_eq!(
            &unseal_file(f, &new).expect("decrypts with the new key"),
            want,
            "{}",
            f.display()
        );
        assert!(
            unseal_file(f, &old).is_none(),
            "{} still opens with the old key",
            f.display()
        );
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.contains(&format!("sealstrap.dev/cert-fingerprint: {new_fp}")));
    }
    // Everything that is not a SealedSecret is untouched.
    assert_eq!(
        std::fs::read(dir.path().join("secret-source/kustomization.yaml")).unwrap(),
        kust_before
    );
    // A seal run with the new certificate now finds nothing to do and reports no drift.
    let o = run_in(dir.path(), &["seal", "--cert", p(&c)], b"", &[]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("nothing to write"), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("is sealed for certificate"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn kubeseal_made_files_reseal_keeping_their_layout_and_undecryptable_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("vectors/sealedsecrets");
    for f in yaml_files(&src) {
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let (k, c) = (data(OLD_KEY), data(NEW_CERT));
    let o = run_in(
        dir.path(),
        &["reseal", "--private-key", p(&k), "--cert", p(&c), "."],
        b"",
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the renamed file cannot be decrypted"
    );
    assert!(
        stderr(&o).contains("fail-renamed-strict.yaml: cannot decrypt app-1/renamed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(dir.path().join("fail-renamed-strict.yaml")).unwrap(),
        std::fs::read(src.join("fail-renamed-strict.yaml")).unwrap(),
        "an undecryptable file is left byte-identical"
    );
    let new = key(NEW_KEY);
    for name in [
        "strict-opaque",
        "namespace-wide",
        "cluster-wide",
        "tls-type",
    ] {
        let f = dir.path().join(format!("{name}.yaml"));
        let o = run(
            &[
                "unseal",
                "--private-key",
                p(&data(NEW_KEY)),
                "-o",
                "json",
                p(&f),
            ],
            b"",
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let got = &sealstrap::yaml::parse_documents(&stdout(&o)).unwrap()[0];
        let want: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(src.join(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            sealstrap::yaml::sorted(got),
            sealstrap::yaml::sorted(&want),
            "{name}"
        );
        assert!(unseal_file(&f, &key(OLD_KEY)).is_none());
        assert!(unseal_file(&f, &new).is_some());
        // Only the ciphertext lines changed.
        let before = std::fs::read_to_string(src.join(format!("{name}.yaml"))).unwrap();
        let after = std::fs::read_to_string(&f).unwrap();
        assert_eq!(before.lines().count(), after.lines().count());
        for (a, b) in before.lines().zip(after.lines()) {
            if a != b {
                let (ka, _) = a.split_once(": ").unwrap();
                let (kb, vb) = b.split_once(": ").unwrap();
                assert_eq!(ka, kb);
                assert!(
                    vb.starts_with("Ag"),
                    "{name}: unexpected change {a:?} -> {b:?}"
                );
            }
        }
    }
}

/// Replaces one sealed entry of `dir` with `value`, sealed for the vector certificate.
fn put(dir: &Path, key: &str, value: &str) {
    let c = cert::parse(&std::fs::read(data(OLD_CERT)).unwrap()).unwrap();
    let text = manifests::sealed_entry(
        &mut UnwrapErr(SysRng),
        &c.public_key,
        &c.fingerprint,
        &Wiring::default(),
        key,
        &Zeroizing::new(value.to_string()),
        Origin::Provided,
    )
    .unwrap();
    std::fs::write(dir.join(format!("secret-source/sealed/{key}.yaml")), text).unwrap();
}

fn verify(dir: &Path, extra: &[&str]) -> std::process::Output {
    let k = data(OLD_KEY);
    let mut args = vec!["verify", "--private-key", p(&k)];
    args.extend(extra);
    run_in(dir, &args, b"", &[])
}

#[test]
fn verify_passes_a_fresh_folder() {
    let dir = repo_with_seal();
    let o = verify(dir.path(), &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o).lines().filter(|l| l.ends_with(" OK")).count(),
        15
    );
}

#[test]
fn verify_catches_each_broken_rule_and_prints_no_value() {
    let weak_hash = bcrypt::hash_with_salt(b"x", 4, [3u8; 16])
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    let other_hash = bcrypt::hash_with_salt(b"not-the-password", 10, [3u8; 16])
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    type Breaker = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Breaker, &str)> = vec![
        (
            "dex-admin-hash",
            Box::new(move |d: &Path| put(d, "dex-admin-hash", &other_hash)),
            "does not verify dex-admin-password",
        ),
        (
            "dex-admin-hash",
            Box::new(move |d: &Path| put(d, "dex-admin-hash", &weak_hash)),
            "bcrypt cost 4 is outside 10..16",
        ),
        (
            "oauth2-proxy-cookie-secret",
            Box::new(|d: &Path| put(d, "oauth2-proxy-cookie-secret", "tooshortsecret")),
            "oauth2-proxy cannot use it",
        ),
        (
            "litellm-master-key",
            Box::new(|d: &Path| put(d, "litellm-master-key", "0123456789abcdef0123456789abcdef")),
            "does not start with sk-",
        ),
        (
            "vllm-api-key",
            Box::new(|d: &Path| put(d, "vllm-api-key", "abc\n")),
            "contains a line break",
        ),
        (
            "litellm-db-password",
            Box::new(|d: &Path| put(d, "litellm-db-password", "p@ss/w%rd")),
            "not URL-safe",
        ),
        (
            "n8n-encryption-key",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join("secret-source/sealed/n8n-encryption-key.yaml"))
                    .unwrap()
            }),
            "missing: no sealed file",
        ),
        (
            "dex-tabby-client-secret",
            Box::new(|d: &Path| {
                std::fs::copy(
                    data("vectors/sealedsecrets/strict-opaque.yaml"),
                    d.join("secret-source/sealed/dex-tabby-client-secret.yaml"),
                )
                .unwrap();
            }),
            "holds SealedSecret app-1/db-credentials",
        ),
    ];
    for (key, breaker, why) in cases {
        let dir = repo_with_seal();
        breaker(dir.path());
        let o = verify(dir.path(), &[]);
        assert_eq!(o.status.code(), Some(1), "{key}: {}", stdout(&o));
        let out = stdout(&o);
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap();
        assert!(
            line.starts_with(&format!("{key} FAIL: ")) && line.contains(why),
            "{key}: {line}"
        );
        assert_eq!(
            out.lines().filter(|l| l.contains("FAIL")).count(),
            1,
            "{out}"
        );
        // No value in the output: compare with every plaintext in the folder.
        let values = sealstrap_values(dir.path());
        for v in values.iter().filter(|v| v.len() > 8) {
            assert!(
                !out.contains(v.as_str()) && !stderr(&o).contains(v.as_str()),
                "{key}: a value was printed"
            );
        }
    }
}

fn sealstrap_values(dir: &Path) -> Vec<String> {
    let k = key(OLD_KEY);
    yaml_files(&dir.join("secret-source/sealed"))
        .iter()
        .filter_map(|f| unseal_file(f, &k))
        .flat_map(|m| m.into_values())
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect()
}

#[test]
fn verify_sealed_for_another_key_fails_to_decrypt() {
    let dir = repo_with_seal();
    let o = run_in(
        dir.path(),
        &["verify", "--private-key", p(&data(NEW_KEY))],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("vllm-api-key FAIL: cannot decrypt"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn seal_restores_a_missing_dex_copy_with_the_private_key() {
    let dir = repo_with_seal();
    let copy = dir.path().join("secrets/dex-admin-password");
    let original = std::fs::read_to_string(&copy).unwrap();
    std::fs::remove_file(&copy).unwrap();
    let c = data(OLD_CERT);
    let o = run_in(dir.path(), &["seal", "--cert", p(&c)], b"", &[]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("dex-admin-password is missing; pass --private-key KEY"),
        "{}",
        stderr(&o)
    );
    assert!(!copy.exists());
    let k = data(OLD_KEY);
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&c), "--private-key", p(&k)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("restored"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), original);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!stderr(&o).contains(&original));
    // The wrong key is a clear error and writes nothing.
    std::fs::remove_file(&copy).unwrap();
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&c), "--private-key", p(&data(NEW_KEY))],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot restore the Dex admin password"),
        "{}",
        stderr(&o)
    );
    assert!(!copy.exists());
}
