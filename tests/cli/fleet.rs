//! Issue 18: one repository, many clusters. On the platform fixture with two environments
//! (ai-dev, metal), each with its own controller key: one `seal --all-envs` seals both; each
//! folder opens only with its own key; the Argo CD Applications point at the right folders; a
//! value declared shared is one plaintext everywhere while random values differ; a break-glass
//! key opens every value; a second run changes nothing; a run killed at any step leaves every
//! environment old or new; a fresh clone passes the single-environment checks for each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::snapshot;
use crate::common::*;

const ENVS: [(&str, &str, &str); 2] = [
    (
        "ai-dev",
        "vectors/keys/controller-2048.crt.pem",
        "vectors/keys/controller-2048.key.pem",
    ),
    (
        "metal",
        "vectors/keys/controller-4096.crt.pem",
        "vectors/keys/controller-4096.key.pem",
    ),
];
const BREAK_GLASS_CERT: &str = "vectors/keys/other-4096.crt.pem";
const BREAK_GLASS_KEY: &str = "vectors/keys/other-4096.key.pem";

/// The platform checkout with the fleet file: each environment's certificate, the fork's key
/// shared, a break-glass certificate. One commit.
fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&data("platform"), root);
    std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
    for (env, cert, _) in ENVS {
        std::fs::copy(
            data(cert),
            root.join(format!("clusters/{env}/controller.crt")),
        )
        .unwrap();
    }
    std::fs::create_dir(root.join("recovery")).unwrap();
    std::fs::copy(
        data(BREAK_GLASS_CERT),
        root.join("recovery/break-glass.crt"),
    )
    .unwrap();
    std::fs::write(
        root.join("sealstrap.yaml"),
        "extra:\n  example-token: {generate: hex32}\nenvironments:\n  ai-dev: {cert: clusters/ai-dev/controller.crt}\n  metal: {cert: clusters/metal/controller.crt}\nvalues:\n  example-token: shared\nbreak-glass:\n  cert: recovery/break-glass.crt\n",
    )
    .unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "platform"]);
    dir
}

fn seal_all(root: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    // The fixture's certificates were copied in, not made by `key new` (which pins them):
    // accepted on every run here (`pins_refuse_an_unapproved_certificate` tests the refusals).
    let mut args = vec![
        "seal",
        "--all-envs",
        "--gitops",
        "argocd",
        "--bcrypt-cost",
        "10",
        "--accept-cert",
        "ai-dev,metal,break-glass",
    ];
    args.extend_from_slice(extra);
    let token = "c".repeat(40);
    let anthropic = format!("sk-ant-api03-{}", "a".repeat(40));
    let mut vars = vec![
        ("CLOUDFLARE_API_TOKEN", token.as_str()),
        ("ANTHROPIC_API_KEY", anthropic.as_str()),
    ];
    vars.extend_from_slice(env);
    run_in(root, &args, b"", &vars)
}

/// Every value in `dir` (a `sealed/` or `break-glass/` folder) opened with `key`: key ->
/// plaintext, or `None` when some value does not open.
fn open_all(dir: &Path, key: &str) -> Option<BTreeMap<String, String>> {
    reference::open_folder(dir, &reference::keys_from_file(&data(key)))
}

fn out(root: &Path, env: &str) -> PathBuf {
    root.join(format!("clusters/{env}/secret-source"))
}

