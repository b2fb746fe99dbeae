//! Careful files: atomic replacement and private files.
//!
//! Every manifest is written to a temporary file in the destination's own directory, flushed,
//! and renamed over the destination, so a reader (or a crash) sees the old file or the new one,
//! never half of one. Nothing here decides *what* to write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically (temp file in the same directory, then rename).
/// With `mode`, the file gets those permission bits (Unix); otherwise an existing file keeps its
/// mode and a new one gets the default.
pub fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let existing_mode = existing_mode(path);
    let (tmp_path, mut file) = create_temp(&dir, file_name, mode.or(existing_mode))?;
    let result = (|| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

fn create_temp(
    dir: &Path,
    file_name: &std::ffi::OsStr,
    mode: Option<u32>,
) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    for attempt in 0u32..100 {
        let mut name = std::ffi::OsString::from(".");
        name.push(file_name);
        name.push(format!(".{pid}.{attempt}.tmp"));
        let tmp = dir.join(name);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Private from the first byte; widened below if the destination asks for more.
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            Ok(file) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let m = mode.unwrap_or(0o644);
                    file.set_permissions(fs::Permissions::from_mode(m))?;
                }
                #[cfg(not(unix))]
                let _ = mode;
                return Ok((tmp, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a temporary file",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        write_atomic(&p, b"one", None).unwrap();
        write_atomic(&p, b"two", None).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn private_mode_and_kept_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        write_atomic(&p, b"x", Some(0o600)).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        write_atomic(&p, b"y", None).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

/// A set of file writes that land together: every file is first written to a temporary file
/// beside its destination (creating missing folders), and only when all of them are staged are
/// they renamed into place. Dropped without [`Transaction::commit`], it removes its temporary
/// files and the folders it created, leaving the tree as it was.
#[derive(Default)]
pub struct Transaction {
    staged: Vec<(PathBuf, PathBuf)>,
    /// Files the write deletes, after every rename (journaled like them).
    removals: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
    done: bool,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates `dir` and its missing parents; new folders get `mode` (Unix).
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
            fs::create_dir(&d)?;
            self.created_dirs.push(d.clone());
            // Set explicitly, whatever the umask (under umask 000 a folder would be 0777).
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&d, fs::Permissions::from_mode(mode.unwrap_or(0o755)))?;
            }
            #[cfg(not(unix))]
            let _ = mode;
        }
        Ok(())
    }

    /// Writes `contents` to a temporary file beside `dest`.
    pub fn stage(&mut self, dest: &Path, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
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
        let (tmp, mut file) = create_temp(&dir, file_name, mode.or(existing_mode(dest)))?;
        self.staged.push((tmp.clone(), dest.to_path_buf()));
        file.write_all(contents)?;
        file.sync_all()?;
        Ok(())
    }

    /// Renames every staged file into place.
    pub fn commit(mut self) -> io::Result<()> {
        self.done = true;
        let staged = std::mem::take(&mut self.staged);
        let mut iter = staged.into_iter();
        for (tmp, dest) in iter.by_ref() {
            if let Err(e) = fs::rename(&tmp, &dest) {
                let _ = fs::remove_file(&tmp);
                for (t, _) in iter {
                    let _ = fs::remove_file(t);
                }
                return Err(e);
            }
        }
        for dest in std::mem::take(&mut self.removals) {
            remove_if_there(&dest)?;
        }
        Ok(())
    }
}

impl Drop for Transaction {
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
    }
}

#[cfg(test)]
mod transaction_tests {
    use super::*;

