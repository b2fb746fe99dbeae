//! `sealstrap key new|install|backup|list` and the escrow wherever a private key is taken: the
//! certificate against the controller's template (the vector certificates), the escrow's
//! content, install and backup against the stand-in API server, and bad input. After every
//! command no file under the test's folder holds a plaintext private key.

use std::path::{Path, PathBuf};

use crate::common::fake_api::{FakeApi, Route};
use crate::common::*;
use age::secrecy::ExposeSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use x509_parser::prelude::*;

/// An age identity written to `dir/name`, and its recipient.
fn identity(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("# test identity\n{}\n", id.to_string().expose_secret()),
    )
    .unwrap();
    (path, id.to_public().to_string())
}

/// Every file under `dir` (recursively), with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e);
            } else {
                out.push((e.clone(), std::fs::read(&e).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The rule every command keeps: no plaintext private key in any file.
fn assert_no_plaintext_keys(dir: &Path) {
    for (f, bytes) in snapshot(dir) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a plaintext private key",
            f.display()
        );
    }
}

fn decrypt(escrow: &Path, id: &Path) -> String {
    let ids = sealstrap::escrow::parse_identities(&std::fs::read(id).unwrap(), &mut || {
        panic!("no passphrase")
    })
    .unwrap();
    let plain =
        sealstrap::escrow::decrypt_with_identities(&std::fs::read(escrow).unwrap(), &ids).unwrap();
    String::from_utf8(plain.to_vec()).unwrap()
}

fn key_new(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["key", "new"];
    all.extend_from_slice(args);
    let o = run_in(dir, &all, b"", &[]);
    assert_no_plaintext_keys(dir);
    o
}

/// (oid, critical, value) of each extension, in order.
fn extensions(c: &X509Certificate<'_>) -> Vec<(String, bool, Vec<u8>)> {
    c.extensions()
        .iter()
        .map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec()))
        .collect()
}