#[test]
fn one_command_seals_every_environment_for_its_own_key() {
    let repo = fleet();
    let root = repo.path();
    let o = seal_all(root, &[], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    // One table: key x environment.
    assert!(
        err.lines()
            .any(|l| l.starts_with("KEY") && l.contains("ai-dev") && l.contains("metal")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("cloudflare-api-token")
            && l.contains("SKIPPED")
            && l.contains("CREATED")),
        "dns is off in ai-dev, on in metal: {err}"
    );

    // Each folder opens with its own key only.
    let mut values = BTreeMap::new();
    for (env, _, key) in ENVS {
        let sealed = out(root, env).join("sealed");
        let v = open_all(&sealed, key).unwrap_or_else(|| panic!("{env} opens with its key"));
        assert!(v.len() >= 16, "{env}: {v:?}");
        for (other, _, other_key) in ENVS {
            if other != env {
                assert!(
                    open_all(&sealed, other_key).is_none(),
                    "{env}'s values open with {other}'s key"
                );
            }
        }
        // The break-glass key opens every value of every environment, and they are the same.
        let bg = open_all(&out(root, env).join("break-glass"), BREAK_GLASS_KEY).unwrap();
        assert_eq!(bg, v, "{env}: the break-glass copies hold the same values");
        values.insert(env, v);
    }
    // Shared: one plaintext; random: each its own.
    assert_eq!(
        values["ai-dev"]["example-token"],
        values["metal"]["example-token"]
    );
    for k in ["litellm-master-key", "vllm-api-key", "dex-admin-password"] {
        assert_ne!(values["ai-dev"][k], values["metal"][k], "{k}");
    }
    // Each environment its own Dex copy, matching its own sealed password.
    for (env, _, _) in ENVS {
        let copy = std::fs::read_to_string(root.join(format!("secrets/{env}/dex-admin-password")))
            .unwrap();
        assert_eq!(copy, values[env]["dex-admin-password"], "{env}");
    }
    // The Argo CD Applications point at the right folders.
    for (env, _, _) in ENVS {
        let app = std::fs::read_to_string(root.join(format!(
            "clusters/{env}/catalog/platform-core/secret-source.yaml"
        )))
        .unwrap();
        assert!(
            app.contains(&format!("path: clusters/{env}/secret-source\n")),
            "{app}"
        );
    }
    // The break-glass copies are never applied: not in the kustomization.
    let k = std::fs::read_to_string(out(root, "metal").join("kustomization.yaml")).unwrap();
    assert!(!k.contains("break-glass"), "{k}");

    // A second run changes nothing.
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "fleet"]);
    let o = seal_all(root, &[], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("== ai-dev:") && stderr(&o).contains("up to date"));
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");

    // A fresh clone passes the single-environment checks, for each environment.
    let parent = tempfile::tempdir().unwrap();
    let clone = parent.path().join("clone");
    git(parent.path(), &["clone", "-q", p(root), "clone"]);
    for (env, _, key) in ENVS {
        let o = run_in(
            &clone,
            &["verify", "--env", env, "--private-key", p(&data(key))],
            b"",
            &[],
        );
        assert!(o.status.success(), "{env}: {}{}", stdout(&o), stderr(&o));
        let (ok, report) = validate(&[out(&clone, env).as_path()]);
        assert!(ok, "{env}: {report}");
        let built = kustomize(&out(&clone, env));
        assert!(
            built.iter().filter(|d| d["kind"] == "SealedSecret").count() >= 16,
            "{env}"
        );
        assert!(
            !clone.join(format!("secrets/{env}")).exists(),
            "no Dex copy committed"
        );
        // Every value is absent from every committed file.
        for v in values[env].values() {
            let hit = std::process::Command::new("git")
                .args(["grep", "-q", "-F", v])
                .current_dir(&clone)
                .status()
                .unwrap();
            assert!(!hit.success(), "{env}: a value is in a committed file");
        }
    }
}

