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

/// The store file sealstrap writes at the swap point: the Kubernetes-provider store, in the
/// `style` of the file it replaces, with a comment that says why the resolver leaves it alone.
pub fn store_file(w: &Wiring, style: &crate::style::Style) -> String {
    let out = crate::style::render(
        &manifests::cluster_secret_store(w),
        style,
        "The platform's ClusterSecretStore, written by `sealstrap seal`: ESO's Kubernetes provider\n\
         reads the Secrets that the sealed-secrets controller unseals in the source namespace.\n\
         `make resolve-secret-store` leaves this file alone: it rewrites only its own placeholder\n\
         or a Google Secret Manager store. To go back to one, delete this file and run it again.",
    );
    debug_assert!(!out.contains(PLACEHOLDER_MARK) && !out.contains(GCPSM_MARK));
    out
}

/// The `secret_backend` advice for the environment config, when it does not say `kubernetes`.
/// What the resolver does while the config still says gcpsm (FACTS §12: it rewrites the store
/// file for gcpsm).
const REVERTS: &str = " (until then the next `make render-config` or `make resolve-secret-store` writes the gcpsm store back over the swap point)";

pub fn backend_advice(config_path: &str, backend: Option<&str>) -> Option<String> {
    match backend {
        Some("kubernetes") => None,
        Some(other) => Some(format!(
            "{config_path} has secret_backend: {other}; set `secret_backend: kubernetes` so the platform's seeding and resolver stop expecting {other}{}",
            if other == "gcpsm" { REVERTS } else { "" }
        )),
        None => Some(format!(
            "{config_path} has no secret_backend, which the platform reads as gcpsm; add `secret_backend: kubernetes`{REVERTS}"
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

/// An Argo CD Application sealstrap generates: what it writes into a new file, the fields it
/// owns (JSON pointers and the values the wiring needs there; everything else in the file is the
/// user's), and its header comment.
#[derive(Clone, Debug)]
pub struct Generated {
    pub value: Value,
    pub owned: Vec<(String, Value)>,
    /// Fields set only where the file has none (what the neighbours carry, the retry the
    /// ordering needs): a value the user wrote there stays.
    pub fill: Vec<(String, Value)>,
    /// List items that must be in the list at the pointer (a sync option the ordering needs);
    /// the list's other items stay.
    pub items: Vec<(String, Value)>,
    pub comment: String,
}

/// What the catalog's other Applications carry that an Application of the catalog should carry
/// too: their common finalizers (all the platform's carry `resources-finalizer.argocd.argoproj.io`),
/// and a `retry` block (the first one found).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Neighbours {
    pub finalizers: Vec<String>,
    pub retry: Option<Value>,
}

/// Argo CD's own retry example (argo-cd.readthedocs.io, user-guide/auto_sync and
/// sync-options: "retry ... backoff"): without an Application health check, a sync that ran
/// before the CRD it needs existed converges on a later attempt.
pub fn default_retry() -> Value {
    serde_json::json!({"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}})
}

/// What the Applications in `texts` (the catalog's, sealstrap's own left out) carry in common.
pub fn neighbours(texts: &[&str]) -> Neighbours {
    let apps: Vec<Value> = texts
        .iter()
        .filter_map(|t| yaml::parse_documents(t).ok())
        .flatten()
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some("Application"))
        .collect();
    let finalizers_of = |a: &Value| -> Vec<String> {
        a.pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let finalizers = match apps.split_first() {
        Some((first, rest)) => finalizers_of(first)
            .into_iter()
            .filter(|f| rest.iter().all(|a| finalizers_of(a).contains(f)))
            .collect(),
        None => Vec::new(),
    };
    let retry = apps
        .iter()
        .find_map(|a| a.pointer("/spec/syncPolicy/retry").cloned());
    Neighbours { finalizers, retry }
}

/// What every Application sealstrap writes into the catalog fills in where the file has none:
/// the neighbours' finalizers and a retry (theirs, else Argo CD's example).
fn carried(n: &Neighbours) -> Vec<(String, Value)> {
    let mut fill = Vec::new();
    if !n.finalizers.is_empty() {
        fill.push((
            "/metadata/finalizers".to_string(),
            Value::from(n.finalizers.clone()),
        ));
    }
    fill.push((
        "/spec/syncPolicy/retry".to_string(),
        n.retry.clone().unwrap_or_else(default_retry),
    ));
    fill
}

/// `value` with the `fill` fields set (a new file).
fn with_fill(mut value: Value, fill: &[(String, Value)]) -> Value {
    for (p, v) in fill {
        if value.pointer(p).is_none() {
            set_pointer(&mut value, p, v.clone());
        }
    }
    value
}

const WAVE: &str = "/metadata/annotations/argocd.argoproj.io~1sync-wave";

/// The sealed-secrets controller's Application: the chart (upstream's or a mirror's, in the form
/// Argo CD resolves: [`crate::mirror::Mirror::argo_repo_url`]), named so that kubeseal's
/// defaults find it (`controller_name`), in `controller_namespace`, with key renewal off so the
/// escrowed key (`sealstrap key new`) stays the sealing key, and the image a mirror gives. The
/// chart's repository, version and image are the user's to change; the name, namespace, values
/// and wave are sealstrap's; the neighbours' finalizers and a retry are filled in.
pub fn controller_app(
    controller_namespace: &str,
    controller_name: &str,
    mirror: &crate::mirror::Mirror,
    neighbours: &Neighbours,
) -> Generated {
    use crate::defaults::CONTROLLER_CHART;
    let mut values = serde_json::json!({
        "fullnameOverride": controller_name,
        "keyrenewperiod": "0"
    });
    if mirror.image_given {
        values["image"] = mirror.image.values();
    }
    let fill = carried(neighbours);
    let value = with_fill(
        application(
            CONTROLLER_CHART,
            CONTROLLER_WAVE,
            serde_json::json!({
                "repoURL": mirror.argo_repo_url(),
                "chart": CONTROLLER_CHART,
                "targetRevision": mirror.version,
                "helm": {"valuesObject": values}
            }),
            controller_namespace,
            &["ServerSideApply=true"],
        ),
        &fill,
    );
    Generated {
        value,
        owned: vec![
            ("/metadata/name".into(), Value::from(CONTROLLER_CHART)),
            (WAVE.into(), Value::from(CONTROLLER_WAVE)),
            ("/spec/source/chart".into(), Value::from(CONTROLLER_CHART)),
            (
                "/spec/source/helm/valuesObject/fullnameOverride".into(),
                Value::from(controller_name),
            ),
            (
                "/spec/source/helm/valuesObject/keyrenewperiod".into(),
                Value::from("0"),
            ),
            (
                "/spec/destination/namespace".into(),
                Value::from(controller_namespace),
            ),
        ],
        fill,
        items: Vec::new(),
        comment: "The sealed-secrets controller (written by `sealstrap seal --gitops argocd`). Install its key\n\
            BEFORE the first sync: `sealstrap key install` (it works before the controller exists).\n\
            keyrenewperiod \"0\" keeps the escrowed key the sealing key. The chart's repoURL,\n\
            targetRevision and image are yours to point at a mirror (sealstrap.yaml chart:); sealstrap\n\
            keeps them."
            .into(),
    }
}

/// The sync option that lets secret-source sync before the SealedSecret CRD exists, retried until
/// the controller's chart has installed it (argo-cd.readthedocs.io, user-guide/sync-options,
/// "Skip Dry Run for new custom resources types"): the platform's Argo CD has no Application
/// health check, so the waves alone do not make it wait.
pub const SKIP_DRY_RUN: &str = "SkipDryRunOnMissingResource=true";

/// The Application for the sealed values and the ESO reader (`out`, relative to the root) from
/// the platform's own repository. Its path, namespace and wave are sealstrap's; the revision is
/// the user's (a fork retargets it). It converges without a health check: a retry and
/// [`SKIP_DRY_RUN`].
pub fn source_app(
    repo_url: &str,
    revision: &str,
    out: &str,
    source_namespace: &str,
    neighbours: &Neighbours,
) -> Generated {
    let fill = carried(neighbours);
    let value = with_fill(
        application(
            "secret-source",
            SOURCE_WAVE,
            serde_json::json!({"repoURL": repo_url, "targetRevision": revision, "path": out}),
            source_namespace,
            &["CreateNamespace=true", "ServerSideApply=true", SKIP_DRY_RUN],
        ),
        &fill,
    );
    Generated {
        value,
        owned: vec![
            ("/metadata/name".into(), Value::from("secret-source")),
            (WAVE.into(), Value::from(SOURCE_WAVE)),
            ("/spec/source/path".into(), Value::from(out)),
            (
                "/spec/destination/namespace".into(),
                Value::from(source_namespace),
            ),
        ],
        fill,
        items: vec![(
            "/spec/syncPolicy/syncOptions".into(),
            Value::from(SKIP_DRY_RUN),
        )],
        comment: format!(
            "The sealed values and ESO's reader (written by `sealstrap seal --gitops argocd`): after the\n\
             controller (wave {CONTROLLER_WAVE}), before the store (external-secrets-config, wave 3); retried\n\
             until the controller's SealedSecret CRD exists."
        ),
    }
}

/// What to do with a generated file that may already exist.
#[derive(Clone, Debug, PartialEq)]
pub enum Merged {
    /// It holds everything sealstrap needs: left byte for byte (with the user's edits).
    Unchanged,
    /// The new text, and the fields that changed.
    Write { text: String, changed: Vec<String> },
    /// Fields sealstrap owns hold other values: (pointer, what the file has, what is needed).
    Conflict(Vec<(String, Option<Value>, Value)>),
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

fn set_pointer(v: &mut Value, ptr: &str, new: Value) {
    let mut cur = v;
    let segs: Vec<String> = ptr.split('/').skip(1).map(unescape).collect();
    for (i, seg) in segs.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        let m = cur.as_object_mut().expect("made an object");
        if i + 1 == segs.len() {
            m.insert(seg.clone(), new);
            return;
        }
        cur = m
            .entry(seg.clone())
            .or_insert(Value::Object(Default::default()));
    }
}

/// Merges a generated Application into the file that may hold it. `requested`: fields the user
/// asked to set in this run (`--chart-repo`, `--chart-version`). A new file is rendered in the
/// neighbours' `style`; an existing one keeps every field sealstrap does not own, and its text:
/// a field is set in place when it is on a line of its own, else the file is rendered again in
/// its own style. An owned field with another value is a conflict unless `force`.
pub fn merge(
    current: Option<&str>,
    g: &Generated,
    requested: &[(String, Value)],
    style: &crate::style::Style,
    force: bool,
) -> Merged {
    let Some(text) = current else {
        return Merged::Write {
            text: crate::style::render(&g.value, style, &g.comment),
            changed: vec!["(new file)".into()],
        };
    };
    let existing = yaml::parse_documents(text).ok().and_then(|d| {
        d.into_iter()
            .find(|d| d.get("kind").and_then(Value::as_str) == Some("Application"))
    });
    let Some(existing) = existing else {
        return if force {
            Merged::Write {
                text: crate::style::render(&g.value, style, &g.comment),
                changed: vec!["(the whole file: it held no Application)".into()],
            }
        } else {
            Merged::Conflict(vec![("(file)".into(), None, Value::from("an Application"))])
        };
    };
    let differs = |(p, want): &(String, Value)| existing.pointer(p) != Some(want);
    let conflicts: Vec<(String, Option<Value>, Value)> = g
        .owned
        .iter()
        .filter(|f| differs(f))
        .map(|(p, want)| (p.clone(), existing.pointer(p).cloned(), want.clone()))
        .collect();
    if !conflicts.is_empty() && !force {
        return Merged::Conflict(conflicts);
    }
    let mut to_set: Vec<(String, Value)> =
        requested.iter().filter(|f| differs(f)).cloned().collect();
    to_set.extend(conflicts.into_iter().map(|(p, _, want)| (p, want)));
    // What the neighbours carry, where the file has nothing; list items it lacks.
    for (p, v) in &g.fill {
        if existing.pointer(p).is_none() && !to_set.iter().any(|(q, _)| q == p) {
            to_set.push((p.clone(), v.clone()));
        }
    }
    for (p, item) in &g.items {
        let list = existing.pointer(p).and_then(Value::as_array);
        if list.is_none_or(|l| !l.contains(item)) {
            let mut l = list.cloned().unwrap_or_default();
            l.push(item.clone());
            to_set.push((p.clone(), Value::from(l)));
        }
    }
    if to_set.is_empty() {
        return Merged::Unchanged;
    }
    let mut expected = existing.clone();
    for (p, v) in &to_set {
        set_pointer(&mut expected, p, v.clone());
    }
    let own_style = crate::style::learn(&[text]);
    // In place, field by field, when each sits on a line of its own.
    let mut edited = Some(text.to_string());
    for (p, v) in &to_set {
        let segs: Vec<String> = p.split('/').skip(1).map(unescape).collect();
        let path: Vec<&str> = segs.iter().map(String::as_str).collect();
        let rendered = crate::style::render(&serde_json::json!({ "k": v }), &own_style, "");
        let rendered = rendered
            .trim_end()
            .strip_prefix("k: ")
            .unwrap_or("")
            .to_string();
        edited = edited.and_then(|t| crate::yaml_text::set_scalar(&t, &path, &rendered));
    }
    let changed = to_set.iter().map(|(p, _)| p.clone()).collect();
    match edited {
        Some(t)
            if yaml::parse_documents(&t)
                .ok()
                .and_then(|d| d.into_iter().next())
                == Some(expected.clone()) =>
        {
            Merged::Write { text: t, changed }
        }
        _ => {
            // Rendered again in the file's own style, after its own leading comment.
            let comment: String = text
                .lines()
                .take_while(|l| l.starts_with('#'))
                .map(|l| {
                    format!(
                        "{}\n",
                        l.trim_start_matches('#')
                            .strip_prefix(' ')
                            .unwrap_or(l.trim_start_matches('#'))
                    )
                })
                .collect();
            Merged::Write {
                text: crate::style::render(&expected, &own_style, comment.trim_end()),
                changed,
            }
        }
    }
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
        let ours = store_file(&w, &Default::default());
        assert_eq!(
            store_state(&ours, &w),
            StoreState::Kubernetes { current: true }
        );
        let other_ns = store_file(
            &Wiring {
                source_namespace: "elsewhere".into(),
                ..Wiring::default()
            },
            &Default::default(),
        );
        assert_eq!(
            store_state(&other_ns, &w),
            StoreState::Kubernetes { current: false }
        );
    }

    #[test]
    fn the_written_store_is_one_the_resolver_leaves_alone() {
        let text = store_file(&Wiring::default(), &Default::default());
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
        let style = crate::style::Style::default();
        let c = controller_app(
            "kube-system",
            "sealed-secrets-controller",
            &crate::mirror::Mirror::resolve(&Default::default()),
            &Neighbours::default(),
        );
        let text = crate::style::render(&c.value, &style, &c.comment);
        assert!(
            text.contains("argocd.argoproj.io/sync-wave: \"1\""),
            "{text}"
        );
        assert!(text.contains("fullnameOverride: sealed-secrets-controller"));
        assert!(text.contains("keyrenewperiod: \"0\""));
        assert!(
            text.contains("targetRevision: 2.18.5\n"),
            "unquoted: {text}"
        );
        let s = source_app(
            "https://github.com/x/p.git",
            "main",
            "clusters/dev/secret-source",
            "secret-source",
            &Neighbours::default(),
        );
        let text = crate::style::render(&s.value, &style, &s.comment);
        assert!(
            text.contains("argocd.argoproj.io/sync-wave: \"2\"")
                && text.contains("path: clusters/dev/secret-source")
        );
        let catalog = vec!["kind: Application\nspec:\n  source:\n    repoURL: https://charts\n    chart: x\n".to_string(),
            "kind: Application\nspec:\n  source:\n    repoURL: https://github.com/x/p.git\n    targetRevision: main\n    path: platform/a\n".to_string()];
        assert_eq!(
            own_repo(&catalog),
            Some(("https://github.com/x/p.git".into(), "main".into()))
        );
    }

    /// Issue 20: the user's edits of a generated Application survive; a conflicting edit of a
    /// field sealstrap owns is refused (and --force sets it); a requested mirror is set in place.
    #[test]
    fn generated_applications_keep_the_users_edits() {
        let style = crate::style::Style::default();
        let g = controller_app(
            "kube-system",
            "sealed-secrets-controller",
            &crate::mirror::Mirror::resolve(&Default::default()),
            &Neighbours::default(),
        );
        let Merged::Write { text: first, .. } = merge(None, &g, &[], &style, false) else {
            panic!("a new file is written")
        };
        // The user points the chart at a mirror and adds a sync option.
        let edited = first
            .replace(
                "repoURL: https://bitnami-labs.github.io/sealed-secrets",
                "repoURL: https://mirror.internal/charts   # air-gapped",
            )
            .replace(
                "- ServerSideApply=true",
                "- ServerSideApply=true\n    - PruneLast=true",
            );
        assert_eq!(
            merge(Some(&edited), &g, &[], &style, false),
            Merged::Unchanged
        );
        // A requested version is set in place; the mirror and the comment stay.
        let req = vec![(
            "/spec/source/targetRevision".to_string(),
            Value::from("2.18.6"),
        )];
        let Merged::Write { text, changed } = merge(Some(&edited), &g, &req, &style, false) else {
            panic!("the version changes")
        };
        assert_eq!(changed, vec!["/spec/source/targetRevision".to_string()]);
        assert_eq!(
            text,
            edited.replace("targetRevision: 2.18.5", "targetRevision: 2.18.6")
        );
        // Renaming the controller breaks kubeseal's defaults: refused, then forced.
        let renamed = edited.replace(
            "fullnameOverride: sealed-secrets-controller",
            "fullnameOverride: mine",
        );
        match merge(Some(&renamed), &g, &[], &style, false) {
            Merged::Conflict(c) => assert_eq!(
                c,
                vec![(
                    "/spec/source/helm/valuesObject/fullnameOverride".to_string(),
                    Some(Value::from("mine")),
                    Value::from("sealed-secrets-controller")
                )]
            ),
            other => panic!("{other:?}"),
        }
        let Merged::Write { text, .. } = merge(Some(&renamed), &g, &[], &style, true) else {
            panic!("forced")
        };
        assert_eq!(text, edited);
    }

    /// Issue 29: an Application sealstrap writes carries what its neighbours carry (their
    /// finalizer, their retry), and secret-source converges without a health check; an existing
    /// file gets what it lacks, and keeps what the user wrote there.
    #[test]
    fn generated_applications_carry_what_the_neighbours_carry() {
        let catalog = [
            "kind: Application\nmetadata:\n  name: a\n  finalizers: [resources-finalizer.argocd.argoproj.io]\nspec:\n  syncPolicy:\n    retry: {limit: 3}\n",
            "kind: Application\nmetadata:\n  name: b\n  finalizers: [resources-finalizer.argocd.argoproj.io, x/y]\n",
        ];
        let n = neighbours(&catalog);
        assert_eq!(n.finalizers, vec!["resources-finalizer.argocd.argoproj.io"]);
        assert_eq!(n.retry, Some(serde_json::json!({"limit": 3})));
        assert_eq!(
            neighbours(&[catalog[1], "kind: Application\n"])
                .finalizers
                .len(),
            0
        );
        let style = crate::style::Style::default();
        let g = source_app(
            "https://g/p.git",
            "main",
            "clusters/dev/secret-source",
            "secret-source",
            &n,
        );
        assert_eq!(
            g.value["metadata"]["finalizers"][0],
            "resources-finalizer.argocd.argoproj.io"
        );
        assert_eq!(g.value["spec"]["syncPolicy"]["retry"]["limit"], 3);
        assert!(
            g.value["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .unwrap()
                .contains(&Value::from(SKIP_DRY_RUN))
        );
        // An older file without them gets them; its own sync option stays.
        let old = "kind: Application\nmetadata:\n  name: secret-source\n  annotations:\n    argocd.argoproj.io/sync-wave: \"2\"\nspec:\n  source:\n    path: clusters/dev/secret-source\n  destination:\n    namespace: secret-source\n  syncPolicy:\n    syncOptions: [PruneLast=true]\n";
        let Merged::Write { text, changed } = merge(Some(old), &g, &[], &style, false) else {
            panic!("the carried fields are added")
        };
        let v = &yaml::parse_documents(&text).unwrap()[0];
        assert_eq!(
            v["spec"]["syncPolicy"]["syncOptions"],
            serde_json::json!(["PruneLast=true", SKIP_DRY_RUN])
        );
        assert_eq!(v["spec"]["syncPolicy"]["retry"]["limit"], 3);
        assert_eq!(changed.len(), 3, "{changed:?}");
        // What the user wrote there stays: their retry, their finalizers.
        let own = "kind: Application\nmetadata:\n  name: secret-source\n  finalizers: [resources-finalizer.argocd.argoproj.io]\n  annotations:\n    argocd.argoproj.io/sync-wave: \"2\"\nspec:\n  source:\n    path: clusters/dev/secret-source\n  destination:\n    namespace: secret-source\n  syncPolicy:\n    syncOptions: [SkipDryRunOnMissingResource=true]\n    retry: {limit: 9}\n";
        assert_eq!(
            merge(Some(own), &g, &[], &style, false),
            Merged::Unchanged,
            "{own}"
        );
    }
}
