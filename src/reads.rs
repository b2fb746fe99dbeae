//! What a tree reads from the store: for each backend key, the ExternalSecrets and Helm values
//! that read it (with file and line), the ones only switched-off features read, Helm values
//! without a property, other stores of the same name and documents that do not parse. The
//! result type of the workspace's walk (`src/workspace/reads.rs`), used by the plan, verify and
//! doctor. Pure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What the tree reads from the store.
#[derive(Debug, Default)]
pub struct Reads {
    /// Backend key -> where it is read (`FILE:LINE (ExternalSecret NS/NAME)`).
    pub by_key: BTreeMap<String, Vec<String>>,
    /// Backend key -> the ExternalSecrets (`NS/NAME`) that read it, for force-syncs.
    pub readers: BTreeMap<String, BTreeSet<String>>,
    /// Helm values that name the store without a property: (where, key, values path).
    pub helm_without_property: Vec<(String, String, String)>,
    /// Files holding a ClusterSecretStore named like the store (other than the swap point).
    pub other_stores: Vec<PathBuf>,
    /// Documents that name the store but do not parse (`FILE:LINE: why`): what they read is
    /// not known. The other documents of their files are read.
    pub broken: Vec<String>,
    /// Backend key -> where files of switched-off features read it, and why they are off
    /// (only keys no deployed file reads).
    pub off: BTreeMap<String, Vec<String>>,
}

impl Reads {
    /// Every ExternalSecret (`NS/NAME`) of the tree that reads the store.
    pub fn external_secrets(&self) -> BTreeSet<String> {
        self.readers.values().flatten().cloned().collect()
    }
}

/// The concrete fix for a Helm-rendered ExternalSecret that reads the store without property.
pub fn helm_fix(at: &str, key: &str, path: &str, property: &str) -> String {
    format!(
        "{at}: Helm values {path} read {key} from the store without a property, so the chart's ExternalSecret gets the whole source Secret as JSON ({{\"{property}\":\"...\"}}) instead of the value; no edit of an ExternalSecret file reaches it. Fix: set the chart's property value next to remoteKey if the chart has one (remoteProperty: {property}), or render the chart through kustomize (helmCharts) and patch remoteRef.property: {property} into it"
    )
}
