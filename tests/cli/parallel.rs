//! The commands that run on every core (`reseal`, `verify`, `key usage`; `sealstrap::par`) over
//! many files: the output is in the walk's order, each file's verdict is its own, and the
//! writes land as one. Their speed is measured in benches/, never here.

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
/// Sealed for a key the tests never pass.
const STRANGER_CERT: &str = "vectors/keys/controller-2048.crt.pem";

/// A sealed file for `key` holding `value`, sealed for the certificate `cert_file` (with
/// sealstrap's fingerprint annotation).
fn sealed_file(cert_file: &Path, key: &str, value: &str) -> String {
    let c = cert::parse(&std::fs::read(cert_file).unwrap()).unwrap();
    manifests::sealed_entry(
        &mut UnwrapErr(SysRng),
        &c.public_key,
        &c.fingerprint,
        &Wiring::default(),
        key,
        &Zeroizing::new(value.to_string()),
        Origin::Provided,
    )
    .unwrap()
}

/// The file named on each report line that starts with one of `verdicts`, in output order.
fn reported(text: &str, verdicts: &[&str]) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let verdict = verdicts.iter().find(|v| l.starts_with(*v))?;
            let file = l[verdict.len()..].split_whitespace().next()?;
            Some((verdict.to_string(), file.trim_end_matches(':').to_string()))
        })
        .collect()
}

#[test]
fn reseal_over_many_files_reports_in_walk_order_and_lands_them_as_one_write() {
    let dir = git_repo();
    let many = dir.path().join("many");
    std::fs::create_dir(&many).unwrap();
    let (old, new, stranger) = (data(OLD_CERT), data(NEW_CERT), data(STRANGER_CERT));
    // 150 files, more than one staging batch: most sealed for the old key, every 13th for a key
    // not given (it fails and stays), every 29th already for the new one (current, stays).
    let mut expected = Vec::new();
    let mut before = Vec::new();
    for i in 0..150 {
        let name = format!("s{i:03}");
        let (cert_file, verdict) = if i % 13 == 5 {
            (&stranger, "FAIL")
        } else if i % 29 == 3 {
            (&new, "CURRENT")
        } else {
            (&old, "RESEALED")
        };
        let path = many.join(format!("{name}.yaml"));
        let text = sealed_file(cert_file, &name, &format!("value-{i}"));
        std::fs::write(&path, &text).unwrap();
        // Named relative to the repository, as reseal shows paths.
        expected.push((verdict.to_string(), format!("many/{name}.yaml")));
        before.push((path, text, verdict));
    }
    let (k, c) = (data(OLD_KEY), data(NEW_CERT));
    let o = run_in(
        dir.path(),
        &["reseal", "--private-key", p(&k), "--cert", p(&c), p(&many)],
        b"",
        &[],
    );
    // The files that failed make the run fail, after the others landed.
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(
        reported(&err, &["RESEALED", "FAIL", "CURRENT"]),
        expected,
        "{err}"
    );
    let resealed = expected.iter().filter(|(v, _)| v == "RESEALED").count();
    assert!(
        err.contains(&format!("{resealed} file(s) resealed")),
        "{err}"
    );
    let new_keys = reference::keys_from_file(&data(NEW_KEY));
    for (path, text, verdict) in &before {
        let now = std::fs::read_to_string(path).unwrap();
        if *verdict == "RESEALED" {
            let opened = reference::open_file(path, &new_keys).expect("opens with the new key");
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let i: usize = name[1..].parse().unwrap();
            assert_eq!(
                opened.values().next().unwrap(),
                format!("value-{i}").as_bytes()
            );
        } else {
            assert_eq!(&now, text, "{} must be left byte for byte", path.display());
        }
    }
    // One write, finished: no journal, no temporary file left.
    assert!(!dir.path().join(".git/sealstrap-journal").exists());
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&many)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "yaml"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn key_usage_over_many_files_names_each_value_in_order_with_its_key() {
    let dir = git_repo();
    let (id, recipient) = age_identity(dir.path(), "id.txt");
    let o = run_in(dir.path(), &["key", "new", "-r", &recipient], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let escrowed_cert = dir.path().join("secret-source/controller.crt");
    let many = dir.path().join("many");
    std::fs::create_dir(&many).unwrap();
    let mut expected = Vec::new();
    for i in 0..90 {
        let name = format!("u{i:03}");
        let orphan = i % 11 == 7;
        let cert_file = if orphan {
            data(STRANGER_CERT)
        } else {
            escrowed_cert.clone()
        };
        std::fs::write(
            many.join(format!("{name}.yaml")),
            sealed_file(&cert_file, &name, "v"),
        )
        .unwrap();
        expected.push((name, orphan));
    }
    let o = run_in(
        dir.path(),
        &[
            "key",
            "usage",
            "-i",
            p(&id),
            "--path",
            p(&many),
            "--output",
            "json",
        ],
        b"",
        &[],
    );
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| {
        panic!("{e}: {}{}", stdout(&o), stderr(&o));
    });
    let env = &out["environments"][0];
    let fingerprint = env["keys"][0]["fingerprint"].as_str().unwrap();
    let got: Vec<(String, bool)> = env["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let key = &v["key"];
            assert!(key.is_null() || key == fingerprint, "{v}");
            (
                v["secret"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("secret-source/")
                    .to_string(),
                key.is_null(),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn verify_checks_the_dex_pair_only_once_the_password_opens() {
    let dir = git_repo();
    let c = data(OLD_CERT);
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&c), "--bcrypt-cost", "10"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The password sealed for a key verify is not given: it cannot open, so the hash beside it
    // cannot be checked against it (and says so, rather than passing or failing the pair).
    std::fs::write(
        dir.path()
            .join("secret-source/sealed/dex-admin-password.yaml"),
        sealed_file(&data(STRANGER_CERT), "dex-admin-password", "pw"),
    )
    .unwrap();
    let k = data(OLD_KEY);
    let o = run_in(dir.path(), &["verify", "--private-key", p(&k)], b"", &[]);
    assert!(!o.status.success());
    let out = stdout(&o);
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line: {out}"))
            .to_string()
    };
    assert!(
        line("dex-admin-password").contains("FAIL: cannot decrypt"),
        "{out}"
    );
    assert!(
        line("dex-admin-hash").contains("FAIL: cannot be checked: dex-admin-password"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.contains(" FAIL")).count(),
        2,
        "{out}"
    );
}
