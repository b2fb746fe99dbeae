//! `scan`'s report, whatever was scanned (work tree, index, history): exclusions applied and
//! said with their reasons, the baseline applied (or written), the findings as text, JSON or
//! SARIF on stdout, and the exit status. Never a value: findings carry none.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealstrap::allow::Exclude;
use sealstrap::scan::Finding;
use sealstrap::scan::baseline::{self, Baseline};
use sealstrap::scan::sarif::{self, Suppression};
use serde_json::json;

use crate::cli::{BaselineMode, ScanArgs, ScanFormat};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{io_failure, write_output, write_stdout};
use crate::workspace::repo::shown;

/// A finding and where it is.
pub struct Located {
    /// The file as shown (relative to the current folder when below it).
    pub shown: String,
    /// The file relative to the work tree's top, `/`-separated (exclusions, baseline, SARIF).
    pub rel: String,
    /// The commit that brought it (`--history`).
    pub commit: Option<String>,
    pub finding: Finding,
}

impl Located {
    /// `FILE` or, for a finding in history, `COMMIT:FILE` (as `git grep` names a file at a
    /// revision).
    fn place(&self) -> String {
        match &self.commit {
            Some(c) => format!("{}:{}", &c[..c.len().min(12)], self.rel),
            None => self.shown.clone(),
        }
    }
}

/// What a scan saw.
pub struct Scanned {
    pub findings: Vec<Located>,
    /// Files (or blobs) scanned.
    pub files: usize,
    /// Of them, files that could not be read.
    pub skipped: usize,
    /// Commits walked (`--history`).
    pub commits: Option<usize>,
    /// The work tree's top, when in one.
    pub top: Option<PathBuf>,
}

/// Where the baseline is: `--baseline-file`, else `.sealstrap-baseline` at the work tree's top
/// (the current folder outside one).
fn baseline_path(args: &ScanArgs, top: Option<&Path>) -> PathBuf {
    match (&args.baseline_file, top) {
        (Some(f), _) => f.clone(),
        (None, Some(t)) => t.join(baseline::FILE_NAME),
        (None, None) => PathBuf::from(baseline::FILE_NAME),
    }
}

fn load_baseline(path: &Path) -> Result<Option<Baseline>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_failure("cannot read the baseline", path, &e)),
    };
    Baseline::parse(&text)
        .map(Some)
        .map_err(|e| Failure::new(format!("{}: {e}", shown(path).display())).hint(e.hint()))
}

fn new_key() -> Result<[u8; 32], Failure> {
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key)
        .map_err(|_| Failure::new("cannot draw a random baseline key from the system"))?;
    Ok(key)
}

