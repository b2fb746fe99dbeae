//! sealstrap: offline secret bring-up for bare-metal Kubernetes.
//!
//! The library is a pure core plus two I/O edges. Every module:
//!
//! | module | owns | I/O |
//! |---|---|---|
//! | [`seal`] | the sealed value format: seal/unseal one value, scopes and labels | none |
//! | [`der`] | DER: the one encoder and decoder (certificates, RSA and SSH keys) | none |
//! | [`digest`] | SHA-256 and SHA-512 from AWS-LC, the one hash provider | none |
//! | [`rsa`] | RSA-OAEP, key parsing and generation on aws-lc-rs | none |
//! | [`cert`] | controller certificates: parse, check, fingerprint | none (`now` passed in) |
//! | [`keys`] | private key files in every form kubeseal takes | none |
//! | [`controller_key`] | the controller's key pairs: certificate template, key Secrets, key List | none |
//! | [`escrow`] | the age-encrypted key escrow, in memory | none |
//! | [`export`] | the escrowed keys in each bootstrap's first-boot format (Talos, k3s, k0s, cloud-init, CAPI) | none |
//! | [`key_usage`] | which escrowed key opens each sealed value; what retiring a key would break | none |
//! | [`ssh`] | age's ssh-ed25519 and ssh-rsa recipients, OpenSSH private keys | none |
//! | [`objects`], [`yaml`] | Kubernetes objects and their deterministic YAML/JSON | none |
//! | [`yaml_text`] | manifest text: lines, document ranges, content lines | none |
//! | [`style`] | writing a manifest the way its neighbours are written | none |
//! | [`kubeseal`] | kubeseal's operations on Secret streams | none |
//! | [`contract`], [`config`], [`generate`] | the secret contract, environment configs, value generators | none |
//! | [`pins`] | the certificates and escrow recipients a reviewer approved (`pins:` of `sealstrap.yaml`) | none |
//! | [`repo_config`] | `sealstrap.yaml` read whole and checked like code: extras, exclusions, the fleet | none |
//! | [`fleet`] | the fleet file: environments, shared values, the break-glass certificate | none |
//! | [`bootstrap`], [`manifests`] | the values a run makes and seals, and the ESO wiring it renders | none |
//! | [`plan`] | every write of a writing run (seal, rotate, set, unset), or why it refuses | none |
//! | [`patch`], [`reseal`], [`verify`], [`doctor`], [`diff`] | the pure halves of those commands | none |
//! | [`scan`] | scan's checks: credential rules from documented token formats, entropy, baseline fingerprints, SARIF | none (readers passed in) |
//! | [`reads`] | what a tree reads from the store (the result of the workspace's walk) | none |
//! | [`platform`] | the platform repository: its store swap point and Argo CD wiring | none |
//! | [`flux`] | the Flux wiring: controller HelmRelease, store, ordered Kustomizations | none |
//! | [`deployed`] | what an environment's Argo CD Applications and ApplicationSets deploy | none (a [`deployed::Tree`] is passed in) |
//! | [`defaults`] | every default name (namespaces, store, property, controller) | none |
//! | [`gitignore`] | lossless `.gitignore` rules | none |
//! | [`allow`] | exclusions with reasons (`sealstrap.yaml`, `--exclude`) | none |
//! | [`timefmt`] | dates for messages and certificates | none |
//! | [`par`] | independent work on every core, results in input order, a bounded window | none (threads) |
//! | [`output`] | atomic writes, temporary names, the folder lock | files |
//! | [`journal`] | multi-file transactions, their journal, crash recovery | files |
//! | [`cluster`] | every request to the API server (the kube client behind the `cluster` feature) | network |
//!
//! Only the binary (`src/commands/`) reads flags, the environment, the clock and input files.
#![forbid(unsafe_code)]

pub mod allow;
pub mod bootstrap;
pub mod cert;
pub mod cluster;
pub mod config;
pub mod contract;
pub mod controller_key;
pub mod defaults;
pub mod deployed;
pub mod der;
pub mod diff;
pub mod digest;
pub mod doctor;
pub mod escrow;
pub mod export;
pub mod fleet;
pub mod flux;
pub mod generate;
pub mod gitignore;
pub mod journal;
pub mod key_usage;
pub mod keys;
pub mod kubeseal;
pub mod manifests;
pub mod mirror;
pub mod objects;
pub mod output;
pub mod par;
pub mod patch;
pub mod pins;
pub mod plan;
pub mod platform;
pub mod reads;
pub mod repo_config;
pub mod reseal;
pub mod rsa;
pub mod scan;
pub mod seal;
pub mod ssh;
pub mod style;
pub mod timefmt;
pub mod verify;
pub mod yaml;
pub mod yaml_text;
