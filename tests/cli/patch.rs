//! `sealstrap patch-externalsecrets` on fixture trees written for it.

use std::path::{Path, PathBuf};

use crate::common::*;

fn fixture_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&data("externalsecrets/tree"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The only differences are added `property: value` lines or `, property: value` inserted in a
/// flow mapping; returns how many of each.
fn only_property_additions(old: &str, new: &str) -> (usize, usize) {
    let old: Vec<&str> = old.split('\n').collect();
    let new: Vec<&str> = new.split('\n').collect();
    let (mut i, mut j, mut added, mut inline) = (0, 0, 0, 0);
    while j < new.len() {
        if i < old.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if new[j].trim_end_matches('\r').trim() == "property: value" {
            added += 1;
            j += 1;
        } else if i < old.len() && {
            let n = new[j];
            n.len() == old[i].len() + ", property: value".len()
                && n.match_indices(", property: value").any(|(at, _)| {
                    format!("{}{}", &n[..at], &n[at + ", property: value".len()..]) == old[i]
                })
        } {
            inline += 1;
            i += 1;
            j += 1;
        } else {
            panic!("unexpected change at new line {}: {:?}", j + 1, new[j]);
        }
    }
    assert_eq!(i, old.len(), "lines were removed");
    (added, inline)
}

#[test]
fn patches_every_style_and_changes_nothing_else() {
    let dir = fixture_tree();
    let o = run_in(dir.path(), &["patch-externalsecrets", "."], b"", &[]);
    // The broken file fails the run, but every other file is processed.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("misc/broken.yaml:9: invalid YAML"), "{err}");
    assert!(err.contains("8 file(s) read, 6 changed, 1 failed"), "{err}");

    let original = data("externalsecrets/tree");
    let mut totals = (0, 0);
    for f in files(dir.path()) {
        let rel = f.strip_prefix(dir.path()).unwrap();
        let before = std::fs::read_to_string(original.join(rel)).unwrap();
        let after = std::fs::read_to_string(&f).unwrap();
        let (a, b) = only_property_additions(&before, &after);
        let expect = match rel.to_str().unwrap() {
            "litellm/externalsecret.yaml" => (4, 1),
            "identity/dex.yaml" => (2, 2),
            "identity/grafana-crlf.yaml" => (1, 0),
            "identity/oauth2-proxy.yml" => (0, 1),
            "misc/v1beta1.yaml" => (1, 0),
            // The store-wide convention: a key outside the contract gets the property too.
            "misc/other-property-and-unknown-key.yaml" => (1, 0),
            // Already patched, a broken file, .git: untouched.
            _ => (0, 0),
        };
        assert_eq!((a, b), expect, "{}", rel.display());
        totals.0 += a;
        totals.1 += b;
    }
    assert_eq!(totals, (9, 4));

    // CRLF stays CRLF everywhere in that file.
    let crlf = std::fs::read_to_string(dir.path().join("identity/grafana-crlf.yaml")).unwrap();
    assert_eq!(crlf.matches("\r\n").count(), crlf.matches('\n').count());
    assert!(crlf.contains("      property: value\r\n"));
    // 4-space indentation is followed.
    let dex = std::fs::read_to_string(dir.path().join("identity/dex.yaml")).unwrap();
    assert!(dex.contains("                key: dex-admin-hash\n                property: value\n"));
    // Comments next to edited lines stay where they were.
    let l = std::fs::read_to_string(dir.path().join("litellm/externalsecret.yaml")).unwrap();
    assert!(l.contains("        key: litellm-master-key # starts with sk-\n        property: value\n        conversionStrategy: Default\n"));
    assert!(l.contains(
        "        # write-once!\n        key: litellm-salt-key\n        property: value\n"
    ));
    // Another store and another kind in the same file are untouched.
    assert!(l.contains("data:\n  remoteRef: \"not an ExternalSecret\"\n"));
    assert!(l.ends_with("  - secretKey: token\n    remoteRef:\n      key: vllm-api-key\n"));

    // Reports: other property, unknown key, dataFrom, v1beta1.
    let out = stdout(&o);
    assert!(out.contains("misc/other-property-and-unknown-key.yaml:14: experience/odd note: remoteRef litellm-master-key names property \"master\""), "{out}");
    assert!(out.contains("misc/other-property-and-unknown-key.yaml:18: experience/odd note: remoteRef key \"my-team-token\" is not a key of the secret contract"), "{out}");
    assert!(out.contains("misc/other-property-and-unknown-key.yaml:20: experience/odd note: dataFrom.extract copies every data key"), "{out}");
    assert!(out.contains("misc/v1beta1.yaml:1: n8n/n8n-core-secrets note: apiVersion external-secrets.io/v1beta1 is no longer served"), "{out}");

    // A second run changes nothing (the broken file still fails).
    let snapshot: Vec<(PathBuf, Vec<u8>)> = files(dir.path())
        .into_iter()
        .map(|f| {
            let b = std::fs::read(&f).unwrap();
            (f, b)
        })
        .collect();
    let o = run_in(dir.path(), &["patch-externalsecrets", "."], b"", &[]);
    assert!(stderr(&o).contains("0 changed, 1 failed"), "{}", stderr(&o));
    for (f, b) in snapshot {
        assert_eq!(std::fs::read(&f).unwrap(), b, "{}", f.display());
    }

    // Every patched ExternalSecret is valid for ESO's CRD (v1beta1 is not served any more, and
    // the broken file is not YAML).
    let to_validate: Vec<PathBuf> = files(dir.path())
        .into_iter()
        .filter(|f| {
            let s = f.to_str().unwrap();
            !s.contains("/.git/") && !s.ends_with("broken.yaml") && !s.ends_with("v1beta1.yaml")
        })
        .collect();
    let refs: Vec<&Path> = to_validate.iter().map(PathBuf::as_path).collect();
    let (ok, report) = validate(&refs);
    assert!(ok, "{report}");
}

#[test]
fn check_lists_missing_properties_and_changes_nothing() {
    let dir = fixture_tree();
    let target = dir.path().join("litellm");
    let before = std::fs::read(target.join("externalsecret.yaml")).unwrap();
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--check", p(&target)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.matches("missing property").count(), 5, "{out}");
    assert!(stderr(&o).contains(
        "5 consumer(s) of ClusterSecretStore secret-store read it without property: value"
    ));
    assert_eq!(
        std::fs::read(target.join("externalsecret.yaml")).unwrap(),
        before
    );

    let o = run_in(dir.path(), &["patch-externalsecrets", p(&target)], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--check", p(&target)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let already = dir.path().join("misc/already-patched.yaml");
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--check", p(&already)],
        b"",
        &[],
    );
    assert!(o.status.success());
}

#[test]
fn diff_prints_a_patch_and_writes_nothing() {
    let dir = fixture_tree();
    let f = dir.path().join("identity/dex.yaml");
    let before = std::fs::read(&f).unwrap();
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--diff", p(&f)],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let diff = stdout(&o);
    // Paths relative to where it runs, as git apply and patch -p1 take them.
    assert!(
        diff.starts_with("--- a/identity/dex.yaml\n+++ b/identity/dex.yaml\n@@ "),
        "{diff}"
    );
    assert_eq!(
        diff.lines()
            .filter(|l| l.starts_with("+ ") || l.starts_with("+\t"))
            .count(),
        4,
        "{diff}"
    );

    // The diff applies with patch(1) and gives the same result as writing.
    let patched = dir.path().join("patched");
    std::fs::create_dir(&patched).unwrap();
    let copy = patched.join("dex.yaml");
    std::fs::write(&copy, &before).unwrap();
    let status = std::process::Command::new("patch")
        .arg(p(&copy))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(diff.as_bytes())?;
            c.wait()
        });
    // patch(1) is part of the machine image (Debian's `patch`).
    let s = status.expect("patch(1) is needed for this test");
    assert!(s.success());
    let o = run_in(dir.path(), &["patch-externalsecrets", p(&f)], b"", &[]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&f).unwrap());
}

