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

/// Issue 12: `/dev/zero` as any input grew to the memory limit; a 200 MB provided value was
/// sealed although a Secret holds at most 1 MiB. Every input now has a limit, named in the error.
#[test]
fn endless_and_oversized_inputs_are_refused_with_the_limit() {
    let bin = &crate::common::bin();
    let dir = tempfile::tempdir().unwrap();
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors/keys/controller-4096.crt.pem");
    let cert = cert.to_str().unwrap();
    let big = dir.path().join("big-value");
    std::fs::write(&big, vec![b'a'; (1 << 20) + 1]).unwrap();
    let big_kv = format!("hf-token={}", big.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cert", "inspect", "/dev/zero"], "larger than 16 MiB"),
        (
            vec!["kubeseal", "--cert", "/dev/zero", "-f", "/dev/null"],
            "/dev/zero is a device, not a regular file",
        ),
        (
            vec!["kubeseal", "--cert", cert, "-f", "/dev/zero"],
            "larger than 16 MiB",
        ),
        (
            vec![
                "kubeseal",
                "--cert",
                cert,
                "--raw",
                "--name",
                "n",
                "-n",
                "ns",
                "--from-file",
                "/dev/zero",
            ],
            "larger than 1 MiB",
        ),
        (
            vec!["unseal", "--private-key", "/dev/zero", "/dev/null"],
            "larger than 16 MiB",
        ),
        (
            vec!["seal", "--cert", cert, "--config", "/dev/zero"],
            "/dev/zero is a device, not a regular file",
        ),
        (
            vec![
                "seal",
                "--cert",
                cert,
                "--with",
                "hf",
                "--value-file",
                &big_kv,
            ],
            "larger than 1 MiB",
        ),
    ];
    for (args, want) in cases {
        let o = std::process::Command::new(bin)
            .args(&args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(
        !dir.path().join("secret-source").exists(),
        "nothing written"
    );
}

/// Issue 12: a `.gitignore` that was not UTF-8 (or unreadable) was replaced by one line, losing
/// its rules; a symlinked `.gitignore` was followed; `--secrets-dir 'sec[prod]'` wrote a rule
/// that did not match. Issue 10: `--secrets-dir .` left the copy committable.
#[test]
fn gitignore_edits_keep_every_byte_and_match_exactly() {
    let bin = &crate::common::bin();
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors/keys/controller-4096.crt.pem");
    let git = |dir: &std::path::Path, args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let seal = |dir: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["seal", "--cert", cert.to_str().unwrap()];
        args.extend_from_slice(extra);
        std::process::Command::new(bin)
            .args(&args)
            .current_dir(dir)
            .env("HOME", dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    for (secrets_dir, copy) in [
        ("sec[prod]", "sec[prod]/dex-admin-password"),
        (".", "dex-admin-password"),
        ("secret-source", "secret-source/dex-admin-password"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        assert!(git(dir.path(), &["init", "-q"]).status.success());
        let before: &[u8] = b"# caf\xe9 (latin-1)\n.env\n*.key";
        std::fs::write(dir.path().join(".gitignore"), before).unwrap();
        let o = seal(dir.path(), &["--secrets-dir", secrets_dir]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let after = std::fs::read(dir.path().join(".gitignore")).unwrap();
        assert_eq!(&after[..before.len()], before, "existing bytes kept");
        assert!(dir.path().join(copy).is_file());
        // git ignores exactly the copy: the copy is ignored, the sealed output is not.
        let ignored = git(dir.path(), &["check-ignore", "-q", copy]);
        assert!(
            ignored.status.success(),
            "{secrets_dir}: {copy} not ignored"
        );
        let sealed = git(
            dir.path(),
            &["check-ignore", "-q", "secret-source/kustomization.yaml"],
        );
        assert!(
            !sealed.status.success(),
            "{secrets_dir}: sealed output ignored"
        );
        let status = git(
            dir.path(),
            &["status", "--porcelain", "--untracked-files=all"],
        );
        let status = String::from_utf8_lossy(&status.stdout);
        assert!(
            !status
                .lines()
                .any(|l| l == format!("?? {copy}") || l == format!("?? \"{copy}\"")),
            "{secrets_dir}: {status}"
        );
    }

    // A symlinked .gitignore is refused, and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    assert!(git(dir.path(), &["init", "-q"]).status.success());
    std::fs::write(dir.path().join("elsewhere"), ".env\n").unwrap();
    std::os::unix::fs::symlink("elsewhere", dir.path().join(".gitignore")).unwrap();
    let o = seal(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(
        err.contains("/secrets/dex-admin-password"),
        "the rule to add: {err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("elsewhere")).unwrap(),
        b".env\n"
    );
    assert!(!dir.path().join("secret-source").exists());
}

/// Issue 12: an existing world-writable `secrets/`, or a `secrets` symlink, was used as it was;
/// under umask 000 the new folders were 0777.
#[test]
fn the_secrets_folder_must_be_private_and_new_folders_ignore_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let bin = &crate::common::bin();
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors/keys/controller-2048.crt.pem");
    let seal = |dir: &std::path::Path, extra: &[&str], umask: &str| {
        let script = format!(
            "umask {umask} && exec \"$0\" seal --cert \"$1\" --bcrypt-cost 10 {}",
            extra.join(" ")
        );
        std::process::Command::new("sh")
            .args(["-c", &script, bin.to_str().unwrap(), cert.to_str().unwrap()])
            .current_dir(dir)
            .env("HOME", dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let init = |dir: &std::path::Path| {
        assert!(
            std::process::Command::new("git")
                .args(["init", "-q"])
                .current_dir(dir)
                .status()
                .unwrap()
                .success()
        );
    };

    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::set_permissions(
        dir.path().join("secrets"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let o = seal(dir.path(), &[], "022");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("has mode 0777") && err.contains("--fix-permissions"),
        "{err}"
    );
    assert!(
        !dir.path().join("secret-source").exists(),
        "nothing written"
    );
    let o = seal(dir.path(), &["--fix-permissions"], "022");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&dir.path().join("secrets")), 0o700);

    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("secrets")).unwrap();
    let o = seal(dir.path(), &["--fix-permissions"], "022");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);

    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let o = seal(dir.path(), &[], "000");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&dir.path().join("secrets")), 0o700);
    assert_eq!(mode(&dir.path().join("secrets/dex-admin-password")), 0o600);
    assert_eq!(mode(&dir.path().join("secret-source")), 0o755);
    assert_eq!(mode(&dir.path().join("secret-source/sealed")), 0o755);
}

/// Issue 12: core dumps are disabled while plaintext is in memory (RLIMIT_CORE soft and hard 0),
/// read from /proc/PID/limits of a sealstrap waiting for a Secret on stdin.
#[test]
fn core_dumps_are_disabled() {
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors/keys/controller-2048.crt.pem");
    let mut child = std::process::Command::new(crate::common::bin())
        .args(["kubeseal", "--cert", cert.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let limits = format!("/proc/{}/limits", child.id());
    let mut line = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let text = std::fs::read_to_string(&limits).unwrap_or_default();
        line = text
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or("")
            .to_string();
        if line.split_whitespace().nth(4) == Some("0") {
            break;
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{line}");
}

/// Issue 12: `name: 12345` said "missing metadata.name", and an alias bomb printed serde-saphyr's
/// Rust debug output (`Nodes { nodes: 250001 }`).
#[test]
fn messages_say_what_is_wrong_in_words() {
    let cert = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vectors/keys/controller-2048.crt.pem");
    let run = |input: &[u8]| {
        use std::io::Write;
        let mut child = std::process::Command::new(crate::common::bin())
            .args(["kubeseal", "--cert", cert.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(1));
        String::from_utf8(o.stderr).unwrap()
    };
    let err = run(b"apiVersion: v1\nkind: Secret\nmetadata: {name: 12345}\nstringData: {a: b}\n");
    crate::common::snapshot::assert_snapshot("errors/kubeseal-name-is-a-number", &err);
    let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..9 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    let err = run(bomb.as_bytes());
    crate::common::snapshot::assert_snapshot("errors/kubeseal-alias-bomb", &err);
    assert!(
        !err.contains('{') && !err.contains("Nodes"),
        "no debug output: {err}"
    );
}

/// verify's per-key problems are typed (sealstrap::verify::Problem) and the failing run ends with
/// one error whose hints say how to fix each kind of problem.
#[test]
fn verify_failures_end_with_hints_that_name_the_fix() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cert = root.join("tests/data/vectors/keys/controller-2048.crt.pem");
    let key = root.join("tests/data/vectors/keys/controller-2048.key.pem");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(crate::common::bin())
            .args(args)
            .current_dir(dir.path())
            .env_remove("SEALSTRAP_IDENTITY")
            .output()
            .unwrap()
    };
    let o = run(&[
        "seal",
        "--cert",
        cert.to_str().unwrap(),
        "--bcrypt-cost",
        "10",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_file(dir.path().join("secret-source/sealed/vllm-api-key.yaml")).unwrap();
    std::fs::write(
        dir.path()
            .join("secret-source/sealed/webui-secret-key.yaml"),
        "not: [yaml\n",
    )
    .unwrap();
    let o = run(&["verify", "--private-key", key.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let failed: Vec<&str> = out.lines().filter(|l| l.contains(" FAIL: ")).collect();
    assert_eq!(failed.len(), 2, "{out}");
    assert!(failed[0].starts_with("vllm-api-key FAIL: "), "{out}");
    assert!(failed[1].starts_with("webui-secret-key FAIL: "), "{out}");
    crate::common::snapshot::assert_snapshot(
        "errors/verify-two-failures",
        &format!("{}{err}", failed.join("\n") + "\n"),
    );
}

/// A key the fork declares in sealstrap.yaml (`extra:`) is a key of the contract for every
/// command: `rotate` once said "unknown key" for it while `set` worked (a process-wide registry
/// that only some commands filled).
#[test]
fn rotate_and_set_know_the_keys_of_sealstrap_yaml() {
    use crate::common::*;
    let dir = git_repo();
    let root = dir.path();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\n",
    )
    .unwrap();
    let cert = data("vectors/keys/controller-2048.crt.pem");
    let o = run_in(root, &["seal", "--cert", p(&cert)], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = root.join("secret-source/sealed/example-token.yaml");
    let before = std::fs::read(&file).unwrap();
    let o = run_in(
        root,
        &[
            "rotate",
            "--cert",
            p(&cert),
            "example-token",
            "--output",
            "json",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let entry = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "example-token")
        .unwrap();
    assert_eq!(entry["status"], "ROTATED");
    assert_ne!(std::fs::read(&file).unwrap(), before);
    let o = run_in(
        root,
        &["set", "--cert", p(&cert), "example-token"],
        b"",
        &[("SEALSTRAP_VALUE", "an-example-value")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // An undeclared key is still a usage error.
    let o = run_in(root, &["rotate", "--cert", p(&cert), "nope"], b"", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `key new --env ENV` on a repository with the README's fleet file: it once failed reading
/// `values:` (a key of `extra:` was unknown to it).
#[test]
fn key_new_for_an_environment_reads_the_readme_fleet_file() {
    use crate::common::*;
    let dir = platform_checkout();
    let root = dir.path();
    std::fs::write(root.join("sealstrap.yaml"), README_FLEET_FILE).unwrap();
    let ids = tempfile::tempdir().unwrap();
    let (_, recipient) = age_identity(ids.path(), "key.txt");
    let o = run_in(
        root,
        &["key", "new", "--env", "ai-dev", "-r", &recipient],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The fleet file names the certificate's place: key new writes it there.
    assert!(root.join("clusters/ai-dev/controller.crt").is_file());
    assert!(
        root.join("clusters/ai-dev/secret-source/controller-keys.age")
            .is_file()
    );
}

/// `patch-externalsecrets --exclude GLOB` matches paths from the repository root, from any
/// folder, as scan's and sealstrap.yaml's exclusions do (run from the root it once matched
/// nothing); hidden folders are never walked, as the README says.
#[test]
fn patch_excludes_from_the_repository_root_and_skips_hidden_folders() {
    use crate::common::*;
    let dir = git_repo();
    let root = dir.path();
    let es = |name: &str| {
        format!(
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: {name}, namespace: ai}}\nspec:\n  secretStoreRef: {{kind: ClusterSecretStore, name: secret-store}}\n  target: {{name: {name}}}\n  data:\n    - secretKey: k\n      remoteRef: {{key: vllm-api-key}}\n"
        )
    };
    for (folder, name) in [("vendor/charts", "v"), ("platform", "a"), (".hidden", "h")] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
        std::fs::write(root.join(folder).join(format!("{name}.yaml")), es(name)).unwrap();
    }
    let patched = |rel: &str| {
        std::fs::read_to_string(root.join(rel))
            .unwrap()
            .contains("property: value")
    };
    for cwd in [root.to_path_buf(), root.join("platform")] {
        let o = run_in(
            &cwd,
            &["patch-externalsecrets", "--check", "--exclude", "vendor/**"],
            b"",
            &[],
        );
        let out = stdout(&o) + &stderr(&o);
        assert!(
            out.contains("a.yaml") && !out.contains("v.yaml: remoteRef"),
            "from {}: {out}",
            cwd.display()
        );
    }
    let o = run_in(
        root,
        &["patch-externalsecrets", "--exclude", "vendor/**"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(patched("platform/a.yaml"));
    assert!(!patched("vendor/charts/v.yaml"), "excluded");
    assert!(!patched(".hidden/h.yaml"), "hidden folders are not walked");
}

/// A duration too large for the arithmetic is out of range, not wrapped: `--ttl
/// 32376562800603237y` once made a certificate valid for one day in the release build, and a
/// huge `--request-timeout` overflowed.
#[test]
fn durations_too_large_are_usage_errors() {
    use crate::common::*;
    let dir = git_repo();
    let mut messages = String::new();
    for args in [
        vec![
            "key",
            "new",
            "--ttl",
            "32376562800603237y",
            "-r",
            "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        ],
        vec!["cert", "fetch", "--request-timeout", "9999999999999999999h"],
        vec!["doctor", "--request-timeout", "25h"],
    ] {
        let o = run_in(dir.path(), &args, b"", &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!dir.path().join("secret-source").exists());
        messages.push_str(&stderr(&o));
    }
    crate::common::snapshot::assert_snapshot("errors/durations-out-of-range", &messages);
}

/// A reader that closes stdout at once (`sealstrap key list | (exec 0<&-)`) is not an error:
/// `key list` once panicked (exit 101).
#[test]
fn a_closed_stdout_ends_key_list_quietly() {
    use crate::common::*;
    let dir = git_repo();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = std::process::Command::new(bin())
        .args([
            "key",
            "list",
            "--cert-file",
            p(&data("vectors/keys/controller-4096.crt.pem")),
            "nonexistent.age",
        ])
        .current_dir(dir.path())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}
