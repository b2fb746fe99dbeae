//! Multi-file writes that land together, their intent journal, and crash recovery.
//!
//! A [`Transaction`] writes inside a [`Scope`]: the folders the *command* says it writes in
//! (its roots) and where its journal lives. The journal never decides where anything goes.
//!
//! A write goes through these steps (SECURITY.md, "After a crash"):
//!   1. the caller locks every root ([`crate::output::FolderLock`]);
//!   2. before a folder or a temporary file is created, a line naming it (root index, path
//!      relative to that root) is appended to the journal and synced, so everything the run
//!      creates is named there first;
//!   3. each file is staged beside its destination under a fresh `.<name>.<pid>.<random>.tmp`
//!      name, synced;
//!   4. a `commit` line is appended and synced: from here on the write is decided;
//!   5. every file is renamed into place, removals follow, folders are synced, and the journal
//!      is deleted.
//!
//! The next run of a command over the same scope calls [`recover`] under the same locks: a
//! journal with `commit` is rolled forward, one without is rolled back (the temporaries and
//! empty folders it named are removed). Only what a journal names is ever touched, and a journal
//! is read with suspicion, since it is a file on disk: it must be a regular file of this user,
//! written for exactly this scope's roots, and every entry must be a plain relative path inside
//! its root (no `..`, no absolute path), a temporary must carry sealstrap's name for its
//! destination, and no symbolic link may stand on the way (each folder is opened with
//! `O_NOFOLLOW` from the root down, and the renames and deletions happen relative to those
//! folders). Anything else refuses the whole journal before anything is touched.
//!
//! In a git work tree the journal lives in the git directory (`.git/sealstrap-journal`), which
//! git never commits or clones; outside one, in the first root.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::output::{create_new, temp_base, temp_name};

/// The journal's file name, in the git directory or the first root.
pub const JOURNAL_NAME: &str = "sealstrap-journal";
/// Its name outside a git work tree (hidden in the folder it guards).
pub const JOURNAL_FILE_OUTSIDE_GIT: &str = ".sealstrap-journal";
const MAGIC: &str = "sealstrap-journal v2";
/// A journal names a few dozen files; anything larger is not one of ours.
const MAX_JOURNAL: u64 = 1 << 20;

/// Where a run writes: its roots (absolute; every file it writes lies inside one) and the path
/// of its journal. Decided by the command from its own arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub roots: Vec<PathBuf>,
    pub journal: PathBuf,
}

impl Scope {
    /// A scope over `roots` (made absolute, lexically normalized, nested ones dropped) with the
    /// journal for the first: in its git directory when it is a git work tree, else
    /// `<root>/.sealstrap-journal`.
    pub fn new(roots: &[PathBuf]) -> io::Result<Scope> {
        let mut abs: Vec<PathBuf> = Vec::new();
        for r in roots {
            let r = normalize(&std::path::absolute(r)?);
            if !abs.iter().any(|a| r.starts_with(a)) {
                abs.retain(|a| !a.starts_with(&r) || a == &r);
                abs.push(r);
            }
        }
        let first = abs
            .first()
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a scope needs a root"))?;
        Ok(Scope {
            journal: journal_path(&first),
            roots: abs,
        })
    }

    /// `path` as (root index, path relative to that root), when it lies inside a root.
    pub fn locate(&self, path: &Path) -> Option<(usize, PathBuf)> {
        let abs = normalize(&std::path::absolute(path).ok()?);
        let found = |abs: &Path, roots: Vec<(usize, PathBuf)>| {
            roots.into_iter().find_map(|(i, r)| {
                let rel = abs.strip_prefix(&r).ok()?;
                plain_relative(rel).then(|| (i, rel.to_path_buf()))
            })
        };
        if let Some(hit) = found(&abs, self.roots.iter().cloned().enumerate().collect()) {
            return Some(hit);
        }
        // A path spelled through a link to a root (a canonical path from a folder walk, say):
        // compare real paths, of the nearest existing folder above it.
        let existing = abs.ancestors().find(|a| a.exists())?;
        let rest = abs.strip_prefix(existing).ok()?;
        let real = fs::canonicalize(existing).ok()?.join(rest);
        found(
            &real,
            self.roots
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i, fs::canonicalize(r).ok()?)))
                .collect(),
        )
    }

    /// Whether a journal of an interrupted write is there.
    pub fn has_journal(&self) -> bool {
        names_a_write(&self.journal)
    }
}

/// Whether the journal at `path` may name a write: it is there and holds more than the start
/// of its first line (a run killed while creating it leaves it empty or torn, naming nothing;
/// the next run removes it).
pub fn names_a_write(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() > MAGIC.len() as u64 + 1 {
        return true;
    }
    fs::read(path).map_or(true, |t| {
        t.contains(&b'\n') || !format!("{MAGIC}\n").as_bytes().starts_with(&t)
    })
}

/// The journal of writes anchored at `anchor`: `<gitdir>/sealstrap-journal` when `anchor` is a
/// git work tree (`.git` a folder, or a `gitdir:` file for worktrees and submodules), else
/// `<anchor>/.sealstrap-journal`.
pub fn journal_path(anchor: &Path) -> PathBuf {
    let dot_git = anchor.join(".git");
    match fs::symlink_metadata(&dot_git) {
        Ok(m) if m.is_dir() => dot_git.join(JOURNAL_NAME),
        Ok(m) if m.is_file() => fs::read_to_string(&dot_git)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("gitdir:").map(|d| d.trim().to_string()))
            })
            .filter(|d| !d.is_empty())
            .map(|d| anchor.join(d).join(JOURNAL_NAME))
            .unwrap_or_else(|| anchor.join(JOURNAL_FILE_OUTSIDE_GIT)),
        _ => anchor.join(JOURNAL_FILE_OUTSIDE_GIT),
    }
}

