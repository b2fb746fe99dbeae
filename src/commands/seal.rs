//! `sealstrap seal`, `rotate` and `reset-dex-admin`: read the folder, the config and the
//! provided values; build the plan in memory; write it in one transaction; report.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealstrap::bootstrap::{self, ExistingFile, Line, Plan, Selected, Status};
use sealstrap::cert::Certificate;
use sealstrap::config::EnvConfig;
use sealstrap::contract::{DEX_HASH, DEX_PASSWORD, Entry, Source};
use sealstrap::journal::{Scope, Transaction};
use sealstrap::manifests::{self, FINGERPRINT_ANNOTATION, Wiring};
use sealstrap::{objects, timefmt, yaml};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::cli::{
    BootstrapArgs, ResetDexAdminArgs, RotateArgs, SealArgs, SelectionArgs, SummaryFormat,
    WiringArgs,
};
use crate::workspace::error::{CmdResult, Failure};
use crate::workspace::files::{io_failure, write_stdout};
use crate::workspace::repo::Root;

/// Exit code of `seal --require-complete` when a value is still missing.
pub const EXIT_INCOMPLETE: u8 = 3;

use sealstrap::defaults::DEX_COPY_NAME;

fn wiring(w: &WiringArgs) -> Wiring {
    Wiring {
        source_namespace: w.source_namespace.clone(),
        store_name: w.store_name.clone(),
        eso_namespace: w.eso_namespace.clone(),
        reader: w.reader.clone(),
        server_url: w.server_url.clone(),
        ca_configmap: w.ca_configmap.clone(),
        ca_key: w.ca_key.clone(),
    }
}

fn check_wiring(w: &Wiring) -> Result<(), Failure> {
    for (flag, v) in [
        ("--source-namespace", &w.source_namespace),
        ("--eso-namespace", &w.eso_namespace),
    ] {
        if !objects::is_dns_label(v) {
            return Err(Failure::usage(format!(
                "{flag} {v:?} is not a valid namespace name"
            )));
        }
    }
    for (flag, v) in [
        ("--store-name", &w.store_name),
        ("--reader", &w.reader),
        ("--ca-configmap", &w.ca_configmap),
    ] {
        if !objects::is_dns_subdomain(v) {
            return Err(Failure::usage(format!(
                "{flag} {v:?} is not a valid Kubernetes name"
            )));
        }
    }
    if !objects::is_data_key(&w.ca_key) {
        return Err(Failure::usage(format!(
            "--ca-key {:?} is not a valid ConfigMap key",
            w.ca_key
        )));
    }
    if !w.server_url.starts_with("https://") {
        return Err(Failure::usage(format!(
            "--server-url {:?} must be an https:// URL",
            w.server_url
        )));
    }
    Ok(())
}

/// Everything read before planning.
struct Context {
    cert: Certificate,
    config: Option<EnvConfig>,
    wiring: Wiring,
    out: PathBuf,
    existing: BTreeMap<String, ExistingFile>,
    /// Sealed files present that the contract does not know.
    extra: Vec<String>,
    notes: Vec<String>,
}

/// Where a run reads and writes: the repository it is anchored at, the environment and its
/// layout (docs/format.md §10), and the output folder.
pub struct Place {
    pub root: Option<Root>,
    /// The contract of this run's environment.
    pub contract: sealstrap::contract::Contract,
    pub layout: crate::workspace::repo::Layout,
    pub out: PathBuf,
    /// `--config`, else the environment's own config.
    pub config: Option<PathBuf>,
    /// The fleet section of `sealstrap.yaml` (empty without one).
    pub fleet: sealstrap::fleet::Fleet,
}

/// The repository root, the environment and the output folder: `--out`, else the
/// environment's folder (`clusters/<env>/secret-source` in the platform; `secret-source` at the
/// root elsewhere, or where a repository already keeps it there).
pub fn place(args: &BootstrapArgs) -> Result<Place, Failure> {
    place_for(
        args.platform_root.as_deref(),
        args.out.as_deref(),
        &args.selection,
    )
}

/// [`place`] from its parts (verify and doctor resolve the same way).
pub fn place_for(
    platform_root: Option<&Path>,
    out: Option<&Path>,
    selection: &SelectionArgs,
) -> Result<Place, Failure> {
    let ws = crate::workspace::Workspace::for_out(platform_root, out)?;
    let root = ws.root.clone();
    let env = match root.as_ref().filter(|r| r.platform) {
        Some(r) => crate::workspace::repo::environment(
            r,
            selection.env.as_deref(),
            selection.config.as_deref(),
            out,
        )?,
        None => {
            if let Some(e) = &selection.env {
                return Err(Failure::usage(format!(
                    "--env {e}: this is not the platform repository (no {})",
                    sealstrap::platform::STORE_PATH
                ))
                .hint("run in a checkout of the platform, or pass --platform-root DIR"));
            }
            None
        }
    };
    if let Some(r) = root.as_ref().filter(|r| r.platform)
        && env.is_none()
        && out.is_none()
    {
        return Err(Failure::usage(format!(
            "which environment? clusters/ holds {}",
            crate::workspace::repo::environments(&r.dir).join(", ")
        ))
        .hint("pass --env ENV (or --config environments/ENV/config.yaml), or seal them all with --all-envs"));
    }
    let layout = crate::workspace::repo::layout(root.as_ref(), env.as_deref());
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| layout.out.clone());
    let config = selection.config.clone().or_else(|| layout.config.clone());
    let fleet = ws.config.fleet.clone();
    let contract = ws.contract(layout.env.as_deref());
    Ok(Place {
        contract,
        root,
        layout,
        out,
        config,
        fleet,
    })
}

/// `--cert` as given (from the current folder), else the certificate `key new` wrote into the
/// output folder.
fn cert_path(args: &BootstrapArgs, place: &Place) -> Result<PathBuf, Failure> {
    if let Some(c) = &args.cert {
        return Ok(c.clone());
    }
    // The fleet file's certificate for this environment (relative to the root).
    if let (Some(env), Some(root)) = (&place.layout.env, &place.root)
        && let Some(c) = place
            .fleet
            .environments
            .get(env)
            .and_then(|e| e.cert.as_ref())
    {
        return Ok(root.join(c));
    }
    let default = place.out.join(crate::workspace::keys::CERT_NAME);
    if default.is_file() {
        return Ok(default);
    }
    Err(Failure::usage(format!(
        "no certificate: --cert is not given and {} is not there",
        crate::workspace::repo::shown(&default).display()
    ))
    .hint(format!(
        "pass --cert FILE (or --fetch-cert), or make the controller's key first: sealstrap key new{}",
        place
            .layout
            .env
            .as_ref()
            .map(|e| format!(" --env {e}"))
            .unwrap_or_default()
    )))
}

/// The paths a run uses and where each came from, for the summary: what you gave is read from
/// the current folder, defaults from the repository root.
fn paths_line(args: &BootstrapArgs, place: &Place) -> String {
    let origin = |given: bool| if given { "given" } else { "default" };
    let mut parts = vec![format!(
        "out {} ({})",
        crate::workspace::repo::shown(&place.out).display(),
        origin(args.out.is_some())
    )];
    if !args.fetch_cert
        && let Ok(c) = cert_path(args, place)
    {
        parts.push(format!(
            "certificate {} ({})",
            crate::workspace::repo::shown(&c).display(),
            origin(args.cert.is_some())
        ));
    }
    if let Some(c) = &place.config {
        parts.push(format!(
            "config {} ({})",
            crate::workspace::repo::shown(c).display(),
            origin(args.selection.config.is_some())
        ));
    }
    if let Some(e) = &place.layout.env {
        let from = if args.selection.env.is_some() {
            "given"
        } else if args.selection.config.is_some() {
            "from --config"
        } else {
            "default"
        };
        parts.push(format!("environment {e} ({from})"));
    }
    parts.join(", ")
}

fn load_context(args: &BootstrapArgs, place: &Place) -> Result<Context, Failure> {
    let wiring = wiring(&args.wiring);
    check_wiring(&wiring)?;
    let cert = if args.fetch_cert {
        let cluster = crate::workspace::cluster::connect(&crate::workspace::cluster::opts(
            &args.cluster,
            Default::default(),
        )?)?;
        crate::workspace::cluster::fetch_checked(
            &cluster,
            &args.cluster.controller_name,
            &args.cluster.controller_namespace,
            "sealstrap: ",
        )?
        .1
    } else {
        let path = cert_path(args, place)?;
        crate::workspace::keys::load_checked(
            &path.to_string_lossy(),
            "sealstrap: ",
            args.allow_expired,
        )?
    };
    let mut notes = Vec::new();
    let config = load_config(place.config.as_deref())?;
    if let Some(l) = &place.layout.legacy {
        notes.push(l.clone());
    }
    if let (Some(cfg), Some(path)) = (&config, &place.config)
        && let Some(advice) = sealstrap::platform::backend_advice(
            &path.display().to_string(),
            cfg.secret_backend.as_deref(),
        )
    {
        notes.push(advice);
    }
    // A journal inside the output folder of a work tree is never sealstrap's (its own lives in
    // .git): it is not read, and it must not be committed.
    let stray = place.out.join(sealstrap::journal::JOURNAL_FILE_OUTSIDE_GIT);
    if place.root.is_some() && std::fs::symlink_metadata(&stray).is_ok() {
        notes.push(format!(
            "{} is not read: in a git work tree sealstrap keeps its journal in .git; delete it (git rm --cached if it is tracked)",
            crate::workspace::repo::shown(&stray).display()
        ));
    }
    if place.out.exists() && !place.out.is_dir() {
        return Err(Failure::new(format!(
            "--out {} exists and is not a folder",
            place.out.display()
        )));
    }
    let (existing, extra) = scan_sealed(&place.contract, &place.out, &wiring, &mut notes)?;
    Ok(Context {
        cert,
        config,
        wiring,
        out: place.out.clone(),
        existing,
        extra,
        notes,
    })
}

/// Reads `--config`, if given.
pub fn load_config(path: Option<&Path>) -> Result<Option<EnvConfig>, Failure> {
    let Some(path) = path else {
        return Ok(None);
    };
    let bytes = crate::workspace::files::read_regular(path, "").map_err(|f| Failure {
        message: f.message.replacen("cannot read ", "cannot read config ", 1),
        ..f
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Failure::new(format!(
            "config {}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.valid_up_to()
        ))
    })?;
    EnvConfig::parse(text)
        .map(Some)
        .map_err(|e| Failure::at(format_args!("config {}", path.display()), &e))
}

/// The contract entries a run is about.
pub fn selection(
    contract: &sealstrap::contract::Contract,
    args: &SelectionArgs,
    config: Option<&EnvConfig>,
    referenced: &BTreeMap<String, Vec<String>>,
    off: &BTreeMap<String, Vec<String>>,
) -> Vec<Selected> {
    bootstrap::select(contract, config, &args.with, &args.without, referenced, off)
}