    #[test]
    fn nothing_lands_until_commit_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out/sealed/a.yaml");
        {
            let mut t = Transaction::new();
            t.stage(&a, b"a", None).unwrap();
            assert!(!a.exists());
        }
        assert!(!dir.path().join("out").exists(), "created folders removed");
        let mut t = Transaction::new();
        t.stage(&a, b"a", None).unwrap();
        t.stage(&dir.path().join("out/b.yaml"), b"b", None).unwrap();
        t.commit().unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert_eq!(
            fs::read_dir(dir.path().join("out/sealed")).unwrap().count(),
            1
        );
    }

    #[test]
    fn a_failing_stage_leaves_the_tree_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("secrets");
        fs::write(&blocker, b"a file where a folder should be").unwrap();
        let mut t = Transaction::new();
        t.stage(&dir.path().join("out/x.yaml"), b"x", None).unwrap();
        assert!(t.stage(&blocker.join("pw"), b"pw", Some(0o600)).is_err());
        drop(t);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("secrets")]);
    }
}

// --- Crash safety: a lock per output folder, an intent journal, and recovery ----------------
//
// A multi-file write goes through these steps (SECURITY.md, "After a crash"):
//   1. lock the output folder (flock on the folder itself; a second run waits, then names the
//      holder);
//   2. stage every file beside its destination and fsync it (0600 from the first byte);
//   3. write the intent journal (`<out>/.sealstrap-journal`, every temp → destination rename),
//      fsync it and its folder;
//   4. rename each file into place, fsync every folder touched, then remove the journal.
// The next run, under the same lock, rolls a leftover journal forward (the journal exists only
// once every file was staged) and removes temporary files no journal covers (a run killed while
// staging: rolled back).

/// The journal's file name inside the output folder.
pub const JOURNAL_NAME: &str = ".sealstrap-journal";
const JOURNAL_MAGIC: &str = "sealstrap-journal v1";

/// Test hook (the crash-injection test and `tests/kill-loop.sh`): with
/// `SEALSTRAP_TEST_CRASH_AFTER=k`, the process exits with status 99 right after the k-th step of
/// a journaled write (each staged file, the journal, each rename, the journal's removal).
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

fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn path_to_hex(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    hex::encode(p.as_os_str().as_bytes())
}

#[cfg(unix)]
fn hex_to_path(s: &str) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(
        &hex::decode(s).ok()?,
    )))
}

impl Transaction {
    /// Deletes `dest` as part of the write: after every staged file is in place, never before
    /// (a crash before the journal keeps it; after, the next run finishes the deletion).
    pub fn remove(&mut self, dest: &Path) {
        self.removals.push(dest.to_path_buf());
    }

    /// Stages like [`Transaction::stage`], counting as one step of a journaled write.
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

    /// Commits through an intent journal at `journal`, so a crash at any point leaves either
    /// the old files (the next run removes the temporaries) or all the new ones (the next run
    /// finishes the renames). Paths are made absolute.
    #[cfg(unix)]
    pub fn commit_journaled(mut self, journal: &Path) -> io::Result<()> {
        let staged = std::mem::take(&mut self.staged);
        let mut text = format!("{JOURNAL_MAGIC}\n");
        let mut abs = Vec::new();
        for (tmp, dest) in &staged {
            let tmp = std::path::absolute(tmp)?;
            let dest = std::path::absolute(dest)?;
            text.push_str(&format!(
                "rename {} {}\n",
                path_to_hex(&tmp),
                path_to_hex(&dest)
            ));
            abs.push((tmp, dest));
        }
        let removals: Vec<PathBuf> = self
            .removals
            .iter()
            .map(std::path::absolute)
            .collect::<io::Result<_>>()?;
        for dest in &removals {
            text.push_str(&format!("remove {}\n", path_to_hex(dest)));
        }
        text.push_str("end\n");
        let journal_dir = parent_dir(journal);
        if let Err(e) =
            write_atomic(journal, text.as_bytes(), Some(0o600)).and_then(|_| sync_dir(&journal_dir))
        {
            self.staged = staged;
            let _ = fs::remove_file(journal);
            return Err(e);
        }
        // From here on the write is decided: a failure leaves the journal for the next run.
        self.done = true;
        crash_point();
        for (tmp, dest) in &abs {
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
        for dest in &removals {
            remove_if_there(dest)?;
        }
        let mut dirs: Vec<PathBuf> = abs
            .iter()
            .map(|(_, d)| parent_dir(d))
            .chain(removals.iter().map(|d| parent_dir(d)))
            .collect();
        dirs.sort();
        dirs.dedup();
        for d in &dirs {
            sync_dir(d)?;
        }
        fs::remove_file(journal)?;
        sync_dir(&journal_dir)?;
        crash_point();
        Ok(())
    }
}

/// Deletes a file the journal says goes; already gone is fine (a rerun of the same journal).
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
    /// Files moved into place from a leftover journal (an interrupted write finished).
    pub rolled_forward: usize,
    /// Temporary files of an interrupted run removed (its write never started).
    pub removed_temps: Vec<PathBuf>,
}

