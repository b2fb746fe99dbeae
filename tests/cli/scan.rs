//! `sealstrap scan` on fixture repositories.

use std::path::Path;

use crate::common::*;

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

/// Issue 12: lines with multi-byte characters before a match crashed scan (exit 101, with the
/// line in the panic message); files with NUL bytes, UTF-16 files and files over 4 MiB were
/// skipped and reported as clean; a file git lists but scan cannot read vanished silently.
#[test]
fn scan_reads_every_file_and_never_crashes() {
    let hex = "0123456789abcdef".repeat(4);
    let key = std::fs::read(vector_key("controller-2048.key.pem")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "notes.md",
            format!("Café ✓ — mot de passe : {hex}\n").into_bytes(),
        ),
        ("backup.pem.bin", [key.clone(), vec![0u8]].concat()),
        ("utf16.yaml", {
            let mut b = vec![0xff, 0xfe];
            let text = format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: a}}\nstringData: {{pw: {hex}}}\n"
            );
            for u in text.encode_utf16() {
                b.extend_from_slice(&u.to_le_bytes());
            }
            b
        }),
        ("big.log", {
            let mut b = "x".repeat(80).into_bytes();
            b.push(b'\n');
            let mut all = b.repeat(60_000);
            all.extend_from_slice(&key);
            all
        }),
    ];
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let o = run_in(dir.path(), &["scan"], b"", &[]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stdout(&o).contains(name), "{name}: {}", stdout(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            !all.contains(&hex) && !all.contains("MII"),
            "{name}: content printed"
        );
        assert!(!all.contains("panicked"), "{name}: {all}");
    }
    let big = {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        let mut b = "y".repeat(100).into_bytes();
        b.push(b'\n');
        let mut all = b.repeat(50_000);
        all.extend_from_slice(format!("token: sk-{hex}\n").as_bytes());
        std::fs::write(dir.path().join("big.txt"), &all).unwrap();
        let o = run_in(dir.path(), &["scan"], b"", &[]);
        stdout(&o)
    };
    assert!(big.contains("big.txt:50001: secret-like-value"), "{big}");

    // A tracked file that is no longer a regular file is reported, not dropped.
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("pipe.yaml"), "a: b\n").unwrap();
    git(dir.path(), &["add", "pipe.yaml"]);
    std::fs::remove_file(dir.path().join("pipe.yaml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.yaml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("pipe.yaml:0: skipped: not scanned: not a regular file"),
        "{}",
        stdout(&o)
    );
    let o = run_in(dir.path(), &["scan", "--allow-skipped"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("1 unreadable file(s) skipped"),
        "{}",
        stderr(&o)
    );
}

/// Issue 20: false positives on the shapes large public GitOps repositories hold (tests/data/
/// scan-shapes: Terraform, Go, npm, Cargo and Helm lock files, rendered charts with checksum
/// annotations, images and Flux sources by digest, a SOPS-encrypted Secret, public
/// certificates, known hosts, Actions pinned by commit): zero. The same shapes with a real
/// secret planted in each are all found, and no finding quotes a value.
#[test]
fn no_false_positive_on_public_gitops_shapes_and_every_planted_secret_found() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("scan-shapes"), dir.path());
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("15 file(s) scanned, nothing found"),
        "{}",
        stderr(&o)
    );

    let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let token = format!("sk-ant-api03-{}", "x".repeat(40));
    let identity = format!("AGE-SECRET-KEY-1{}", "Q".repeat(58));
    let plant = |rel: &str, from: &str, to: &str| {
        let f = dir.path().join(rel);
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(t.contains(from), "{rel}");
        std::fs::write(&f, t.replacen(from, to, 1)).unwrap();
    };
    plant(
        "rendered/deployment.yaml",
        "            - name: BUILD_COMMIT\n",
        &format!(
            "            - name: DB_PASSWORD\n              value: {hex}\n            - name: BUILD_COMMIT\n"
        ),
    );
    plant(
        "docs-site/package-lock.json",
        "\"requires\": true,",
        &format!("\"requires\": true,\n  \"x-token\": \"{token}\","),
    );
    plant(
        "clusters/prod/secrets/db.sops.yaml",
        "stringData:\n",
        "stringData:\n    user: admin\n",
    );
    plant(
        "infra/terraform/.terraform.lock.hcl",
        "# Manual edits may be lost in future updates.\n",
        &format!("# Manual edits may be lost in future updates.\n# {identity}\n"),
    );
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for want in [
        "rendered/deployment.yaml:17: secret-like-value: a 64-hex value",
        "docs-site/package-lock.json:5: secret-like-value: an Anthropic API key",
        "clusters/prod/secrets/db.sops.yaml:2: plaintext-secret",
        "infra/terraform/.terraform.lock.hcl:3: secret-like-value: an age identity",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert_eq!(out.lines().count(), 4, "{out}");
    for v in [hex, token.as_str(), identity.as_str()] {
        assert!(!out.contains(v) && !stderr(&o).contains(v));
    }
    // An exclusion allows the 64-hex value (said, with its reason) but never the identity.
    std::fs::write(
        dir.path().join("sealstrap.yaml"),
        "exclude:\n  - path: rendered/\n    reason: rendered by CI from charts\n  - path: infra/**\n    reason: Terraform\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(!out.contains("rendered/deployment.yaml"), "{out}");
    assert!(out.contains("an age identity"), "{out}");
    assert!(
        stderr(&o).contains(
            "allowed   rendered/deployment.yaml:17: secret-like-value: rendered by CI from charts"
        ),
        "{}",
        stderr(&o)
    );
}
