//! `sealstrap contract`: the secret contract as a table or JSON.

use std::process::ExitCode;

use sealstrap::contract::Source;
use serde_json::json;

use crate::cli::{ContractArgs, SummaryFormat};
use crate::workspace::error::CmdResult;
use crate::workspace::files::write_stdout;

pub fn run(args: &ContractArgs) -> CmdResult {
    // The fork's own keys (sealstrap.yaml at the repository root) are rows of the contract.
    let ws = crate::workspace::Workspace::find(None)?;
    let contract = ws.contract(None);
    let text = match args.output {
        SummaryFormat::Json => {
            let entries: Vec<_> = contract
                .all()
                .map(|e| {
                    json!({
                        "key": e.key,
                        "source": match e.source { Source::Generated(_) => "generated", Source::Provided { .. } => "provided" },
                        "env": match e.source { Source::Provided { env, .. } => Some(env), _ => None },
                        "needed_when": e.need.describe(),
                        "write_once": e.write_once,
                        "url_safe": e.url_safe,
                        "extra": contract.is_extra(e.key),
                        "format": e.format,
                        "consumers": e.consumers.iter().map(|c| json!({
                            "namespaces": c.namespaces, "secret": c.secret, "key": c.key
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&entries).expect("json")
            )
        }
        SummaryFormat::Text => {
            let mut s = String::new();
            for e in contract.all() {
                let source = match e.source {
                    Source::Generated(_) => "generated".to_string(),
                    Source::Provided { env, .. } => format!("you provide (${env})"),
                };
                s.push_str(&format!("{}\n", e.key));
                s.push_str(&format!("  needed:    {}\n", e.need.describe()));
                s.push_str(&format!(
                    "  source:    {source}{}\n",
                    if e.write_once { ", write-once" } else { "" }
                ));
                s.push_str(&format!("  format:    {}\n", e.format));
                if e.consumers.is_empty() {
                    s.push_str("  consumers: none in the cluster (the operator's copy)\n");
                }
                for c in e.consumers {
                    s.push_str(&format!(
                        "  consumer:  {} / Secret {} / key {}\n",
                        c.namespaces.join(", "),
                        c.secret,
                        c.key
                    ));
                }
            }
            s
        }
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
