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

/// The contract row of `key` in the environment's contract (the fork's keys included).
fn contract_key(place: &Place, key: &str) -> Result<Entry, Failure> {
    place.contract.entry(key).copied().ok_or_else(|| {
        Failure::usage(format!(
            "unknown key {key:?}: not a backend key of the contract or of sealstrap.yaml's extra:"
        ))
        .hint("`sealstrap contract` lists the keys")
    })
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

/// New values for `keys` (and the values given for some of them), then the follow-ups.
fn rotation(
    args: &crate::cli::BootstrapArgs,
    ws: &Workspace,
    place: &Place,
    keys: BTreeSet<String>,
    values: BTreeMap<String, Zeroizing<String>>,
) -> CmdResult {
    let req = SealRequest::new(
        args,
        &ws.contract(None),
        Mode::Rotate {
            keys: keys.clone(),
            values,
        },
    )?;
    let o = execute(&req, ws, place)?;
    let follow = report::after_rotation(&o.contract, &keys, o.reads.as_ref());
    report::single(req.output, req.dry_run, &o, &follow)?;
    Ok(ExitCode::SUCCESS)
}

pub fn rotate(args: &RotateArgs) -> CmdResult {
    let (ws, place) = resolve(&args.common)?;
    let mut keys = BTreeSet::new();
    for k in &args.keys {
        let e = contract_key(&place, k)?;
        refuse_write_once(&e, args.force)?;
        keys.insert(k.clone());
        if k == DEX_PASSWORD || k == DEX_HASH {
            keys.insert(DEX_PASSWORD.into());
            keys.insert(DEX_HASH.into());
        }
    }
    rotation(&args.common, &ws, &place, keys, BTreeMap::new())
}

pub fn reset_dex_admin(args: &ResetDexAdminArgs) -> CmdResult {
    let (ws, place) = resolve(&args.common)?;
    let keys: BTreeSet<String> = [DEX_PASSWORD.to_string(), DEX_HASH.to_string()].into();
    rotation(&args.common, &ws, &place, keys, BTreeMap::new())
}

/// `sealstrap set KEY`: seals one value, given by the user, in place of the one there.
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
    let (ws, place) = resolve(&args.common)?;
    let key = args.key.as_str();
    let e = contract_key(&place, key)?;
    refuse_write_once(&e, args.force)?;
    if key == DEX_HASH {
        return Err(Failure::usage(
            "dex-admin-hash is made from dex-admin-password: set dex-admin-password instead",
        ));
    }
    let given = args
        .common
        .value_files
        .iter()
        .any(|s| s.split_once('=').is_some_and(|(k, _)| k == key));
    // A random key's value: SEALSTRAP_VALUE or a prompt (a provided key reads its own variable).
    let mut values = BTreeMap::new();
    if !given && e.is_generated() {
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
    let mut keys = BTreeSet::from([key.to_string()]);
    if key == DEX_PASSWORD {
        keys.insert(DEX_HASH.into());
    }
    let req = SealRequest::new(
        &args.common,
        &ws.contract(None),
        Mode::Rotate {
            keys: keys.clone(),
            values,
        },
    )?;
    // The value is checked against its row of the contract (what `verify` checks) before it is
    // sealed: a value its consumer refuses is not sealed unless forced.
    let value = match &req.mode {
        Mode::Rotate { values, .. } => values.get(key),
        _ => None,
    }
    .or_else(|| {
        req.value_files
            .iter()
            .find(|f| f.key == key)
            .map(|f| &f.value)
    });
    if let Some(v) = value {
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
    let o = execute(&req, &ws, &place)?;
    let follow = report::after_rotation(&o.contract, &keys, o.reads.as_ref());
    report::single(req.output, req.dry_run, &o, &follow)?;
    Ok(ExitCode::SUCCESS)
}

/// `sealstrap unset KEY`: removes one sealed value and its kustomization entry.
pub fn unset(args: &UnsetArgs) -> CmdResult {
    let (ws, place) = resolve(&args.common)?;
    contract_key(&place, &args.key)?;
    let req = SealRequest::new(
        &args.common,
        &ws.contract(None),
        Mode::Unset {
            // The Dex pair goes together: half a pair is a broken login.
            keys: if args.key == DEX_PASSWORD || args.key == DEX_HASH {
                BTreeSet::from([DEX_PASSWORD.to_string(), DEX_HASH.to_string()])
            } else {
                BTreeSet::from([args.key.clone()])
            },
            force: args.force,
        },
    )?;
    let o = execute(&req, &ws, &place)?;
    report::single(req.output, req.dry_run, &o, &[])?;
    Ok(ExitCode::SUCCESS)
}