/// Removes `.` and resolves `..` lexically (the roots come from the command line and may say
/// `secret-source/..`).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `rel` is a plain relative path: only normal components (may be empty: the root).
fn plain_relative(rel: &Path) -> bool {
    rel.components().all(|c| matches!(c, Component::Normal(_)))
}

fn hex_of(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    hex::encode(p.as_os_str().as_bytes())
}

fn path_of_hex(s: &str) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = hex::decode(s).ok()?;
    if bytes.contains(&0) {
        return None;
    }
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)))
}

/// Test hook, only in builds with the `test-hooks` feature (`cargo test` turns it on; a release
/// build never has it): with `SEALSTRAP_TEST_CRASH_AFTER=k`, the process exits with status 99
/// right after the k-th step of a journaled write (each staged file, the commit line, each
/// rename, the journal's removal).
#[cfg(feature = "test-hooks")]
fn crash_point() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STEP: AtomicU64 = AtomicU64::new(0);
    let step = STEP.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(k) = std::env::var("SEALSTRAP_TEST_CRASH_AFTER")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        && k == step
    {
        std::process::exit(99);
    }
}

#[cfg(not(feature = "test-hooks"))]
fn crash_point() {}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn outside(path: &Path, scope: &Scope) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is outside the folders this run writes in ({})",
            path.display(),
            scope
                .roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// A set of file writes that land together (see the module documentation). Dropped without
/// [`Transaction::commit`], it removes its temporary files, the folders it created and its
/// journal, leaving the tree as it was.
pub struct Transaction<'s> {
    scope: &'s Scope,
    journal: Option<File>,
    staged: Vec<(PathBuf, PathBuf)>,
    /// Files the write deletes, after every rename.
    removals: Vec<(usize, PathBuf, PathBuf)>,
    created_dirs: Vec<PathBuf>,
    /// A temporary file that failed to write and could not be deleted either: named in the
    /// journal, it could be rolled forward half-written, so the write must not be decided.
    stuck: Option<PathBuf>,
    done: bool,
}

impl<'s> Transaction<'s> {
    pub fn new(scope: &'s Scope) -> Self {
        Transaction {
            scope,
            journal: None,
            staged: Vec::new(),
            removals: Vec::new(),
            created_dirs: Vec::new(),
            stuck: None,
            done: false,
        }
    }

    /// Appends one line to the journal (creating it, private, on first use) and syncs it.
    fn log(&mut self, line: &str) -> io::Result<()> {
        self.log_lines(&format!("{line}\n"))
    }

