//! `sealstrap scan` on fixture repositories.

mod common;

use std::path::Path;

use common::*;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("git is needed for these tests")
        .success();
    assert!(ok, "git {args:?}");
}

/// A repository with a fresh `seal` output (and its gitignored Dex copy) and patched
/// ExternalSecrets: clean.
fn clean_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let c = data("vectors/keys/controller-4096.crt.pem");
    let o = run_in(dir.path(), &["seal", "--cert", p(&c)], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let es = dir.path().join("platform");
    std::fs::create_dir(&es).unwrap();
    std::fs::copy(
        data("externalsecrets/tree/misc/already-patched.yaml"),
        es.join("vllm.yaml"),
    )
    .unwrap();
    std::fs::write(es.join("README.md"), "Run sealstrap seal, then commit.\n").unwrap();
    dir
}

fn scan(dir: &Path, extra: &[&str]) -> std::process::Output {
    let c = data("vectors/keys/controller-4096.crt.pem");
    let mut args = vec!["scan", "--cert", p(&c)];
    args.extend(extra);
    run_in(dir, &args, b"", &[])
}

#[test]
fn a_clean_repository_passes() {
    let dir = clean_repo();
    // The Dex password copy exists but git ignores it.
    assert!(dir.path().join("secrets/dex-admin-password").exists());
    let o = scan(dir.path(), &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("nothing found"));
}

#[test]
fn a_plaintext_secret_is_found_and_its_value_not_printed() {
    let dir = clean_repo();
    std::fs::write(
        dir.path().join("platform/db.yaml"),
        "# database credentials\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-very-secret\n",
    )
    .unwrap();
    let o = scan(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "platform/db.yaml:3: plaintext-secret: Secret db carries data in plain text"
        ),
        "{out}"
    );
    assert!(!out.contains("hunter2") && !stderr(&o).contains("hunter2"));
}

#[test]
fn a_stale_sealed_secret_is_found() {
    let dir = clean_repo();
    let other = data("vectors/keys/other-4096.crt.pem");
    let o = run_in(
        dir.path(),
        &["scan", "--cert", p(&other), "secret-source"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 15, "{out}");
    assert!(out.contains("secret-source/sealed/vllm-api-key.yaml:3: stale-sealed-secret: SealedSecret vllm-api-key is sealed for certificate sha256:43a032dc"), "{out}");
}

#[test]
fn an_external_secret_without_property_is_found() {
    let dir = clean_repo();
    std::fs::copy(
        data("externalsecrets/tree/identity/dex.yaml"),
        dir.path().join("platform/dex.yaml"),
    )
    .unwrap();
    let o = scan(dir.path(), &["--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let f = j.as_array().unwrap();
    assert_eq!(f.len(), 4);
    assert!(
        f.iter()
            .all(|x| x["kind"] == "missing-property" && x["file"] == "platform/dex.yaml")
    );
    assert_eq!(f[0]["line"], 14);
}

#[test]
fn values_shaped_like_the_contracts_are_found_outside_sealed_files() {
    let dir = clean_repo();
    let key = format!("sk-{}", "ab12".repeat(16));
    std::fs::write(
        dir.path().join("platform/.env"),
        format!("LITELLM_MASTER_KEY={key}\n"),
    )
    .unwrap();
    let o = scan(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("platform/.env:1: secret-like-value: a LiteLLM master key"),
        "{out}"
    );
    assert!(!out.contains(&key));
    // A controller key backup.
    std::fs::copy(
        data("vectors/keys/controller-2048.key.pem"),
        dir.path().join("platform/backup.pem"),
    )
    .unwrap();
    let o = scan(dir.path(), &[]);
    assert!(
        stdout(&o).contains("platform/backup.pem:1: secret-like-value: a PEM private key"),
        "{}",
        stdout(&o)
    );
    std::fs::remove_file(dir.path().join("platform/backup.pem")).unwrap();
    // Ignored by git: not scanned.
    std::fs::write(dir.path().join(".gitignore"), "/secrets/\n/platform/.env\n").unwrap();
    assert!(scan(dir.path(), &[]).status.success());
}
