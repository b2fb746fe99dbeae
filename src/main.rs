//! The `sealstrap` binary: parse the command line, run a command, render errors, exit.
#![forbid(unsafe_code)]
// stdout is data: every write goes through `workspace::files::write_stdout`, which ends quietly
// when the reader went away (`| head`) instead of panicking as `println!` does.
#![deny(clippy::print_stdout)]

/// `eprintln!` for the whole binary, without std's panic when stderr cannot be written (closed,
/// a full disk, `2>&-`): progress and notes then go nowhere and the command's exit code still
/// says how it went (std's version exits 101 halfway through a write). Defined before the
/// modules, so it is the `eprintln!` they see.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` likewise.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod workspace;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use workspace::error::Failure;

/// No core dump: a crash (or a signal such as SIGQUIT) must not write values, session keys or
/// private keys held in memory to disk. Soft and hard limit 0, so no child can raise it again.
fn disable_core_dumps() {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
}

fn main() -> ExitCode {
    disable_core_dumps();
    let args: Vec<OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("sealstrap")
        .to_string();

    let (result, style) = if invoked_as == "kubeseal" {
        (commands::kubeseal::run_args(args), Style::Kubeseal)
    } else if args.get(1).is_some_and(|a| a == "kubeseal") {
        // `sealstrap kubeseal ARGS` is kubeseal's command line: the `kubeseal` subcommand passes
        // everything after the word through verbatim, so parse only that here and skip building
        // sealstrap's whole command tree (~90 page faults and 0.2 ms of every scripted call).
        let mut argv = vec![OsString::from("kubeseal")];
        argv.extend(args.into_iter().skip(2));
        (commands::kubeseal::run_args(argv), Style::Kubeseal)
    } else {
        let cli = cli::Cli::parse_from(args);
        let style = match cli.command {
            cli::Command::Kubeseal(_) => Style::Kubeseal,
            _ => Style::Sealstrap,
        };
        (commands::run(cli), style)
    };
    match result {
        Ok(code) => code,
        Err(failure) => report(&failure, style),
    }
}

#[derive(Clone, Copy)]
enum Style {
    Sealstrap,
    Kubeseal,
}

fn report(failure: &Failure, style: Style) -> ExitCode {
    if failure.broken_pipe {
        return ExitCode::SUCCESS;
    }
    let prefix = match style {
        Style::Sealstrap => "sealstrap: ",
        Style::Kubeseal => "",
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{prefix}error: {}", failure.message);
    for hint in &failure.hints {
        let _ = writeln!(err, "{prefix}hint: {hint}");
    }
    ExitCode::from(failure.code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::{Cli, Command, KubesealArgs, ManifestFormat};

    #[test]
    fn cli_definitions_are_consistent() {
        Cli::command().debug_assert();
        KubesealArgs::command().debug_assert();
    }

    #[test]
    fn unseal_flags_parse() {
        let cli = <Cli as clap::Parser>::try_parse_from([
            "sealstrap",
            "unseal",
            "--private-key",
            "a.pem,b.pem",
            "--private-key",
            "c.yaml",
            "-o",
            "json",
            "x.yaml",
            "-",
        ])
        .unwrap();
        let Command::Unseal(args) = cli.command else {
            panic!("not unseal")
        };
        assert_eq!(args.private_keys.len(), 3);
        assert_eq!(args.files.len(), 2);
        assert_eq!(args.output, ManifestFormat::Json);
        assert!(
            <Cli as clap::Parser>::try_parse_from([
                "sealstrap",
                "unseal",
                "--show",
                "--check",
                "--private-key",
                "k"
            ])
            .is_err()
        );
    }

    #[test]
    fn kubeseal_flags_parse() {
        let a = <KubesealArgs as clap::Parser>::try_parse_from([
            "kubeseal",
            "--cert",
            "c.pem",
            "-f",
            "in.yaml",
            "-w",
            "out.yaml",
            "-o",
            "yaml",
            "--scope",
            "cluster-wide",
            "--name",
            "n",
            "-n",
            "ns",
            "--raw",
            "--from-file",
            "k=v",
            "--allow-empty-data",
            "--recovery-private-key",
            "a,b",
            "--controller-name",
            "ss",
            "--controller-namespace",
            "sys",
            "--kubeconfig",
            "kc",
            "--context",
            "ctx",
        ])
        .unwrap();
        assert_eq!(a.cert.as_deref(), Some("c.pem"));
        assert_eq!(a.recovery_private_key.len(), 2);
        assert!(a.raw && a.allow_empty_data);
        assert_eq!(a.mode(), crate::cli::KubesealMode::Raw);
        // Each mode flag alone selects its mode; any two conflict (usage error).
        use crate::cli::KubesealMode as M;
        let modes: [(&[&str], M); 6] = [
            (&["--raw"], M::Raw),
            (&["--merge-into", "m.yaml"], M::MergeInto),
            (&["--recovery-unseal"], M::RecoveryUnseal),
            (&["--fetch-cert"], M::FetchCert),
            (&["--validate"], M::Validate),
            (&["--re-encrypt"], M::ReEncrypt),
        ];
        for (flags, mode) in &modes {
            let mut argv = vec!["kubeseal"];
            argv.extend_from_slice(flags);
            let a = <KubesealArgs as clap::Parser>::try_parse_from(&argv).unwrap();
            assert_eq!(a.mode(), *mode, "{flags:?}");
            for (other, _) in modes.iter().filter(|(_, m)| m != mode) {
                let mut both = argv.clone();
                both.extend_from_slice(other);
                let err = <KubesealArgs as clap::Parser>::try_parse_from(&both)
                    .err()
                    .unwrap_or_else(|| panic!("{both:?} must conflict"));
                assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
            }
        }
        assert_eq!(a.controller_name, "ss");
        let d = <KubesealArgs as clap::Parser>::try_parse_from(["kubeseal"]).unwrap();
        assert_eq!(d.controller_name, "sealed-secrets-controller");
        assert_eq!(d.controller_namespace, "kube-system");
    }
}
