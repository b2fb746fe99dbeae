//! Every write of a run of `seal`, `rotate`, `reset-dex-admin`, `set` or `unset`, decided from
//! what the run read (a [`Snapshot`]) and the values' plan ([`crate::bootstrap::plan`]): the
//! sealed files, the wiring that lists them, the store at the platform's swap point, the GitOps
//! files, the plaintext Dex copy and the `.gitignore` rules, or the [`Refusal`] that stops the
//! run before anything is written. Pure: no file is read or written here, no clock, no
//! randomness; the command (`src/commands/seal/`) reads the snapshot under the repository's
//! lock and writes the plan in one transaction.
//!
//! | module | owns |
//! |---|---|
//! | [`gitops`] | the store at the swap point, the Argo CD Applications and AppProject, the Flux folder |
//! | [`ignore`] | git's ignore rules: what to ask, the re-include rules |
//! | [`refusal`] | why a run refuses, with the fix |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use zeroize::Zeroizing;

use crate::bootstrap::{self, ExistingFile, Plan, PlannedFile, Selected};
use crate::contract::{Contract, Entry, Source};
use crate::manifests::{self, Wiring};
use crate::reads::{Reads, helm_fix};

pub mod gitops;
pub mod ignore;
pub mod refusal;

pub use gitops::{App, ArgoCd, Flux, FluxFile, RepositorySecret, StoreFile};
pub use refusal::Refusal;

/// A file the run writes: where, its bytes, and its mode when it holds plaintext (0600).
pub struct Write {
    pub path: PathBuf,
    pub contents: Zeroizing<Vec<u8>>,
    pub mode: Option<u32>,
}

/// What kind of run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `seal`: every missing value; `force` replaces a hand-written store at the swap point.
    Seal { force: bool },
    /// `rotate`, `reset-dex-admin`, `set`: new values for these keys.
    Rotate { keys: BTreeSet<String> },
    /// `unset`: the sealed values of `keys` (and their break-glass copies) leave the folder
    /// (the Dex pair goes together).
    Unset { keys: BTreeSet<String>, force: bool },
}

/// Choices of the run that the plan needs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--no-gitignore-edit`: refuse instead of adding rules.
    pub no_gitignore_edit: bool,
    /// `--secrets-dir` was given (the Dex copy's place is the user's choice).
    pub secrets_dir_given: bool,
}

/// The plaintext Dex copy: where it goes and what git says about it.
#[derive(Default)]
pub struct DexCopy {
    pub path: PathBuf,
    /// The git work tree holding the output folder.
    pub git_root: Option<PathBuf>,
    pub exists: bool,
    /// git ignores it (or cannot be asked about it).
    pub ignored: bool,
    /// git tracks it or has it staged: no ignore rule applies.
    pub tracked: bool,
    /// The ignore rule that decides it now: (file, line, pattern).
    pub rule: Option<(String, String, String)>,
    /// The password decrypted from its sealed copy, when the copy is restored.
    pub restored: Option<Zeroizing<String>>,
}

/// `.gitignore` at the git root: its bytes (or why they cannot be read), and whether it is a
/// symbolic link.
pub struct Gitignore {
    pub path: PathBuf,
    pub bytes: Result<Vec<u8>, String>,
    pub is_link: bool,
}

/// Everything a run depends on, read before anything is decided.
pub struct Snapshot {
    /// The current folder: paths in messages are shown relative to it.
    pub cwd: PathBuf,
    /// The output folder, as given or defaulted.
    pub out: PathBuf,
    pub wiring: Wiring,
    pub contract: Contract,
    /// Notes gathered while reading.
    pub notes: Vec<String>,
    /// The contract's sealed files in the output folder, with their fingerprints.
    pub existing: BTreeMap<String, ExistingFile>,
    /// Sealed files outside the contract (`sealed/NAME.yaml`), kept.
    pub extra: Vec<String>,
    /// The keys whose break-glass copy the folder holds.
    pub break_glass_copies: BTreeSet<String>,
    /// The platform repository's root, in the platform.
    pub platform_root: Option<PathBuf>,
    /// What the tree reads from the store (inside a repository).
    pub reads: Option<Reads>,
    /// What is in the output folder now, per wiring file name.
    pub current: BTreeMap<String, Option<Vec<u8>>>,
    /// Resources the user added to the folder's kustomization.
    pub user_resources: Vec<String>,
    /// A store in the output folder from a standalone run, where it must not be (the platform,
    /// or Flux).
    pub stale_store: Option<PathBuf>,
    pub flux: Option<Flux>,
    /// The platform's store file.
    pub store: Option<StoreFile>,
    pub argocd: Option<ArgoCd>,
    pub dex: DexCopy,
    pub gitignore: Option<Gitignore>,
    /// git's answers: which of the files a run may write for a commit git ignores.
    pub ignored: Vec<PathBuf>,
}

