//! Crash safety of every multi-file write (issue 12): the write aborts (`exit`, through the
//! `SEALSTRAP_TEST_CRASH_AFTER` hook) after each of its steps in turn, and the next run must
//! leave the folder complete and valid: every value decrypts and follows the contract, the Dex
//! copy matches the sealed password, no temporary file or journal is left, and every value that
//! existed before keeps its value. Also: two runs at once on one folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

const CERT: &str = "vectors/keys/controller-2048.crt.pem";
const KEY: &str = "vectors/keys/controller-2048.key.pem";

fn run_cmd(dir: &Path, cmd: &str, crash: Option<u64>) -> std::process::Output {
    let cert = data(CERT);
    let args = [cmd, "--cert", p(&cert), "--bcrypt-cost", "10"];
    match crash {
        Some(k) => run_in(
            dir,
            &args,
            b"",
            &[("SEALSTRAP_TEST_CRASH_AFTER", k.to_string().as_str())],
        ),
        None => run_in(dir, &args, b"", &[]),
    }
}

/// Every value in the folder: backend key -> plaintext.
fn values(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let keys = reference::keys_from_file(&data(KEY));
    reference::open_folder(&out.join("sealed"), &keys)
        .expect("every value opens")
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect()
}

/// Files anywhere under `dir` (outside .git) that a finished run must not leave.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if sealstrap::output::is_temp_name(&name) || name == ".sealstrap-journal" {
                out.push(e.path());
            }
        }
    }
    // In a work tree the journal lives in .git.
    let journal = dir.join(".git/sealstrap-journal");
    if journal.exists() {
        out.push(journal);
    }
    out
}

/// The state every run must end in.
fn assert_complete(dir: &Path, what: &str) -> BTreeMap<String, Vec<u8>> {
    let out = dir.join("secret-source");
    assert_eq!(leftovers(dir), Vec::<PathBuf>::new(), "{what}: leftovers");
    let v = run_in(
        dir,
        &["verify", "--private-key", p(&data(KEY)), p(&out)],
        b"",
        &[],
    );
    assert!(
        v.status.success(),
        "{what}: verify: {}{}",
        stdout(&v),
        stderr(&v)
    );
    let vals = values(&out);
    assert_eq!(vals.len(), 15, "{what}: every random value sealed");
    let copy = std::fs::read(dir.join("secrets/dex-admin-password")).unwrap();
    assert_eq!(copy, vals["dex-admin-password"], "{what}: Dex copy matches");
    let (ok, report) = validate(&[out.as_path()]);
    assert!(ok, "{what}: {report}");
    vals
}

/// Runs `cmd` crashing after step 1, 2, ... until a run gets through; after each crash the next
/// plain `seal` must leave a complete folder. `setup` makes the starting state.
fn crash_every_step(cmd: &str, setup: &dyn Fn(&Path)) -> u64 {
    let rolled_forward = std::cell::Cell::new(0);
    let mut k = 1;
    loop {
        let dir = git_repo();
        setup(dir.path());
        let before = if dir.path().join("secret-source/sealed").exists() {
            values(&dir.path().join("secret-source"))
        } else {
            BTreeMap::new()
        };
        let o = run_cmd(dir.path(), cmd, Some(k));
        match o.status.code() {
            Some(99) => {}
            Some(0) => {
                assert!(rolled_forward.get() > 0, "{cmd}: no crash left a journal");
                return k - 1;
            }
            other => panic!("{cmd} step {k}: exit {other:?}: {}", stderr(&o)),
        }
        let journal = dir.path().join(".git/sealstrap-journal");
        if journal.exists() {
            // Read-only commands refuse a folder with an unfinished write.
            let v = run_in(
                dir.path(),
                &["verify", "--private-key", p(&data(KEY))],
                b"",
                &[],
            );
            assert_eq!(v.status.code(), Some(1), "{cmd} step {k}");
            assert!(stderr(&v).contains("interrupted write"), "{}", stderr(&v));
            rolled_forward.set(rolled_forward.get() + 1);
        }
        let o = run_cmd(dir.path(), "seal", None);
        assert!(
            o.status.success(),
            "{cmd} step {k}: recovery run: {}",
            stderr(&o)
        );
        assert!(!journal.exists(), "{cmd} step {k}: the journal survived");
        let after = assert_complete(dir.path(), &format!("{cmd} crashed after step {k}"));
        for (key, old) in &before {
            let rotated = cmd == "reset-dex-admin" && key.starts_with("dex-admin-");
            if !rotated {
                assert_eq!(&after[key], old, "{cmd} step {k}: {key} changed");
            }
        }
        if cmd == "reset-dex-admin" {
            // The pair moved together: both old or both new.
            let same_pw = after["dex-admin-password"] == before["dex-admin-password"];
            let same_hash = after["dex-admin-hash"] == before["dex-admin-hash"];
            assert_eq!(same_pw, same_hash, "{cmd} step {k}: half a Dex pair");
        }
        k += 1;
        assert!(k < 200, "{cmd} never got through");
    }
}

