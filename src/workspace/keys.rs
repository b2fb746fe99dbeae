//! Loading what seals and opens: controller certificates (checked for sealing), private keys in
//! every form kubeseal takes, and the age escrow opened in memory with identities or its
//! passphrase (from the terminal, or `SEALSTRAP_PASSPHRASE`). No key is ever written here.

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use sealstrap::cert::{self, Certificate};
use sealstrap::controller_key::{self as ck, ControllerKey};
use sealstrap::escrow::{self, EscrowError};
use sealstrap::keys;
use sealstrap::rsa::PrivateKey;
use zeroize::Zeroizing;

use super::error::{Failure, cert_failure};
use super::files::read_input;
use super::now;

/// The escrow's file name beside the sealed output.
pub const ESCROW_NAME: &str = "controller-keys.age";

/// The committed certificate bundle.
pub const CERT_NAME: &str = "controller.crt";

/// The committed age recipients.
pub const RECIPIENTS_NAME: &str = "controller-keys.recipients";

/// Largest escrow or identity file read (a key List of dozens of keys is a few hundred KiB).
pub const MAX_FILE: usize = 8 << 20;

pub fn read_file(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let meta = std::fs::metadata(path).map_err(|e| {
        crate::workspace::files::io_failure(&format!("cannot read the {what}"), path, &e)
    })?;
    if meta.len() > MAX_FILE as u64 {
        return Err(Failure::new(format!(
            "{}: the {what} is {} bytes; sealstrap reads at most {} MiB",
            path.display(),
            meta.len(),
            MAX_FILE >> 20
        )));
    }
    read_input(Some(path), "")
}

/// A passphrase from SEALSTRAP_PASSPHRASE or the terminal (twice when making an escrow).
pub fn passphrase(confirm: bool) -> Result<SecretString, Failure> {
    if let Ok(p) = std::env::var("SEALSTRAP_PASSPHRASE") {
        if p.is_empty() {
            return Err(Failure::new("SEALSTRAP_PASSPHRASE is empty"));
        }
        return Ok(SecretString::from(p));
    }
    let p = rpassword::prompt_password("escrow passphrase: ").map_err(|e| {
        Failure::new(format!("cannot read the passphrase from the terminal: {e}"))
            .hint("run it in a terminal, or set SEALSTRAP_PASSPHRASE for automation")
    })?;
    let p = Zeroizing::new(p);
    if p.is_empty() {
        return Err(Failure::new("the passphrase is empty"));
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("same passphrase again: ")
                .map_err(|e| Failure::new(format!("cannot read the passphrase: {e}")))?,
        );
        if *again != *p {
            return Err(Failure::new(
                "the two passphrases differ; nothing was written",
            ));
        }
    }
    Ok(SecretString::from(p.to_string()))
}

/// The passphrase of an encrypted SSH identity: SEALSTRAP_SSH_PASSPHRASE, or the terminal.
fn ssh_passphrase(key: &Path) -> Result<Zeroizing<String>, EscrowError> {
    if let Ok(p) = std::env::var("SEALSTRAP_SSH_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    rpassword::prompt_password(format!("passphrase for {}: ", key.display()))
        .map(Zeroizing::new)
        .map_err(|e| {
            EscrowError::BadIdentity(format!(
                "the SSH key is encrypted and no passphrase could be read from the terminal ({e}); set SEALSTRAP_SSH_PASSPHRASE for automation"
            ))
        })
}

/// Opens an age escrow with the identities given, or asks for its passphrase.
pub fn open_escrow(path: &Path, identity: &[PathBuf]) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let data = read_file(path, "escrow")?;
    let name = |f: Failure| Failure {
        message: format!("{}: {}", path.display(), f.message),
        ..f
    };
    if escrow::is_passphrase(&data).map_err(|e| name(e.into()))? {
        if !identity.is_empty() {
            return Err(name(EscrowError::NeedsPassphrase.into()));
        }
        return escrow::decrypt_with_passphrase(&data, passphrase(false)?)
            .map_err(|e| name(e.into()));
    }
    if identity.is_empty() {
        return Err(name(EscrowError::NeedsIdentity.into()));
    }
    let mut ids = Vec::new();
    for p in identity {
        let text = read_file(p, "identity file")?;
        let mut ask = || ssh_passphrase(p);
        ids.extend(escrow::parse_identities(&text, &mut ask).map_err(|e| {
            let f: Failure = e.into();
            Failure {
                message: format!("{}: {}", p.display(), f.message),
                ..f
            }
        })?);
    }
    escrow::decrypt_with_identities(&data, &ids).map_err(|e| name(e.into()))
}

/// The controller keys in an escrow.
pub fn escrow_keys(path: &Path, identity: &[PathBuf]) -> Result<Vec<ControllerKey>, Failure> {
    let plain = open_escrow(path, identity)?;
    let text = std::str::from_utf8(&plain).map_err(|_| {
        Failure::new(format!(
            "{}: the escrow's content is not a YAML key List",
            path.display()
        ))
    })?;
    ck::parse_key_list(text).map_err(|e| {
        let f: Failure = e.into();
        Failure {
            message: format!("{}: {}", path.display(), f.message),
            ..f
        }
    })
}