impl Snapshot {
    /// `p` as absolute, from the current folder (lexically: `.` dropped).
    pub fn absolute(&self, p: &Path) -> PathBuf {
        absolute(&self.cwd, p)
    }
}

/// `p` made absolute from `cwd`, lexically (`.` components dropped), as `std::path::absolute`.
pub fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// A path as the user best reads it: relative to the current folder when below it.
pub fn shown(cwd: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(cwd)
        .ok()
        .map(Path::to_path_buf)
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| p.to_path_buf())
}

/// Which entries a rotation or removal is about, checked against the selection: `rotate` and
/// `set` need keys the environment has (selected, or sealed in the folder already); `unset` a key the folder holds and (without `force`)
/// the environment does not need. Narrows `selection` (and `existing`, for `unset`) to what the
/// run touches and returns the keys to make anew.
pub fn narrow(
    kind: &Kind,
    cwd: &Path,
    out: &Path,
    selection: &mut Vec<Selected>,
    existing: &mut BTreeMap<String, ExistingFile>,
) -> Result<BTreeSet<String>, Refusal> {
    match kind {
        Kind::Seal { .. } => Ok(BTreeSet::new()),
        Kind::Unset { keys, force } => {
            if !keys.iter().any(|k| existing.contains_key(k)) {
                return Err(Refusal::NothingToUnset {
                    out: shown(cwd, out),
                    key: keys.iter().cloned().collect::<Vec<_>>().join(" and "),
                });
            }
            if let Some(sel) = selection
                .iter()
                .find(|s| keys.contains(s.entry.key) && s.included)
                && !force
            {
                return Err(Refusal::UnsetNeeded {
                    key: sel.entry.key.to_string(),
                    reason: sel.reason.clone(),
                });
            }
            // Nothing is made: the keys leave the folder, the rest stays as it is.
            selection.retain(|s| keys.contains(s.entry.key));
            for s in selection.iter_mut() {
                s.included = false;
                s.reason = "removed by `sealstrap unset`".into();
            }
            for k in keys {
                existing.remove(k);
            }
            Ok(BTreeSet::new())
        }
        Kind::Rotate { keys } => {
            for k in keys {
                match selection.iter_mut().find(|s| s.entry.key == k) {
                    Some(sel) if sel.included => {}
                    // Sealed in the folder already (an earlier `--with`, or a `set`): the value
                    // there is the one replaced, whatever the selection says today.
                    Some(sel) if existing.contains_key(k) => {
                        sel.included = true;
                        sel.reason = "sealed in the folder".into();
                    }
                    Some(sel) => {
                        return Err(Refusal::NotInEnvironment {
                            key: k.clone(),
                            reason: sel.reason.clone(),
                        });
                    }
                    None => {
                        return Err(Refusal::NotInEnvironment {
                            key: k.clone(),
                            reason: "sealstrap.yaml limits it to other environments".into(),
                        });
                    }
                }
            }
            selection.retain(|s| keys.contains(s.entry.key));
            Ok(keys.clone())
        }
    }
}

/// A rotation of an operator-provided key needs its new value.
pub fn check_new_values(
    contract: &Contract,
    keys: &BTreeSet<String>,
    provided: &BTreeMap<String, Zeroizing<String>>,
) -> Result<(), Refusal> {
    for k in keys {
        if let Some(Entry {
            source: Source::Provided { env, .. },
            ..
        }) = contract.entry(k)
            && !provided.contains_key(k)
        {
            return Err(Refusal::NoNewValue {
                key: k.clone(),
                env: env.to_string(),
            });
        }
    }
    Ok(())
}

/// Every write of a run and what to say about it.
#[derive(Default)]
pub struct RunPlan {
    pub writes: Vec<Write>,
    pub removals: Vec<PathBuf>,
    pub notes: Vec<String>,
    /// The plaintext Dex copy this run writes.
    pub dex_copy: Option<PathBuf>,
    /// `.gitignore`, when this run adds the Dex copy's rule to it.
    pub gitignore_added: Option<PathBuf>,
    /// The `.gitignore` edit, so a fleet run can merge every environment's rules into one.
    pub gitignore_edit: Option<GitignoreEdit>,
}

