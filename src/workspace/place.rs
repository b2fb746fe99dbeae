//! Where a run on one environment reads and writes: the environment, its layout (docs/format.md
//! §10), the sealed folder, the environment's config and the contract that applies there.
//! Resolved once from the workspace and the flags; `seal`, `rotate`, `set`, `unset`, `verify`
//! and the fleet run all resolve through here.

use std::path::{Path, PathBuf};

use sealstrap::config::EnvConfig;
use sealstrap::contract::Contract;
use sealstrap::fleet::Fleet;

use super::Workspace;
use super::error::Failure;
use super::repo::{self, Layout, Root};

/// One environment's places.
#[derive(Clone, Debug)]
pub struct Place {
    pub root: Option<Root>,
    pub layout: Layout,
    /// The sealed folder: `--out`, else the environment's.
    pub out: PathBuf,
    /// Whether `--out` was given.
    pub out_given: bool,
    /// `--config`, else the environment's own config.
    pub config: Option<PathBuf>,
    /// The fleet section of `sealstrap.yaml` (empty without one).
    pub fleet: Fleet,
    /// The contract of this environment.
    pub contract: Contract,
    /// What `sealstrap.yaml` pins.
    pub pins: sealstrap::pins::Pins,
    /// `sealstrap.yaml`'s chart and image mirror (`chart:`).
    pub chart: sealstrap::mirror::Given,
}

/// What picks the environment: `--out`, `--env`, `--config`.
#[derive(Clone, Debug, Default)]
pub struct Choice<'a> {
    pub out: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub config: Option<&'a Path>,
}

impl Place {
    /// The environment (`--env`, else the `--config` file's, else the output folder's, else the
    /// only one) and its folders: `--out`, else `clusters/<env>/secret-source` in the platform,
    /// `secret-source` at the root elsewhere (or where a repository already keeps it there).
    pub fn resolve(ws: &Workspace, choice: &Choice<'_>) -> Result<Place, Failure> {
        let root = ws.root.clone();
        let env = match root.as_ref().filter(|r| r.platform) {
            Some(r) => repo::environment(r, choice.env, choice.config, choice.out)?,
            None => {
                if let Some(e) = choice.env {
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
            && choice.out.is_none()
        {
            return Err(Failure::usage(format!(
                "which environment? clusters/ holds {}",
                repo::environments(&r.dir).join(", ")
            ))
            .hint("pass --env ENV (or --config environments/ENV/config.yaml), or seal them all with --all-envs"));
        }
        let layout = repo::layout(root.as_ref(), env.as_deref());
        let out = choice
            .out
            .map(Path::to_path_buf)
            .unwrap_or_else(|| layout.out.clone());
        let config = choice
            .config
            .map(Path::to_path_buf)
            .or_else(|| layout.config.clone());
        Ok(Place {
            contract: ws.contract(layout.env.as_deref()),
            fleet: ws.config.fleet.clone(),
            pins: ws.config.pins.clone(),
            chart: ws.config.chart.clone(),
            root,
            layout,
            out,
            out_given: choice.out.is_some(),
            config,
        })
    }

    /// The environment config, when there is one.
    pub fn load_config(&self) -> Result<Option<EnvConfig>, Failure> {
        load_config(self.config.as_deref())
    }

    /// The name this folder's certificate is pinned under: its environment, else the sealed
    /// folder's path from the repository root (`secret-source`). `None` outside a repository
    /// (nothing there is committed, so nothing to pin).
    pub fn pin_name(&self) -> Option<String> {
        let root = self.root.as_ref()?;
        if let Some(env) = &self.layout.env {
            return Some(env.clone());
        }
        // The folder as it really is (`a/../b`, a link to an environment's folder): one folder
        // has one pin, however it is spelled.
        let abs = repo::canonical(&self.out)?;
        let root_dir = std::fs::canonicalize(&root.dir).ok()?;
        let rel = abs
            .strip_prefix(&root_dir)
            .ok()?
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        // An environment's folder given by path is that environment.
        if let Some(env) = rel
            .strip_prefix("clusters/")
            .and_then(|r| r.strip_suffix("/secret-source"))
            .filter(|e| !e.contains('/'))
            && root.platform
        {
            return Some(env.to_string());
        }
        Some(rel).filter(|r| !r.is_empty())
    }

    /// The root of the platform repository, when this is the platform.
    pub fn platform(&self) -> Option<&Root> {
        self.root.as_ref().filter(|r| r.platform)
    }

    /// The fingerprint the break-glass copies must be sealed for: the pinned one (what a
    /// reviewer approved), else the fleet file's certificate's. `None` when the fleet file names
    /// none.
    pub fn break_glass_fingerprint(&self) -> Result<Option<String>, Failure> {
        let (Some(rel), Some(root)) = (&self.fleet.break_glass, &self.root) else {
            return Ok(None);
        };
        if let Some(fp) = self.pins.certificate(sealstrap::pins::BREAK_GLASS) {
            return Ok(Some(fp.to_string()));
        }
        let path = root.join(rel);
        let pem = super::files::read_repo_file(&path)?.ok_or_else(|| {
            Failure::new(format!(
                "{}: the break-glass certificate sealstrap.yaml names is not there",
                repo::shown(&path).display()
            ))
            .hint("restore it from git, or fix break-glass: in sealstrap.yaml")
        })?;
        let cert = sealstrap::cert::parse(&pem)
            .map_err(|e| super::error::cert_failure(&path.display().to_string(), &e))?;
        Ok(Some(cert.fingerprint))
    }

    /// The fingerprints of every certificate in the folder's committed bundle
    /// ([`Place::committed_cert`]): the keys its values may be sealed for. Empty when there is no
    /// bundle.
    pub fn committed_fingerprints(&self) -> Vec<String> {
        super::files::read_repo_file(&self.committed_cert())
            .ok()
            .flatten()
            .and_then(|pem| sealstrap::controller_key::parse_cert_bundle(&pem).ok())
            .map(|b| b.into_iter().map(|c| c.fingerprint).collect())
            .unwrap_or_default()
    }

    /// The sealing certificate the fleet file names for this environment (relative to the
    /// root), else the one `key new` wrote into the sealed folder.
    pub fn committed_cert(&self) -> PathBuf {
        if let (Some(env), Some(root)) = (&self.layout.env, &self.root)
            && let Some(c) = self
                .fleet
                .environments
                .get(env)
                .and_then(|e| e.cert.as_ref())
        {
            return root.join(c);
        }
        self.out.join(super::keys::CERT_NAME)
    }
}

/// Reads an environment config (`--config`, or the environment's own).
pub fn load_config(path: Option<&Path>) -> Result<Option<EnvConfig>, Failure> {
    let Some(path) = path else {
        return Ok(None);
    };
    let bytes = super::files::read_regular(path, "").map_err(|f| Failure {
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
