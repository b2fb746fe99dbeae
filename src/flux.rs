//! The Flux wiring `seal --gitops flux` writes (Flux v2: source.toolkit.fluxcd.io/v1,
//! helm.toolkit.fluxcd.io/v2, kustomize.toolkit.fluxcd.io/v1): the sealed-secrets controller
//! as a HelmRepository and HelmRelease (the same pinned chart and values as the Argo CD wiring),
//! the store in a folder of its own, and three Flux Kustomizations that apply them in order:
//! the controller, then the sealed folder (`dependsOn` the controller; healthy when every
//! SealedSecret is `Synced`), then the store (`dependsOn` the sealed folder; healthy when it is
//! `Ready`). Health of custom resources is a CEL expression (`healthCheckExprs`, Flux 2.5,
//! fluxcd.io/flux/components/kustomize/kustomizations/#health-check-expressions). Pure.
//!
//! ```text
//! flux/
//!   kustomization.yaml        kustomize config: sealstrap.yaml (add `flux/` to the cluster's
//!   sealstrap.yaml            folder Flux reconciles)   the three Flux Kustomizations
//!   sealed-secrets/           HelmRepository, HelmRelease, kustomization.yaml
//!   store/                    the ClusterSecretStore, kustomization.yaml
//! ```

use serde_json::{Value, json};

use crate::manifests::{self, Wiring};

/// The folders under the Flux folder.
pub const CONTROLLER_DIR: &str = "sealed-secrets";
pub const STORE_DIR: &str = "store";
/// The file with the three Flux Kustomizations.
pub const KUSTOMIZATIONS_FILE: &str = "sealstrap.yaml";
/// Where Flux's own objects live, and the GitRepository it syncs this repository from.
pub const FLUX_NAMESPACE: &str = "flux-system";
pub const GIT_REPOSITORY: &str = "flux-system";

/// CEL health of a SealedSecret (its controller's `Synced` condition) and of the store (ESO's
/// `Ready`), guarded with `has()` so a resource without status yet is in progress, not an error.
fn condition_expr(kind: &str, api: &str, condition: &str) -> Value {
    json!({
        "apiVersion": api,
        "kind": kind,
        "current": format!("has(status.conditions) && status.conditions.exists(c, c.type == '{condition}' && c.status == 'True')"),
        "failed": format!("has(status.conditions) && status.conditions.exists(c, c.type == '{condition}' && c.status == 'False')"),
    })
}

fn flux_kustomization(name: &str, path: &str, depends_on: &[Value], health: Vec<Value>) -> Value {
    let mut spec = json!({
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": "5m",
        "path": path,
        "prune": true,
        "wait": true,
        "sourceRef": {"kind": "GitRepository", "name": GIT_REPOSITORY, "namespace": FLUX_NAMESPACE},
    });
    if !depends_on.is_empty() {
        spec["dependsOn"] = Value::from(depends_on.to_vec());
    }
    if !health.is_empty() {
        spec["healthCheckExprs"] = Value::Array(health);
    }
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE},
        "spec": spec,
    })
}

/// Every file of the Flux folder: (path relative to it, text). `controller_namespace` and
/// `controller_name` as for Argo CD; `out` and `flux_dir` are relative to the repository root
/// (Flux paths are).
/// A Flux Kustomization another one waits for: (name, namespace).
pub type Dependency = (String, String);