/// An edit of `.gitignore`: its bytes before, and the rules appended.
#[derive(Clone, Debug)]
pub struct GitignoreEdit {
    pub path: PathBuf,
    pub base: Vec<u8>,
    pub rules: Vec<String>,
}

/// Decides every write of a run from the snapshot and the values' plan (`values`), with the
/// break-glass copies of values sealed before the break-glass certificate (`break_glass_added`).
pub fn plan_run(
    opts: &Options,
    kind: &Kind,
    snap: &Snapshot,
    values: &Plan,
    break_glass_added: &[PlannedFile],
) -> Result<RunPlan, Refusal> {
    let cwd = &snap.cwd;
    let out = &snap.out;
    let mut notes = snap.notes.clone();
    notes.extend(values.notes.iter().cloned());
    let mut writes: Vec<Write> = Vec::new();
    let mut removals: Vec<PathBuf> = Vec::new();

    // The sealed values, then the wiring that lists them.
    let mut sealed_before: Vec<String> = snap
        .existing
        .keys()
        .map(|k| manifests::sealed_path(k))
        .chain(snap.extra.iter().cloned())
        .collect();
    sealed_before.sort();
    let mut sealed_after = sealed_before.clone();
    // `unset`: the file goes (and its break-glass copy), and the folder as it was listed it.
    if let Kind::Unset { keys, .. } = kind {
        for key in keys {
            removals.push(out.join(manifests::sealed_path(key)));
            if snap.existing_break_glass(key) {
                removals.push(out.join(manifests::break_glass_path(key)));
            }
            sealed_before.push(manifests::sealed_path(key));
            notes.push(format!("{key} removed from {}", shown(cwd, out).display()));
        }
        sealed_before.sort();
    }
    for f in &values.sealed {
        // Break-glass copies are written, never listed in the kustomization.
        if f.path.starts_with(manifests::SEALED_DIR) {
            sealed_after.push(f.path.clone());
        }
        writes.push(Write {
            path: out.join(&f.path),
            contents: f.contents.clone(),
            mode: None,
        });
    }
    for f in break_glass_added {
        writes.push(Write {
            path: out.join(&f.path),
            contents: f.contents.clone(),
            mode: None,
        });
    }
    sealed_after.sort();
    sealed_after.dedup();
    if !snap.user_resources.is_empty() {
        notes.push(format!(
            "{} keeps your own resources: {}",
            out.join(manifests::KUSTOMIZATION_FILE).display(),
            snap.user_resources.join(", ")
        ));
    }
    let platform = snap.platform_root.as_ref();
    if let (Some(root), Some(store)) = (platform, &snap.store) {
        let force = match kind {
            Kind::Seal { force } => Some(*force),
            Kind::Rotate { .. } | Kind::Unset { .. } => None,
        };
        gitops::plan_store(store, &snap.wiring, force, &mut writes, &mut notes)?;
        // The store lives at the platform's swap point only: a second one here would fight it.
        if let Some(stale) = &snap.stale_store {
            notes.push(format!(
                "{} removed: in the platform the store is {}",
                stale.display(),
                shown(cwd, &root.join(crate::platform::STORE_PATH)).display()
            ));
            removals.push(stale.clone());
        }
    }
    if let Some(g) = &snap.argocd {
        gitops::plan_argocd(g, cwd, &mut writes, &mut notes)?;
    }
    if let Some(f) = &snap.flux {
        gitops::plan_flux(f, cwd, out, &mut writes, &mut notes);
        if let Some(stale) = &snap.stale_store {
            notes.push(format!(
                "{} removed: with Flux the store is {}",
                stale.display(),
                shown(cwd, &f.dir.join(crate::flux::STORE_DIR)).display()
            ));
            removals.push(stale.clone());
        }
    }
    // The store sits in the output folder only outside the platform and without Flux.
    let with_store = platform.is_none() && snap.flux.is_none();
    if let Some(r) = &snap.reads {
        let own = snap.absolute(out);
        // The store sealstrap writes itself (Flux's, in its own folder) is no conflict.
        let flux_store = snap.flux.as_ref().map(|f| {
            snap.absolute(
                &f.dir
                    .join(crate::flux::STORE_DIR)
                    .join(manifests::STORE_FILE),
            )
        });
        for f in &r.other_stores {
            let abs = snap.absolute(f);
            if !abs.starts_with(&own) && Some(&abs) != flux_store.as_ref() {
                notes.push(format!(
                    "{} also defines ClusterSecretStore {}: two stores of one name fight over one object in the cluster; delete that one{}",
                    shown(cwd, f).display(),
                    snap.wiring.store_name,
                    if platform.is_some() {
                        " (the platform's store file is the swap point)"
                    } else {
                        ""
                    }
                ));
            }
        }
        for (at, key, path) in &r.helm_without_property {
            notes.push(helm_fix(at, key, path, manifests::VALUE_KEY));
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
        &snap.wiring,
        &sealed_before,
        with_store,
        &snap.user_resources,
    );
    for (rel, text) in manifests::wiring_files(
        &snap.wiring,
        &sealed_after,
        with_store,
        &snap.user_resources,
    ) {
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
            writes.push(Write::new(out.join(&rel), text));
        }
    }

    // The Dex copy: never beside a pair it does not belong to, and never while git tracks it
    // (whatever this run writes: the plaintext would go out with the next commit).
    let dex = &snap.dex;
    let copy = &dex.path;
    if dex.tracked {
        return Err(Refusal::DexCopyTracked {
            copy: copy.clone(),
            shown: shown(cwd, copy),
        });
    }
    if values.dex_password.is_some() && matches!(kind, Kind::Seal { .. }) && dex.exists {
        // A new pair beside an existing copy would leave that copy matching nothing sealed
        // (a run from another folder, or a second output folder).
        return Err(Refusal::DexCopyOfAnotherPair {
            out: out.clone(),
            copy: copy.clone(),
        });
    }
    let mut dex_copy = None;
    // Git must ignore the plaintext copy and must not ignore anything meant for a commit.
    let mut ignore_rules: Vec<String> = Vec::new();
    if let Some(pw) = values.dex_password.as_ref().or(dex.restored.as_ref()) {
        if dex.git_root.is_none() && !opts.secrets_dir_given {
            notes.push(format!(
                "--out is not inside a git repository; the Dex admin password copy goes to {}",
                copy.display()
            ));
        }
        if !dex.ignored
            && let Some(root) = &dex.git_root
            && let Some(rel) = ignore::relative_to(root, &snap.absolute(copy))
        {
            // A rule sealstrap appends to the top-level .gitignore loses to a re-include in a
            // deeper one (gitignore(5): deeper files take precedence).
            if let Some((source, line, pattern)) = &dex.rule
                && pattern.starts_with('!')
                && Path::new(source) != Path::new(".gitignore")
            {
                return Err(Refusal::DexCopyReincluded {
                    source_file: source.clone(),
                    line: line.clone(),
                    pattern: pattern.clone(),
                    copy: shown(cwd, copy),
                });
            }
            ignore_rules.push(crate::gitignore::exact_rule(&rel.to_string_lossy()));
        }
        if dex.restored.is_some() {
            notes.push(format!("restored {} from its sealed copy", copy.display()));
        }
        writes.push(Write {
            path: copy.clone(),
            contents: Zeroizing::new(pw.as_bytes().to_vec()),
            mode: Some(0o600),
        });
        dex_copy = Some(copy.clone());
    }
    let mut reinclude = Vec::new();
    if let Some(root) = &dex.git_root {
        let mut committed: Vec<PathBuf> = sealed_after
            .iter()
            .chain(snap.current.keys())
            .map(|rel| out.join(rel))
            .filter(|p| platform.is_none() || !p.ends_with(manifests::STORE_FILE))
            .chain(writes.iter().map(|w| w.path.clone()))
            .filter(|p| Some(p) != dex_copy.as_ref() && !p.ends_with(".gitignore"))
            .filter_map(|p| ignore::relative_to(root, &snap.absolute(&p)))
            .collect();
        committed.sort();
        committed.dedup();
        reinclude = ignore::reinclude_rules(&committed, &snap.ignored);
    }
    let mut gitignore_added = None;
    let mut gitignore_edit = None;
    if let Some(g) = &snap.gitignore
        && (!ignore_rules.is_empty() || !reinclude.is_empty())
    {
        let all: Vec<String> = ignore_rules
            .iter()
            .chain(reinclude.iter())
            .cloned()
            .collect();
        if opts.no_gitignore_edit {
            return Err(Refusal::GitignoreNotEdited {
                gitignore: g.path.clone(),
                rules: all,
                reinclude: !reinclude.is_empty(),
            });
        }
        // Git does not follow a symlinked .gitignore; writing through it would change
        // another file, and replacing it would drop its rules.
        if g.is_link {
            return Err(Refusal::GitignoreLink {
                gitignore: g.path.clone(),
                rules: all,
            });
        }
        let base = g
            .bytes
            .clone()
            .map_err(|why| Refusal::GitignoreUnreadable {
                gitignore: g.path.clone(),
                why,
            })?;
        let mut text = base.clone();
        for rule in &all {
            text = crate::gitignore::append_rule(&text, rule);
        }
        writes.push(Write {
            path: g.path.clone(),
            contents: Zeroizing::new(text),
            mode: None,
        });
        gitignore_edit = Some(GitignoreEdit {
            path: g.path.clone(),
            base,
            rules: all.clone(),
        });
        let gitignore = shown(cwd, &g.path);
        match reinclude.as_slice() {
            [] => {}
            [r] => notes.push(format!(
                "{}: added `{r}`: the platform's rules would make git ignore it, and Argo CD would never see it",
                gitignore.display()
            )),
            rules => notes.push(format!(
                "{}: added {} re-include rules (`{}` ... `{}`): the platform's rules would make git ignore those files, and Argo CD would never see them",
                gitignore.display(),
                rules.len(),
                rules[0],
                rules[rules.len() - 1]
            )),
        }
        gitignore_added = (!ignore_rules.is_empty()).then(|| g.path.clone());
    }
    Ok(RunPlan {
        writes,
        removals,
        notes,
        dex_copy,
        gitignore_added,
        gitignore_edit,
    })
}

