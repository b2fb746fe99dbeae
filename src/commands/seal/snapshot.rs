//! What a writing run reads, under the repository's lock, before anything is decided: the
//! certificate, the sealed folder, what the tree reads from the store, the provided values, the
//! platform's store file, the Argo CD catalog or the Flux folder, the Dex copy, `.gitignore` and
//! git's answers. [`sealstrap::plan`] then decides every write from it without touching the disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sealstrap::bootstrap::{self, ExistingFile, Selected};
use sealstrap::cert::Certificate;
use sealstrap::contract::{Contract, Entry};
use sealstrap::manifests::{self, Wiring};
use sealstrap::plan::{self, DexCopy, Gitignore, Kind, StoreFile};
use sealstrap::{objects, yaml};
use zeroize::Zeroizing;

use super::request::{CertSource, Mode, SealRequest};
use super::{gitops, values};
use crate::workspace::error::Failure;
use crate::workspace::files::io_failure;
use crate::workspace::place::Place;
use crate::workspace::repo::{self, shown};
use crate::workspace::{git, reads, walk};

/// What a run read.
pub struct Read {
    pub snap: plan::Snapshot,
    pub cert: Certificate,
    pub selection: Vec<Selected>,
    pub provided: BTreeMap<String, Zeroizing<String>>,
    /// The keys made anew (rotate, set).
    pub rotate: BTreeSet<String>,
    /// The fleet file's break-glass certificate, and the plaintexts of existing values that
    /// have no break-glass copy yet (read with the keys given).
    pub break_glass: Option<Certificate>,
    pub break_glass_missing: Vec<(String, Zeroizing<String>)>,
    /// Certificates this run pins: (name, fingerprint).
    pub pin: Vec<(String, String)>,
    /// The plan's kind of run.
    pub kind: Kind,
    /// Per-cluster keys whose value came from a source given for every environment.
    pub given_everywhere: BTreeMap<String, String>,
    /// The keys of `provided` that are the fleet's shared values.
    pub shared: BTreeSet<String>,
}

/// The plan's kind of run; `existing` is what the folder holds (`unset` removes what is there
/// of the keys it names: half a Dex pair, say).
pub fn kind(mode: &Mode, existing: &BTreeMap<String, ExistingFile>) -> Kind {
    match mode {
        Mode::Seal(o) => Kind::Seal { force: o.force },
        Mode::Rotate { keys, .. } => Kind::Rotate { keys: keys.clone() },
        Mode::Unset { keys, force } => {
            let present: BTreeSet<String> = keys
                .iter()
                .filter(|k| existing.contains_key(*k))
                .cloned()
                .collect();
            Kind::Unset {
                keys: if present.is_empty() {
                    keys.clone()
                } else {
                    present
                },
                force: *force,
            }
        }
    }
}