/// A shared value some environments already have is read from there for the others, which
/// needs a key that opens it; without one the run stops before anything is written.
#[test]
fn a_shared_value_is_carried_to_an_environment_that_lacks_it() {
    let repo = fleet();
    let root = repo.path();
    // ai-dev alone first (as before the fleet file named metal); its certificate is pinned on
    // this first seal, the break-glass certificate only when accepted.
    let o = run_in(
        root,
        &[
            "seal",
            "--env",
            "ai-dev",
            "--bcrypt-cost",
            "10",
            "--accept-cert",
            "break-glass",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = seal_all(root, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("example-token is shared (sealstrap.yaml), ai-dev has it and metal not"),
        "{}",
        stderr(&o)
    );
    assert!(!out(root, "metal").exists(), "nothing written for metal");
    let o = seal_all(root, &["--private-key", p(&data(ENVS[0].2))], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = open_all(&out(root, "ai-dev").join("sealed"), ENVS[0].2).unwrap();
    let m = open_all(&out(root, "metal").join("sealed"), ENVS[1].2).unwrap();
    assert_eq!(a["example-token"], m["example-token"]);
    // The values sealed before the break-glass copies existed got theirs from the key.
    let bg = open_all(&out(root, "ai-dev").join("break-glass"), BREAK_GLASS_KEY).unwrap();
    assert_eq!(bg, a);
}

/// Killed after every seventh step of the fleet run (a spread over its ~90 steps: staging, the
/// commit line, the renames, the journal's removal; `tests/kill-loop.sh` kills at random moments
/// in CI), the next run leaves each environment complete: the fleet lands in one transaction
/// (every environment old, or every one new), so the shared value is the same in both.
#[test]
fn a_fleet_run_killed_at_every_seventh_step_leaves_each_environment_old_or_new() {
    let mut k = 1;
    let mut crashed = 0;
    loop {
        let repo = fleet();
        let root = repo.path();
        let step = k.to_string();
        let o = seal_all(root, &[], &[("SEALSTRAP_TEST_CRASH_AFTER", step.as_str())]);
        match o.status.code() {
            Some(99) => crashed += 1,
            Some(0) => break,
            other => panic!("step {k}: exit {other:?}: {}", stderr(&o)),
        }
        // Whatever landed is whole: an environment either has a complete folder or none.
        for (env, _, key) in ENVS {
            let sealed = out(root, env).join("sealed");
            if sealed.exists() && !root.join(".git/sealstrap-journal").exists() {
                assert!(open_all(&sealed, key).is_some(), "step {k}: {env}");
            }
        }
        let o = seal_all(root, &[], &[]);
        assert!(o.status.success(), "step {k}: recovery: {}", stderr(&o));
        assert!(!root.join(".git/sealstrap-journal").exists());
        for (env, _, key) in ENVS {
            let v = open_all(&out(root, env).join("sealed"), key).unwrap();
            assert!(v.len() >= 16, "step {k}: {env}");
            let copy =
                std::fs::read_to_string(root.join(format!("secrets/{env}/dex-admin-password")))
                    .unwrap();
            assert_eq!(copy, v["dex-admin-password"], "step {k}: {env}");
        }
        let a = open_all(&out(root, "ai-dev").join("sealed"), ENVS[0].2).unwrap();
        let m = open_all(&out(root, "metal").join("sealed"), ENVS[1].2).unwrap();
        assert_eq!(a["example-token"], m["example-token"], "step {k}");
        // Several steps a time: the fleet's write is ~90 steps.
        k += 7;
        assert!(k < 400, "never got through");
    }
    assert!(crashed >= 8, "only {crashed} runs were stopped");
}

/// The fleet's state as a reviewer sees it: every file but `.git` and the Dex copies.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with(".git") || rel.starts_with("secrets") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn fingerprint(rel: &str) -> String {
    sealstrap::cert::parse(&std::fs::read(data(rel)).unwrap())
        .unwrap()
        .fingerprint
}

/// What a pull request can change cannot make the operator's next run seal for a certificate
/// nobody approved: a folder the fleet file does not declare, a swapped environment
/// certificate, a swapped break-glass certificate are each refused, naming the file and the
/// fingerprints, with nothing written; accepted explicitly (`--accept-cert NAME`), the run seals
/// and writes the new pin for review.
#[test]
fn pins_refuse_an_unapproved_certificate_until_accepted() {
    let repo = fleet();
    let root = repo.path();
    let seal = |extra: &[&str]| {
        let mut args = vec![
            "seal",
            "--all-envs",
            "--bcrypt-cost",
            "10",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let token = "c".repeat(40);
        let anthropic = format!("sk-ant-api03-{}", "a".repeat(40));
        run_in(
            root,
            &args,
            b"",
            &[
                ("CLOUDFLARE_API_TOKEN", token.as_str()),
                ("ANTHROPIC_API_KEY", anthropic.as_str()),
            ],
        )
    };
    // Nothing pinned yet: a fleet run never pins on first use.
    let before = tree(root);
    let o = seal(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(tree(root), before, "nothing was written");
    let o = seal(&["--accept-cert", "ai-dev,metal,break-glass"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The summary names every certificate it sealed for, break-glass included.
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let bg = fingerprint(BREAK_GLASS_CERT);
    for (i, (env, cert, _)) in ENVS.iter().enumerate() {
        let e = &doc["environments"][i];
        assert_eq!(e["environment"], *env);
        assert_eq!(e["certificate_fingerprint"], fingerprint(cert));
        assert_eq!(e["break_glass_fingerprint"], bg.as_str());
    }
    let pins = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    for (env, cert, _) in ENVS {
        assert!(
            pins.contains(&format!(
                "  {env}:\n    certificate: {}\n",
                fingerprint(cert)
            )),
            "{pins}"
        );
    }
    assert!(pins.contains(&format!("  break-glass:\n    certificate: {bg}\n")));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "sealed and pinned"]);

    // An attacker's certificate: a key made outside the repository.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = run_in(
        elsewhere.path(),
        &["key", "new", "--passphrase", "--out", "attacker"],
        b"",
        &[("SEALSTRAP_PASSPHRASE", "attacker")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let other = elsewhere.path().join("attacker/controller.crt");
    let other_fp = sealstrap::cert::parse(&std::fs::read(&other).unwrap())
        .unwrap()
        .fingerprint;
    let refused = |label: &str, want: &[String]| {
        let before = tree(root);
        let o = seal(&[]);
        assert_eq!(o.status.code(), Some(1), "{label}: {}", stderr(&o));
        for w in want {
            assert!(
                stderr(&o).contains(w.as_str()),
                "{label}: {w}: {}",
                stderr(&o)
            );
        }
        assert_eq!(tree(root), before, "{label}: nothing was written");
        snapshot::assert_snapshot(
            &format!("errors/pin-{label}"),
            &snapshot::normalize(&stderr(&o), &[(root, "[ROOT]")]).replace(&other_fp, "[ATTACKER]"),
        );
    };
    // 1. A pull request adds a folder with its certificate.
    std::fs::create_dir_all(root.join("clusters/staging")).unwrap();
    std::fs::copy(&other, root.join("clusters/staging/controller.crt")).unwrap();
    std::fs::create_dir_all(root.join("clusters/staging/secret-source")).unwrap();
    std::fs::copy(
        &other,
        root.join("clusters/staging/secret-source/controller.crt"),
    )
    .unwrap();
    refused(
        "undeclared-folder",
        &["clusters/staging/".into(), other_fp.clone()],
    );
    std::fs::remove_dir_all(root.join("clusters/staging")).unwrap();
    // 2. A pull request swaps an environment's certificate.
    std::fs::copy(&other, root.join("clusters/metal/controller.crt")).unwrap();
    refused(
        "swapped-environment-certificate",
        &[
            "clusters/metal/controller.crt".into(),
            other_fp.clone(),
            fingerprint(ENVS[1].1),
            "--accept-cert metal".into(),
        ],
    );
    git(root, &["checkout", "--", "clusters/metal/controller.crt"]);
    // 3. A pull request swaps the break-glass certificate.
    std::fs::copy(&other, root.join("recovery/break-glass.crt")).unwrap();
    refused(
        "swapped-break-glass-certificate",
        &[
            "recovery/break-glass.crt".into(),
            other_fp.clone(),
            bg.clone(),
            "--accept-cert break-glass".into(),
        ],
    );
    // Accepted: sealed, and the new pin is the one change to review in sealstrap.yaml.
    let o = seal(&["--accept-cert", "break-glass"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pins = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    assert!(pins.contains(&format!(
        "  break-glass:\n    certificate: {}\n",
        other_fp.clone()
    )));
    // 4. Two environments with one certificate, or the break-glass certificate of one.
    std::fs::copy(data(ENVS[0].1), root.join("clusters/metal/controller.crt")).unwrap();
    let o = seal(&["--accept-cert", "metal"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("seal for one certificate"),
        "{}",
        stderr(&o)
    );
    git(root, &["checkout", "--", "clusters/metal/controller.crt"]);
    std::fs::copy(data(ENVS[0].1), root.join("recovery/break-glass.crt")).unwrap();
    let o = seal(&["--accept-cert", "break-glass"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is ai-dev's own certificate"),
        "{}",
        stderr(&o)
    );
}

/// A recipient a pull request adds to the committed recipients file would receive every
/// controller key on the next `key new`: every run lists the recipients, and one sealstrap.yaml
/// does not pin is refused until accepted (`--accept-recipients`).
#[test]
fn pins_refuse_a_recipient_nobody_approved() {
    let dir = platform_checkout();
    let root = dir.path();
    let ids = tempfile::tempdir().unwrap();
    let (alice_id, alice) = age_identity(ids.path(), "alice.txt");
    let (_, mallory) = age_identity(ids.path(), "mallory.txt");
    let o = run_in(
        root,
        &["key", "new", "--env", "metal", "-r", &alice],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&alice),
        "the recipients are listed: {}",
        stderr(&o)
    );
    let pins = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    assert!(
        pins.contains(&"  metal:\n    certificate: sha256:".to_string())
            && pins.contains(&format!("    recipients:\n      - {alice}\n")),
        "{pins}"
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "metal's key"]);
    // The pull request: one more line in the recipients file.
    let file = root.join("clusters/metal/secret-source/controller-keys.recipients");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("{mallory}\n"));
    std::fs::write(&file, text).unwrap();
    let escrow = root.join("clusters/metal/secret-source/controller-keys.age");
    let before = std::fs::read(&escrow).unwrap();
    let o = run_in(
        root,
        &["key", "new", "--env", "metal", "-i", p(&alice_id)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&mallory), "{}", stderr(&o));
    assert!(stderr(&o).contains("--accept-recipients"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&escrow).unwrap(),
        before,
        "nothing re-encrypted"
    );
    // Accepted: re-encrypted to both, and both pinned.
    let o = run_in(
        root,
        &[
            "key",
            "new",
            "--env",
            "metal",
            "-i",
            p(&alice_id),
            "--accept-recipients",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let pins = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    assert!(pins.contains(&mallory), "{pins}");
}

/// `key new -r` on an escrow that already has recipients names them in full: one the pins hold
/// and the flags leave out is refused (it would silently lose the escrow), naming it; without
/// `-r` the committed recipients are kept; `--accept-recipients` removes one on purpose.
#[test]
fn key_new_with_fewer_recipients_is_refused_until_accepted() {
    let dir = platform_checkout();
    let root = dir.path();
    let ids = tempfile::tempdir().unwrap();
    let (alice_id, alice) = age_identity(ids.path(), "alice.txt");
    let (bob_id, bob) = age_identity(ids.path(), "bob.txt");
    let key_new = |extra: &[&str]| {
        let mut args = vec!["key", "new", "--env", "metal"];
        args.extend_from_slice(extra);
        run_in(root, &args, b"", &[])
    };
    let o = key_new(&["-r", &alice, "-r", &bob]);
    assert!(o.status.success(), "{}", stderr(&o));
    let escrow = root.join("clusters/metal/secret-source/controller-keys.age");
    let before = std::fs::read(&escrow).unwrap();
    // Day 2 as a custodian might type it: only their own recipient.
    let o = key_new(&["-r", &alice, "-i", p(&alice_id)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&bob),
        "names who would lose it: {}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&escrow).unwrap(),
        before,
        "nothing re-encrypted"
    );
    // Without -r: both kept, and bob still opens the escrow.
    let o = key_new(&["-i", p(&alice_id)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(
        root,
        &["key", "list", "--env", "metal", "-i", p(&bob_id)],
        b"",
        &[],
    );
    assert!(o.status.success(), "bob still opens it: {}", stderr(&o));
    // The same folder spelled another way is the same pin (it once became a pin of its own, or
    // another environment's).
    let o = run_in(
        root,
        &[
            "key",
            "new",
            "--out",
            "clusters/ai-dev/../metal/secret-source",
            "-r",
            &alice,
            "-i",
            p(&alice_id),
        ],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&bob), "{}", stderr(&o));
    let before = std::fs::read(&escrow).unwrap();
    // A pull request that shortens the committed recipients file.
    let file = root.join("clusters/metal/secret-source/controller-keys.recipients");
    let committed = std::fs::read_to_string(&file).unwrap();
    let shortened: String = committed
        .lines()
        .filter(|l| !l.contains(&bob))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, &shortened).unwrap();
    let o = key_new(&["-i", p(&alice_id)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&bob), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("restore the recipients file"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&file, &committed).unwrap();
    // A passphrase would take it from both.
    let o = run_in(
        root,
        &[
            "key",
            "new",
            "--env",
            "metal",
            "--passphrase",
            "-i",
            p(&alice_id),
        ],
        b"",
        &[("SEALSTRAP_PASSPHRASE", "correct horse battery staple")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&alice) && stderr(&o).contains(&bob),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&escrow).unwrap(),
        before,
        "nothing re-encrypted"
    );
    // Removing bob on purpose.
    let o = key_new(&["-r", &alice, "-i", p(&alice_id), "--accept-recipients"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pins = std::fs::read_to_string(root.join("sealstrap.yaml")).unwrap();
    assert!(!pins.contains(&bob), "{pins}");
}
