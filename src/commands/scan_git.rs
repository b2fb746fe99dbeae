//! `scan --staged` and `scan --history`: what git will commit or has committed, read with the
//! git CLI, each blob once through one `git cat-file --batch` and matched on every core.
//!
//! - `--staged`: the index, not the work tree. The files the next commit adds or changes
//!   (`git diff --cached`), or every staged file under the paths given (what pre-commit passes),
//!   at their staged blob (`git ls-files -s`).
//! - `--history [REV-RANGE]`: every blob reachable from the range (`git rev-list --objects
//!   --filter=object:type=blob`, each blob listed once whatever the number of commits holding
//!   it), and, only when something is found, one `git log --raw` to name the commit that
//!   brought each finding.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sealstrap::scan::{self, Finding, Options};

use crate::workspace::git::Object;

use super::scan_report::{Located, Scanned};
use crate::workspace::error::Failure;

/// A blob to scan: its id and its path from the top of the work tree.
struct Blob {
    oid: String,
    path: String,
}

fn git(dir: &Path) -> Command {
    crate::workspace::git::literal(dir)
}

/// Runs a git command for its output; a failure says which command and what git said.
fn output(cmd: Command, what: &str) -> Result<Vec<u8>, Failure> {
    crate::workspace::git::checked(cmd, what).map_err(|e| {
        if e.starts_with("cannot run git") {
            Failure::new(e).hint("install git")
        } else {
            Failure::new(e)
        }
    })
}

/// The top of the work tree (`None` in a bare repository), or an error outside a repository.
fn repository(flag: &str) -> Result<(PathBuf, Option<PathBuf>), Failure> {
    let here =
        std::env::current_dir().map_err(|e| Failure::new(format!("no current folder: {e}")))?;
    let inside = crate::workspace::git::run(
        None,
        &["rev-parse", "--is-inside-work-tree", "--show-toplevel"],
    )
    .filter(|o| o.status.success());
    match inside {
        Some(o) => {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let mut lines = text.lines();
            let in_tree = lines.next() == Some("true");
            let top = lines.next().map(|t| PathBuf::from(t.trim()));
            match (in_tree, top) {
                (true, Some(top)) => Ok((top.clone(), Some(top))),
                _ if flag == "--history" => Ok((here, None)),
                _ => Err(Failure::usage(format!("{flag} needs a git work tree"))),
            }
        }
        None => Err(
            Failure::usage(format!("{flag}: not inside a git repository"))
                .hint("run it in the repository, or scan files and folders without the flag"),
        ),
    }
}

/// `paths` as prefixes from the top of the work tree (`""` for the top itself).
fn prefixes(top: &Path, paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            let abs: PathBuf = std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect();
            abs.strip_prefix(top)
                .unwrap_or(&abs)
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/")
                .trim_end_matches('/')
                .to_string()
        })
        .collect()
}

fn under(path: &str, prefixes: &[String]) -> bool {
    prefixes.is_empty()
        || prefixes.iter().any(|p| {
            p.is_empty()
                || path == p
                || (path.starts_with(p.as_str()) && path.as_bytes()[p.len()] == b'/')
        })
}

/// What the next commit carries: the staged blob of each file it adds or changes (of every
/// staged file under `paths` when given).
pub fn staged(paths: &[PathBuf], opts: &Options, threads: usize) -> Result<Scanned, Failure> {
    let (dir, top) = repository("--staged")?;
    let top = top.unwrap_or(dir.clone());
    let wanted: Option<HashSet<String>> = if paths.is_empty() {
        let mut cmd = git(&top);
        cmd.args([
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=d",
        ]);
        let out = output(cmd, "list the staged changes (git diff --cached)")?;
        Some(
            out.split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        )
    } else {
        None
    };
    let prefixes = prefixes(&top, paths);
    let mut cmd = git(&top);
    cmd.args(["ls-files", "-s", "-z", "--full-name"]);
    let out = output(cmd, "list the index (git ls-files -s)")?;
    let mut blobs = Vec::new();
    let mut seen = HashSet::new();
    for entry in out.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        // `MODE OID STAGE\tPATH`
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some(oid)) = (meta.next(), meta.next()) else {
            continue;
        };
        // Submodules and symbolic links carry no content of their own.
        if mode == "160000" || mode == "120000" {
            continue;
        }
        let keep = match &wanted {
            Some(w) => w.contains(path),
            None => under(path, &prefixes),
        };
        if keep && seen.insert((path.to_string(), oid.to_string())) {
            blobs.push(Blob {
                oid: oid.to_string(),
                path: path.to_string(),
            });
        }
    }
    let mut findings: Vec<Located> = blobs
        .iter()
        .filter_map(|b| {
            let shown = shown(&top, &b.path);
            scan::never_in_git(&shown).map(|f| Located {
                rel: b.path.clone(),
                shown,
                commit: None,
                finding: f,
            })
        })
        .collect();
    let (found, skipped) = scan_blobs(&top, &blobs, opts, threads)?;
    for (i, f) in found {
        let b = &blobs[i];
        findings.push(Located {
            shown: shown(&top, &b.path),
            rel: b.path.clone(),
            commit: None,
            finding: f,
        });
    }
    findings.sort_by(|a, b| (&a.rel, a.finding.line).cmp(&(&b.rel, b.finding.line)));
    Ok(Scanned {
        findings,
        files: blobs.len(),
        skipped,
        commits: None,
        top: Some(top),
    })
}