#[test]
fn the_certificate_follows_the_controllers_template_and_its_values_unseal_from_the_escrow() {
    let dir = tempfile::tempdir().unwrap();
    let (id, recipient) = identity(dir.path(), "id.txt");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let o = key_new(dir.path(), &["-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = before + 60;
    let out = dir.path().join("secret-source");
    for f in [
        "controller.crt",
        "controller-keys.age",
        "controller-keys.recipients",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        3,
        "nothing else is written"
    );
    assert!(
        stderr(&o).contains("keyrenewperiod: \"0\""),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("fullnameOverride: sealed-secrets-controller"));

    let ours_pem = std::fs::read(out.join("controller.crt")).unwrap();
    let theirs_pem = std::fs::read(vector_key("controller-4096.crt.pem")).unwrap();
    let (_, ours_pem) = parse_x509_pem(&ours_pem).unwrap();
    let (_, theirs_pem) = parse_x509_pem(&theirs_pem).unwrap();
    let ours = ours_pem.parse_x509().unwrap();
    let theirs = theirs_pem.parse_x509().unwrap();

    assert_eq!(ours.version(), theirs.version());
    assert_eq!(ours.signature_algorithm, theirs.signature_algorithm);
    assert_eq!(
        ours.tbs_certificate.signature,
        theirs.tbs_certificate.signature
    );
    assert_eq!(
        ours.subject().as_raw(),
        theirs.subject().as_raw(),
        "empty subject"
    );
    assert_eq!(
        ours.issuer().as_raw(),
        theirs.issuer().as_raw(),
        "empty issuer"
    );
    assert_eq!(ours.subject().as_raw(), &[0x30, 0x00]);
    assert_eq!(
        ours.public_key().algorithm,
        theirs.public_key().algorithm,
        "rsaEncryption"
    );
    let bits = |c: &X509Certificate<'_>| match c.public_key().parsed().unwrap() {
        x509_parser::public_key::PublicKey::RSA(r) => (r.key_size(), r.exponent.to_vec()),
        _ => panic!("not RSA"),
    };
    assert_eq!(bits(&ours), bits(&theirs), "RSA-4096, same exponent");
    // Validity: NotBefore now, exactly 87600h long, as the controller's template.
    let v = ours.validity();
    let nb = v.not_before.timestamp();
    assert!((before - 1..=after).contains(&nb), "NotBefore {nb} not now");
    let theirs_v = theirs.validity();
    assert_eq!(
        v.not_after.timestamp() - nb,
        theirs_v.not_after.timestamp() - theirs_v.not_before.timestamp()
    );
    assert_eq!(v.not_after.timestamp() - nb, 87600 * 3600);
    // Serial: a random number below 2^128.
    assert!(ours.raw_serial().len() <= 17 && ours.raw_serial().len() >= 8);
    assert_ne!(ours.raw_serial(), theirs.raw_serial());
    // Extensions, in Go's order: KeyUsage (critical, EncipherOnly), BasicConstraints (critical,
    // CA:TRUE), SubjectKeyId (SHA-1 of the public key bits).
    let (oe, te) = (extensions(&ours), extensions(&theirs));
    assert_eq!(oe.len(), 3);
    assert_eq!(oe.len(), te.len());
    for i in 0..2 {
        assert_eq!(oe[i], te[i], "extension {i}");
    }
    assert_eq!((oe[2].0.as_str(), oe[2].1), (te[2].0.as_str(), te[2].1));
    for (c, e) in [(&ours, &oe[2]), (&theirs, &te[2])] {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &c.public_key().subject_public_key.data,
        );
        let mut want = vec![0x04, 20];
        want.extend_from_slice(digest.as_ref());
        assert_eq!(e.2, want, "SubjectKeyId is SHA-1 of the key");
    }
    // The self-signature verifies.
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &ours.public_key().subject_public_key.data,
    );
    key.verify(ours.tbs_certificate.as_ref(), &ours.signature_value.data)
        .expect("self-signed with SHA256WithRSA");

    // Values sealed for it decrypt with the escrowed key through `unseal`.
    let secret = b"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: s3cr3t-value}\n";
    let cert = out.join("controller.crt");
    let sealed = run_in(
        dir.path(),
        &["kubeseal", "--cert", p(&cert), "-o", "yaml"],
        secret,
        &[],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let escrow = out.join("controller-keys.age");
    let un = run_in(
        dir.path(),
        &["unseal", "--private-key", p(&escrow), "-i", p(&id)],
        &sealed.stdout,
        &[],
    );
    assert!(un.status.success(), "{}", stderr(&un));
    let doc = &sealstrap::yaml::parse_documents(&stdout(&un)).unwrap()[0];
    assert_eq!(doc["data"]["password"], STANDARD.encode("s3cr3t-value"));
    // kubeseal's recovery path takes the escrow too (identity from SEALSTRAP_IDENTITY).
    let rec = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--recovery-unseal",
            "--recovery-private-key",
            p(&escrow),
        ],
        &sealed.stdout,
        &[("SEALSTRAP_IDENTITY", p(&id))],
    );
    assert!(rec.status.success(), "{}", stderr(&rec));
    assert!(stdout(&rec).contains(&STANDARD.encode("s3cr3t-value")));
    // ... or from its own flag.
    let rec = run_in(
        dir.path(),
        &[
            "kubeseal",
            "--recovery-unseal",
            "--recovery-private-key",
            p(&escrow),
            "--recovery-identity",
            p(&id),
        ],
        &sealed.stdout,
        &[],
    );
    assert!(rec.status.success(), "{}", stderr(&rec));
    assert!(stdout(&rec).contains(&STANDARD.encode("s3cr3t-value")));
    assert_no_plaintext_keys(dir.path());
}