    /// Appends `lines` (each ending in a newline) to the journal with one sync.
    fn log_lines(&mut self, lines: &str) -> io::Result<()> {
        if self.journal.is_none() {
            let mut f = create_new(&self.scope.journal, Some(0o600)).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "{} already exists: another write's journal (run the command again: it finishes that write first)",
                            self.scope.journal.display()
                        ),
                    )
                } else {
                    io::Error::new(
                        e.kind(),
                        format!("cannot create {}: {e}", self.scope.journal.display()),
                    )
                }
            })?;
            let mut head = format!("{MAGIC}\n");
            for r in &self.scope.roots {
                head.push_str(&format!("root {}\n", hex_of(r)));
            }
            f.write_all(head.as_bytes())?;
            f.sync_all()?;
            sync_dir(&parent_dir(&self.scope.journal))?;
            self.journal = Some(f);
        }
        let f = self.journal.as_mut().expect("opened above");
        f.write_all(lines.as_bytes())?;
        f.sync_data()
    }

    /// Creates `dir` and its missing parents inside the scope; new folders get `mode` (Unix),
    /// whatever the umask.
    pub fn create_dir_all(&mut self, dir: &Path, mode: Option<u32>) -> io::Result<()> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.as_os_str().is_empty() || d.is_dir() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            let (root, rel) = self
                .scope
                .locate(&d)
                .filter(|(_, rel)| !rel.as_os_str().is_empty())
                .ok_or_else(|| outside(&d, self.scope))?;
            self.log(&format!("mkdir {root} {}", hex_of(&rel)))?;
            fs::create_dir(&d)?;
            self.created_dirs.push(d.clone());
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&d, fs::Permissions::from_mode(mode.unwrap_or(0o755)))?;
        }
        Ok(())
    }

    /// Writes `contents` to a fresh temporary file beside `dest` (named in the journal first).
    pub fn stage(&mut self, dest: &Path, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        let plan = self.plan_stage(dest, mode)?;
        self.log(&plan.line)?;
        let file = self.write_temp(&plan, contents)?;
        self.finish_temp(plan, file.sync_all())
    }

    /// Stages every file of `files` (destination, contents, mode) like [`Transaction::stage`],
    /// with the same guarantees, for many files at the cost of few: their journal lines are
    /// appended with one sync, every temporary file is written, then they are synced together
    /// on up to `threads` threads (the filesystem commits concurrent syncs as one). The result
    /// says, file by file, whether it is staged; one that failed is not part of the write and
    /// its temporary file is gone, as with [`Transaction::stage`].
    pub fn stage_many(
        &mut self,
        files: &[(&Path, &[u8], Option<u32>)],
        threads: usize,
    ) -> Vec<io::Result<()>> {
        self.stage_batch(files, threads, || {})
    }

    /// Stages like [`Transaction::stage_many`], each file's temporary written counting as one
    /// step of the write (crash tests: a stop there leaves the journal naming temporaries that
    /// were never written, which recovery must take in its stride).
    pub fn stage_many_step(
        &mut self,
        files: &[(&Path, &[u8], Option<u32>)],
        threads: usize,
    ) -> Vec<io::Result<()>> {
        self.stage_batch(files, threads, crash_point)
    }

    fn stage_batch(
        &mut self,
        files: &[(&Path, &[u8], Option<u32>)],
        threads: usize,
        step: impl Fn(),
    ) -> Vec<io::Result<()>> {
        let mut results: Vec<io::Result<()>> = Vec::with_capacity(files.len());
        let mut plans = Vec::new();
        for (i, (dest, _, mode)) in files.iter().enumerate() {
            match self.plan_stage(dest, *mode) {
                Ok(plan) => {
                    plans.push((i, plan));
                    results.push(Ok(()));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        let lines: String = plans.iter().map(|(_, p)| p.line.clone() + "\n").collect();
        if !plans.is_empty()
            && let Err(e) = self.log_lines(&lines)
        {
            for (i, _) in &plans {
                results[*i] = Err(io::Error::new(e.kind(), e.to_string()));
            }
            return results;
        }
        let mut written = Vec::new();
        for (i, plan) in plans {
            match self.write_temp(&plan, files[i].1) {
                Ok(file) => written.push((i, plan, file)),
                Err(e) => results[i] = Err(e),
            }
            step();
        }
        let mut synced: Vec<Option<io::Result<()>>> = written.iter().map(|_| None).collect();
        let _ = crate::par::for_each_ordered(
            &written,
            threads,
            |_, (_, _, file)| file.sync_all(),
            |k, r| {
                synced[k] = Some(r);
                Ok::<(), ()>(())
            },
        );
        for ((i, plan, file), r) in written.into_iter().zip(synced) {
            drop(file);
            if let Err(e) = self.finish_temp(
                plan,
                r.unwrap_or_else(|| Err(io::Error::other("not synced"))),
            ) {
                results[i] = Err(e);
            }
        }
        results
    }

    /// Checks a file can be staged at `dest` (inside the scope, no folder in the way), creating
    /// its folder; returns its temporary name and journal line.
    fn plan_stage(&mut self, dest: &Path, mode: Option<u32>) -> io::Result<StagePlan> {
        let dir = parent_dir(dest);
        let (root, rel) = self
            .scope
            .locate(dest)
            .filter(|(_, rel)| rel.file_name().is_some())
            .ok_or_else(|| outside(dest, self.scope))?;
        self.create_dir_all(&dir, None)?;
        let file_name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        // A folder where the file goes would fail the rename after other files landed: refuse
        // it now, before anything is replaced.
        if fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!(
                    "{} is a folder, where sealstrap writes a file",
                    dest.display()
                ),
            ));
        }
        let tmp_name = temp_name(file_name);
        Ok(StagePlan {
            line: format!(
                "stage {root} {} {}",
                hex_of(&rel),
                hex_of(Path::new(&tmp_name))
            ),
            tmp: dir.join(&tmp_name),
            dest: dest.to_path_buf(),
            mode: mode.or(existing_mode(dest)),
        })
    }

    /// Creates the temporary file of `plan` (already named in the journal) with `contents`,
    /// not synced yet.
    fn write_temp(&mut self, plan: &StagePlan, contents: &[u8]) -> io::Result<File> {
        let mut file = create_new(&plan.tmp, plan.mode)?;
        match file.write_all(contents) {
            Ok(()) => Ok(file),
            Err(e) => {
                drop(file);
                self.discard(&plan.tmp);
                Err(e)
            }
        }
    }

    /// Makes `plan`'s written temporary file part of the write once `synced` says its data is
    /// on disk; otherwise deletes it.
    fn finish_temp(&mut self, plan: StagePlan, synced: io::Result<()>) -> io::Result<()> {
        match synced {
            Ok(()) => {
                self.staged.push((plan.tmp, plan.dest));
                Ok(())
            }
            Err(e) => {
                self.discard(&plan.tmp);
                Err(e)
            }
        }
    }

    /// Deletes a temporary file that failed to write. One that cannot be deleted stops the
    /// write from being decided ([`Transaction::commit`] refuses), since the journal names it.
    fn discard(&mut self, tmp: &Path) {
        if fs::remove_file(tmp).is_err() && tmp.exists() {
            self.stuck = Some(tmp.to_path_buf());
        }
    }

    /// Stages like [`Transaction::stage`], counting as one step of the write (crash tests).
    pub fn stage_step(
        &mut self,
        dest: &Path,
        contents: &[u8],
        mode: Option<u32>,
    ) -> io::Result<()> {
        self.stage(dest, contents, mode)?;
        crash_point();
        Ok(())
    }

    /// Deletes `dest` as part of the write: after every staged file is in place, never before.
    pub fn remove(&mut self, dest: &Path) -> io::Result<()> {
        let (root, rel) = self
            .scope
            .locate(dest)
            .filter(|(_, rel)| rel.file_name().is_some())
            .ok_or_else(|| outside(dest, self.scope))?;
        self.removals.push((root, rel, dest.to_path_buf()));
        Ok(())
    }

    /// Decides the write (the `commit` line), renames every staged file into place, deletes
    /// the removals, syncs the folders and deletes the journal. A failure after the decision
    /// leaves the journal for the next run, which finishes the write.
    pub fn commit(mut self) -> io::Result<()> {
        if self.staged.is_empty() && self.removals.is_empty() {
            self.done = true;
            return Ok(());
        }
        if let Some(tmp) = &self.stuck {
            return Err(io::Error::other(format!(
                "{} failed to write and cannot be deleted; nothing was changed (delete it, then run again)",
                tmp.display()
            )));
        }
        let removals = std::mem::take(&mut self.removals);
        for (root, rel, _) in &removals {
            self.log(&format!("remove {root} {}", hex_of(rel)))?;
        }
        self.log("commit")?;
        self.done = true;
        crash_point();
        for (tmp, dest) in &self.staged {
            fs::rename(tmp, dest).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot move {} into place: {e} (the next sealstrap run finishes the write)",
                        dest.display()
                    ),
                )
            })?;
            crash_point();
        }
        for (_, _, dest) in &removals {
            remove_if_there(dest)?;
        }
        let mut dirs: Vec<PathBuf> = self
            .staged
            .iter()
            .map(|(_, d)| parent_dir(d))
            .chain(removals.iter().map(|(_, _, d)| parent_dir(d)))
            .collect();
        dirs.sort();
        dirs.dedup();
        // Synced on every core (a fleet's write touches thousands of folders); the first error
        // stops it, and the journal, still there, makes the next run sync again.
        crate::par::for_each_ordered(
            &dirs,
            crate::par::available_threads(),
            |_, d| sync_dir(d),
            |_, synced| synced,
        )?;
        self.journal = None;
        fs::remove_file(&self.scope.journal)?;
        sync_dir(&parent_dir(&self.scope.journal))?;
        crash_point();
        Ok(())
    }
}