/// Loads every key from every file (each file may hold several).
/// An age escrow (`sealstrap key new`) is opened in memory with `identity` or its passphrase.
pub fn load_keys(paths: &[PathBuf], identity: &[PathBuf]) -> Result<Vec<PrivateKey>, Failure> {
    let mut all = Vec::new();
    for p in paths {
        let data = read_input(Some(p), "(tty detected: expecting a private key on stdin)")?;
        if sealstrap::escrow::is_age(&data) {
            let keys = crate::workspace::keys::escrow_keys(p, identity)?;
            all.extend(keys.into_iter().map(|k| k.key));
            continue;
        }
        let mut found =
            keys::parse_private_keys(&data).map_err(|e| Failure::at(p.display(), &e))?;
        all.append(&mut found);
    }
    Ok(all)
}

/// Where a `--cert` value points: a path or a `file://` URL. Other URLs would need the network.
pub fn cert_path(spec: &str) -> Result<&Path, Failure> {
    if let Some(rest) = spec.strip_prefix("file://") {
        return Ok(Path::new(rest));
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Err(Failure::new(format!(
            "--cert {spec}: fetching a certificate over the network is not supported; sealstrap works offline"
        ))
        .hint("download the certificate once (curl -o pub.pem URL) and pass the file"));
    }
    Ok(Path::new(spec))
}

/// Reads and checks a certificate for sealing; warnings go to stderr.
pub fn load_for_sealing(spec: &str, warn_prefix: &str) -> Result<Certificate, Failure> {
    load_checked(spec, warn_prefix, false)
}

/// [`load_for_sealing`], with `--allow-expired`: an expired certificate is then a loud warning,
/// not an error (values sealed for it open only while its key is still in the controller).
pub fn load_checked(
    spec: &str,
    warn_prefix: &str,
    allow_expired: bool,
) -> Result<Certificate, Failure> {
    let path = cert_path(spec)?;
    let pem = crate::workspace::files::read_regular(
        path,
        "(tty detected: expecting a PEM certificate on stdin)",
    )?;
    let c = cert::parse(&pem).map_err(|e| cert_failure(&path.display().to_string(), &e))?;
    match c.check(now()) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("{warn_prefix}warning: {}: {w}", path.display());
            }
        }
        Err(e @ cert::CertError::Expired { .. }) if allow_expired => {
            eprintln!(
                "{warn_prefix}warning: {}: {e} (--allow-expired: sealing anyway)",
                path.display()
            );
        }
        Err(e) => {
            let f = cert_failure(&path.display().to_string(), &e);
            return Err(if matches!(e, cert::CertError::Expired { .. }) {
                f.hint("make a new controller key (sealstrap key new, offline, adds it to the escrow) and move the values to it (sealstrap reseal with the escrow as --private-key); or fetch a running controller's current certificate (sealstrap cert fetch); --allow-expired seals anyway while the controller still holds this key")
            } else {
                f
            });
        }
    }
    Ok(c)
}

/// The controller keys that open sealed values of the repository: the `--private-key` files
/// (PEM, key Secrets, or escrows opened with `identity`), and with `identity` also every escrow
/// of the repository's sealed folders (and the one beside the break-glass certificate) that it
/// opens (a custodian of one environment can carry a shared value to another; `--private-key
/// BREAK-GLASS-KEY -i ID` still opens the environments' escrows). An error names the escrows
/// tried and who can open each.
pub fn keys_for(
    private_keys: &[PathBuf],
    identity: &[PathBuf],
    root: Option<&super::repo::Root>,
) -> Result<Vec<PrivateKey>, Failure> {
    if identity.is_empty() {
        return load_keys(private_keys, identity);
    }
    let mut all = if private_keys.is_empty() {
        Vec::new()
    } else {
        load_keys(private_keys, identity)?
    };
    let given: Vec<PathBuf> = private_keys
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let Some(root) = root else {
        if !all.is_empty() {
            return Ok(all);
        }
        return Err(Failure::usage(
            "-i opens an escrow: pass it with --private-key ESCROW (outside a repository there is no escrow to find)",
        ));
    };
    let mut folders: Vec<PathBuf> = super::repo::environments(&root.dir)
        .iter()
        .map(|e| super::repo::layout(Some(root), Some(e)).out)
        .collect();
    folders.push(super::repo::default_out(Some(root)));
    // An escrow beside the break-glass certificate (`key new --out recovery` makes one there).
    if let Ok(ws) = super::Workspace::open(Some(root.clone()))
        && let Some(bg) = &ws.config.fleet.break_glass
        && let Some(dir) = root.join(bg).parent()
        && !folders.iter().any(|f| f == dir)
    {
        folders.push(dir.to_path_buf());
    }
    let mut tried = Vec::new();
    for folder in folders {
        let escrow = folder.join(ESCROW_NAME);
        if !escrow.is_file() || std::fs::canonicalize(&escrow).is_ok_and(|c| given.contains(&c)) {
            continue;
        }
        match escrow_keys(&escrow, identity) {
            Ok(keys) => all.extend(keys.into_iter().map(|k| k.key)),
            Err(_) => {
                let who = std::fs::read_to_string(folder.join(RECIPIENTS_NAME))
                    .map(|t| {
                        t.lines()
                            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|_| "a passphrase".into());
                tried.push(format!(
                    "{} (opens with: {who})",
                    super::repo::shown(&escrow).display()
                ));
            }
        }
    }
    if all.is_empty() {
        return Err(Failure::new(format!(
            "the identity opens none of the escrows: tried {}",
            if tried.is_empty() {
                "none (no controller-keys.age in the repository)".to_string()
            } else {
                tried.join("; ")
            }
        ))
        .hint("pass the identity of one of those recipients (-i FILE), or the controller key itself (--private-key KEY)"));
    }
    Ok(all)
}
