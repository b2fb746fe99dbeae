//! Kubernetes objects sealstrap reads and writes: Secret in, SealedSecret out, and back.
//!
//! The rules are the controller's and kubeseal's (docs/format.md §2–4): a Secret's `data` is
//! base64, `stringData` is applied second; the SealedSecret's top-level metadata carries only
//! name, namespace and the scope annotation; its template carries the Secret's metadata minus
//! what the server set and what would leak (`last-applied-configuration`); unsealing takes the
//! label from the SealedSecret's *top-level* metadata. Pure: no I/O, randomness passed in.
//! Plaintext lives in [`Zeroizing`] buffers; nothing here formats a value into an error.

use std::collections::BTreeMap;

use crate::rsa::{PrivateKey, PublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::CryptoRng;
use serde_json::{Map, Value, json};
use zeroize::{Zeroize, Zeroizing};

use crate::seal::{self, Scope};

/// SealedSecret API version.
pub const SEALED_SECRET_API_VERSION: &str = "bitnami.com/v1alpha1";
/// SealedSecret kind.
pub const SEALED_SECRET_KIND: &str = "SealedSecret";

/// Annotations that hold a full copy of the applied object; kubeseal strips them so a sealed
/// Secret does not carry its plaintext in clear (sealed-secrets issue #227).
const LAST_APPLIED: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

/// `metav1.ObjectMeta`'s fields in Go's declaration order (kubeseal's JSON field order).
const OBJECT_META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Metadata the API server sets, stripped before sealing (kubeseal `Seal`), plus
/// `ownerReferences` (#243) and `managedFields`.
const SERVER_SET_META: [&str; 9] = [
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "managedFields",
];

/// Something wrong with an input object. Every message names the document (`at`: "document 2
/// (Secret db)") and the field; none contains a secret value, and each has a [`hint`] that says
/// how to fix it.
///
/// [`hint`]: ObjectError::hint
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The stream is not YAML/JSON (the parser's message, with line and column).
    #[error("{0}")]
    Syntax(String),
    #[error("the input holds no document")]
    NoDocument,
    #[error("document {index} is not an object: expected a {expected}")]
    NotAnObject {
        index: usize,
        expected: &'static str,
    },
    #[error("document {index}: expected a {expected}, found {found}")]
    WrongKind {
        index: usize,
        expected: &'static str,
        api: &'static str,
        found: String,
    },
    #[error("document {index}: {kind} has apiVersion {found:?}, expected {expected:?}")]
    WrongApiVersion {
        index: usize,
        kind: &'static str,
        found: String,
        expected: &'static str,
    },
    /// A field of the wrong YAML type; `shown` is a number or boolean to quote (never a string).
    #[error("{at}: {field} must be {expected}, found {found}")]
    WrongType {
        at: String,
        field: String,
        expected: &'static str,
        found: String,
        shown: Option<String>,
    },
    #[error("{at}: {field} is not valid base64")]
    NotBase64 { at: String, field: String },
    #[error("{at}: {field} key {key:?} is not a valid Secret key")]
    BadDataKey {
        at: String,
        field: &'static str,
        key: String,
    },
    #[error("{at}: secret.data is empty in input Secret, assuming this is an error and aborting")]
    EmptyData { at: String },
    #[error("{at}: missing metadata.name{}", if *.input { " in input Secret" } else { "" })]
    MissingName { at: String, input: bool },
    #[error("{at}: metadata.name {name:?} is not a valid Kubernetes name")]
    BadName { at: String, name: String },
    #[error("namespace mismatch: {at} is in namespace {own:?} but --namespace says {given:?}")]
    NamespaceMismatch {
        at: String,
        own: String,
        given: String,
    },
    #[error("{at}: namespace {namespace:?} is not a valid Kubernetes namespace name")]
    BadNamespace { at: String, namespace: String },
    #[error("{at}: uses the deprecated spec.data format (sealed-secrets before v0.7)")]
    DeprecatedSpecData { at: String },
    /// kubeseal's own wording (`--raw` without the names its scope binds).
    #[error("must provide the --{flag} flag with --raw and --scope {scope}")]
    RawNeeds { flag: &'static str, scope: String },
    #[error("--merge-into file must hold exactly one SealedSecret, it holds {0} documents")]
    MergeTargetCount(usize),
    #[error("--merge-into takes one Secret on input, got {0} documents")]
    MergeInputCount(usize),
    #[error("--scope {given} does not match the --merge-into file, which is sealed {file}")]
    MergeScope { given: String, file: String },
    /// An error in the `--merge-into` file rather than the input.
    #[error("--merge-into file: {0}")]
    InMergeTarget(Box<ObjectError>),
    #[error("sealing failed: {0}")]
    Seal(String),
    #[error("cannot unseal {id}: {reason}")]
    Unseal { id: String, reason: String },
}

impl ObjectError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ObjectError::Syntax(_) => "fix the YAML at the line and column named; `kubectl apply --dry-run=client -f FILE` shows the same".into(),
            ObjectError::NoDocument => "pass a Secret manifest on stdin or with -f FILE".into(),
            ObjectError::NotAnObject { expected, .. } => {
                format!("each document must be a {expected} manifest (a mapping with apiVersion and kind)")
            }
            ObjectError::WrongKind { expected, api, .. } => {
                format!("the input must be {expected} manifests (apiVersion: {api}, kind: {expected})")
            }
            ObjectError::WrongApiVersion { kind, expected, .. } => {
                format!("set apiVersion: {expected} on the {kind}")
            }
            ObjectError::WrongType { field, shown: Some(v), .. } => {
                format!("quote it: {}: \"{v}\"", field.rsplit('.').next().unwrap_or(field))
            }
            ObjectError::WrongType { field, expected, .. } => format!("write {field} as {expected}"),
            ObjectError::NotBase64 { .. } => {
                "data values must be base64-encoded; put plain text under stringData instead".into()
            }
            ObjectError::BadDataKey { .. } => {
                "keys may contain only letters, digits, '-', '_' and '.'".into()
            }
            ObjectError::EmptyData { .. } => {
                "to work with empty data, --allow-empty-data can be used".into()
            }
            ObjectError::MissingName { input: true, .. } => "set metadata.name, or pass --name".into(),
            ObjectError::MissingName { input: false, .. } => "set metadata.name".into(),
            ObjectError::BadName { .. } => "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit".into(),
            ObjectError::NamespaceMismatch { .. } => {
                "drop -n, or change metadata.namespace in the input".into()
            }
            ObjectError::BadNamespace { .. } => {
                "a namespace is a DNS label: lowercase letters, digits and '-', at most 63 characters".into()
            }
            ObjectError::DeprecatedSpecData { .. } => {
                "seal the values again (sealstrap kubeseal); the spec.data format is not supported".into()
            }
            ObjectError::RawNeeds { flag, .. } => format!("pass --{flag}, or choose a looser --scope"),
            ObjectError::MergeTargetCount(_) => {
                "--merge-into takes one SealedSecret file, as kubeseal writes it".into()
            }
            ObjectError::MergeInputCount(_) => "pipe in one Secret at a time".into(),
            ObjectError::MergeScope { .. } => {
                "leave out --scope: the scope is taken from the file".into()
            }
            ObjectError::InMergeTarget(inner) => return inner.hint(),
            ObjectError::Seal(_) => return None,
            ObjectError::Unseal { .. } => "check that the key is the controller's key for the certificate this was sealed with, and that the SealedSecret was not renamed or moved (strict scope binds namespace and name)".into(),
        })
    }
}

