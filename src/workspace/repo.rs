//! The repository a command runs in: its root (the git work tree, or the platform root given
//! with `--platform-root`), whether it is the platform (its store swap point exists), the
//! fork's `sealstrap.yaml`, what the tree's ExternalSecrets and Helm values read from the store,
//! and git's answer on which paths it ignores. Read-only: `seal` takes a snapshot of it before it
//! plans (docs/format.md §10 describes the platform's layout).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sealstrap::platform;

use super::error::Failure;

/// The git work tree holding `path` (walks up from the nearest existing ancestor).
pub fn git_root(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut cur = Some(abs.as_path());
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    None
}

/// The repository a run is anchored at.
#[derive(Clone, Debug)]
pub struct Root {
    pub dir: PathBuf,
    /// The platform's layout is there (its store swap point exists).
    pub platform: bool,
    /// The tree's walks, made once per run and shared by every clone of this root.
    walks: Walks,
}

/// Which whole-tree walk ([`super::reads`] makes them).
#[derive(Clone, Copy, Debug)]
pub enum Walked {
    /// Every file, as [`sealstrap::deployed`] reads the tree.
    Tree,
    /// Every manifest but templates and Helm chart templates.
    Manifests,
}

/// The whole-tree walks a run reads the repository with, each made on first use and then
/// shared by every clone of its [`Root`]: a fleet run plans every environment from one walk
/// instead of one per environment (which made the run quadratic in the fleet's size). Nothing
/// is written before a run's one transaction, so what they list stays true while it plans.
/// A walk that fails is not kept (the next caller tries again and gets the error).
#[derive(Clone, Debug, Default)]
struct Walks {
    tree: Arc<OnceLock<Arc<[PathBuf]>>>,
    manifests: Arc<OnceLock<Arc<[PathBuf]>>>,
}

fn once(
    cell: &OnceLock<Arc<[PathBuf]>>,
    make: impl FnOnce() -> Result<Vec<PathBuf>, Failure>,
) -> Result<Arc<[PathBuf]>, Failure> {
    if let Some(done) = cell.get() {
        return Ok(done.clone());
    }
    let made: Arc<[PathBuf]> = make()?.into();
    Ok(cell.get_or_init(|| made).clone())
}

impl Root {
    fn new(dir: PathBuf, platform: bool) -> Root {
        Root {
            dir,
            platform,
            walks: Walks::default(),
        }
    }

    /// A work tree's root: the platform when its store swap point is there.
    fn at(dir: PathBuf) -> Root {
        let platform = dir.join(platform::STORE_PATH).is_file();
        Root::new(dir, platform)
    }

    /// The whole-tree walk `which` names: `make` walks it on first use, and every clone of
    /// this root shares the result for the rest of the run ([`Walks`]).
    pub fn walked(
        &self,
        which: Walked,
        make: impl FnOnce() -> Result<Vec<PathBuf>, Failure>,
    ) -> Result<Arc<[PathBuf]>, Failure> {
        once(
            match which {
                Walked::Tree => &self.walks.tree,
                Walked::Manifests => &self.walks.manifests,
            },
            make,
        )
    }

    /// `--platform-root` (which must hold the platform's store file), else the git work tree
    /// holding the current folder.
    pub fn find(platform_root: Option<&Path>) -> Result<Option<Root>, Failure> {
        if let Some(dir) = platform_root {
            if !dir.join(platform::STORE_PATH).is_file() {
                return Err(Failure::usage(format!(
                    "--platform-root {}: {} is not there",
                    dir.display(),
                    platform::STORE_PATH
                ))
                .hint("pass the root of a checkout of the platform repository"));
            }
            return Ok(Some(Root::new(dir.to_path_buf(), true)));
        }
        let cwd =
            std::env::current_dir().map_err(|e| Failure::new(format!("no current folder: {e}")))?;
        Ok(git_root(&cwd).map(Root::at))
    }

    /// The repository an output folder belongs to: `--platform-root`, else the git work tree
    /// holding `out` when it is given (so `verify /elsewhere/secret-source` reads that
    /// repository, not the one you stand in), else the one holding the current folder.
    pub fn for_out(
        platform_root: Option<&Path>,
        out: Option<&Path>,
    ) -> Result<Option<Root>, Failure> {
        match (platform_root, out) {
            (None, Some(out)) => Ok(git_root(out).map(Root::at)),
            _ => Root::find(platform_root),
        }
    }