/// The certificate a run seals for: `--cert` as given (from the current folder), else the
/// fleet file's for the environment, else the one `key new` wrote into the output folder.
pub fn cert_path(req: &SealRequest, place: &Place) -> Result<PathBuf, Failure> {
    if let CertSource::Given(c) = &req.cert {
        return Ok(c.clone());
    }
    let committed = place.committed_cert();
    let from_fleet = place
        .layout
        .env
        .as_ref()
        .and_then(|e| place.fleet.environments.get(e))
        .is_some_and(|e| e.cert.is_some());
    if from_fleet || committed.is_file() {
        return Ok(committed);
    }
    Err(Failure::usage(format!(
        "no certificate: --cert is not given and {} is not there",
        shown(&committed).display()
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
pub fn paths_line(req: &SealRequest, place: &Place) -> String {
    let origin = |given: bool| if given { "given" } else { "default" };
    let mut parts = vec![format!(
        "out {} ({})",
        shown(&place.out).display(),
        origin(place.out_given)
    )];
    if !matches!(req.cert, CertSource::Fetch(_))
        && let Ok(c) = cert_path(req, place)
    {
        parts.push(format!(
            "certificate {} ({})",
            shown(&c).display(),
            origin(matches!(req.cert, CertSource::Given(_)))
        ));
    }
    if let Some(c) = &place.config {
        parts.push(format!(
            "config {} ({})",
            shown(c).display(),
            origin(req.config.is_some())
        ));
    }
    if let Some(e) = &place.layout.env {
        let from = if req.env.is_some() {
            "given"
        } else if req.config.is_some() {
            "from --config"
        } else {
            "default"
        };
        parts.push(format!("environment {e} ({from})"));
    }
    parts.join(", ")
}

fn load_cert(req: &SealRequest, place: &Place) -> Result<Certificate, Failure> {
    Ok(match &req.cert {
        CertSource::Fetch(opts) => {
            let cluster = crate::workspace::cluster::connect(opts)?;
            crate::workspace::cluster::fetch_checked(
                &cluster,
                &req.controller_name,
                &req.controller_namespace,
                "sealstrap: ",
            )?
            .1
        }
        _ => {
            let path = cert_path(req, place)?;
            crate::workspace::keys::load_checked(
                &path.to_string_lossy(),
                "sealstrap: ",
                req.allow_expired,
            )?
        }
    })
}

/// The sealed folder's files: the contract's, with their fingerprint, and the others (kept,
/// never deleted), with a note for each file ESO would not find.
fn scan_sealed(
    contract: &Contract,
    out: &Path,
    w: &Wiring,
    notes: &mut Vec<String>,
) -> Result<(BTreeMap<String, ExistingFile>, Vec<String>), Failure> {
    let mut existing = BTreeMap::new();
    let mut extra = Vec::new();
    for file in walk::read_sealed(out)? {
        let (name, stem) = (file.name.as_str(), file.stem.as_str());
        let rel = format!("{}/{name}", manifests::SEALED_DIR);
        let text = file
            .text
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.path.display())))?;
        let parsed = yaml::parse_documents(&text)
            .ok()
            .and_then(|docs| docs.into_iter().next())
            .and_then(|d| objects::parse_sealed_secret(&d, 1).ok());
        let fingerprint = parsed
            .as_ref()
            .and_then(|p| manifests::sealed_fingerprint(&p.value).map(str::to_string));
        match parsed {
            None => notes.push(format!(
                "{rel} is not a readable SealedSecret; it is kept as it is"
            )),
            Some(p) if p.name != stem || p.namespace != w.source_namespace => notes.push(format!(
                "{rel} holds SealedSecret {}, not {}/{stem}; ESO will not find it under the file's name",
                p.id(),
                w.source_namespace
            )),
            Some(p) if !p.encrypted_data().contains_key(manifests::VALUE_KEY) => {
                notes.push(format!(
                    "{rel} has no data key {:?}; ExternalSecrets with property: {} will fail",
                    manifests::VALUE_KEY,
                    manifests::VALUE_KEY
                ))
            }
            Some(_) => {}
        }
        if name.ends_with(".yaml") && contract.entry(stem).is_some() {
            existing.insert(stem.to_string(), ExistingFile { fingerprint });
        } else {
            notes.push(format!(
                "{rel} is not in the secret contract; kept, never deleted{}",
                if contract.entry(stem).is_none() && name.ends_with(".yaml") {
                    format!(
                        " (orphaned if its key left sealstrap.yaml: `git rm {}`, then seal again drops it from the kustomization)",
                        shown(&file.path).display()
                    )
                } else {
                    String::new()
                }
            ));
            extra.push(rel);
        }
    }
    Ok((existing, extra))
}

/// Where the Dex admin password copy goes, and the git root holding the output folder.
fn dex_copy_path(req: &SealRequest, place: &Place) -> (PathBuf, Option<PathBuf>) {
    let root = repo::git_root(&place.out);
    let secrets_dir = match (&req.secrets_dir, &place.root) {
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
    (secrets_dir.join(sealstrap::defaults::DEX_COPY_NAME), root)
}

/// The folders a run writes in: the repository (or the output folder outside one), the output
/// folder and the folder of the Dex copy when they lie outside it.
pub fn run_scope(req: &SealRequest, place: &Place) -> Result<sealstrap::journal::Scope, Failure> {
    let (copy, _) = dex_copy_path(req, place);
    let secrets = copy.parent().map(Path::to_path_buf).unwrap_or_default();
    repo::write_scope(place.root.as_ref(), &[&place.out, &secrets])
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

/// Checks the certificates a run seals for against their pins (sealstrap.yaml): the folder's
/// (named by the operator, or from the tree) and the break-glass certificate (always from the
/// tree, never pinned on first use: the fleet file that names it is as open to a pull request as
/// the certificate). Returns what to pin, with a note for each. `first_use`: a run on one
/// environment may pin a certificate for a name that has none.
fn check_pins(
    req: &SealRequest,
    place: &Place,
    cert: &Certificate,
    break_glass: Option<(&Certificate, &Path)>,
    first_use: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, String)>, Failure> {
    let Some(name) = place.pin_name() else {
        return Ok(Vec::new());
    };
    let mut pin = Vec::new();
    let accepted = |n: &str| req.accept_cert.iter().any(|a| a == n);
    let source = match &req.cert {
        CertSource::Given(_) | CertSource::Fetch(_) => sealstrap::pins::Source::Named,
        CertSource::Default => sealstrap::pins::Source::Tree { first_use },
    };
    let file = match &req.cert {
        CertSource::Fetch(_) => "the controller's certificate".to_string(),
        _ => shown(&cert_path(req, place)?).display().to_string(),
    };
    let refused = |e: sealstrap::pins::CertRefusal| {
        let hint = e.hint();
        Failure::new(e.to_string()).hint(hint)
    };
    if let Some(note) = sealstrap::pins::judge(
        &place.pins,
        &name,
        &file,
        &cert.fingerprint,
        source,
        accepted(&name),
    )
    .map_err(refused)?
    {
        notes.push(note);
        pin.push((name.clone(), cert.fingerprint.clone()));
    }
    if let Some((bg, path)) = break_glass {
        if bg.fingerprint == cert.fingerprint {
            return Err(Failure::new(format!(
                "the break-glass certificate {} is {name}'s own certificate ({}): a break-glass copy must open with a key the cluster does not hold",
                shown(path).display(),
                bg.fingerprint
            ))
            .hint("make a break-glass key of its own (sealstrap key new --out recovery/) and point break-glass: {cert: ...} in sealstrap.yaml at its certificate"));
        }
        let bg_name = sealstrap::pins::BREAK_GLASS;
        if let Some(note) = sealstrap::pins::judge(
            &place.pins,
            bg_name,
            &shown(path).display().to_string(),
            &bg.fingerprint,
            sealstrap::pins::Source::Tree { first_use: false },
            accepted(bg_name),
        )
        .map_err(refused)?
        {
            notes.push(note);
            pin.push((bg_name.to_string(), bg.fingerprint.clone()));
        }
    }
    Ok(pin)
}

/// Reads everything a run depends on (under the lock the caller holds). `shared` holds the
/// fleet's shared values (none for one environment); `first_use`: a run on one environment
/// (not a fleet run), which may pin a certificate for a name that has none yet.
pub fn read(
    req: &SealRequest,
    place: &Place,
    shared: &BTreeMap<String, Zeroizing<String>>,
    first_use: bool,
) -> Result<Read, Failure> {
    let contract = place.contract.clone();
    let cwd =
        std::env::current_dir().map_err(|e| Failure::new(format!("no current folder: {e}")))?;
    let cert = load_cert(req, place)?;
    let mut notes = Vec::new();
    let config = place.load_config()?;
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
    let out = place.out.clone();
    // A journal inside the output folder of a work tree is never sealstrap's (its own lives in
    // .git): it is not read, and it must not be committed.
    let stray = out.join(sealstrap::journal::JOURNAL_FILE_OUTSIDE_GIT);
    if place.root.is_some() && std::fs::symlink_metadata(&stray).is_ok() {
        notes.push(format!(
            "{} is not read: in a git work tree sealstrap keeps its journal in .git; delete it (git rm --cached if it is tracked)",
            shown(&stray).display()
        ));
    }
    if out.exists() && !out.is_dir() {
        return Err(Failure::new(format!(
            "--out {} exists and is not a folder",
            out.display()
        )));
    }
    let (mut existing, extra) = scan_sealed(&contract, &out, &req.wiring, &mut notes)?;

    // What the environment deploys, and what that reads from the store (outside a repository
    // there is no tree to read).
    let store_opts = sealstrap::patch::Options {
        store: req.wiring.store_name.clone(),
        property: manifests::VALUE_KEY.into(),
        contract: contract.clone(),
    };
    let graph = match &place.root {
        Some(r) => reads::graph(r, place.layout.env.as_deref())?,
        None => None,
    };
    let tree_reads = match &place.root {
        Some(r) => Some(reads::reads(
            r,
            graph.as_ref(),
            std::slice::from_ref(&out),
            &store_opts,
        )?),
        None => None,
    };
    let empty = BTreeMap::new();
    let refs = tree_reads.as_ref().map(|r| &r.by_key).unwrap_or(&empty);
    let off = tree_reads.as_ref().map(|r| &r.off).unwrap_or(&empty);
    let mut selection = bootstrap::select(
        &contract,
        config.as_ref(),
        &req.with,
        &req.without,
        refs,
        off,
    );
    let kind = kind(&req.mode, &existing);
    // The fork's own key is the fork's to remove: needed only while the tree reads it.
    if let Kind::Unset { keys, .. } = &kind {
        for s in selection.iter_mut() {
            if keys.contains(s.entry.key)
                && contract.is_extra(s.entry.key)
                && !refs.contains_key(s.entry.key)
            {
                s.included = false;
            }
        }
    }
    let rotate = plan::narrow(&kind, &cwd, &out, &mut selection, &mut existing)?;

    let needs_value = |e: &Entry| !existing.contains_key(e.key) || rotate.contains(e.key);
    let scope = values::ValueScope {
        env: place.layout.env.as_deref(),
        fleet: !first_use,
        sharing: &place.fleet,
    };
    let (mut provided, given_everywhere) =
        values::provided_values(req, &scope, &selection, &needs_value, &mut notes)?;
    let mut shared_keys = BTreeSet::new();
    match &req.mode {
        // A shared value (the fleet file) is this environment's too, where it has none yet.
        Mode::Seal(_) => {
            for s in &selection {
                if let Some(v) = shared.get(s.entry.key)
                    && s.included
                    && needs_value(&s.entry)
                    && !provided.contains_key(s.entry.key)
                {
                    provided.insert(s.entry.key.to_string(), v.clone());
                    shared_keys.insert(s.entry.key.to_string());
                }
            }
        }
        Mode::Rotate { keys, values } => {
            for (k, v) in values {
                values::check_value(k, v, &mut notes)?;
                provided.insert(k.clone(), v.clone());
            }
            // A shared key's new value, made once for the whole fleet.
            for k in keys {
                if let Some(v) = shared.get(k)
                    && !provided.contains_key(k)
                {
                    provided.insert(k.clone(), v.clone());
                    shared_keys.insert(k.clone());
                }
            }
            plan::check_new_values(&contract, keys, &provided)?;
        }
        Mode::Unset { .. } => {}
    }

    let platform_root = place.platform();
    let mut current = BTreeMap::new();
    for rel in manifests::WIRING_FILES {
        let now = crate::workspace::files::read_repo_file(&out.join(rel))?;
        current.insert(rel.to_string(), now.map(|b| b.to_vec()));
    }
    let user_resources = current
        .get(manifests::KUSTOMIZATION_FILE)
        .and_then(|b| b.as_ref())
        .map(|b| manifests::user_resources(&String::from_utf8_lossy(b)))
        .unwrap_or_default();
    let flux = match req.seal_options().and_then(|o| o.flux.as_deref()) {
        Some(dir) => Some(gitops::read_flux(req, place, dir)?),
        None => None,
    };
    let stale_store = (platform_root.is_some() || flux.is_some())
        .then(|| out.join(manifests::STORE_FILE))
        .filter(|p| p.exists());
    let store = match platform_root {
        Some(root) => {
            let path = root.join(sealstrap::platform::STORE_PATH);
            let text = crate::workspace::files::read_repo_text(&path)?.ok_or_else(|| {
                io_failure(
                    "cannot read",
                    &path,
                    &std::io::Error::from(std::io::ErrorKind::NotFound),
                )
            })?;
            Some(StoreFile { path, text })
        }
        None => None,
    };
    let argocd = match req.seal_options() {
        Some(o) if o.argocd => {
            let Some(root) = platform_root else {
                return Err(Failure::usage(
                    "--gitops argocd writes into the platform's Argo CD catalog, and this is not the platform repository",
                )
                .hint("run it in a checkout of the platform, or pass --platform-root DIR"));
            };
            Some(gitops::read_argocd(
                req,
                o.force,
                root,
                place,
                graph.as_ref(),
            )?)
        }
        _ => None,
    };

    // The Dex copy: where it goes, whether it is there, whether git ignores it, and (when it is
    // missing beside a kept pair) the password from its sealed copy.
    let (copy, git_root) = dex_copy_path(req, place);
    let copy_exists = copy.exists();
    let pair = bootstrap::dex_pair(&selection, &existing, &rotate);
    let mut restored = None;
    if pair == bootstrap::DexPair::Kept && !copy_exists {
        if !req.has_keys() {
            notes.push(format!(
                "{} is missing; pass --private-key KEY to restore it from its sealed copy",
                copy.display()
            ));
        } else {
            let keys = crate::workspace::keys::keys_for(
                &req.private_keys,
                &req.identity,
                place.root.as_ref(),
            )?;
            restored = Some(
                values::read_sealed_value(
                    &out,
                    &keys,
                    sealstrap::contract::DEX_PASSWORD,
                    "--private-key must be the controller key the folder was sealed for",
                )
                .map_err(|f| Failure {
                    message: format!("cannot restore the Dex admin password: {}", f.message),
                    ..f
                })?,
            );
        }
    }
    let copy_rel = git_root.as_ref().and_then(|root| {
        plan::ignore::relative_to(root, &plan::absolute(&cwd, &copy)).map(|rel| (root, rel))
    });
    let dex = DexCopy {
        ignored: copy_rel
            .as_ref()
            .is_none_or(|(root, rel)| git::ignores(root, rel)),
        tracked: copy_rel
            .as_ref()
            .is_some_and(|(root, rel)| git::git_tracks(root, rel)),
        rule: copy_rel
            .as_ref()
            .and_then(|(root, rel)| git::deciding_rule(root, rel)),
        path: copy,
        git_root,
        exists: copy_exists,
        restored,
    };
    if pair == bootstrap::DexPair::New || dex.restored.is_some() {
        check_secrets_dir(&dex.path, req.fix_permissions)?;
    }
    let (gitignore, ignored) = match &dex.git_root {
        Some(root) => {
            let path = root.join(".gitignore");
            let is_link =
                std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
            // Never read through a link (git does not either; the plan refuses it).
            let bytes = if is_link {
                Ok(Vec::new())
            } else {
                match crate::workspace::files::read_repo_file(&path) {
                    Ok(b) => Ok(b.map(|b| b.to_vec()).unwrap_or_default()),
                    Err(f) => Err(f.message),
                }
            };
            // Every file a run may write for a commit: each contract row's sealed file, the
            // extra files, the wiring, the platform's store and the Argo CD files.
            let mut candidates: Vec<PathBuf> = contract
                .all()
                .flat_map(|e| {
                    [
                        out.join(manifests::sealed_path(e.key)),
                        out.join(manifests::break_glass_path(e.key)),
                    ]
                })
                .chain(extra.iter().map(|rel| out.join(rel)))
                .chain(current.keys().map(|rel| out.join(rel)))
                .chain(store.iter().map(|s| s.path.clone()))
                .chain(argocd.iter().flat_map(|g| {
                    g.apps
                        .iter()
                        .map(|a| a.path.clone())
                        .chain([g.project.clone()])
                }))
                .filter_map(|p| plan::ignore::relative_to(root, &plan::absolute(&cwd, &p)))
                .collect();
            candidates.sort();
            candidates.dedup();
            let ignored = git::git_ignored(root, &plan::ignore::ignore_queries(&candidates))
                .unwrap_or_default();
            (
                Some(Gitignore {
                    path,
                    bytes,
                    is_link,
                }),
                ignored,
            )
        }
        None => (None, Vec::new()),
    };
    // The break-glass certificate, and existing values without a copy for it.
    let break_glass_path = match (&place.fleet.break_glass, &place.root) {
        (Some(rel), Some(root)) => Some(root.join(rel)),
        _ => None,
    };
    let break_glass = match &break_glass_path {
        Some(p) => Some(crate::workspace::keys::load_for_sealing(
            &p.to_string_lossy(),
            "sealstrap: break-glass: ",
        )?),
        None => None,
    };
    let pin = check_pins(
        req,
        place,
        &cert,
        break_glass.as_ref().zip(break_glass_path.as_deref()),
        first_use,
        &mut notes,
    )?;
    let break_glass_copies: BTreeSet<String> = contract
        .all()
        .map(|e| e.key)
        .filter(|k| out.join(manifests::break_glass_path(k)).exists())
        .map(str::to_string)
        .collect();
    let mut break_glass_missing = Vec::new();
    if break_glass.is_some() {
        let lacking: Vec<String> = existing
            .keys()
            .filter(|k| !rotate.contains(*k) && !break_glass_copies.contains(*k))
            .cloned()
            .collect();
        if !lacking.is_empty() {
            if !req.has_keys() {
                notes.push(format!(
                    "{} value(s) sealed before the break-glass certificate have no break-glass copy ({}); pass --private-key KEY (or -i IDENTITY with the escrow) once to add them",
                    lacking.len(),
                    lacking.join(", ")
                ));
            } else {
                let keys = crate::workspace::keys::keys_for(
                    &req.private_keys,
                    &req.identity,
                    place.root.as_ref(),
                )?;
                for k in lacking {
                    let value = values::read_sealed_value(
                        &out,
                        &keys,
                        &k,
                        "--private-key (or -i with the escrow) must open the folder's sealed values",
                    )?;
                    break_glass_missing.push((k, value));
                }
            }
        }
    }
    Ok(Read {
        snap: plan::Snapshot {
            cwd,
            out,
            wiring: req.wiring.clone(),
            contract,
            notes,
            existing,
            extra,
            break_glass_copies,
            platform_root: platform_root.map(|r| r.dir.clone()),
            reads: tree_reads,
            current,
            user_resources,
            stale_store,
            flux,
            store,
            argocd,
            dex,
            gitignore,
            ignored,
        },
        cert,
        selection,
        provided,
        rotate,
        break_glass,
        break_glass_missing,
        pin,
        kind,
        given_everywhere,
        shared: shared_keys,
    })
}