#[test]
fn other_store_and_property_flags() {
    let dir = fixture_tree();
    let f = dir.path().join("litellm/externalsecret.yaml");
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--store", "nope", p(&f)],
        b"",
        &[],
    );
    assert!(o.status.success());
    assert!(stderr(&o).contains("0 changed"));
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--property", "bad/key", p(&f)],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "missing-dir"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read missing-dir"));
}

/// Issue 12: links inside a walked folder were skipped silently (so --check passed), a link
/// given by name was replaced by a regular file, a read-only file was rewritten, and a failed
/// write counted as a change.
#[test]
fn links_read_only_files_and_modes() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let es = std::fs::read_to_string(data("externalsecrets/tree/misc/already-patched.yaml"))
        .unwrap()
        .replace(", property: value", "")
        .replace("property: value", "");
    assert!(!es.contains("property"), "fixture without property");
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(tree.join("apps")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(tree.join("apps/real.yaml"), &es).unwrap();
    std::fs::set_permissions(
        tree.join("apps/real.yaml"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    symlink("apps/real.yaml", tree.join("inside-link.yaml")).unwrap();
    std::fs::write(outside.join("far.yaml"), &es).unwrap();
    symlink(outside.join("far.yaml"), tree.join("outside-link.yaml")).unwrap();

    // --check: the link out of the tree is a finding, and named.
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--check", "tree"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("outside-link.yaml: skipped: a link to"),
        "{}",
        stdout(&o)
    );

    // Patch: the target inside the tree is patched once, through its own path; the links stay
    // links; the file keeps its mode; the outside file is untouched.
    let o = run_in(dir.path(), &["patch-externalsecrets", "tree"], b"", &[]);
    assert!(
        stderr(&o).contains("inside-link.yaml is a link to"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("1 changed"), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(tree.join("apps/real.yaml"))
            .unwrap()
            .contains("property: value")
    );
    assert!(
        std::fs::symlink_metadata(tree.join("inside-link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::metadata(tree.join("apps/real.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    assert_eq!(
        std::fs::read_to_string(outside.join("far.yaml")).unwrap(),
        es
    );

    // A link given by name: its target is patched, the link stays a link.
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "tree/outside-link.yaml"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(tree.join("outside-link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(outside.join("far.yaml"))
            .unwrap()
            .contains("property: value")
    );

    // A read-only file is refused and left alone, and not counted as changed.
    let ro = dir.path().join("ro.yaml");
    std::fs::write(&ro, &es).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let o = run_in(dir.path(), &["patch-externalsecrets", "ro.yaml"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is read-only"), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 changed, 1 failed"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), es);

    // Several files left alone: a FAIL line each, then one error from the one reporter, with
    // every distinct hint once.
    std::fs::write(dir.path().join("broken.yaml"), "a: [unclosed\n").unwrap();
    std::fs::write(dir.path().join("latin1.yaml"), b"a: \xe9\n").unwrap();
    let o = run_in(
        dir.path(),
        &[
            "patch-externalsecrets",
            "ro.yaml",
            "broken.yaml",
            "latin1.yaml",
        ],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("FAIL ")).count(),
        3,
        "{err}"
    );
    assert_eq!(err.matches("sealstrap: error:").count(), 1, "{err}");
    assert!(err.contains("broken.yaml:"), "{err}");
    for hint in [
        "chmod u+w",
        "fix the YAML at that line",
        "save the file as UTF-8",
    ] {
        assert_eq!(err.matches(hint).count(), 1, "{hint}: {err}");
    }
}

/// `--diff` output applies with `git apply` and with `patch -p1`, without fuzz, for every layout:
/// a `./` path, CRLF line endings, and a last line without a line ending that gets a property
/// inserted after it. Applying gives exactly what writing gives.
#[test]
fn diff_applies_with_git_apply_and_patch_p1() {
    let dir = tempfile::tempdir().unwrap();
    let es = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a, namespace: n}\nspec:\n  secretStoreRef: {kind: ClusterSecretStore, name: secret-store}\n  data:\n    - secretKey: k\n      remoteRef:\n        key: vllm-api-key";
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(dir.path().join("apps/no-eol.yaml"), es).unwrap();
    std::fs::write(
        dir.path().join("apps/crlf.yaml"),
        format!("{es}\n").replace('\n', "\r\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("apps/plain.yaml"),
        format!("# head\n{es}\n# tail\n"),
    )
    .unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "x",
        ],
    );
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--diff", "./apps"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let diff = o.stdout.clone();
    let text = String::from_utf8_lossy(&diff).into_owned();
    assert!(!text.contains("a/./"), "{text}");
    assert!(text.contains("\\ No newline at end of file"), "{text}");
    std::fs::write(dir.path().join("p.diff"), &diff).unwrap();
    let apply = |args: &[&str]| {
        let o = std::process::Command::new(args[0])
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{} is needed for this test: {e}", args[0]));
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    apply(&["git", "apply", "--check", "p.diff"]);
    let out = apply(&["patch", "-p1", "--dry-run", "-F0", "-i", "p.diff"]);
    assert!(!out.contains("fuzz") && !out.contains("offset"), "{out}");
    apply(&["git", "apply", "p.diff"]);
    let applied: Vec<Vec<u8>> = ["no-eol", "crlf", "plain"]
        .iter()
        .map(|n| std::fs::read(dir.path().join(format!("apps/{n}.yaml"))).unwrap())
        .collect();
    apply(&["git", "checkout", "--", "apps"]);
    let o = run_in(dir.path(), &["patch-externalsecrets", "apps"], b"", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (i, n) in ["no-eol", "crlf", "plain"].iter().enumerate() {
        assert_eq!(
            std::fs::read(dir.path().join(format!("apps/{n}.yaml"))).unwrap(),
            applied[i],
            "{n}"
        );
    }
    // And a second patch changes nothing, so --check passes.
    let o = run_in(
        dir.path(),
        &["patch-externalsecrets", "--check", "apps"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Issue 29: in the platform, patch-externalsecrets names files as seal does: relative to the
/// folder it runs in (the repository root), never by their absolute path.
#[test]
fn paths_are_named_as_seal_names_them() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&data("platform"), dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let o = run_in(dir.path(), &["patch-externalsecrets", "--check"], b"", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let root = dir.path().to_string_lossy().to_string();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        all.contains("platform/litellm/externalsecret.yaml:"),
        "{all}"
    );
    assert!(!all.contains(&root), "absolute paths in:\n{all}");
}
