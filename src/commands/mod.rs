//! The commands: thin orchestration over the workspace (what the flags resolve to: the
//! repository, `sealstrap.yaml`, keys, the cluster connection) and the library (every rule and
//! format). Only the binary reads files, the environment and the clock; a command reads what it
//! needs through `crate::workspace`, asks the library what to do, writes, and reports.
//!
//! | module | commands | the library half |
//! |---|---|---|
//! | [`seal`] | `seal`, `rotate`, `reset-dex-admin`, `set`, `unset` (a folder: request, snapshot, write, fleet, report) | `plan`, `bootstrap`, `manifests`, `platform`, `flux`, `mirror` |
//! | [`key`], [`key_export`], [`key_life`] | `key new`, `key install`, `key backup`, `key list`; `key export`; `key usage`, `key retire` and doctor's first-boot links | `controller_key`, `escrow`, `ssh`, `export`, `key_usage` |
//! | [`verify`] | `verify` | `verify` |
//! | [`reseal`] | `reseal` | `reseal` |
//! | [`diff`] | `diff`, git's textconv driver | `diff` |
//! | [`unseal`] | `unseal` | `objects`, `seal` |
//! | [`kubeseal`] | the kubeseal drop-in | `kubeseal` |
//! | [`scan`], [`scan_git`], [`scan_report`] | `scan` (`--staged`, `--history` through git; the report: exclusions, baseline, text/JSON/SARIF) | `scan`, `allow` |
//! | [`mirror`] | `mirror-list` | `mirror` |
//! | [`patch`] | `patch-externalsecrets` | `patch` |
//! | [`contract`] | `contract` | `contract` |
//! | [`cert`] | `cert inspect` | `cert` |
//! | [`cluster`] | `cert fetch`, `apply`, `doctor` | `cluster`, `doctor` |

pub mod cert;
pub mod cluster;
pub mod contract;
pub mod diff;
pub mod key;
pub mod key_export;
pub mod key_life;
pub mod kubeseal;
pub mod mirror;
pub mod patch;
pub mod reseal;
pub mod scan;
pub mod scan_git;
pub mod scan_report;
pub mod seal;
pub mod unseal;
pub mod verify;

use std::process::ExitCode;

use crate::workspace::error::{CmdResult, Failure};

use crate::cli::{CertCommand, Cli, Command, KeyCommand};

/// Runs a parsed `sealstrap` command line.
pub fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Seal(args) => seal::seal(&args),
        Command::Rotate(args) => seal::rotate(&args),
        Command::ResetDexAdmin(args) => seal::reset_dex_admin(&args),
        Command::Contract(args) => contract::run(&args),
        Command::PatchExternalSecrets(args) => patch::run(&args),
        Command::Reseal(args) => reseal::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::MirrorList(args) => mirror::run(&args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "sealstrap", &mut out);
            crate::workspace::files::write_stdout(&out)?;
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
            crate::workspace::files::write_stdout(&out)?;
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
        Command::Key(cmd) => match &cmd {
            KeyCommand::New(a) => key::new(a),
            KeyCommand::Install(a) => key::install(a),
            KeyCommand::Backup(a) => key::backup(a),
            KeyCommand::List(a) => key::list(a),
            KeyCommand::Export(a) => key_export::run(a),
            KeyCommand::Usage(a) => key_life::usage(a),
            KeyCommand::Retire(a) => key_life::retire(a),
        },
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
