//! Everything that talks to a cluster, in one module: the kube client, the requests sealstrap
//! makes (certificate fetch, controller verify/rotate, server-side apply, the reads `doctor`
//! needs) and the errors a user can act on. Offline commands never reach this module.
//!
//! Every request has a timeout. Requests are plain REST calls through kube's client (auth, TLS,
//! kubeconfig handling are kube's), so the stand-in API server in the tests sees exactly what a
//! real one would.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// Field manager for server-side apply.
pub const FIELD_MANAGER: &str = "sealstrap";

/// How to reach the cluster.
#[derive(Clone, Debug)]
pub struct ClusterOpts {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub timeout: Duration,
    /// kubectl-style overrides (kubeseal's kubeconfig flags).
    pub overrides: Overrides,
}

/// kubectl's connection flags, applied over the kubeconfig.
#[derive(Clone, Default)]
pub struct Overrides {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub server: Option<String>,
    pub token: Option<String>,
    pub impersonate: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub certificate_authority: Option<PathBuf>,
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub insecure_skip_tls_verify: bool,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("impersonate", &self.impersonate)
            .finish_non_exhaustive()
    }
}

/// A cluster problem the user can act on. Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    #[error("no kubeconfig found ({0}) and not running inside a cluster")]
    NoKubeconfig(String),
    #[error("cannot read kubeconfig {path}: {message}")]
    BadKubeconfig { path: String, message: String },
    #[error("context {name:?} is not in the kubeconfig (it has: {available})")]
    ContextNotFound { name: String, available: String },
    #[error("cannot reach the API server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("access denied: cannot {verb} {resource}: {message}")]
    Forbidden {
        verb: String,
        resource: String,
        message: String,
    },
    #[error("not found: {what}")]
    NotFound { what: String },
    #[error("the API server did not answer within {secs} s ({verb} {resource})")]
    Timeout {
        verb: String,
        resource: String,
        secs: u64,
    },
    #[error("the API server refused to {verb} {resource}: {message} (HTTP {code})")]
    Api {
        verb: String,
        resource: String,
        code: u16,
        message: String,
    },
    #[error("this sealstrap was built without cluster support (cargo feature `cluster`)")]
    NotBuilt,
    #[error("{0}")]
    Other(String),
}

impl ClusterError {
    /// What the user can do.
    pub fn hint(&self) -> Option<String> {
        match self {
            ClusterError::NoKubeconfig(_) => Some(
                "set KUBECONFIG or pass --kubeconfig FILE; offline commands (seal --cert, kubeseal --cert) need no cluster".into(),
            ),
            ClusterError::ContextNotFound { .. } => {
                Some("pass one of the listed contexts with --context, or fix the kubeconfig".into())
            }
            ClusterError::Unreachable { .. } => Some(
                "check the network path to the API server (VPN, firewall) and the kubeconfig's server address".into(),
            ),
            ClusterError::Forbidden { verb, resource, .. } => Some(format!(
                "ask a cluster admin for permission to {verb} {resource}, or use a context that has it"
            )),
            ClusterError::Timeout { .. } => {
                Some("raise --request-timeout, or check the API server's health".into())
            }
            ClusterError::NotBuilt => Some(
                "use a full build (the default features) on a machine with cluster access; offline commands work here: seal --cert, kubeseal --cert, key new, unseal, reseal, verify, scan".into(),
            ),
            _ => None,
        }
    }
}

/// A request's verb and resource, for messages.
#[derive(Clone, Debug)]
pub struct What {
    pub verb: &'static str,
    pub resource: String,
}

impl What {
    pub fn new(verb: &'static str, resource: impl Into<String>) -> Self {
        What {
            verb,
            resource: resource.into(),
        }
    }
}

#[cfg(feature = "cluster")]
#[path = "cluster_kube.rs"]
mod transport;

/// An offline build (`--no-default-features`) has no client: connecting says so, and nothing
/// else can be reached without a connection.
#[cfg(not(feature = "cluster"))]
mod transport {
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::{ClusterError, ClusterOpts, What};

