//! `sealstrap seal`, `rotate`, `reset-dex-admin` and `contract`, run as a real binary against
//! the vectors' controller certificate; every sealed value is decrypted with its private key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use sealstrap::{generate, kubeseal};

const CERT: &str = "vectors/keys/controller-4096.crt.pem";
const KEY: &str = "vectors/keys/controller-4096.key.pem";

/// A fresh git repository to seal into.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn seal(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let cert = data(CERT);
    let mut args = vec!["seal", "--cert", p(&cert)];
    args.extend(extra);
    run_in(dir, &args, b"", env)
}

/// Decrypts every `sealed/*.yaml` of `out` with the vector key: key -> plaintext.
fn unseal_all(out: &Path) -> BTreeMap<String, String> {
    let keys = crate::common::reference::keys_from_file(&data(KEY));
    let mut values = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("sealed")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = kubeseal::parse_sealed_stream(&text).unwrap();
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.namespace, "secret-source");
        assert_eq!(d.scope, sealstrap::seal::Scope::Strict);
        assert_eq!(
            format!("{}.yaml", d.name),
            path.file_name().unwrap().to_str().unwrap()
        );
        let opened = crate::common::reference::open_file(&path, &keys).expect("it opens");
        assert_eq!(opened.len(), 1, "{}: one data key", d.name);
        let v = String::from_utf8(opened[&format!("{}/value", d.name)].clone()).unwrap();
        values.insert(d.name.clone(), v);
    }
    values
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// (relative path, bytes, mtime) of every file under `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if path.is_dir() {
                if path.file_name().unwrap() != ".git" {
                    stack.push(path);
                }
            } else {
                let meta = e.metadata().unwrap();
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    (std::fs::read(&path).unwrap(), meta.modified().unwrap()),
                );
            }
        }
    }
    out
}

const RANDOM_ALWAYS: [&str; 5] = [
    "litellm-master-key",
    "litellm-salt-key",
    "vllm-api-key",
    "litellm-db-password",
    "litellm-grafana-ro-password",
];
const IDENTITY: [&str; 9] = [
    "oauth2-proxy-cookie-secret",
    "dex-admin-password",
    "dex-admin-hash",
    "dex-oauth2-proxy-client-secret",
    "dex-argocd-client-secret",
    "dex-litellm-client-secret",
    "dex-grafana-client-secret",
    "dex-open-webui-client-secret",
    "dex-tabby-client-secret",
];

fn check_formats(values: &BTreeMap<String, String>) {
    for (k, v) in values {
        match k.as_str() {
            "litellm-master-key" => assert!(v.starts_with("sk-") && is_hex64(&v[3..]), "{k}"),
            "oauth2-proxy-cookie-secret" => {
                assert_eq!(generate::cookie_secret_key_len(v), Some(32), "{k}")
            }
            "dex-admin-password" => assert_eq!(v.len(), 32, "{k}"),
            "dex-admin-hash" => {
                assert!(v.starts_with("$2a$12$"), "{k}: cost 12, $2a$");
                assert!(bcrypt::verify(values["dex-admin-password"].as_bytes(), v).unwrap());
            }
            "hf-token" | "anthropic-api-key" | "cloudflare-api-token" => {}
            _ => assert!(is_hex64(v), "{k} is not 64 hex"),
        }
        assert!(!v.chars().any(char::is_whitespace), "{k}");
    }
    let distinct: std::collections::BTreeSet<&String> = values.values().collect();
    assert_eq!(distinct.len(), values.len(), "values must all differ");
}

#[test]
fn default_run_makes_every_random_entry_in_its_format() {
    let dir = repo();
    let o = seal(dir.path(), &[], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let values = unseal_all(&dir.path().join("secret-source"));
    let mut want: Vec<&str> = RANDOM_ALWAYS
        .iter()
        .chain(IDENTITY.iter())
        .copied()
        .collect();
    want.push("n8n-encryption-key");
    want.sort();
    assert_eq!(values.keys().map(String::as_str).collect::<Vec<_>>(), want);
    check_formats(&values);

    // The Dex copy: 0600 in a 0700 folder at the git root, ignored by git, equal to the sealed one.
    use std::os::unix::fs::PermissionsExt;
    let copy = dir.path().join("secrets/dex-admin-password");
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        values["dex-admin-password"]
    );
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(copy.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
        "/secrets/dex-admin-password\n"
    );
    assert!(stderr(&o).contains("added a rule for the Dex admin password copy to"));
    assert!(stderr(&o).contains("nothing left to provide by hand"));
}

