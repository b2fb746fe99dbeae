//! Command implementations: the only place that reads files, the environment and the clock.
//!
//! One module per command family: `seal` (seal, rotate, reset-dex-admin), `key` (key
//! new/install/backup/list), `kubeseal` (the drop-in), `unseal`, `reseal`, `verify`, `scan`,
//! `scan_git`, `scan_report` (scan --staged/--history and the report), `patch`
//! (patch-externalsecrets), `contract`, `cert` (cert inspect), `cluster` (cert fetch,
//! apply, doctor and the connection flags); `io` holds the shared input/output helpers.

pub mod cert;
pub mod cluster;
pub mod contract;
pub mod diff;
pub mod io;
pub mod key;
pub mod kubeseal;
pub mod patch;
pub mod reseal;
pub mod scan;
pub mod scan_git;
pub mod scan_report;
pub mod seal;
pub mod tree;
pub mod unseal;
pub mod verify;

use std::process::ExitCode;

use sealstrap::cert::CertError;
use sealstrap::keys::KeyError;
use sealstrap::objects::ObjectError;

use crate::cli::{CertCommand, Cli, Command};

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
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hints: Vec::new(),
            code: EXIT_ERROR,
            broken_pipe: false,
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

/// Runs a parsed `sealstrap` command line.
pub fn run(cli: Cli) -> CmdResult {
    // The fork's own keys (sealstrap.yaml at the repository root) are contract rows for the
    // commands that read the contract here; seal, rotate, reset-dex-admin and verify read it from
    // the repository of their output folder instead. No other command touches the disk for it.
    if matches!(
        cli.command,
        Command::Contract(_) | Command::PatchExternalSecrets(_) | Command::Scan(_)
    ) {
        tree::load_extras(None)?;
    }
    match cli.command {
        Command::Seal(args) => seal::seal(&args),
        Command::Rotate(args) => seal::rotate(&args),
        Command::ResetDexAdmin(args) => seal::reset_dex_admin(&args),
        Command::Contract(args) => contract::run(&args),
        Command::PatchExternalSecrets(args) => patch::run(&args),
        Command::Reseal(args) => reseal::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "sealstrap", &mut out);
            io::write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd.clone())
                .render(&mut out)
                .map_err(|e| Failure::new(format!("cannot render the manual: {e}")))?;
            // One section per subcommand, so the page documents every command and flag.
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = format!("sealstrap {}", sub.get_name());
                out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
                let man = clap_mangen::Man::new(sub.clone());
                man.render_description_section(&mut out)
                    .and_then(|_| man.render_options_section(&mut out))
                    .and_then(|_| man.render_extra_section(&mut out))
                    .map_err(|e| Failure::new(format!("cannot render the manual: {e}")))?;
            }
            io::write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => verify::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Set(args) => seal::set(&args),
        Command::Unset(args) => seal::unset(&args),
        Command::Cert(CertCommand::Inspect { file }) => cert::inspect(&file),
        Command::Cert(CertCommand::Fetch { output, cluster }) => {
            cluster::cert_fetch(output.as_deref(), &cluster)
        }
        Command::Key(cmd) => key::run(&cmd),
        Command::Apply(args) => cluster::apply(&args),
        Command::Doctor(args) => cluster::doctor(&args),
        Command::Unseal(args) => unseal::run(&args),
        Command::Kubeseal(pass) => {
            let mut argv = vec![std::ffi::OsString::from("kubeseal")];
            argv.extend(pass.args);
            kubeseal::run_args(argv)
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
