//! The binary's error: what happened, what to do, and the exit code. The library's typed errors
//! each carry their own `hint()`; [`Failure`] is the one shape they take at the edge, and
//! `main.rs` the one place that prints it (`sealstrap: error: ...` / `sealstrap: hint: ...`).

use std::process::ExitCode;

use sealstrap::cert::CertError;
use sealstrap::cluster::{ClusterError, FetchError};
use sealstrap::keys::KeyError;
use sealstrap::objects::ObjectError;

/// Exit code for errors (bad input, failed checks); kubeseal uses 1 too.
pub const EXIT_ERROR: u8 = 1;
/// Exit code for usage errors, as clap uses.
pub const EXIT_USAGE: u8 = 2;

/// A failed command: what happened, what to do, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub hints: Vec<String>,
    pub code: u8,
    /// stdout was closed by the reader (e.g. `| head`): not an error.
    pub broken_pipe: bool,
    /// The key of a rotation or an unset is not part of this environment: a fleet run passes
    /// by it; a run on one environment fails.
    pub not_here: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hints: Vec::new(),
            code: EXIT_ERROR,
            broken_pipe: false,
            not_here: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_USAGE,
            ..Failure::new(message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn hint_opt(self, hint: Option<impl Into<String>>) -> Self {
        match hint {
            Some(h) => self.hint(h),
            None => self,
        }
    }
}

impl Failure {
    /// The failure for a core error: its message, and its hint.
    pub fn of<E: std::fmt::Display + Hinted>(e: &E) -> Self {
        Failure::new(e.to_string()).hint_opt(e.hint_text())
    }

    /// The same, with the file or object it concerns in front: "PATH: message".
    pub fn at<E: std::fmt::Display + Hinted>(place: impl std::fmt::Display, e: &E) -> Self {
        Failure::new(format!("{place}: {e}")).hint_opt(e.hint_text())
    }
}

/// The core's typed errors, each with its own `hint()`; one reporter (`main.rs`) prints them.
pub trait Hinted {
    fn hint_text(&self) -> Option<String>;
}

macro_rules! hinted {
    ($($t:ty),* $(,)?) => {$(
        impl Hinted for $t {
            fn hint_text(&self) -> Option<String> {
                self.hint().map(|h| h.to_string())
            }
        }
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::of(&e)
            }
        }
    )*};
}

hinted!(
    KeyError,
    ObjectError,
    sealstrap::config::ConfigError,
    sealstrap::patch::PatchError,
    sealstrap::escrow::EscrowError,
    sealstrap::controller_key::ControllerKeyError,
    sealstrap::ssh::SshError,
    sealstrap::bootstrap::ProvidedError,
    sealstrap::contract::ExtrasError,
);

/// A certificate error, naming the file.
pub fn cert_failure(path: &str, e: &CertError) -> Failure {
    let msg = match e {
        // kubeseal's exact wording, so scripts matching it keep working.
        CertError::Expired { .. } | CertError::NotRsa(_) => e.to_string(),
        _ => format!("{path}: {e}"),
    };
    Failure::new(msg).hint_opt(e.hint())
}

pub type CmdResult = Result<ExitCode, Failure>;

impl From<ClusterError> for Failure {
    fn from(e: ClusterError) -> Self {
        let hint = e.hint();
        Failure::new(e.to_string()).hint_opt(hint)
    }
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        let hint = e.hint();
        Failure::new(e.to_string()).hint_opt(hint)
    }
}

impl From<sealstrap::plan::Refusal> for Failure {
    fn from(e: sealstrap::plan::Refusal) -> Self {
        use sealstrap::plan::Refusal;
        let not_here = matches!(
            e,
            Refusal::NotInEnvironment { .. } | Refusal::NothingToUnset { .. }
        );
        Failure {
            not_here,
            ..Failure::new(e.to_string()).hint_opt(e.hint())
        }
    }
}
