//! `sealstrap scan`: list the files (git's view when there is a work tree), scan each.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sealstrap::scan::{self, Options};
use serde_json::json;

use super::io::{io_failure, write_stdout};
use super::{CmdResult, Failure};
use crate::cli::{ScanArgs, SummaryFormat};

/// Largest file checked with every rule; bigger ones are streamed for value shapes and keys.
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
                // Everything git lists except folders (submodules) and files deleted from the
                // work tree; what cannot be read is reported, not dropped.
                .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir()))
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

/// Scans one file, whatever it holds; `Err` says why it could not be read at all. Text files up
/// to [`MAX_FILE`] get every rule; larger ones are streamed for value shapes and PEM keys, as
/// are binary files. Messages never quote the content.
fn scan_file(path: &Path, name: &str, opts: &Options) -> Result<Vec<scan::Finding>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE {
        return scan_large(path);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    Ok(match scan::decode(&bytes) {
        scan::Decoded::Text(t) | scan::Decoded::Utf16(t) => {
            scan::scan_text(&t, scan::is_manifest_name(name), opts)
        }
        scan::Decoded::Binary(t) => scan::scan_values(&t, 1),
    })
}

/// A large file, read in 1 MiB pieces cut at line ends, checked for value shapes and keys.
fn scan_large(path: &Path) -> Result<Vec<scan::Finding>, String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut found = Vec::new();
    let mut line_no = 1;
    let mut line = Vec::new();
    loop {
        line.clear();
        // One line at most 1 MiB; a longer run is checked in 1 MiB pieces.
        let n = std::io::Read::take(&mut reader, 1 << 20)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read it: {e}"))?;
        if n == 0 {
            break;
        }
        let text = match scan::decode(&line) {
            scan::Decoded::Text(t) | scan::Decoded::Utf16(t) | scan::Decoded::Binary(t) => t,
        };
        found.extend(scan::scan_values(text.trim_end_matches('\n'), line_no));
        if line.ends_with(b"\n") {
            line_no += 1;
        }
    }
    Ok(found)
}

/// Files git ignores that a cluster needs from git: SealedSecrets, ClusterSecretStores and
/// kustomizations (the platform's `*-secret.yaml` rule drops sealed Dex client secrets). Listed by
/// `git ls-files --others --ignored --exclude-standard` under `paths`; nothing outside a work tree.
fn ignored_but_needed(paths: &[PathBuf]) -> Vec<(String, scan::Finding)> {
    let Ok(out) = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--",
        ])
        .args(paths)
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for name in out.stdout.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if !scan::is_manifest_name(&name) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&name) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_FILE {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&name) else {
            continue;
        };
        let what = if name.ends_with("kustomization.yaml") || name.ends_with("kustomization.yml") {
            Some("a kustomization")
        } else {
            sealstrap::yaml::parse_documents(&text)
                .ok()
                .and_then(|docs| {
                    docs.iter()
                        .find_map(|d| match d.get("kind").and_then(|k| k.as_str()) {
                            Some("SealedSecret") => Some("a SealedSecret"),
                            Some("ClusterSecretStore") => Some("a ClusterSecretStore"),
                            _ => None,
                        })
                })
        };
        if let Some(what) = what {
            found.push((
                name.clone(),
                scan::Finding {
                    line: 0,
                    kind: scan::Kind::IgnoredByGit,
                    message: format!(
                        "{what} that git ignores, so it is never committed and Argo CD never sees it; add `!{}` to .gitignore (sealstrap seal adds it for its own files)",
                        sealstrap::gitignore::exact_rule(&name)
                    ),
                },
            ));
        }
    }
    found
}

/// Leftovers of an interrupted sealstrap write beside the scanned files: a journal (in the folder
/// even when git ignores it) or a temporary file. scan only reads, so it reports them; the next
/// `seal` (or any writing command on that folder) finishes or rolls back the write.
fn interrupted_writes(files: &[PathBuf]) -> Vec<(String, scan::Finding)> {
    let mut found = Vec::new();
    // The files' folders and the folders above them: a journal sits in the output folder, above
    // the files it writes into `sealed/`.
    let dirs: std::collections::BTreeSet<PathBuf> = files
        .iter()
        .flat_map(|f| f.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    let finding = |message: &str| scan::Finding {
        line: 0,
        kind: scan::Kind::InterruptedWrite,
        message: message.to_string(),
    };
    for d in dirs {
        let journal = d.join(sealstrap::output::JOURNAL_NAME);
        if journal.exists() {
            found.push((
                journal.display().to_string(),
                finding(
                    "a sealstrap write was interrupted here, so this folder may be half old, half new; run `sealstrap seal` with the same flags to finish it, then scan again",
                ),
            ));
        }
    }
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if sealstrap::output::is_temp_name(name) {
            found.push((
                f.display().to_string(),
                finding(
                    "a temporary file of an interrupted sealstrap write (it may hold a plaintext value); run `sealstrap seal` with the same flags to clean it up, and never commit it",
                ),
            ));
        }
    }
    found
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
    let mut all = interrupted_writes(&files);
    all.extend(ignored_but_needed(&args.paths));
    let mut skipped = 0;
    for f in &files {
        let name = f.display().to_string();
        match scan_file(f, &name, &opts) {
            Ok(found) => all.extend(found.into_iter().map(|x| (name.clone(), x))),
            Err(reason) => {
                skipped += 1;
                if !args.allow_skipped {
                    all.push((
                        name.clone(),
                        scan::Finding {
                            line: 0,
                            kind: scan::Kind::Skipped,
                            message: format!("not scanned: {reason}"),
                        },
                    ));
                }
            }
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
        eprintln!(
            "sealstrap: {} file(s) scanned, nothing found{}",
            files.len() - skipped,
            if skipped > 0 {
                format!(" ({skipped} unreadable file(s) skipped: --allow-skipped)")
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
