//! `sealstrap mirror-list`: the chart and image an air-gapped site copies in before `seal
//! --gitops` points at them, each from upstream to the mirror, with the copy to run on a
//! connected machine. Reads `sealstrap.yaml` and the environments' controller Applications;
//! the rules are `sealstrap::mirror`'s.

use std::process::ExitCode;

use sealstrap::mirror::{self, Mirror};
use serde_json::json;

use crate::cli::{MirrorListArgs, SummaryFormat};
use crate::workspace::Workspace;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{read_repo_text, write_stdout};

pub fn run(args: &MirrorListArgs) -> CmdResult {
    let flags = args.mirror.given();
    mirror::check(&flags).map_err(|e| Failure::usage(e.to_string()).hint(e.hint()))?;
    let ws = Workspace::find(args.platform_root.as_deref())?;
    let asked = flags.or(&ws.config.chart);
    // Each environment's controller Application may hold a mirror an earlier run was given.
    let mut mirrors: Vec<(String, Mirror)> = Vec::new();
    if let Some(root) = ws.root.as_ref().filter(|r| r.platform) {
        for env in crate::workspace::repo::environments(&root.dir) {
            let file = root.dir.join(format!(
                "{}/sealed-secrets.yaml",
                sealstrap::platform::catalog_dir(&env)
            ));
            let in_file = read_repo_text(&file)?
                .and_then(|t| sealstrap::yaml::parse_documents(&t).ok())
                .map(|d| mirror::given_in(&d))
                .unwrap_or_default();
            let m = Mirror::resolve(&asked.or(&in_file));
            match mirrors.iter_mut().find(|(_, x)| *x == m) {
                Some((envs, _)) => envs.push_str(&format!(", {env}")),
                None => mirrors.push((env, m)),
            }
        }
    }
    if mirrors.is_empty() {
        mirrors.push((String::new(), Mirror::resolve(&asked)));
    }
    match args.output {
        SummaryFormat::Text => {
            let mut out = String::new();
            for (envs, m) in &mirrors {
                if !envs.is_empty() {
                    out.push_str(&format!("# {envs}\n"));
                }
                for a in m.artifacts() {
                    out.push_str(&format!("{:<6} {}\n", a.what, a.from));
                    match &a.copy {
                        Some(copy) => {
                            out.push_str(&format!("       -> {}\n       copy: {copy}\n", a.to))
                        }
                        None => out.push_str(
                            "       (upstream's: the cluster fetches it from the internet; for an air-gapped site give a mirror)\n",
                        ),
                    }
                }
            }
            write_stdout(out.as_bytes())?;
        }
        SummaryFormat::Json => {
            let v: Vec<_> = mirrors
                .iter()
                .map(|(envs, m)| {
                    json!({
                        "environments": envs.split(", ").filter(|e| !e.is_empty()).collect::<Vec<_>>(),
                        "artifacts": m.artifacts().iter().map(|a| json!({
                            "what": a.what, "from": a.from, "to": a.to, "copy": a.copy,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            write_stdout(
                format!("{}\n", serde_json::to_string_pretty(&v).expect("json")).as_bytes(),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