/// What a YAML value is, for messages: never echoes a string.
fn describe_value(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        Value::String(_) => "a string".into(),
        Value::Null => "nothing usable".into(),
    }
}

/// A field of the wrong type. YAML reads `name: 12345` as a number and `name: yes` as a
/// boolean: those are shown so the hint can say how to quote them.
fn wrong_type(at: &str, field: &str, expected: &'static str, v: &Value) -> ObjectError {
    let shown = match v {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
    .filter(|_| expected == "a string");
    ObjectError::WrongType {
        at: at.to_string(),
        field: field.to_string(),
        expected,
        found: describe_value(v),
        shown,
    }
}

fn not_a_string(at: &str, field: &str, v: &Value) -> ObjectError {
    wrong_type(at, field, "a string", v)
}

/// Whether `s` is a valid DNS-1123 subdomain (Secret and SealedSecret names).
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Whether `s` is a valid DNS-1123 label (namespaces).
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

/// Whether `s` is a valid Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn is_data_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The plaintext items of a Secret, zeroized on drop.
pub type Items = BTreeMap<String, Zeroizing<Vec<u8>>>;

/// A Secret read from input: metadata, type and decoded items. Holds plaintext, so no Debug.
pub struct SecretDoc {
    pub metadata: Map<String, Value>,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub items: Items,
}

impl SecretDoc {
    /// `metadata.name`, if set.
    pub fn name(&self) -> Option<&str> {
        self.metadata
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn annotations(&self) -> impl Iterator<Item = (&str, &str)> {
        string_pairs(self.metadata.get("annotations"))
    }
}

fn string_pairs(v: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    v.and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
}

/// Describes document `index` (1-based) for messages: `document 2 (Secret db)`.
fn where_(index: usize, kind: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("document {index} ({kind} {n})"),
        None => format!("document {index} ({kind})"),
    }
}

fn check_kind(
    doc: &Value,
    index: usize,
    api: &'static str,
    kind: &'static str,
) -> Result<(), ObjectError> {
    let Some(obj) = doc.as_object() else {
        return Err(ObjectError::NotAnObject {
            index,
            expected: kind,
        });
    };
    let got_kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let got_api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if got_kind != kind {
        let found = if got_kind.is_empty() {
            "no kind".to_string()
        } else {
            format!("kind {got_kind}")
        };
        return Err(ObjectError::WrongKind {
            index,
            expected: kind,
            api,
            found,
        });
    }
    if got_api != api {
        return Err(ObjectError::WrongApiVersion {
            index,
            kind,
            found: got_api.to_string(),
            expected: api,
        });
    }
    Ok(())
}

/// Reads a v1 Secret: `data` base64-decoded, `stringData` taken as UTF-8 and applied second.
pub fn parse_secret(doc: &Value, index: usize) -> Result<SecretDoc, ObjectError> {
    check_kind(doc, index, "v1", "Secret")?;
    let obj = doc.as_object().expect("checked above");
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(wrong_type(
                &format!("document {index}"),
                "metadata",
                "a mapping",
                other,
            ));
        }
    };
    let name = metadata.get("name").and_then(Value::as_str);
    let at = where_(index, "Secret", name);

    let mut items = Items::new();
    if let Some(data) = obj.get("data").filter(|v| !v.is_null()) {
        let data = data
            .as_object()
            .ok_or_else(|| wrong_type(&at, "data", "a mapping", data))?;
        for (k, v) in data {
            check_key(&at, "data", k)?;
            let decoded = match v {
                Value::Null => Zeroizing::new(Vec::new()),
                Value::String(s) => {
                    Zeroizing::new(STANDARD.decode(s).map_err(|_| ObjectError::NotBase64 {
                        at: at.clone(),
                        field: format!("data.{k}"),
                    })?)
                }
                other => {
                    return Err(wrong_type(
                        &at,
                        &format!("data.{k}"),
                        "a base64 string",
                        other,
                    ));
                }
            };
            items.insert(k.clone(), decoded);
        }
    }
    if let Some(data) = obj.get("stringData").filter(|v| !v.is_null()) {
        let data = data
            .as_object()
            .ok_or_else(|| wrong_type(&at, "stringData", "a mapping", data))?;
        for (k, v) in data {
            check_key(&at, "stringData", k)?;
            let value = match v {
                Value::Null => Zeroizing::new(Vec::new()),
                Value::String(s) => Zeroizing::new(s.as_bytes().to_vec()),
                other => {
                    return Err(not_a_string(&at, &format!("stringData.{k}"), other));
                }
            };
            items.insert(k.clone(), value);
        }
    }
    let type_ = match obj.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(other) => return Err(not_a_string(&at, "type", other)),
    };
    let immutable = match obj.get("immutable") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(wrong_type(&at, "immutable", "true or false", other));
        }
    };
    Ok(SecretDoc {
        metadata,
        type_,
        immutable,
        items,
    })
}