/// Whether a file name is one of sealstrap's temporaries: `.<name>.<pid>.<n>.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '.');
    let n = parts.next().unwrap_or("");
    let pid = parts.next().unwrap_or("");
    let base = parts.next().unwrap_or("");
    !base.is_empty()
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
}

/// Finishes or undoes an interrupted write. Call it holding the folder's lock: a leftover
/// journal is rolled forward; then every temporary file in `dirs` is removed.
#[cfg(unix)]
pub fn recover(journal: &Path, dirs: &[PathBuf]) -> io::Result<Recovery> {
    let mut rec = Recovery::default();
    match fs::read_to_string(journal) {
        Ok(text) => {
            let mut lines = text.lines();
            let complete = text.ends_with("end\n");
            if lines.next() != Some(JOURNAL_MAGIC) || !complete {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a complete sealstrap journal; move it away and run again",
                        journal.display()
                    ),
                ));
            }
            let mut touched = Vec::new();
            for line in lines {
                let mut f = line.split(' ');
                match f.next() {
                    Some("rename") => {}
                    Some("remove") => {
                        if let Some(dest) = f.next().and_then(hex_to_path) {
                            remove_if_there(&dest)?;
                            touched.push(parent_dir(&dest));
                        }
                        continue;
                    }
                    _ => continue,
                }
                let (Some(tmp), Some(dest)) = (
                    f.next().and_then(hex_to_path),
                    f.next().and_then(hex_to_path),
                ) else {
                    continue;
                };
                if tmp.exists() {
                    fs::rename(&tmp, &dest)?;
                    rec.rolled_forward += 1;
                }
                touched.push(parent_dir(&dest));
            }
            touched.sort();
            touched.dedup();
            for d in &touched {
                sync_dir(d)?;
            }
            fs::remove_file(journal)?;
            sync_dir(&parent_dir(journal))?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    for dir in dirs {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if is_temp_name(&name.to_string_lossy()) && entry.file_type().is_ok_and(|t| t.is_file())
            {
                fs::remove_file(entry.path())?;
                rec.removed_temps.push(entry.path());
            }
        }
    }
    Ok(rec)
}

/// An exclusive lock on an output folder for a whole run (read, plan, write), so two runs never
/// interleave. The lock is `flock` on the folder itself: the kernel drops it when the process
/// ends, however it ends, so a killed run never leaves a stale lock.
pub struct FolderLock {
    _dir: File,
    /// The folders this lock created, deepest first (removed again while empty).
    created: Vec<PathBuf>,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{path} is being written by another sealstrap run{holder}; it did not finish within {secs} s"
    )]
    Busy {
        path: String,
        holder: String,
        secs: u64,
    },
    #[error("cannot lock {path}: {source}")]
    Io { path: String, source: io::Error },
}