/// A file about to be staged: its journal line, temporary file, destination and mode.
struct StagePlan {
    line: String,
    tmp: PathBuf,
    dest: PathBuf,
    mode: Option<u32>,
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for (tmp, _) in &self.staged {
            let _ = fs::remove_file(tmp);
        }
        for d in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(d);
        }
        if self.journal.take().is_some() {
            let _ = fs::remove_file(&self.scope.journal);
        }
    }
}

fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

/// Deletes a file the write removes; already gone is fine (a rerun of the same journal).
fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            e.kind(),
            format!("cannot delete {}: {e}", path.display()),
        )),
        _ => Ok(()),
    }
}

/// What [`recover`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Files moved into place from a committed journal (an interrupted write finished).
    pub rolled_forward: usize,
    /// Temporary files of an undecided write removed (it had replaced nothing).
    pub removed_temps: Vec<PathBuf>,
    /// Files a committed write removed, finished now (every one is said).
    pub removed: Vec<PathBuf>,
    /// The journal named no write (a run killed while creating it): it was removed.
    pub removed_empty_journal: bool,
}

/// Why a leftover journal was not acted on.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// The journal is not one this run can trust: nothing was touched.
    #[error("{journal}: {why}; nothing was touched")]
    Refused { journal: String, why: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl RecoverError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RecoverError::Refused { journal, .. } => Some(format!(
                "sealstrap writes its journal itself, only for the folders the command writes in; if you did not interrupt a sealstrap run with exactly these folders, this file is not sealstrap's: look at it, then delete it (rm {journal}) and run again"
            )),
            RecoverError::Io(_) => Some(
                "fix the cause named above and run again; the journal stays until the write is finished"
                    .into(),
            ),
        }
    }
}

/// One journal entry, resolved against its root.
enum Entry {
    Mkdir {
        root: usize,
        rel: PathBuf,
    },
    Stage {
        root: usize,
        rel: PathBuf,
        tmp: PathBuf,
    },
    Remove {
        root: usize,
        rel: PathBuf,
    },
}

/// Reads and checks a journal's text against `scope` (pure): the entries, and whether the write
/// was decided. Every rule of the module documentation that can be checked without the disk.
fn parse_journal(text: &str, scope: &Scope) -> Result<(Vec<Entry>, bool), String> {
    // A line is whole only with its newline: a torn last line was never acted on.
    let whole = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    let mut lines = whole.lines();
    if lines.next() != Some(MAGIC) {
        return Err(format!("not a {MAGIC} journal"));
    }
    let mut roots = Vec::new();
    let mut entries = Vec::new();
    let mut committed = false;
    let rel_of = |hex: Option<&str>, what: &str| -> Result<PathBuf, String> {
        let p = hex
            .and_then(path_of_hex)
            .ok_or_else(|| format!("a {what} entry without a readable path"))?;
        if p.as_os_str().is_empty() || !plain_relative(&p) {
            return Err(format!(
                "a {what} entry for {:?}, which is not a plain path inside its folder (absolute, or with `..`)",
                p
            ));
        }
        Ok(p)
    };
    for (n, line) in lines.enumerate() {
        let line_no = n + 2;
        if committed {
            return Err(format!("line {line_no}: an entry after commit"));
        }
        let mut f = line.split(' ');
        let word = f.next().unwrap_or("");
        if word == "root" {
            if !entries.is_empty() {
                return Err(format!("line {line_no}: a root after the entries"));
            }
            roots.push(
                f.next()
                    .and_then(path_of_hex)
                    .ok_or_else(|| format!("line {line_no}: an unreadable root"))?,
            );
            continue;
        }
        if word == "commit" {
            committed = true;
            continue;
        }
        let root: usize = f
            .next()
            .and_then(|r| r.parse().ok())
            .filter(|r| *r < scope.roots.len())
            .ok_or_else(|| format!("line {line_no}: an entry for an unknown folder"))?;
        let entry = match word {
            "mkdir" => Entry::Mkdir {
                root,
                rel: rel_of(f.next(), "mkdir").map_err(|e| format!("line {line_no}: {e}"))?,
            },
            "remove" => Entry::Remove {
                root,
                rel: rel_of(f.next(), "remove").map_err(|e| format!("line {line_no}: {e}"))?,
            },
            "stage" => {
                let rel = rel_of(f.next(), "stage").map_err(|e| format!("line {line_no}: {e}"))?;
                let tmp = f
                    .next()
                    .and_then(path_of_hex)
                    .ok_or_else(|| format!("line {line_no}: a stage entry without a temporary"))?;
                let base = tmp.to_str().and_then(temp_base);
                let dest_name = rel.file_name().and_then(|n| n.to_str());
                if tmp.components().count() != 1 || base.is_none() || base != dest_name {
                    return Err(format!(
                        "line {line_no}: {:?} is not a sealstrap temporary name for {:?}",
                        tmp, rel
                    ));
                }
                Entry::Stage { root, rel, tmp }
            }
            other => return Err(format!("line {line_no}: unknown entry {other:?}")),
        };
        if f.next().is_some() {
            return Err(format!("line {line_no}: extra fields"));
        }
        entries.push(entry);
    }
    if roots != scope.roots {
        let show = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "it records a write in {}, and this run writes in {}",
            show(&roots),
            show(&scope.roots)
        ));
    }
    Ok((entries, committed))
}

