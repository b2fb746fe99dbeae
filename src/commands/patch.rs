//! `sealstrap patch-externalsecrets`: walk, patch, report.

use std::process::ExitCode;

use sealstrap::objects;
use sealstrap::patch::{self, FindingKind, Options};

use crate::cli::PatchArgs;
use crate::workspace::error::{CmdResult, EXIT_ERROR, Failure};
use crate::workspace::files::write_stdout;

/// Files left alone: each is reported on stderr as it comes (`FAIL  FILE[:LINE]: why; left
/// alone`); the run then ends with one error that carries every distinct hint.
#[derive(Default)]
struct Failures {
    count: usize,
    hints: Vec<String>,
}

impl Failures {
    fn add(&mut self, at: &str, why: &str, hint: &str) {
        self.count += 1;
        eprintln!("FAIL      {at}: {why}; left alone");
        if !hint.is_empty() && !self.hints.iter().any(|h| h == hint) {
            self.hints.push(hint.to_string());
        }
    }

    fn into_failure(self) -> Failure {
        let mut f = Failure::new(format!(
            "{} file(s) could not be patched and were left as they were (FAIL lines above)",
            self.count
        ));
        for h in self.hints {
            f = f.hint(h);
        }
        f
    }
}

/// The path a diff names, as `git apply` and `patch -p1` take it after `a/` and `b/`: relative to
/// the current folder, with no `./` (git refuses `a/./x`); a path outside it is made absolute.
fn diff_path(file: &std::path::Path) -> String {
    use std::path::Component;
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| abs.strip_prefix(cwd).ok().map(std::path::Path::to_path_buf))
        .unwrap_or(abs);
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir | Component::RootDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn run(args: &PatchArgs) -> CmdResult {
    if !objects::is_dns_subdomain(&args.store) {
        return Err(Failure::usage(format!(
            "--store {:?} is not a valid name",
            args.store
        )));
    }
    if !objects::is_data_key(&args.property) {
        return Err(Failure::usage(format!(
            "--property {:?} is not a valid Secret data key",
            args.property
        )));
    }
    let ws = crate::workspace::Workspace::find(None)?;
    let opts = Options {
        store: args.store.clone(),
        property: args.property.clone(),
        contract: ws.contract(None),
    };
    let paths = if args.paths.is_empty() {
        match ws.root.clone() {
            Some(root) => vec![root.dir.clone()],
            None => {
                return Err(Failure::usage(
                    "not inside a git repository; pass the files or folders to patch",
                ));
            }
        }
    } else {
        args.paths.clone()
    };
    let walk = crate::workspace::walk::walk(&paths, crate::workspace::walk::MANIFESTS)?;
    // Templates are never synced; exclusions (sealstrap.yaml's, with their reasons, and
    // --exclude) are the user's choice. All are reported.
    let root = ws.root.clone();
    // One rule for every exclusion, as scan has it: a glob over the path from the repository
    // root (`vendor/**`), or a file name anywhere (`*.lock.yaml`), whatever folder you run in.
    let mut excludes = ws.config.exclude.clone();
    excludes.extend(
        args.exclude
            .iter()
            .map(|g| sealstrap::allow::Exclude::from_flag(g)),
    );
    let rel = |f: &std::path::Path| -> String {
        let abs = std::path::absolute(f).unwrap_or_else(|_| f.to_path_buf());
        root.as_ref()
            .and_then(|r| abs.strip_prefix(&r.dir).ok())
            .unwrap_or(f)
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/")
    };
    let mut skipped_files = Vec::new();
    let files: Vec<std::path::PathBuf> = walk
        .files
        .iter()
        .filter(|f| {
            let shown = crate::workspace::repo::shown(f).display().to_string();
            let why = if crate::workspace::walk::is_template(f) {
                Some("a template (*.example.yaml), not synced".to_string())
            } else if crate::workspace::walk::is_chart_template(f) {
                Some(
                    "a Helm chart template (its chart renders it; its values are checked)"
                        .to_string(),
                )
            } else {
                sealstrap::allow::matching(&excludes, &rel(f)).map(|e| {
                    if e.reason.starts_with("--exclude ") {
                        e.reason.clone()
                    } else {
                        format!("excluded in sealstrap.yaml: {}", e.reason)
                    }
                })
            };
            match why {
                Some(w) => {
                    skipped_files.push(format!("{shown}: skipped: {w}"));
                    false
                }
                None => true,
            }
        })
        .cloned()
        .collect();
    let files = &files;
    // Writing: every patched file lands in one journaled transaction, under the lock of the
    // repository (or of each folder outside one), so a killed run leaves no temporary file
    // beside an ExternalSecret and no half-patched tree.
    let writing = !(args.check || args.diff);
    let scope = if writing {
        let dirs: Vec<std::path::PathBuf> = files
            .iter()
            .map(|f| {
                let d = f.parent().filter(|d| !d.as_os_str().is_empty());
                let d = d.unwrap_or(std::path::Path::new("."));
                crate::workspace::repo::git_root(d).unwrap_or_else(|| d.to_path_buf())
            })
            .collect();
        let refs: Vec<&std::path::Path> = dirs.iter().map(|d| d.as_path()).collect();
        Some(crate::workspace::repo::write_scope(None, &refs)?)
    } else {
        None
    };
    let _locks = match &scope {
        Some(s) => crate::workspace::files::lock_scope(s, false)?,
        None => Vec::new(),
    };
    let mut tx = scope.as_ref().map(sealstrap::journal::Transaction::new);
    let mut report = String::new();
    let mut diff = String::new();
    let (mut missing, mut changed) = (0usize, 0usize);
    // Files left alone, reported as they come (FAIL lines), and the hints for the final error.
    let mut failures = Failures::default();
    for (link, target) in &walk.followed {
        eprintln!(
            "sealstrap: {} is a link to {}: patching the target",
            crate::workspace::repo::shown(link).display(),
            target.display()
        );
    }
    // A link that was not followed may hide an ExternalSecret: under --check that is a finding.
    for (link, why) in &walk.skipped_links {
        report.push_str(&format!(
            "{}: skipped: {why}\n",
            crate::workspace::repo::shown(link).display()
        ));
    }
    for line in &skipped_files {
        eprintln!("{line}");
    }
    let mut helm = Vec::new();
    let mut allowed: Vec<String> = Vec::new();
    for file in files {
        let name = crate::workspace::repo::shown(file).display().to_string();
        let text = match std::fs::read(file) {
            Ok(b) => match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    failures.add(
                        &name,
                        "not UTF-8 text",
                        "save the file as UTF-8 (Kubernetes manifests are UTF-8)",
                    );
                    continue;
                }
            },
            Err(e) => {
                failures.add(
                    &name,
                    &format!("cannot read it: {e}"),
                    "check the path and its permissions",
                );
                continue;
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        for h in patch::helm_refs(&text, &opts.store) {
            if h.property.is_some() {
                continue;
            }
            let at = format!("{name}:{}", h.line);
            // A consumer the user accepts, with a reason on its line, is said, not counted.
            match lines
                .get(h.line.wrapping_sub(1))
                .and_then(|l| sealstrap::scan::inline_allow(l))
                .filter(|r| !r.is_empty())
            {
                Some(reason) => allowed.push(format!(
                    "{at}: allowed: Helm values {} read {} without property ({reason})",
                    h.path, h.key
                )),
                None => {
                    if args.check {
                        missing += 1;
                    }
                    helm.push(crate::workspace::reads::helm_fix(
                        &at,
                        &h.key,
                        &h.path,
                        &opts.property,
                    ));
                }
            }
        }
        let patched = match patch::patch_text(&text, &opts) {
            Ok(p) => p,
            Err(e) => {
                let at = match e.line() {
                    Some(l) => format!("{name}:{l}"),
                    None => name.clone(),
                };
                failures.add(&at, &e.to_string(), e.hint().unwrap_or_default());
                continue;
            }
        };
        for f in &patched.findings {
            if f.is_missing_property() {
                missing += 1;
            }
            let tag = match (&f.kind, args.check || args.diff) {
                (FindingKind::Added, true) => "missing property",
                (FindingKind::Added, false) => "added",
                (FindingKind::NotContractKey, _) => "note",
                (FindingKind::OtherProperty(_), _) => "note",
                (FindingKind::DataFrom, _) => "note",
                (FindingKind::NoKey, _) => "note",
                (FindingKind::OldApiVersion, _) => "note",
            };
            report.push_str(&format!(
                "{name}:{}: {} {tag}: {}\n",
                f.line, f.external_secret, f.message
            ));
        }
        if let Some(new_text) = &patched.text {
            if args.diff {
                diff.push_str(&patch::unified_diff(
                    &diff_path(file),
                    &text,
                    &patched.edits,
                ));
                changed += 1;
            } else if args.check {
                changed += 1;
            } else if std::fs::metadata(file).is_ok_and(|m| m.permissions().readonly()) {
                failures.add(
                    &name,
                    "the file is read-only",
                    "make it writable (chmod u+w) to patch it, or patch it by hand",
                );
            } else if let Some(tx) = tx.as_mut() {
                // Staging keeps the file's mode; only a file staged is a change.
                match tx.stage_step(file, new_text.as_bytes(), None) {
                    Ok(()) => changed += 1,
                    Err(e) => failures.add(
                        &name,
                        &format!("cannot write it: {e}"),
                        "check that its folder is writable and the disk has room",
                    ),
                }
            }
        }
    }
    if let Some(tx) = tx {
        tx.commit()
            .map_err(|e| Failure::new(format!("cannot move the patched files into place: {e}")))?;
    }
    for h in &helm {
        report.push_str(&format!("{h}\n"));
    }
    for a in &allowed {
        eprintln!("{a}");
    }
    if args.diff {
        write_stdout(diff.as_bytes())?;
        eprint!("{report}");
    } else {
        write_stdout(report.as_bytes())?;
    }
    let verb = if args.check || args.diff {
        "would change"
    } else {
        "changed"
    };
    eprintln!(
        "sealstrap: {} file(s) read, {changed} {verb}, {} failed{}",
        files.len(),
        failures.count,
        if walk.skipped_links.is_empty() {
            String::new()
        } else {
            format!(", {} link(s) skipped", walk.skipped_links.len())
        }
    );
    if failures.count > 0 {
        return Err(failures.into_failure());
    }
    if args.check && !walk.skipped_links.is_empty() {
        return Err(Failure::new(format!(
            "{} symbolic link(s) point outside the walked folders and were not checked",
            walk.skipped_links.len()
        ))
        .hint("pass the link targets' folders too, or replace the links with the files"));
    }
    if args.check && missing > 0 {
        return Err(Failure {
            code: EXIT_ERROR,
            ..Failure::new(format!(
                "{missing} consumer(s) of ClusterSecretStore {} read it without property: {} (remoteRefs, and Helm values whose chart renders the ExternalSecret)",
                args.store, args.property
            ))
            .hint("run `sealstrap patch-externalsecrets` on the same paths for the remoteRefs; a Helm consumer needs the fix printed above, or an allow with its reason: `# sealstrap:allow REASON` on its line, or `exclude: [{path: FILE, reason: ...}]` in sealstrap.yaml")
        });
    }
    Ok(ExitCode::SUCCESS)
}