#[test]
fn the_escrow_holds_a_controller_key_list_and_grows_for_the_committed_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let (a, ra) = identity(dir.path(), "a.txt");
    let (b, rb) = identity(dir.path(), "b.txt");
    let team = dir.path().join("team.txt");
    std::fs::write(&team, format!("# team\n{ra}\n\n{rb}\n")).unwrap();
    let o = key_new(
        dir.path(),
        &[
            "-R",
            p(&team),
            "--controller-namespace",
            "sealed-secrets",
            "--armor",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("secret-source");
    let escrow = out.join("controller-keys.age");
    assert!(
        std::fs::read_to_string(&escrow)
            .unwrap()
            .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    );
    let list = decrypt(&escrow, &a);
    assert_eq!(list, decrypt(&escrow, &b), "each recipient opens it");
    let docs = sealstrap::yaml::parse_documents(&list).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["apiVersion"], "v1");
    assert_eq!(docs[0]["kind"], "List");
    let items = docs[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let s = &items[0];
    assert_eq!(s["kind"], "Secret");
    assert_eq!(s["type"], "kubernetes.io/tls");
    assert_eq!(s["metadata"]["namespace"], "sealed-secrets");
    assert_eq!(
        s["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"],
        "active"
    );
    assert!(
        s["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("sealed-secrets-key")
    );
    let key_pem = String::from_utf8(
        STANDARD
            .decode(s["data"]["tls.key"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "PKCS#1 as the controller"
    );
    let crt = STANDARD
        .decode(s["data"]["tls.crt"].as_str().unwrap())
        .unwrap();
    assert_eq!(crt, std::fs::read(out.join("controller.crt")).unwrap());
    // The List is what the controller's own keys look like to every reader.
    let (c, k) = (
        sealstrap::cert::parse(&crt).unwrap(),
        sealstrap::keys::parse_private_keys(key_pem.as_bytes()).unwrap(),
    );
    assert_eq!(c.public_key.spki_der(), k[0].public_key().spki_der());
    let (ok, report) = validate(&[write(dir.path(), "list.yaml", &list).as_path()]);
    assert!(ok, "{report}");
    std::fs::remove_file(dir.path().join("list.yaml")).unwrap();

    // A second key: re-encrypted to the committed recipients, nobody retypes them.
    let o = key_new(
        dir.path(),
        &["-i", p(&b), "--controller-namespace", "sealed-secrets"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 key(s)"), "{}", stderr(&o));
    let list = decrypt(&escrow, &a);
    assert_eq!(decrypt(&escrow, &b), list);
    assert_eq!(
        sealstrap::yaml::parse_documents(&list).unwrap()[0]["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        std::fs::read_to_string(&escrow)
            .unwrap()
            .starts_with("-----BEGIN AGE"),
        "stays armored"
    );
    let bundle = std::fs::read_to_string(out.join("controller.crt")).unwrap();
    assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 2);
    // `key list` with and without an identity agree, and mark the newest as the sealing key.
    let l1 = run_in(dir.path(), &["key", "list"], b"", &[]);
    let l2 = run_in(dir.path(), &["key", "list", "-i", p(&a)], b"", &[]);
    assert!(
        l1.status.success() && l2.status.success(),
        "{}{}",
        stderr(&l1),
        stderr(&l2)
    );
    let rows = |o: &std::process::Output| -> Vec<String> {
        stdout(o)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(&l1), rows(&l2));
    assert_eq!(rows(&l1).len(), 2);
    assert!(rows(&l1)[1].ends_with("<- seals"), "{:?}", rows(&l1));
    let newest = sealstrap::cert::parse(bundle.as_bytes()).unwrap();
    assert!(
        rows(&l1)[1].starts_with(&newest.fingerprint),
        "the bundle's first cert seals"
    );
    assert_no_plaintext_keys(dir.path());
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_passphrase_escrow_opens_with_its_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("SEALSTRAP_PASSPHRASE", "correct horse battery staple")];
    let o = run_in(dir.path(), &["key", "new", "--passphrase"], b"", &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("secret-source");
    assert!(!out.join("controller-keys.recipients").exists());
    let escrow = out.join("controller-keys.age");
    let o = run_in(
        dir.path(),
        &["unseal", "--check", "--private-key", p(&escrow)],
        b"",
        &env,
    );
    assert!(
        stderr(&o).is_empty() || !stderr(&o).contains("passphrase"),
        "{}",
        stderr(&o)
    );
    let before = snapshot(dir.path());
    let o = run_in(
        dir.path(),
        &["key", "new"],
        b"",
        &[("SEALSTRAP_PASSPHRASE", "wrong")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the passphrase does not open the escrow"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(dir.path()), before, "nothing written");
    let o = run_in(dir.path(), &["key", "new"], b"", &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 key(s)"), "{}", stderr(&o));
    assert_no_plaintext_keys(dir.path());
}

#[test]
fn ssh_keys_lock_the_escrow_and_open_it_wherever_a_private_key_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let ssh = data("ssh");
    let o = key_new(
        dir.path(),
        &[
            "-R",
            p(&ssh.join("id_ed25519.pub")),
            "-R",
            p(&ssh.join("id_rsa.pub")),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("secret-source");
    let recipients = std::fs::read_to_string(out.join("controller-keys.recipients")).unwrap();
    assert_eq!(
        recipients.lines().filter(|l| l.starts_with("ssh-")).count(),
        2,
        "{recipients}"
    );
    let escrow = out.join("controller-keys.age");
    let sealed = run_in(
        dir.path(),
        &["kubeseal", "--cert", "secret-source/controller.crt", "-o", "yaml"],
        b"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: ssh-value}\n",
        &[],
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    std::fs::write(dir.path().join("sealed.yaml"), &sealed.stdout).unwrap();
    for key in ["id_ed25519", "id_rsa", "id_rsa_pem"] {
        let o = run_in(
            dir.path(),
            &[
                "unseal",
                "--check",
                "--private-key",
                p(&escrow),
                "-i",
                p(&ssh.join(key)),
                "sealed.yaml",
            ],
            b"",
            &[],
        );
        assert!(o.status.success(), "{key}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("app/db password OK"));
    }
    // Adding a key re-encrypts to the same SSH recipients, read back from the committed file.
    let o = key_new(dir.path(), &["-i", p(&ssh.join("id_ed25519"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        decrypt(&escrow, &ssh.join("id_rsa"))
            .matches("kind: Secret")
            .count()
            == 2
    );
    // An SSH key that is not a recipient is refused, and nothing is written.
    let before = snapshot(dir.path());
    let o = run_in(
        dir.path(),
        &[
            "key",
            "list",
            "-i",
            p(&ssh.join("id_ed25519_pass")),
            p(&escrow),
        ],
        b"",
        &[("SEALSTRAP_SSH_PASSPHRASE", "sealstrap-test")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("none of the given identities"),
        "{}",
        stderr(&o)
    );
    let o = key_new(dir.path(), &["-r", "ecdsa-sha2-nistp256 AAAAE2VjZHNh x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not supported"), "{}", stderr(&o));
    assert_eq!(snapshot(dir.path()), before, "nothing written");
}

#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (id, recipient) = identity(dir.path(), "id.txt");
    let (other, _) = identity(dir.path(), "other.txt");

    // Recipients that do not parse, and SSH keys: nothing created.
    for (r, want, hint) in [
        (
            "age1notarecipient",
            "neither an age recipient (age1...) nor an SSH public key",
            "age-keygen",
        ),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey user@host",
            "the SSH key is malformed",
            "id_ed25519.pub",
        ),
    ] {
        let o = key_new(dir.path(), &["-r", r]);
        assert_eq!(o.status.code(), Some(1), "{r}");
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(stderr(&o).contains(hint), "hint: {}", stderr(&o));
        assert!(!dir.path().join("secret-source").exists());
    }
    let o = key_new(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no recipients"), "{}", stderr(&o));

    let o = key_new(dir.path(), &["-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    let escrow = dir.path().join("secret-source/controller-keys.age");
    let good = std::fs::read(&escrow).unwrap();

    let attempt = |args: &[&str]| {
        let before = snapshot(dir.path());
        let o = run_in(dir.path(), args, b"", &[]);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(snapshot(dir.path()), before, "{args:?} wrote something");
        assert_no_plaintext_keys(dir.path());
        stderr(&o)
    };
    // Wrong identity.
    let e = attempt(&["key", "new", "-i", p(&other)]);
    assert!(
        e.contains("none of the given identities can open the escrow"),
        "{e}"
    );
    let e = attempt(&["key", "list", "-i", p(&other)]);
    assert!(e.contains("none of the given identities"), "{e}");
    let e = attempt(&[
        "unseal",
        "--check",
        "--private-key",
        p(&escrow),
        "-i",
        p(&other),
    ]);
    assert!(e.contains("none of the given identities"), "{e}");
    // No identity for an X25519 escrow.
    let e = attempt(&["unseal", "--check", "--private-key", p(&escrow)]);
    assert!(e.contains("--identity"), "{e}");
    // An identity file that is not one.
    let junk = write(dir.path(), "junk.txt", "hello\n");
    let e = attempt(&["key", "list", "-i", p(&junk)]);
    assert!(e.contains("junk.txt"), "{e}");

    // Truncated and corrupted escrows.
    let broken = dir.path().join("broken.age");
    for (what, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("corrupted", {
            let mut b = good.clone();
            let n = b.len() - 20;
            b[n] ^= 0x40;
            b
        }),
        ("not age", b"-----BEGIN CERTIFICATE-----\nnope\n".to_vec()),
    ] {
        std::fs::write(&broken, &bytes).unwrap();
        let e = attempt(&["key", "list", p(&broken), "-i", p(&id)]);
        assert!(e.contains("broken.age"), "{what}: {e}");
        let want = if what == "not age" {
            "not an age file"
        } else {
            "damaged or truncated"
        };
        assert!(e.contains(want), "{what}: {e}");
    }
    std::fs::remove_file(&broken).unwrap();

    // An escrow holding a non-RSA key.
    let ec_key = std::fs::read(vector_key("ec-p256.key.pem")).unwrap();
    let ec_crt = std::fs::read(vector_key("ec-p256.crt.pem")).unwrap();
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: k, namespace: kube-system}}\n  type: kubernetes.io/tls\n  data:\n    tls.crt: {}\n    tls.key: {}\n",
        STANDARD.encode(&ec_crt),
        STANDARD.encode(&ec_key)
    );
    let r = sealstrap::escrow::parse_recipients([recipient.as_str()]).unwrap();
    let ec_escrow = dir.path().join("ec.age");
    std::fs::write(
        &ec_escrow,
        sealstrap::escrow::encrypt_to(&r, list.as_bytes(), false).unwrap(),
    )
    .unwrap();
    let e = attempt(&["key", "list", p(&ec_escrow), "-i", p(&id)]);
    assert!(e.contains("EC private key") && e.contains("ec.age"), "{e}");
    let e = attempt(&[
        "unseal",
        "--check",
        "--private-key",
        p(&ec_escrow),
        "-i",
        p(&id),
    ]);
    assert!(e.contains("EC private key"), "{e}");
    assert_eq!(std::fs::read(&escrow).unwrap(), good);
}

// --- against the stand-in API server ---

fn run_k(api: &FakeApi, dir: &Path, args: &[&str]) -> std::process::Output {
    let kc = api.kubeconfig(dir);
    let o = run_in(dir, args, b"", &[("KUBECONFIG", p(&kc))]);
    assert_no_plaintext_keys(dir);
    o
}

fn escrowed(dir: &Path) -> (PathBuf, PathBuf, Value) {
    let (id, recipient) = identity(dir, "id.txt");
    let o = key_new(dir, &["-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    let escrow = dir.join("secret-source/controller-keys.age");
    let list = sealstrap::yaml::parse_documents(&decrypt(&escrow, &id)).unwrap();
    let secret = list[0]["items"][0].clone();
    (id, escrow, secret)
}

#[test]
fn key_install_applies_exactly_the_escrowed_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (id, escrow, secret) = escrowed(dir.path());
    let name = secret["metadata"]["name"].as_str().unwrap().to_string();
    let path = format!("/api/v1/namespaces/sealed-secrets/secrets/{name}");
    let deploy = "/apis/apps/v1/namespaces/sealed-secrets/deployments/sealed-secrets-controller";
    // Before the controller exists, its namespace may not either: key install makes it (the
    // order that keeps the escrowed key the sealing key: install, then the first sync).
    let api = FakeApi::start(vec![
        Route::json(
            "PATCH",
            "/api/v1/namespaces/sealed-secrets",
            200,
            json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "sealed-secrets"}}),
        ),
        Route::json(
            "PATCH",
            path.clone(),
            200,
            json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}}),
        ),
        Route::status(
            "GET",
            deploy,
            404,
            "NotFound",
            "deployments.apps \"sealed-secrets-controller\" not found",
        ),
    ]);
    let o = run_k(
        &api,
        dir.path(),
        &[
            "key",
            "install",
            p(&escrow),
            "-i",
            p(&id),
            "--controller-namespace",
            "sealed-secrets",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("applied secret sealed-secrets/{name}")),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("the controller seals with sha256:"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("will load these keys when it starts"),
        "{}",
        stderr(&o)
    );
    let reqs = api.requests();
    let patches: Vec<_> = reqs.iter().filter(|r| r.method == "PATCH").collect();
    assert!(
        patches[0]
            .target
            .starts_with("/api/v1/namespaces/sealed-secrets?"),
        "the namespace first: {:?}",
        patches[0].target
    );
    let patch = patches[1];
    assert_eq!(
        patch.target,
        format!("{path}?fieldManager=sealstrap&force=true"),
        "server-side apply"
    );
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["kind"], "Secret");
    assert_eq!(body["type"], "kubernetes.io/tls");
    assert_eq!(body["metadata"]["name"], name.as_str());
    assert_eq!(
        body["metadata"]["namespace"], "sealed-secrets",
        "the flag's namespace"
    );
    assert_eq!(
        body["metadata"]["labels"],
        json!({"sealedsecrets.bitnami.com/sealed-secrets-key": "active"})
    );
    assert_eq!(body["data"]["tls.crt"], secret["data"]["tls.crt"]);
    assert_eq!(body["data"]["tls.key"], secret["data"]["tls.key"]);
    let key_pem = STANDARD
        .decode(body["data"]["tls.key"].as_str().unwrap())
        .unwrap();
    assert!(key_pem.starts_with(b"-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(key_pem.ends_with(b"-----END RSA PRIVATE KEY-----\n"));
    let crt_pem = STANDARD
        .decode(body["data"]["tls.crt"].as_str().unwrap())
        .unwrap();
    assert!(crt_pem.starts_with(b"-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(body.as_object().unwrap().len(), 5, "nothing else: {body}");

    // A running controller: --restart patches its Deployment's pod template (kube's
    // `Api::restart`, as `kubectl rollout restart`);
    // --dry-run asks the server to validate only.
    let api = FakeApi::start(vec![
        Route::json(
            "PATCH",
            "/api/v1/namespaces/sealed-secrets",
            200,
            json!({"kind": "Namespace"}),
        ),
        Route::json("PATCH", path.clone(), 200, json!({"kind": "Secret"})),
        Route::json(
            "GET",
            deploy,
            200,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sealed-secrets-controller", "namespace": "sealed-secrets"}}),
        ),
        Route::json(
            "PATCH",
            deploy,
            200,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sealed-secrets-controller", "namespace": "sealed-secrets"}}),
        ),
    ]);
    let o = run_k(
        &api,
        dir.path(),
        &[
            "key",
            "install",
            p(&escrow),
            "-i",
            p(&id),
            "--controller-namespace",
            "sealed-secrets",
            "--restart",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let reqs = api.requests();
    let restart = reqs
        .iter()
        .find(|r| r.method == "PATCH" && r.target.split('?').next() == Some(deploy))
        .expect("restart");
    assert_eq!(
        restart.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    let body: Value = serde_json::from_slice(&restart.body).unwrap();
    assert!(
        body["spec"]["template"]["metadata"]["annotations"]["kube.kubernetes.io/restartedAt"]
            .is_string()
    );

    let api = FakeApi::start(vec![
        Route::json(
            "PATCH",
            "/api/v1/namespaces/sealed-secrets",
            200,
            json!({"kind": "Namespace"}),
        ),
        Route::json("PATCH", path.clone(), 200, json!({"kind": "Secret"})),
        Route::json(
            "GET",
            deploy,
            200,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sealed-secrets-controller", "namespace": "sealed-secrets"}}),
        ),
    ]);
    let o = run_k(
        &api,
        dir.path(),
        &[
            "key",
            "install",
            p(&escrow),
            "-i",
            p(&id),
            "--controller-namespace",
            "sealed-secrets",
            "--dry-run",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rollout restart deployment/sealed-secrets-controller"),
        "{}",
        stderr(&o)
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.target.ends_with("&dryRun=All"))
    );
}

#[test]
fn key_backup_merges_the_clusters_keys_and_check_finds_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (id, escrow, ours) = escrowed(dir.path());
    // The cluster holds our key and one the controller made itself (the vector key).
    let theirs = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "sealed-secrets-keyx7k2p", "namespace": "kube-system",
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"},
                     "creationTimestamp": "2026-11-01T00:00:00Z", "resourceVersion": "123"},
        "data": {
            "tls.crt": STANDARD.encode(std::fs::read(vector_key("controller-4096.crt.pem")).unwrap()),
            "tls.key": STANDARD.encode(std::fs::read(vector_key("controller-4096.key.pem")).unwrap()),
        }
    });
    let list = json!({"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "200"},
                      "items": [ours, theirs]});
    let secrets = "/api/v1/namespaces/kube-system/secrets";
    let api = FakeApi::start(vec![Route::json("GET", secrets, 200, list)]);

    let o = run_k(&api, dir.path(), &["key", "backup", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("MISSING kube-system/sealed-secrets-keyx7k2p  sha256:43a032dc"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("key backup"), "{}", stderr(&o));
    assert!(
        api.requests()[0]
            .target
            .contains("labelSelector=sealedsecrets.bitnami.com%2Fsealed-secrets-key")
    );

    let before = std::fs::read(&escrow).unwrap();
    let o = run_k(&api, dir.path(), &["key", "backup", "-i", p(&id)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("new     sha256:43a032dc"),
        "{}",
        stdout(&o)
    );
    assert_ne!(std::fs::read(&escrow).unwrap(), before);
    let keys = sealstrap::yaml::parse_documents(&decrypt(&escrow, &id)).unwrap();
    assert_eq!(keys[0]["items"].as_array().unwrap().len(), 2);

    let o = run_k(&api, dir.path(), &["key", "backup", "--check"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = run_k(&api, dir.path(), &["key", "backup", "-i", p(&id)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing new"), "{}", stdout(&o));

    // A first backup of a controller that made its own key: a new escrow for -r.
    let fresh = tempfile::tempdir().unwrap();
    let (fid, frecipient) = identity(fresh.path(), "id.txt");
    let o = run_k(&api, fresh.path(), &["key", "backup", "-r", &frecipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    let fescrow = fresh.path().join("secret-source/controller-keys.age");
    let fkeys = sealstrap::yaml::parse_documents(&decrypt(&fescrow, &fid)).unwrap();
    assert_eq!(fkeys[0]["items"].as_array().unwrap().len(), 2);
    assert!(
        fresh
            .path()
            .join("secret-source/controller-keys.recipients")
            .is_file()
    );
    assert_eq!(
        std::fs::read_to_string(fresh.path().join("secret-source/controller.crt"))
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );

    // The vector's values now unseal with the escrow alone.
    let sealed = data("vectors/sealedsecrets/strict-opaque.yaml");
    let o = run_in(
        dir.path(),
        &[
            "unseal",
            "--check",
            "--private-key",
            p(&escrow),
            "-i",
            p(&id),
            p(&sealed),
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_no_plaintext_keys(dir.path());
}

/// The key files land beside the sealed output at the repository root, from any folder.
#[test]
fn key_new_from_a_subfolder_writes_at_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let sub = dir.path().join("environments/prod");
    std::fs::create_dir_all(&sub).unwrap();
    let (id, recipient) = identity(dir.path(), "id.txt");
    let o = key_new(&sub, &["-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.path()
            .join("secret-source/controller-keys.age")
            .is_file()
    );
    assert!(!sub.join("secret-source").exists());
    // And `key list` from there reads the same escrow.
    let o = run_in(&sub, &["key", "list", "-i", p(&id)], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("<- seals"), "{}", stdout(&o));
}

/// The three files are committed by the user: one git would ignore is refused before anything is
/// written (asked of git once for the three), and a tracked file is not ignored.
#[test]
fn key_new_refuses_a_file_git_would_ignore_and_writes_nothing() {
    let dir = git_repo();
    let (_, recipient) = identity(dir.path(), "id.txt");
    std::fs::write(dir.path().join(".gitignore"), "*.recipients\nid.txt\n").unwrap();
    let o = key_new(dir.path(), &["-r", &recipient]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("secret-source/controller-keys.recipients would be ignored by git"),
        "{err}"
    );
    assert!(err.contains("git check-ignore -v"), "{err}");
    let written: Vec<PathBuf> = snapshot(dir.path())
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| f.starts_with(dir.path().join("secret-source")))
        .collect();
    assert!(written.is_empty(), "{written:?}");
    // Tracked despite the rule: git keeps committing it, so it is not refused.
    std::fs::create_dir(dir.path().join("secret-source")).unwrap();
    std::fs::write(
        dir.path().join("secret-source/controller-keys.recipients"),
        format!("{recipient}\n"),
    )
    .unwrap();
    git(
        dir.path(),
        &["add", "-f", "secret-source/controller-keys.recipients"],
    );
    let o = key_new(dir.path(), &["-r", &recipient]);
    assert!(o.status.success(), "{}", stderr(&o));
}
