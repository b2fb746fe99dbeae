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
            #[cfg(unix)]
            if let Some(m) = mode {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&d, fs::Permissions::from_mode(m))?;
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
