//! What the tree reads from the store: every ExternalSecret and Helm value that names it, and
//! (in the platform) only what the environment deploys (`sealstrap::deployed`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use sealstrap::patch::{self, Options};
use sealstrap::platform;

use super::error::Failure;
use super::repo::Root;
pub use sealstrap::reads::{Reads, helm_fix};

/// Largest YAML file read for ExternalSecrets and Helm values.
const MAX_MANIFEST: u64 = 4 << 20;

/// Every file of the tree as [`super::walk::TREE`] walks it, walked once per run.
fn tree_files(root: &Root) -> Result<std::sync::Arc<[PathBuf]>, Failure> {
    root.walked(super::repo::Walked::Tree, || {
        Ok(super::walk::walk(std::slice::from_ref(&root.dir), super::walk::TREE)?.files)
    })
}

/// Every manifest of the tree but templates ([`super::walk::yaml_files`]), walked once per run.
fn manifest_files(root: &Root) -> Result<std::sync::Arc<[PathBuf]>, Failure> {
    root.walked(super::repo::Walked::Manifests, || {
        super::walk::yaml_files(&root.dir, &[])
    })
}

/// The repository as [`sealstrap::deployed`] walks it: every file below the root (skipping
/// `.git`, hidden folders, `node_modules` and `target`), read on demand, up to 4 MiB each.
pub struct FsTree {
    root: PathBuf,
    files: Vec<String>,
    cache: std::cell::RefCell<BTreeMap<String, Option<std::rc::Rc<str>>>>,
}

impl FsTree {
    pub fn new(root: &Root) -> Result<FsTree, Failure> {
        let files = tree_files(root)?;
        let root = root.dir.as_path();
        let files = files
            .iter()
            .filter_map(|p| {
                let rel = p.strip_prefix(root).ok()?.to_str()?.to_string();
                Some(rel.replace(std::path::MAIN_SEPARATOR, "/"))
            })
            .collect::<Vec<_>>();
        let mut files = files;
        files.sort();
        Ok(FsTree {
            root: root.to_path_buf(),
            files,
            cache: Default::default(),
        })
    }
}

impl sealstrap::deployed::Tree for FsTree {
    fn files(&self) -> &[String] {
        &self.files
    }
    fn read(&self, path: &str) -> Option<String> {
        if let Some(hit) = self.cache.borrow().get(path) {
            return hit.as_ref().map(|t| t.to_string());
        }
        let full = self.root.join(path);
        // Never through a link, only a regular file of at most a manifest's size.
        let text = std::fs::symlink_metadata(&full)
            .ok()
            .filter(|m| m.is_file() && m.len() <= MAX_MANIFEST)
            .and_then(|_| super::files::read_repo_text(&full).ok().flatten())
            .map(std::rc::Rc::<str>::from);
        self.cache
            .borrow_mut()
            .insert(path.to_string(), text.clone());
        text.map(|t| t.to_string())
    }
}

/// What environment `env` deploys, walked from its Argo CD wiring (`None` outside the platform
/// or without an environment).
pub fn graph(
    root: &Root,
    env: Option<&str>,
) -> Result<Option<sealstrap::deployed::Graph>, Failure> {
    let (true, Some(env)) = (root.platform, env) else {
        return Ok(None);
    };
    let tree = FsTree::new(root)?;
    Ok(Some(sealstrap::deployed::walk(&tree, env)))
}

/// Reads every YAML file of the tree for what it reads from `opts.store`. With the
/// environment's `graph`, only deployed files count; what switched-off features would read is
/// kept apart (`Reads::off`), and the rest of the tree (test golden files, examples, other
/// environments) is not read at all.
pub fn reads(
    root: &Root,
    graph: Option<&sealstrap::deployed::Graph>,
    skip: &[PathBuf],
    opts: &Options,
) -> Result<Reads, Failure> {
    let mut r = Reads::default();
    let swap = std::path::absolute(root.dir.join(platform::STORE_PATH)).ok();
    let graph = graph.filter(|g| g.found);
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    for file in manifest_files(root)?.iter() {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        if skip.iter().any(|s| abs.starts_with(s)) {
            continue;
        }
        let file = file.clone();
        let rel = file
            .strip_prefix(&root.dir)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let off = match graph {
            Some(g) if g.deployed.contains_key(&rel) => None,
            Some(g) => match g.off.get(&rel) {
                Some(why) => Some(why.clone()),
                None => continue, // not deployed by this environment at all
            },
            None => None,
        };
        // A manifest is kilobytes; a file of megabytes is data, not an ExternalSecret.
        if std::fs::metadata(&file).is_ok_and(|m| m.len() > MAX_MANIFEST) {
            continue;
        }
        let Ok(Some(text)) = super::files::read_repo_text(&file) else {
            continue; // not text: no manifest
        };
        // Only a file that names the store can read from it (or define another of its name):
        // the rest of the tree is not parsed at all.
        if !text.contains(opts.store.as_str()) {
            continue;
        }
        let name = file
            .strip_prefix(&root.dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let p = patch::read_text(&text, opts);
        let helm = patch::helm_refs(&text, &opts.store);
        if let Some(why) = off {
            // Read only while a switched-off feature is on: not needed now, said why.
            for rf in &p.refs {
                r.off.entry(rf.key.clone()).or_default().push(format!(
                    "{why}; read by {name}:{} (ExternalSecret {}) when it is on",
                    rf.line, rf.external_secret
                ));
            }
            for h in &helm {
                r.off.entry(h.key.clone()).or_default().push(format!(
                    "{why}; read by {name}:{} (Helm values {}) when it is on",
                    h.line, h.path
                ));
            }
            continue;
        }
        for (line, message) in &p.broken {
            r.broken.push(format!("{name}:{line}: {message}"));
        }
        for rf in p.refs {
            r.readers
                .entry(rf.key.clone())
                .or_default()
                .insert(rf.external_secret.clone());
            r.by_key.entry(rf.key).or_default().push(format!(
                "{name}:{} (ExternalSecret {})",
                rf.line, rf.external_secret
            ));
        }
        for h in helm {
            let at = format!("{name}:{}", h.line);
            r.by_key
                .entry(h.key.clone())
                .or_default()
                .push(format!("{at} (Helm values {})", h.path));
            if h.property.is_none() {
                r.helm_without_property.push((at, h.key, h.path));
            }
        }
        if platform::stores_named(&text, &opts.store) > 0 && std::path::absolute(&file).ok() != swap
        {
            r.other_stores.push(file);
        }
    }
    // A key read only by switched-off features stays apart; one also read by a deployed file
    // is simply needed.
    r.off.retain(|k, _| !r.by_key.contains_key(k));
    Ok(r)
}
