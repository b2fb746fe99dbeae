//! `seal --all-envs`: every environment of the platform in one run. One workspace (the
//! repository and `sealstrap.yaml` read once), one lock, one request; each environment is read
//! and planned on its own, and every environment lands in one transaction or none does.

use std::collections::BTreeMap;
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::bootstrap::Status;
use sealstrap::contract::{Contract, Source};
use sealstrap::fleet::Fleet;
use sealstrap::manifests;
use sealstrap::plan;
use zeroize::Zeroizing;

use super::request::SealRequest;
use super::{EXIT_INCOMPLETE, Outcome, prepare, report, values, write};
use crate::cli::SealArgs;
use crate::workspace::Workspace;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::place::{Choice, Place};
use crate::workspace::repo::{self, Root};

/// The values the fleet file declares shared, for a fleet run: a random value no environment
/// has yet is made once; one some environments already have is read from there (with
/// --private-key or the escrow's identity) for the others. Provided values are read once per run
/// anyway, so they are the same everywhere.
fn shared_values(
    contract: &Contract,
    req: &SealRequest,
    root: &Root,
    envs: &[String],
    fleet: &Fleet,
) -> Result<BTreeMap<String, Zeroizing<String>>, Failure> {
    let mut out = BTreeMap::new();
    let mut rng = UnwrapErr(SysRng);
    for key in fleet.shared() {
        let Some(entry) = contract.entry(key) else {
            continue;
        };
        let Source::Generated(generator) = entry.source else {
            continue;
        };
        let folder = |env: &str| repo::layout(Some(root), Some(env)).out;
        let having: Vec<&String> = envs
            .iter()
            .filter(|e| folder(e).join(manifests::sealed_path(key)).exists())
            .collect();
        if having.len() == envs.len() {
            continue;
        }
        let value = match having.first() {
            None => sealstrap::generate::generate(&mut rng, generator),
            Some(env) => {
                if !req.has_keys() {
                    return Err(Failure::new(format!(
                        "{key} is shared (sealstrap.yaml), {env} has it and {} not: sealstrap must read {env}'s value to seal it for the others",
                        envs.iter()
                            .filter(|e| !having.contains(e))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .hint(format!(
                        "pass an identity that opens {env}'s escrow (-i IDENTITY: every escrow of the repository it opens is tried), or its controller key (--private-key KEY)"
                    )));
                }
                let keys =
                    crate::workspace::keys::keys_for(&req.private_keys, &req.identity, Some(root))?;
                // The first environment whose copy the keys open (each has its own key).
                let mut tried = Vec::new();
                let mut found = None;
                for env in &having {
                    match values::read_sealed_value(&folder(env), &keys, key, "") {
                        Ok(v) => {
                            found = Some(v);
                            break;
                        }
                        Err(_) => tried.push(env.as_str()),
                    }
                }
                found.ok_or_else(|| {
                    Failure::new(format!(
                        "{key} is shared (sealstrap.yaml) and none of the keys given opens it in {}",
                        tried.join(", ")
                    ))
                    .hint("pass the controller key of one of them (--private-key KEY), or an identity that opens its escrow (-i IDENTITY)")
                })?
            }
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// The platform repository of a fleet run, its workspace and the environments it seals for:
/// every folder of `clusters/` the fleet file declares (or `--accept-cert` accepts).
pub struct Envs {
    pub root: Root,
    pub ws: Workspace,
    pub names: Vec<String>,
}

impl Envs {
    /// The fleet of the platform repository at `platform_root` (or the current one); `what`
    /// names the option that asked for it, for the error outside a platform.
    pub fn find(
        platform_root: Option<&std::path::Path>,
        accept_cert: &[String],
        what: &str,
    ) -> Result<Envs, Failure> {
        let root = Root::find(platform_root)?
            .filter(|r| r.platform)
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{what} works on the platform's environments, and this is not the platform repository (no {})",
                    sealstrap::platform::STORE_PATH
                ))
                .hint("run it in a checkout of the platform, or pass --platform-root DIR")
            })?;
        let ws = Workspace::open(Some(root.clone()))?;
        let (names, skipped) = repo::environment_folders(&root.dir);
        for s in &skipped {
            eprintln!("sealstrap: note: clusters/{s} is skipped");
        }
        if names.is_empty() {
            return Err(Failure::usage(format!(
                "{what}: clusters/ holds no environment"
            )));
        }
        refuse_undeclared(&ws, &names, accept_cert)?;
        Ok(Envs { root, ws, names })
    }
}

/// A folder the fleet file does not declare is not sealed for: a pull request can add a folder
/// (and a certificate in it) as easily as a value. (`--accept-cert ENV` accepts one, as it
/// accepts its certificate: the pin is the record.)
fn refuse_undeclared(ws: &Workspace, envs: &[String], accept: &[String]) -> Result<(), Failure> {
    let declared = &ws.config.fleet.environments;
    if declared.is_empty() {
        return Ok(());
    }
    let undeclared: Vec<&String> = envs
        .iter()
        .filter(|e| !declared.contains_key(*e) && !accept.contains(e))
        .collect();
    if undeclared.is_empty() {
        return Ok(());
    }
    let mut with_key = Vec::new();
    let what: Vec<String> = undeclared
        .iter()
        .map(|e| {
            let cert = Place::resolve(
                ws,
                &Choice {
                    env: Some(e),
                    ..Default::default()
                },
            )
            .ok()
            .map(|p| p.committed_cert())
            .and_then(|c| {
                let pem = crate::workspace::files::read_repo_file(&c).ok()??;
                let fp = sealstrap::cert::parse(&pem).ok()?.fingerprint;
                with_key.push(e.to_string());
                Some(format!(
                    " (certificate {}: {fp})",
                    repo::shown(&c).display()
                ))
            });
            format!("clusters/{e}/{}", cert.unwrap_or_default())
        })
        .collect();
    Err(Failure::new(format!(
        "clusters/ holds {} that sealstrap.yaml's environments: does not declare; nothing was sealed (a pull request can add a folder and a certificate in it)",
        what.join(", ")
    ))
    .hint(if with_key.is_empty() {
        format!(
            "if it is yours, declare it in sealstrap.yaml (environments: {{{e}: {{}}}}) and make its key (sealstrap key new --env {e}); if not, remove the folder",
            e = undeclared[0]
        )
    } else {
        // It has a certificate already: a new key would replace the one its cluster holds.
        format!(
            "if {} yours, declare {} in sealstrap.yaml's environments: (each has its certificate already: NAME: {{}}), or accept once: --accept-cert {}; if not, remove the folder",
            if with_key.len() == 1 { "it is" } else { "they are" },
            if with_key.len() == 1 { "it" } else { "them" },
            with_key.join(",")
        )
    }))
}

/// What a fleet run did: each environment's outcome, and the environments a rotation or an
/// unset passed by (the key is not theirs), with why.
pub struct Done {
    pub outcomes: Vec<(String, Outcome)>,
    pub passed: Vec<(String, String)>,
}

/// The core of every fleet run (`seal --all-envs`, a shared key's `rotate`/`set`/`unset`, and
/// their `--all-envs`): one lock for the repository, `shared` made under it (the values every
/// environment gets, read from what is there after an interrupted write is finished), each
/// environment planned on its own, then every environment in one transaction or none.
pub fn run_core(
    envs: &Envs,
    req: &SealRequest,
    shared: impl FnOnce() -> Result<BTreeMap<String, Zeroizing<String>>, Failure>,
) -> Result<Done, Failure> {
    let ws = &envs.ws;
    let scope = repo::write_scope(Some(&envs.root), &[&envs.root.dir])?;
    let _locks = crate::workspace::files::lock_scope(&scope, req.dry_run)?;
    let shared = shared()?;
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let mut failed: Vec<(String, Failure)> = Vec::new();
    let mut passed = Vec::new();
    let mut runs = Vec::new();
    let mut pin = Vec::new();
    // key -> (source, the environments that took it).
    let mut everywhere: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    // Each environment is read and planned on its own (generating, hashing and sealing are
    // independent work): on every core when nothing can prompt, in order otherwise (a prompt
    // asks for one environment's value at a time). The results keep the environments' order.
    let plan_one = |env: &String| {
        Place::resolve(
            ws,
            &Choice {
                env: Some(env),
                ..Default::default()
            },
        )
        .and_then(|place| prepare(req, &place, &shared, Some(&scope)))
    };
    let threads = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        1
    } else {
        sealstrap::par::available_threads()
    };
    let mut prepared_all: Vec<Result<super::Prepared, Failure>> =
        Vec::with_capacity(envs.names.len());
    let Ok(()) = sealstrap::par::for_each_ordered(
        &envs.names,
        threads,
        |_, env| plan_one(env),
        |_, p| {
            prepared_all.push(p);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    for (env, prepared) in envs.names.iter().zip(prepared_all) {
        match prepared {
            Ok(p) => {
                pin.extend(p.pin);
                for (key, source) in p.given_everywhere {
                    everywhere
                        .entry(key)
                        .or_insert_with(|| (source, Vec::new()))
                        .1
                        .push(env.clone());
                }
                runs.push((env.clone(), p.run, p.git_root));
                outcomes.push((env.clone(), p.outcome));
            }
            // A rotation or an unset passes by an environment the key is not part of.
            Err(f) if f.not_here => passed.push((env.clone(), f.message)),
            Err(f) => {
                eprintln!("== {env}: FAILED: {}", f.message);
                failed.push((env.clone(), f));
            }
        }
    }
    if outcomes.is_empty() && failed.is_empty() {
        return Err(Failure::new(format!(
            "no environment has it: {}",
            passed
                .iter()
                .map(|(e, why)| format!("{e}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    // A value given once for every environment goes to at most one of them for a per-cluster
    // key: two clusters never share a per-cluster value by accident.
    if let Some((key, (source, envs))) = everywhere.iter().find(|(_, (_, e))| e.len() > 1) {
        return Err(super::values::given_for_every_environment(
            key, source, envs,
        ));
    }
    // Each environment has a certificate of its own: one shared by two would let either
    // cluster open the other's values.
    for (i, (a, oa)) in outcomes.iter().enumerate() {
        if let Some((b, _)) = outcomes[i + 1..]
            .iter()
            .find(|(_, ob)| ob.cert.fingerprint == oa.cert.fingerprint)
        {
            return Err(Failure::new(format!(
                "{a} and {b} seal for one certificate ({}): either cluster could open the other's values; nothing was sealed",
                oa.cert.fingerprint
            ))
            .hint(format!(
                "give each environment its own controller key: sealstrap key new --env {b}"
            )));
        }
    }
    // Every environment lands in one transaction, or none does: a failed plan writes nothing.
    if failed.is_empty() && !req.dry_run {
        let mut merged = plan::merge_runs(
            &runs
                .iter()
                .map(|(env, run, _)| (env.clone(), run))
                .collect::<Vec<_>>(),
        )?;
        merged.writes.extend(super::pins_write(ws, &pin));
        if !(merged.writes.is_empty() && merged.removals.is_empty()) {
            write::write(&scope, &merged)?;
        }
        for ((_, run, git_root), (_, o)) in runs.iter().zip(outcomes.iter_mut()) {
            o.written = run
                .writes
                .iter()
                .map(|w| w.path.display().to_string())
                .chain(run.removals.iter().map(|r| r.display().to_string()))
                .collect();
            if let (Some(copy), Some(root)) = (&run.dex_copy, git_root) {
                write::confirm_copy_ignored(root, copy)?;
            }
        }
    }
    if !failed.is_empty() {
        report::fleet(req.output, req.dry_run, &outcomes, &failed, &passed, &[])?;
        let mut f = Failure::new(format!(
            "{} of {} environment(s) could not be planned: {} (nothing was written: a fleet run lands every environment or none)",
            failed.len(),
            envs.names.len(),
            failed
                .iter()
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (_, inner) in failed {
            for h in inner.hints {
                if !f.hints.contains(&h) {
                    f = f.hint(h);
                }
            }
        }
        return Err(f);
    }
    Ok(Done { outcomes, passed })
}

/// `seal --all-envs`: every environment in `clusters/`, each planned on its own, all written in
/// one transaction under one lock, then one table.
pub fn run(args: &SealArgs) -> CmdResult {
    let envs = Envs::find(
        args.common.platform_root.as_deref(),
        &args.common.accept_cert,
        "--all-envs",
    )?;
    let req = SealRequest::seal(args, &envs.ws.contract(None))?;
    let done = run_core(&envs, &req, || {
        shared_values(
            &envs.ws.contract(None),
            &req,
            &envs.root,
            &envs.names,
            &envs.ws.config.fleet,
        )
    })?;
    report::fleet(
        req.output,
        req.dry_run,
        &done.outcomes,
        &[],
        &done.passed,
        &[],
    )?;
    let incomplete: Vec<&str> = done
        .outcomes
        .iter()
        .filter(|(_, o)| o.plan.lines.iter().any(|l| l.status == Status::NeedsValue))
        .map(|(e, _)| e.as_str())
        .collect();
    if req.seal_options().is_some_and(|o| o.require_complete) && !incomplete.is_empty() {
        return Err(Failure {
            code: EXIT_INCOMPLETE,
            ..Failure::new(format!(
                "values still missing in: {}",
                incomplete.join(", ")
            ))
        });
    }
    Ok(ExitCode::SUCCESS)
}
