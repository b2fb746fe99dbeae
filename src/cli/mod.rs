//! The command line, as data: clap derive structs and their value parsers, nothing else, so
//! completions and a man page can be generated from them. This layer imports nothing else of the
//! binary: `workspace` resolves what the flags mean (paths, the repository, `sealstrap.yaml`),
//! `commands` runs them.
//!
//! | module | flags of |
//! |---|---|
//! | [`seal`] | `seal`, `rotate`, `reset-dex-admin`, `set`, `unset` and their shared groups |
//! | [`key`] | `key new/install/backup/list` |
//! | [`review`] | `diff`, `verify`, `reseal`, `unseal` |
//! | [`guard`] | `scan`, `patch-externalsecrets`, `contract` |
//! | [`cluster`] | `cert fetch`, `apply`, `doctor` and the connection options |
//! | [`kubeseal`] | the kubeseal drop-in |
//! | [`common`] | option groups several families share |

mod cluster;
mod common;
mod guard;
mod key;
mod kubeseal;
mod review;
mod seal;

pub use cluster::*;
pub use common::*;
pub use guard::*;
pub use key::*;
pub use kubeseal::*;
pub use review::*;
pub use seal::*;

use clap::{Parser, Subcommand};

/// `0.1.0 (git 1a2b3c4d5e6f)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("SEALSTRAP_GIT_REV"),
    ")"
);

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error: bad input, a value that cannot be sealed or unsealed, a check that failed
  2  usage error: unknown flag or name, missing argument
  3  seal --require-complete: a value the operator must provide is still missing";

/// Offline secret bring-up for bare-metal Kubernetes: seal values with the sealed-secrets
/// controller's certificate (byte-compatible with kubeseal) and read them back.
// No Debug on the command line types that can carry a credential (kubeseal's --token).
#[derive(Parser)]
#[command(name = "sealstrap", version = VERSION, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Bootstrap the whole secret contract into a folder: generate, seal, write the ESO wiring.
    Seal(SealArgs),
    /// Make new values for some keys (or re-read provided ones) and reseal just those.
    Rotate(RotateArgs),
    /// Make a new Dex admin password and hash together and rewrite the local copy.
    #[command(name = "reset-dex-admin")]
    ResetDexAdmin(ResetDexAdminArgs),
    /// Print the secret contract: backend keys, consumers, when needed, format.
    Contract(ContractArgs),
    /// Re-encrypt SealedSecrets for a new certificate with the old private key, offline.
    Reseal(ResealArgs),
    /// Decrypt every sealed value in memory and check it against the contract's rules.
    Verify(VerifyArgs),
    /// Key-level differences of sealed files between revisions; git's textconv driver.
    Diff(DiffArgs),
    /// Seal one value of the contract (or of sealstrap.yaml's extra:) from the environment, a
    /// file or a prompt, replacing the one there.
    Set(SetArgs),
    /// Remove one sealed value (and its kustomization entry).
    Unset(UnsetArgs),
    /// Server-side apply the output folder to the cluster, in dependency order.
    Apply(ApplyArgs),
    /// Walk the chain controller -> SealedSecrets -> Secrets -> RBAC -> store -> ExternalSecrets.
    Doctor(DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  source <(sealstrap completions bash)\n  sealstrap completions zsh > ~/.zfunc/_sealstrap\n  sealstrap completions fish > ~/.config/fish/completions/sealstrap.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `sealstrap man > sealstrap.1 && man -l sealstrap.1`.
    Man,
    /// Look for secrets in plain text and stale sealed files (pre-commit and CI guard).
    Scan(ScanArgs),
    /// Print the chart and image an air-gapped site mirrors before its bring-up, and how.
    #[command(name = "mirror-list")]
    MirrorList(MirrorListArgs),
    /// Add `property: value` to the remoteRefs of ExternalSecrets that read the store.
    #[command(name = "patch-externalsecrets")]
    PatchExternalSecrets(PatchArgs),
    /// Inspect controller certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The controller's key pair: make it offline, escrow it with age, install and back it up.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Unseal SealedSecrets with the controller's private key (offline recovery).
    Unseal(UnsealArgs),
    /// Drop-in for the kubeseal command line (also active when called as `kubeseal`).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Kubeseal(KubesealPassthrough),
}