fn check_key(at: &str, field: &'static str, key: &str) -> Result<(), ObjectError> {
    if is_data_key(key) {
        Ok(())
    } else {
        Err(ObjectError::BadDataKey {
            at: at.to_string(),
            field,
            key: key.to_string(),
        })
    }
}

/// How kubeseal's flags shape a sealed Secret.
#[derive(Clone, Debug, Default)]
pub struct SealRequest {
    /// `--scope`, when given: it replaces the Secret's scope annotations.
    pub scope: Option<Scope>,
    /// `--name`: overrides `metadata.name`.
    pub name: Option<String>,
    /// `-n/--namespace`: must agree with the Secret's namespace, or fills it in.
    pub namespace: Option<String>,
    /// The namespace for a Secret that has none (kubeconfig context, else `default`).
    pub default_namespace: String,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
}

/// The result of resolving a Secret against a [`SealRequest`]: where it will be unsealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub namespace: Option<String>,
    pub scope: Scope,
}

impl Target {
    /// The OAEP label for this target.
    pub fn label(&self) -> Vec<u8> {
        self.scope
            .label(self.namespace.as_deref().unwrap_or(""), &self.name)
    }
}

/// Applies kubeseal's rules to `secret` in place (name, namespace, scope annotations, stripped
/// fields) and returns where it will be unsealed.
pub fn resolve(
    secret: &mut SecretDoc,
    req: &SealRequest,
    index: usize,
) -> Result<Target, ObjectError> {
    let at = where_(index, "Secret", secret.name());
    if secret.items.is_empty() && !req.allow_empty_data {
        return Err(ObjectError::EmptyData { at });
    }
    if let Some(name) = &req.name {
        secret
            .metadata
            .insert("name".into(), Value::String(name.clone()));
    }
    let Some(name) = secret.name().map(str::to_string) else {
        if let Some(other) = secret.metadata.get("name").filter(|v| !v.is_null()) {
            return Err(not_a_string(&at, "metadata.name", other));
        }
        return Err(ObjectError::MissingName { at, input: true });
    };
    if !is_dns_subdomain(&name) {
        return Err(ObjectError::BadName { at, name });
    }
    if let Some(ns) = &req.namespace {
        match secret.namespace() {
            Some(own) if own != ns => {
                return Err(ObjectError::NamespaceMismatch {
                    at,
                    own: own.to_string(),
                    given: ns.clone(),
                });
            }
            _ => {
                secret
                    .metadata
                    .insert("namespace".into(), Value::String(ns.clone()));
            }
        }
    }
    if let Some(scope) = req.scope {
        set_scope_annotations(&mut secret.metadata, scope);
    }
    let scope = Scope::from_annotations(secret.annotations());
    if scope != Scope::ClusterWide && secret.namespace().is_none() {
        secret.metadata.insert(
            "namespace".into(),
            Value::String(req.default_namespace.clone()),
        );
    }
    let namespace = secret.namespace().map(str::to_string);
    if let Some(ns) = &namespace
        && !is_dns_label(ns)
    {
        return Err(ObjectError::BadNamespace {
            at,
            namespace: ns.clone(),
        });
    }
    for field in SERVER_SET_META {
        secret.metadata.remove(field);
    }
    if let Some(Value::Object(ann)) = secret.metadata.get_mut("annotations") {
        for k in LAST_APPLIED {
            ann.remove(k);
        }
        if ann.is_empty() {
            secret.metadata.remove("annotations");
        }
    }
    Ok(Target {
        name,
        namespace,
        scope,
    })
}

