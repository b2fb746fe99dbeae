//! `sealstrap unseal` and `sealstrap cert inspect`, run as a real binary.

use crate::common::*;

#[test]
fn check_prints_ok_lines_and_never_a_value() {
    let key = data("vectors/keys/controller-4096.key.pem");
    let files: Vec<std::path::PathBuf> = [
        "strict-opaque",
        "namespace-wide",
        "cluster-wide",
        "tls-type",
    ]
    .iter()
    .map(|n| data(&format!("vectors/sealedsecrets/{n}.yaml")))
    .collect();
    let mut args = vec!["unseal", "--private-key", p(&key), "--check"];
    args.extend(files.iter().map(|f| p(f)));
    let o = run(&args, b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("app-1/db-credentials password OK\n"), "{out}");
    assert!(out.contains("app-1/tls-pair tls.key OK\n"), "{out}");
    assert_eq!(out.lines().count(), 7, "{out}");
    assert!(!out.contains("YWRtaW4") && !out.contains("admin"));
}

#[test]
fn check_fails_on_a_renamed_or_tampered_value() {
    let key = data("vectors/keys/controller-4096.key.pem");
    let renamed = data("vectors/sealedsecrets/fail-renamed-strict.yaml");
    let o = run(
        &["unseal", "--private-key", p(&key), "--check", p(&renamed)],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("app-1/renamed password FAIL: no key could decrypt secret"));
    assert!(stderr(&o).contains("3 value(s) could not be unsealed"));

    // Tamper one character in the middle of a sealed value.
    let text = std::fs::read_to_string(data("vectors/sealedsecrets/strict-opaque.yaml")).unwrap();
    let i = text.find("username: AgD").unwrap() + 40;
    let mut bytes = text.into_bytes();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let o = run(
        &["unseal", "--private-key", p(&key), "--check", "-"],
        &bytes,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("app-1/db-credentials username FAIL"));
    assert!(stdout(&o).contains("app-1/db-credentials password OK"));

    // Without --check a tampered value fails the whole object and prints nothing.
    let o = run(&["unseal", "--private-key", p(&key), "-"], &bytes);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("sealstrap: error: stdin: cannot unseal app-1/db-credentials: username: no key could decrypt secret"), "{}", stderr(&o));
}

#[test]
fn wrong_key_and_bad_key_files() {
    let other = data("vectors/keys/other-4096.key.pem");
    let f = data("vectors/sealedsecrets/strict-opaque.yaml");
    let o = run(&["unseal", "--private-key", p(&other), p(&f)], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no key could decrypt secret"));
    let ec = data("vectors/keys/ec-p256.key.pem");
    let o = run(&["unseal", "--private-key", p(&ec), p(&f)], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("an EC private key (PKCS#8); the sealed-secrets controller's keys are RSA"),
        "{}",
        stderr(&o)
    );
    let o = run(
        &[
            "unseal",
            "--private-key",
            p(&data("certs/not-pem.txt")),
            p(&f),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no private key found") || stderr(&o).contains("neither a PEM"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn cert_inspect_shows_the_facts() {
    let o = run(
        &[
            "cert",
            "inspect",
            p(&data("vectors/keys/controller-4096.crt.pem")),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // Fingerprint = sha256 of the SubjectPublicKeyInfo DER, as openssl computes it.
    assert!(
        out.contains(
            "fingerprint:  sha256:43a032dc4069778d050d28628d61d1b5cbf9c2b27cf4c6abbd1bfa5b4d108242"
        ),
        "{out}"
    );
    assert!(out.contains("key:          RSA 4096 bits"));
    assert!(out.contains("subject:      (empty"));
    assert!(out.contains("not after:    2036-11-25T23:17:59Z"));

    let o = run(
        &[
            "cert",
            "inspect",
            p(&data("vectors/keys/expired-2048.crt.pem")),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("NOT usable"));
    assert!(stderr(&o).contains("expired certificate on November 28, 2026"));

    let o = run(
        &["cert", "inspect", p(&data("certs/rsa-1024.crt.pem"))],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("1024 bits"));
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["unseal"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["kubeseal", "--no-such-flag"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["kubeseal", "--scope", "everywhere", "--cert", "x"], b"");
    assert_eq!(o.status.code(), Some(2));
}