    /// `rel` under the root, shown relative to the current folder when it is below it.
    pub fn join(&self, rel: &str) -> PathBuf {
        let p = self.dir.join(rel);
        shown(&p)
    }
}

/// A path as the user best reads it: relative to the current folder when below it.
pub fn shown(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| p.to_path_buf())
}

/// Refuses `path` (a folder a command writes in, inside the repository `root`) when it is, or lies under, a
/// symbolic link that leads out of the repository: git would commit the link, not the files,
/// and the writes would land somewhere no review sees.
fn refuse_link_out_of(root: &Path, path: &Path) -> Result<(), Failure> {
    let Ok(abs) = std::path::absolute(path) else {
        return Ok(());
    };
    if !abs.starts_with(root) {
        return Ok(()); // not inside the repository by name: nothing hides behind a link
    }
    // The deepest existing ancestor decides where the writes really go.
    let Some(existing) = abs.ancestors().find(|a| a.exists()) else {
        return Ok(());
    };
    let (Ok(real), Ok(real_root)) = (std::fs::canonicalize(existing), std::fs::canonicalize(root))
    else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} leads through a symbolic link to {}, outside the repository {}: git would commit the link, not the files sealstrap writes there, and they would land where no review sees them",
        path.display(),
        real.display(),
        root.display()
    ))
    .hint("replace the link with a real folder inside the repository, or name one with --out"))
}

/// The folders a writing command works in, as a journal scope: the repository (`root`, else the
/// git work tree holding the first of `dirs`, else that folder itself) first, then each of
/// `dirs` outside it (a `--secrets-dir` or `--cert-file` elsewhere). In a repository every
/// writing command locks its root, so two runs there never interleave, and the journal lives in
/// `.git`, where git never commits it.
pub fn write_scope(
    root: Option<&Root>,
    dirs: &[&Path],
) -> Result<sealstrap::journal::Scope, Failure> {
    let scope = scope_of(root, dirs)?;
    for d in dirs {
        refuse_link_out_of(&scope.roots[0], d)?;
    }
    Ok(scope)
}

/// Refuses a file a command is about to write (or remove) whose folder leads, through a
/// symbolic link anywhere on its way (a committed `sealed` or `catalog/platform-core` link, say),
/// outside every folder of `scope`: the file would land where no review sees it.
pub fn refuse_write_outside(scope: &sealstrap::journal::Scope, path: &Path) -> Result<(), Failure> {
    let Ok(abs) = std::path::absolute(path) else {
        return Ok(());
    };
    let Some(existing) = abs.ancestors().skip(1).find(|a| a.exists()) else {
        return Ok(());
    };
    let Ok(real) = std::fs::canonicalize(existing) else {
        return Ok(());
    };
    let inside = scope
        .roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .any(|r| real.starts_with(r));
    if inside {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} would be written through a symbolic link to {}, outside the folders this command writes in: git would commit the link, and the file would land where no review sees it; nothing was written",
        shown(path).display(),
        real.display()
    ))
    .hint("replace the link with a real folder (git log -p shows who committed it)"))
}

/// The scope [`write_scope`] gives, for commands that only read and look for its journal.
pub fn scope_of(root: Option<&Root>, dirs: &[&Path]) -> Result<sealstrap::journal::Scope, Failure> {
    let first = dirs.first().copied().unwrap_or(Path::new("."));
    let anchor = match root {
        Some(r) => r.dir.clone(),
        None => git_root(first).unwrap_or_else(|| first.to_path_buf()),
    };
    let mut roots = vec![anchor];
    roots.extend(dirs.iter().map(|d| d.to_path_buf()));
    sealstrap::journal::Scope::new(&roots)
        .map_err(|e| Failure::new(format!("cannot resolve {}: {e}", first.display())))
}

/// The platform's environments with an Argo CD folder: `clusters/<env>/`, sorted.
pub fn environments(root: &Path) -> Vec<String> {
    environment_folders(root).0
}