/// Reads `<out>/sealed/*.yaml`: contract entries with their fingerprint, and extra files.
fn scan_sealed(
    contract: &sealstrap::contract::Contract,
    out: &Path,
    w: &Wiring,
    notes: &mut Vec<String>,
) -> Result<(BTreeMap<String, ExistingFile>, Vec<String>), Failure> {
    let mut existing = BTreeMap::new();
    let mut extra = Vec::new();
    for file in crate::workspace::walk::read_sealed(out)? {
        let (name, stem) = (file.name.as_str(), file.stem.as_str());
        let rel = format!("{}/{name}", manifests::SEALED_DIR);
        let text = file
            .text
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.path.display())))?;
        let parsed = yaml::parse_documents(&text)
            .ok()
            .and_then(|docs| docs.into_iter().next())
            .and_then(|d| objects::parse_sealed_secret(&d, 1).ok());
        let fingerprint = parsed.as_ref().and_then(|p| {
            p.value
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(FINGERPRINT_ANNOTATION))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        match parsed {
            None => notes.push(format!(
                "{rel} is not a readable SealedSecret; it is kept as it is"
            )),
            Some(p) if p.name != stem || p.namespace != w.source_namespace => notes.push(format!(
                "{rel} holds SealedSecret {}, not {}/{stem}; ESO will not find it under the file's name",
                p.id(),
                w.source_namespace
            )),
            Some(p) if !p.encrypted_data().contains_key(manifests::VALUE_KEY) => notes.push(format!(
                "{rel} has no data key {:?}; ExternalSecrets with property: {} will fail",
                manifests::VALUE_KEY,
                manifests::VALUE_KEY
            )),
            Some(_) => {}
        }
        if name.ends_with(".yaml") && contract.entry(stem).is_some() {
            existing.insert(stem.to_string(), ExistingFile { fingerprint });
        } else {
            notes.push(format!(
                "{rel} is not in the secret contract; kept, never deleted"
            ));
            extra.push(rel);
        }
    }
    Ok((existing, extra))
}

/// Reads a `--value-file KEY=PATH`: one trailing newline stripped (and said so).
fn read_value_file(
    contract: &sealstrap::contract::Contract,
    spec: &str,
) -> Result<(String, Zeroizing<String>, Option<String>), Failure> {
    let Some((key, path)) = spec.split_once('=') else {
        return Err(Failure::usage(format!(
            "--value-file {spec:?} must be KEY=PATH"
        )));
    };
    if contract.entry(key).is_none() {
        return Err(Failure::usage(format!(
            "--value-file: {key:?} is not a backend key of the contract"
        ))
        .hint("`sealstrap contract` lists the keys"));
    }
    if key == DEX_HASH {
        return Err(Failure::usage(
            "--value-file dex-admin-hash: the hash is always made from dex-admin-password; import the password instead",
        ));
    }
    let path = Path::new(path);
    let bytes = crate::workspace::files::read_limited(
        Some(path),
        "",
        crate::workspace::files::VALUE_LIMIT,
    )?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::new(format!(
            "--value-file {key}: {} is not UTF-8 text",
            path.display()
        ))
    })?;
    let (value, note) = if let Some(v) = text.strip_suffix("\r\n") {
        (
            v,
            Some(format!(
                "stripped one trailing newline from {}",
                path.display()
            )),
        )
    } else if let Some(v) = text.strip_suffix('\n') {
        (
            v,
            Some(format!(
                "stripped one trailing newline from {}",
                path.display()
            )),
        )
    } else {
        (text, None)
    };
    Ok((key.to_string(), Zeroizing::new(value.to_string()), note))
}

/// Collects operator-provided (and imported) values for the entries this run will make.
fn provided_values(
    contract: &sealstrap::contract::Contract,
    args: &BootstrapArgs,
    selection: &[Selected],
    needs_value: &dyn Fn(&Entry) -> bool,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Zeroizing<String>>, Failure> {
    let mut values = BTreeMap::new();
    for spec in &args.value_files {
        let (key, value, note) = read_value_file(contract, spec)?;
        if values.contains_key(&key) {
            return Err(Failure::usage(format!("--value-file {key} is given twice")));
        }
        let Some(sel) = selection.iter().find(|s| s.entry.key == key) else {
            notes.push(format!(
                "--value-file {key} ignored: this run does not touch {key}"
            ));
            continue;
        };
        if !sel.included {
            notes.push(format!(
                "--value-file {key} ignored: {key} is not needed ({})",
                sel.reason
            ));
            continue;
        }
        if !needs_value(&sel.entry) {
            notes.push(format!(
                "--value-file {key} ignored: sealed/{key}.yaml exists and is kept (use `sealstrap rotate {key}` to replace it)"
            ));
            continue;
        }
        check_value(&key, &value, notes)?;
        if let Some(n) = note {
            notes.push(n);
        }
        values.insert(key, value);
    }
    let interactive = std::io::stdin().is_terminal();
    for sel in selection.iter().filter(|s| s.included) {
        let e = sel.entry;
        let Source::Provided { env, .. } = e.source else {
            continue;
        };
        if values.contains_key(e.key) || !needs_value(&e) {
            continue;
        }
        if let Some(v) = std::env::var_os(env) {
            let v = Zeroizing::new(
                v.into_string()
                    .map_err(|_| Failure::new(format!("{env} is not valid UTF-8")))?,
            );
            check_value(e.key, &v, notes).map_err(|f| f.hint(format!("fix or unset {env}")))?;
            values.insert(e.key.to_string(), v);
            continue;
        }
        if interactive {
            let prompt = format!(
                "{} ({}; input hidden, empty to skip): ",
                e.key,
                e.need.describe()
            );
            let v = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|err| {
                Failure::new(format!("cannot read {} from the terminal: {err}", e.key))
            })?);
            if v.is_empty() {
                continue;
            }
            check_value(e.key, &v, notes)?;
            values.insert(e.key.to_string(), v);
        }
    }
    Ok(values)
}