fn set_scope_annotations(meta: &mut Map<String, Value>, scope: Scope) {
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !ann.is_object() {
        *ann = Value::Object(Map::new());
    }
    let ann = ann.as_object_mut().expect("made an object above");
    ann.remove(seal::NAMESPACE_WIDE_ANNOTATION);
    ann.remove(seal::CLUSTER_WIDE_ANNOTATION);
    if let Some(a) = scope.annotation() {
        ann.insert(a.into(), Value::String("true".into()));
    }
    if ann.is_empty() {
        meta.remove("annotations");
    }
}

/// Puts metadata fields in `ObjectMeta` declaration order; unknown fields are dropped, as Go's
/// decoder drops them.
fn ordered_meta(meta: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for f in OBJECT_META_FIELDS {
        if let Some(v) = meta.get(f) {
            out.insert(f.into(), v.clone());
        }
    }
    out
}

/// Top-level SealedSecret metadata: name, namespace and only the scope annotation.
fn top_meta(target: &Target) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(target.name.clone()));
    if let Some(ns) = &target.namespace {
        m.insert("namespace".into(), Value::String(ns.clone()));
    }
    if let Some(a) = target.scope.annotation() {
        m.insert("annotations".into(), json!({ a: "true" }));
    }
    Value::Object(m)
}

