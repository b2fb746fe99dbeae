//! The writing commands: `seal`, `rotate`, `reset-dex-admin`, `set` and `unset`. Each run goes
//! through the same phases, one module each:
//!
//! | phase | module | does |
//! |---|---|---|
//! | request | [`request`] | the flags, once, into a [`request::SealRequest`] (value files read here, before any lock) |
//! | snapshot | [`snapshot`], [`values`], [`gitops`] | everything the run depends on, read under the repository's lock: the folder, the tree, the values given, the GitOps files |
//! | plan | `sealstrap::plan` (library) | every write decided from the snapshot, or a typed refusal |
//! | write | [`write`] | the plan landed in one journaled transaction |
//! | fleet | [`fleet`] | `seal --all-envs`: one workspace, one lock, one request per environment, one transaction |
//! | report | [`report`] | the summary (text or JSON), the fleet table, the follow-ups |

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::bootstrap::{self, Plan, Status};
use sealstrap::cert::Certificate;
use sealstrap::contract::{Contract, DEX_HASH, DEX_PASSWORD, Entry};
use sealstrap::journal::Scope;
use sealstrap::plan::{self, RunPlan};
use zeroize::Zeroizing;

use crate::cli::{ResetDexAdminArgs, RotateArgs, SealArgs, SetArgs, UnsetArgs};
use crate::workspace::Workspace;
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::place::{Choice, Place};
use crate::workspace::reads::Reads;
use request::{Mode, SealRequest};

pub mod fleet;
pub mod gitops;
pub mod report;
pub mod request;
pub mod snapshot;
pub mod values;
pub mod write;

/// Exit code of `seal --require-complete` when a value is still missing.
pub const EXIT_INCOMPLETE: u8 = 3;

/// What a run did (or, before its write, will do), for the summary.
pub struct Outcome {
    pub plan: Plan,
    pub contract: Contract,
    pub written: Vec<String>,
    pub dex_copy: Option<PathBuf>,
    pub gitignore_added: Option<PathBuf>,
    pub notes: Vec<String>,
    pub cert: Certificate,
    /// The break-glass certificate's fingerprint, when its copies are sealed too.
    pub break_glass: Option<String>,
    pub out: PathBuf,
    /// What the tree reads from the store (inside a repository).
    pub reads: Option<Reads>,
    /// The paths used and where each came from.
    pub paths: String,
}

/// A run with everything decided and nothing written: its outcome, its plan, the git root of
/// its output, its scope, and the locks it took (held until the write is done).
pub struct Prepared {
    pub outcome: Outcome,
    pub run: RunPlan,
    /// Certificates to pin in sealstrap.yaml: (name, fingerprint).
    pub pin: Vec<(String, String)>,
    /// Per-cluster keys whose value came from a source given for every environment.
    pub given_everywhere: BTreeMap<String, String>,
    pub git_root: Option<PathBuf>,
    pub scope: Scope,
    pub locks: Vec<sealstrap::output::FolderLock>,
}