/// A top-relative path as shown: relative to the current folder when below it.
fn shown(top: &Path, rel: &str) -> String {
    crate::workspace::repo::shown(&top.join(rel))
        .display()
        .to_string()
}

/// Revisions of `range`, for `git rev-list`/`git log` after `--end-of-options`: `--all`, or
/// the words of the range (`main..HEAD`, `v1.0 ^old`).
fn revisions(range: &str) -> Result<Vec<String>, Failure> {
    if range == "--all" {
        return Ok(vec!["--all".into()]);
    }
    let words: Vec<String> = range.split_whitespace().map(str::to_string).collect();
    if words.is_empty() || words.iter().any(|w| w.starts_with('-')) {
        return Err(Failure::usage(format!(
            "--history {range:?}: not a revision range"
        ))
        .hint("give revisions or a range (main..HEAD, v1.0..v2.0), or --history alone for every branch and tag; put paths after --"));
    }
    Ok(words)
}

fn rev_args(cmd: &mut Command, revs: &[String]) {
    if revs == ["--all"] {
        cmd.arg("--all");
    } else {
        cmd.arg("--end-of-options").args(revs);
    }
}

/// Every blob reachable from `range`, once.
pub fn history(
    range: &str,
    paths: &[PathBuf],
    opts: &Options,
    threads: usize,
) -> Result<Scanned, Failure> {
    let (dir, top) = repository("--history")?;
    let revs = revisions(range)?;
    let prefixes = match &top {
        Some(t) => prefixes(t, paths),
        None => paths
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches('/').to_string())
            .collect(),
    };
    let mut cmd = git(&dir);
    cmd.args(["rev-list", "--objects", "--filter=object:type=blob"]);
    rev_args(&mut cmd, &revs);
    // A range git cannot read is the caller's input: a usage error, with git's words.
    let out = output(cmd, &format!("list the history of {range}")).map_err(|f| {
        Failure {
            code: crate::workspace::error::EXIT_USAGE,
            ..f
        }
        .hint("give revisions or a range git knows (git rev-list RANGE must work), or --history alone for every branch and tag")
    })?;
    let mut blobs = Vec::new();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let line = String::from_utf8_lossy(line);
        // `OID PATH` for a blob (the path it was first met under); the tips, listed with no
        // path, are commits.
        if let Some((oid, path)) = line.split_once(' ')
            && under(path, &prefixes)
        {
            blobs.push(Blob {
                oid: oid.to_string(),
                path: path.to_string(),
            });
        }
    }
    let mut cmd = git(&dir);
    cmd.args(["rev-list", "--count"]);
    rev_args(&mut cmd, &revs);
    let commits = String::from_utf8_lossy(&output(cmd, "count the commits")?)
        .trim()
        .parse::<usize>()
        .unwrap_or(0);
    let mut findings: Vec<Located> = Vec::new();
    // Every path a commit of the range ever held (rev-list names each blob under one path only:
    // a Dex copy renamed, or its bytes committed again elsewhere, would hide its first name).
    let mut cmd = git(&dir);
    cmd.args(["log", "--name-only", "--pretty=format:", "--no-renames"]);
    rev_args(&mut cmd, &revs);
    let logged = output(cmd, "list the paths of the history")?;
    let mut paths: Vec<String> = String::from_utf8_lossy(&logged)
        .lines()
        .filter(|l| !l.is_empty() && under(l, &prefixes))
        .map(str::to_string)
        .chain(blobs.iter().map(|b| b.path.clone()))
        .collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        if let Some(f) = scan::never_in_git(&path) {
            findings.push(Located {
                shown: path.clone(),
                rel: path,
                commit: None,
                finding: f,
            });
        }
    }
    let (mut found, skipped) = scan_blobs(&dir, &blobs, opts, threads)?;
    // Only leaks: a rule about the tree as it stands (a missing property) is the work tree
    // scan's, and an old commit that broke it leaked nothing.
    found.retain(|(_, f)| f.kind.is_leak());
    // The commit that brought each blob found, only when something was.
    let found_oids: HashSet<&str> = found.iter().map(|(i, _)| blobs[*i].oid.as_str()).collect();
    let brought = if found_oids.is_empty() {
        HashMap::new()
    } else {
        introducing_commits(&dir, &revs, &found_oids)?
    };
    for (i, f) in found {
        let b = &blobs[i];
        findings.push(Located {
            shown: b.path.clone(),
            rel: b.path.clone(),
            commit: brought.get(b.oid.as_str()).cloned(),
            finding: f,
        });
    }
    findings.sort_by(|a, b| {
        (&a.commit, &a.rel, a.finding.line).cmp(&(&b.commit, &b.rel, b.finding.line))
    });
    Ok(Scanned {
        findings,
        files: blobs.len(),
        skipped,
        commits: Some(commits),
        top,
    })
}

