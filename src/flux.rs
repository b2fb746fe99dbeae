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

fn flux_kustomization(
    name: &str,
    path: &str,
    depends_on: Option<&str>,
    health: Vec<Value>,
) -> Value {
    let mut spec = json!({
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": "5m",
        "path": path,
        "prune": true,
        "wait": true,
        "sourceRef": {"kind": "GitRepository", "name": GIT_REPOSITORY, "namespace": FLUX_NAMESPACE},
    });
    if let Some(d) = depends_on {
        spec["dependsOn"] = json!([{"name": d}]);
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
pub fn files(
    w: &Wiring,
    controller_namespace: &str,
    controller_name: &str,
    chart: &crate::platform::Chart,
    out: &str,
    flux_dir: &str,
) -> Vec<(String, String)> {
    use crate::defaults::CONTROLLER_CHART;
    let repo = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": CONTROLLER_CHART, "namespace": FLUX_NAMESPACE},
        "spec": {"interval": "1h", "url": chart.repo},
    });
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
                "version": chart.version,
                "sourceRef": {"kind": "HelmRepository", "name": CONTROLLER_CHART, "namespace": FLUX_NAMESPACE},
            }},
            "install": {"crds": "Create"},
            "upgrade": {"crds": "CreateReplace"},
            "values": {"fullnameOverride": controller_name, "keyrenewperiod": "0"},
        },
    });
    let flux_path = |sub: &str| format!("./{}", [flux_dir, sub].join("/").trim_start_matches("./"));
    let kustomizations = [
        flux_kustomization(
            "sealed-secrets",
            &flux_path(CONTROLLER_DIR),
            None,
            Vec::new(),
        ),
        flux_kustomization(
            "secret-source",
            &format!("./{}", out.trim_start_matches("./")),
            Some("sealed-secrets"),
            vec![condition_expr(
                "SealedSecret",
                "bitnami.com/v1alpha1",
                "Synced",
            )],
        ),
        flux_kustomization(
            "secret-store",
            &flux_path(STORE_DIR),
            Some("secret-source"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flux_wiring_orders_controller_values_store() {
        let f = files(
            &Wiring::default(),
            "kube-system",
            "sealed-secrets-controller",
            &crate::platform::Chart::default(),
            "secret-source",
            "flux",
        );
        let text = |name: &str| f.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let ks = crate::yaml::parse_documents(&text("sealstrap.yaml")).unwrap();
        assert_eq!(ks.len(), 3);
        assert_eq!(ks[1]["spec"]["path"], "./secret-source");
        assert_eq!(ks[1]["spec"]["dependsOn"][0]["name"], "sealed-secrets");
        assert_eq!(ks[2]["spec"]["path"], "./flux/store");
        assert_eq!(ks[2]["spec"]["dependsOn"][0]["name"], "secret-source");
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
