//! What a command works on, resolved once from its flags: the current folder, the repository and
//! its layout, `sealstrap.yaml`, the contract, keys and certificates, the cluster connection.
//! Imports `cli` (the flags) and the library; `commands` builds on it, never the other way.
//!
//! | module | owns |
//! |---|---|
//! | [`error`] | [`Failure`](error::Failure): the binary's one error type, with hints and exit codes |
//! | [`files`] | reading inputs (size caps, regular files only, `-` for stdin), stdout, atomic output, the repository lock |
//! | [`repo`] | the repository root, whether it is the platform, its environments and their layout |
//! | [`place`] | one environment's places: its sealed folder, config, layout and contract |
//! | [`walk`] | walking the tree: each walker and its policy |
//! | [`git`] | the one place git is run |
//! | [`reads`] | what the tree's ExternalSecrets and Helm values read from the store, and what an environment deploys |
//! | [`keys`] | certificates, private keys and the escrow, loaded and checked |
//! | [`cluster`] | the connection to the API server |

use std::path::Path;

use sealstrap::contract::Contract;
use sealstrap::repo_config::{self, RepoConfig};

use error::Failure;
use repo::Root;

pub mod cluster;
pub mod error;
pub mod files;
pub mod git;
pub mod keys;
pub mod place;
pub mod reads;
pub mod repo;
pub mod walk;

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The repository a run works in, resolved once: its root (none outside a git work tree) and
/// `sealstrap.yaml` read and checked once. Every step of the run takes what it needs from here,
/// so no two steps can read the repository differently.
pub struct Workspace {
    pub root: Option<Root>,
    /// `sealstrap.yaml` at the root (empty without one, or outside a repository).
    pub config: RepoConfig,
    /// Its text, as read (`None` without the file): edits keep every byte they do not change.
    pub config_text: Option<String>,
}

impl Workspace {
    /// The repository holding the current folder, or `--platform-root`.
    pub fn find(platform_root: Option<&Path>) -> Result<Workspace, Failure> {
        Workspace::open(Root::find(platform_root)?)
    }

    /// The repository an output folder belongs to: `--platform-root`, else the work tree
    /// holding `out` when it is given, else the one holding the current folder.
    pub fn for_out(platform_root: Option<&Path>, out: Option<&Path>) -> Result<Workspace, Failure> {
        Workspace::open(Root::for_out(platform_root, out)?)
    }

    /// Reads `sealstrap.yaml` at `root` (a regular file, never through a link, size-capped) and
    /// checks that every environment it names has its folder.
    pub fn open(root: Option<Root>) -> Result<Workspace, Failure> {
        let Some(r) = &root else {
            return Ok(Workspace {
                root,
                config: RepoConfig::default(),
                config_text: None,
            });
        };
        let path = r.dir.join(repo_config::FILE);
        let shown = repo::shown(&path);
        let Some(bytes) = files::read_repo_file(&path)? else {
            return Ok(Workspace {
                root,
                config: RepoConfig::default(),
                config_text: None,
            });
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            Failure::new(format!(
                "{}: not UTF-8 text (invalid byte at offset {})",
                shown.display(),
                e.valid_up_to()
            ))
        })?;
        let config = RepoConfig::parse(text).map_err(|e| {
            let f = Failure::new(format!("{}: {e}", shown.display())).hint_opt(e.hint());
            // A typo is a usage error: nothing was read, nothing is written.
            if matches!(e, repo_config::RepoConfigError::UnknownKey { .. }) {
                Failure {
                    code: error::EXIT_USAGE,
                    ..f
                }
            } else {
                f
            }
        })?;
        for env in config.fleet.environments.keys() {
            if !r.dir.join("clusters").join(env).is_dir() {
                return Err(Failure::new(format!(
                    "{}: environments.{env}: there is no clusters/{env}/",
                    shown.display()
                ))
                .hint(format!(
                    "the environments here are: {}",
                    repo::environments(&r.dir).join(", ")
                )));
            }
        }
        Ok(Workspace {
            root,
            config,
            config_text: Some(text.to_string()),
        })
    }

    /// The write that records `pins` in `sealstrap.yaml` (made when there is none), every other
    /// byte of the file kept; `None` when they are what the file holds, or outside a repository.
    pub fn pins_write(&self, pins: &sealstrap::pins::Pins) -> Option<sealstrap::plan::Write> {
        let root = self.root.as_ref()?;
        if *pins == self.config.pins {
            return None;
        }
        let text =
            sealstrap::pins::replace_section(self.config_text.as_deref().unwrap_or(""), pins);
        Some(sealstrap::plan::Write::new(
            root.dir.join(repo_config::FILE),
            text,
        ))
    }

    /// The contract of environment `env` (the fork's keys limited to other environments left
    /// out).
    pub fn contract(&self, env: Option<&str>) -> Contract {
        self.config.contract(env)
    }
}
