//! Why a writing run refuses, decided by the plan before anything is written: one variant per
//! reason, each with the fix in [`Refusal::hint`]. Paths are as the user reads them (relative to
//! the current folder where they are below it).

use std::path::PathBuf;

/// A run the plan will not write, and why. Nothing has been written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `unset KEY` of a key the folder does not hold.
    #[error("{out} has no sealed {key}: nothing to remove")]
    NothingToUnset { out: PathBuf, key: String },
    /// `unset KEY` of a key the environment needs, without `--force`.
    #[error("{key} is needed here ({reason}): removing it breaks what reads it")]
    UnsetNeeded { key: String, reason: String },
    /// `rotate`/`set` of a key the environment does not have.
    #[error("{key} is not part of this environment ({reason}); nothing to rotate")]
    NotInEnvironment { key: String, reason: String },
    /// `rotate` of an operator-provided key with no new value given.
    #[error("no new value for {key}")]
    NoNewValue { key: String, env: String },
    /// The platform's store file holds a store sealstrap did not write.
    #[error(
        "{path} holds {state}; sealstrap replaces only the resolver's placeholder or its gcpsm store"
    )]
    StoreNotOurs { path: PathBuf, state: String },
    /// A generated Argo CD Application was edited in a field the wiring needs.
    #[error("{file} has values sealstrap needs otherwise (the wiring depends on them):{diff}")]
    ApplicationConflict { file: PathBuf, diff: String },
    /// The AppProject's `sourceRepos` cannot be edited in place.
    #[error("{project}: cannot add the chart repository to sourceRepos: {why}")]
    SourceRepos {
        project: PathBuf,
        why: String,
        repo: String,
    },
    /// A new Dex admin pair would be made beside a copy that belongs to another pair.
    #[error(
        "{out} has no Dex admin pair, but {copy} already holds a Dex admin password; sealing a new pair would make that copy match nothing"
    )]
    DexCopyOfAnotherPair { out: PathBuf, copy: PathBuf },
    /// git tracks the plaintext Dex copy: no ignore rule keeps it out of a commit.
    #[error(
        "git tracks {copy} (or has it staged): no ignore rule keeps a tracked file out of a commit, so the plaintext Dex admin password would be committed"
    )]
    DexCopyTracked { copy: PathBuf, shown: PathBuf },
    /// A deeper `.gitignore` re-includes the plaintext Dex copy.
    #[error(
        "{source_file}:{line} re-includes {copy} (`{pattern}`), and a rule in the top-level .gitignore cannot override a deeper .gitignore: git would commit the plaintext Dex admin password"
    )]
    DexCopyReincluded {
        source_file: String,
        line: String,
        pattern: String,
        copy: PathBuf,
    },
    /// `--no-gitignore-edit`, and `.gitignore` needs rules.
    #[error("git would {} (--no-gitignore-edit: .gitignore is not edited)", if *reinclude { "ignore files seal writes for you to commit" } else { "not ignore the plaintext Dex admin password copy" })]
    GitignoreNotEdited {
        gitignore: PathBuf,
        rules: Vec<String>,
        reinclude: bool,
    },
    /// `.gitignore` is a symbolic link.
    #[error(
        "{gitignore} is a symbolic link; git does not read it as a .gitignore, and sealstrap will not edit through it"
    )]
    GitignoreLink {
        gitignore: PathBuf,
        rules: Vec<String>,
    },
    #[error("cannot read {gitignore}: {why}")]
    GitignoreUnreadable { gitignore: PathBuf, why: String },
    /// Two environments of a fleet run would write one file differently.
    #[error("{env} and another environment would write {path} differently")]
    FleetConflict { env: String, path: PathBuf },
}

impl Refusal {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Refusal::NothingToUnset { .. } => return None,
            Refusal::UnsetNeeded { .. } => "pass --force to remove it anyway".into(),
            Refusal::NotInEnvironment { .. } => {
                "pass the --config or --with that includes it".into()
            }
            Refusal::NoNewValue { key, env } => format!(
                "set {env}, pass --value-file {key}=PATH, or run on a terminal to be prompted"
            ),
            Refusal::StoreNotOurs { .. } => "keep your store and pass --out only for the sealed values (the store must read the source namespace), or pass --force to replace it with the Kubernetes-provider store".into(),
            Refusal::ApplicationConflict { .. } => {
                "change them back, or pass --force to set them (your other edits are kept)".into()
            }
            Refusal::SourceRepos { repo, .. } => {
                format!("add `- {repo}` to spec.sourceRepos by hand, then run seal again")
            }
            Refusal::DexCopyOfAnotherPair { copy, .. } => format!(
                "run seal from the repository root (or pass --out to the folder that holds that password's pair); if the copy is stale, move it away first: mv {} {}.old",
                copy.display(),
                copy.display()
            ),
            Refusal::DexCopyTracked { shown, .. } => format!(
                "unstage it and keep it ignored: git rm --cached {}; if it was ever pushed, rotate it afterwards (sealstrap reset-dex-admin)",
                shown.display()
            ),
            Refusal::DexCopyReincluded { source_file, .. } => format!(
                "delete that line from {source_file}, or put the copy elsewhere with --secrets-dir (outside the repository is safest)"
            ),
            Refusal::GitignoreNotEdited {
                gitignore, rules, ..
            } => format!(
                "add these lines to {}:\n  {}",
                gitignore.display(),
                rules.join("\n  ")
            ),
            Refusal::GitignoreLink { rules, .. } => format!(
                "replace the link with a regular file, or add these lines to your ignore rules yourself: {}",
                rules.join("  ")
            ),
            Refusal::GitignoreUnreadable { .. } => return None,
            Refusal::FleetConflict { .. } => {
                "seal the environments one by one (sealstrap seal --env ENV) to see each".into()
            }
        })
    }
}