/// The oldest commit of `revs` whose changes bring each blob of `oids` (`git log --raw`, merges
/// against each parent).
fn introducing_commits(
    dir: &Path,
    revs: &[String],
    oids: &HashSet<&str>,
) -> Result<HashMap<String, String>, Failure> {
    let mut cmd = git(dir);
    cmd.args([
        "log",
        "--format=%x01%H",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-m",
        "--root",
    ]);
    rev_args(&mut cmd, revs);
    cmd.stdout(Stdio::piped());
    let mut child = cmd
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::new(format!("cannot run git log: {e}")))?;
    let mut map = HashMap::new();
    let mut commit = String::new();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| Failure::new(format!("cannot read git log: {e}")))?;
        if let Some(c) = line.strip_prefix('\u{1}') {
            commit = c.to_string();
        } else if let Some(raw) = line.strip_prefix(':') {
            // `OLDMODE NEWMODE OLDOID NEWOID STATUS\tPATH`: newest commit first, so the last
            // seen is the oldest.
            if let Some(new) = raw.split([' ', '\t']).nth(3)
                && oids.contains(new)
            {
                map.insert(new.to_string(), commit.clone());
            }
        }
    }
    let _ = child.wait();
    Ok(map)
}

/// Reads every blob once and scans it on `threads` cores: the findings with the index of their
/// blob, and how many blobs could not be read. Blobs are read from git a batch at a time and
/// matched in parallel, so memory follows the batch, not the history.
fn scan_blobs(
    dir: &Path,
    blobs: &[Blob],
    opts: &Options,
    threads: usize,
) -> Result<(Vec<(usize, Finding)>, usize), Failure> {
    /// Blobs read from git before they are matched.
    const BATCH: usize = 256;
    if blobs.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut reader =
        crate::workspace::git::Batch::start(dir, blobs.iter().map(|b| b.oid.clone()).collect())
            .map_err(Failure::new)?
            .enumerate();
    let scan_one = |i: usize, content: &Result<Object, String>| {
        let class = scan::classify_in(&blobs[i].path, &opts.certs);
        match content {
            Ok(Object::Blob(bytes)) if bytes.len() as u64 > scan::MAX_FULL => {
                scan::scan_reader(&bytes[..], &class).map_err(|e| e.to_string())
            }
            Ok(Object::Blob(bytes)) => Ok(scan::scan_bytes(bytes, &class, opts)),
            Ok(Object::Missing) => Err(
                "its blob is not in this repository (a partial or shallow clone?); fetch it and scan again"
                    .to_string(),
            ),
            Err(e) => Err(format!("cannot read it from git: {e}")),
        }
    };
    let mut results: Vec<(usize, Result<Vec<Finding>, String>)> = Vec::with_capacity(blobs.len());
    loop {
        let batch: Vec<(usize, Result<Object, String>)> = reader
            .by_ref()
            .take(BATCH)
            .map(|(i, c)| (i, c.map_err(|e| e.to_string())))
            .collect();
        if batch.is_empty() {
            break;
        }
        let Ok(()) = sealstrap::par::for_each_ordered(
            &batch,
            threads,
            |_, (i, content)| (*i, scan_one(*i, content)),
            |_, r| {
                results.push(r);
                Ok::<(), std::convert::Infallible>(())
            },
        );
    }
    if results.len() < blobs.len() {
        return Err(Failure::new(format!(
            "git cat-file returned {} of {} blobs",
            results.len(),
            blobs.len()
        )));
    }
    let mut found = Vec::new();
    let mut skipped = 0;
    for (i, r) in results {
        match r {
            Ok(f) => found.extend(f.into_iter().map(|f| (i, f))),
            Err(reason) => {
                skipped += 1;
                found.push((
                    i,
                    Finding::new(0, scan::Kind::Skipped, format!("not scanned: {reason}")),
                ));
            }
        }
    }
    Ok((found, skipped))
}
