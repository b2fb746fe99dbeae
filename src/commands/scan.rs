//! `sealstrap scan`: list the files (git's view when there is a work tree), scan each.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sealstrap::scan::{self, Options};
use serde_json::json;

use super::io::{io_failure, write_stdout};
use super::{CmdResult, Failure};
use crate::cli::{ScanArgs, SummaryFormat};

/// Largest file scanned; bigger ones are not configuration.
const MAX_FILE: u64 = 4 << 20;

/// The files to scan. In a git work tree: tracked and untracked files git does not ignore
/// (`git ls-files -co --exclude-standard`); elsewhere a plain walk that skips `.git`.
fn list_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "-co",
            "--exclude-standard",
            "--full-name",
            "--",
        ])
        .args(paths)
        .output();
    if let Ok(out) = &listed
        && out.status.success()
    {
        let top = Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if let Some(top) = top {
            let here = std::env::current_dir().unwrap_or_default();
            let mut files: Vec<PathBuf> = out
                .stdout
                .split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| top.join(String::from_utf8_lossy(s).as_ref()))
                .map(|p| p.strip_prefix(&here).map(Path::to_path_buf).unwrap_or(p))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            return Ok(files);
        }
    }
    if paths.is_empty() {
        return Err(Failure::new(
            "not inside a git work tree; pass the files or folders to scan",
        ));
    }
    super::io::collect_files(paths, &[])
}

pub fn run(args: &ScanArgs) -> CmdResult {
    for p in &args.paths {
        if !p.exists() {
            return Err(Failure::new(format!(
                "cannot read {}: no such file or folder",
                p.display()
            )));
        }
    }
    let fingerprint = match &args.cert {
        Some(c) => {
            let pem = std::fs::read(c).map_err(|e| io_failure("cannot read", c, &e))?;
            Some(
                sealstrap::cert::parse(&pem)
                    .map_err(|e| super::cert_failure(&c.display().to_string(), &e))?
                    .fingerprint,
            )
        }
        None => None,
    };
    let opts = Options {
        fingerprint,
        patch: sealstrap::patch::Options {
            store: args.store.clone(),
            property: args.property.clone(),
        },
    };
    let files = list_files(&args.paths)?;
    let mut all = Vec::new();
    for f in &files {
        let Ok(meta) = std::fs::metadata(f) else {
            continue;
        };
        if meta.len() > MAX_FILE {
            continue;
        }
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        if bytes.contains(&0) {
            continue; // binary
        }
        let text = String::from_utf8_lossy(&bytes);
        let name = f.display().to_string();
        let manifest = scan::is_manifest_name(&name);
        for finding in scan::scan_text(&text, manifest, &opts) {
            all.push((name.clone(), finding));
        }
    }
    let out = match args.output {
        SummaryFormat::Text => all
            .iter()
            .map(|(f, x)| format!("{f}:{}: {}: {}\n", x.line, x.kind.as_str(), x.message))
            .collect::<String>(),
        SummaryFormat::Json => {
            let v: Vec<_> = all
                .iter()
                .map(|(f, x)| json!({"file": f, "line": x.line, "kind": x.kind.as_str(), "message": x.message}))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&v).expect("json"))
        }
    };
    write_stdout(out.as_bytes())?;
    if !all.is_empty() {
        return Err(Failure::new(format!(
            "{} finding(s) in {} file(s) scanned",
            all.len(),
            files.len()
        )));
    }
    if args.output == SummaryFormat::Text {
        eprintln!("sealstrap: {} file(s) scanned, nothing found", files.len());
    }
    Ok(ExitCode::SUCCESS)
}
