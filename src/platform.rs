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

/// The catalog group that is always on, and the project every Application uses.
pub const ALWAYS_ON_GROUP: &str = "platform-core";
pub const PROJECT: &str = "platform";
/// Sync waves: the ESO chart is wave 1 and the store wave 3 in the platform; the controller
/// comes with ESO, and secret-source (whose SealedSecrets need the controller's CRD) before the
/// store.
pub const CONTROLLER_WAVE: &str = "1";
pub const SOURCE_WAVE: &str = "2";

/// Where the catalog and the AppProject of an environment are, relative to the root.
pub fn catalog_dir(env: &str) -> String {
    format!("clusters/{env}/catalog/{ALWAYS_ON_GROUP}")
}

pub fn project_file(env: &str) -> String {
    format!("clusters/{env}/projects/{PROJECT}.yaml")
}

fn application(
    name: &str,
    wave: &str,
    source: Value,
    namespace: &str,
    sync_options: &[&str],
) -> Value {
    serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "annotations": {"argocd.argoproj.io/sync-wave": wave}
        },
        "spec": {
            "project": PROJECT,
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": sync_options
            }
        }
    })
}

/// The Argo CD Application for the sealed-secrets controller: the pinned chart, named so that
/// kubeseal's defaults find it, in `controller_namespace`, with key renewal off so the escrowed
/// key (`sealstrap key new`) stays the sealing key (the values `key new` prints).
pub fn controller_application(controller_namespace: &str) -> String {
    use crate::defaults::*;
    let app = application(
        CONTROLLER_CHART,
        CONTROLLER_WAVE,
        serde_json::json!({
            "repoURL": CONTROLLER_CHART_REPO,
            "chart": CONTROLLER_CHART,
            "targetRevision": CONTROLLER_CHART_VERSION,
            "helm": {"valuesObject": {
                "fullnameOverride": CONTROLLER_NAME,
                "keyrenewperiod": "0"
            }}
        }),
        controller_namespace,
        &["ServerSideApply=true"],
    );
    format!(
        "# The sealed-secrets controller (written by `sealstrap seal --gitops argocd`). Install its key\n\
         # before or right after it starts: `sealstrap key install`. keyrenewperiod \"0\" keeps the\n\
         # escrowed key the sealing key; with renewal on, run `sealstrap key backup --check` in CI.\n{}",
        manifests::render(&[app])
    )
}

/// The Argo CD Application for the sealed values and the ESO reader (`out`, relative to the
/// root) from the platform's own repository.
pub fn source_application(
    repo_url: &str,
    revision: &str,
    out: &str,
    source_namespace: &str,
) -> String {
    let app = application(
        "secret-source",
        SOURCE_WAVE,
        serde_json::json!({"repoURL": repo_url, "targetRevision": revision, "path": out}),
        source_namespace,
        &["CreateNamespace=true", "ServerSideApply=true"],
    );
    format!(
        "# The sealed values and ESO's reader (written by `sealstrap seal --gitops argocd`): after the\n\
         # controller (wave {CONTROLLER_WAVE}), before the store (external-secrets-config, wave 3).\n{}",
        manifests::render(&[app])
    )
}

/// The repository URL and revision the platform's own Applications deploy from (the first
/// Application with a `path` source in the catalog texts).
pub fn own_repo(catalog: &[String]) -> Option<(String, String)> {
    catalog.iter().find_map(|text| {
        let docs = yaml::parse_documents(text).ok()?;
        docs.iter().find_map(|d| {
            let src = d.pointer("/spec/source")?;
            src.get("path")?;
            Some((
                src.get("repoURL")?.as_str()?.to_string(),
                src.get("targetRevision")
                    .and_then(Value::as_str)
                    .unwrap_or("HEAD")
                    .to_string(),
            ))
        })
    })
}