    /// Without kube, the one thing read from a kubeconfig (kubeseal's default namespace) is read
    /// here: the context's namespace, from `path`, else the first file of `KUBECONFIG`, else
    /// `~/.kube/config`.
    pub fn kubeconfig_namespace(path: Option<&Path>, context: Option<&str>) -> Option<String> {
        let path: PathBuf = match path {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
                Some(list) => std::env::split_paths(&list).find(|p| p.is_file())?,
                None => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".kube")
                    .join("config"),
            },
        };
        let text = std::fs::read_to_string(path).ok()?;
        let docs = crate::yaml::parse_documents(&text).ok()?;
        let cfg = docs.first()?;
        let ctx_name = match context {
            Some(c) => c.to_string(),
            None => cfg.get("current-context")?.as_str()?.to_string(),
        };
        cfg.get("contexts")?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(ctx_name.as_str()))?
            .pointer("/context/namespace")?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    pub enum Transport {}

    impl Transport {
        pub fn connect(_opts: &ClusterOpts) -> Result<Transport, ClusterError> {
            Err(ClusterError::NotBuilt)
        }

        pub fn send(
            &self,
            _method: http::Method,
            _path: &str,
            _content_type: Option<&str>,
            _body: Vec<u8>,
            _what: &What,
        ) -> Result<String, ClusterError> {
            match *self {}
        }

        pub fn list_secrets(
            &self,
            _ns: &str,
            _selector: Option<&str>,
        ) -> Result<Vec<Value>, ClusterError> {
            match *self {}
        }

        pub fn deployment_exists(&self, _ns: &str, _name: &str) -> Result<bool, ClusterError> {
            match *self {}
        }

        pub fn restart_deployment(&self, _ns: &str, _name: &str) -> Result<(), ClusterError> {
            match *self {}
        }
    }
}

/// The namespace of the kubeconfig's context: kubeseal's default namespace. The one kubeconfig
/// reader: kube's in a full build, a small one in an offline build.
pub use transport::kubeconfig_namespace;

/// A connection to the API server (see `cluster_kube.rs` for the client itself).
pub struct Cluster {
    transport: transport::Transport,
}

impl Cluster {
    /// Loads the kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else the
    /// in-cluster service account) and builds a client. No request is made yet.
    pub fn connect(opts: &ClusterOpts) -> Result<Cluster, ClusterError> {
        Ok(Cluster {
            transport: transport::Transport::connect(opts)?,
        })
    }

    /// Sends one request; returns the body text.
    pub fn send(
        &self,
        method: http::Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        what: &What,
    ) -> Result<String, ClusterError> {
        self.transport.send(method, path, content_type, body, what)
    }

    pub fn get_text(&self, path: &str, what: &What) -> Result<String, ClusterError> {
        self.send(http::Method::GET, path, None, Vec::new(), what)
    }

    pub fn get_json(&self, path: &str, what: &What) -> Result<Value, ClusterError> {
        let text = self.get_text(path, what)?;
        serde_json::from_str(&text).map_err(|e| {
            ClusterError::Other(format!(
                "unexpected answer to {} {}: {e}",
                what.verb, what.resource
            ))
        })
    }

    pub fn post_json(&self, path: &str, body: &Value, what: &What) -> Result<Value, ClusterError> {
        let text = self.send(
            http::Method::POST,
            path,
            Some("application/json"),
            serde_json::to_vec(body).expect("json"),
            what,
        )?;
        serde_json::from_str(&text).map_err(|e| {
            ClusterError::Other(format!(
                "unexpected answer to {} {}: {e}",
                what.verb, what.resource
            ))
        })
    }

