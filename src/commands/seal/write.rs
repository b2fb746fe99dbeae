//! Lands a run's plan: every file staged beside its destination and named in the journal, then
//! renamed into place in one transaction (`sealstrap::journal`); and, after the write, git asked
//! once more whether it ignores the plaintext Dex copy.

use std::path::Path;

use sealstrap::journal::{Scope, Transaction};
use sealstrap::plan::RunPlan;

use crate::workspace::error::Failure;
use crate::workspace::files::io_failure;
use crate::workspace::{git, repo};

/// How many files are staged at once.
const STAGE_BATCH: usize = 64;

/// Writes a run's files and removals in one journaled transaction; returns what was written.
pub fn write(scope: &Scope, run: &RunPlan) -> Result<Vec<String>, Failure> {
    // Every file's folder, checked before anything is staged: a committed link on the way
    // would lead the write out of the repository.
    for p in run
        .writes
        .iter()
        .map(|w| &w.path)
        .chain(run.removals.iter())
    {
        repo::refuse_write_outside(scope, p)?;
    }
    let mut tx = Transaction::new(scope);
    // Staged a batch at a time: one journal sync per batch and the batch's files synced
    // together (a fleet run writes thousands of files; one sync each made the write serial).
    let threads = sealstrap::par::available_threads();
    for batch in run.writes.chunks(STAGE_BATCH) {
        for w in batch {
            if w.mode.is_some()
                && let Some(dir) = w.path.parent()
            {
                tx.create_dir_all(dir, Some(0o700)).map_err(|e| {
                    io_failure("cannot create", dir, &e)
                        .hint("nothing was changed: every file is staged before any is replaced")
                })?;
            }
        }
        let files: Vec<(&Path, &[u8], Option<u32>)> = batch
            .iter()
            .map(|w| (w.path.as_path(), w.contents.as_slice(), w.mode))
            .collect();
        for (w, staged) in batch.iter().zip(tx.stage_many_step(&files, threads)) {
            staged.map_err(|e| {
                io_failure("cannot write", &w.path, &e)
                    .hint("nothing was changed: every file is staged before any is replaced")
            })?;
        }
    }
    for r in &run.removals {
        tx.remove(r).map_err(|e| Failure::new(e.to_string()))?;
    }
    tx.commit()
        .map_err(|e| Failure::new(format!("cannot move the new files into place: {e}")))?;
    Ok(written(run))
}

/// What a plan writes, as the summary lists it.
pub fn written(run: &RunPlan) -> Vec<String> {
    run.writes
        .iter()
        .map(|w| w.path.display().to_string())
        .chain(
            run.removals
                .iter()
                .map(|p| format!("{} (removed)", p.display())),
        )
        .collect()
}

/// Asks git once more, with the new rules on disk, whether it ignores the plaintext Dex copy; if
/// it would commit it after all (a rule sealstrap could not foresee), the copy is removed again
/// and the run fails. The password stays sealed; `seal --private-key` restores the copy.
pub fn confirm_copy_ignored(root: &Path, copy: &Path) -> Result<(), Failure> {
    let Some(rel) = std::path::absolute(copy)
        .ok()
        .and_then(|a| a.strip_prefix(root).ok().map(Path::to_path_buf))
    else {
        return Ok(());
    };
    // Without a git that answers, the rule sealstrap wrote is all there is to go by.
    let Some(ignored) = git::git_ignored(root, std::slice::from_ref(&rel)) else {
        return Ok(());
    };
    if !ignored.is_empty() && !git::git_tracks(root, &rel) {
        return Ok(());
    }
    let removed = std::fs::remove_file(copy).is_ok();
    let why = git::deciding_rule(root, &rel)
        .map(|(f, l, p)| format!(" (deciding rule: {f}:{l}: `{p}`)"))
        .unwrap_or_default();
    Err(Failure::new(format!(
        "git would commit {} even with sealstrap's ignore rule{why}; {}",
        repo::shown(copy).display(),
        if removed {
            "the plaintext copy was removed again (the password stays sealed)"
        } else {
            "REMOVE THE PLAINTEXT COPY NOW"
        }
    ))
    .hint("fix the ignore rules so git ignores that path (git check-ignore -v PATH shows which rule wins), then restore the copy: sealstrap seal --private-key KEY"))
}
