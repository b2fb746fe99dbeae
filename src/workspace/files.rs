//! Reading inputs and writing outputs for commands: stdin/stdout conventions (`-`), TTY rules,
//! and atomic file output.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::error::Failure;

/// Whether `path` means stdin/stdout.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Largest input file read whole: certificates, keys, configs, manifests and escrows are far
/// smaller, and `/dev/zero` must not grow to the memory limit.
pub const INPUT_LIMIT: u64 = 16 << 20;
/// Largest single value: Kubernetes caps a whole Secret at 1 MiB.
pub const VALUE_LIMIT: u64 = 1 << 20;

/// Reads a whole file, or stdin for `-`, up to [`INPUT_LIMIT`]; the buffer is zeroized when
/// dropped.
pub fn read_input(path: Option<&Path>, tty_hint: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    read_limited(path, tty_hint, INPUT_LIMIT)
}

/// Reads a whole file, or stdin for `-`, refusing more than `limit` bytes (it reads at most one
/// byte past the limit, so an endless input is refused quickly).
pub fn read_limited(
    path: Option<&Path>,
    tty_hint: &str,
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut buf = Zeroizing::new(Vec::new());
    let name = match path {
        Some(p) if !is_dash(p) => {
            let f = std::fs::File::open(p).map_err(|e| io_failure("cannot read", p, &e))?;
            f.take(limit + 1)
                .read_to_end(&mut buf)
                .map_err(|e| io_failure("cannot read", p, &e))?;
            p.display().to_string()
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("{tty_hint}");
            }
            stdin
                .lock()
                .take(limit + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Failure::new(format!("cannot read stdin: {e}")))?;
            "stdin".to_string()
        }
    };
    if buf.len() as u64 > limit {
        return Err(Failure::new(format!(
            "{name}: larger than {} MiB, the most sealstrap reads here",
            limit >> 20
        ))
        .hint(if limit == VALUE_LIMIT {
            "a Kubernetes Secret holds at most 1 MiB in all"
        } else {
            "is this the right file? (certificates, keys, configs and manifests are a few KiB)"
        }));
    }
    Ok(buf)
}

/// Reads a file that must be a regular file (a certificate, a config), or stdin for `-`. The
/// file is opened non-blocking and checked before any read, so a FIFO or a device given by
/// mistake (or by a hostile script) is refused at once instead of blocking the run, or filling
/// memory, while it holds the repository's lock.
pub fn read_regular(path: &Path, tty_hint: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    if is_dash(path) {
        return read_limited(None, tty_hint, INPUT_LIMIT);
    }
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| io_failure("cannot read", path, &e))?;
    let meta = f
        .metadata()
        .map_err(|e| io_failure("cannot read", path, &e))?;
    if !meta.is_file() {
        let what = not_a_file(&meta);
        return Err(
            Failure::new(format!("{} is {what}, not a regular file", path.display()))
                .hint("pass the file itself (or - to read stdin)"),
        );
    }
    let mut buf = Zeroizing::new(Vec::new());
    f.take(INPUT_LIMIT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| io_failure("cannot read", path, &e))?;
    if buf.len() as u64 > INPUT_LIMIT {
        return Err(Failure::new(format!(
            "{}: larger than {} MiB, the most sealstrap reads here",
            path.display(),
            INPUT_LIMIT >> 20
        ))
        .hint(
            "is this the right file? (certificates, keys, configs and manifests are a few KiB)",
        ));
    }
    Ok(buf)
}

/// What a path that is not a regular file is, for an error that says so.
fn not_a_file(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a folder"
    } else {
        "something other than a file"
    }
}

/// Reads a file of the repository that sealstrap interprets (`sealstrap.yaml`, a committed
/// certificate, a sealed file): never through a symbolic link (a committed link could lead to
/// `/dev/zero` or out of the repository), only a regular file, at most [`INPUT_LIMIT`] bytes.
/// `None` when nothing is there.
pub fn read_repo_file(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_failure("cannot read", path, &e)),
    };
    if meta.file_type().is_symlink() {
        return Err(Failure::new(format!(
            "{} is a symbolic link; sealstrap reads the files of a repository only as regular files",
            path.display()
        ))
        .hint("replace the link with the file itself (git would commit the link, not what it points to)"));
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW).bits() as i32)
        .open(path)
        .map_err(|e| io_failure("cannot read", path, &e))?;
    let meta = f
        .metadata()
        .map_err(|e| io_failure("cannot read", path, &e))?;
    if !meta.is_file() {
        return Err(Failure::new(format!(
            "{} is {}, not a regular file",
            path.display(),
            not_a_file(&meta)
        ))
        .hint("replace it with a regular file"));
    }
    let mut buf = Zeroizing::new(Vec::new());
    f.take(INPUT_LIMIT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| io_failure("cannot read", path, &e))?;
    if buf.len() as u64 > INPUT_LIMIT {
        return Err(Failure::new(format!(
            "{}: larger than {} MiB, the most sealstrap reads here",
            path.display(),
            INPUT_LIMIT >> 20
        )));
    }
    Ok(Some(buf))
}