impl Snapshot {
    /// Whether the folder holds a break-glass copy of `key`.
    fn existing_break_glass(&self, key: &str) -> bool {
        self.break_glass_copies.contains(key)
    }
}

/// The writes of every environment of a fleet run as one: files each written once (two
/// environments may write the same file, the platform's store, with the same bytes; different
/// bytes are a conflict), and one `.gitignore` edit with every environment's rules.
pub fn merge_runs(runs: &[(String, &RunPlan)]) -> Result<RunPlan, Refusal> {
    let mut merged = RunPlan::default();
    let mut gitignore: Option<GitignoreEdit> = None;
    for (env, run) in runs {
        if let Some(edit) = &run.gitignore_edit {
            let g = gitignore.get_or_insert_with(|| GitignoreEdit {
                path: edit.path.clone(),
                base: edit.base.clone(),
                rules: Vec::new(),
            });
            for r in &edit.rules {
                if !g.rules.contains(r) {
                    g.rules.push(r.clone());
                }
            }
        }
        for w in &run.writes {
            if run
                .gitignore_edit
                .as_ref()
                .is_some_and(|g| g.path == w.path)
            {
                continue;
            }
            match merged.writes.iter().find(|m| m.path == w.path) {
                Some(other) if other.contents.as_slice() == w.contents.as_slice() => {}
                Some(_) => {
                    return Err(Refusal::FleetConflict {
                        env: env.clone(),
                        path: w.path.clone(),
                    });
                }
                None => merged.writes.push(Write {
                    path: w.path.clone(),
                    contents: w.contents.clone(),
                    mode: w.mode,
                }),
            }
        }
        for r in &run.removals {
            if !merged.removals.contains(r) {
                merged.removals.push(r.clone());
            }
        }
    }
    if let Some(g) = gitignore {
        let mut text = g.base;
        for r in &g.rules {
            text = crate::gitignore::append_rule(&text, r);
        }
        merged.writes.push(Write {
            path: g.path,
            contents: Zeroizing::new(text),
            mode: None,
        });
    }
    Ok(merged)
}

/// Seals the break-glass copies of values sealed before the break-glass certificate was
/// listed: `missing` holds their plaintexts.
pub fn break_glass_copies<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    contract: &Contract,
    break_glass: (&crate::rsa::PublicKey, &str),
    wiring: &Wiring,
    missing: &[(String, Zeroizing<String>)],
) -> Result<Vec<PlannedFile>, bootstrap::PlanError> {
    let (key, fingerprint) = break_glass;
    let mut out = Vec::new();
    for (k, value) in missing {
        let origin = match contract.entry(k) {
            Some(e) if !e.is_generated() => manifests::Origin::Provided,
            _ => manifests::Origin::Generated,
        };
        let text = manifests::sealed_entry(rng, key, fingerprint, wiring, k, value, origin)
            .map_err(|source| bootstrap::PlanError::Seal {
                key: format!("the break-glass copy of {k}"),
                source,
            })?;
        out.push(PlannedFile {
            path: manifests::break_glass_path(k),
            contents: Zeroizing::new(text.into_bytes()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
