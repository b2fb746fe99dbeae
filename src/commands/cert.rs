//! `sealstrap cert inspect`, and loading a certificate for sealing.

use std::path::Path;
use std::process::ExitCode;

use sealstrap::cert::{self, Certificate};
use sealstrap::timefmt;

use super::io::{read_input, write_stdout};
use super::{CmdResult, Failure, cert_failure, now};

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
    let pem =
        super::io::read_regular(path, "(tty detected: expecting a PEM certificate on stdin)")?;
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
                f.hint("fetch the controller's current certificate (sealstrap cert fetch), or pass --allow-expired if the controller still holds this key")
            } else {
                f
            });
        }
    }
    Ok(c)
}

pub fn inspect(file: &Path) -> CmdResult {
    let pem = read_input(
        Some(file),
        "(tty detected: expecting a PEM certificate on stdin)",
    )?;
    let name = file.display().to_string();
    let c = cert::parse(&pem).map_err(|e| cert_failure(&name, &e))?;
    let now = now();
    let shown = |s: &str| {
        if s.is_empty() {
            "(empty, as the sealed-secrets controller makes it)".to_string()
        } else {
            s.to_string()
        }
    };
    let days = c.days_left(now);
    let status = match c.check(now) {
        Ok(w) if w.is_empty() => "usable for sealing".to_string(),
        Ok(w) => format!(
            "usable for sealing, with warnings: {}",
            w.iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Err(e) => format!("NOT usable: {e}"),
    };
    let text = format!(
        "file:         {name}\n\
         subject:      {}\n\
         issuer:       {}\n\
         serial:       {}\n\
         not before:   {}\n\
         not after:    {}\n\
         days left:    {days}\n\
         key:          RSA {} bits\n\
         fingerprint:  {}\n\
         status:       {status}\n",
        shown(&c.subject),
        shown(&c.issuer),
        c.serial,
        timefmt::rfc3339(c.not_before),
        timefmt::rfc3339(c.not_after),
        c.bits,
        c.fingerprint,
    );
    write_stdout(text.as_bytes())?;
    match c.check(now) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(cert_failure(&name, &e)),
    }
}
