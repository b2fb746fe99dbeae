//! A strict schema check of the manifests sealstrap writes, with nothing but the repository: the
//! upstream CRD schemas and the core-kind schemas in `tests/data/schemas/` (see its README for
//! sources and licenses), validated by the `jsonschema` crate (Draft 7, as the API server's
//! OpenAPI v3 subset).
//!
//! The schemas are made strict as the API server's strict field validation is: an object with
//! `properties` rejects unknown fields unless it says `x-kubernetes-preserve-unknown-fields` or
//! gives `additionalProperties`; `x-kubernetes-int-or-string` takes an integer or a string;
//! `nullable` admits null. Not checked: CEL rules (`x-kubernetes-validations`). On top, the rules
//! the shared validator adds: DNS names, Secret data-key names, padded standard base64 for sealed
//! values and `data`, the ClusterSecretStore admission rules, and kustomization resources that
//! exist.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schemas")
}

struct Schemas {
    /// `apiVersion/kind` → validator of the object without `metadata`.
    kinds: BTreeMap<String, jsonschema::Validator>,
    object_meta: jsonschema::Validator,
}

/// The API server's strictness, in JSON Schema terms (see the module docs).
fn strictify(v: &Value, meta: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(|i| strictify(i, meta)).collect()),
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some("ObjectMeta") {
                return strictify(meta, meta);
            }
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, x)| (k.clone(), strictify(x, meta)))
                .collect();
            if out.get("type") == Some(&Value::from("object"))
                && out.contains_key("properties")
                && out.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
                && !out.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            if out.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
                out.remove("type");
                out.insert(
                    "anyOf".into(),
                    serde_json::json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            if out.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(t)) = out.get("type").cloned()
            {
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The schema of an object's body: `metadata` is the API server's own business.
fn without_metadata(mut schema: Value) -> Value {
    if let Some(p) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        p.remove("metadata");
    }
    if let Some(r) = schema.get_mut("required").and_then(Value::as_array_mut) {
        r.retain(|x| x != "metadata");
    }
    schema
}

fn compile(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft7::options()
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| {
        let text = std::fs::read_to_string(schemas_dir().join("core-v1.yaml")).unwrap();
        let core = &sealstrap::yaml::parse_documents(&text).unwrap()[0];
        let meta = core["ObjectMeta"].clone();
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        for f in [
            "bitnami.com_sealedsecrets.yaml",
            "external-secrets.io_clustersecretstores.yaml",
            "external-secrets.io_externalsecrets.yaml",
            "addons.cluster.x-k8s.io_clusterresourcesets.yaml",
            "argoproj.io_applications.yaml",
            "argoproj.io_appprojects.yaml",
            "source.toolkit.fluxcd.io_helmrepositories.yaml",
            "source.toolkit.fluxcd.io_ocirepositories.yaml",
            "helm.toolkit.fluxcd.io_helmreleases.yaml",
            "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
        ] {
            let text = std::fs::read_to_string(schemas_dir().join(f)).unwrap();
            let crd = &sealstrap::yaml::parse_documents(&text).unwrap()[0];
            let group = crd["spec"]["group"].as_str().unwrap();
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap();
            for v in crd["spec"]["versions"].as_array().unwrap() {
                if v["served"] != Value::Bool(true) {
                    continue;
                }
                let name = v["name"].as_str().unwrap();
                raw.insert(
                    format!("{group}/{name}/{kind}"),
                    v["schema"]["openAPIV3Schema"].clone(),
                );
            }
        }
        for (k, v) in core["kinds"].as_object().unwrap() {
            raw.insert(k.clone(), v.clone());
        }
        let kinds = raw
            .into_iter()
            .map(|(k, v)| (k, compile(&strictify(&without_metadata(v), &meta))))
            .collect();
        Schemas {
            kinds,
            object_meta: compile(&strictify(&meta, &meta)),
        }
    })
}

/// Every problem `validator` finds in `value`, as `path: message`.
fn check(validator: &jsonschema::Validator, value: &Value, at: &str, errors: &mut Vec<String>) {
    for e in validator.iter_errors(value) {
        let path = e.instance_path().to_string().replace('/', ".");
        errors.push(format!("{at}{path}: {e}"));
    }
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_data_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
}

