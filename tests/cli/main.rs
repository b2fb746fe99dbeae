//! sealstrap's integration tests, one crate (so `common` is compiled once): each module runs
//! the real binary (or the library) on temporary folders, the platform fixture and the
//! reference vectors, as a user would. `cargo test` runs them with nothing but a Rust toolchain.
//!
//! | module | what it shows |
//! |---|---|
//! | `seal`, `platform`, `fleet`, `bringup_snapshot` | the bring-up: one folder, the platform, a fleet; the recorded tree |
//! | `review`, `reseal_verify`, `expiry` | day 2: diff, set/unset, rotation, reseal, verify, certificate expiry |
//! | `key`, `first_boot`, `cluster` | the controller key's custody and first boot on bare metal; the cluster commands against the stand-in API server |
//! | `kubeseal`, `unseal`, `vectors`, `roundtrip`, `schemas` | the format: kubeseal's drop-in, the reference vectors, round trips, strict schemas |
//! | `scan`, `patch` | the guards |
//! | `crash`, `hostile`, `regression` | crash safety, hostile input, one test per fixed bug |
//! | `misc` | the command line itself |
//! | `parallel` | reseal, verify and key usage on every core: output in order, one write |
//! | `entropy` | how AWS-LC is built: seeded from the OS, no CPU-jitter collector |

mod common;

mod airgap;
mod bringup_snapshot;
mod cluster;
mod crash;
mod day2;
mod entropy;
mod expiry;
mod first_boot;
mod fleet;
mod hostile;
mod key;
mod kubeseal;
mod misc;
mod parallel;
mod patch;
mod platform;
mod regression;
mod reseal_verify;
mod review;
mod roundtrip;
mod scan;
mod scan_corpus;
mod scan_git;
mod schemas;
mod seal;
mod unseal;
mod vectors;