/// A repository file as text ([`read_repo_file`]: never through a link, only a regular file,
/// capped); `None` when nothing is there. Not UTF-8 is an error naming the file.
pub fn read_repo_text(path: &Path) -> Result<Option<String>, Failure> {
    let Some(bytes) = read_repo_file(path)? else {
        return Ok(None);
    };
    String::from_utf8(bytes.to_vec()).map(Some).map_err(|e| {
        Failure::new(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Input as UTF-8 text.
pub fn read_text(path: Option<&Path>, tty_hint: &str) -> Result<Zeroizing<String>, Failure> {
    let bytes = read_input(path, tty_hint)?;
    let name = path
        .filter(|p| !is_dash(p))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "stdin".into());
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(e) => Err(Failure::new(format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))),
    }
}

pub fn io_failure(what: &str, path: &Path, e: &std::io::Error) -> Failure {
    let f = Failure::new(format!("{what} {}: {e}", path.display()));
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            f.hint("check the file's and its folder's permissions")
        }
        std::io::ErrorKind::NotFound => f.hint("check the path"),
        _ => f,
    }
}

/// Writes to stdout; a reader that went away (`| head`) ends the command quietly.
pub fn write_stdout(data: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure {
            broken_pipe: true,
            ..Failure::new("stdout closed")
        }),
        Err(e) => Err(Failure::new(format!("cannot write to stdout: {e}"))),
    }
}

/// Writes `data` to `path` atomically, or to stdout for `None`/`-`.
pub fn write_output(path: Option<&Path>, data: &[u8], mode: Option<u32>) -> Result<(), Failure> {
    match path {
        Some(p) if !is_dash(p) => sealstrap::output::write_atomic(p, data, mode)
            .map_err(|e| io_failure("cannot write", p, &e)),
        _ => write_stdout(data),
    }
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// How long a run waits for another run on the same folder.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Locks every folder of `scope` for the whole run (reads, plan and write), in path order so
/// two runs never wait on each other crosswise, then finishes or undoes an interrupted earlier
/// write recorded in its journal, saying what it did. Folders the lock creates get 0755 (the
/// first) or 0700 (the others: the folder of the plaintext Dex copy). A dry run only says a
/// journal is there.
pub fn lock_scope(
    scope: &sealstrap::journal::Scope,
    dry_run: bool,
) -> Result<Vec<sealstrap::output::FolderLock>, Failure> {
    let mut order: Vec<(usize, &std::path::PathBuf)> = scope.roots.iter().enumerate().collect();
    order.sort_by(|a, b| a.1.cmp(b.1));
    let mut locks = Vec::new();
    for (i, dir) in order {
        let mode = if i == 0 { 0o755 } else { 0o700 };
        locks.push(
            sealstrap::output::FolderLock::acquire_with_mode(dir, LOCK_WAIT, mode).map_err(|e| {
                Failure::new(e.to_string()).hint(
                    "wait for the other run to finish (or stop it); two runs on one folder would mix their values",
                )
            })?,
        );
    }
    if dry_run {
        if scope.has_journal() {
            eprintln!(
                "sealstrap: note: {} records an interrupted write; a run without --dry-run finishes it",
                scope.journal.display()
            );
        }
        return Ok(locks);
    }
    let rec = sealstrap::journal::recover(scope).map_err(|e| {
        let hint = e.hint();
        let f = Failure::new(format!(
            "cannot finish the interrupted write recorded in {}: {e}",
            scope.journal.display()
        ));
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    })?;
    if rec.removed_empty_journal {
        eprintln!(
            "sealstrap: removed {}: an interrupted run left it empty, naming no write",
            scope.journal.display()
        );
    }
    if rec.rolled_forward > 0 {
        eprintln!(
            "sealstrap: finished an interrupted write: moved {} staged file(s) into place",
            rec.rolled_forward
        );
    }
    if !rec.removed.is_empty() {
        eprintln!(
            "sealstrap: finished an interrupted write: removed {}",
            rec.removed
                .iter()
                .map(|p| super::repo::shown(p).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !rec.removed_temps.is_empty() {
        eprintln!(
            "sealstrap: undid an interrupted write (it had changed nothing): removed {} temporary file(s): {}",
            rec.removed_temps.len(),
            rec.removed_temps
                .iter()
                .map(|p| crate::workspace::repo::shown(p).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(locks)
}

/// The refusal of a read-only command over a folder whose write was interrupted.
pub fn refuse_interrupted(scope: &sealstrap::journal::Scope, what: &Path) -> Result<(), Failure> {
    if scope.has_journal() {
        return Err(Failure::new(format!(
            "{} holds an interrupted write (recorded in {}); its files may be half old, half new",
            what.display(),
            scope.journal.display()
        ))
        .hint("run the interrupted command (`sealstrap seal` with the same flags) again first: it finishes the write"));
    }
    Ok(())
}