fn check_value(key: &str, value: &str, notes: &mut Vec<String>) -> Result<(), Failure> {
    match bootstrap::check_provided(key, value) {
        Ok(None) => Ok(()),
        Ok(Some(w)) => {
            notes.push(w);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the Dex admin password copy goes, and the git root holding `--out`.
fn dex_copy_path(args: &BootstrapArgs, place: &Place) -> (PathBuf, Option<PathBuf>) {
    let root = crate::workspace::repo::git_root(&place.out);
    let secrets_dir = match (&args.secrets_dir, &place.root) {
        (Some(d), _) => d.clone(),
        (None, Some(_)) => place.layout.secrets.clone(),
        (None, None) => match &root {
            Some(r) => r.join(sealstrap::defaults::SECRETS_DIR),
            None => std::path::absolute(&place.out)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from("."))
                .join(sealstrap::defaults::SECRETS_DIR),
        },
    };
    (secrets_dir.join(DEX_COPY_NAME), root)
}

/// The folder of the plaintext Dex copy must be a real folder that only its owner can change: a
/// symlink could send the password anywhere, and in a folder others can write to they can swap
/// the file (the copy itself is always 0600). `--fix-permissions` tightens it to 0700.
fn check_secrets_dir(copy: &Path, fix: bool) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let Some(dir) = copy.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return Ok(()); // created 0700 by this run
    };
    if meta.file_type().is_symlink() {
        return Err(Failure::new(format!(
            "{} is a symbolic link; sealstrap writes the plaintext Dex admin password only into a real folder",
            dir.display()
        ))
        .hint("replace the link with a folder (mode 0700), or choose one with --secrets-dir"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        if !fix {
            return Err(Failure::new(format!(
                "{} has mode {mode:04o}: other users can write there and could swap or read the plaintext Dex admin password",
                dir.display()
            ))
            .hint(format!(
                "run `chmod 700 {}` or pass --fix-permissions",
                dir.display()
            )));
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_failure("cannot change the mode of", dir, &e))?;
        eprintln!(
            "sealstrap: tightened {} from {mode:04o} to 0700",
            dir.display()
        );
    }
    Ok(())
}

/// What to ask git about `committed` (paths relative to the repository root): each file, and
/// each folder above one (as `DIR/`, so git matches folder-only patterns).
fn ignore_queries(committed: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = committed
        .iter()
        .flat_map(|p| p.ancestors().skip(1).map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| PathBuf::from(format!("{}/", d.display())))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut q = committed.to_vec();
    q.extend(dirs);
    q
}

/// The `.gitignore` rules that make git keep `committed`, from git's answers (`ignored`): a
/// re-include rule (`!/PATH`) for each file git would ignore, after one for each ignored folder
/// above it (git cannot re-include a file inside an ignored folder). Pure.
fn reinclude_rules(committed: &[PathBuf], ignored: &[PathBuf]) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = committed
        .iter()
        .flat_map(|p| p.ancestors().skip(1).map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut rules = Vec::new();
    for d in &dirs {
        if ignored
            .iter()
            .any(|i| i.to_string_lossy().trim_end_matches('/') == d.to_string_lossy())
        {
            rules.push(format!(
                "!{}/",
                sealstrap::gitignore::exact_rule(&d.to_string_lossy())
            ));
        }
    }
    for f in committed {
        if ignored.contains(f) {
            rules.push(format!(
                "!{}",
                sealstrap::gitignore::exact_rule(&f.to_string_lossy())
            ));
        }
    }
    rules
}

/// In the platform: the Kubernetes-provider store goes into the store swap point, replacing the
/// resolver's placeholder or its gcpsm store (a hand-written store of another provider only with
/// `seal --force`). Rotations never touch it. Pure: the file's text is in the snapshot.
fn store_at_swap_point(
    store: &(PathBuf, String),
    wiring: &Wiring,
    mode: &Mode<'_>,
    files: &mut Vec<PlannedWrite>,
    notes: &mut Vec<String>,
) -> Result<(), Failure> {
    use sealstrap::platform::{self, StoreState};
    let (path, text) = store;
    let state = platform::store_state(text, wiring);
    let force = match mode {
        Mode::Seal { force, .. } => *force,
        Mode::Rotate { .. } | Mode::Unset { .. } => return Ok(()),
    };
    match &state {
        StoreState::Kubernetes { current: true } => return Ok(()),
        StoreState::Other(_) if !force => {
            return Err(Failure::new(format!(
                "{} holds {}; sealstrap replaces only the resolver's placeholder or its gcpsm store",
                path.display(),
                state.describe()
            ))
            .hint("keep your store and pass --out only for the sealed values (the store must read the source namespace), or pass --force to replace it with the Kubernetes-provider store"));
        }
        _ => {}
    }
    notes.push(format!(
        "{}: replaced {} with the Kubernetes-provider store (ESO reads {}); the resolver leaves it alone from now on",
        path.display(),
        state.describe(),
        wiring.source_namespace
    ));
    files.push((
        path.clone(),
        Zeroizing::new(
            platform::store_file(wiring, &sealstrap::style::learn(&[text])).into_bytes(),
        ),
        None,
    ));
    Ok(())
}

/// `seal --gitops argocd`: the sealed-secrets controller and secret-source Applications in the
/// environment's always-on catalog group (sync waves: controller, then secret-source, then the
/// store), and the chart repository in the AppProject's sourceRepos (a text-preserving edit).
fn read_gitops(
    args: &BootstrapArgs,
    mode: &Mode<'_>,
    root: &Root,
    env: Option<&str>,
    graph: Option<&sealstrap::deployed::Graph>,
    ctx: &Context,
) -> Result<Gitops, Failure> {
    use sealstrap::platform;
    let Some(env) = env.map(str::to_string) else {
        return Err(Failure::usage(format!(
            "which environment's catalog? clusters/ holds {}",
            crate::workspace::repo::environments(&root.dir).join(", ")
        ))
        .hint("pass --env ENV (or --config environments/ENV/config.yaml)"));
    };
    let catalog = root.dir.join(platform::catalog_dir(&env));
    if !catalog.is_dir() {
        return Err(Failure::new(format!(
            "{} is not there: no always-on catalog group for environment {env}",
            crate::workspace::repo::shown(&catalog).display()
        ))
        .hint(
            "check --env; the platform keeps its Applications in clusters/<env>/catalog/<group>/",
        ));
    }
    let mut texts = Vec::new();
    for f in
        crate::workspace::walk::yaml_files(&root.dir.join(format!("clusters/{env}/catalog")), &[])?
    {
        if let Ok(t) = std::fs::read_to_string(&f) {
            texts.push(t);
        }
    }
    let (repo, revision) = platform::own_repo(&texts).ok_or_else(|| {
        Failure::new(format!(
            "no Application in clusters/{env}/catalog deploys from a path of this repository, so its URL is unknown"
        ))
        .hint("add the secret-source Application by hand (see README, Bring-up on the platform)")
    })?;
    let out_rel = std::path::absolute(&ctx.out)
        .ok()
        .and_then(|p| {
            p.strip_prefix(&root.dir)
                .ok()
                .map(|r| r.display().to_string())
        })
        .ok_or_else(|| {
            Failure::usage(format!(
                "--out {} is outside the platform repository, so Argo CD cannot deploy it from there",
                ctx.out.display()
            ))
        })?;
    let wanted = [
        (
            catalog.join("sealed-secrets.yaml"),
            platform::controller_app(
                &args.cluster.controller_namespace,
                &args.cluster.controller_name,
                &platform::Chart::default(),
            ),
        ),
        (
            catalog.join("secret-source.yaml"),
            platform::source_app(&repo, &revision, &out_rel, &ctx.wiring.source_namespace),
        ),
    ];
    let ours: Vec<PathBuf> = wanted.iter().map(|(p, _)| p.clone()).collect();
    // The style of the Applications beside them (the always-on group's, else any group's).
    let mut neighbours: Vec<String> = Vec::new();
    for dir in [
        catalog.clone(),
        root.dir.join(format!("clusters/{env}/catalog")),
    ] {
        for f in crate::workspace::walk::yaml_files(&dir, &[])? {
            if !ours.contains(&f)
                && let Ok(t) = std::fs::read_to_string(&f)
            {
                neighbours.push(t);
            }
        }
        if !neighbours.is_empty() {
            break;
        }
    }
    let style = sealstrap::style::learn(&neighbours.iter().map(String::as_str).collect::<Vec<_>>());
    let apps = wanted
        .into_iter()
        .map(|(path, generated)| {
            let current = std::fs::read_to_string(&path).ok();
            (path, generated, current)
        })
        .collect();
    let project = root.dir.join(platform::project_file(&env));
    let project_text =
        std::fs::read_to_string(&project).map_err(|e| io_failure("cannot read", &project, &e))?;
    let (force, chart_repo, chart_version) = match mode {
        Mode::Seal {
            force,
            chart_repo,
            chart_version,
            ..
        } => (*force, *chart_repo, *chart_version),
        Mode::Rotate { .. } | Mode::Unset { .. } => (false, None, None),
    };
    let mut requested = Vec::new();
    if let Some(r) = chart_repo {
        requested.push(("/spec/source/repoURL".to_string(), Value::from(r)));
    }
    if let Some(v) = chart_version {
        requested.push(("/spec/source/targetRevision".to_string(), Value::from(v)));
    }
    // Applications of the same names elsewhere in what the environment deploys.
    let same_names = graph
        .map(|g| {
            g.apps
                .iter()
                .filter(|a| a.name == "sealed-secrets" || a.name == "secret-source")
                .filter(|a| {
                    let file = a.from.split(' ').next().unwrap_or("");
                    !ours.iter().any(|o| o.ends_with(file))
                })
                .map(|a| (a.name.clone(), a.from.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Gitops {
        apps,
        style,
        requested,
        force,
        project,
        project_text,
        same_names,
    })
}

/// What `--gitops argocd` found: the Applications it wants (with what is there now), the
/// neighbours' style, and the AppProject's text.
struct Gitops {
    /// Each generated Application: its file, what sealstrap needs in it, and the file's text.
    apps: Vec<(PathBuf, sealstrap::platform::Generated, Option<String>)>,
    /// The neighbours' style, for a new file.
    style: sealstrap::style::Style,
    /// Fields the user asked to set in this run (`--chart-repo`, `--chart-version`).
    requested: Vec<(String, Value)>,
    force: bool,
    project: PathBuf,
    project_text: String,
    /// Other deployed Applications with the names of sealstrap's: (name, file).
    same_names: Vec<(String, String)>,
}

/// Plans the `--gitops argocd` writes from what was read. Pure.
fn plan_gitops(
    g: &Gitops,
    files: &mut Vec<PlannedWrite>,
    notes: &mut Vec<String>,
) -> Result<(), Failure> {
    use sealstrap::platform::{self, Merged};
    let mut chart_repo = None;
    for (i, (path, generated, current)) in g.apps.iter().enumerate() {
        // The controller's Application comes first: only it takes the requested chart fields.
        let requested: &[(String, Value)] = if i == 0 { &g.requested } else { &[] };
        let merged = platform::merge(current.as_deref(), generated, requested, &g.style, g.force);
        let shown = crate::workspace::repo::shown(path);
        let text =
            match merged {
                Merged::Unchanged => current.clone().unwrap_or_default(),
                Merged::Write { text, changed } => {
                    notes.push(if current.is_none() {
                        format!("{}: Argo CD Application written", shown.display())
                    } else {
                        format!(
                            "{}: set {} (your other edits are kept)",
                            shown.display(),
                            changed.join(", ")
                        )
                    });
                    files.push((
                        path.clone(),
                        Zeroizing::new(text.clone().into_bytes()),
                        None,
                    ));
                    text
                }
                Merged::Conflict(fields) => {
                    let show = |v: &Option<Value>| match v {
                        Some(v) => v.to_string(),
                        None => "(missing)".into(),
                    };
                    let diff: String = fields
                        .iter()
                        .map(|(p, have, want)| format!("\n  {p}\n  - {}\n  + {want}", show(have)))
                        .collect();
                    return Err(Failure::new(format!(
                    "{} has values sealstrap needs otherwise (the wiring depends on them):{diff}",
                    shown.display()
                ))
                .hint("change them back, or pass --force to set them (your other edits are kept)"));
                }
            };
        if i == 0 {
            chart_repo = yaml::parse_documents(&text)
                .ok()
                .and_then(|d| d.into_iter().next())
                .and_then(|d| {
                    d.pointer("/spec/source/repoURL")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                });
        }
    }
    for (name, file) in &g.same_names {
        notes.push(format!(
            "{file} also defines an Application named {name} that this environment deploys: two Applications of one name fight over one object in Argo CD; remove one"
        ));
    }
    let repo = chart_repo.unwrap_or_else(|| sealstrap::defaults::CONTROLLER_CHART_REPO.into());
    let project = &g.project;
    match platform::add_source_repo(&g.project_text, &repo) {
        Ok(Some(new)) => {
            notes.push(format!(
                "{}: added {repo} to sourceRepos",
                crate::workspace::repo::shown(project).display(),
            ));
            files.push((project.clone(), Zeroizing::new(new.into_bytes()), None));
        }
        Ok(None) => {}
        Err(why) => {
            return Err(Failure::new(format!(
                "{}: cannot add the chart repository to sourceRepos: {why}",
                project.display()
            ))
            .hint(format!(
                "add `- {repo}` to spec.sourceRepos by hand, then run seal again"
            )));
        }
    }
    Ok(())
}

/// Decrypts the sealed Dex admin password with `--private-key`.
/// The plaintext of the sealed value `key` in the output folder `out`, opened with `keys`;
/// `hint` says which key it takes. The one reader of a sealed value seal needs in the clear
/// (the Dex copy restored, a shared value carried, a break-glass copy added).
fn read_sealed_value(
    out: &Path,
    keys: &[sealstrap::rsa::PrivateKey],
    key: &str,
    hint: &str,
) -> Result<Zeroizing<String>, Failure> {
    let path = out.join(manifests::sealed_path(key));
    let text = std::fs::read_to_string(&path).map_err(|e| io_failure("cannot read", &path, &e))?;
    let docs = sealstrap::kubeseal::parse_sealed_stream(&text)
        .map_err(|e| Failure::at(path.display(), &e))?;
    let doc = docs
        .first()
        .ok_or_else(|| Failure::new(format!("{}: no SealedSecret", path.display())))?;
    let mut secret = objects::unseal_sealed_secret(doc, keys)
        .map_err(|f| Failure::new(format!("{}: {f}", path.display())).hint(hint))?;
    let value = secret.items.remove(manifests::VALUE_KEY).ok_or_else(|| {
        Failure::new(format!(
            "{}: no data key {}",
            path.display(),
            manifests::VALUE_KEY
        ))
    })?;
    let s = std::str::from_utf8(&value)
        .map_err(|_| Failure::new(format!("{}: the sealed value is not text", path.display())))?;
    Ok(Zeroizing::new(s.to_string()))
}

fn restore_dex_password(args: &BootstrapArgs, ctx: &Context) -> Result<Zeroizing<String>, Failure> {
    let keys = crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
    read_sealed_value(
        &ctx.out,
        &keys,
        DEX_PASSWORD,
        "--private-key must be the controller key the folder was sealed for",
    )
    .map_err(|f| Failure {
        message: format!("cannot restore the Dex admin password: {}", f.message),
        ..f
    })
}

/// Kind of run.
/// A file the run writes: where, its bytes, and its mode when it holds plaintext (0600).
type PlannedWrite = (PathBuf, Zeroizing<Vec<u8>>, Option<u32>);

enum Mode<'a> {
    /// `seal`; `force` replaces a hand-written store at the platform's swap point; `gitops`
    /// also writes the Argo CD wiring (for the run's environment).
    Seal {
        force: bool,
        gitops: bool,
        /// `--gitops flux`: the Flux wiring into this folder (relative to the repository root).
        flux: Option<&'a Path>,
        /// `--chart-repo` / `--chart-version`: set in the controller's Application this run.
        chart_repo: Option<&'a str>,
        chart_version: Option<&'a str>,
        /// Values the fleet file declares shared, made once for every environment.
        shared: &'a BTreeMap<String, Zeroizing<String>>,
    },
    /// `rotate`, `reset-dex-admin` and `set`: new values for `keys`; `values` holds the ones
    /// given for them (`set`), the rest are made or read as seal does.
    Rotate {
        keys: &'a BTreeSet<String>,
        values: &'a BTreeMap<String, Zeroizing<String>>,
    },
    /// `unset`: remove the sealed value of `key` (and its break-glass copy); `force` removes
    /// a key the environment needs.
    Unset { key: &'a str, force: bool },
}

struct Outcome {
    plan: Plan,
    contract: sealstrap::contract::Contract,
    written: Vec<String>,
    dex_copy: Option<PathBuf>,
    gitignore_added: Option<PathBuf>,
    notes: Vec<String>,
    fingerprint: String,
    cert: Certificate,
    out: PathBuf,
    /// What the tree reads from the store (inside a repository).
    reads: Option<crate::workspace::reads::Reads>,
    /// The paths used and where each came from.
    paths: String,
}

/// The folders a run writes in: the repository (or the output folder outside one), the output
/// folder and the folder of the Dex copy when they lie outside it.
fn run_scope(args: &BootstrapArgs, place: &Place) -> Result<Scope, Failure> {
    let (copy, _) = dex_copy_path(args, place);
    let secrets = copy.parent().map(Path::to_path_buf).unwrap_or_default();
    crate::workspace::repo::write_scope(place.root.as_ref(), &[&place.out, &secrets])
}

/// A file of the Flux folder: its path in it, its text, and what is there now.
type FluxFile = (String, String, Option<Vec<u8>>);

/// Everything a run depends on, read (under the folder lock) before anything is decided: the
/// output folder, the tree's ExternalSecrets, the provided values, the platform's store file,
/// the Argo CD catalog, the Dex copy, `.gitignore` and git's answers. `plan_run` then decides
/// every write from it without touching the disk, and `write` lands them in one transaction.
struct Snapshot {
    ctx: Context,
    contract: sealstrap::contract::Contract,
    /// The fleet file's break-glass certificate, and the plaintexts of existing values that
    /// have no break-glass copy yet (read with --private-key / --identity, when given).
    break_glass: Option<Certificate>,
    break_glass_missing: Vec<(String, Zeroizing<String>)>,
    root: Option<Root>,
    reads: Option<crate::workspace::reads::Reads>,
    selection: Vec<Selected>,
    provided: BTreeMap<String, Zeroizing<String>>,
    /// What is in --out now, per wiring file name.
    current: BTreeMap<String, Option<Vec<u8>>>,
    user_resources: Vec<String>,
    /// A second store in --out from a standalone run, in the platform (or with Flux, whose store
    /// has a folder of its own).
    stale_store: Option<PathBuf>,
    /// `--gitops flux`: the Flux folder and its files (relative path, text, what is there now).
    flux: Option<(PathBuf, Vec<FluxFile>)>,
    /// The platform's store file and its text.
    store: Option<(PathBuf, String)>,
    gitops: Option<Gitops>,
    /// The Dex copy's path, the git root holding --out, whether the copy exists and whether git
    /// ignores it.
    copy: PathBuf,
    git_root: Option<PathBuf>,
    copy_exists: bool,
    copy_ignored: bool,
    /// git tracks the copy (or has it staged): no ignore rule applies to it.
    copy_tracked: bool,
    /// The ignore rule that decides the copy now: (file, line, pattern).
    copy_rule: Option<(String, String, String)>,
    /// The Dex password decrypted with --private-key, when its copy is missing.
    restored: Option<Zeroizing<String>>,
    /// `.gitignore` at the git root: its bytes (or why they cannot be read), and whether it is a
    /// symbolic link.
    gitignore: Option<(PathBuf, Result<Vec<u8>, String>, bool)>,
    /// git's answers: which of the files a run may write for a commit git ignores.
    ignored: Vec<PathBuf>,
}

fn read_snapshot<'m>(
    args: &BootstrapArgs,
    mode: &Mode<'m>,
    place: Place,
) -> Result<(Snapshot, BTreeSet<String>), Failure> {
    let mut ctx = load_context(args, &place)?;
    let contract = place.contract.clone();
    let store_opts = sealstrap::patch::Options {
        store: ctx.wiring.store_name.clone(),
        property: manifests::VALUE_KEY.into(),
        contract: place.contract.clone(),
    };
    // What the environment deploys, and what that reads from the store (outside a repository
    // there is no tree to read).
    let graph = match &place.root {
        Some(r) => crate::workspace::reads::graph(r, place.layout.env.as_deref())?,
        None => None,
    };
    let reads = match &place.root {
        Some(r) => Some(crate::workspace::reads::reads(
            r,
            graph.as_ref(),
            std::slice::from_ref(&ctx.out),
            &store_opts,
        )?),
        None => None,
    };
    let empty_refs = BTreeMap::new();
    let refs = reads.as_ref().map(|r| &r.by_key).unwrap_or(&empty_refs);
    let off = reads.as_ref().map(|r| &r.off).unwrap_or(&empty_refs);
    let mut selection = selection(&contract, &args.selection, ctx.config.as_ref(), refs, off);
    let rotate: BTreeSet<String> = match mode {
        Mode::Seal { .. } => BTreeSet::new(),
        Mode::Unset { key, force } => {
            let sel = selection.iter().find(|s| s.entry.key == *key);
            if !ctx.existing.contains_key(*key) {
                return Err(Failure::new(format!(
                    "{} has no sealed {key}: nothing to remove",
                    crate::workspace::repo::shown(&ctx.out).display()
                )));
            }
            if let Some(sel) = sel.filter(|s| s.included)
                && !force
            {
                return Err(Failure::new(format!(
                    "{key} is needed here ({}): removing it breaks what reads it",
                    sel.reason
                ))
                .hint("pass --force to remove it anyway"));
            }
            // Nothing is made: the key leaves the folder, the rest stays as it is.
            selection.retain(|s| s.entry.key == *key);
            for s in selection.iter_mut() {
                s.included = false;
                s.reason = "removed by `sealstrap unset`".into();
            }
            ctx.existing.remove(*key);
            BTreeSet::new()
        }
        Mode::Rotate { keys, .. } => {
            for k in keys.iter() {
                let sel = selection
                    .iter()
                    .find(|s| s.entry.key == k)
                    .expect("checked by caller");
                if !sel.included {
                    return Err(Failure::new(format!(
                        "{k} is not part of this environment ({}); nothing to rotate",
                        sel.reason
                    ))
                    .hint("pass the --config or --with that includes it"));
                }
            }
            selection.retain(|s| keys.contains(s.entry.key));
            (*keys).clone()
        }
    };
    let needs_value = |e: &Entry| !ctx.existing.contains_key(e.key) || rotate.contains(e.key);
    let mut provided = provided_values(&contract, args, &selection, &needs_value, &mut ctx.notes)?;
    // A shared value (the fleet file) is this environment's too, where it has none yet.
    if let Mode::Seal { shared, .. } = mode {
        for s in &selection {
            if let Some(v) = shared.get(s.entry.key)
                && s.included
                && needs_value(&s.entry)
                && !provided.contains_key(s.entry.key)
            {
                provided.insert(s.entry.key.to_string(), v.clone());
            }
        }
    }
    if let Mode::Rotate { keys, values } = mode {
        for (k, v) in values.iter() {
            check_value(k, v, &mut ctx.notes)?;
            provided.insert(k.clone(), v.clone());
        }
        for k in keys.iter() {
            let e = contract.entry(k).expect("checked by caller");
            if let Source::Provided { env, .. } = e.source
                && !provided.contains_key(e.key)
            {
                return Err(Failure::new(format!("no new value for {k}")).hint(format!(
                    "set {env}, pass --value-file {k}=PATH, or run on a terminal to be prompted"
                )));
            }
        }
    }

    let platform_root = place.root.as_ref().filter(|r| r.platform);
    let mut current = BTreeMap::new();
    for rel in manifests::WIRING_FILES {
        current.insert(rel.to_string(), std::fs::read(ctx.out.join(rel)).ok());
    }
    let user_resources = current
        .get(manifests::KUSTOMIZATION_FILE)
        .and_then(|b| b.as_ref())
        .map(|b| manifests::user_resources(&String::from_utf8_lossy(b)))
        .unwrap_or_default();
    // --gitops flux: the controller, the store in a folder of its own, three Flux Kustomizations.
    let flux = match mode {
        Mode::Seal {
            flux: Some(dir),
            chart_repo,
            chart_version,
            ..
        } => {
            let Some(git_root) = crate::workspace::repo::git_root(&ctx.out) else {
                return Err(Failure::usage(
                    "--gitops flux: Flux reconciles paths of a git repository, and --out is not in one",
                )
                .hint("run seal in the repository Flux syncs (git init first)"));
            };
            if platform_root.is_some() {
                return Err(Failure::usage(
                    "--gitops flux: this is the Argo CD platform; its wiring is --gitops argocd",
                ));
            }
            let folder = if dir.is_absolute() {
                dir.to_path_buf()
            } else {
                git_root.join(dir)
            };
            let rel = |p: &Path| {
                std::path::absolute(p)
                    .ok()
                    .and_then(|a| {
                        a.strip_prefix(&git_root)
                            .ok()
                            .map(|r| r.to_string_lossy().into_owned())
                    })
                    .ok_or_else(|| {
                        Failure::usage(format!(
                            "{} is outside the repository Flux syncs ({})",
                            p.display(),
                            git_root.display()
                        ))
                    })
            };
            let chart = sealstrap::platform::Chart {
                repo: chart_repo
                    .map(str::to_string)
                    .unwrap_or_else(|| sealstrap::defaults::CONTROLLER_CHART_REPO.into()),
                version: chart_version
                    .map(str::to_string)
                    .unwrap_or_else(|| sealstrap::defaults::CONTROLLER_CHART_VERSION.into()),
            };
            let files = sealstrap::flux::files(
                &ctx.wiring,
                &args.cluster.controller_namespace,
                &args.cluster.controller_name,
                &chart,
                &rel(&ctx.out)?,
                &rel(&folder)?,
            )
            .into_iter()
            .map(|(r, t)| {
                let now = std::fs::read(folder.join(&r)).ok();
                (r, t, now)
            })
            .collect();
            Some((folder, files))
        }
        _ => None,
    };
    let stale_store = (platform_root.is_some() || flux.is_some())
        .then(|| ctx.out.join(manifests::STORE_FILE))
        .filter(|p| p.exists());
    let store = match platform_root {
        Some(root) => {
            let path = root.join(sealstrap::platform::STORE_PATH);
            let text =
                std::fs::read_to_string(&path).map_err(|e| io_failure("cannot read", &path, &e))?;
            Some((path, text))
        }
        None => None,
    };
    let gitops = match mode {
        Mode::Seal { gitops: true, .. } => {
            let Some(root) = platform_root else {
                return Err(Failure::usage(
                    "--gitops argocd writes into the platform's Argo CD catalog, and this is not the platform repository",
                )
                .hint("run it in a checkout of the platform, or pass --platform-root DIR"));
            };
            Some(read_gitops(
                args,
                mode,
                root,
                place.layout.env.as_deref(),
                graph.as_ref(),
                &ctx,
            )?)
        }
        _ => None,
    };

    // The Dex copy: where it goes, whether it is there, whether git ignores it, and (when it is
    // missing beside a kept pair) the password from its sealed copy.
    let (copy, git_root) = dex_copy_path(args, &place);
    let copy_exists = copy.exists();
    let pair = bootstrap::dex_pair(&selection, &ctx.existing, &rotate);
    let mut restored = None;
    if pair == bootstrap::DexPair::Kept && !copy_exists {
        if args.private_keys.is_empty() {
            ctx.notes.push(format!(
                "{} is missing; pass --private-key KEY to restore it from its sealed copy",
                copy.display()
            ));
        } else {
            restored = Some(restore_dex_password(args, &ctx)?);
        }
    }
    let copy_rel = git_root
        .as_ref()
        .and_then(|root| relative_to(root, &copy).map(|rel| (root, rel)));
    let copy_ignored = copy_rel
        .as_ref()
        .is_none_or(|(root, rel)| crate::workspace::git::ignores(root, rel));
    let copy_tracked = copy_rel
        .as_ref()
        .is_some_and(|(root, rel)| crate::workspace::git::git_tracks(root, rel));
    let copy_rule = copy_rel
        .as_ref()
        .and_then(|(root, rel)| crate::workspace::git::deciding_rule(root, rel));
    if pair == bootstrap::DexPair::New || restored.is_some() {
        check_secrets_dir(&copy, args.fix_permissions)?;
    }
    let (gitignore, ignored) = match &git_root {
        Some(root) => {
            let path = root.join(".gitignore");
            let is_link =
                std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            let bytes = match std::fs::read(&path) {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(e.to_string()),
            };
            // Every file a run may write for a commit: each contract row's sealed file, the
            // extra files, the wiring, the platform's store and the Argo CD files.
            let mut candidates: Vec<PathBuf> = contract
                .all()
                .flat_map(|e| {
                    [
                        ctx.out.join(manifests::sealed_path(e.key)),
                        ctx.out.join(manifests::break_glass_path(e.key)),
                    ]
                })
                .chain(ctx.extra.iter().map(|rel| ctx.out.join(rel)))
                .chain(current.keys().map(|rel| ctx.out.join(rel)))
                .chain(store.iter().map(|(p, _)| p.clone()))
                .chain(gitops.iter().flat_map(|g| {
                    g.apps
                        .iter()
                        .map(|(p, _, _)| p.clone())
                        .chain([g.project.clone()])
                }))
                .filter_map(|p| relative_to(root, &p))
                .collect();
            candidates.sort();
            candidates.dedup();
            let ignored = crate::workspace::git::git_ignored(root, &ignore_queries(&candidates))
                .unwrap_or_default();
            (Some((path, bytes, is_link)), ignored)
        }
        None => (None, Vec::new()),
    };
    // The break-glass certificate, and existing values without a copy for it.
    let break_glass = match (&place.fleet.break_glass, &place.root) {
        (Some(rel), Some(root)) => Some(crate::workspace::keys::load_for_sealing(
            &root.join(rel).to_string_lossy(),
            "sealstrap: break-glass: ",
        )?),
        _ => None,
    };
    let mut break_glass_missing = Vec::new();
    if break_glass.is_some() {
        let lacking: Vec<String> = ctx
            .existing
            .keys()
            .filter(|k| !rotate.contains(*k))
            .filter(|k| !ctx.out.join(manifests::break_glass_path(k)).exists())
            .cloned()
            .collect();
        if !lacking.is_empty() {
            if args.private_keys.is_empty() && args.identity.identity.is_empty() {
                ctx.notes.push(format!(
                    "{} value(s) sealed before the break-glass certificate have no break-glass copy ({}); pass --private-key KEY (or -i IDENTITY with the escrow) once to add them",
                    lacking.len(),
                    lacking.join(", ")
                ));
            } else {
                let keys =
                    crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
                for k in lacking {
                    break_glass_missing.push((
                        k.clone(),
                        read_sealed_value(
                            &ctx.out,
                            &keys,
                            &k,
                            "--private-key (or -i with the escrow) must open the folder's sealed values",
                        )?,
                    ));
                }
            }
        }
    }
    Ok((
        Snapshot {
            ctx,
            contract,
            root: place.root,
            break_glass,
            break_glass_missing,
            reads,
            selection,
            provided,
            current,
            user_resources,
            stale_store,
            flux,
            store,
            gitops,
            copy,
            git_root,
            copy_exists,
            copy_ignored,
            copy_tracked,
            copy_rule,
            restored,
            gitignore,
            ignored,
        },
        rotate,
    ))
}

/// `p` relative to `root`, when it is below it.
fn relative_to(root: &Path, p: &Path) -> Option<PathBuf> {
    std::path::absolute(p)
        .ok()?
        .strip_prefix(root)
        .ok()
        .map(Path::to_path_buf)
}

/// Every write of a run and what to say about it, decided from the snapshot and the values'
/// plan. Pure: no file is read or written here.
struct RunPlan {
    files: Vec<PlannedWrite>,
    removals: Vec<PathBuf>,
    notes: Vec<String>,
    dex_copy: Option<PathBuf>,
    gitignore_added: Option<PathBuf>,
    /// The `.gitignore` edit, as (file, its bytes before, the rules appended), so a fleet run
    /// can merge the rules of every environment into one edit.
    gitignore_edit: Option<(PathBuf, Vec<u8>, Vec<String>)>,
}

fn plan_run(
    args: &BootstrapArgs,
    mode: &Mode<'_>,
    snap: &Snapshot,
    plan: &Plan,
    break_glass_added: &[bootstrap::PlannedFile],
) -> Result<RunPlan, Failure> {
    let ctx = &snap.ctx;
    let mut notes = ctx.notes.clone();
    notes.extend(plan.notes.iter().cloned());
    let mut files: Vec<PlannedWrite> = Vec::new();
    let mut removals: Vec<PathBuf> = Vec::new();

    // The sealed values, then the wiring that lists them.
    let mut sealed_before: Vec<String> = ctx
        .existing
        .keys()
        .map(|k| manifests::sealed_path(k))
        .chain(ctx.extra.iter().cloned())
        .collect();
    sealed_before.sort();
    let mut sealed_after = sealed_before.clone();
    // `unset`: the file goes (and its break-glass copy), and the folder as it was listed it.
    if let Mode::Unset { key, .. } = mode {
        removals.push(ctx.out.join(manifests::sealed_path(key)));
        let copy = ctx.out.join(manifests::break_glass_path(key));
        if copy.exists() {
            removals.push(copy);
        }
        sealed_before.push(manifests::sealed_path(key));
        sealed_before.sort();
        notes.push(format!(
            "{key} removed from {}",
            crate::workspace::repo::shown(&ctx.out).display()
        ));
    }
    for f in &plan.sealed {
        // Break-glass copies are written, never listed in the kustomization.
        if f.path.starts_with(manifests::SEALED_DIR) {
            sealed_after.push(f.path.clone());
        }
        files.push((ctx.out.join(&f.path), f.contents.clone(), None));
    }
    for f in break_glass_added {
        files.push((ctx.out.join(&f.path), f.contents.clone(), None));
    }
    sealed_after.sort();
    sealed_after.dedup();
    let platform = snap.root.as_ref().filter(|r| r.platform);
    if !snap.user_resources.is_empty() {
        notes.push(format!(
            "{} keeps your own resources: {}",
            ctx.out.join(manifests::KUSTOMIZATION_FILE).display(),
            snap.user_resources.join(", ")
        ));
    }
    if let (Some(root), Some(store)) = (platform, &snap.store) {
        store_at_swap_point(store, &ctx.wiring, mode, &mut files, &mut notes)?;
        // The store lives at the platform's swap point only: a second one here would fight it.
        if let Some(stale) = &snap.stale_store {
            notes.push(format!(
                "{} removed: in the platform the store is {}",
                stale.display(),
                root.join(sealstrap::platform::STORE_PATH).display()
            ));
            removals.push(stale.clone());
        }
    }
    if let Some(g) = &snap.gitops {
        plan_gitops(g, &mut files, &mut notes)?;
    }
    if let Some((dir, flux_files)) = &snap.flux {
        for (rel, text, now) in flux_files {
            if now.as_deref() != Some(text.as_bytes()) {
                files.push((
                    dir.join(rel),
                    Zeroizing::new(text.clone().into_bytes()),
                    None,
                ));
            }
        }
        notes.push(format!(
            "Flux: add {} to the folder Flux reconciles for this cluster (or `kubectl apply -k {}`); it applies the controller, then {}, then the store",
            crate::workspace::repo::shown(dir).display(),
            crate::workspace::repo::shown(dir).display(),
            crate::workspace::repo::shown(&ctx.out).display()
        ));
        if let Some(stale) = &snap.stale_store {
            notes.push(format!(
                "{} removed: with Flux the store is {}",
                stale.display(),
                crate::workspace::repo::shown(&dir.join(sealstrap::flux::STORE_DIR)).display()
            ));
            removals.push(stale.clone());
        }
    }
    // The store sits in --out only outside the platform and without Flux.
    let with_store = platform.is_none() && snap.flux.is_none();
    if let Some(r) = &snap.reads {
        let own = std::path::absolute(&ctx.out).unwrap_or(ctx.out.clone());
        for f in &r.other_stores {
            if !std::path::absolute(f)
                .unwrap_or(f.clone())
                .starts_with(&own)
            {
                notes.push(format!(
                    "{} also defines ClusterSecretStore {}: two stores of one name fight over one object in the cluster; delete that one{}",
                    crate::workspace::repo::shown(f).display(),
                    ctx.wiring.store_name,
                    if platform.is_some() { " (the platform's store file is the swap point)" } else { "" }
                ));
            }
        }
        for (at, key, path) in &r.helm_without_property {
            notes.push(crate::workspace::reads::helm_fix(
                at,
                key,
                path,
                manifests::VALUE_KEY,
            ));
        }
        for b in &r.broken {
            notes.push(format!(
                "{b}: this document is not valid YAML, so what it reads from the store is not counted (the rest of its file is); fix it and run seal again"
            ));
        }
    }
    // A wiring file that differs only because of this run's new values is an expected update;
    // one that differs from what the old values render is a hand edit being overwritten.
    let rendered_before = manifests::wiring_files(
        &ctx.wiring,
        &sealed_before,
        with_store,
        &snap.user_resources,
    );
    for (rel, text) in
        manifests::wiring_files(&ctx.wiring, &sealed_after, with_store, &snap.user_resources)
    {
        let current = snap.current.get(&rel).cloned().flatten();
        if current.as_deref() != Some(text.as_bytes()) {
            let expected_before = rendered_before
                .iter()
                .find(|(r, _)| *r == rel)
                .map(|(_, t)| t.as_bytes());
            if current.is_some() && current.as_deref() != expected_before {
                notes.push(format!(
                    "{rel} differs from what sealstrap renders; rewritten"
                ));
            }
            files.push((ctx.out.join(&rel), Zeroizing::new(text.into_bytes()), None));
        }
    }

    // The Dex copy: never beside a pair it does not belong to.
    let copy = &snap.copy;
    if plan.dex_password.is_some() && matches!(mode, Mode::Seal { .. }) && snap.copy_exists {
        // A new pair beside an existing copy would leave that copy matching nothing sealed
        // (a run from another folder, or a second output folder).
        return Err(Failure::new(format!(
            "{} has no Dex admin pair, but {} already holds a Dex admin password; sealing a new pair would make that copy match nothing",
            ctx.out.display(),
            copy.display()
        ))
        .hint(format!(
            "run seal from the repository root (or pass --out to the folder that holds that password's pair); if the copy is stale, move it away first: mv {} {}.old",
            copy.display(),
            copy.display()
        )));
    }
    let mut dex_copy = None;
    // Git must ignore the plaintext copy and must not ignore anything meant for a commit.
    let mut ignore_rules: Vec<String> = Vec::new();
    if let Some(pw) = plan.dex_password.as_ref().or(snap.restored.as_ref()) {
        if snap.git_root.is_none() && args.secrets_dir.is_none() {
            notes.push(format!(
                "--out is not inside a git repository; the Dex admin password copy goes to {}",
                copy.display()
            ));
        }
        if snap.copy_tracked {
            return Err(Failure::new(format!(
                "git tracks {} (or has it staged): no ignore rule keeps a tracked file out of a commit, so the plaintext Dex admin password would be committed",
                copy.display()
            ))
            .hint(format!(
                "unstage it and keep it ignored: git rm --cached {}; if it was ever pushed, rotate it afterwards (sealstrap reset-dex-admin)",
                crate::workspace::repo::shown(copy).display()
            )));
        }
        if !snap.copy_ignored
            && let Some(root) = &snap.git_root
            && let Some(rel) = relative_to(root, copy)
        {
            // A rule sealstrap appends to the top-level .gitignore loses to a re-include in a
            // deeper one (gitignore(5): deeper files take precedence).
            if let Some((source, line, pattern)) = &snap.copy_rule
                && pattern.starts_with('!')
                && Path::new(source) != Path::new(".gitignore")
            {
                return Err(Failure::new(format!(
                    "{source}:{line} re-includes {} (`{pattern}`), and a rule in the top-level .gitignore cannot override a deeper .gitignore: git would commit the plaintext Dex admin password",
                    crate::workspace::repo::shown(copy).display()
                ))
                .hint(format!(
                    "delete that line from {source}, or put the copy elsewhere with --secrets-dir (outside the repository is safest)"
                )));
            }
            ignore_rules.push(sealstrap::gitignore::exact_rule(&rel.to_string_lossy()));
        }
        if snap.restored.is_some() {
            notes.push(format!("restored {} from its sealed copy", copy.display()));
        }
        files.push((
            copy.clone(),
            Zeroizing::new(pw.as_bytes().to_vec()),
            Some(0o600),
        ));
        dex_copy = Some(copy.clone());
    }
    let mut reinclude = Vec::new();
    if let Some(root) = &snap.git_root {
        let mut committed: Vec<PathBuf> = sealed_after
            .iter()
            .chain(snap.current.keys())
            .map(|rel| ctx.out.join(rel))
            .filter(|p| platform.is_none() || !p.ends_with(manifests::STORE_FILE))
            .chain(files.iter().map(|(p, _, _)| p.clone()))
            .filter(|p| Some(p) != dex_copy.as_ref() && !p.ends_with(".gitignore"))
            .filter_map(|p| relative_to(root, &p))
            .collect();
        committed.sort();
        committed.dedup();
        reinclude = reinclude_rules(&committed, &snap.ignored);
    }
    let mut gitignore_added = None;
    let mut gitignore_edit = None;
    if let Some((gitignore, bytes, is_link)) = &snap.gitignore
        && (!ignore_rules.is_empty() || !reinclude.is_empty())
    {
        let all: Vec<String> = ignore_rules
            .iter()
            .chain(reinclude.iter())
            .cloned()
            .collect();
        if args.no_gitignore_edit {
            return Err(Failure::new(format!(
                "git would {} (--no-gitignore-edit: .gitignore is not edited)",
                if reinclude.is_empty() {
                    "not ignore the plaintext Dex admin password copy"
                } else {
                    "ignore files seal writes for you to commit"
                }
            ))
            .hint(format!(
                "add these lines to {}:\n  {}",
                gitignore.display(),
                all.join("\n  ")
            )));
        }
        // Git does not follow a symlinked .gitignore; writing through it would change
        // another file, and replacing it would drop its rules.
        if *is_link {
            return Err(Failure::new(format!(
                "{} is a symbolic link; git does not read it as a .gitignore, and sealstrap will not edit through it",
                gitignore.display()
            ))
            .hint(format!(
                "replace the link with a regular file, or add these lines to your ignore rules yourself: {}",
                all.join("  ")
            )));
        }
        let base = bytes
            .clone()
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", gitignore.display())))?;
        let mut text = base.clone();
        for rule in &all {
            text = sealstrap::gitignore::append_rule(&text, rule);
        }
        files.push((gitignore.clone(), Zeroizing::new(text), None));
        gitignore_edit = Some((gitignore.clone(), base, all.clone()));
        match reinclude.as_slice() {
            [] => {}
            [r] => notes.push(format!(
                "{}: added `{r}`: the platform's rules would make git ignore it, and Argo CD would never see it",
                crate::workspace::repo::shown(gitignore).display()
            )),
            rules => notes.push(format!(
                "{}: added {} re-include rules (`{}` ... `{}`): the platform's rules would make git ignore those files, and Argo CD would never see them",
                crate::workspace::repo::shown(gitignore).display(),
                rules.len(),
                rules[0],
                rules[rules.len() - 1]
            )),
        }
        gitignore_added = (!ignore_rules.is_empty()).then(|| gitignore.clone());
    }
    Ok(RunPlan {
        files,
        removals,
        notes,
        dex_copy,
        gitignore_added,
        gitignore_edit,
    })
}

/// Lands a run's writes in one journaled transaction; returns what was written.
fn write(scope: &Scope, run: &RunPlan) -> Result<Vec<String>, Failure> {
    let mut tx = Transaction::new(scope);
    for (path, contents, mode) in &run.files {
        if mode.is_some()
            && let Some(dir) = path.parent()
        {
            tx.create_dir_all(dir, Some(0o700)).map_err(|e| {
                io_failure("cannot create", dir, &e)
                    .hint("nothing was changed: every file is staged before any is replaced")
            })?;
        }
        tx.stage_step(path, contents, *mode).map_err(|e| {
            io_failure("cannot write", path, &e)
                .hint("nothing was changed: every file is staged before any is replaced")
        })?;
    }
    for r in &run.removals {
        tx.remove(r).map_err(|e| Failure::new(e.to_string()))?;
    }
    tx.commit()
        .map_err(|e| Failure::new(format!("cannot move the new files into place: {e}")))?;
    Ok(run
        .files
        .iter()
        .map(|(p, _, _)| p.display().to_string())
        .chain(
            run.removals
                .iter()
                .map(|p| format!("{} (removed)", p.display())),
        )
        .collect())
}

/// Asks git once more, with the new rules on disk, whether it ignores the plaintext Dex copy; if
/// it would commit it after all (a rule sealstrap could not foresee), the copy is removed again
/// and the run fails. The password stays sealed; `seal --private-key` restores the copy.
fn confirm_copy_ignored(root: &Path, copy: &Path) -> Result<(), Failure> {
    let Some(rel) = relative_to(root, copy) else {
        return Ok(());
    };
    // Without a git that answers, the rule sealstrap wrote is all there is to go by.
    let Some(ignored) = crate::workspace::git::git_ignored(root, std::slice::from_ref(&rel)) else {
        return Ok(());
    };
    if !ignored.is_empty() && !crate::workspace::git::git_tracks(root, &rel) {
        return Ok(());
    }
    let removed = std::fs::remove_file(copy).is_ok();
    let why = crate::workspace::git::deciding_rule(root, &rel)
        .map(|(f, l, p)| format!(" (deciding rule: {f}:{l}: `{p}`)"))
        .unwrap_or_default();
    Err(Failure::new(format!(
        "git would commit {} even with sealstrap's ignore rule{why}; {}",
        crate::workspace::repo::shown(copy).display(),
        if removed {
            "the plaintext copy was removed again (the password stays sealed)"
        } else {
            "REMOVE THE PLAINTEXT COPY NOW"
        }
    ))
    .hint("fix the ignore rules so git ignores that path (git check-ignore -v PATH shows which rule wins), then restore the copy: sealstrap seal --private-key KEY"))
}

/// A run: lock the folder, read the snapshot, plan the values and every write, then write.
fn execute(args: &BootstrapArgs, mode: Mode<'_>) -> Result<Outcome, Failure> {
    execute_in(args, mode, None)
}

/// A run, under the locks of `held` when the caller holds them already (a fleet run locks the
/// repository once for all its environments).
fn execute_in(
    args: &BootstrapArgs,
    mode: Mode<'_>,
    held: Option<&Scope>,
) -> Result<Outcome, Failure> {
    let (mut outcome, run, git_root, scope, _locks) = prepare(args, mode, held)?;
    if !(args.dry_run || run.files.is_empty() && run.removals.is_empty()) {
        outcome.written = write(&scope, &run)?;
    }
    if !args.dry_run
        && let (Some(copy), Some(root)) = (&run.dex_copy, &git_root)
    {
        confirm_copy_ignored(root, copy)?;
    }
    Ok(outcome)
}

/// A prepared run: its outcome (nothing written yet), its writes, the git root of its output,
/// its scope, and the locks it took (held until the write is done).
type Prepared = (
    Outcome,
    RunPlan,
    Option<PathBuf>,
    Scope,
    Vec<sealstrap::output::FolderLock>,
);

/// Everything of a run but the write: the locks (unless the caller holds them: a fleet run
/// locks the repository once), the snapshot, the values' plan and every write decided. The
/// outcome's `written` is empty until the caller writes the run plan.
fn prepare(
    args: &BootstrapArgs,
    mode: Mode<'_>,
    held: Option<&Scope>,
) -> Result<Prepared, Failure> {
    let place = place(args)?;
    let paths = paths_line(args, &place);
    let scope = run_scope(args, &place)?;
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
        None => crate::workspace::files::lock_scope(&scope, args.dry_run)?,
    };
    let (snap, rotate) = read_snapshot(args, &mode, place)?;
    let mut rng = UnwrapErr(SysRng);
    let inputs = bootstrap::Inputs {
        contract: &snap.contract,
        selection: &snap.selection,
        existing: &snap.ctx.existing,
        provided: &snap.provided,
        rotate: &rotate,
        fingerprint: &snap.ctx.cert.fingerprint,
        wiring: &snap.ctx.wiring,
        bcrypt_cost: args.bcrypt_cost,
        references: snap.reads.as_ref().map(|r| &r.by_key),
        break_glass: snap
            .break_glass
            .as_ref()
            .map(|c| (&c.public_key, c.fingerprint.as_str())),
    };
    let plan = bootstrap::plan(&mut rng, &snap.ctx.cert.public_key, &inputs)
        .map_err(|e| Failure::new(e.to_string()))?;
    // Break-glass copies of values sealed before the break-glass certificate was listed.
    let mut break_glass_added = Vec::new();
    if let Some(bg) = &snap.break_glass {
        for (k, value) in &snap.break_glass_missing {
            let origin = match snap.contract.entry(k) {
                Some(e) if !e.is_generated() => manifests::Origin::Provided,
                _ => manifests::Origin::Generated,
            };
            let text = manifests::sealed_entry(
                &mut rng,
                &bg.public_key,
                &bg.fingerprint,
                &snap.ctx.wiring,
                k,
                value,
                origin,
            )
            .map_err(|e| Failure::new(format!("sealing the break-glass copy of {k}: {e}")))?;
            break_glass_added.push(bootstrap::PlannedFile {
                path: manifests::break_glass_path(k),
                contents: Zeroizing::new(text.into_bytes()),
            });
        }
    }
    let run = plan_run(args, &mode, &snap, &plan, &break_glass_added)?;
    let git_root = snap.git_root.clone();
    let Snapshot {
        ctx,
        reads,
        contract,
        ..
    } = snap;
    let outcome = Outcome {
        plan,
        contract,
        written: Vec::new(),
        dex_copy: run.dex_copy.clone(),
        gitignore_added: run.gitignore_added.clone(),
        notes: run.notes.clone(),
        fingerprint: ctx.cert.fingerprint.clone(),
        cert: ctx.cert,
        out: ctx.out,
        reads,
        paths,
    };
    Ok((outcome, run, git_root, scope, locks))
}

fn report(
    args: &BootstrapArgs,
    o: &Outcome,
    cert_line: &str,
    follow_up: &[String],
) -> Result<(), Failure> {
    let todo = bootstrap::todo_summary(&o.plan.lines);
    match args.output {
        SummaryFormat::Json => {
            let entries: Vec<Value> = o
                .plan
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "key": l.key,
                        "status": l.status.as_str(),
                        "detail": l.detail,
                        "todo": l.todo,
                    })
                })
                .collect();
            let doc = json!({
                "out": o.out.display().to_string(),
                "paths": o.paths,
                "certificate_fingerprint": o.fingerprint,
                "dry_run": args.dry_run,
                "entries": entries,
                "written": o.written,
                "dex_admin_password_copy": o.dex_copy.as_ref().map(|p| p.display().to_string()),
                "gitignore_updated": o.gitignore_added.as_ref().map(|p| p.display().to_string()),
                "notes": o.notes,
                "todo": todo,
                "follow_up": follow_up,
            });
            write_stdout(
                format!("{}\n", serde_json::to_string_pretty(&doc).expect("json")).as_bytes(),
            )?;
        }
        SummaryFormat::Text => {
            let mut s = String::new();
            s.push_str(cert_line);
            s.push('\n');
            s.push_str(&format!("paths: {}\n", o.paths));
            for l in &o.plan.lines {
                s.push_str(&format_line(l));
            }
            if args.dry_run {
                s.push_str("dry run: nothing written\n");
            } else if o.written.is_empty() {
                s.push_str(&format!(
                    "nothing to write: {} is up to date\n",
                    o.out.display()
                ));
            } else {
                s.push_str(&format!("wrote {} file(s)\n", o.written.len()));
            }
            if let Some(p) = &o.dex_copy {
                s.push_str(&format!(
                    "{} the Dex admin password copy to {} (mode 0600; the only plaintext on disk)\n",
                    if args.dry_run { "would write" } else { "wrote" },
                    p.display()
                ));
            }
            if let Some(g) = &o.gitignore_added {
                s.push_str(&format!(
                    "{} a rule for the Dex admin password copy to {} so git ignores the plaintext\n",
                    if args.dry_run { "would add" } else { "added" },
                    g.display()
                ));
            }
            for n in &o.notes {
                s.push_str(&format!("note: {n}\n"));
            }
            for f in follow_up {
                s.push_str(&format!("next: {f}\n"));
            }
            match &todo {
                Some(t) => s.push_str(&format!("{t}\n")),
                None => s.push_str("nothing left to provide by hand\n"),
            }
            eprint!("{s}");
        }
    }
    Ok(())
}

