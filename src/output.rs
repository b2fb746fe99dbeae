//! Careful files: atomic replacement, private files, temporary names, and the folder lock.
//!
//! Every manifest is written to a temporary file in the destination's own directory, flushed,
//! and renamed over the destination, so a reader (or a crash) sees the old file or the new one,
//! never half of one. Multi-file writes go through [`crate::journal`]. Nothing here decides
//! *what* to write.

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

/// A fresh temporary name for `file_name`: `.<name>.<pid>.<random>.tmp`, so no two runs (nor a
/// user's own file) ever share one, and a temporary can only be claimed by the journal that named
/// it before it was created.
pub(crate) fn temp_name(file_name: &std::ffi::OsStr) -> std::ffi::OsString {
    let mut r = [0u8; 8];
    // A failing system RNG leaves zeros: the name is still unique per process and attempt
    // through create_new.
    let _ = aws_lc_rs::rand::fill(&mut r);
    let mut name = std::ffi::OsString::from(".");
    name.push(file_name);
    name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        u64::from_le_bytes(r)
    ));
    name
}

/// Creates `path` new (never an existing file or link), private from the first byte, then gives
/// it `mode` (default 0644).
pub(crate) fn create_new(path: &Path, mode: Option<u32>) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode.unwrap_or(0o644)))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(file)
}

fn create_temp(
    dir: &Path,
    file_name: &std::ffi::OsStr,
    mode: Option<u32>,
) -> io::Result<(PathBuf, File)> {
    for _ in 0..8 {
        let tmp = dir.join(temp_name(file_name));
        match create_new(&tmp, mode) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a temporary file",
    ))
}

/// Whether a file name is one of sealstrap's temporaries: `.<name>.<pid>.<n>.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    temp_base(name).is_some()
}

/// The destination name a temporary name was made for (`.a.yaml.12.34.tmp` -> `a.yaml`).
pub(crate) fn temp_base(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let n = parts.next().unwrap_or("");
    let pid = parts.next().unwrap_or("");
    let base = parts.next().unwrap_or("");
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (!base.is_empty() && digits(n) && digits(pid)).then_some(base)
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
        Self::acquire_with_mode(dir, wait, 0o755)
    }

    /// [`FolderLock::acquire`], giving the folders it creates `mode` (0700 for the folder of
    /// the plaintext Dex copy).
    pub fn acquire_with_mode(
        dir: &Path,
        wait: std::time::Duration,
        mode: u32,
    ) -> Result<FolderLock, LockError> {
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
                    fs::set_permissions(d, fs::Permissions::from_mode(mode)).map_err(io_err)?;
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
