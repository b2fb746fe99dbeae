//! `sealstrap cert inspect`, and loading a certificate for sealing.

use std::path::Path;
use std::process::ExitCode;

use sealstrap::cert::{self};
use sealstrap::timefmt;

use crate::workspace::error::{CmdResult, cert_failure};
use crate::workspace::files::{read_input, write_stdout};
use crate::workspace::now;

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
