//! What a command works on, resolved once from its flags: the current folder, the repository and
//! its layout, `sealstrap.yaml`, the contract, keys and certificates, the cluster connection.
//! Imports `cli` (the flags) and the library; `commands` builds on it, never the other way.
//!
//! | module | owns |
//! |---|---|
//! | [`error`] | [`Failure`](error::Failure): the binary's one error type, with hints and exit codes |
//! | [`files`] | reading inputs (size caps, regular files only, `-` for stdin), stdout, atomic output, the repository lock |
//! | [`repo`] | the repository root, whether it is the platform, its environments and their layout, `sealstrap.yaml` |
//! | [`walk`] | walking the tree: each walker and its policy |
//! | [`git`] | the one place git is run |
//! | [`reads`] | what the tree's ExternalSecrets and Helm values read from the store, and what an environment deploys |
//! | [`keys`] | certificates, private keys and the escrow, loaded and checked |
//! | [`cluster`] | the connection to the API server |

pub mod cluster;
pub mod error;
pub mod files;
pub mod git;
pub mod keys;
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
