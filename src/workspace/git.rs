//! The one place sealstrap runs git: what it ignores, tracks and lists. Every answer is `None`
//! or `false` when git cannot answer (not installed, not a work tree), and callers say what they
//! do then.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `git`, run in `dir` when given (`git -C DIR`), with its stderr dropped: the one way
/// sealstrap starts git.
fn command(dir: Option<&Path>) -> Command {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    cmd.stderr(Stdio::null());
    cmd
}

/// `git ARGS` in `dir` (or the current folder), stdin closed: its whole output (status and
/// stdout), or `None` when git cannot be started.
pub fn run<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Option<std::process::Output> {
    command(dir).args(args).stdin(Stdio::null()).output().ok()
}

/// `git ARGS` in `dir` (or the current folder): its stdout when it succeeds.
pub fn output<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Option<Vec<u8>> {
    let o = command(dir).args(args).output().ok()?;
    o.status.success().then_some(o.stdout)
}

/// The top of the work tree holding `dir` (or the current folder).
pub fn toplevel(dir: Option<&Path>) -> Option<PathBuf> {
    let out = output(dir, &["rev-parse", "--show-toplevel"])?;
    Some(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}

/// NUL-separated paths in git's output, as text.
pub fn split_z(out: &[u8]) -> impl Iterator<Item = String> + '_ {
    out.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

/// Whether git would ignore each of `paths` (files not written yet, each asked from its nearest
/// existing folder; a tracked file is not ignored), in one `git check-ignore --stdin` per such
/// folder (one for files side by side): `false` for each outside a work tree or without git.
pub fn would_ignore_each(paths: &[&Path]) -> Vec<bool> {
    use std::io::Write;
    let asked: Vec<(PathBuf, PathBuf)> = paths
        .iter()
        .map(|path| {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let existing = dir
                .ancestors()
                .find(|a| !a.as_os_str().is_empty() && a.exists())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            (existing, abs)
        })
        .collect();
    let mut ignored = vec![false; paths.len()];
    let mut dirs: Vec<&PathBuf> = asked.iter().map(|(d, _)| d).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let group: Vec<usize> = (0..asked.len()).filter(|&i| &asked[i].0 == dir).collect();
        let Ok(mut child) = command(Some(dir))
            .args(["check-ignore", "--stdin", "-z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        else {
            continue;
        };
        let mut input = Vec::new();
        for &i in &group {
            input.extend_from_slice(asked[i].1.as_os_str().as_encoded_bytes());
            input.push(0);
        }
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(&input);
        }
        let Ok(out) = child.wait_with_output() else {
            continue;
        };
        // 0: some are ignored (listed as given), 1: none is, 128: not a repository or no git.
        if out.status.code() != Some(0) {
            continue;
        }
        let listed: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        for &i in &group {
            ignored[i] = listed.contains(&asked[i].1.as_os_str().as_encoded_bytes());
        }
    }
    ignored
}

/// The paths among `paths` (relative to `root`) that git would ignore, asked in one
/// `git check-ignore --no-index --stdin` call. `None` when git cannot answer (not installed).
pub fn git_ignored(root: &Path, paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
    use std::io::Write;
    if paths.is_empty() {
        return Some(Vec::new());
    }
    let mut child = command(Some(root))
        .args(["check-ignore", "--no-index", "--stdin", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.to_string_lossy().as_bytes());
        input.push(0);
    }
    child.stdin.take()?.write_all(&input).ok()?;
    let out = child.wait_with_output().ok()?;
    // 0: some are ignored, 1: none is; anything else is an error.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
            .collect(),
    )
}

/// The ignore rule that decides `rel` (relative to `root`): (the file holding it, as git names
/// it, its line, the pattern), from `git check-ignore -v -n --no-index`. `None` when no rule
/// matches or git cannot answer.
pub fn deciding_rule(root: &Path, rel: &Path) -> Option<(String, String, String)> {
    let out = command(Some(root))
        .args(["check-ignore", "-v", "-n", "--no-index", "--"])
        .arg(rel)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (rule, _) = text.split_once('\t')?;
    let mut parts = rule.splitn(3, ':');
    let (source, line, pattern) = (parts.next()?, parts.next()?, parts.next()?);
    (!source.is_empty()).then(|| (source.to_string(), line.to_string(), pattern.to_string()))
}

/// Whether git tracks `rel` or has it staged (it is in the index, where no ignore rule
/// applies). `false` when git cannot answer.
pub fn git_tracks(root: &Path, rel: &Path) -> bool {
    command(Some(root))
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(rel)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether git ignores `rel` (relative to `root`): git's answer when it is installed, else the
/// top-level .gitignore read for the common spellings of its first folder.
pub fn ignores(root: &Path, rel: &Path) -> bool {
    if let Some(ignored) = git_ignored(root, &[rel.to_path_buf()]) {
        return !ignored.is_empty();
    }
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::read_to_string(root.join(".gitignore"))
        .map(|t| {
            t.lines().any(|l| {
                let l = l.trim();
                l == first
                    || l == format!("/{first}")
                    || l == format!("{first}/")
                    || l == format!("/{first}/")
            })
        })
        .unwrap_or(false)
}

/// Reads the objects `oids` with one `git cat-file --batch` in `root`, streaming: `each` gets
/// every object's id and its content (`None` for one that is missing or not a blob). The
/// content is read one object at a time, so memory holds one object, not the history.
pub fn cat_blobs(
    root: &Path,
    oids: &[String],
    mut each: impl FnMut(&str, Option<&[u8]>),
) -> Result<(), String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = command(Some(root))
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git cat-file: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input: String = oids.iter().map(|o| format!("{o}\n")).collect();
    // Written from another thread: git answers while it reads, and both pipes are bounded.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut header = String::new();
    let mut body = Vec::new();
    for oid in oids {
        header.clear();
        if out
            .read_line(&mut header)
            .map_err(|e| format!("cannot read from git cat-file: {e}"))?
            == 0
        {
            break;
        }
        let mut h = header.trim_end().split(' ');
        if h.next() != Some(oid.as_str()) {
            return Err(format!("git cat-file answered {header:?} for {oid}"));
        }
        let kind = h.next().unwrap_or("");
        if kind == "missing" {
            each(oid, None);
            continue;
        }
        let size: u64 = h.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        body.clear();
        (&mut out)
            .take(size + 1)
            .read_to_end(&mut body)
            .map_err(|e| format!("cannot read from git cat-file: {e}"))?;
        body.pop(); // the newline after each object
        each(oid, (kind == "blob").then_some(body.as_slice()));
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(())
}