/// Opens `rel` (a folder path under `root`) one component at a time without following links.
/// `Ok(None)`: a component is missing. A link or a non-folder on the way is an error.
fn open_dir_under(root: &Path, rel: &Path) -> Result<Option<OwnedFd>, String> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut fd = rustix::fs::open(root, flags, Mode::empty())
        .map_err(|e| format!("cannot open {}: {e}", root.display()))?;
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match rustix::fs::openat(&fd, c.as_os_str(), flags | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(next) => fd = next,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                return Err(format!(
                    "{} is a symbolic link or not a folder; a journal's paths never pass through one",
                    at.display()
                ));
            }
            Err(e) => return Err(format!("cannot open {}: {e}", at.display())),
        }
    }
    Ok(Some(fd))
}

/// The type of `name` in `dir`, not following a link; `None` when absent.
fn type_at(dir: &OwnedFd, name: &std::ffi::OsStr) -> Result<Option<FileType>, String> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(format!("cannot inspect {name:?}: {e}")),
    }
}

/// A checked action, with the folder it happens in already open.
enum Action {
    Rename {
        dir: OwnedFd,
        tmp: PathBuf,
        dest: PathBuf,
        shown: PathBuf,
    },
    Delete {
        dir: OwnedFd,
        name: PathBuf,
        shown: PathBuf,
        is_temp: bool,
    },
    Rmdir {
        dir: OwnedFd,
        name: PathBuf,
    },
}