/// Exclusions, the baseline and the report; the exit status.
pub fn finish(args: &ScanArgs, scanned: Scanned, excludes: &[Exclude]) -> CmdResult {
    let Scanned {
        mut findings,
        files,
        skipped,
        commits,
        top,
    } = scanned;
    let history = args.history.is_some();
    // Inline allows come from the scan; exclusions are applied here.
    let mut suppressions: Vec<Option<Suppression>> = findings
        .iter()
        .map(|l| l.finding.allowed.clone().map(Suppression::InSource))
        .collect();
    for (l, s) in findings.iter_mut().zip(suppressions.iter_mut()) {
        if l.finding.allowed.is_none()
            && let Some(e) = sealstrap::allow::matching(excludes, &l.rel)
        {
            l.finding.allow(&e.reason);
            if l.finding.allowed.is_some() {
                *s = Some(Suppression::External(e.reason.clone()));
            }
        }
    }
    // The baseline: hard findings of the work tree or the index are never acknowledged (they
    // must go); in history they can be, once rotated, as history is not rewritten lightly.
    let path = baseline_path(args, top.as_deref());
    let shown_path = shown(&path).display().to_string();
    let baselineable = |l: &Located| l.finding.allowed.is_none() && (history || !l.finding.hard);
    let mut acknowledged = 0;
    match args.baseline {
        BaselineMode::Off => {}
        BaselineMode::Use => {
            if let Some(b) = load_baseline(&path)? {
                for (l, s) in findings.iter().zip(suppressions.iter_mut()) {
                    if baselineable(l) && b.contains(&l.rel, &l.finding) {
                        *s = Some(Suppression::External(format!(
                            "acknowledged in {shown_path}"
                        )));
                        acknowledged += 1;
                    }
                }
            }
        }
        BaselineMode::Write => {
            let mut b = match load_baseline(&path) {
                Ok(Some(b)) => b,
                Ok(None) => Baseline::new(new_key()?),
                Err(e) => {
                    eprintln!("sealstrap: warning: {}; writing a new one", e.message);
                    Baseline::new(new_key()?)
                }
            };
            let entries: Vec<_> = findings
                .iter()
                .filter(|l| baselineable(l))
                .map(|l| b.entry(&l.rel, l.commit.as_deref(), &l.finding))
                .collect();
            acknowledged = entries.len();
            b.replace_scope(history, entries);
            write_output(Some(&path), b.render().as_bytes(), None)?;
            for (l, s) in findings.iter().zip(suppressions.iter_mut()) {
                if baselineable(l) {
                    *s = Some(Suppression::External(format!(
                        "acknowledged in {shown_path}"
                    )));
                }
            }
            eprintln!(
                "sealstrap: wrote {shown_path}: {acknowledged} finding(s) acknowledged{}; commit it, and only new findings fail",
                if history { " in history" } else { "" }
            );
        }
    }
    // Allowed findings are said, with their reasons, never dropped in silence.
    for l in findings.iter().filter(|l| l.finding.allowed.is_some()) {
        eprintln!(
            "allowed   {}:{}: {}: {}",
            l.place(),
            l.finding.line,
            l.finding.kind.as_str(),
            l.finding.allowed.as_deref().unwrap_or("")
        );
    }
    let failing: Vec<&Located> = findings
        .iter()
        .zip(&suppressions)
        .filter(|(_, s)| s.is_none())
        .map(|(l, _)| l)
        .collect();
    let out = match args.output {
        ScanFormat::Text => failing
            .iter()
            .map(|l| {
                format!(
                    "{}:{}: {}: {}\n",
                    l.place(),
                    l.finding.line,
                    l.finding.kind.as_str(),
                    l.finding.message
                )
            })
            .collect::<String>(),
        ScanFormat::Json => {
            let v: Vec<_> = failing
                .iter()
                .map(|l| {
                    let mut o = json!({
                        "file": if l.commit.is_some() { &l.rel } else { &l.shown },
                        "line": l.finding.line,
                        "kind": l.finding.kind.as_str(),
                        "message": l.finding.message,
                    });
                    if let Some(r) = l.finding.rule {
                        o["rule"] = json!(r);
                    }
                    if let Some(c) = &l.commit {
                        o["commit"] = json!(c);
                    }
                    o
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&v).expect("json"))
        }
        ScanFormat::Sarif => {
            let items: Vec<sarif::Item> = findings
                .iter()
                .zip(&suppressions)
                .map(|(l, s)| sarif::Item {
                    file: &l.rel,
                    commit: l.commit.as_deref(),
                    finding: &l.finding,
                    suppression: s.clone(),
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&sarif::log(&items, env!("CARGO_PKG_VERSION")))
                    .expect("json")
            )
        }
    };
    write_stdout(out.as_bytes())?;
    let allowed = findings
        .iter()
        .filter(|l| l.finding.allowed.is_some())
        .count();
    let mut notes = String::new();
    if allowed > 0 {
        notes.push_str(&format!(
            ", {allowed} allowed (listed above, with their reasons)"
        ));
    }
    if acknowledged > 0 && args.baseline == BaselineMode::Use {
        notes.push_str(&format!(", {acknowledged} acknowledged in {shown_path}"));
    }
    let what = match commits {
        Some(c) => format!("{files} blob(s) of {c} commit(s)"),
        None if args.staged => format!("{files} staged file(s)"),
        None => format!("{files} file(s)"),
    };
    if !failing.is_empty() {
        let files_with: std::collections::BTreeSet<&str> =
            failing.iter().map(|l| l.rel.as_str()).collect();
        let mut failure = Failure::new(format!(
            "{} finding(s) in {} file(s), {what} scanned{notes}",
            failing.len(),
            files_with.len(),
        ))
        .hint("fix each, or allow a false positive with its reason: `# sealstrap:allow REASON` on the line, or `exclude: [{path: GLOB, reason: ...}]` in sealstrap.yaml (a private key, an age identity and the Dex copy are reported whatever)");
        if history {
            failure = failure.hint("a secret in history stays readable to anyone with a clone: rotate it, then acknowledge it (sealstrap scan --history --baseline write) or rewrite the history");
        } else if args.baseline != BaselineMode::Write {
            failure = failure.hint(
                "adopting scan on a repository with known findings: sealstrap scan --baseline write (only new findings fail after it)",
            );
        }
        return Err(failure);
    }
    if args.output == ScanFormat::Text && args.baseline != BaselineMode::Write {
        eprintln!(
            "sealstrap: {} scanned, nothing found{notes}{}",
            match commits {
                Some(_) => what,
                None if args.staged => format!("{} staged file(s)", files - skipped),
                None => format!("{} file(s)", files - skipped),
            },
            if skipped > 0 {
                format!(" ({skipped} unreadable file(s) skipped: --allow-skipped)")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
