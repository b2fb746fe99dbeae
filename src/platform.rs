//! The platform repository sealstrap serves (its layout: docs/format.md §10): where its store
//! swap point is, what state that file is in, the store sealstrap writes there, and the Argo CD
//! wiring for the sealed-secrets controller. Pure: text in, text out; the command layer reads
//! and writes the files.
//!
//! The platform's resolver (`make resolve-secret-store`) rewrites
//! `platform/external-secrets/config/clustersecretstore.yaml` for the `gcpsm` backend, writes a
//! placeholder (`provider: {}` and the comment `# <- replace with your provider; ...`) for any
//! other backend, and leaves the file alone once it holds neither that placeholder text nor a
//! `gcpsm:` provider. sealstrap's store file therefore contains neither, and says so in a comment.

use serde_json::Value;

use crate::manifests::{self, Wiring};
use crate::yaml;

/// The store swap point, relative to the platform root.
pub const STORE_PATH: &str = "platform/external-secrets/config/clustersecretstore.yaml";
/// The text of the resolver's placeholder that makes it rewrite the file.
const PLACEHOLDER_MARK: &str = "replace with your provider";
/// The provider key that makes the resolver rewrite the file.
const GCPSM_MARK: &str = "gcpsm:";

/// What the platform's store file holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreState {
    /// The resolver's placeholder (`provider: {}`, "replace with your provider").
    Placeholder,
    /// The resolver's Google Secret Manager store.
    Gcpsm,
    /// A Kubernetes-provider store: exactly what sealstrap writes (`true`), or different.
    Kubernetes { current: bool },
    /// A hand-written store of another provider (its name), or a file that does not parse.
    Other(String),
}

impl StoreState {
    /// Whether `seal` may replace the file without `--force`.
    pub fn replaceable(&self) -> bool {
        !matches!(self, StoreState::Other(_))
    }

    pub fn describe(&self) -> String {
        match self {
            StoreState::Placeholder => "the resolver's placeholder (provider: {})".into(),
            StoreState::Gcpsm => "the resolver's Google Secret Manager (gcpsm) store".into(),
            StoreState::Kubernetes { current: true } => {
                "the Kubernetes-provider store sealstrap writes".into()
            }
            StoreState::Kubernetes { current: false } => {
                "a Kubernetes-provider store with other settings".into()
            }
            StoreState::Other(p) => format!("a hand-written store ({p})"),
        }
    }
}

/// Classifies the store file's text for the store `w.store_name`.
pub fn store_state(text: &str, w: &Wiring) -> StoreState {
    if text.contains(PLACEHOLDER_MARK) {
        return StoreState::Placeholder;
    }
    let Ok(docs) = yaml::parse_documents(text) else {
        return StoreState::Other("a file that is not valid YAML".into());
    };
    let store = docs.iter().find(|d| {
        d.get("kind").and_then(Value::as_str) == Some("ClusterSecretStore")
            && d.pointer("/metadata/name").and_then(Value::as_str) == Some(w.store_name.as_str())
    });
    let Some(store) = store else {
        return StoreState::Other(format!("no ClusterSecretStore named {}", w.store_name));
    };
    let provider = store
        .pointer("/spec/provider")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next().cloned());
    match provider.as_deref() {
        Some("gcpsm") => StoreState::Gcpsm,
        None if text.contains(GCPSM_MARK) => StoreState::Gcpsm,
        Some("kubernetes") => StoreState::Kubernetes {
            current: docs.len() == 1 && *store == manifests::cluster_secret_store(w),
        },
        Some(other) => StoreState::Other(format!("provider {other}")),
        None => StoreState::Placeholder,
    }
}

/// The store file sealstrap writes at the swap point: the Kubernetes-provider store, with a
/// comment that says why the resolver leaves it alone.
pub fn store_file(w: &Wiring) -> String {
    let mut out = String::from(
        "# The platform's ClusterSecretStore, written by `sealstrap seal`: ESO's Kubernetes provider\n\
         # reads the Secrets that the sealed-secrets controller unseals in the source namespace.\n\
         # `make resolve-secret-store` leaves this file alone: it rewrites only its own placeholder\n\
         # or a Google Secret Manager store. To go back to one, delete this file and run it again.\n",
    );
    out.push_str(&manifests::render(&[manifests::cluster_secret_store(w)]));
    debug_assert!(!out.contains(PLACEHOLDER_MARK) && !out.contains(GCPSM_MARK));
    out
}

/// The `secret_backend` advice for the environment config, when it does not say `kubernetes`.
pub fn backend_advice(config_path: &str, backend: Option<&str>) -> Option<String> {
    match backend {
        Some("kubernetes") => None,
        Some(other) => Some(format!(
            "{config_path} has secret_backend: {other}; set `secret_backend: kubernetes` so the platform's seeding and resolver stop expecting {other}"
        )),
        None => Some(format!(
            "{config_path} has no secret_backend, which the platform reads as gcpsm; add `secret_backend: kubernetes`"
        )),
    }
}

/// Other ClusterSecretStores with the store's name in a file's text (any file but the swap
/// point): each would fight the platform's store in the cluster.
pub fn stores_named(text: &str, name: &str) -> usize {
    let Ok(docs) = yaml::parse_documents(text) else {
        return 0;
    };
    docs.iter()
        .filter(|d| {
            d.get("kind").and_then(Value::as_str) == Some("ClusterSecretStore")
                && d.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACEHOLDER: &str = "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata:\n  name: secret-store\nspec:\n  provider: {}   # <- replace with your provider; see https://external-secrets.io/latest/provider/\n";

    #[test]
    fn the_resolvers_files_are_replaceable_and_a_hand_written_one_is_not() {
        let w = Wiring::default();
        assert_eq!(store_state(PLACEHOLDER, &w), StoreState::Placeholder);
        let gcpsm = "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata: {name: secret-store}\nspec:\n  provider:\n    gcpsm:\n      projectID: p\n";
        assert_eq!(store_state(gcpsm, &w), StoreState::Gcpsm);
        let vault = gcpsm.replace(
            "gcpsm:\n      projectID: p",
            "vault:\n      server: https://v",
        );
        assert_eq!(
            store_state(&vault, &w),
            StoreState::Other("provider vault".into())
        );
        assert!(!store_state(&vault, &w).replaceable());
        assert!(!store_state("a: [", &w).replaceable());
        let ours = store_file(&w);
        assert_eq!(
            store_state(&ours, &w),
            StoreState::Kubernetes { current: true }
        );
        let other_ns = store_file(&Wiring {
            source_namespace: "elsewhere".into(),
            ..Wiring::default()
        });
        assert_eq!(
            store_state(&other_ns, &w),
            StoreState::Kubernetes { current: false }
        );
    }

    #[test]
    fn the_written_store_is_one_the_resolver_leaves_alone() {
        let text = store_file(&Wiring::default());
        assert!(!text.contains("replace with your provider") && !text.contains("gcpsm:"));
        assert_eq!(stores_named(&text, "secret-store"), 1);
        assert_eq!(stores_named(&text, "other"), 0);
    }

    #[test]
    fn backend_advice_names_the_line_to_set() {
        assert!(backend_advice("c.yaml", Some("kubernetes")).is_none());
        assert!(
            backend_advice("c.yaml", None)
                .unwrap()
                .contains("secret_backend: kubernetes")
        );
        assert!(
            backend_advice("c.yaml", Some("gcpsm"))
                .unwrap()
                .contains("gcpsm")
        );
    }
}