impl FolderLock {
    /// Locks `dir` (creating it if missing; an empty folder this run created is removed again
    /// if the run ends without writing into it), waiting up to `wait` for another run.
    pub fn acquire(dir: &Path, wait: std::time::Duration) -> Result<FolderLock, LockError> {
        let io_err = |source| LockError::Io {
            path: dir.display().to_string(),
            source,
        };
        let created: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .map(Path::to_path_buf)
            .collect();
        if !created.is_empty() {
            fs::create_dir_all(dir).map_err(io_err)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                for d in &created {
                    fs::set_permissions(d, fs::Permissions::from_mode(0o755)).map_err(io_err)?;
                }
            }
        }
        let file = File::open(dir).map_err(io_err)?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(LockError::Busy {
                        path: dir.display().to_string(),
                        holder: lock_holder(dir)
                            .map(|pid| format!(" (process {pid})"))
                            .unwrap_or_default(),
                        secs: wait.as_secs(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(e)),
            }
        }
        Ok(FolderLock {
            _dir: file,
            created,
        })
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Only removes them while empty: a run that wrote nothing leaves nothing behind.
        for d in &self.created {
            if fs::remove_dir(d).is_err() {
                break;
            }
        }
    }
}

/// The process holding a flock on `dir`, from /proc/locks (Linux); `None` elsewhere.
fn lock_holder(dir: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(dir).ok()?;
        let ino = meta.ino();
        let locks = fs::read_to_string("/proc/locks").ok()?;
        // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:56789 0 EOF"
        for line in locks.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 6 && f[1] == "FLOCK" && f[5].rsplit(':').next() == Some(&ino.to_string())
            {
                return f[4].parse().ok();
            }
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

#[cfg(all(test, unix))]
mod journal_tests {
    use super::*;

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".dex-admin-password.123.0.tmp"));
        assert!(is_temp_name(".a.b.yaml.9.12.tmp"));
        assert!(!is_temp_name("dex-admin-password"));
        assert!(!is_temp_name(".x.tmp"));
        assert!(!is_temp_name(".x.1.a.tmp"));
    }

    #[test]
    fn a_journaled_removal_happens_after_the_renames_and_is_finished_by_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.yaml");
        let new = dir.path().join("new.yaml");
        std::fs::write(&old, "old").unwrap();
        let mut tx = Transaction::new();
        tx.stage(&new, b"new", None).unwrap();
        tx.remove(&old);
        tx.remove(&dir.path().join("never-there.yaml"));
        let journal = dir.path().join(JOURNAL_NAME);
        tx.commit_journaled(&journal).unwrap();
        assert!(!old.exists() && new.exists() && !journal.exists());
        // A journal left by a crash after the renames: recovery deletes what it lists.
        std::fs::write(&old, "old").unwrap();
        std::fs::write(
            &journal,
            format!(
                "{JOURNAL_MAGIC}\nremove {}\nend\n",
                path_to_hex(&std::path::absolute(&old).unwrap())
            ),
        )
        .unwrap();
        recover(&journal, &[]).unwrap();
        assert!(!old.exists() && !journal.exists());
    }

    #[test]
    fn a_journal_is_rolled_forward_and_stray_temps_removed() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        fs::write(&a, b"old").unwrap();
        let journal = dir.path().join(JOURNAL_NAME);
        // Stage, then write the journal by hand as a crash after step 3 would leave it.
        let mut t = Transaction::new();
        t.stage(&a, b"new", None).unwrap();
        let (tmp, _) = t.staged[0].clone();
        t.done = true;
        let text = format!(
            "{JOURNAL_MAGIC}\nrename {} {}\nend\n",
            path_to_hex(&std::path::absolute(&tmp).unwrap()),
            path_to_hex(&std::path::absolute(&a).unwrap())
        );
        fs::write(&journal, text).unwrap();
        fs::write(dir.path().join(".b.yaml.4242.0.tmp"), b"stray").unwrap();
        let rec = recover(&journal, &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(rec.rolled_forward, 1);
        assert_eq!(rec.removed_temps.len(), 1);
        assert_eq!(fs::read(&a).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.yaml")]);
    }

    #[test]
    fn the_lock_excludes_a_second_holder_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = FolderLock::acquire(&out, std::time::Duration::ZERO).unwrap();
        let err = FolderLock::acquire(&out, std::time::Duration::from_millis(100))
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("being written by another sealstrap run"),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        assert!(!out.exists(), "an empty folder this run created is removed");
        let _again = FolderLock::acquire(&out, std::time::Duration::ZERO).unwrap();
    }
}
