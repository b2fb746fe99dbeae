//! `sealstrap reseal`: re-encrypt SealedSecrets for a new certificate, file by file, on every core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::journal::Transaction;
use sealstrap::par;
use sealstrap::reseal::{self, ResealError, Resealed};

use crate::cli::ResealArgs;
use crate::workspace::error::{CmdResult, Failure};

/// The folders reseal writes in, as a journal scope: the repository holding the first path (or
/// its folder), then every folder given outside it. Locking it also waits for a `seal` that is
/// writing there and finishes an interrupted one first: left alone, its journal would later put
/// the old sealed files back over the resealed ones.
fn reseal_scope(paths: &[PathBuf]) -> Result<sealstrap::journal::Scope, Failure> {
    let dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            }
        })
        .collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    for d in &dirs {
        roots.push(crate::workspace::repo::git_root(d).unwrap_or_else(|| d.clone()));
    }
    let refs: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
    crate::workspace::repo::write_scope(None, &refs)
}

pub fn run(args: &ResealArgs) -> CmdResult {
    let old_keys = crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
    let cert =
        crate::workspace::keys::load_for_sealing(&args.cert.to_string_lossy(), "sealstrap: ")?;
    let paths = if args.paths.is_empty() {
        vec![crate::workspace::repo::env_default(
            args.env.as_deref(),
            "",
        )?]
    } else {
        args.paths.clone()
    };
    let scope = reseal_scope(&paths)?;
    let _locks = crate::workspace::files::lock_scope(&scope, args.dry_run)?;
    let files = crate::workspace::walk::walk(&paths, crate::workspace::walk::SEALED)?.files;
    // The resealed files land in one transaction: a killed run leaves them all old or all new.
    let mut tx = Transaction::new(&scope);
    let mut report = Report::default();
    // Each file is read and resealed on its own core. The results come back here in the walk's
    // order and are staged a batch at a time (one journal sync per batch, the files synced
    // together), so the journal and the output are those of a run on one core, and no more
    // than a batch of resealed texts is held at once.
    let threads = par::available_threads();
    let work = |_: usize, file: &PathBuf| -> Outcome {
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let text = zeroize::Zeroizing::new(text);
                Ok(reseal::reseal_text(
                    &mut UnwrapErr(SysRng),
                    &text,
                    &old_keys,
                    &cert.public_key,
                    &cert.fingerprint,
                ))
            }
            Err(e) => Err(e),
        }
    };
    let mut batch: Vec<(&Path, Outcome)> = Vec::new();
    let mut flush = |batch: &mut Vec<(&Path, Outcome)>| {
        let changed: Vec<(&Path, &[u8], Option<u32>)> = batch
            .iter()
            .filter_map(|(file, o)| match o {
                Ok(Ok(Resealed::Changed { text, .. })) => Some((*file, text.as_bytes(), None)),
                _ => None,
            })
            .collect();
        let mut staged = if args.dry_run {
            Vec::new()
        } else {
            tx.stage_many(&changed, threads)
        }
        .into_iter();
        for (file, outcome) in batch.drain(..) {
            let written = match &outcome {
                Ok(Ok(Resealed::Changed { .. })) if !args.dry_run => staged.next(),
                _ => None,
            };
            report.file(file, outcome, written, args.dry_run, &cert.fingerprint);
        }
    };
    let Ok(()) = par::for_each_ordered(&files, threads, work, |i, outcome| {
        batch.push((files[i].as_path(), outcome));
        if batch.len() >= STAGE_BATCH {
            flush(&mut batch);
        }
        Ok::<(), std::convert::Infallible>(())
    });
    flush(&mut batch);
    // The files that resealed land together; a file that failed stays as it was.
    tx.commit()
        .map_err(|e| Failure::new(format!("cannot move the resealed files into place: {e}")))?;
    let Report {
        changed,
        failed,
        values,
        current,
        hints,
    } = report;
    let current_note = if current > 0 {
        format!(", {current} already current")
    } else {
        String::new()
    };
    eprintln!(
        "sealstrap: {} file(s) {}{current_note}, {values} value(s), for {}; {failed} failed",
        changed,
        if args.dry_run {
            "would be resealed"
        } else {
            "resealed"
        },
        cert.fingerprint
    );
    if failed > 0 {
        let mut f = Failure::new(format!(
            "{failed} file(s) could not be resealed and were left as they were (FAIL lines above)"
        ));
        for h in hints {
            f = f.hint(h);
        }
        return Err(f);
    }
    Ok(ExitCode::SUCCESS)
}

/// How many files are reported, and their new texts staged, together (one journal sync for
/// them all).
const STAGE_BATCH: usize = 64;

/// What resealing one file came to: it could not be read, or reseal's verdict.
type Outcome = Result<Result<Resealed, ResealError>, std::io::Error>;

/// The run's tally and its hints, one file at a time, in order.
#[derive(Default)]
struct Report {
    changed: usize,
    failed: usize,
    values: usize,
    current: usize,
    hints: Vec<String>,
}

impl Report {
    /// Reports one file; `written` is whether its new text was staged (`None` when nothing was
    /// to be written, or in a dry run).
    fn file(
        &mut self,
        file: &Path,
        outcome: Outcome,
        written: Option<std::io::Result<()>>,
        dry_run: bool,
        fingerprint: &str,
    ) {
        let name = file.display().to_string();
        let resealed = match outcome {
            Ok(r) => r,
            Err(e) => {
                self.failed += 1;
                eprintln!("FAIL      {name}: cannot read: {e}");
                return;
            }
        };
        match resealed {
            Ok(Resealed::NotSealed) => {}
            Ok(Resealed::Current { sealed_secrets }) => {
                self.current += 1;
                eprintln!(
                    "CURRENT   {name} ({sealed_secrets} SealedSecret(s) already sealed for {fingerprint}; left as it is)"
                );
            }
            Ok(Resealed::Changed {
                sealed_secrets,
                values: n,
                ..
            }) => {
                if let Some(Err(e)) = written {
                    self.failed += 1;
                    eprintln!("FAIL      {name}: cannot write: {e}; left as it was");
                    return;
                }
                self.changed += 1;
                self.values += n;
                eprintln!(
                    "{}  {name} ({sealed_secrets} SealedSecret(s), {n} value(s))",
                    if dry_run { "WOULD RESEAL" } else { "RESEALED" }
                );
            }
            Err(e) => {
                self.failed += 1;
                eprintln!("FAIL      {name}: {e}");
                if let Some(h) = e.hint()
                    && !self.hints.contains(&h)
                {
                    self.hints.push(h);
                }
            }
        }
    }
}