fn format_line(l: &Line) -> String {
    let mut s = format!("{:<12} {:<32} {}\n", l.status.as_str(), l.key, l.detail);
    if let Some(t) = &l.todo {
        s.push_str(&format!("{:<12} {:<32} -> {t}\n", "", ""));
    }
    s
}

fn cert_line(o: &Outcome) -> String {
    format!(
        "sealing for {} (RSA {}, expires {}) into {}",
        o.cert.fingerprint,
        o.cert.bits,
        timefmt::rfc3339(o.cert.not_after).get(..10).unwrap_or(""),
        o.out.display()
    )
}

/// `seal`'s mode from its flags, with the fleet's `shared` values (none for one environment).
fn seal_mode<'a>(args: &'a SealArgs, shared: &'a BTreeMap<String, Zeroizing<String>>) -> Mode<'a> {
    Mode::Seal {
        force: args.force,
        gitops: args.gitops == Some(crate::cli::GitOps::Argocd),
        flux: (args.gitops == Some(crate::cli::GitOps::Flux)).then_some(args.flux_dir.as_path()),
        chart_repo: args.chart_repo.as_deref(),
        chart_version: args.chart_version.as_deref(),
        shared,
    }
}

pub fn seal(args: &SealArgs) -> CmdResult {
    if args.all_envs {
        return seal_fleet(args);
    }
    let none = BTreeMap::new();
    let o = execute(&args.common, seal_mode(args, &none))?;
    let mut follow = Vec::new();
    if !args.common.dry_run && !o.written.is_empty() {
        match &o.reads {
            // In a repository: the ExternalSecrets must name the data key, then everything is
            // committed together (re-include rules, store file and Argo CD files included).
            Some(r) if !r.readers.is_empty() => {
                follow.push(
                    "`sealstrap patch-externalsecrets` so every ExternalSecret names property: value (`--check` in CI)"
                        .into(),
                );
                follow.push(
                    "review with `git status` and `git diff`, then `git add -A && git commit`; Argo CD syncs it (or `kubectl apply -k` the folder)"
                        .into(),
                );
            }
            _ => follow.push(format!(
                "review with `git status` and `git diff`, commit {}, then `kubectl apply -k {}` (or let your GitOps tool do it)",
                o.out.display(),
                o.out.display()
            )),
        }
    }
    report(&args.common, &o, &cert_line(&o), &follow)?;
    if args.require_complete && o.plan.lines.iter().any(|l| l.status == Status::NeedsValue) {
        return Ok(ExitCode::from(EXIT_INCOMPLETE));
    }
    Ok(ExitCode::SUCCESS)
}

