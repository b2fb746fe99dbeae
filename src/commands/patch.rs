//! `sealstrap patch-externalsecrets`: walk, patch, report.

use std::process::ExitCode;

use sealstrap::objects;
use sealstrap::patch::{self, FindingKind, Options};

use super::io::write_stdout;
use super::{CmdResult, EXIT_ERROR, Failure};
use crate::cli::PatchArgs;

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
    let opts = Options {
        store: args.store.clone(),
        property: args.property.clone(),
    };
    let walk = super::io::walk_files(&args.paths, &["yaml", "yml"])?;
    let files = &walk.files;
    let mut report = String::new();
    let mut diff = String::new();
    let (mut failed, mut missing, mut changed) = (0usize, 0usize, 0usize);
    for (link, target) in &walk.followed {
        eprintln!(
            "sealstrap: {} is a link to {}: patching the target",
            link.display(),
            target.display()
        );
    }
    // A link that was not followed may hide an ExternalSecret: under --check that is a finding.
    for (link, why) in &walk.skipped_links {
        report.push_str(&format!("{}: skipped: {why}\n", link.display()));
    }
    for file in files {
        let name = file.display().to_string();
        let text = match std::fs::read(file) {
            Ok(b) => match String::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    failed += 1;
                    eprintln!("sealstrap: error: {name}: not UTF-8 text; left alone");
                    continue;
                }
            },
            Err(e) => {
                failed += 1;
                eprintln!("sealstrap: error: cannot read {name}: {e}");
                continue;
            }
        };
        let patched = match patch::patch_text(&text, &opts) {
            Ok(p) => p,
            Err(e) => {
                failed += 1;
                match e.line {
                    Some(l) => eprintln!(
                        "sealstrap: error: {name}:{l}: {}; file left alone",
                        e.message
                    ),
                    None => eprintln!("sealstrap: error: {name}: {}; file left alone", e.message),
                }
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
                (FindingKind::NotContractKey, _) => "missing property, not patched",
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
                diff.push_str(&patch::unified_diff(&name, &text, &patched.edits));
                changed += 1;
            } else if args.check {
                changed += 1;
            } else if std::fs::metadata(file).is_ok_and(|m| m.permissions().readonly()) {
                failed += 1;
                eprintln!(
                    "sealstrap: error: {name} is read-only; left as it was (make it writable to patch it)"
                );
            } else {
                // write_atomic keeps the file's mode; only a write that succeeded is a change.
                match sealstrap::output::write_atomic(file, new_text.as_bytes(), None) {
                    Ok(()) => changed += 1,
                    Err(e) => {
                        failed += 1;
                        eprintln!(
                            "sealstrap: error: cannot write {name}: {e}; file left as it was"
                        );
                    }
                }
            }
        }
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
        "sealstrap: {} file(s) read, {changed} {verb}, {failed} failed{}",
        files.len(),
        if walk.skipped_links.is_empty() {
            String::new()
        } else {
            format!(", {} link(s) skipped", walk.skipped_links.len())
        }
    );
    if failed > 0 {
        return Err(Failure::new(format!(
            "{failed} file(s) could not be processed; see above"
        )));
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
                "{missing} remoteRef(s) to ClusterSecretStore {} lack property: {}",
                args.store, args.property
            ))
            .hint("run `sealstrap patch-externalsecrets` on the same paths to add them")
        });
    }
    Ok(ExitCode::SUCCESS)
}