    /// The controller Service's first port name (kubeseal's algorithm).
    fn controller_port(&self, name: &str, ns: &str) -> Result<String, ClusterError> {
        let what = What::new("get", format!("service {ns}/{name}"));
        let svc = self.get_json(&format!("/api/v1/namespaces/{ns}/services/{name}"), &what)?;
        svc.pointer("/spec/ports/0/name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                svc.pointer("/spec/ports/0/port")
                    .and_then(Value::as_u64)
                    .map(|p| p.to_string())
            })
            .ok_or_else(|| ClusterError::Other(format!("service {ns}/{name} has no ports")))
    }

    /// Looks for the sealed-secrets controller Service by the labels the Helm chart and the
    /// upstream manifests put on it: `(namespace, name)` pairs.
    pub fn find_controllers(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for selector in [
            "app.kubernetes.io/name%3Dsealed-secrets",
            "name%3Dsealed-secrets-controller",
        ] {
            let what = What::new("list", "services (all namespaces)");
            if let Ok(list) =
                self.get_json(&format!("/api/v1/services?labelSelector={selector}"), &what)
            {
                for item in list
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
                    let name = item.pointer("/metadata/name").and_then(Value::as_str);
                    // Skip the metrics Service the chart also labels.
                    if let (Some(ns), Some(name)) = (ns, name)
                        && !name.ends_with("-metrics")
                    {
                        let pair = (ns.to_string(), name.to_string());
                        if !found.contains(&pair) {
                            found.push(pair);
                        }
                    }
                }
            }
        }
        found
    }

    fn proxy_path(&self, name: &str, ns: &str, suffix: &str) -> Result<String, ClusterError> {
        let port = self.controller_port(name, ns)?;
        Ok(format!(
            "/api/v1/namespaces/{ns}/services/http:{name}:{port}/proxy{suffix}"
        ))
    }

    /// kubeseal's `--fetch-cert`: the controller's current certificate (PEM). When the Service
    /// does not exist, the error names the controllers found by label.
    pub fn fetch_cert(&self, name: &str, ns: &str) -> Result<String, FetchError> {
        let path = match self.proxy_path(name, ns, "/v1/cert.pem") {
            Ok(p) => p,
            Err(ClusterError::NotFound { .. }) => {
                return Err(FetchError::NoController {
                    name: name.into(),
                    namespace: ns.into(),
                    found: self.find_controllers(),
                });
            }
            Err(e) => return Err(FetchError::Cluster(e)),
        };
        self.get_text(
            &path,
            &What::new("get", format!("the certificate from service {ns}/{name}")),
        )
        .map_err(FetchError::Cluster)
    }

    /// POSTs a SealedSecret (JSON) to the controller's `suffix` endpoint through the proxy.
    fn post_to_controller(
        &self,
        name: &str,
        ns: &str,
        suffix: &str,
        sealed: &[u8],
    ) -> Result<String, ClusterError> {
        let path = self.proxy_path(name, ns, suffix)?;
        let what = What::new(
            "create",
            format!("a {suffix} request to service {ns}/{name}"),
        );
        self.send(
            http::Method::POST,
            &path,
            Some("application/json"),
            sealed.to_vec(),
            &what,
        )
    }

    /// kubeseal's `--validate`: whether the controller can decrypt `sealed` (JSON); it answers
    /// 409 when it cannot.
    pub fn verify_sealed(&self, name: &str, ns: &str, sealed: &[u8]) -> Result<bool, ClusterError> {
        match self.post_to_controller(name, ns, "/v1/verify", sealed) {
            Ok(_) => Ok(true),
            Err(ClusterError::Api { code: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// kubeseal's `--re-encrypt`: the controller re-encrypts `sealed` with its newest key.
    pub fn rotate_sealed(
        &self,
        name: &str,
        ns: &str,
        sealed: &[u8],
    ) -> Result<String, ClusterError> {
        match self.post_to_controller(name, ns, "/v1/rotate", sealed) {
            Err(ClusterError::Api { code: 409, .. }) => Err(ClusterError::Other(
                "unable to rotate secret: the controller cannot decrypt it".into(),
            )),
            other => other,
        }
    }

    /// A list's `items`; a list the server does not know (404: CRD not installed) is empty.
    fn list_items(&self, path: &str, what: &What) -> Result<Vec<Value>, ClusterError> {
        match self.get_json(path, what) {
            Ok(v) => Ok(v
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()),
            Err(ClusterError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// One object, or `None` when it does not exist.
    fn get_optional(&self, path: &str, what: &What) -> Result<Option<Value>, ClusterError> {
        match self.get_json(path, what) {
            Ok(v) => Ok(Some(v)),
            Err(ClusterError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The SealedSecrets in `ns`.
    pub fn list_sealed_secrets(&self, ns: &str) -> Result<Vec<Value>, ClusterError> {
        self.list_items(
            &format!("/apis/bitnami.com/v1alpha1/namespaces/{ns}/sealedsecrets"),
            &What::new("list", format!("sealedsecrets in {ns}")),
        )
    }

    /// The Secrets in `ns`, optionally only those with the label `selector` (a label key),
    /// through `kube::Api<Secret>`. They hold values: callers drop them as soon as they can.
    pub fn list_secrets(
        &self,
        ns: &str,
        selector: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        self.transport.list_secrets(ns, selector)
    }

    /// May `service_account` (`namespace:name`) `verb` `resource` in `ns`? The
    /// SubjectAccessReview's answer, as the API server returns it.
    pub fn access_review(
        &self,
        sa_namespace: &str,
        sa_name: &str,
        ns: &str,
        verb: &str,
        resource: &str,
    ) -> Result<Value, ClusterError> {
        let sar = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": format!("system:serviceaccount:{sa_namespace}:{sa_name}"),
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{sa_namespace}"), "system:authenticated"],
                "resourceAttributes": {"namespace": ns, "verb": verb, "resource": resource, "version": "v1"}
            }
        });
        self.post_json(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            &sar,
            &What::new("create", "subjectaccessreviews"),
        )
    }

    /// The ClusterSecretStore `name`, if it exists.
    pub fn get_cluster_secret_store(&self, name: &str) -> Result<Option<Value>, ClusterError> {
        self.get_optional(
            &format!("/apis/external-secrets.io/v1/clustersecretstores/{name}"),
            &What::new("get", format!("clustersecretstore {name}")),
        )
    }

    /// Every ExternalSecret in the cluster (the list object).
    pub fn list_external_secrets(&self) -> Result<Value, ClusterError> {
        self.get_json(
            "/apis/external-secrets.io/v1/externalsecrets",
            &What::new("list", "externalsecrets (all namespaces)"),
        )
    }

    /// Whether the Deployment `ns/name` exists (`kube::Api<Deployment>`).
    pub fn deployment_exists(&self, ns: &str, name: &str) -> Result<bool, ClusterError> {
        self.transport.deployment_exists(ns, name)
    }

    /// `kubectl rollout restart deployment/name`, as kube's `Api::restart` does it.
    pub fn restart_deployment(&self, ns: &str, name: &str) -> Result<(), ClusterError> {
        self.transport.restart_deployment(ns, name)
    }

    /// Server-side apply of one object (field manager `sealstrap`, conflicts forced).
    pub fn apply(&self, obj: &Value, dry_run: bool) -> Result<Value, ClusterError> {
        let path = resource_path(obj).map_err(ClusterError::Other)?;
        let what = What::new("patch", describe(obj));
        let mut url = format!("{path}?fieldManager={FIELD_MANAGER}&force=true");
        if dry_run {
            url.push_str("&dryRun=All");
        }
        let text = self.send(
            http::Method::PATCH,
            &url,
            Some("application/apply-patch+yaml"),
            serde_json::to_vec(obj).expect("json"),
            &what,
        )?;
        serde_json::from_str(&text)
            .map_err(|e| ClusterError::Other(format!("unexpected answer to apply: {e}")))
    }
}

/// `cert fetch` failures: the Service was not found (with what was found instead), or another
/// cluster problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch the certificate: service {namespace}/{name} not found")]
    NoController {
        name: String,
        namespace: String,
        found: Vec<(String, String)>,
    },
    #[error("cannot fetch the certificate: {0}")]
    Cluster(ClusterError),
}

impl FetchError {
    pub fn hint(&self) -> Option<String> {
        match self {
            FetchError::NoController { found, .. } if found.is_empty() => Some(
                "no sealed-secrets controller Service was found by its usual labels; is the controller installed? Pass --controller-name and --controller-namespace".into(),
            ),
            FetchError::NoController { found, .. } => Some(format!(
                "found the controller as {}: pass --controller-name {} --controller-namespace {}",
                found
                    .iter()
                    .map(|(ns, n)| format!("{ns}/{n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                found[0].1,
                found[0].0
            )),
            FetchError::Cluster(e) => e.hint(),
        }
    }
}

/// `Kind namespace/name`.
pub fn describe(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The kinds `apply` knows: (apiVersion, kind, plural, namespaced), in apply order.
pub const APPLY_ORDER: &[(&str, &str, &str, bool)] = &[
    ("v1", "Namespace", "namespaces", false),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "bitnami.com/v1alpha1",
        "SealedSecret",
        "sealedsecrets",
        true,
    ),
    (
        "external-secrets.io/v1",
        "ClusterSecretStore",
        "clustersecretstores",
        false,
    ),
];

/// Position of an object's kind in [`APPLY_ORDER`].
pub fn apply_rank(obj: &Value) -> Option<usize> {
    let api = obj.get("apiVersion").and_then(Value::as_str)?;
    let kind = obj.get("kind").and_then(Value::as_str)?;
    APPLY_ORDER
        .iter()
        .position(|(a, k, _, _)| *a == api && *k == kind)
}

/// Kinds sealstrap writes to the cluster but never from a folder: `key install` applies the
/// controller's key Secrets, while `apply` refuses any plaintext Secret it finds.
const OTHER_KINDS: &[(&str, &str, &str, bool)] = &[("v1", "Secret", "secrets", true)];

/// The REST path of an object.
pub fn resource_path(obj: &Value) -> Result<String, String> {
    let api = obj.get("apiVersion").and_then(Value::as_str);
    let kind = obj.get("kind").and_then(Value::as_str);
    let known = APPLY_ORDER
        .iter()
        .chain(OTHER_KINDS)
        .find(|(a, k, _, _)| Some(*a) == api && Some(*k) == kind);
    let (api, _, plural, namespaced) = *known.ok_or_else(|| {
        format!(
            "{}: sealstrap applies only {}",
            describe(obj),
            APPLY_ORDER
                .iter()
                .map(|(_, k, _, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{}: no metadata.name", describe(obj)))?;
    let base = if api == "v1" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api}")
    };
    if namespaced {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: no metadata.namespace", describe(obj)))?;
        Ok(format!("{base}/namespaces/{ns}/{plural}/{name}"))
    } else {
        Ok(format!("{base}/{plural}/{name}"))
    }
}

/// Parses kubectl-style durations: `30s`, `2m`, `1m30s`, or plain seconds.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let invalid = || format!("invalid duration {s:?}: use e.g. 30s, 2m, 1m30s");
    let total = if let Ok(n) = s.parse::<u64>() {
        n
    } else {
        let mut total = 0u64;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u64 = num.parse().map_err(|_| invalid())?;
            num.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return Err(invalid()),
            };
            total = n
                .checked_mul(unit)
                .and_then(|secs| total.checked_add(secs))
                .unwrap_or(u64::MAX);
        }
        if !num.is_empty() {
            return Err(invalid());
        }
        total
    };
    if total == 0 {
        return Err("the timeout must be above zero".into());
    }
    // A deadline past this one is no deadline; and a huge one would overflow the clock.
    if total > MAX_TIMEOUT_SECS {
        return Err(format!(
            "{s:?}: the timeout must be at most 24h (one request waits that long at most)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// The longest `--request-timeout`.
const MAX_TIMEOUT_SECS: u64 = 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_order() {
        let ns =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "secret-source"}});
        assert_eq!(
            resource_path(&ns).unwrap(),
            "/api/v1/namespaces/secret-source"
        );
        let ss = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a", "namespace": "secret-source"}});
        assert_eq!(
            resource_path(&ss).unwrap(),
            "/apis/bitnami.com/v1alpha1/namespaces/secret-source/sealedsecrets/a"
        );
        let css = json!({"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": {"name": "s"}});
        assert_eq!(
            resource_path(&css).unwrap(),
            "/apis/external-secrets.io/v1/clustersecretstores/s"
        );
        assert!(apply_rank(&ns) < apply_rank(&ss) && apply_rank(&ss) < apply_rank(&css));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(resource_path(&cm).unwrap_err().contains("applies only"));
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("5").unwrap(), Duration::from_secs(5));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("abc").is_err());
        assert!(parse_timeout("10x").is_err());
        assert_eq!(parse_timeout("24h").unwrap(), Duration::from_secs(86_400));
        for too_long in [
            "9999999999999999999h",
            "25h",
            "99999999999999999999",
            "1h1441m",
        ] {
            assert!(parse_timeout(too_long).is_err(), "{too_long}");
        }
    }
}