/// The ExternalSecret force-syncs and restarts a rotated key needs. The ExternalSecrets are the
/// tree's own (their names differ from the Secrets they write: `argocd-oidc` writes
/// `argocd-dex-oidc`); for a key no file of the tree reads (or outside a repository), the
/// contract's consumer Secrets are named instead.
fn follow_up_for(
    contract: &sealstrap::contract::Contract,
    keys: &BTreeSet<String>,
    reads: Option<&crate::workspace::reads::Reads>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for k in keys {
        let e = contract.entry(k).expect("checked");
        match reads.filter(|r| r.by_key.contains_key(k.as_str())) {
            Some(r) => {
                for id in r.readers.get(k.as_str()).into_iter().flatten() {
                    if seen.insert(id.clone()) {
                        let (ns, name) = id.split_once('/').unwrap_or(("default", id));
                        out.push(format!(
                            "kubectl annotate externalsecret -n {ns} {name} force-sync=$(date +%s) --overwrite"
                        ));
                    }
                }
                for at in r.by_key.get(k.as_str()).into_iter().flatten() {
                    if at.contains("(Helm values") && seen.insert(at.clone()) {
                        out.push(format!(
                            "force-sync the ExternalSecret the chart renders from {at} (kubectl get externalsecret -A names it)"
                        ));
                    }
                }
            }
            None => {
                for c in e.consumers {
                    for ns in c.namespaces {
                        if seen.insert(format!("{ns}/{}", c.secret)) {
                            out.push(format!(
                                "kubectl annotate externalsecret -n {ns} <the ExternalSecret that writes Secret {}> force-sync=$(date +%s) --overwrite   # kubectl get externalsecret -n {ns} names it",
                                c.secret
                            ));
                        }
                    }
                }
            }
        }
    }
    for k in keys {
        let e = contract.entry(k).expect("checked");
        out.push(format!(
            "after the sync, restart what reads {k}: {}",
            e.restart
        ));
    }
    out.insert(
        0,
        "commit the changed sealed files and let the sealed-secrets controller unseal them".into(),
    );
    out
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

pub fn rotate(args: &RotateArgs) -> CmdResult {
    let mut keys = BTreeSet::new();
    for k in &args.keys {
        let e = contract_key(&args.common, k)?;
        refuse_write_once(&e, args.force)?;
        keys.insert(k.clone());
        if k == DEX_PASSWORD || k == DEX_HASH {
            keys.insert(DEX_PASSWORD.into());
            keys.insert(DEX_HASH.into());
        }
    }
    run_rotation(&args.common, &keys)
}

pub fn reset_dex_admin(args: &ResetDexAdminArgs) -> CmdResult {
    let keys: BTreeSet<String> = [DEX_PASSWORD.to_string(), DEX_HASH.to_string()].into();
    run_rotation(&args.common, &keys)
}

fn run_rotation(args: &BootstrapArgs, keys: &BTreeSet<String>) -> CmdResult {
    let none = BTreeMap::new();
    let o = execute(
        args,
        Mode::Rotate {
            keys,
            values: &none,
        },
    )?;
    let follow = follow_up_for(&o.contract, keys, o.reads.as_ref());
    report(args, &o, &cert_line(&o), &follow)?;
    Ok(ExitCode::SUCCESS)
}

/// The values the fleet file declares shared, for a fleet run: a random value no environment
/// has yet is made once; one some environments already have is read from there (with
/// --private-key or the escrow's identity) for the others. Provided values are read once per run
/// anyway, so they are the same everywhere.
fn shared_values(
    contract: &sealstrap::contract::Contract,
    args: &BootstrapArgs,
    root: &Root,
    envs: &[String],
    fleet: &sealstrap::fleet::Fleet,
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
        let folder = |env: &str| {
            let l = crate::workspace::repo::layout(Some(root), Some(env));
            l.out
        };
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
                if args.private_keys.is_empty() && args.identity.identity.is_empty() {
                    return Err(Failure::new(format!(
                        "{key} is shared (sealstrap.yaml), {env} has it and {} not: sealstrap must read {env}'s value to seal it for the others",
                        envs.iter()
                            .filter(|e| !having.contains(e))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .hint(format!(
                        "pass {env}'s controller key: --private-key KEY, or -i IDENTITY (its escrow: sealstrap key list --env {env})"
                    )));
                }
                let keys =
                    crate::workspace::keys::load_keys(&args.private_keys, &args.identity.identity)?;
                read_sealed_value(
                    &folder(env),
                    &keys,
                    key,
                    &format!("the key must be {env}'s controller key"),
                )?
            }
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// `seal --all-envs`: every environment in `clusters/`, one after the other, each in its own
/// transaction (a killed run leaves each environment old or new), then one table.
fn seal_fleet(args: &SealArgs) -> CmdResult {
    let root = Root::find(args.common.platform_root.as_deref())?
        .filter(|r| r.platform)
        .ok_or_else(|| {
            Failure::usage(format!(
                "--all-envs seals the platform's environments, and this is not the platform repository (no {})",
                sealstrap::platform::STORE_PATH
            ))
            .hint("run it in a checkout of the platform, or pass --platform-root DIR")
        })?;
    let ws = crate::workspace::Workspace::open(Some(root.clone()))?;
    let fleet = ws.config.fleet.clone();
    let envs = crate::workspace::repo::environments(&root.dir);
    if envs.is_empty() {
        return Err(Failure::usage("--all-envs: clusters/ holds no environment"));
    }
    // One lock for the whole fleet (every environment writes in the repository), and an
    // interrupted earlier write finished first: the shared values are read from what is there.
    let scope = crate::workspace::repo::write_scope(Some(&root), &[&root.dir])?;
    let _locks = crate::workspace::files::lock_scope(&scope, args.common.dry_run)?;
    let shared = shared_values(&ws.contract(None), &args.common, &root, &envs, &fleet)?;
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let mut failed: Vec<(String, Failure)> = Vec::new();
    let mut runs: Vec<(String, RunPlan, Option<PathBuf>)> = Vec::new();
    for env in &envs {
        let mut a = args.common.clone();
        a.selection.env = Some(env.clone());
        let mode = seal_mode(args, &shared);
        match prepare(&a, mode, Some(&scope)) {
            Ok((o, run, git_root, _, _)) => {
                runs.push((env.clone(), run, git_root));
                outcomes.push((env.clone(), o));
            }
            Err(f) => {
                eprintln!("== {env}: FAILED: {}", f.message);
                failed.push((env.clone(), f));
            }
        }
    }
    // Every environment lands in one transaction, or none does: a failed plan writes nothing.
    if failed.is_empty() && !args.common.dry_run {
        let merged = merge_runs(&runs)?;
        if !(merged.files.is_empty() && merged.removals.is_empty()) {
            write(&scope, &merged)?;
        }
        for ((_, run, git_root), (_, o)) in runs.iter().zip(outcomes.iter_mut()) {
            o.written = run
                .files
                .iter()
                .map(|(p, _, _)| p.display().to_string())
                .collect();
            if let (Some(copy), Some(root)) = (&run.dex_copy, git_root) {
                confirm_copy_ignored(root, copy)?;
            }
        }
    }
    if args.common.output == SummaryFormat::Text {
        for (env, o) in &outcomes {
            eprintln!(
                "== {env}: {}; {}",
                cert_line(o),
                if args.common.dry_run || !failed.is_empty() {
                    "nothing written".to_string()
                } else if o.written.is_empty() {
                    "up to date".to_string()
                } else {
                    format!("wrote {} file(s)", o.written.len())
                }
            );
            for n in &o.notes {
                eprintln!("   note: {n}");
            }
        }
    }
    // environment x key x state.
    let mut keys: Vec<String> = Vec::new();
    for (_, o) in &outcomes {
        for l in &o.plan.lines {
            if !keys.contains(&l.key) {
                keys.push(l.key.clone());
            }
        }
    }
    let state = |o: &Outcome, k: &str| {
        o.plan
            .lines
            .iter()
            .find(|l| l.key == k)
            .map(|l| l.status.as_str())
            .unwrap_or("-")
    };
    match args.common.output {
        SummaryFormat::Text => {
            let width = keys.iter().map(String::len).max().unwrap_or(3).max(3);
            let mut t = format!("{:width$}", "KEY");
            for (env, _) in &outcomes {
                t.push_str(&format!("  {env:12}"));
            }
            t.push('\n');
            for k in &keys {
                t.push_str(&format!("{k:width$}"));
                for (_, o) in &outcomes {
                    t.push_str(&format!("  {:12}", state(o, k)));
                }
                t.push('\n');
            }
            eprint!("{t}");
        }
        SummaryFormat::Json => {
            let doc = json!({
                "environments": outcomes.iter().map(|(env, o)| json!({
                    "environment": env,
                    "out": o.out.display().to_string(),
                    "certificate_fingerprint": o.fingerprint,
                    "written": o.written,
                    "entries": o.plan.lines.iter().map(|l| json!({"key": l.key, "status": l.status.as_str()})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "failed": failed.iter().map(|(e, f)| json!({"environment": e, "error": f.message})).collect::<Vec<_>>(),
            });
            write_stdout(
                format!("{}\n", serde_json::to_string_pretty(&doc).expect("json")).as_bytes(),
            )?;
        }
    }
    if !failed.is_empty() {
        let mut f = Failure::new(format!(
            "{} of {} environment(s) could not be planned: {} (nothing was written: a fleet run lands every environment or none)",
            failed.len(),
            envs.len(),
            failed
                .iter()
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (_, inner) in failed {
            for h in inner.hints {
                f = f.hint(h);
            }
        }
        return Err(f);
    }
    let incomplete: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o.plan.lines.iter().any(|l| l.status == Status::NeedsValue))
        .map(|(e, _)| e.as_str())
        .collect();
    if args.require_complete && !incomplete.is_empty() {
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

/// The writes of every environment of a fleet run as one: files each written once (two
/// environments may write the same file, the platform's store, with the same bytes; different
/// bytes are a conflict), and one `.gitignore` edit with every environment's rules.
fn merge_runs(runs: &[(String, RunPlan, Option<PathBuf>)]) -> Result<RunPlan, Failure> {
    let mut merged = RunPlan {
        files: Vec::new(),
        removals: Vec::new(),
        notes: Vec::new(),
        dex_copy: None,
        gitignore_added: None,
        gitignore_edit: None,
    };
    let mut gitignore: Option<(PathBuf, Vec<u8>, Vec<String>)> = None;
    for (env, run, _) in runs {
        if let Some((path, base, rules)) = &run.gitignore_edit {
            let g = gitignore.get_or_insert_with(|| (path.clone(), base.clone(), Vec::new()));
            for r in rules {
                if !g.2.contains(r) {
                    g.2.push(r.clone());
                }
            }
        }
        for (path, bytes, mode) in &run.files {
            if run
                .gitignore_edit
                .as_ref()
                .is_some_and(|(g, _, _)| g == path)
            {
                continue;
            }
            match merged.files.iter().find(|(p, _, _)| p == path) {
                Some((_, other, _)) if other.as_slice() == bytes.as_slice() => {}
                Some(_) => {
                    return Err(Failure::new(format!(
                        "{env} and another environment would write {} differently",
                        path.display()
                    ))
                    .hint(
                        "seal the environments one by one (sealstrap seal --env ENV) to see each",
                    ));
                }
                None => merged.files.push((path.clone(), bytes.clone(), *mode)),
            }
        }
        for r in &run.removals {
            if !merged.removals.contains(r) {
                merged.removals.push(r.clone());
            }
        }
    }
    if let Some((path, base, rules)) = gitignore {
        let mut text = base;
        for r in &rules {
            text = sealstrap::gitignore::append_rule(&text, r);
        }
        merged.files.push((path, Zeroizing::new(text), None));
    }
    Ok(merged)
}

/// The contract row of `key`, the fork's own keys of the output folder's repository included.
fn contract_key(args: &BootstrapArgs, key: &str) -> Result<Entry, Failure> {
    let place = place(args)?;
    place.contract.entry(key).copied().ok_or_else(|| {
        Failure::usage(format!(
            "unknown key {key:?}: not a backend key of the contract or of sealstrap.yaml's extra:"
        ))
        .hint("`sealstrap contract` lists the keys")
    })
}

/// `sealstrap set KEY`: seals one value, given by the user, in place of the one there.
pub fn set(args: &crate::cli::SetArgs) -> CmdResult {
    let key = args.key.as_str();
    let e = contract_key(&args.common, key)?;
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
    let o = execute(
        &args.common,
        Mode::Rotate {
            keys: &keys,
            values: &values,
        },
    )?;
    let follow = follow_up_for(&o.contract, &keys, o.reads.as_ref());
    report(&args.common, &o, &cert_line(&o), &follow)?;
    Ok(ExitCode::SUCCESS)
}

/// `sealstrap unset KEY`: removes one sealed value and its kustomization entry.
pub fn unset(args: &crate::cli::UnsetArgs) -> CmdResult {
    contract_key(&args.common, &args.key)?;
    let o = execute(
        &args.common,
        Mode::Unset {
            key: &args.key,
            force: args.force,
        },
    )?;
    report(&args.common, &o, &cert_line(&o), &[])?;
    Ok(ExitCode::SUCCESS)
}
