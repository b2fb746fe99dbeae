//! Issue 19: certificate expiry. seal, verify, scan and doctor warn when the sealing certificate
//! expires within 30 days and refuse an expired one unless `--allow-expired` (kubeseal refuses an
//! expired certificate with the same words).

use crate::common::*;

const EXPIRED_CERT: &str = "vectors/keys/expired-2048.crt.pem";
const EXPIRED_KEY: &str = "vectors/keys/expired-2048.key.pem";

/// Whether `text` warns that `file`'s certificate expires within ten days (nine or ten, whole
/// days left, depending on the second the key was made).
fn warns_ten_days(text: &str, file: &str) -> bool {
    ["9 day", "10 day"]
        .iter()
        .any(|d| text.contains(&format!("{file}: the certificate expires in {d}")))
}

#[test]
fn a_certificate_expiring_within_30_days_is_a_warning_everywhere() {
    let dir = git_repo();
    let root = dir.path();
    let pass = [("SEALSTRAP_PASSPHRASE", "correct horse battery staple")];
    // A key made to live ten days (the controller's --key-ttl 240h).
    let o = run_in(
        root,
        &["key", "new", "--passphrase", "--ttl", "240h"],
        b"",
        &pass,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // seal finds the certificate key new wrote, warns, and seals.
    let o = run_in(root, &["seal", "--bcrypt-cost", "10"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        warns_ten_days(&err, "secret-source/controller.crt"),
        "{err}"
    );
    // verify (with the escrow) warns and passes.
    let o = run_in(
        root,
        &[
            "verify",
            "--private-key",
            "secret-source/controller-keys.age",
        ],
        b"",
        &pass,
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("certificate OK"), "{}", stdout(&o));
    assert!(
        warns_ten_days(&stderr(&o), "secret-source/controller.crt"),
        "{}",
        stderr(&o)
    );
    // scan warns about the committed certificate and passes.
    git(root, &["add", "-A"]);
    let o = run_in(root, &["scan"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        warns_ten_days(&stderr(&o), "secret-source/controller.crt"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_expired_certificate_is_refused_unless_allowed() {
    let dir = git_repo();
    let root = dir.path();
    let cert = data(EXPIRED_CERT);
    // seal: kubeseal's words, and the way out.
    let o = run_in(
        root,
        &["seal", "--cert", p(&cert), "--bcrypt-cost", "10"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("failed to encrypt using an expired certificate on November 28, 2026"),
        "{err}"
    );
    assert!(err.contains("--allow-expired"), "{err}");
    assert!(!root.join("secret-source").exists(), "nothing written");
    let o = run_in(
        root,
        &[
            "seal",
            "--cert",
            p(&cert),
            "--bcrypt-cost",
            "10",
            "--allow-expired",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(--allow-expired: sealing anyway)"),
        "{}",
        stderr(&o)
    );

    // verify: the folder's certificate is expired: FAIL, unless allowed.
    std::fs::copy(&cert, root.join("secret-source/controller.crt")).unwrap();
    let key = data(EXPIRED_KEY);
    let o = run_in(root, &["verify", "--private-key", p(&key)], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("certificate FAIL: ") && stdout(&o).contains("expired certificate"),
        "{}",
        stdout(&o)
    );
    let o = run_in(
        root,
        &["verify", "--private-key", p(&key), "--allow-expired"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // scan: a committed expired sealing certificate is a finding; --cert expired an error.
    git(root, &["add", "-A"]);
    let o = run_in(root, &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("secret-source/controller.crt:0: expired-certificate"),
        "{}",
        stdout(&o)
    );
    let o = run_in(root, &["scan", "--allow-expired"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = run_in(root, &["scan", "--cert", p(&cert)], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expired certificate"), "{}", stderr(&o));
}

#[test]
fn doctor_judges_the_controllers_certificate_by_its_expiry() {
    use sealstrap::doctor::certificate_link;
    let c = sealstrap::cert::parse(
        &std::fs::read(data("vectors/keys/controller-2048.crt.pem")).unwrap(),
    )
    .unwrap();
    let day = 86_400;
    assert!(certificate_link(&c, c.not_before).ok);
    let soon = certificate_link(&c, c.not_after - 10 * day);
    assert!(
        soon.ok && soon.detail.starts_with("WARNING: "),
        "{}",
        soon.detail
    );
    let late = certificate_link(&c, c.not_after + day);
    assert!(!late.ok && late.fix.as_deref().unwrap().contains("sealstrap key new"));
}