pub fn files(
    w: &Wiring,
    controller_namespace: &str,
    controller_name: &str,
    mirror: &crate::mirror::Mirror,
    out: &str,
    flux_dir: &str,
    eso: Option<&Dependency>,
) -> Vec<(String, String)> {
    use crate::defaults::CONTROLLER_CHART;
    // An OCI registry is `type: oci` (without it Flux reads the URL as an HTTP index).
    let (url, kind) = mirror.flux_repo();
    let mut repo_spec = json!({"interval": "1h", "url": url});
    if let Some(k) = kind {
        repo_spec["type"] = Value::from(k);
    }
    let repo = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": CONTROLLER_CHART, "namespace": FLUX_NAMESPACE},
        "spec": repo_spec,
    });
    let mut values = json!({"fullnameOverride": controller_name, "keyrenewperiod": "0"});
    if mirror.image_given {
        values["image"] = mirror.image.values();
    }
    let release = json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": CONTROLLER_CHART, "namespace": FLUX_NAMESPACE},
        "spec": {
            "interval": "1h",
            "releaseName": controller_name,
            "targetNamespace": controller_namespace,
            "chart": {"spec": {
                "chart": CONTROLLER_CHART,
                "version": mirror.version,
                "sourceRef": {"kind": "HelmRepository", "name": CONTROLLER_CHART, "namespace": FLUX_NAMESPACE},
            }},
            "install": {"crds": "Create", "remediation": {"retries": 3}},
            "upgrade": {"crds": "CreateReplace", "remediation": {"retries": 3}},
            "values": values,
        },
    });
    // The store waits for the sealed values, and for the External Secrets Operator (its CRD)
    // when the repository installs it with a Flux Kustomization.
    let mut store_deps = vec![json!({"name": "secret-source"})];
    if let Some((name, namespace)) = eso {
        store_deps.push(if namespace == FLUX_NAMESPACE {
            json!({"name": name})
        } else {
            json!({"name": name, "namespace": namespace})
        });
    }
    let flux_path = |sub: &str| format!("./{}", [flux_dir, sub].join("/").trim_start_matches("./"));
    let kustomizations = [
        flux_kustomization(
            "sealed-secrets",
            &flux_path(CONTROLLER_DIR),
            &[],
            Vec::new(),
        ),
        flux_kustomization(
            "secret-source",
            &format!("./{}", out.trim_start_matches("./")),
            &[json!({"name": "sealed-secrets"})],
            vec![condition_expr(
                "SealedSecret",
                "bitnami.com/v1alpha1",
                "Synced",
            )],
        ),
        flux_kustomization(
            "secret-store",
            &flux_path(STORE_DIR),
            &store_deps,
            vec![condition_expr(
                "ClusterSecretStore",
                "external-secrets.io/v1",
                "Ready",
            )],
        ),
    ];
    let kustomize = |resources: &[&str]| {
        json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        })
    };
    let header = "# Written by `sealstrap seal --gitops flux`: the sealed-secrets controller, the sealed\n\
                  # values and ESO's store, applied in this order by the Flux Kustomizations in\n\
                  # sealstrap.yaml. Install the controller's key before the first reconcile:\n\
                  # `sealstrap key install`.\n";
    vec![
        (
            "kustomization.yaml".into(),
            manifests::render(&[kustomize(&[KUSTOMIZATIONS_FILE])]),
        ),
        (
            KUSTOMIZATIONS_FILE.into(),
            format!("{header}{}", manifests::render(&kustomizations)),
        ),
        (
            format!("{CONTROLLER_DIR}/controller.yaml"),
            manifests::render(&[repo, release]),
        ),
        (
            format!("{CONTROLLER_DIR}/kustomization.yaml"),
            manifests::render(&[kustomize(&["controller.yaml"])]),
        ),
        (
            format!("{STORE_DIR}/{}", manifests::STORE_FILE),
            manifests::render(&[manifests::cluster_secret_store(w)]),
        ),
        (
            format!("{STORE_DIR}/kustomization.yaml"),
            manifests::render(&[kustomize(&[manifests::STORE_FILE])]),
        ),
    ]
}

/// The Flux Kustomization that installs the External Secrets Operator, among the repository's
/// documents (`(file relative to the root, document)`): one named `external-secrets*`, else the
/// one whose `path` holds a HelmRelease of the `external-secrets` chart. `own` names the
/// Kustomizations sealstrap writes (never a dependency of themselves).
pub fn eso_dependency(docs: &[(String, Value)], own: &[&str]) -> Option<Dependency> {
    let s = |d: &Value, p: &str| d.pointer(p).and_then(Value::as_str).map(str::to_string);
    let is = |d: &Value, api: &str, kind: &str| {
        d.get("kind").and_then(Value::as_str) == Some(kind)
            && d.get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with(api))
    };
    let kustomizations: Vec<(String, String, String)> = docs
        .iter()
        .filter(|(_, d)| is(d, "kustomize.toolkit.fluxcd.io/", "Kustomization"))
        .filter_map(|(_, d)| {
            let name = s(d, "/metadata/name")?;
            let namespace = s(d, "/metadata/namespace").unwrap_or_else(|| FLUX_NAMESPACE.into());
            let path = s(d, "/spec/path").unwrap_or_default();
            Some((name, namespace, path))
        })
        .filter(|(n, ns, _)| !(ns == FLUX_NAMESPACE && own.contains(&n.as_str())))
        .collect();
    if let Some((n, ns, _)) = kustomizations
        .iter()
        .find(|(n, _, _)| n.starts_with("external-secrets"))
    {
        return Some((n.clone(), ns.clone()));
    }
    let release_dirs: Vec<&str> = docs
        .iter()
        .filter(|(_, d)| is(d, "helm.toolkit.fluxcd.io/", "HelmRelease"))
        .filter(|(_, d)| {
            s(d, "/spec/chart/spec/chart").as_deref() == Some("external-secrets")
                || s(d, "/metadata/name").as_deref() == Some("external-secrets")
        })
        .map(|(f, _)| f.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    let norm = |p: &str| p.trim_start_matches("./").trim_end_matches('/').to_string();
    // The deepest Kustomization path that holds the release.
    kustomizations
        .iter()
        .filter(|(_, _, path)| {
            let p = norm(path);
            release_dirs
                .iter()
                .any(|d| p.is_empty() || *d == p || d.starts_with(&format!("{p}/")))
        })
        .max_by_key(|(_, _, path)| norm(path).len())
        .map(|(n, ns, _)| (n.clone(), ns.clone()))
}

