//! The ESO wiring and the sealed contract entries as typed values, rendered deterministically
//! (sorted keys, fixed document order) so that a re-run produces no diff. Pure.

use crate::rsa::PublicKey;
use rand::CryptoRng;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::defaults;
use crate::objects::{self, Items, SecretDoc, Target};
use crate::seal::{self, Scope};
use crate::yaml;

/// Annotation recording the fingerprint of the certificate a file was sealed for.
pub const FINGERPRINT_ANNOTATION: &str = "sealstrap.dev/cert-fingerprint";

/// The certificate fingerprint a SealedSecret says it was sealed for (its
/// [`FINGERPRINT_ANNOTATION`]; `None` for one kubeseal made). The one reader of that annotation.
pub fn sealed_fingerprint(doc: &serde_json::Value) -> Option<&str> {
    doc.pointer("/metadata/annotations")?
        .get(FINGERPRINT_ANNOTATION)?
        .as_str()
}
/// Annotation recording whether the value was generated or provided.
pub const ORIGIN_ANNOTATION: &str = "sealstrap.dev/origin";
/// The data key every source Secret holds its value under (`remoteRef.property`).
pub const VALUE_KEY: &str = crate::defaults::PROPERTY;

pub const NAMESPACE_FILE: &str = "namespace.yaml";
pub const RBAC_FILE: &str = "rbac.yaml";
pub const STORE_FILE: &str = "cluster-secret-store.yaml";
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";
pub const SEALED_DIR: &str = "sealed";

/// Names and addresses of the ESO wiring; every field is a flag of `seal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// Namespace holding the source Secrets.
    pub source_namespace: String,
    /// The ClusterSecretStore every ExternalSecret references.
    pub store_name: String,
    /// Namespace ESO runs in (and where its reader ServiceAccount lives).
    pub eso_namespace: String,
    /// ServiceAccount ESO authenticates as to read the source namespace; also the Role's name.
    pub reader: String,
    /// API server URL, as seen from ESO.
    pub server_url: String,
    /// ConfigMap (in `eso_namespace`) with the API server's CA.
    pub ca_configmap: String,
    /// Key of the CA in that ConfigMap.
    pub ca_key: String,
}

impl Default for Wiring {
    fn default() -> Self {
        Wiring {
            source_namespace: defaults::SOURCE_NAMESPACE.into(),
            store_name: defaults::STORE_NAME.into(),
            eso_namespace: defaults::ESO_NAMESPACE.into(),
            reader: defaults::READER.into(),
            server_url: defaults::SERVER_URL.into(),
            ca_configmap: defaults::CA_CONFIGMAP.into(),
            ca_key: defaults::CA_KEY.into(),
        }
    }
}

/// Whether a value was made by sealstrap or given by the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Generated,
    Provided,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Generated => "generated",
            Origin::Provided => "provided",
        }
    }
}

/// The source namespace.
pub fn namespace(w: &Wiring) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": w.source_namespace,
            "labels": {"app.kubernetes.io/managed-by": "sealstrap"}
        }
    })
}

/// ServiceAccount for ESO's reader, and a Role + RoleBinding that let it read the source
/// namespace (ESO docs `provider/kubernetes.md`; docs/format.md §5).
pub fn rbac(w: &Wiring) -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": w.reader, "namespace": w.eso_namespace}
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": w.reader, "namespace": w.source_namespace},
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"], "verbs": ["create"]}
            ]
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": w.reader, "namespace": w.source_namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": w.reader},
            "subjects": [{"kind": "ServiceAccount", "name": w.reader, "namespace": w.eso_namespace}]
        }),
    ]
}

/// The Kubernetes-provider ClusterSecretStore, with the fields the seed document's example
/// forgets: `caProvider.namespace` (required on a ClusterSecretStore) and the reader's
/// namespace (else ESO looks it up in each ExternalSecret's namespace).
pub fn cluster_secret_store(w: &Wiring) -> Value {
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": w.store_name},
        "spec": {
            "provider": {
                "kubernetes": {
                    "remoteNamespace": w.source_namespace,
                    "server": {
                        "url": w.server_url,
                        "caProvider": {
                            "type": "ConfigMap",
                            "name": w.ca_configmap,
                            "key": w.ca_key,
                            "namespace": w.eso_namespace
                        }
                    },
                    "auth": {
                        "serviceAccount": {"name": w.reader, "namespace": w.eso_namespace}
                    }
                }
            }
        }
    })
}

/// A kustomization listing `resources` (sorted).
pub fn kustomization(resources: &[String]) -> Value {
    let mut r = resources.to_vec();
    r.sort();
    r.dedup();
    json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": r
    })
}

/// Renders documents as one YAML stream.
pub fn render(docs: &[Value]) -> String {
    yaml::Format::Yaml.render(docs)
}