/// Adds `repo` to the AppProject's `spec.sourceRepos`, editing the text as the patcher does: one
/// line (or one flow item) inserted, everything else byte for byte. `Ok(None)` when it is
/// already allowed (listed, or `*`). The result is parsed again and must differ only by the entry.
pub fn add_source_repo(text: &str, repo: &str) -> Result<Option<String>, &'static str> {
    use crate::yaml_text::Lines;
    let docs = yaml::parse_documents(text).map_err(|_| "the AppProject is not valid YAML")?;
    let idx = docs
        .iter()
        .position(|d| d.get("kind").and_then(Value::as_str) == Some("AppProject"))
        .ok_or("no AppProject in the file")?;
    let repos: Vec<&str> = docs[idx]
        .pointer("/spec/sourceRepos")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if repos.iter().any(|r| *r == repo || *r == "*") {
        return Ok(None);
    }
    if repos.is_empty() {
        return Err("the AppProject has no sourceRepos list to add to");
    }
    let Lines {
        mut lines,
        eol,
        trailing_eol,
    } = Lines::split(text);
    let key_line = lines
        .iter()
        .position(|l| l.trim_start().starts_with("sourceRepos:"))
        .ok_or("no sourceRepos: line")?;
    let after_key = lines[key_line].trim_start()["sourceRepos:".len()..].trim_start();
    if after_key.starts_with('[') {
        // Flow style on one line: insert before the closing bracket.
        let close = lines[key_line]
            .rfind(']')
            .ok_or("sourceRepos is not on one line")?;
        let before = lines[key_line][..close].trim_end();
        let sep = if before.ends_with('[') { "" } else { ", " };
        let line = &lines[key_line];
        lines[key_line] = format!("{before}{sep}{repo}{}", &line[close..]);
    } else {
        // Block style: after the last `- ` item, at its indentation.
        let mut last = None;
        let mut indent = String::new();
        for (i, l) in lines.iter().enumerate().skip(key_line + 1) {
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if t.starts_with("- ") {
                last = Some(i);
                indent = l[..l.len() - t.len()].to_string();
            } else {
                break;
            }
        }
        let last = last.ok_or("sourceRepos has no block list")?;
        lines.insert(last + 1, format!("{indent}- {repo}"));
    }
    let out = Lines::join(&lines, eol, trailing_eol);
    let mut expected = docs.clone();
    expected[idx]["spec"]["sourceRepos"]
        .as_array_mut()
        .expect("checked")
        .push(Value::String(repo.to_string()));
    match yaml::parse_documents(&out) {
        Ok(d) if d == expected => Ok(Some(out)),
        _ => Err("the edit would not give the intended YAML (unusual layout)"),
    }
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

    #[test]
    fn the_chart_repository_is_added_keeping_the_text() {
        let block = "# project\nspec:\n  sourceRepos:\n    - https://github.com/x/p.git   # this repo\n    - https://charts.external-secrets.io\n  destinations: []\n";
        assert_eq!(
            add_source_repo(block, "https://bitnami-labs.github.io/sealed-secrets"),
            Err("no AppProject in the file")
        );
        let block = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {{name: platform}}\n{}",
            block.trim_start_matches("# project\n")
        );
        let out = add_source_repo(&block, "https://bitnami-labs.github.io/sealed-secrets")
            .unwrap()
            .unwrap();
        assert_eq!(
            out,
            block.replace(
                "    - https://charts.external-secrets.io\n",
                "    - https://charts.external-secrets.io\n    - https://bitnami-labs.github.io/sealed-secrets\n"
            )
        );
        assert_eq!(
            add_source_repo(&out, "https://bitnami-labs.github.io/sealed-secrets"),
            Ok(None)
        );
        let flow = "kind: AppProject\nspec:\n  sourceRepos: [a, b]  # two\n";
        assert_eq!(
            add_source_repo(flow, "c").unwrap().unwrap(),
            "kind: AppProject\nspec:\n  sourceRepos: [a, b, c]  # two\n"
        );
        let star = "kind: AppProject\nspec:\n  sourceRepos: ['*']\n";
        assert_eq!(add_source_repo(star, "c"), Ok(None));
    }

    #[test]
    fn the_applications_order_controller_then_values_then_store() {
        let c = controller_application("kube-system");
        assert!(c.contains("argocd.argoproj.io/sync-wave: \"1\""), "{c}");
        assert!(c.contains("fullnameOverride: sealed-secrets-controller"));
        assert!(c.contains("keyrenewperiod: \"0\""));
        assert!(
            c.contains("targetRevision: 2.18.5") || c.contains("targetRevision: \"2.18.5\""),
            "{c}"
        );
        let s = source_application(
            "https://github.com/x/p.git",
            "main",
            "secret-source",
            "secret-source",
        );
        assert!(
            s.contains("argocd.argoproj.io/sync-wave: \"2\"") && s.contains("path: secret-source")
        );
        let catalog = vec!["kind: Application\nspec:\n  source:\n    repoURL: https://charts\n    chart: x\n".to_string(),
            "kind: Application\nspec:\n  source:\n    repoURL: https://github.com/x/p.git\n    targetRevision: main\n    path: platform/a\n".to_string()];
        assert_eq!(
            own_repo(&catalog),
            Some(("https://github.com/x/p.git".into(), "main".into()))
        );
    }
}
