//! What sealstrap says to people (errors, hints, summaries) is kept in snapshot files under
//! `tests/cli/snapshots/`, one file per case, compared byte for byte: a change of wording is one
//! reviewed update of the files (`SEALSTRAP_UPDATE_SNAPSHOTS=1 cargo test`), not a hunt through
//! assertions. Logic is asserted on `--output json` and on files; a snapshot holds prose.

use std::path::Path;

/// Text with the parts that differ from run to run made stable: each `(path, name)` replaced
/// (temporary folders become `[ROOT]`, say), and sealed values masked.
pub fn normalize(text: &str, paths: &[(&Path, &str)]) -> String {
    let mut out = super::mask_sealed(text);
    for (p, name) in paths {
        // The canonical form first (macOS /private/var, a symlinked /tmp), then as given.
        if let Ok(c) = std::fs::canonicalize(p) {
            out = out.replace(c.to_string_lossy().as_ref(), name);
        }
        out = out.replace(p.to_string_lossy().as_ref(), name);
    }
    out
}

/// Compares `actual` with `tests/cli/snapshots/NAME.txt`; with `SEALSTRAP_UPDATE_SNAPSHOTS` set,
/// writes it instead. A missing snapshot fails (never a silent pass).
#[track_caller]
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = super::root().join(format!("tests/cli/snapshots/{name}.txt"));
    if std::env::var_os("SEALSTRAP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: record it with SEALSTRAP_UPDATE_SNAPSHOTS=1 cargo test, review it, commit it\n--- actual ---\n{actual}",
            path.display()
        )
    });
    if want != actual {
        let first = want
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs at line {} (SEALSTRAP_UPDATE_SNAPSHOTS=1 cargo test records the new text; review the diff)\n  want: {:?}\n  got:  {:?}\n--- got ---\n{actual}",
            path.display(),
            first + 1,
            want.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}