/// The names of the Flux Kustomizations sealstrap writes.
pub const OWN_KUSTOMIZATIONS: [&str; 3] = ["sealed-secrets", "secret-source", "secret-store"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_waits_for_the_kustomization_that_installs_eso() {
        let doc = |t: &str| crate::yaml::parse_documents(t).unwrap().remove(0);
        let ks = |name: &str, path: &str| {
            doc(&format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, namespace: flux-system}}\nspec: {{path: {path}}}\n"
            ))
        };
        let hr = doc(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: eso}\nspec: {chart: {spec: {chart: external-secrets}}}\n",
        );
        let docs = vec![
            (
                "clusters/a/infra.yaml".to_string(),
                ks("infra", "./infrastructure"),
            ),
            ("clusters/a/apps.yaml".to_string(), ks("apps", "./apps")),
            ("infrastructure/eso/release.yaml".to_string(), hr.clone()),
        ];
        assert_eq!(
            eso_dependency(&docs, &OWN_KUSTOMIZATIONS),
            Some(("infra".into(), "flux-system".into()))
        );
        let named = vec![("x.yaml".to_string(), ks("external-secrets-operator", "./x"))];
        assert_eq!(
            eso_dependency(&named, &OWN_KUSTOMIZATIONS).unwrap().0,
            "external-secrets-operator"
        );
        assert_eq!(eso_dependency(&docs[..2], &OWN_KUSTOMIZATIONS), None);
        // sealstrap's own store Kustomization is not ESO's.
        let own = vec![("f.yaml".to_string(), ks("secret-store", "./"))];
        assert_eq!(eso_dependency(&own, &OWN_KUSTOMIZATIONS), None);
    }

    #[test]
    fn the_flux_wiring_orders_controller_values_store() {
        let f = files(
            &Wiring::default(),
            "kube-system",
            "sealed-secrets-controller",
            &crate::mirror::Mirror::resolve(&Default::default()),
            "secret-source",
            "flux",
            Some(&("external-secrets".into(), "flux-system".into())),
        );
        let text = |name: &str| f.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let ks = crate::yaml::parse_documents(&text("sealstrap.yaml")).unwrap();
        assert_eq!(ks.len(), 3);
        assert_eq!(ks[1]["spec"]["path"], "./secret-source");
        assert_eq!(ks[1]["spec"]["dependsOn"][0]["name"], "sealed-secrets");
        assert_eq!(ks[2]["spec"]["path"], "./flux/store");
        assert_eq!(ks[2]["spec"]["dependsOn"][0]["name"], "secret-source");
        assert_eq!(
            ks[2]["spec"]["dependsOn"][1],
            json!({"name": "external-secrets"})
        );
        assert!(
            ks[1]["spec"]["healthCheckExprs"][0]["current"]
                .as_str()
                .unwrap()
                .contains("'Synced'")
        );
        let c = crate::yaml::parse_documents(&text("sealed-secrets/controller.yaml")).unwrap();
        assert_eq!(c[1]["spec"]["chart"]["spec"]["version"], "2.18.5");
        assert_eq!(c[1]["spec"]["values"]["keyrenewperiod"], "0");
        for (_, t) in &f {
            assert!(!t.contains("creationTimestamp"), "{t}");
        }
    }
}