/// Seals every item of a resolved Secret; keys sorted.
pub fn seal_items<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    target: &Target,
    items: &Items,
) -> Result<Map<String, Value>, seal::SealError> {
    let label = target.label();
    let mut out = Map::new();
    for (k, v) in items {
        out.insert(k.clone(), Value::String(seal::seal(rng, key, &label, v)?));
    }
    Ok(out)
}

/// Builds a SealedSecret from a Secret already [`resolve`]d to `target`, in kubeseal's JSON
/// field order.
pub fn sealed_secret<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    secret: &SecretDoc,
    target: &Target,
) -> Result<Value, seal::SealError> {
    let encrypted = seal_items(rng, key, target, &secret.items)?;
    let mut template = Map::new();
    template.insert(
        "metadata".into(),
        Value::Object(ordered_meta(&secret.metadata)),
    );
    if let Some(t) = &secret.type_ {
        template.insert("type".into(), Value::String(t.clone()));
    }
    if let Some(i) = secret.immutable {
        template.insert("immutable".into(), Value::Bool(i));
    }
    Ok(json!({
        "kind": SEALED_SECRET_KIND,
        "apiVersion": SEALED_SECRET_API_VERSION,
        "metadata": top_meta(target),
        "spec": {
            "template": Value::Object(template),
            "encryptedData": Value::Object(encrypted),
        }
    }))
}

/// A SealedSecret read from input, with what the controller derives from it.
#[derive(Clone, Debug)]
pub struct SealedDoc {
    /// The whole object as read.
    pub value: Value,
    pub name: String,
    pub namespace: String,
    pub scope: Scope,
}

impl SealedDoc {
    /// `namespace/name`, as the controller names it in events.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The OAEP label, from the top-level metadata (as the controller takes it).
    pub fn label(&self) -> Vec<u8> {
        self.scope.label(&self.namespace, &self.name)
    }

    /// `spec.encryptedData`, sorted by key.
    pub fn encrypted_data(&self) -> BTreeMap<&str, &str> {
        string_pairs(self.value.pointer("/spec/encryptedData")).collect()
    }
}

/// Reads a SealedSecret (any scope) and checks what unsealing needs.
pub fn parse_sealed_secret(doc: &Value, index: usize) -> Result<SealedDoc, ObjectError> {
    check_kind(doc, index, SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND)?;
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let at = where_(
        index,
        SEALED_SECRET_KIND,
        Some(&name).filter(|n| !n.is_empty()).map(|s| s.as_str()),
    );
    if name.is_empty() {
        if let Some(other) = doc.pointer("/metadata/name").filter(|v| !v.is_null()) {
            return Err(not_a_string(&at, "metadata.name", other));
        }
        return Err(ObjectError::MissingName { at, input: false });
    }
    let namespace = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let scope = Scope::from_annotations(string_pairs(doc.pointer("/metadata/annotations")));
    if doc.pointer("/spec/encryptedData").is_none() && doc.pointer("/spec/data").is_some() {
        return Err(ObjectError::DeprecatedSpecData { at });
    }
    match doc.pointer("/spec/encryptedData") {
        Some(Value::Object(m)) => {
            if let Some((k, v)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(not_a_string(&at, &format!("spec.encryptedData.{k}"), v));
            }
        }
        None | Some(Value::Null) => {}
        Some(other) => {
            return Err(wrong_type(&at, "spec.encryptedData", "a mapping", other));
        }
    }
    Ok(SealedDoc {
        value: doc.clone(),
        name,
        namespace,
        scope,
    })
}

