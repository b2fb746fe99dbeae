//! Issue 19: pull requests people can review. A pull request that rotates one value: `sealstrap
//! diff` names exactly that key as changed; `git diff` through the textconv driver shows the same;
//! no value appears in any output. A re-seal is told from a change with the escrow. `set` and
//! `unset` touch one key; `reseal` rewrites only the files that need the new certificate.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::snapshot;
use crate::common::*;

const CERT: &str = "vectors/keys/controller-2048.crt.pem";
const KEY: &str = "vectors/keys/controller-2048.key.pem";
const NEW_CERT: &str = "vectors/keys/controller-4096.crt.pem";

fn git_out(dir: &Path, args: &[&str]) -> String {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every value of the folder: key -> plaintext.
fn values(out: &Path, key: &str) -> BTreeMap<String, String> {
    reference::open_folder(&out.join("sealed"), &reference::keys_from_file(&data(key)))
        .expect("every value opens")
}

/// `reseal` in `root` from the 2048-bit key to the 4096-bit certificate.
fn reseal_to_new_cert(root: &Path) -> std::process::Output {
    let (key, cert) = (data(KEY), data(NEW_CERT));
    let args = ["reseal", "--private-key", p(&key), "--cert", p(&cert)];
    run_in(root, &args, b"", &[])
}

fn committed_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&data(CERT)), "--bcrypt-cost", "10"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "sealed"]);
    dir
}

#[test]
fn a_rotation_shows_as_exactly_one_changed_key_and_no_value_leaks() {
    let dir = committed_repo();
    let root = dir.path();
    let before = values(&root.join("secret-source"), KEY);
    let o = run_in(
        root,
        &["rotate", "--cert", p(&data(CERT)), "vllm-api-key"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "rotate vllm-api-key"]);
    let after = values(&root.join("secret-source"), KEY);
    let plaintexts: Vec<&String> = before.values().chain(after.values()).collect();

    // Without keys: the one file that changed, flagged as re-encrypted or changed.
    let o = run_in(root, &["diff", "HEAD~1..HEAD"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("re-encrypted or changed  secret-source/vllm-api-key/value  (secret-source/sealed/vllm-api-key.yaml)"),
        "{out}"
    );
    // With the controller key: changed, with fingerprints; every other key unchanged.
    let o = run_in(
        root,
        &[
            "diff",
            "HEAD~1..HEAD",
            "--private-key",
            p(&data(KEY)),
            "--all",
        ],
        b"",
        &[],
    );
    let out = stdout(&o);
    let changed: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("unchanged"))
        .collect();
    assert_eq!(changed.len(), 1, "{out}");
    assert!(
        changed[0].starts_with("changed  ") || changed[0].starts_with("changed "),
        "{out}"
    );
    assert!(
        changed[0].contains("secret-source/vllm-api-key/value"),
        "{out}"
    );
    assert!(
        changed[0].contains("fp:") && changed[0].contains(" -> fp:"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("unchanged")).count(),
        14,
        "{out}"
    );
    assert!(
        stderr(&o).contains("1 changed, 0 re-encrypted"),
        "{}",
        stderr(&o)
    );

    // git diff through the driver: only that key's line changes.
    let setup = stdout(&run_in(root, &["diff", "--setup"], b"", &[]));
    assert!(setup.contains("diff=sealstrap"));
    std::fs::write(
        root.join(".gitattributes"),
        "secret-source/sealed/*.yaml diff=sealstrap\n",
    )
    .unwrap();
    let textconv = format!(
        "{} diff --textconv --private-key {}",
        bin().display(),
        data(KEY).display()
    );
    git(root, &["config", "diff.sealstrap.textconv", &textconv]);
    let gd = git_out(
        root,
        &["diff", "HEAD~1", "HEAD", "--", "secret-source/sealed"],
    );
    let minus: Vec<&str> = gd
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let plus: Vec<&str> = gd
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!((minus.len(), plus.len()), (1, 1), "{gd}");
    assert!(
        minus[0]
            .trim_start_matches('-')
            .trim()
            .starts_with("value: fp:"),
        "{gd}"
    );
    assert!(gd.contains("vllm-api-key.yaml"), "{gd}");

    // A re-seal for a new certificate: every key re-encrypted, none changed, and the driver
    // shows no difference at all.
    let o = reseal_to_new_cert(root);
    assert!(o.status.success(), "{}", stderr(&o));
    let new_key = data("vectors/keys/controller-4096.key.pem");
    let both = format!("{},{}", data(KEY).display(), new_key.display());
    let o = run_in(root, &["diff", "--private-key", &both], b"", &[]);
    assert!(
        stderr(&o).contains("0 changed, 15 re-encrypted"),
        "{}",
        stderr(&o)
    );
    let textconv = format!("{} diff --textconv --private-key {both}", bin().display());
    git(root, &["config", "diff.sealstrap.textconv", &textconv]);
    let gd = git_out(root, &["diff", "--", "secret-source/sealed"]);
    let changes = gd
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .count();
    // Only the certificate fingerprint annotation differs in each file, never a value line.
    assert!(
        gd.lines()
            .filter(|l| l.starts_with('+') && l.contains("value:"))
            .count()
            == 0,
        "{gd}"
    );
    assert_eq!(changes, 30, "15 annotation lines each way: {gd}");

    // No plaintext in any output.
    for o in [
        run_in(
            root,
            &[
                "diff",
                "HEAD~1..HEAD",
                "--private-key",
                p(&data(KEY)),
                "--all",
                "--output",
                "json",
            ],
            b"",
            &[],
        ),
        run_in(
            root,
            &[
                "diff",
                "--textconv",
                "secret-source/sealed/vllm-api-key.yaml",
                "--private-key",
                &both,
            ],
            b"",
            &[],
        ),
    ] {
        for v in &plaintexts {
            assert!(!stdout(&o).contains(v.as_str()) && !stderr(&o).contains(v.as_str()));
        }
    }
    for v in &plaintexts {
        assert!(!gd.contains(v.as_str()));
    }
}