#[test]
/// The config and --with/--without decide only the operator-provided values: every random value
/// is sealed whatever they say (deployed apps read Dex client secrets with identity off, and the
/// platform's own seeding makes all 15).
fn config_variants_decide_the_provided_values_and_every_random_value_is_sealed() {
    let random: Vec<&str> = RANDOM_ALWAYS
        .iter()
        .chain(IDENTITY.iter())
        .copied()
        .chain(["n8n-encryption-key"])
        .collect();
    assert_eq!(random.len(), 15);
    let cases: [(&str, &[&str], Vec<&str>); 3] = [
        (
            "features: {identity: false, n8n: false, egress: false}\ndns: {automate: false}\n",
            &[],
            random.clone(),
        ),
        (
            "secret_backend: kubernetes\nfeatures: {identity: true, n8n: true, egress: true}\ndns: {automate: true, provider: cloudflare}\n",
            &[],
            random
                .iter()
                .copied()
                .chain(["anthropic-api-key", "cloudflare-api-token"])
                .collect(),
        ),
        (
            "features: {identity: true, n8n: true, egress: true}\n",
            &["--without", "n8n,identity,anthropic", "--with", "hf"],
            random.iter().copied().chain(["hf-token"]).collect(),
        ),
    ];
    for (i, (config, flags, want)) in cases.iter().enumerate() {
        let dir = repo();
        let cfg = dir.path().join("config.yaml");
        std::fs::write(&cfg, config).unwrap();
        let mut args = vec!["--config", p(&cfg)];
        args.extend(flags.iter());
        let hf = format!("hf_{}", "a".repeat(34));
        let o = seal(
            dir.path(),
            &args,
            &[
                ("ANTHROPIC_API_KEY", "sk-ant-test-value"),
                ("CLOUDFLARE_API_TOKEN", &"c".repeat(40)),
                ("HF_TOKEN", &hf),
            ],
        );
        assert!(o.status.success(), "case {i}: {}", stderr(&o));
        let values = unseal_all(&dir.path().join("secret-source"));
        let mut want = want.clone();
        want.sort();
        assert_eq!(
            values.keys().map(String::as_str).collect::<Vec<_>>(),
            want,
            "case {i}"
        );
        check_formats(&values);
        if let Some(v) = values.get("anthropic-api-key") {
            assert_eq!(v, "sk-ant-test-value");
        }
        // Annotations record provenance, never the value.
        let text = std::fs::read_to_string(
            dir.path()
                .join("secret-source/sealed/litellm-salt-key.yaml"),
        )
        .unwrap();
        assert!(text.contains("sealstrap.dev/origin: generated"));
        assert!(text.contains("sealstrap.dev/cert-fingerprint: sha256:43a032dc"));
    }
}

