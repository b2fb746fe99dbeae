//! `sealstrap reseal`: re-encrypt SealedSecrets for a new certificate, file by file on every
//! core, in one transaction. Two rotations, kept apart: a controller-key rotation reseals a folder's values
//! for the new controller certificate and never touches its break-glass copies (they are a
//! recovery path sealed for another key); `--break-glass` reseals exactly the break-glass copies
//! for the fleet file's break-glass certificate, with the old break-glass key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::cert::Certificate;
use sealstrap::journal::Transaction;
use sealstrap::manifests::BREAK_GLASS_DIR;
use sealstrap::par;
use sealstrap::reseal::{self, ResealError, Resealed};

use crate::cli::ResealArgs;
use crate::workspace::Workspace;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::place::{Choice, Place};
use crate::workspace::repo::{self, shown};

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
        roots.push(repo::git_root(d).unwrap_or_else(|| d.clone()));
    }
    let refs: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
    repo::write_scope(None, &refs)
}

/// Whether `file` is a break-glass copy (in a `break-glass/` folder).
fn is_break_glass(file: &Path) -> bool {
    file.parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == BREAK_GLASS_DIR)
}

pub fn run(args: &ResealArgs) -> CmdResult {
    let ws = Workspace::find(None)?;
    if args.break_glass {
        return break_glass(args, &ws);
    }
    let Some(cert_path) = &args.cert else {
        return Err(Failure::usage(
            "--cert: the new controller certificate is needed (or --break-glass, to reseal the break-glass copies for the fleet file's break-glass certificate)",
        ));
    };
    let old_keys = crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
    let cert =
        crate::workspace::keys::load_for_sealing(&cert_path.to_string_lossy(), "sealstrap: ")?;
    // The environment's folder by default: its pin follows the certificate you named.
    let (paths, pin) = if args.paths.is_empty() {
        let place = Place::resolve(
            &ws,
            &Choice {
                env: args.env.as_deref(),
                ..Default::default()
            },
        )?;
        let pin = place.pin_name();
        (vec![place.out], pin)
    } else {
        (args.paths.clone(), None)
    };
    reseal_files(
        args,
        &ws,
        &paths,
        Want::NotCopies,
        &old_keys,
        &cert,
        pin.as_deref(),
    )
}

/// Which files of the walked folders a reseal takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A controller-key rotation: everything but break-glass copies.
    NotCopies,
    /// A break-glass key rotation: the copies.
    Copies,
}

/// `reseal --break-glass`: every break-glass copy of the environment (or of every one), for
/// the fleet file's break-glass certificate, opened with the old break-glass key.
fn break_glass(args: &ResealArgs, ws: &Workspace) -> CmdResult {
    let root = ws.root.as_ref().ok_or_else(|| {
        Failure::usage("--break-glass: the break-glass certificate is the fleet file's, and this is not a repository with sealstrap.yaml")
    })?;
    let Some(rel) = &ws.config.fleet.break_glass else {
        return Err(Failure::usage(
            "--break-glass: sealstrap.yaml declares no break-glass certificate (break-glass: {cert: PATH})",
        ));
    };
    if args.cert.is_some() {
        return Err(Failure::usage(
            "--break-glass reseals for the fleet file's break-glass certificate; point break-glass: {cert: ...} in sealstrap.yaml at the new one instead of --cert",
        ));
    }
    let path = root.join(rel);
    let cert = crate::workspace::keys::load_for_sealing(&path.to_string_lossy(), "sealstrap: ")?;
    // The break-glass certificate comes from the tree: only a pinned one (or one accepted now)
    // gets every recovery copy.
    let accepted = args
        .accept_cert
        .iter()
        .any(|a| a == sealstrap::pins::BREAK_GLASS);
    if let Some(note) = sealstrap::pins::judge(
        &ws.config.pins,
        sealstrap::pins::BREAK_GLASS,
        &shown(&path).display().to_string(),
        &cert.fingerprint,
        sealstrap::pins::Source::Tree { first_use: false },
        accepted,
    )
    .map_err(|e| {
        let hint = e.hint();
        Failure::new(e.to_string()).hint(hint)
    })? {
        eprintln!("sealstrap: {note}");
    }
    let old_keys = crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
    let envs: Vec<Option<String>> = if args.all_envs {
        repo::environments(&root.dir)
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![args.env.clone()]
    };
    let mut folders = Vec::new();
    for env in &envs {
        let place = Place::resolve(
            ws,
            &Choice {
                env: env.as_deref(),
                ..Default::default()
            },
        )?;
        let dir = place.out.join(BREAK_GLASS_DIR);
        if dir.is_dir() {
            folders.push(dir);
        }
    }
    if folders.is_empty() {
        return Err(Failure::new("no break-glass copies to reseal")
            .hint("seal first; with break-glass: in sealstrap.yaml every value gets its copy"));
    }
    reseal_files(
        args,
        ws,
        &folders,
        Want::Copies,
        &old_keys,
        &cert,
        Some(sealstrap::pins::BREAK_GLASS),
    )
}

/// Reseals the files under `paths` that `want` takes, for `cert`, in one transaction, and pins
/// `cert` for `pin` when every file is sealed for it afterwards. The folders are locked (and an
/// interrupted write in them finished) before they are read.
fn reseal_files(
    args: &ResealArgs,
    ws: &Workspace,
    paths: &[PathBuf],
    want: Want,
    old_keys: &[sealstrap::rsa::PrivateKey],
    cert: &Certificate,
    pin: Option<&str>,
) -> CmdResult {
    let scope = reseal_scope(paths)?;
    let _locks = crate::workspace::files::lock_scope(&scope, args.dry_run)?;
    let files = crate::workspace::walk::walk(paths, crate::workspace::walk::SEALED)?.files;
    let (copies, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_break_glass(f));
    let files = match want {
        Want::NotCopies => {
            if !copies.is_empty() {
                eprintln!(
                    "sealstrap: {} break-glass copie(s) left as they are: they are sealed for the break-glass key, not the controller's (a break-glass key rotation is `sealstrap reseal --break-glass`)",
                    copies.len()
                );
            }
            files
        }
        Want::Copies => copies,
    };
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
                    old_keys,
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
    let Report {
        changed,
        failed,
        values,
        current,
        hints,
    } = report;
    // The pin follows the certificate once every file of the folder is sealed for it.
    if let Some(name) = pin
        && failed == 0
        && !args.dry_run
    {
        let mut pins = ws.config.pins.clone();
        pins.pin_certificate(name, &cert.fingerprint);
        if let Some(w) = ws.pins_write(&pins) {
            tx.stage(&w.path, &w.contents, None)
                .map_err(|e| crate::workspace::files::io_failure("cannot write", &w.path, &e))?;
            eprintln!(
                "sealstrap: pinned {name} to {} in sealstrap.yaml: commit that line with the resealed files",
                cert.fingerprint
            );
        }
    }
    // The files that resealed land together; a file that failed stays as it was.
    tx.commit()
        .map_err(|e| Failure::new(format!("cannot move the resealed files into place: {e}")))?;
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
        let name = shown(file).display().to_string();
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