#[test]
fn a_first_seal_killed_after_any_step_is_finished_or_undone_by_the_next_run() {
    let steps = crash_every_step("seal", &|_| {});
    // 22 files staged, the journal, 22 renames, the journal's removal.
    assert!(steps >= 40, "only {steps} steps were exercised");
}

#[test]
fn reset_dex_admin_killed_after_any_step_never_splits_the_pair() {
    let steps = crash_every_step("reset-dex-admin", &|dir| {
        let o = run_cmd(dir, "seal", None);
        assert!(o.status.success(), "{}", stderr(&o));
    });
    assert!(steps >= 5, "only {steps} steps were exercised");
}

#[test]
fn scan_reports_an_interrupted_write_and_reseal_finishes_it_before_resealing() {
    // Crash a first seal after its journal is written, with some renames done.
    let dir = (20..200)
        .find_map(|k| {
            let dir = git_repo();
            let o = run_cmd(dir.path(), "seal", Some(k));
            assert_eq!(o.status.code(), Some(99), "step {k}: {}", stderr(&o));
            let journal = dir.path().join(".git/sealstrap-journal");
            // Decided (renames under way): some sealed file is in place.
            let renamed = std::fs::read_dir(dir.path().join("secret-source/sealed"))
                .map(|d| {
                    d.flatten()
                        .any(|e| !e.file_name().to_string_lossy().starts_with('.'))
                })
                .unwrap_or(false);
            (journal.exists() && renamed).then_some(dir)
        })
        .expect("some step leaves a journal");
    let scan = run_in(dir.path(), &["scan", "secret-source"], b"", &[]);
    assert_eq!(scan.status.code(), Some(1), "{}", stderr(&scan));
    assert!(
        stdout(&scan).contains(".git/sealstrap-journal:0: interrupted-write"),
        "{}",
        stdout(&scan)
    );
    // reseal to another certificate finishes the seal first, then reseals every file.
    let new_key = data("vectors/keys/controller-4096.key.pem");
    let o = run_in(
        dir.path(),
        &[
            "reseal",
            "--private-key",
            p(&data(KEY)),
            "--cert",
            p(&data("vectors/keys/controller-4096.crt.pem")),
            "secret-source/sealed",
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("finished an interrupted write"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("15 file(s) resealed"), "{}", stderr(&o));
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
    let v = run_in(
        dir.path(),
        &["verify", "--private-key", p(&new_key), "secret-source"],
        b"",
        &[],
    );
    assert!(v.status.success(), "{}{}", stdout(&v), stderr(&v));
}

#[test]
fn a_folder_where_a_file_goes_fails_before_anything_is_replaced() {
    let dir = git_repo();
    std::fs::create_dir_all(dir.path().join("secret-source/namespace.yaml/x")).unwrap();
    let o = run_cmd(dir.path(), "seal", None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("secret-source/namespace.yaml is a folder"),
        "{}",
        stderr(&o)
    );
    // Nothing landed: no sealed values, no Dex copy, no .gitignore.
    assert!(!dir.path().join("secret-source/sealed").exists());
    assert!(!dir.path().join("secrets").exists());
    assert!(!dir.path().join(".gitignore").exists());
    assert_eq!(leftovers(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn concurrent_runs_on_one_folder_end_in_one_consistent_state() {
    for round in 0..20 {
        let dir = git_repo();
        let spawn = |cmd: &str| {
            let cert = data(CERT);
            std::process::Command::new(bin())
                .args([cmd, "--cert", p(&cert), "--bcrypt-cost", "10"])
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        // Odd rounds race a seal against a reset of the Dex pair.
        let second = if round % 2 == 0 {
            "seal"
        } else {
            "reset-dex-admin"
        };
        if round % 2 == 1 {
            let o = run_cmd(dir.path(), "seal", None);
            assert!(o.status.success());
        }
        let a = spawn("seal");
        let b = spawn(second);
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(
            a.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert!(
            b.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&b.stderr)
        );
        assert_complete(dir.path(), &format!("round {round}"));
        let gi = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(gi.lines().count(), 1, "round {round}: {gi:?}");
    }
}

/// A run killed between creating the journal and finishing its first line leaves it empty or
/// torn: it names no write, so it blocks nothing (verify, scan, the next write) and the next
/// write removes it, saying so.
#[test]
fn an_empty_or_torn_journal_names_no_write() {
    for content in [&b""[..], b"sealstrap-jour"] {
        let dir = git_repo();
        let o = run_cmd(dir.path(), "seal", None);
        assert!(o.status.success(), "{}", stderr(&o));
        let journal = dir.path().join(".git/sealstrap-journal");
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&journal)
                .unwrap();
            std::io::Write::write_all(&mut f, content).unwrap();
        }
        let o = run_in(
            dir.path(),
            &["verify", "--private-key", p(&data(KEY))],
            b"",
            &[],
        );
        assert!(o.status.success(), "{content:?}: {}", stderr(&o));
        let o = run_in(dir.path(), &["scan"], b"", &[]);
        assert!(o.status.success(), "{content:?}: {}", stdout(&o));
        let o = run_cmd(dir.path(), "seal", None);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("an interrupted run left it empty, naming no write"),
            "{}",
            stderr(&o)
        );
        assert!(!journal.exists());
    }
}

/// Outside a git work tree the journal sits beside the files: a planted one that only removes
/// files (the Dex copy, the write-once salt) is refused whole, as no sealstrap write only
/// removes; a real write's removals, finished by recovery, are each said.
#[test]
fn a_removal_only_journal_is_refused_and_finished_removals_are_said() {
    use sealstrap::journal::{Scope, entry, plant};
    let dir = tempfile::tempdir().unwrap();
    let o = run_cmd(dir.path(), "seal", None);
    assert!(o.status.success(), "{}", stderr(&o));
    let salt = dir
        .path()
        .join("secret-source/sealed/litellm-salt-key.yaml");
    // The run's scope outside git: the output folder (its anchor), then the output and secrets
    // folders.
    let out = dir.path().join("secret-source");
    let scope = Scope::new(&[out.clone(), out.clone(), dir.path().join("secrets")]).unwrap();
    plant(
        &scope,
        &[
            entry("remove", 0, Path::new("sealed/litellm-salt-key.yaml"), None),
            "commit".into(),
        ],
    )
    .unwrap();
    assert!(scope.journal.exists(), "{}", scope.journal.display());
    let o = run_cmd(dir.path(), "seal", None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("it only removes files, which no sealstrap write does"),
        "{}",
        stderr(&o)
    );
    assert!(salt.exists(), "nothing was touched");
}