/// A Secret produced by unsealing; holds plaintext, so no Debug.
pub struct UnsealedSecret {
    pub metadata: Map<String, Value>,
    pub type_: Option<Value>,
    pub immutable: Option<Value>,
    pub items: Items,
}

/// The keys that failed to unseal, and why (the controller fails the whole object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsealFailure {
    pub failures: Vec<(String, seal::UnsealError)>,
}

impl std::fmt::Display for UnsealFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (k, e) in &self.failures {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{k}: {e}")?;
        }
        Ok(())
    }
}

/// Unseals every key of `sealed` by the controller's rules; any failing key fails the object.
pub fn unseal_sealed_secret(
    sealed: &SealedDoc,
    keys: &[PrivateKey],
) -> Result<UnsealedSecret, UnsealFailure> {
    let label = sealed.label();
    let mut items = Items::new();
    let mut failures = Vec::new();
    for (k, v) in sealed.encrypted_data() {
        match seal::unseal(keys, &label, v) {
            Ok(plain) => {
                items.insert(k.to_string(), plain);
            }
            Err(e) => failures.push((k.to_string(), e)),
        }
    }
    if !failures.is_empty() {
        return Err(UnsealFailure { failures });
    }
    let template = sealed.value.pointer("/spec/template");
    let mut metadata = template
        .and_then(|t| t.get("metadata"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.insert("name".into(), Value::String(sealed.name.clone()));
    metadata.insert("namespace".into(), Value::String(sealed.namespace.clone()));
    Ok(UnsealedSecret {
        metadata,
        type_: template.and_then(|t| t.get("type")).cloned(),
        immutable: template.and_then(|t| t.get("immutable")).cloned(),
        items,
    })
}

impl UnsealedSecret {
    /// The Secret manifest (data base64-encoded, keys sorted). The returned value holds
    /// plaintext: render it and pass it to [`scrub`].
    pub fn to_manifest(&self) -> Value {
        let data: Map<String, Value> = self
            .items
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(STANDARD.encode(v))))
            .collect();
        let mut m = Map::new();
        m.insert("apiVersion".into(), Value::String("v1".into()));
        m.insert("kind".into(), Value::String("Secret".into()));
        m.insert(
            "metadata".into(),
            Value::Object(ordered_meta(&self.metadata)),
        );
        if let Some(i) = &self.immutable {
            m.insert("immutable".into(), i.clone());
        }
        m.insert("data".into(), Value::Object(data));
        if let Some(t) = &self.type_ {
            m.insert("type".into(), t.clone());
        }
        Value::Object(m)
    }
}

/// Overwrites every string in `value` before it is dropped (plaintext manifests).
pub fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        _ => {}
    }
}