/// Checks one object; returns its problems.
pub fn check_object(doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let (Some(api), Some(kind)) = (
        doc.get("apiVersion").and_then(Value::as_str),
        doc.get("kind").and_then(Value::as_str),
    ) else {
        return vec!["not a Kubernetes object (kind/apiVersion missing)".into()];
    };
    if api == "v1" && kind == "List" {
        for (i, item) in doc["items"].as_array().into_iter().flatten().enumerate() {
            errors.extend(
                check_object(item)
                    .into_iter()
                    .map(|e| format!("items[{i}] {e}")),
            );
        }
        return errors;
    }
    let key = format!("{api}/{kind}");
    let Some(validator) = schemas().kinds.get(&key) else {
        return vec![format!(
            "no schema for {key}: sealstrap should not write this kind"
        )];
    };
    // The API server validates metadata itself, not with the CRD schema.
    let meta = doc.get("metadata").cloned().unwrap_or(Value::Null);
    let mut body = doc.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("metadata");
    }
    check(validator, &body, kind, &mut errors);
    if meta.is_null() {
        errors.push("metadata: required".into());
    } else {
        check(&schemas().object_meta, &meta, "metadata", &mut errors);
        match meta.get("name").and_then(Value::as_str) {
            Some(n) if !is_dns_subdomain(n) => {
                errors.push(format!("metadata.name {n:?} is not a DNS subdomain"))
            }
            None if meta.get("generateName").is_none() => {
                errors.push("metadata.name is missing".into())
            }
            _ => {}
        }
        if let Some(ns) = meta.get("namespace").and_then(Value::as_str)
            && !is_dns_label(ns)
        {
            errors.push(format!("metadata.namespace {ns:?} is not a DNS label"));
        }
    }
    let keys_of = |v: Option<&Value>| -> Vec<(String, Value)> {
        v.and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    match kind {
        "Secret" => {
            for field in ["data", "stringData"] {
                for (k, v) in keys_of(doc.get(field)) {
                    if !is_data_key(&k) {
                        errors.push(format!("{field} key {k:?} is not a valid Secret key"));
                    }
                    if field == "data" && v.as_str().is_none_or(|s| STANDARD.decode(s).is_err()) {
                        errors.push(format!("data[{k}] is not padded standard base64"));
                    }
                }
            }
        }
        "SealedSecret" => {
            for (k, v) in keys_of(doc.pointer("/spec/encryptedData")) {
                if !is_data_key(&k) {
                    errors.push(format!("encryptedData key {k:?} is not a valid Secret key"));
                }
                match v.as_str().map(|s| STANDARD.decode(s)) {
                    Some(Ok(raw)) => {
                        let rsa = raw
                            .get(..2)
                            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                        if rsa.is_none_or(|r| raw.len() < 2 + r + 16) {
                            errors.push(format!("encryptedData[{k}] is too short to be sealed"));
                        }
                    }
                    _ => errors.push(format!("encryptedData[{k}] is not padded standard base64")),
                }
            }
        }
        "ClusterSecretStore" => {
            if let Some(k8s) = doc.pointer("/spec/provider/kubernetes") {
                if k8s.pointer("/server/caProvider").is_some_and(|ca| {
                    ca.get("namespace")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                }) {
                    errors.push(
                        "caProvider.namespace must not be empty with ClusterSecretStore".into(),
                    );
                }
                if k8s.pointer("/auth/serviceAccount").is_some_and(|sa| {
                    sa.get("namespace")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                }) {
                    errors.push("auth.serviceAccount.namespace is empty".into());
                }
                if k8s.get("remoteNamespace").is_none() {
                    errors.push("remoteNamespace is not set".into());
                }
            }
        }
        _ => {}
    }
    errors
}

fn files_under(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|e| !e.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        entries.sort();
        for e in entries {
            files_under(&e, out);
        }
    } else if p
        .extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    {
        out.push(p.to_path_buf());
    }
}

/// Validates files and folders (`*.yaml`, `*.yml`, `*.json`); returns (all valid, report).
pub fn validate(paths: &[&Path]) -> (bool, String) {
    let mut files = Vec::new();
    for p in paths {
        assert!(p.exists(), "no such file or directory: {}", p.display());
        files_under(p, &mut files);
    }
    let mut report = String::new();
    let mut ok = true;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let docs = match sealstrap::yaml::parse_documents(&text) {
            Ok(d) => d,
            Err(e) => {
                report.push_str(&format!("INVALID {}: not YAML: {e}\n", f.display()));
                ok = false;
                continue;
            }
        };
        let name = f.file_name().unwrap().to_string_lossy();
        if name == "kustomization.yaml" || name == "kustomization.yml" {
            for d in &docs {
                for r in d["resources"].as_array().into_iter().flatten() {
                    let r = r.as_str().unwrap_or_default();
                    if !f.parent().unwrap().join(r).exists() {
                        report.push_str(&format!(
                            "INVALID {}: resource {r:?} does not exist\n",
                            f.display()
                        ));
                        ok = false;
                    }
                }
            }
            continue;
        }
        for (i, d) in docs.iter().enumerate() {
            for e in check_object(d) {
                report.push_str(&format!("INVALID {}#{i}: {e}\n", f.display()));
                ok = false;
            }
        }
    }
    report.push_str(&format!("{} file(s) checked\n", files.len()));
    (ok, report)
}

/// Every problem a JSON schema that is not a Kubernetes kind (a Talos machine-config schema, the
/// cloud-config schema; `tests/data/schemas/README.md`) finds in `doc`, as `path: message`. The
/// schema's own `$schema` picks the draft (2020-12 for Talos, draft 4 for cloud-init).
pub fn check_against(schema_file: &str, doc: &Value) -> Vec<String> {
    static CACHE: OnceLock<
        std::sync::Mutex<BTreeMap<String, std::sync::Arc<jsonschema::Validator>>>,
    > = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let validator = {
        let mut c = cache.lock().unwrap();
        c.entry(schema_file.to_string())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(schemas_dir().join(schema_file)).unwrap();
                let schema: Value = serde_json::from_str(&text).unwrap();
                std::sync::Arc::new(
                    jsonschema::options()
                        .should_validate_formats(false)
                        .build(&schema)
                        .unwrap_or_else(|e| panic!("{schema_file} does not compile: {e}")),
                )
            })
            .clone()
    };
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}
