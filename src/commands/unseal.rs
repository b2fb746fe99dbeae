//! `sealstrap unseal`: SealedSecrets in, Secrets out, with the controller's private key.

use std::path::Path;
use std::process::ExitCode;

use sealstrap::kubeseal::parse_sealed_stream;
use sealstrap::objects::{self, scrub};
use sealstrap::yaml::Format;
use zeroize::Zeroizing;

use crate::cli::{ManifestFormat, UnsealArgs};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{read_text, stdout_is_terminal, write_stdout};
use crate::workspace::keys::load_keys;

const TTY_HINT: &str = "(tty detected: expecting SealedSecret YAML or JSON on stdin)";

pub fn run(args: &UnsealArgs) -> CmdResult {
    let keys = load_keys(&args.private_keys, &args.identity.identity)?;
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        args.files.iter().map(|p| Some(p.as_path())).collect()
    };
    if !args.check && !args.show && stdout_is_terminal() {
        return Err(
            Failure::new("refusing to print plaintext Secrets to a terminal").hint(
                "redirect stdout to a file or a pipe, pass --show to print anyway, or use --check",
            ),
        );
    }

    let mut sealed = Vec::new();
    for input in &inputs {
        let text = read_text(*input, TTY_HINT)?;
        let name = input
            .filter(|p| !crate::workspace::files::is_dash(p))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "stdin".into());
        let docs = parse_sealed_stream(&text).map_err(|e| Failure::at(&name, &e))?;
        sealed.extend(docs.into_iter().map(|d| (name.clone(), d)));
    }

    if args.check {
        let mut report = String::new();
        let mut failed = 0usize;
        for (_, doc) in &sealed {
            let label = doc.label();
            for (k, v) in doc.encrypted_data() {
                match sealstrap::seal::unseal(&keys, &label, v) {
                    Ok(_) => report.push_str(&format!("{} {k} OK\n", doc.id())),
                    Err(e) => {
                        failed += 1;
                        report.push_str(&format!("{} {k} FAIL: {e}\n", doc.id()));
                    }
                }
            }
        }
        write_stdout(report.as_bytes())?;
        if failed > 0 {
            return Err(Failure::new(format!("{failed} value(s) could not be unsealed"))
                .hint("a value fails when it was sealed for another certificate, or its SealedSecret was renamed or moved (strict scope)"));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let format = match args.output {
        ManifestFormat::Yaml => Format::Yaml,
        ManifestFormat::Json => Format::Json,
    };
    let mut manifests = Vec::with_capacity(sealed.len());
    for (name, doc) in &sealed {
        let secret = objects::unseal_sealed_secret(doc, &keys).map_err(|f| {
            Failure::new(format!("{name}: cannot unseal {}: {f}", doc.id())).hint(
                "the key must be the controller's key for the certificate it was sealed with; a strict SealedSecret renamed or moved does not unseal",
            )
        })?;
        manifests.push(secret.to_manifest());
    }
    let out = Zeroizing::new(format.render(&manifests));
    manifests.iter_mut().for_each(scrub);
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
