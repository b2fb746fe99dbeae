//! The one place sealstrap runs git: what it ignores, tracks and lists, and the objects it reads
//! (`cat-file --batch` for `key retire` and `scan --staged`/`--history`). Every answer is `None`
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

/// `git --literal-pathspecs` in `dir` (paths given are names, never patterns), stderr left to
/// the caller: for the commands that stream (`rev-list`, `log`, `cat-file`) or that say git's
/// own words when it fails.
pub fn literal(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir).arg("--literal-pathspecs");
    c
}

/// `cmd`'s stdout, or an error that says what git could not do, in git's words.
pub fn checked(mut cmd: Command, what: &str) -> Result<Vec<u8>, String> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run git ({what}): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git could not {what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// One object read by [`Batch`]: a blob's bytes, or nothing (missing, or not a blob).
pub enum Object {
    Blob(Vec<u8>),
    Missing,
}

/// One `git cat-file --batch` in `dir` for `oids`, read in order as an iterator, one object in
/// memory at a time; the ids are written from another thread so neither pipe fills while the
/// other waits. Dropping it stops git.
pub struct Batch {
    child: std::process::Child,
    out: std::io::BufReader<std::process::ChildStdout>,
    writer: Option<std::thread::JoinHandle<()>>,
    remaining: usize,
}

impl Batch {
    pub fn start(dir: &Path, oids: Vec<String>) -> Result<Batch, String> {
        use std::io::Write;
        let mut child = literal(dir)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run git cat-file: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped");
        let remaining = oids.len();
        let writer = std::thread::spawn(move || {
            let mut w = std::io::BufWriter::new(&mut stdin);
            for oid in oids {
                if writeln!(w, "{oid}").is_err() {
                    return;
                }
            }
            let _ = w.flush();
        });
        let out = std::io::BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
        Ok(Batch {
            child,
            out,
            writer: Some(writer),
            remaining,
        })
    }

    fn read_one(&mut self) -> std::io::Result<Object> {
        use std::io::{BufRead, Read};
        let mut header = String::new();
        if self.out.read_line(&mut header)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "git cat-file stopped early",
            ));
        }
        // `OID TYPE SIZE` or `OID missing`.
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        let Some(size) = size.and_then(|s| s.parse::<u64>().ok()) else {
            return Ok(Object::Missing);
        };
        let mut bytes = Vec::with_capacity(size.min(64 << 20) as usize);
        (&mut self.out).take(size).read_to_end(&mut bytes)?;
        let mut newline = [0u8; 1];
        self.out.read_exact(&mut newline)?;
        if kind != Some("blob") {
            return Ok(Object::Missing);
        }
        Ok(Object::Blob(bytes))
    }
}

impl Iterator for Batch {
    type Item = std::io::Result<Object>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let item = self.read_one();
        if item.is_err() {
            self.remaining = 0;
        }
        Some(item)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// Reads the objects `oids` with one [`Batch`] in `root`: `each` gets every object's id and its
/// content (`None` for one that is missing or not a blob), one object in memory at a time.
pub fn cat_blobs(
    root: &Path,
    oids: &[String],
    mut each: impl FnMut(&str, Option<&[u8]>),
) -> Result<(), String> {
    let batch = Batch::start(root, oids.to_vec())?;
    for (oid, object) in oids.iter().zip(batch) {
        match object.map_err(|e| format!("cannot read from git cat-file: {e}"))? {
            Object::Blob(bytes) => each(oid, Some(&bytes)),
            Object::Missing => each(oid, None),
        }
    }
    Ok(())
}
