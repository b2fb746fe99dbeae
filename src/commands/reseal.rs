//! `sealstrap reseal`: re-encrypt SealedSecrets for a new certificate, file by file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::journal::Transaction;
use sealstrap::reseal::{self, Resealed};

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
    let mut rng = UnwrapErr(SysRng);
    let (mut changed, mut failed, mut values, mut current) = (0usize, 0usize, 0usize, 0usize);
    // The resealed files land in one transaction: a killed run leaves them all old or all new.
    let mut tx = Transaction::new(&scope);
    let mut hints: Vec<String> = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => zeroize::Zeroizing::new(t),
            Err(e) => {
                failed += 1;
                eprintln!("FAIL      {name}: cannot read: {e}");
                continue;
            }
        };
        match reseal::reseal_text(
            &mut rng,
            &text,
            &old_keys,
            &cert.public_key,
            &cert.fingerprint,
        ) {
            Ok(Resealed::NotSealed) => {}
            Ok(Resealed::Current { sealed_secrets }) => {
                current += 1;
                eprintln!(
                    "CURRENT   {name} ({sealed_secrets} SealedSecret(s) already sealed for {}; left as it is)",
                    cert.fingerprint
                );
            }
            Ok(Resealed::Changed {
                text: new,
                sealed_secrets,
                values: n,
            }) => {
                if !args.dry_run
                    && let Err(e) = tx.stage(Path::new(file), new.as_bytes(), None)
                {
                    failed += 1;
                    eprintln!("FAIL      {name}: cannot write: {e}; left as it was");
                    continue;
                }
                changed += 1;
                values += n;
                eprintln!(
                    "{}  {name} ({sealed_secrets} SealedSecret(s), {n} value(s))",
                    if args.dry_run {
                        "WOULD RESEAL"
                    } else {
                        "RESEALED"
                    }
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("FAIL      {name}: {e}");
                if let Some(h) = e.hint()
                    && !hints.contains(&h)
                {
                    hints.push(h);
                }
            }
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