/// Everything of a run on one environment but the write: the locks (unless the caller holds
/// them: a fleet run locks the repository once), the snapshot, the values' plan and every
/// write. `shared` holds the fleet's shared values.
pub fn prepare(
    req: &SealRequest,
    place: &Place,
    shared: &BTreeMap<String, Zeroizing<String>>,
    held: Option<&Scope>,
) -> Result<Prepared, Failure> {
    let paths = snapshot::paths_line(req, place);
    let scope = snapshot::run_scope(req, place)?;
    let locks = match held {
        Some(h) if *h == scope => Vec::new(),
        Some(h) => {
            return Err(Failure::new(format!(
                "this environment writes outside the folders the fleet run holds ({})",
                h.roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .hint("seal it on its own: sealstrap seal --env ENV"));
        }
        None => crate::workspace::files::lock_scope(&scope, req.dry_run)?,
    };
    // A fleet run (the caller holds the lock) never pins a certificate on first use.
    let mut read = snapshot::read(req, place, shared, held.is_none())?;
    let mut rng = UnwrapErr(SysRng);
    let inputs = bootstrap::Inputs {
        contract: &read.snap.contract,
        selection: &read.selection,
        existing: &read.snap.existing,
        provided: &read.provided,
        shared: &read.shared,
        rotate: &read.rotate,
        fingerprint: &read.cert.fingerprint,
        wiring: &read.snap.wiring,
        bcrypt_cost: req.bcrypt_cost,
        references: read.snap.reads.as_ref().map(|r| &r.by_key),
        break_glass: read
            .break_glass
            .as_ref()
            .map(|c| (&c.public_key, c.fingerprint.as_str())),
        fleet_env: held
            .and(place.layout.env.as_deref())
            .map(|e| (e, &place.fleet)),
    };
    let values = bootstrap::plan(&mut rng, &read.cert.public_key, &inputs)
        .map_err(|e| Failure::new(e.to_string()))?;
    // Break-glass copies of values sealed before the break-glass certificate was listed.
    let break_glass_added = match &read.break_glass {
        Some(bg) => plan::break_glass_copies(
            &mut rng,
            &read.snap.contract,
            (&bg.public_key, &bg.fingerprint),
            &read.snap.wiring,
            &read.break_glass_missing,
        )
        .map_err(|e| Failure::new(e.to_string()))?,
        None => Vec::new(),
    };
    let options = plan::Options {
        no_gitignore_edit: req.no_gitignore_edit,
        secrets_dir_given: req.secrets_dir.is_some(),
    };
    let run = plan::plan_run(
        &options,
        &read.kind,
        &read.snap,
        &values,
        &break_glass_added,
    )?;
    let outcome = Outcome {
        plan: values,
        contract: read.snap.contract.clone(),
        written: Vec::new(),
        dex_copy: run.dex_copy.clone(),
        gitignore_added: run.gitignore_added.clone(),
        notes: run.notes.clone(),
        cert: read.cert,
        break_glass: read.break_glass.as_ref().map(|c| c.fingerprint.clone()),
        out: read.snap.out.clone(),
        reads: read.snap.reads.take(),
        paths,
    };
    Ok(Prepared {
        outcome,
        pin: read.pin,
        given_everywhere: read.given_everywhere,
        run,
        git_root: read.snap.dex.git_root.clone(),
        scope,
        locks,
    })
}

/// `sealstrap.yaml` with the pins of `pin` recorded, as one more write of the run (none when
/// nothing changes).
pub fn pins_write(ws: &Workspace, pin: &[(String, String)]) -> Option<plan::Write> {
    let mut pins = ws.config.pins.clone();
    for (name, fingerprint) in pin {
        pins.pin_certificate(name, fingerprint);
    }
    ws.pins_write(&pins)
}

/// A run on one environment: lock, read, plan, write.
fn execute(req: &SealRequest, ws: &Workspace, place: &Place) -> Result<Outcome, Failure> {
    // The locks are held until the write is done.
    let Prepared {
        mut outcome,
        mut run,
        pin,
        git_root,
        scope,
        locks: _locks,
        ..
    } = prepare(req, place, &BTreeMap::new(), None)?;
    run.writes.extend(pins_write(ws, &pin));
    if !(req.dry_run || run.writes.is_empty() && run.removals.is_empty()) {
        outcome.written = write::write(&scope, &run)?;
    }
    if !req.dry_run
        && let (Some(copy), Some(root)) = (&run.dex_copy, &git_root)
    {
        write::confirm_copy_ignored(root, copy)?;
    }
    Ok(outcome)
}

/// The workspace and the environment of a single-environment run.
fn resolve(args: &crate::cli::BootstrapArgs) -> Result<(Workspace, Place), Failure> {
    let ws = Workspace::for_out(args.platform_root.as_deref(), args.out.as_deref())?;
    let place = Place::resolve(
        &ws,
        &Choice {
            out: args.out.as_deref(),
            env: args.selection.env.as_deref(),
            config: args.selection.config.as_deref(),
        },
    )?;
    Ok((ws, place))
}

pub fn seal(args: &SealArgs) -> CmdResult {
    if args.all_envs {
        return fleet::run(args);
    }
    let (ws, place) = resolve(&args.common)?;
    let req = SealRequest::seal(args, &ws.contract(None))?;
    let o = execute(&req, &ws, &place)?;
    let follow = if !req.dry_run && !o.written.is_empty() {
        report::after_seal(&o)
    } else {
        Vec::new()
    };
    report::single(req.output, req.dry_run, &o, &follow)?;
    let complete = req.seal_options().is_some_and(|o| o.require_complete);
    if complete && o.plan.lines.iter().any(|l| l.status == Status::NeedsValue) {
        return Ok(ExitCode::from(EXIT_INCOMPLETE));
    }
    Ok(ExitCode::SUCCESS)
}

/// A write-once entry (LiteLLM's salt) is replaced only with `--force`.
fn refuse_write_once(e: &Entry, force: bool) -> Result<(), Failure> {
    if e.write_once && !force {
        return Err(Failure::new(format!(
            "{} is write-once: it encrypts LiteLLM's stored provider keys, and a new salt makes them unreadable",
            e.key
        ))
        .hint("pass --force only if you will re-enter every provider key in LiteLLM afterwards"));
    }
    Ok(())
}

/// Whether a rotation, `set` or `unset` of `keys` spans the fleet: with `--all-envs`, or when
/// one of the keys is declared shared in `sealstrap.yaml` (one value, every environment: a
/// shared value changed in one environment alone would drift apart). `None`: one environment.
fn fleet_of(
    args: &crate::cli::BootstrapArgs,
    all_envs: bool,
    keys: &BTreeSet<String>,
    command: &str,
) -> Result<Option<fleet::Envs>, Failure> {
    let ws = Workspace::for_out(args.platform_root.as_deref(), args.out.as_deref())?;
    let declared = ws.config.fleet.shared();
    let shared: Vec<&String> = keys
        .iter()
        .filter(|k| declared.contains(k.as_str()))
        .collect();
    if !all_envs && shared.is_empty() {
        return Ok(None);
    }
    if !all_envs {
        let own: Vec<&String> = keys.iter().filter(|k| !shared.contains(k)).collect();
        if !own.is_empty() {
            return Err(Failure::usage(format!(
                "{} shared (sealstrap.yaml values:) and {} not: a shared value changes in every environment, a per-cluster one in the environment named",
                join(&shared),
                join(&own)
            ))
            .hint(format!(
                "{command} them apart, or pass --all-envs to {command} every one in every environment"
            )));
        }
        // Where the value goes is the fleet's: each environment's own folder and certificate.
        let given: Vec<&str> = [
            (args.cert.is_some(), "--cert"),
            (args.fetch_cert, "--fetch-cert"),
            (args.out.is_some(), "--out"),
            (args.selection.config.is_some(), "--config"),
            (args.secrets_dir.is_some(), "--secrets-dir"),
        ]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .collect();
        if !given.is_empty() {
            return Err(Failure::usage(format!(
                "{} shared (sealstrap.yaml values:): it changes in every environment, each sealed for its own certificate into its own folder, so {} does not apply",
                join(&shared),
                given.join(", ")
            ))
            .hint(format!(
                "drop {}; each environment's certificate comes from sealstrap.yaml or its folder's controller.crt",
                given.join(" and ")
            )));
        }
        if let Some(env) = &args.selection.env {
            eprintln!(
                "sealstrap: note: {} shared (sealstrap.yaml values:): it changes in every environment, not only {env}",
                join(&shared)
            );
        }
    }
    let what = if all_envs {
        "--all-envs".to_string()
    } else {
        format!("{command} of a shared key")
    };
    fleet::Envs::find(args.platform_root.as_deref(), &args.accept_cert, &what).map(Some)
}

/// "a is" / "a and b are", for a message about keys.
fn join(keys: &[&String]) -> String {
    match keys {
        [one] => format!("{one} is"),
        _ => format!(
            "{} are",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

/// A rotation, `set` or `unset` over the fleet: one transaction for every environment that
/// has the key; a shared key's new random value made once (under the lock) and sealed for
/// each, a per-cluster key's made per environment; break-glass copies in the same write.
fn fleet_change(envs: &fleet::Envs, req: &SealRequest) -> CmdResult {
    let contract = envs.ws.contract(None);
    let (keys, given) = match &req.mode {
        Mode::Rotate { keys, values } => (keys.clone(), Some(values)),
        Mode::Unset { keys, .. } => (keys.clone(), None),
        Mode::Seal(_) => (BTreeSet::new(), None),
    };
    let declared = envs.ws.config.fleet.shared();
    let done = fleet::run_core(envs, req, || {
        let mut rng = UnwrapErr(SysRng);
        let mut made = BTreeMap::new();
        for k in keys.iter().filter(|k| declared.contains(k.as_str())) {
            if let (Some(given), Some(e)) = (given, contract.entry(k))
                && !given.contains_key(k)
                && let sealstrap::contract::Source::Generated(g) = e.source
            {
                made.insert(k.clone(), sealstrap::generate::generate(&mut rng, g));
            }
        }
        Ok(made)
    })?;
    let mut follow = Vec::new();
    if given.is_some() {
        for (_, o) in &done.outcomes {
            for f in report::after_rotation(&o.contract, &keys, o.reads.as_ref()) {
                if !follow.contains(&f) {
                    follow.push(f);
                }
            }
        }
        // After the commit line: the rest is done in every cluster of the fleet.
        if follow.len() > 1 {
            follow.insert(1, "then, in each cluster of the fleet:".to_string());
        }
    }
    report::fleet(
        req.output,
        req.dry_run,
        &done.outcomes,
        &[],
        &done.passed,
        &follow,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// New values for `keys` (and the values given for some of them), then the follow-ups.
fn rotation(
    args: &crate::cli::BootstrapArgs,
    all_envs: bool,
    keys: BTreeSet<String>,
    values: BTreeMap<String, Zeroizing<String>>,
    command: &str,
) -> CmdResult {
    let mode = Mode::Rotate {
        keys: keys.clone(),
        values,
    };
    let fleet = fleet_of(args, all_envs, &keys, command)?;
    let (ws, place) = match &fleet {
        Some(envs) => {
            let req = SealRequest::new(args, &envs.ws.contract(None), mode)?;
            return fleet_change(envs, &req);
        }
        None => resolve(args)?,
    };
    let req = SealRequest::new(args, &ws.contract(None), mode)?;
    let o = execute(&req, &ws, &place)?;
    let follow = report::after_rotation(&o.contract, &keys, o.reads.as_ref());
    report::single(req.output, req.dry_run, &o, &follow)?;
    Ok(ExitCode::SUCCESS)
}

/// The contract row of `key` among every key the repository knows (the fork's, in any
/// environment, included): checked before the run is resolved to one environment or the fleet.
fn any_key(args: &crate::cli::BootstrapArgs, key: &str) -> Result<Entry, Failure> {
    let ws = Workspace::for_out(args.platform_root.as_deref(), args.out.as_deref())?;
    ws.contract(None).entry(key).copied().ok_or_else(|| {
        Failure::usage(format!(
            "unknown key {key:?}: not a backend key of the contract or of sealstrap.yaml's extra:"
        ))
        .hint("`sealstrap contract` lists the keys")
    })
}

pub fn rotate(args: &RotateArgs) -> CmdResult {
    let mut keys = BTreeSet::new();
    for k in &args.keys {
        let e = any_key(&args.common, k)?;
        refuse_write_once(&e, args.force)?;
        keys.insert(k.clone());
        if k == DEX_PASSWORD || k == DEX_HASH {
            keys.insert(DEX_PASSWORD.into());
            keys.insert(DEX_HASH.into());
        }
    }
    rotation(&args.common, args.all_envs, keys, BTreeMap::new(), "rotate")
}

pub fn reset_dex_admin(args: &ResetDexAdminArgs) -> CmdResult {
    let keys: BTreeSet<String> = [DEX_PASSWORD.to_string(), DEX_HASH.to_string()].into();
    rotation(
        &args.common,
        false,
        keys,
        BTreeMap::new(),
        "reset-dex-admin",
    )
}

/// `sealstrap set KEY`: seals one value, given by the user, in place of the one there. A
/// shared key takes one value everywhere; `--all-envs` of a per-cluster key takes one per
/// environment (`--value-file ENV:KEY=PATH`, `VAR_ENV`).
pub fn set(args: &SetArgs) -> CmdResult {
    use std::io::IsTerminal;
    // `set KEY=VALUE` is a typo for this command's form; the value must not be echoed.
    if let Some((k, _)) = args.key.split_once('=') {
        return Err(Failure::usage(format!(
            "set takes a key, not KEY=VALUE: a value on the command line shows in ps and the shell's history (\"{k}=...\")"
        ))
        .hint(format!(
            "give the value through its variable (sealstrap contract names it), SEALSTRAP_VALUE, --value-file {k}=PATH, or the prompt; and take it out of your shell history"
        )));
    }
    let key = args.key.as_str();
    let e = any_key(&args.common, key)?;
    refuse_write_once(&e, args.force)?;
    if key == DEX_HASH {
        return Err(Failure::usage(
            "dex-admin-hash is made from dex-admin-password: set dex-admin-password instead",
        ));
    }
    let mut keys = BTreeSet::from([key.to_string()]);
    if key == DEX_PASSWORD {
        keys.insert(DEX_HASH.into());
    }
    let fleet = fleet_of(&args.common, args.all_envs, &keys, "set")?;
    let shared = fleet
        .as_ref()
        .is_some_and(|f| f.ws.config.fleet.shared().contains(key));
    // `--value-file KEY=PATH` or `--value-file ENV:KEY=PATH`.
    let given = args.common.value_files.iter().any(|s| {
        s.split_once('=')
            .map(|(k, _)| k.rsplit_once(':').map_or(k, |(_, k)| k))
            .is_some_and(|k| k == key)
    });
    // A random key's value: SEALSTRAP_VALUE or a prompt (a provided key reads its own variable).
    let mut values = BTreeMap::new();
    if !given && e.is_generated() {
        if fleet.is_some() && !shared {
            return Err(Failure::usage(format!(
                "{key} is per-cluster: set --all-envs takes one value per environment, and SEALSTRAP_VALUE or a prompt is one value"
            ))
            .hint(format!(
                "give each environment its own: --value-file ENV:{key}=PATH for each; or set it in one environment: set {key} --env ENV"
            )));
        }
        let value = match std::env::var_os("SEALSTRAP_VALUE") {
            Some(v) => Zeroizing::new(
                v.into_string()
                    .map_err(|_| Failure::new("SEALSTRAP_VALUE is not valid UTF-8"))?,
            ),
            None if std::io::stdin().is_terminal() => Zeroizing::new(
                rpassword::prompt_password(format!("{key} (input hidden): ")).map_err(|err| {
                    Failure::new(format!("cannot read {key} from the terminal: {err}"))
                })?,
            ),
            None => {
                return Err(Failure::usage(format!("no value for {key}")).hint(format!(
                    "set SEALSTRAP_VALUE, pass --value-file {key}=PATH, or run on a terminal to be prompted"
                )));
            }
        };
        values.insert(key.to_string(), value);
    }
    let contract = match &fleet {
        Some(f) => f.ws.contract(None),
        None => Workspace::for_out(
            args.common.platform_root.as_deref(),
            args.common.out.as_deref(),
        )?
        .contract(None),
    };
    let req = SealRequest::new(
        &args.common,
        &contract,
        Mode::Rotate {
            keys: keys.clone(),
            values,
        },
    )?;
    // Each value is checked against its row of the contract (what `verify` checks) before it
    // is sealed: a value its consumer refuses is not sealed unless forced.
    let given_values = match &req.mode {
        Mode::Rotate { values, .. } => values.get(key),
        _ => None,
    }
    .into_iter()
    .chain(
        req.value_files
            .iter()
            .filter(|f| f.key == key)
            .map(|f| &f.value),
    );
    for v in given_values {
        // What no --force overrides comes first, so its hint is the one shown.
        sealstrap::bootstrap::check_provided(key, v)?;
        if let Err(problem) = sealstrap::verify::check_value(Some(&e), v.as_bytes()) {
            if !args.force {
                return Err(Failure::new(format!(
                    "the value for {key} {problem}; it was not sealed"
                ))
                .hint(format!(
                    "{}; or pass --force to seal it anyway",
                    problem.hint(key, e.is_generated())
                )));
            }
            eprintln!("sealstrap: warning: the value for {key} {problem} (--force: sealed anyway)");
        }
        if sealstrap::verify::looks_guessable(v) {
            eprintln!(
                "sealstrap: warning: the value for {key} is short or repetitive: anyone who can seal guesses with the public certificate can test one per reviewed change (SECURITY.md, \"Review\"); a random value is safer (sealstrap rotate {key})"
            );
        }
    }
    if let Some(envs) = &fleet {
        return fleet_change(envs, &req);
    }
    let (ws, place) = resolve(&args.common)?;
    let o = execute(&req, &ws, &place)?;
    let follow = report::after_rotation(&o.contract, &keys, o.reads.as_ref());
    report::single(req.output, req.dry_run, &o, &follow)?;
    Ok(ExitCode::SUCCESS)
}

/// `sealstrap unset KEY`: removes one sealed value (its break-glass copy too) and its
/// kustomization entry; a shared key (or `--all-envs`) in every environment that has it.
pub fn unset(args: &UnsetArgs) -> CmdResult {
    any_key(&args.common, &args.key)?;
    // The Dex pair goes together: half a pair is a broken login.
    let keys = if args.key == DEX_PASSWORD || args.key == DEX_HASH {
        BTreeSet::from([DEX_PASSWORD.to_string(), DEX_HASH.to_string()])
    } else {
        BTreeSet::from([args.key.clone()])
    };
    let mode = Mode::Unset {
        keys: keys.clone(),
        force: args.force,
    };
    if let Some(envs) = fleet_of(&args.common, args.all_envs, &keys, "unset")? {
        let req = SealRequest::new(&args.common, &envs.ws.contract(None), mode)?;
        return fleet_change(&envs, &req);
    }
    let (ws, place) = resolve(&args.common)?;
    let req = SealRequest::new(&args.common, &ws.contract(None), mode)?;
    let o = execute(&req, &ws, &place)?;
    report::single(req.output, req.dry_run, &o, &[])?;
    Ok(ExitCode::SUCCESS)
}