#[test]
fn set_and_unset_touch_one_key() {
    let dir = committed_repo();
    let root = dir.path();
    let out = root.join("secret-source");
    let before = values(&out, KEY);
    // A random key set to a value of the user's (from SEALSTRAP_VALUE), checked as seal checks.
    let value = "0123456789abcdef".repeat(4);
    let o = run_in(
        root,
        &["set", "vllm-api-key", "--cert", p(&data(CERT))],
        b"",
        &[("SEALSTRAP_VALUE", &value)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = values(&out, KEY);
    assert_eq!(after["vllm-api-key"], value);
    for (k, v) in &before {
        if k != "vllm-api-key" {
            assert_eq!(&after[k], v, "{k}");
        }
    }
    let o = run_in(root, &["diff", "--private-key", p(&data(KEY))], b"", &[]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    assert!(!stdout(&o).contains(&value) && !stderr(&o).contains(&value));
    // A bad value is refused as seal refuses it; the write-once salt needs --force.
    let o = run_in(
        root,
        &["set", "vllm-api-key", "--cert", p(&data(CERT))],
        b"",
        &[("SEALSTRAP_VALUE", "has space")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run_in(
        root,
        &["set", "litellm-salt-key", "--cert", p(&data(CERT))],
        b"",
        &[("SEALSTRAP_VALUE", &value)],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("write-once"), "{}", stderr(&o));

    // unset: a needed key is refused; --force removes it and its kustomization entry.
    let o = run_in(
        root,
        &["unset", "vllm-api-key", "--cert", p(&data(CERT))],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is needed here"), "{}", stderr(&o));
    let o = run_in(
        root,
        &["unset", "vllm-api-key", "--force", "--cert", p(&data(CERT))],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("sealed/vllm-api-key.yaml").exists());
    let k = std::fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    assert!(!k.contains("vllm-api-key"), "{k}");
    let after = values(&out, KEY);
    assert_eq!(after.len(), before.len() - 1);
    let (ok, report) = validate(&[out.as_path()]);
    assert!(ok, "{report}");
}

#[test]
fn reseal_rewrites_only_the_files_that_need_the_new_certificate() {
    let dir = committed_repo();
    let root = dir.path();
    let out = root.join("secret-source");
    // Half the folder is already sealed for the new certificate (an earlier partial run).
    let mut names: Vec<String> = std::fs::read_dir(out.join("sealed"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let half: Vec<String> = names.iter().step_by(2).cloned().collect();
    let half_paths: Vec<String> = half
        .iter()
        .map(|n| format!("secret-source/sealed/{n}"))
        .collect();
    let mut args = vec![
        "reseal".to_string(),
        "--private-key".into(),
        data(KEY).display().to_string(),
        "--cert".into(),
        data(NEW_CERT).display().to_string(),
    ];
    args.extend(half_paths.iter().cloned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_in(root, &a, b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "half"]);
    let snapshot = |n: &str| std::fs::read(out.join("sealed").join(n)).unwrap();
    let before: BTreeMap<String, Vec<u8>> =
        names.iter().map(|n| (n.clone(), snapshot(n))).collect();
    let o = reseal_to_new_cert(root);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "{} file(s) resealed, {} already current",
            names.len() - half.len(),
            half.len()
        )),
        "{}",
        stderr(&o)
    );
    for n in &names {
        let same = snapshot(n) == before[n];
        assert_eq!(
            same,
            half.contains(n),
            "{n}: only the old ones are rewritten"
        );
    }
}

/// Issue 19: `--gitops flux`: the controller's HelmRepository and HelmRelease (the Argo CD
/// wiring's chart and values), the store in a folder of its own, and three Flux Kustomizations in
/// order with health checks; strict-valid against Flux's schemas; kustomize builds every folder;
/// a second run changes nothing.
#[test]
fn the_flux_wiring_is_valid_and_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    let cert = data(CERT);
    let args = [
        "seal",
        "--cert",
        p(&cert),
        "--bcrypt-cost",
        "10",
        "--gitops",
        "flux",
    ];
    let o = run_in(root, &args, b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Flux: add flux"), "{}", stderr(&o));
    let flux = root.join("flux");
    let (ok, report) = validate(&[
        flux.as_path(),
        flux.join("sealed-secrets").as_path(),
        flux.join("store").as_path(),
        root.join("secret-source").as_path(),
    ]);
    assert!(ok, "{report}");
    // The check is strict: an unknown field or a wrong enum is an error.
    let mut bad = sealstrap::yaml::parse_documents(
        &std::fs::read_to_string(flux.join("sealstrap.yaml")).unwrap(),
    )
    .unwrap()
    .remove(0);
    assert!(crate::common::schema::check_object(&bad).is_empty());
    bad["spec"]["sourceRef"]["kind"] = "HelmRepository".into();
    bad["spec"]["bogus"] = 1.into();
    assert_eq!(
        crate::common::schema::check_object(&bad).len(),
        2,
        "{:?}",
        crate::common::schema::check_object(&bad)
    );
    // kustomize builds each folder; the sealed folder has no store (it is Flux's third step).
    let ks = kustomize(&flux);
    let names: Vec<&str> = ks
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["sealed-secrets", "secret-source", "secret-store"]
    );
    assert_eq!(ks[1]["spec"]["dependsOn"][0]["name"], "sealed-secrets");
    assert_eq!(ks[2]["spec"]["dependsOn"][0]["name"], "secret-source");
    assert_eq!(ks[1]["spec"]["path"], "./secret-source");
    assert_eq!(ks[2]["spec"]["path"], "./flux/store");
    assert!(
        ks[1]["spec"]["healthCheckExprs"][0]["current"]
            .as_str()
            .unwrap()
            .contains("'Synced'")
    );
    assert!(
        ks[2]["spec"]["healthCheckExprs"][0]["current"]
            .as_str()
            .unwrap()
            .contains("'Ready'")
    );
    let controller = kustomize(&flux.join("sealed-secrets"));
    assert_eq!(controller[1]["kind"], "HelmRelease");
    assert_eq!(controller[1]["spec"]["chart"]["spec"]["version"], "2.18.5");
    assert_eq!(
        controller[1]["spec"]["values"]["fullnameOverride"],
        "sealed-secrets-controller"
    );
    let store = kustomize(&flux.join("store"));
    assert_eq!(store[0]["kind"], "ClusterSecretStore");
    let sealed = kustomize(&root.join("secret-source"));
    assert!(sealed.iter().all(|d| d["kind"] != "ClusterSecretStore"));
    for f in [
        "sealstrap.yaml",
        "sealed-secrets/controller.yaml",
        "store/cluster-secret-store.yaml",
    ] {
        let t = std::fs::read_to_string(flux.join(f)).unwrap();
        assert!(!t.contains("creationTimestamp"), "{f}");
    }
    git(root, &["add", "-A"]);
    let o = run_in(root, &args, b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("is up to date"), "{}", stderr(&o));
}

/// Issue 19, no churn: `kubeseal --merge-into` with the controller's key keeps the ciphertext of
/// every value whose plaintext did not change; only the changed key's line moves.
#[test]
fn kubeseal_merge_keeps_unchanged_ciphertexts_given_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cert = data(CERT);
    let secret = |a: &str, b: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: demo}}\nstringData:\n  a: {a}\n  b: {b}\n"
        )
    };
    let target = root.join("app.yaml");
    let o = run_in(
        root,
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "-o",
            "yaml",
            "-w",
            p(&target),
        ],
        secret("one", "two").as_bytes(),
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read_to_string(&target).unwrap();
    let ct = |text: &str, k: &str| {
        sealstrap::yaml::parse_documents(text).unwrap()[0]["spec"]["encryptedData"][k]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Without a key every merged value is sealed again.
    let copy = root.join("copy.yaml");
    std::fs::write(&copy, &before).unwrap();
    let o = run_in(
        root,
        &["kubeseal", "--cert", p(&cert), "--merge-into", p(&copy)],
        secret("one", "three").as_bytes(),
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(&copy).unwrap();
    assert_ne!(ct(&after, "a"), ct(&before, "a"));
    // With it, the unchanged `a` keeps its ciphertext; `b` changes.
    let o = run_in(
        root,
        &[
            "kubeseal",
            "--cert",
            p(&cert),
            "--merge-into",
            p(&target),
            "--recovery-private-key",
            p(&data(KEY)),
        ],
        secret("one", "three").as_bytes(),
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(&target).unwrap();
    assert_eq!(ct(&after, "a"), ct(&before, "a"));
    assert_ne!(ct(&after, "b"), ct(&before, "b"));
}

/// `set` seals only what `verify` would pass (the contract's rules for the key), unless
/// `--force`; a value on the command line (`set KEY=VALUE`) is refused without being echoed;
/// `unset` of either Dex admin key removes the pair.
#[test]
fn set_checks_the_value_as_verify_does_and_unset_keeps_the_dex_pair_whole() {
    let dir = committed_repo();
    let root = dir.path();
    let out = root.join("secret-source");
    let cert = data(CERT);
    let set = |key: &str, value: &str, extra: &[&str]| {
        let mut args = vec!["set", key, "--cert", p(&cert)];
        args.extend_from_slice(extra);
        run_in(root, &args, b"", &[("SEALSTRAP_VALUE", value)])
    };
    let before = values(&out, KEY);
    let mut refusals = String::new();
    for (key, value) in [
        ("oauth2-proxy-cookie-secret", "short"),
        ("litellm-master-key", &"a".repeat(40)),
        ("litellm-db-password", "p@ss/word:with-reserved"),
    ] {
        let o = set(key, value, &[]);
        assert_eq!(o.status.code(), Some(1), "{key}: {}", stderr(&o));
        assert!(!stderr(&o).contains(value), "the value is never echoed");
        refusals.push_str(&stderr(&o));
    }
    snapshot::assert_snapshot("errors/set-refuses-what-verify-refuses", &refusals);
    assert_eq!(values(&out, KEY), before, "nothing was sealed");
    let o = set("oauth2-proxy-cookie-secret", "short", &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(values(&out, KEY)["oauth2-proxy-cookie-secret"], "short");
    // A guessable value is sealed with a warning.
    let o = set("vllm-api-key", "1234", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("short or repetitive"), "{}", stderr(&o));
    // KEY=VALUE on the command line: refused, the value not repeated.
    let secret = format!("hf_{}", "Q".repeat(34));
    let o = run_in(
        root,
        &["set", &format!("hf-token={secret}"), "--cert", p(&cert)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !stderr(&o).contains(&secret) && stderr(&o).contains("hf-token=..."),
        "{}",
        stderr(&o)
    );
    // unset of one Dex admin key removes both.
    let o = run_in(
        root,
        &["unset", "dex-admin-hash", "--force", "--cert", p(&cert)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("sealed/dex-admin-hash.yaml").exists());
    assert!(!out.join("sealed/dex-admin-password.yaml").exists());
}
