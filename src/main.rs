//! The `sealstrap` binary: parse the command line, run a command, render errors, exit.
#![forbid(unsafe_code)]

mod cli;
mod commands;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use commands::Failure;

fn main() -> ExitCode {
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