/// Merges a freshly sealed `update` into `orig` as `kubeseal --merge-into` does: encrypted
/// items, template annotations and labels are added or replaced; nothing is removed.
pub fn merge_into(orig: &mut Value, update: &Value) {
    fn merge_map(orig: &mut Value, path: &[&str], update: Option<&Value>) {
        let Some(Value::Object(src)) = update else {
            return;
        };
        let mut cur = orig;
        for p in path {
            if !cur.get(*p).is_some_and(Value::is_object) {
                cur[*p] = Value::Object(Map::new());
            }
            cur = cur.get_mut(*p).expect("inserted above");
        }
        let dst = cur.as_object_mut().expect("made an object above");
        for (k, v) in src {
            dst.insert(k.clone(), v.clone());
        }
        dst.sort_keys();
    }
    merge_map(
        orig,
        &["spec", "encryptedData"],
        update.pointer("/spec/encryptedData"),
    );
    merge_map(
        orig,
        &["spec", "template", "metadata", "annotations"],
        update.pointer("/spec/template/metadata/annotations"),
    );
    merge_map(
        orig,
        &["spec", "template", "metadata", "labels"],
        update.pointer("/spec/template/metadata/labels"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("A"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain(""));
        assert!(is_dns_label("secret-source"));
        assert!(!is_dns_label("a.b"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_data_key("tls.crt"));
        assert!(is_data_key("DEX_ADMIN_PASSWORD_HASH"));
        assert!(!is_data_key("a/b"));
        assert!(!is_data_key(""));
    }

    fn secret(yaml: &str) -> Result<SecretDoc, ObjectError> {
        let docs = crate::yaml::parse_documents(yaml).unwrap();
        parse_secret(&docs[0], 1)
    }

    #[test]
    fn string_data_wins_over_data() {
        let s = secret("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: YQ==, j: Yg==}\nstringData: {k: z}\n").ok().unwrap();
        assert_eq!(s.items["k"].as_slice(), b"z");
        assert_eq!(s.items["j"].as_slice(), b"b");
    }

    #[test]
    fn bad_base64_is_named_without_the_value() {
        let err = secret(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {pw: 'not base64!'}\n",
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "document 1 (Secret a): data.pw is not valid base64"
        );
    }

    #[test]
    fn non_string_string_data_is_refused() {
        let err =
            secret("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {port: 5432}\n")
                .err()
                .unwrap();
        assert!(err.to_string().contains("stringData.port must be a string"));
    }

    #[test]
    fn wrong_kind_is_named() {
        let err = secret("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "document 1: expected a Secret, found kind ConfigMap"
        );
    }

    #[test]
    fn resolve_applies_kubeseal_rules() {
        let mut s = secret("apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  uid: x\n  resourceVersion: '1'\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"k\":\"v\"}}'\nstringData: {k: v}\n").ok().unwrap();
        let req = SealRequest {
            default_namespace: "default".into(),
            ..Default::default()
        };
        let t = resolve(&mut s, &req, 1).unwrap();
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.scope, Scope::Strict);
        assert_eq!(t.label(), b"default/a");
        assert!(s.metadata.get("uid").is_none());
        assert!(s.metadata.get("annotations").is_none());
    }

    #[test]
    fn explicit_scope_replaces_annotations_and_cluster_wide_needs_no_namespace() {
        let mut s = secret("apiVersion: v1\nkind: Secret\nmetadata: {name: a, annotations: {sealedsecrets.bitnami.com/namespace-wide: 'true'}}\nstringData: {k: v}\n").ok().unwrap();
        let req = SealRequest {
            scope: Some(Scope::ClusterWide),
            default_namespace: "default".into(),
            ..Default::default()
        };
        let t = resolve(&mut s, &req, 1).unwrap();
        assert_eq!(t.scope, Scope::ClusterWide);
        assert_eq!(t.namespace, None);
        let ann = s.metadata["annotations"].as_object().unwrap();
        assert_eq!(ann.len(), 1);
        assert_eq!(ann[seal::CLUSTER_WIDE_ANNOTATION], "true");
    }

    #[test]
    fn namespace_mismatch_and_missing_name_and_empty_data() {
        let base =
            "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: x}\nstringData: {k: v}\n";
        let req = SealRequest {
            namespace: Some("y".into()),
            default_namespace: "default".into(),
            ..Default::default()
        };
        let err = resolve(&mut secret(base).ok().unwrap(), &req, 1).unwrap_err();
        assert!(
            err.to_string().starts_with("namespace mismatch:"),
            "{}",
            err.to_string()
        );

        let req = SealRequest {
            default_namespace: "default".into(),
            ..Default::default()
        };
        let mut s =
            secret("apiVersion: v1\nkind: Secret\nmetadata: {namespace: x}\nstringData: {k: v}\n")
                .ok()
                .unwrap();
        assert!(
            resolve(&mut s, &req, 1)
                .unwrap_err()
                .to_string()
                .contains("missing metadata.name")
        );
        let mut s = secret("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n")
            .ok()
            .unwrap();
        assert!(
            resolve(&mut s, &req, 1)
                .unwrap_err()
                .to_string()
                .contains("secret.data is empty")
        );
    }
}