/// The folders of `clusters/`: those that are environments (a DNS label, as a namespace-like
/// name, and not a name sealstrap.yaml's pins reserve), sorted; and the others, as Rust
/// debug-quoted names (a newline or an escape sequence never reaches a terminal or a
/// `.gitignore` rule), with why each is skipped.
pub fn environment_folders(root: &Path) -> (Vec<String>, Vec<String>) {
    let mut envs = Vec::new();
    let mut skipped = Vec::new();
    for e in std::fs::read_dir(root.join("clusters"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if !e.path().is_dir() {
            continue;
        }
        let raw = e.file_name();
        let name = raw.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if name == sealstrap::pins::BREAK_GLASS || name == sealstrap::defaults::OUT_DIR {
            skipped.push(format!(
                "{name:?} (a name sealstrap.yaml's pins reserve; rename the folder)"
            ));
        } else if raw.to_str().is_some_and(sealstrap::objects::is_dns_label) {
            envs.push(name.into_owned());
        } else {
            skipped.push(format!(
                "{:?} (not an environment name: lowercase letters, digits and '-', at most 63)",
                raw
            ));
        }
    }
    envs.sort();
    skipped.sort();
    (envs, skipped)
}

/// The environment a platform command is about: `--env`, else the `--config` file's
/// `environments/<env>/` folder, else the output folder's `clusters/<env>/`, else the only
/// folder in `clusters/`. `None` when the repository
/// holds several and nothing says which.
pub fn environment(
    root: &Root,
    flag: Option<&str>,
    config: Option<&Path>,
    out: Option<&Path>,
) -> Result<Option<String>, Failure> {
    let envs = environments(&root.dir);
    if let Some(e) = flag {
        let known = envs.iter().any(|x| x == e) || root.dir.join("environments").join(e).is_dir();
        if !known || e.contains('/') || e.starts_with('.') {
            return Err(Failure::usage(format!(
                "--env {e}: no clusters/{e}/ or environments/{e}/ in {}",
                root.dir.display()
            ))
            .hint(format!(
                "the environments here are: {}",
                if envs.is_empty() {
                    "none".into()
                } else {
                    envs.join(", ")
                }
            )));
        }
        return Ok(Some(e.to_string()));
    }
    let from_config = config.and_then(|c| {
        let abs = std::path::absolute(c).ok()?;
        let env_dir = abs.parent()?;
        (env_dir.parent()?.file_name()? == "environments")
            .then(|| env_dir.file_name()?.to_str().map(str::to_string))
            .flatten()
    });
    // An output folder at clusters/<env>/secret-source names its environment.
    let from_out = out.and_then(|o| {
        // As the folder really is: `clusters/a/../b/secret-source` is b's.
        let rel = canonical(o)?
            .strip_prefix(std::fs::canonicalize(&root.dir).ok()?)
            .ok()?
            .to_path_buf();
        let mut c = rel.components();
        (c.next()?.as_os_str() == "clusters")
            .then(|| c.next()?.as_os_str().to_str().map(str::to_string))
            .flatten()
            .filter(|e| envs.contains(e))
    });
    Ok(match (from_config.or(from_out), envs.as_slice()) {
        (Some(e), _) => Some(e),
        (None, [one]) => Some(one.clone()),
        _ => None,
    })
}

/// Where one environment's files go in the platform (docs/format.md §10, "Environments"): its
/// sealed folder `clusters/<env>/secret-source/` (with its certificate, escrow and recipients),
/// its Dex copy `secrets/<env>/dex-admin-password` and its config
/// `environments/<env>/config.yaml`. A repository that already has `secret-source/` at its root
/// (the layout before environments) keeps it for the one environment it belongs to.
#[derive(Clone, Debug)]
pub struct Layout {
    pub env: Option<String>,
    pub out: PathBuf,
    /// The secrets folder for the Dex copy.
    pub secrets: PathBuf,
    /// The environment's config, when it exists.
    pub config: Option<PathBuf>,
    /// How to move a root `secret-source/` to the per-environment layout, when it is kept.
    pub legacy: Option<String>,
}

/// The per-environment folder of `env`, relative to the root.
pub fn env_out(env: &str) -> String {
    format!("clusters/{env}/{}", sealstrap::defaults::OUT_DIR)
}

/// The default layout for `env` in `root` (outside the platform, or with no environment:
/// `secret-source` and `secrets` at the root).
pub fn layout(root: Option<&Root>, env: Option<&str>) -> Layout {
    let plain = |root: Option<&Root>| Layout {
        env: env.map(str::to_string),
        out: default_out(root),
        secrets: match root {
            Some(r) => r.join(sealstrap::defaults::SECRETS_DIR),
            None => PathBuf::from(sealstrap::defaults::SECRETS_DIR),
        },
        config: None,
        legacy: None,
    };
    let (Some(r), Some(env)) = (root.filter(|r| r.platform), env) else {
        return plain(root);
    };
    let config = Some(r.join(&format!("environments/{env}/config.yaml"))).filter(|c| c.is_file());
    let legacy_dir = r.dir.join(sealstrap::defaults::OUT_DIR);
    let own = r.dir.join(env_out(env));
    if legacy_dir.is_dir() && !own.exists() && legacy_belongs_to(r, env) {
        let mut l = plain(Some(r));
        l.config = config;
        l.legacy = Some(format!(
            "{} at the repository root is environment {env}'s (the layout before environments); kept. To give each environment its own folder: git mv secret-source {o} && mkdir -p secrets/{env} && mv secrets/dex-admin-password secrets/{env}/ && sealstrap seal --env {env} --gitops argocd (it points the secret-source Application at {o})",
            sealstrap::defaults::OUT_DIR,
            o = env_out(env)
        ));
        return l;
    }
    Layout {
        env: Some(env.to_string()),
        out: r.join(&env_out(env)),
        secrets: r.join(&format!("{}/{env}", sealstrap::defaults::SECRETS_DIR)),
        config,
        legacy: None,
    }
}

/// Whether a root `secret-source/` belongs to `env`: the only environment, or the one whose
/// secret-source Application deploys that path.
fn legacy_belongs_to(root: &Root, env: &str) -> bool {
    let envs = environments(&root.dir);
    if envs.len() <= 1 {
        return true;
    }
    let app = root
        .dir
        .join(sealstrap::platform::catalog_dir(env))
        .join("secret-source.yaml");
    std::fs::read_to_string(app).is_ok_and(|t| {
        t.lines()
            .any(|l| l.trim() == format!("path: {}", sealstrap::defaults::OUT_DIR))
    })
}

/// The default output folder: `secret-source` at the repository root, whatever folder the
/// command runs from (at the current folder outside any repository).
pub fn default_out(root: Option<&Root>) -> PathBuf {
    match root {
        Some(r) => r.join(sealstrap::defaults::OUT_DIR),
        None => PathBuf::from(sealstrap::defaults::OUT_DIR),
    }
}

/// A default path inside the environment's sealed folder (`rel` empty: the folder itself), for
/// the repository holding the current folder: `clusters/<env>/secret-source` in the platform
/// (`--env`, or the only environment), `secret-source` at the root elsewhere (or where a
/// repository keeps it there); as given outside any repository.
pub fn env_default(env: Option<&str>, rel: &str) -> Result<PathBuf, Failure> {
    let root = Root::find(None)?;
    let env = match root.as_ref().filter(|r| r.platform) {
        Some(r) => match environment(r, env, None, None)? {
            Some(e) => Some(e),
            None => {
                return Err(Failure::usage(format!(
                    "which environment? clusters/ holds {}",
                    environments(&r.dir).join(", ")
                ))
                .hint("pass --env ENV, or the path itself"));
            }
        },
        None => {
            if let Some(e) = env {
                return Err(Failure::usage(format!(
                    "--env {e}: this is not the platform repository (no {})",
                    platform::STORE_PATH
                )));
            }
            None
        }
    };
    let out = layout(root.as_ref(), env.as_deref()).out;
    Ok(if rel.is_empty() { out } else { out.join(rel) })
}

/// A path flag as given (read from the current folder), else its default inside the
/// environment's sealed folder (`rel` empty: the folder), anchored at the repository root.
pub fn given_or_env_default(
    given: Option<&Path>,
    env: Option<&str>,
    rel: &str,
) -> Result<PathBuf, Failure> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => env_default(env, rel),
    }
}

/// `p` with every link and `..` of its existing part resolved (the part that does not exist yet
/// is appended as given).
pub fn canonical(p: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(p).ok()?;
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(cur) {
            return Some(
                rest.iter()
                    .rev()
                    .fold(c, |acc: PathBuf, part| acc.join(part)),
            );
        }
        rest.push(cur.file_name()?.to_os_string());
        cur = cur.parent()?;
    }
}