/// Finishes or undoes an interrupted write of `scope`. Call it holding the locks of every root.
/// A missing journal does nothing; a journal that breaks any rule is refused whole.
pub fn recover(scope: &Scope) -> Result<Recovery, RecoverError> {
    let journal = &scope.journal;
    let refuse = |why: String| RecoverError::Refused {
        journal: journal.display().to_string(),
        why,
    };
    let meta = match fs::symlink_metadata(journal) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recovery::default()),
        Err(e) => return Err(e.into()),
    };
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if !meta.file_type().is_file() {
            return Err(refuse("not a regular file".into()));
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(refuse(format!(
                "owned by user {}, not by you (sealstrap's journal is always yours)",
                meta.uid()
            )));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(refuse(
                "writable by other users (sealstrap writes its journal 0600)".into(),
            ));
        }
        if meta.len() > MAX_JOURNAL {
            return Err(refuse(format!(
                "{} bytes, far more than a journal",
                meta.len()
            )));
        }
    }
    let text = fs::read(journal)?;
    // Killed between creating the journal and finishing its first line: it names no write
    // (nothing is staged before the journal names it), so it goes, and nothing else is touched.
    if !text.contains(&b'\n') && format!("{MAGIC}\n").as_bytes().starts_with(&text) {
        fs::remove_file(journal)?;
        sync_dir(&parent_dir(journal))?;
        return Ok(Recovery {
            removed_empty_journal: true,
            ..Recovery::default()
        });
    }
    let text = String::from_utf8(text).map_err(|_| refuse("not text".into()))?;
    let (entries, committed) = parse_journal(&text, scope).map_err(refuse)?;
    // sealstrap never writes a removal alone: every write that removes a file also stages one
    // (the kustomization that listed it). A journal of removals only is not sealstrap's.
    if committed
        && entries.iter().any(|e| matches!(e, Entry::Remove { .. }))
        && !entries.iter().any(|e| matches!(e, Entry::Stage { .. }))
    {
        return Err(refuse(
            "it only removes files, which no sealstrap write does".into(),
        ));
    }

    // Check everything against the disk before touching anything.
    let mut actions = Vec::new();
    let mut touched: Vec<OwnedFd> = Vec::new();
    for e in &entries {
        let (root, rel) = match e {
            Entry::Mkdir { root, rel }
            | Entry::Stage { root, rel, .. }
            | Entry::Remove { root, rel } => (*root, rel),
        };
        let root_dir = &scope.roots[root];
        let parent = rel.parent().unwrap_or(Path::new(""));
        let name = PathBuf::from(rel.file_name().expect("checked: not empty"));
        let shown = root_dir.join(rel);
        let Some(dir) = open_dir_under(root_dir, parent).map_err(&refuse)? else {
            continue; // its folder is gone: nothing of it is there
        };
        let what = type_at(&dir, name.as_os_str()).map_err(&refuse)?;
        match e {
            Entry::Mkdir { .. } => {
                if committed || what.is_none() {
                    continue;
                }
                if what != Some(FileType::Directory) {
                    return Err(refuse(format!("{} is not a folder", shown.display())));
                }
                actions.push(Action::Rmdir { dir, name });
            }
            Entry::Stage { tmp, .. } => {
                if what == Some(FileType::Directory) {
                    return Err(refuse(format!(
                        "{} is a folder, where the write puts a file",
                        shown.display()
                    )));
                }
                match type_at(&dir, tmp.as_os_str()).map_err(&refuse)? {
                    None => {}
                    Some(FileType::RegularFile) => {
                        let tmp_shown = shown.with_file_name(tmp);
                        actions.push(if committed {
                            Action::Rename {
                                dir,
                                tmp: tmp.clone(),
                                dest: name,
                                shown,
                            }
                        } else {
                            Action::Delete {
                                dir,
                                name: tmp.clone(),
                                shown: tmp_shown,
                                is_temp: true,
                            }
                        });
                    }
                    Some(_) => {
                        return Err(refuse(format!(
                            "{} is not a regular file",
                            shown.with_file_name(tmp).display()
                        )));
                    }
                }
            }
            Entry::Remove { .. } => {
                if !committed || what.is_none() {
                    continue;
                }
                if what != Some(FileType::RegularFile) {
                    return Err(refuse(format!(
                        "{} is not a regular file, and a write only ever removes files",
                        shown.display()
                    )));
                }
                actions.push(Action::Delete {
                    dir,
                    name,
                    shown,
                    is_temp: false,
                });
            }
        }
    }

    let mut rec = Recovery::default();
    // Renames first, then removals; undoing, temporaries first, then folders deepest first.
    actions.sort_by_key(|a| match a {
        Action::Rename { .. } => 0,
        Action::Delete { .. } => 1,
        Action::Rmdir { .. } => 2,
    });
    let mut rmdirs = Vec::new();
    for a in actions {
        match a {
            Action::Rename {
                dir,
                tmp,
                dest,
                shown,
            } => {
                rustix::fs::renameat(&dir, &tmp, &dir, &dest).map_err(|e| {
                    io::Error::other(format!("cannot move {} into place: {e}", shown.display()))
                })?;
                rec.rolled_forward += 1;
                touched.push(dir);
            }
            Action::Delete {
                dir,
                name,
                shown,
                is_temp,
            } => {
                match rustix::fs::unlinkat(&dir, &name, AtFlags::empty()) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                    Err(e) => {
                        return Err(io::Error::other(format!(
                            "cannot delete {}: {e}",
                            shown.display()
                        ))
                        .into());
                    }
                }
                if is_temp {
                    rec.removed_temps.push(shown);
                } else {
                    rec.removed.push(shown);
                }
                touched.push(dir);
            }
            Action::Rmdir { dir, name } => rmdirs.push((dir, name)),
        }
    }
    // Folders the undecided write created, deepest (last created) first, only while empty.
    for (dir, name) in rmdirs.into_iter().rev() {
        let _ = rustix::fs::unlinkat(&dir, &name, AtFlags::REMOVEDIR);
        touched.push(dir);
    }
    for d in &touched {
        rustix::fs::fsync(d).map_err(io::Error::from)?;
    }
    fs::remove_file(journal)?;
    sync_dir(&parent_dir(journal))?;
    Ok(rec)
}

/// Writes a journal for `scope` holding `lines` (tests plant hostile journals with it; only in
/// builds with the `test-hooks` feature).
#[cfg(any(test, feature = "test-hooks"))]
pub fn plant(scope: &Scope, lines: &[String]) -> io::Result<()> {
    let mut text = format!("{MAGIC}\n");
    for r in &scope.roots {
        text.push_str(&format!("root {}\n", hex_of(r)));
    }
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&scope.journal)?;
    f.write_all(text.as_bytes())
}

