//! `sealstrap reseal`: re-encrypt SealedSecrets for a new certificate, file by file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::reseal::{self, Resealed};

use super::{CmdResult, Failure};
use crate::cli::ResealArgs;

/// Locks the folders reseal writes in, as `seal` locks its output folder (the one holding
/// `sealed/`), and first finishes an interrupted `seal` recorded there: left alone, its journal
/// would later put the old sealed files back over the resealed ones.
fn lock_write_folders(
    paths: &[PathBuf],
    dry_run: bool,
) -> Result<Vec<sealstrap::output::FolderLock>, Failure> {
    use sealstrap::manifests::SEALED_DIR;
    use sealstrap::output::JOURNAL_NAME;
    let mut folders = std::collections::BTreeSet::new();
    for p in paths {
        let dir = if p.is_dir() {
            p.clone()
        } else {
            match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let root = match dir.parent() {
            Some(up)
                if dir.file_name().is_some_and(|n| n == SEALED_DIR)
                    && (up.join(JOURNAL_NAME).exists()
                        || up.join(sealstrap::manifests::KUSTOMIZATION_FILE).exists()) =>
            {
                up.to_path_buf()
            }
            _ => dir,
        };
        folders.insert(root);
    }
    folders
        .iter()
        .map(|f| super::io::lock_and_recover(f, &[f.join(SEALED_DIR)], dry_run))
        .collect()
}

pub fn run(args: &ResealArgs) -> CmdResult {
    let old_keys = super::unseal::load_keys(&args.private_keys, &args.identity.identity)?;
    let cert = super::cert::load_for_sealing(&args.cert.to_string_lossy(), "sealstrap: ")?;
    let paths = if args.paths.is_empty() {
        vec![super::tree::anchored(sealstrap::defaults::OUT_DIR)]
    } else {
        args.paths.clone()
    };
    let _locks = lock_write_folders(&paths, args.dry_run)?;
    let files = super::io::collect_files(&paths, &["yaml", "yml", "json"])?;
    let mut rng = UnwrapErr(SysRng);
    let (mut changed, mut failed, mut values) = (0usize, 0usize, 0usize);
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
            Ok(Resealed::Changed {
                text: new,
                sealed_secrets,
                values: n,
            }) => {
                if !args.dry_run
                    && let Err(e) =
                        sealstrap::output::write_atomic(Path::new(file), new.as_bytes(), None)
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
    eprintln!(
        "sealstrap: {} file(s) {}, {values} value(s), for {}; {failed} failed",
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