#[test]
fn output_validates_and_kustomize_lists_every_object() {
    let dir = repo();
    let o = seal(
        dir.path(),
        &["--with", "hf"],
        &[("HF_TOKEN", &format!("hf_{}", "b".repeat(34)))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("secret-source");
    let (ok, report) = validate(&[out.as_path()]);
    assert!(ok, "{report}");

    let docs = crate::common::kustomize(&out);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for d in &docs {
        *kinds
            .entry(d["kind"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let sealed_files = std::fs::read_dir(out.join("sealed")).unwrap().count();
    assert_eq!(sealed_files, 16);
    assert_eq!(kinds["SealedSecret"], sealed_files);
    for kind in [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterSecretStore",
    ] {
        assert_eq!(kinds[kind], 1, "{kind}");
    }
    assert_eq!(docs.len(), sealed_files + 5);
}

#[test]
fn second_run_changes_nothing_and_rotate_changes_exactly_the_rotated_files() {
    let dir = repo();
    assert!(seal(dir.path(), &[], &[]).status.success());
    let first = snapshot(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = seal(dir.path(), &[], &[]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("nothing to write"));
    assert_eq!(snapshot(dir.path()), first, "bytes and mtimes unchanged");
    let before_values = unseal_all(&dir.path().join("secret-source"));

    let cert = data(CERT);
    let o = run_in(
        dir.path(),
        &[
            "rotate",
            "--cert",
            p(&cert),
            "vllm-api-key",
            "dex-grafana-client-secret",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // No ExternalSecret in this tree reads it: the Secret the contract names is given instead.
    assert!(
        stderr(&o).contains(
            "kubectl annotate externalsecret -n serving <the ExternalSecret that writes Secret vllm-api-key> force-sync="
        ),
        "{}",
        stderr(&o)
    );
    let after = snapshot(dir.path());
    let changed: Vec<String> = after
        .iter()
        .filter(|(k, v)| first.get(*k) != Some(v))
        .map(|(k, _)| k.display().to_string())
        .collect();
    assert_eq!(
        changed,
        vec![
            "secret-source/sealed/dex-grafana-client-secret.yaml",
            "secret-source/sealed/vllm-api-key.yaml"
        ]
    );
    let after_values = unseal_all(&dir.path().join("secret-source"));
    assert_ne!(after_values["vllm-api-key"], before_values["vllm-api-key"]);
    assert_eq!(
        after_values["litellm-master-key"],
        before_values["litellm-master-key"]
    );

    // The write-once salt needs --force.
    let o = run_in(
        dir.path(),
        &["rotate", "--cert", p(&cert), "litellm-salt-key"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("write-once"));
    assert_eq!(snapshot(dir.path()), after);

    // reset-dex-admin: new password and hash together, local copy rewritten.
    let o = run_in(
        dir.path(),
        &["reset-dex-admin", "--cert", p(&cert)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let reset = unseal_all(&dir.path().join("secret-source"));
    assert_ne!(
        reset["dex-admin-password"],
        after_values["dex-admin-password"]
    );
    assert!(
        bcrypt::verify(
            reset["dex-admin-password"].as_bytes(),
            &reset["dex-admin-hash"]
        )
        .unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secrets/dex-admin-password")).unwrap(),
        reset["dex-admin-password"]
    );
    assert_eq!(reset["vllm-api-key"], after_values["vllm-api-key"]);
}

#[test]
fn a_folder_that_cannot_be_written_mid_run_leaves_the_earlier_state() {
    let dir = repo();
    assert!(seal(dir.path(), &[], &[]).status.success());
    // The Dex pair is gone (a new one will be made), and so is its copy's folder.
    for f in ["dex-admin-password", "dex-admin-hash"] {
        std::fs::remove_file(dir.path().join(format!("secret-source/sealed/{f}.yaml"))).unwrap();
    }
    std::fs::remove_dir_all(dir.path().join("secrets")).unwrap();
    let before = snapshot(dir.path());
    // The Dex copy's folder cannot be created (a file is in the way), after every sealed file
    // has been staged: nothing may land.
    std::fs::write(dir.path().join("secrets"), b"in the way").unwrap();
    let before_with_blocker = snapshot(dir.path());
    let o = seal(dir.path(), &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was changed"), "{}", stderr(&o));
    assert_eq!(snapshot(dir.path()), before_with_blocker);
    assert_eq!(before.len() + 1, before_with_blocker.len());
}

#[test]
fn no_generated_value_appears_anywhere_but_its_sealed_file_and_the_dex_copy() {
    let dir = repo();
    let o = seal(dir.path(), &["--output", "json"], &[]);
    assert!(o.status.success());
    let values = unseal_all(&dir.path().join("secret-source"));
    let files = snapshot(dir.path());
    let streams = [stdout(&o), stderr(&o)];
    for (k, v) in &values {
        for (path, (bytes, _)) in &files {
            let text = String::from_utf8_lossy(bytes);
            let allowed = k == "dex-admin-password" && path.ends_with("secrets/dex-admin-password");
            assert_eq!(
                text.contains(v.as_str()),
                allowed,
                "{k} found in {}",
                path.display()
            );
        }
        for s in &streams {
            assert!(!s.contains(v.as_str()), "{k} printed");
        }
    }
}

#[test]
fn dry_run_and_json_summary() {
    let dir = repo();
    let o = seal(
        dir.path(),
        &["--dry-run", "--output", "json", "--with", "cloudflare"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only .git"
    );
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["dry_run"], true);
    let cf = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "cloudflare-api-token")
        .unwrap();
    assert_eq!(cf["status"], "NEEDS VALUE");
    assert!(j["todo"].as_str().unwrap().starts_with(
        "1 value to provide: cloudflare-api-token — set CLOUDFLARE_API_TOKEN or --value-file"
    ));
}

#[test]
fn missing_provided_values_and_require_complete() {
    let dir = repo();
    let o = seal(
        dir.path(),
        &["--with", "cloudflare,anthropic", "--require-complete"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("NEEDS VALUE  cloudflare-api-token"), "{err}");
    assert!(
        err.contains("2 values to provide: cloudflare-api-token"),
        "{err}"
    );
    // Everything else was still written; a later run with the value completes it.
    assert!(
        dir.path()
            .join("secret-source/sealed/vllm-api-key.yaml")
            .exists()
    );
    let vf = dir.path().join("cf-token");
    std::fs::write(&vf, format!("{}\n", "t".repeat(40))).unwrap();
    let o = seal(
        dir.path(),
        &[
            "--with",
            "cloudflare,anthropic",
            "--require-complete",
            "--value-file",
            &format!("cloudflare-api-token={}", p(&vf)),
        ],
        &[("ANTHROPIC_API_KEY", "not-the-usual-prefix")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("stripped one trailing newline"), "{err}");
    assert!(err.contains("does not look like sk-ant-"), "{err}");
    let values = unseal_all(&dir.path().join("secret-source"));
    assert_eq!(values["cloudflare-api-token"], "t".repeat(40));
}

#[test]
fn drift_and_extra_files_are_reported_never_changed() {
    let dir = repo();
    assert!(
        seal(dir.path(), &["--without", "identity,n8n"], &[])
            .status
            .success()
    );
    let other = data("vectors/keys/other-4096.crt.pem");
    let extra = dir.path().join("secret-source/sealed/my-own-secret.yaml");
    std::fs::copy(data("vectors/sealedsecrets/strict-opaque.yaml"), &extra).unwrap();
    let before = snapshot(dir.path());
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&other), "--without", "identity,n8n"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("sealed/vllm-api-key.yaml is sealed for certificate sha256:43a032dc"),
        "{err}"
    );
    assert!(err.contains("sealstrap reseal"), "{err}");
    assert!(
        err.contains(
            "sealed/my-own-secret.yaml is not in the secret contract; kept, never deleted"
        ),
        "{err}"
    );
    let after = snapshot(dir.path());
    for (k, v) in &before {
        // The certificate named with --cert is pinned (the operator's choice); nothing sealed
        // changes.
        if !k.ends_with("kustomization.yaml") && !k.ends_with("sealstrap.yaml") {
            assert_eq!(after.get(k), Some(v), "{} changed", k.display());
        }
    }
    let pins = std::fs::read_to_string(dir.path().join("sealstrap.yaml")).unwrap();
    assert!(
        pins.contains("secret-source:\n    certificate: sha256:ca0be15b"),
        "{pins}"
    );
    // The extra file is listed in the kustomization so it is still applied.
    let kust =
        std::fs::read_to_string(dir.path().join("secret-source/kustomization.yaml")).unwrap();
    assert!(kust.contains("- sealed/my-own-secret.yaml"));
}

#[test]
fn dex_hash_without_password_is_explained() {
    let dir = repo();
    assert!(seal(dir.path(), &[], &[]).status.success());
    std::fs::remove_file(
        dir.path()
            .join("secret-source/sealed/dex-admin-password.yaml"),
    )
    .unwrap();
    let o = seal(dir.path(), &[], &[]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(err.contains("NEEDS VALUE  dex-admin-password"), "{err}");
    assert!(err.contains("cannot be recovered"), "{err}");
    assert!(err.contains("sealstrap reset-dex-admin"), "{err}");
    assert!(
        !dir.path()
            .join("secret-source/sealed/dex-admin-password.yaml")
            .exists()
    );
}

/// One bad invocation: exit code, message, and nothing written.
fn assert_refused(args: &[&str], env: &[(&str, &str)], code: i32, expect: &str) {
    let dir = repo();
    std::fs::write(
        dir.path().join("bad-config.yaml"),
        "features:\n  identity: true\n n8n: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("typed-config.yaml"),
        "features: {identity: maybe}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("two-lines"), "hf_first\nhf_second\n").unwrap();
    std::fs::write(dir.path().join("empty"), "").unwrap();
    let before = snapshot(dir.path());
    let o = run_in(dir.path(), args, b"", env);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(expect),
        "{args:?}: expected {expect:?} in\n{}",
        stderr(&o)
    );
    assert_eq!(snapshot(dir.path()), before, "{args:?} wrote something");
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let cert = data(CERT);
    let c = p(&cert);
    let expired = data("vectors/keys/expired-2048.crt.pem");
    assert_refused(
        &["seal", "--cert", "missing.pem"],
        &[],
        1,
        "cannot read missing.pem",
    );
    assert_refused(&["seal"], &[], 2, "--cert");
    assert_refused(
        &["seal", "--cert", p(&expired)],
        &[],
        1,
        "expired certificate on November 28, 2026",
    );
    assert_refused(
        &["seal", "--cert", c, "--with", "vault"],
        &[],
        2,
        "unknown feature \"vault\"",
    );
    assert_refused(
        &["seal", "--cert", c, "--config", "bad-config.yaml"],
        &[],
        1,
        "config bad-config.yaml: invalid YAML",
    );
    assert_refused(
        &["seal", "--cert", c, "--config", "typed-config.yaml"],
        &[],
        1,
        "features.identity must be true or false",
    );
    assert_refused(
        &["seal", "--cert", c, "--config", "nope.yaml"],
        &[],
        1,
        "cannot read config nope.yaml",
    );
    assert_refused(
        &["seal", "--cert", c, "--with", "hf"],
        &[("HF_TOKEN", "")],
        1,
        "the value for hf-token is empty",
    );
    assert_refused(
        &[
            "seal",
            "--cert",
            c,
            "--with",
            "hf",
            "--value-file",
            "hf-token=empty",
        ],
        &[],
        1,
        "the value for hf-token is empty",
    );
    assert_refused(
        &[
            "seal",
            "--cert",
            c,
            "--with",
            "hf",
            "--value-file",
            "hf-token=two-lines",
        ],
        &[],
        1,
        "contains a line break",
    );
    assert_refused(
        &["seal", "--cert", c, "--with", "hf"],
        &[("HF_TOKEN", "hf_a b")],
        1,
        "contains a space",
    );
    assert_refused(
        &["seal", "--cert", c, "--value-file", "nope=empty"],
        &[],
        2,
        "\"nope\" is not a backend key",
    );
    assert_refused(
        &["seal", "--cert", c, "--bcrypt-cost", "9"],
        &[],
        2,
        "9 is not in 10..=16",
    );
    assert_refused(
        &["rotate", "--cert", c, "not-a-key"],
        &[],
        2,
        "unknown key \"not-a-key\"",
    );
    assert_refused(&["rotate", "--cert", c], &[], 2, "KEY");
    assert_refused(
        &["rotate", "--cert", c, "hf-token"],
        &[],
        1,
        "hf-token is not part of this environment",
    );
    assert_refused(
        &["rotate", "--cert", c, "--with", "hf", "hf-token"],
        &[],
        1,
        "no new value for hf-token",
    );
}

#[test]
fn contract_lists_every_key() {
    let o = run(&["contract"], b"");
    assert!(o.status.success());
    let out = stdout(&o);
    for e in sealstrap::contract::CONTRACT {
        assert!(out.contains(&format!("{}\n  needed:", e.key)), "{}", e.key);
    }
    assert!(out.contains("consumer:  dex / Secret dex-secrets / key DEX_ADMIN_PASSWORD_HASH"));
    let o = run(&["contract", "--output", "json"], b"");
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        j.as_array().unwrap().len(),
        sealstrap::contract::CONTRACT.len()
    );
}

#[test]
fn manifests_folder_is_the_default_wiring_as_seal_renders_it() {
    let dir = root().join("manifests");
    let files = sealstrap::manifests::wiring_files(
        &sealstrap::manifests::Wiring::default(),
        &[],
        true,
        &[],
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (rel, text) in &files {
            std::fs::write(dir.join(rel), text).unwrap();
        }
    }
    for (rel, text) in &files {
        let on_disk = std::fs::read_to_string(dir.join(rel))
            .unwrap_or_else(|_| panic!("manifests/{rel} missing (UPDATE_SNAPSHOTS=1 writes it)"));
        assert_eq!(
            &on_disk, text,
            "manifests/{rel} drifted from what seal renders"
        );
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), files.len());
}

/// A key sealed earlier (`--with hf`) and not needed by a later run is EXISTS, kept byte for
/// byte, with why it is not needed (not SKIPPED, which says nothing is there); and `set` of it
/// replaces it without `--with`.
#[test]
fn a_sealed_key_no_longer_selected_exists_and_set_replaces_it() {
    let dir = git_repo();
    let cert = data("vectors/keys/controller-2048.crt.pem");
    let c = p(&cert);
    let token = format!("hf_{}", "a".repeat(34));
    let o = run_in(
        dir.path(),
        &["seal", "--cert", c, "--with", "hf", "--bcrypt-cost", "10"],
        b"",
        &[("HF_TOKEN", token.as_str())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let file = dir.path().join("secret-source/sealed/hf-token.yaml");
    let before = std::fs::read(&file).unwrap();
    let o = run_in(dir.path(), &["seal", "--cert", c], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stderr(&o)
        .lines()
        .find(|l| l.contains(" hf-token "))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.starts_with("EXISTS") && line.contains("kept byte-for-byte (not needed now"),
        "{line}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let new = format!("hf_{}", "b".repeat(34));
    let o = run_in(
        dir.path(),
        &["set", "hf-token", "--cert", c],
        b"",
        &[("HF_TOKEN", new.as_str())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(&file).unwrap(), before);
    for out in [stdout(&o), stderr(&o)] {
        assert!(!out.contains(&new) && !out.contains(&token));
    }
}