/// A journal line naming `path` (relative to a root) in the journal's encoding (tests; only in
/// builds with the `test-hooks` feature).
#[cfg(any(test, feature = "test-hooks"))]
pub fn entry(word: &str, root: usize, rel: &Path, tmp: Option<&Path>) -> String {
    match tmp {
        Some(t) => format!("{word} {root} {} {}", hex_of(rel), hex_of(t)),
        None => format!("{word} {root} {}", hex_of(rel)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(dir: &Path) -> Scope {
        Scope::new(&[dir.to_path_buf()]).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_lands_until_commit_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let a = dir.path().join("out/sealed/a.yaml");
        {
            let mut t = Transaction::new(&s);
            t.stage(&a, b"a", None).unwrap();
            assert!(!a.exists());
            assert!(s.has_journal(), "named in the journal before it is created");
        }
        assert_eq!(
            names(dir.path()),
            Vec::<String>::new(),
            "folders and journal gone"
        );
        let mut t = Transaction::new(&s);
        t.stage(&a, b"a", None).unwrap();
        t.stage(&dir.path().join("out/b.yaml"), b"b", None).unwrap();
        t.commit().unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert_eq!(names(&dir.path().join("out/sealed")), vec!["a.yaml"]);
        assert!(!s.has_journal());
    }

    #[test]
    fn a_failing_stage_leaves_the_tree_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let blocker = dir.path().join("secrets");
        fs::write(&blocker, b"a file where a folder should be").unwrap();
        let mut t = Transaction::new(&s);
        t.stage(&dir.path().join("out/x.yaml"), b"x", None).unwrap();
        assert!(t.stage(&blocker.join("pw"), b"pw", Some(0o600)).is_err());
        drop(t);
        assert_eq!(names(dir.path()), vec!["secrets"]);
    }

    #[test]
    fn stage_many_lands_every_file_at_commit_and_a_refused_one_alone_stays_out() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let blocker = dir.path().join("out/sealed/c.yaml");
        fs::create_dir_all(&blocker).unwrap();
        let a = dir.path().join("out/sealed/a.yaml");
        let b = dir.path().join("out/sealed/b.yaml");
        let d = dir.path().join("out/other/d.yaml");
        fs::write(&b, b"old b").unwrap();
        let mut t = Transaction::new(&s);
        let files: Vec<(&Path, &[u8], Option<u32>)> = vec![
            (&a, b"a", None),
            (&b, b"new b", None),
            (&blocker, b"c", None),
            (&d, b"d", Some(0o600)),
        ];
        let results = t.stage_many(&files, 3);
        assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok());
        assert_eq!(
            results[2].as_ref().unwrap_err().kind(),
            io::ErrorKind::IsADirectory
        );
        // Nothing landed yet, and the journal names the three temporary files.
        assert!(!a.exists() && !d.exists());
        assert_eq!(fs::read(&b).unwrap(), b"old b");
        let journal = fs::read_to_string(&s.journal).unwrap();
        assert_eq!(
            journal.lines().filter(|l| l.starts_with("stage ")).count(),
            3
        );
        t.commit().unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert_eq!(fs::read(&b).unwrap(), b"new b");
        assert_eq!(fs::read(&d).unwrap(), b"d");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(blocker.is_dir());
        assert_eq!(
            names(&dir.path().join("out/sealed")),
            vec!["a.yaml", "b.yaml", "c.yaml"]
        );
        assert!(!s.has_journal());
    }

    /// Files staged together are named in the journal before they exist, so a write stopped
    /// after `stage_many` is rolled back like one stopped after `stage`.
    #[test]
    fn a_write_stopped_after_stage_many_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let a = dir.path().join("a.yaml");
        fs::write(&a, b"old").unwrap();
        let b = dir.path().join("sub/b.yaml");
        let mut t = Transaction::new(&s);
        let files: Vec<(&Path, &[u8], Option<u32>)> = vec![(&a, b"new", None), (&b, b"b", None)];
        assert!(t.stage_many(&files, 2).iter().all(Result::is_ok));
        t.done = true; // as if killed here
        drop(t);
        let rec = recover(&s).unwrap();
        assert_eq!((rec.rolled_forward, rec.removed_temps.len()), (0, 2));
        assert_eq!(fs::read(&a).unwrap(), b"old");
        assert_eq!(names(dir.path()), vec!["a.yaml"]);
    }

    #[test]
    fn a_write_outside_the_scope_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("repo");
        fs::create_dir(&inner).unwrap();
        let s = scope(&inner);
        let mut t = Transaction::new(&s);
        let err = t
            .stage(&dir.path().join("elsewhere.yaml"), b"x", None)
            .unwrap_err();
        assert!(err.to_string().contains("outside the folders"), "{err}");
        let err = t.stage(&inner.join("../x"), b"x", None).unwrap_err();
        assert!(err.to_string().contains("outside the folders"), "{err}");
    }

    /// A write stopped after staging (no commit line) is rolled back; one stopped after the
    /// commit line is rolled forward, removals included.
    #[test]
    fn recovery_rolls_back_an_undecided_write_and_forward_a_decided_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let a = dir.path().join("a.yaml");
        let old = dir.path().join("old.yaml");
        fs::write(&a, b"old").unwrap();
        fs::write(&old, b"old").unwrap();
        let user_tmp = dir.path().join(".notes.2024.1.tmp");
        fs::write(&user_tmp, b"mine").unwrap();

        let mut t = Transaction::new(&s);
        t.stage(&a, b"new", None).unwrap();
        t.stage(&dir.path().join("sub/b.yaml"), b"b", None).unwrap();
        t.done = true; // as if killed here
        drop(t);
        let rec = recover(&s).unwrap();
        assert_eq!(rec.rolled_forward, 0);
        assert_eq!(rec.removed_temps.len(), 2);
        assert_eq!(fs::read(&a).unwrap(), b"old");
        assert_eq!(
            names(dir.path()),
            vec![".notes.2024.1.tmp", "a.yaml", "old.yaml"],
            "the created folder is gone, the user's file stays"
        );

        let mut t = Transaction::new(&s);
        t.stage(&a, b"new", None).unwrap();
        t.remove(&old).unwrap();
        t.log("remove 0 6f6c642e79616d6c").unwrap();
        t.log("commit").unwrap();
        t.done = true;
        drop(t);
        let rec = recover(&s).unwrap();
        assert_eq!(rec.rolled_forward, 1);
        assert_eq!(fs::read(&a).unwrap(), b"new");
        assert!(!old.exists() && !s.has_journal());
        assert!(user_tmp.exists());
    }

    #[test]
    fn hostile_journals_are_refused_and_nothing_is_touched() {
        let outer = tempfile::tempdir().unwrap();
        let repo = outer.path().join("repo");
        fs::create_dir_all(repo.join("sub")).unwrap();
        let victim = outer.path().join("bashrc");
        fs::write(&victim, b"precious").unwrap();
        let evil_tmp = repo.join(".bashrc.1.2.tmp");
        fs::write(&evil_tmp, b"evil").unwrap();
        std::os::unix::fs::symlink(outer.path(), repo.join("link")).unwrap();
        let s = scope(&repo);
        let t = |p: &str| Path::new(p).to_path_buf();
        let cases: Vec<(Vec<String>, &str)> = vec![
            (
                vec![entry(
                    "stage",
                    0,
                    &t("../bashrc"),
                    Some(&t(".bashrc.1.2.tmp")),
                )],
                "not a plain path",
            ),
            (
                vec![entry("stage", 0, &victim, Some(&t(".bashrc.1.2.tmp")))],
                "not a plain path",
            ),
            (
                // A stage line first: a removal-only journal is refused earlier.
                vec![
                    entry("stage", 0, &t("sub/a.yaml"), Some(&t(".a.yaml.1.2.tmp"))),
                    entry("remove", 0, &t("link/bashrc"), None),
                    "commit".into(),
                ],
                "symbolic link",
            ),
            (
                vec![
                    entry("stage", 0, &t("link/bashrc"), Some(&t(".bashrc.1.2.tmp"))),
                    "commit".into(),
                ],
                "symbolic link",
            ),
            (
                vec![entry(
                    "stage",
                    0,
                    &t("x.yaml"),
                    Some(&t("../.bashrc.1.2.tmp")),
                )],
                "temporary name",
            ),
            (
                vec![entry("stage", 0, &t("x.yaml"), Some(&t(".bashrc.1.2.tmp")))],
                "temporary name",
            ),
            (
                vec![entry("stage", 0, &t("x.yaml"), Some(&t("x.yaml")))],
                "temporary name",
            ),
            (
                vec![entry("remove", 3, &t("x.yaml"), None)],
                "unknown folder",
            ),
            (vec!["rename 0 aa bb".into()], "unknown entry"),
        ];
        for (lines, why) in cases {
            plant(&s, &lines).unwrap();
            let err = recover(&s).unwrap_err();
            assert!(
                matches!(err, RecoverError::Refused { .. }) && err.to_string().contains(why),
                "{lines:?}: {err}"
            );
            assert!(s.has_journal(), "a refused journal stays");
            fs::remove_file(&s.journal).unwrap();
            assert_eq!(fs::read(&victim).unwrap(), b"precious");
            assert!(evil_tmp.exists());
        }
        // A journal for other roots (a copied or planted one).
        let other = Scope {
            roots: vec![outer.path().to_path_buf()],
            journal: s.journal.clone(),
        };
        plant(
            &other,
            &[entry("remove", 0, &t("bashrc"), None), "commit".into()],
        )
        .unwrap();
        let err = recover(&s).unwrap_err();
        assert!(err.to_string().contains("records a write in"), "{err}");
        fs::remove_file(&s.journal).unwrap();
        // A journal that is a link, or writable by others.
        std::os::unix::fs::symlink(&victim, &s.journal).unwrap();
        assert!(
            recover(&s)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        fs::remove_file(&s.journal).unwrap();
        plant(&s, &[]).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&s.journal, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            recover(&s)
                .unwrap_err()
                .to_string()
                .contains("writable by other users")
        );
        fs::remove_file(&s.journal).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn a_torn_last_line_was_never_acted_on() {
        let dir = tempfile::tempdir().unwrap();
        let s = scope(dir.path());
        let a = dir.path().join("a.yaml");
        fs::write(&a, b"old").unwrap();
        let mut t = Transaction::new(&s);
        t.stage(&a, b"new", None).unwrap();
        t.done = true;
        drop(t);
        // "commit" cut short by the crash: undecided, rolled back.
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&s.journal)
            .unwrap();
        f.write_all(b"comm").unwrap();
        let rec = recover(&s).unwrap();
        assert_eq!((rec.rolled_forward, rec.removed_temps.len()), (0, 1));
        assert_eq!(fs::read(&a).unwrap(), b"old");
    }

    #[test]
    fn the_journal_lives_in_the_git_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            journal_path(dir.path()),
            dir.path().join(JOURNAL_FILE_OUTSIDE_GIT)
        );
        fs::create_dir(dir.path().join(".git")).unwrap();
        assert_eq!(
            journal_path(dir.path()),
            dir.path().join(".git").join(JOURNAL_NAME)
        );
        let wt = tempfile::tempdir().unwrap();
        fs::write(
            wt.path().join(".git"),
            "gitdir: /elsewhere/.git/worktrees/x\n",
        )
        .unwrap();
        assert_eq!(
            journal_path(wt.path()),
            Path::new("/elsewhere/.git/worktrees/x").join(JOURNAL_NAME)
        );
    }

    #[test]
    fn scopes_drop_nested_roots() {
        let s = Scope::new(&[
            PathBuf::from("/r/out"),
            PathBuf::from("/r"),
            PathBuf::from("/r/secrets"),
            PathBuf::from("/s/x/.."),
        ])
        .unwrap();
        assert_eq!(s.roots, vec![PathBuf::from("/r"), PathBuf::from("/s")]);
        assert_eq!(
            s.locate(Path::new("/r/a/b")),
            Some((0, PathBuf::from("a/b")))
        );
        assert_eq!(s.locate(Path::new("/s/c")), Some((1, PathBuf::from("c"))));
        assert_eq!(s.locate(Path::new("/t/c")), None);
    }
}