/// The relative path of a sealed contract entry.
pub fn sealed_path(key: &str) -> String {
    format!("{SEALED_DIR}/{key}.yaml")
}

/// The folder of break-glass copies in an output folder: every value sealed again for an
/// offline recovery certificate; not in the kustomization, so never applied.
pub const BREAK_GLASS_DIR: &str = "break-glass";

/// Where an entry's break-glass copy goes, relative to the output folder.
pub fn break_glass_path(key: &str) -> String {
    format!("{BREAK_GLASS_DIR}/{key}.yaml")
}

/// The wiring files of an output folder, by name, whether or not this layout writes each
/// (the store file is not written in the platform).
pub const WIRING_FILES: [&str; 4] = [NAMESPACE_FILE, RBAC_FILE, STORE_FILE, KUSTOMIZATION_FILE];

/// Whether a kustomization resource is one sealstrap writes (and so rewrites each run); any
/// other resource is the user's and is kept.
pub fn is_managed_resource(r: &str) -> bool {
    matches!(r, NAMESPACE_FILE | RBAC_FILE | STORE_FILE)
        || r.strip_prefix(SEALED_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|f| !f.contains('/') && f.ends_with(".yaml"))
}

/// The resources of an existing kustomization that the user added (not sealstrap's own), in
/// their order. A file that does not parse gives none.
pub fn user_resources(kustomization_text: &str) -> Vec<String> {
    let Ok(docs) = yaml::parse_documents(kustomization_text) else {
        return Vec::new();
    };
    docs.first()
        .and_then(|d| d.get("resources"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|r| !is_managed_resource(r))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The wiring files (everything but the sealed entries), as (relative path, contents). In the
/// platform the store lives at its swap point, so `with_store` is false; `user_resources` stay
/// in the kustomization.
pub fn wiring_files(
    w: &Wiring,
    sealed_files: &[String],
    with_store: bool,
    user_resources: &[String],
) -> Vec<(String, String)> {
    let mut resources = vec![NAMESPACE_FILE.to_string(), RBAC_FILE.to_string()];
    if with_store {
        resources.push(STORE_FILE.to_string());
    }
    resources.extend(sealed_files.iter().cloned());
    resources.extend(user_resources.iter().cloned());
    let mut files = vec![
        (NAMESPACE_FILE.to_string(), render(&[namespace(w)])),
        (RBAC_FILE.to_string(), render(&rbac(w))),
    ];
    if with_store {
        files.push((STORE_FILE.into(), render(&[cluster_secret_store(w)])));
    }
    files.push((
        KUSTOMIZATION_FILE.into(),
        render(&[kustomization(&resources)]),
    ));
    files
}

/// Seals one contract value as SealedSecret `<key>` in the source namespace, strict scope, one
/// data key `value`, annotated with the certificate fingerprint and the value's origin.
pub fn sealed_entry<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    fingerprint: &str,
    w: &Wiring,
    backend_key: &str,
    value: &Zeroizing<String>,
    origin: Origin,
) -> Result<String, seal::SealError> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(backend_key.into()));
    metadata.insert(
        "namespace".into(),
        Value::String(w.source_namespace.clone()),
    );
    let mut items = Items::new();
    items.insert(VALUE_KEY.into(), Zeroizing::new(value.as_bytes().to_vec()));
    let secret = SecretDoc {
        metadata,
        type_: Some("Opaque".into()),
        immutable: None,
        items,
    };
    let target = Target {
        name: backend_key.into(),
        namespace: Some(w.source_namespace.clone()),
        scope: Scope::Strict,
    };
    let mut doc = objects::sealed_secret(rng, key, &secret, &target)?;
    doc["metadata"]["annotations"] = json!({
        FINGERPRINT_ANNOTATION: fingerprint,
        ORIGIN_ANNOTATION: origin.as_str(),
    });
    Ok(render(&[doc]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_has_every_field_eso_needs() {
        let s = cluster_secret_store(&Wiring::default());
        let k = &s["spec"]["provider"]["kubernetes"];
        assert_eq!(k["remoteNamespace"], "secret-source");
        assert_eq!(k["server"]["caProvider"]["namespace"], "external-secrets");
        assert_eq!(k["auth"]["serviceAccount"]["namespace"], "external-secrets");
    }

    #[test]
    fn kustomization_is_sorted_and_deduplicated() {
        let k = kustomization(&["b.yaml".into(), "a.yaml".into(), "b.yaml".into()]);
        assert_eq!(k["resources"], json!(["a.yaml", "b.yaml"]));
    }

    #[test]
    fn rendering_is_deterministic() {
        let w = Wiring::default();
        assert_eq!(
            wiring_files(&w, &[], true, &[]),
            wiring_files(&w, &[], true, &[])
        );
        let text = render(&rbac(&w));
        assert_eq!(text.matches("---\n").count(), 3);
    }
}
