//! sealstrap: offline secret bring-up for bare-metal Kubernetes.
//!
//! The library holds everything that does not touch the outside world: the sealed-secrets
//! format ([`seal`]), certificates ([`cert`]), private keys ([`keys`]), Kubernetes objects and
//! their deterministic rendering ([`objects`], [`yaml`]) and the `kubeseal` operations built on
//! them ([`kubeseal`]). Only [`output`] writes files, and only the binary reads flags, the
//! environment and the clock.
#![forbid(unsafe_code)]

pub mod bootstrap;
pub mod cert;
pub mod cluster;
pub mod config;
pub mod contract;
pub mod controller_key;
pub mod doctor;
pub mod escrow;
pub mod generate;
pub mod keys;
pub mod kubeseal;
pub mod manifests;
pub mod objects;
pub mod output;
pub mod patch;
pub mod reseal;
pub mod rsa;
pub mod scan;
pub mod seal;
pub mod timefmt;
pub mod verify;
pub mod yaml;
