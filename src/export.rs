//! First boot: the controller's escrowed key Secrets (and their Namespace) in the format each
//! bare-metal bootstrap applies before anything else runs, so the sealed-secrets controller finds
//! the escrowed key at its first start instead of making its own (upstream sealed-secrets #702).
//!
//! Pure: the keys come in, text goes out, in zeroizing buffers sized up front (the text holds the
//! private keys in the clear). Where and how it is written is the command's business
//! (`src/commands/key_export.rs`). Every format is built from the same manifest
//! ([`key_manifest`]), so each carries exactly the same Secrets. Sources:
//! - Talos: the machine-configuration schemas of siderolabs/talos v1.13.9 and v1.14.0-rc.1
//!   (`pkg/machinery/config/schemas/config.schema.json`, copied in `tests/data/schemas/`): up to
//!   1.13 `cluster.inlineManifests: [{name, contents}]` in the v1alpha1 config; from 1.14 a
//!   separate `KubeInlineManifestConfig` document (`apiVersion: v1alpha1`, `name`, `manifest`).
//!   Inline manifests are applied when the cluster is bootstrapped
//!   (https://docs.siderolabs.com/kubernetes-guides/advanced-guides/inlinemanifests).
//! - k3s / RKE2: files in `/var/lib/rancher/{k3s,rke2}/server/manifests/` are applied at start as
//!   AddOns named after the file (an RFC 1123 name: no `_`); deleting a file does not delete what
//!   it applied (https://docs.k3s.io/installation/packaged-components,
//!   https://docs.rke2.io/install/packaged_components).
//! - k0s: every direct subfolder of `/var/lib/k0s/manifests/` is a stack; removing its files
//!   prunes what they applied (https://docs.k0sproject.io/stable/manifests/).
//! - cloud-init: `#cloud-config` with `write_files` and `runcmd`, `merge_how` so it can be one
//!   part of a multi-part user-data (canonical/cloud-init
//!   `cloudinit/config/schemas/schema-cloud-config-v1.json`;
//!   https://cloudinit.readthedocs.io/en/latest/reference/merging.html).
//! - Cluster API: a Secret of type `addons.cluster.x-k8s.io/resource-set` and a
//!   `ClusterResourceSet` (kubernetes-sigs/cluster-api
//!   `core/config/crd/bases/addons.cluster.x-k8s.io_clusterresourcesets.yaml`).
//! - The Secrets themselves are the controller's (`crate::controller_key`); the oldest is named
//!   exactly the chart's `secretName` (the controller also reads the Secret of that name,
//!   upstream `pkg/controller/main.go` `initKeyRegistry`), the others `<secretName><5 hex>` as
//!   `key install` names them.

use zeroize::Zeroizing;

use crate::controller_key::{ControllerKey, ControllerKeyError};
use crate::objects::{is_dns_label, is_dns_subdomain};

/// The base name of every export: the k3s/RKE2 AddOn, the Talos inline manifest, the k0s stack.
pub const MANIFEST_NAME: &str = "sealed-secrets-keys";
/// The label `--to capi` selects Clusters by (value: the environment).
pub const ENVIRONMENT_LABEL: &str = "sealstrap.dev/environment";
/// Where `--to cloud-init --for kubeadm` puts the manifest until it is applied: root's home,
/// mode 0700 on every distribution, and outside `/etc/kubernetes`, which `kubeadm init` checks.
pub const KUBEADM_MANIFEST_PATH: &str = "/root/sealed-secrets-keys.yaml";
/// The admin kubeconfig `kubeadm init` writes.
pub const KUBEADM_ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
/// Namespaces every cluster has: the export never carries a Namespace object for them (a k0s
/// stack holding one would try to prune it).
const BUILT_IN_NAMESPACES: [&str; 4] = ["kube-system", "default", "kube-public", "kube-node-lease"];

/// The bootstrap an export is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Talos,
    K3s,
    Rke2,
    K0s,
    CloudInit,
    Capi,
    Kubectl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Talos => "talos",
            Format::K3s => "k3s",
            Format::Rke2 => "rke2",
            Format::K0s => "k0s",
            Format::CloudInit => "cloud-init",
            Format::Capi => "capi",
            Format::Kubectl => "kubectl",
        }
    }
}

/// What a `#cloud-config` export starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudInitFor {
    K3s,
    Rke2,
    Kubeadm,
}

/// A Talos release, `MAJOR.MINOR`: it decides the inline-manifest shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TalosVersion {
    pub major: u32,
    pub minor: u32,
}

impl TalosVersion {
    /// The newest shape, a `KubeInlineManifestConfig` document.
    pub const DOCUMENT_FROM: TalosVersion = TalosVersion {
        major: 1,
        minor: 14,
    };

    /// `1.13`, `v1.13`, `1.14.0`, `v1.14.0-rc.1`.
    pub fn parse(s: &str) -> Result<TalosVersion, ExportError> {
        let bad = || ExportError::BadTalosVersion(s.chars().take(40).collect());
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split(['.', '-']);
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if major != 1 {
            return Err(bad());
        }
        Ok(TalosVersion { major, minor })
    }

    /// Whether this release takes the separate `KubeInlineManifestConfig` document (1.14+)
    /// rather than `cluster.inlineManifests` in the v1alpha1 config.
    pub fn takes_document(self) -> bool {
        self >= Self::DOCUMENT_FROM
    }
}

impl std::fmt::Display for TalosVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why an export cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Key(#[from] ControllerKeyError),
    #[error("the escrow holds no key")]
    NoKeys,
    #[error("--talos-version {0:?} is not a Talos release")]
    BadTalosVersion(String),
    #[error("--controller-namespace {0:?} is not a valid namespace (a DNS label)")]
    BadNamespace(String),
    #[error("--capi-namespace {0:?} is not a valid namespace (a DNS label)")]
    BadCapiNamespace(String),
    #[error("--secret-name {0:?} is not a valid Secret name prefix")]
    BadSecretName(String),
    #[error("--cluster-selector {0:?} is not a Kubernetes label KEY=VALUE")]
    BadSelector(String),
    #[error("--to cloud-init needs --for k3s, rke2 or kubeadm: it decides where the manifest goes")]
    CloudInitNeedsFor,
    #[error(
        "--to capi needs --cluster-selector KEY=VALUE outside the platform (in the platform it defaults to {ENVIRONMENT_LABEL}=ENV)"
    )]
    CapiNeedsSelector,
    #[error("keys {0} and {1} would get the same Secret name {2}")]
    NameClash(String, String, String),
}

impl ExportError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ExportError::BadTalosVersion(_) => Some(
                "pass the Talos release of the cluster, e.g. --talos-version 1.13 (1.14 and later take a separate document)",
            ),
            ExportError::BadSecretName(_) => Some(
                "the chart's secretName: a lowercase DNS name of at most 247 characters (sealed-secrets-key by default)",
            ),
            ExportError::BadSelector(_) => {
                Some("e.g. --cluster-selector sealstrap.dev/environment=prod")
            }
            ExportError::NameClash(..) => Some(
                "two escrowed keys share the first five hex digits of their fingerprints; retire one (`sealstrap key retire`) or pass another --secret-name",
            ),
            _ => None,
        }
    }
}

/// What every export needs besides the keys.
#[derive(Clone, Debug)]
pub struct Options {
    /// The controller's namespace.
    pub namespace: String,
    /// The chart's `secretName` (the controller's `--key-prefix`).
    pub secret_name: String,
    /// The environment, in the platform: named in the header and the CAPI objects.
    pub environment: Option<String>,
    pub talos: TalosVersion,
    pub cloud_init_for: Option<CloudInitFor>,
    /// The management cluster's namespace of the Clusters (`--to capi`).
    pub capi_namespace: String,
    /// The Clusters `--to capi` applies to: a label (key, value).
    pub cluster_selector: Option<(String, String)>,
}

impl Options {
    /// Checks every name before anything is rendered.
    pub fn check(&self, format: Format) -> Result<(), ExportError> {
        self.check_flags(format)?;
        if format == Format::Capi && self.selector().is_none() {
            return Err(ExportError::CapiNeedsSelector);
        }
        Ok(())
    }

    /// The checks that need no environment (done before any escrow is opened).
    pub fn check_flags(&self, format: Format) -> Result<(), ExportError> {
        if !is_dns_label(&self.namespace) {
            return Err(ExportError::BadNamespace(self.namespace.clone()));
        }
        // The other keys get five characters more.
        if !is_dns_subdomain(&self.secret_name) || self.secret_name.len() > 248 {
            return Err(ExportError::BadSecretName(self.secret_name.clone()));
        }
        match format {
            Format::CloudInit if self.cloud_init_for.is_none() => {
                return Err(ExportError::CloudInitNeedsFor);
            }
            Format::Capi if !is_dns_label(&self.capi_namespace) => {
                return Err(ExportError::BadCapiNamespace(self.capi_namespace.clone()));
            }
            _ => {}
        }
        Ok(())
    }

    /// The CAPI selector: the one given, else `sealstrap.dev/environment=<env>`.
    fn selector(&self) -> Option<(String, String)> {
        self.cluster_selector.clone().or_else(|| {
            self.environment
                .as_ref()
                .map(|e| (ENVIRONMENT_LABEL.to_string(), e.clone()))
        })
    }

    /// `sealed-secrets-keys-<env>` (the CAPI Secret and ClusterResourceSet).
    fn capi_name(&self) -> String {
        match &self.environment {
            Some(e) => format!("{MANIFEST_NAME}-{e}"),
            None => MANIFEST_NAME.to_string(),
        }
    }
}

/// Parses `--cluster-selector KEY=VALUE` (a Kubernetes label).
pub fn parse_selector(s: &str) -> Result<(String, String), ExportError> {
    let bad = || ExportError::BadSelector(s.chars().take(80).collect());
    let (k, v) = s.split_once('=').ok_or_else(bad)?;
    if !is_label_key(k) || !is_label_value(v) {
        return Err(bad());
    }
    Ok((k.to_string(), v.to_string()))
}

/// A label name part: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_label_key(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// The escrow's keys, oldest first, with the Secret name each gets: the oldest the chart's
/// `secretName`, the others `<secretName><5 hex>`.
pub fn secret_names<'a>(
    keys: &'a [ControllerKey],
    secret_name: &str,
) -> Result<Vec<(&'a ControllerKey, String)>, ExportError> {
    let mut sorted: Vec<&ControllerKey> = keys.iter().collect();
    sorted.sort_by_key(|k| k.cert.not_before);
    let named: Vec<(&ControllerKey, String)> = sorted
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let name = if i == 0 {
                secret_name.to_string()
            } else {
                k.secret_name(secret_name)
            };
            (k, name)
        })
        .collect();
    for (i, (a, name)) in named.iter().enumerate() {
        if let Some((b, _)) = named[i + 1..].iter().find(|(_, n)| n == name) {
            return Err(ExportError::NameClash(
                a.cert.fingerprint.clone(),
                b.cert.fingerprint.clone(),
                name.clone(),
            ));
        }
    }
    Ok(named)
}

/// Whether an export carries a Namespace object for `namespace` (not for those every cluster
/// has).
pub fn carries_namespace(namespace: &str) -> bool {
    !BUILT_IN_NAMESPACES.contains(&namespace)
}

/// The manifest every format carries: the controller's Namespace (unless it is one every cluster
/// has), then every escrowed key Secret, oldest first, as YAML documents `kubectl apply -f` takes.
pub fn key_manifest(
    keys: &[ControllerKey],
    namespace: &str,
    secret_name: &str,
) -> Result<Zeroizing<String>, ExportError> {
    if keys.is_empty() {
        return Err(ExportError::NoKeys);
    }
    let named = secret_names(keys, secret_name)?;
    let mut docs: Vec<Zeroizing<String>> = Vec::new();
    if carries_namespace(namespace) {
        docs.push(Zeroizing::new(format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        )));
    }
    for (k, name) in named {
        docs.push(k.secret_document(namespace, &name)?);
    }
    let mut out = sized(docs.iter().map(|d| d.len() + 4).sum());
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(d);
    }
    Ok(out)
}

/// One rendered export: where it goes (relative to the output folder) and its text.
pub struct Export {
    /// `sealed-secrets-keys.yaml`, or `sealed-secrets-keys/sealed-secrets-keys.yaml` for k0s.
    pub rel_path: String,
    pub text: Zeroizing<String>,
    /// How many key Secrets it carries.
    pub keys: usize,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("rel_path", &self.rel_path)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// The file name of each format's export.
pub fn rel_path(format: Format) -> String {
    match format {
        Format::Talos => format!("{MANIFEST_NAME}.talos.yaml"),
        Format::K3s | Format::Rke2 | Format::Kubectl => format!("{MANIFEST_NAME}.yaml"),
        Format::K0s => format!("{MANIFEST_NAME}/{MANIFEST_NAME}.yaml"),
        Format::CloudInit => format!("{MANIFEST_NAME}.cloud-config.yaml"),
        Format::Capi => format!("{MANIFEST_NAME}.capi.yaml"),
    }
}

/// Renders the export of `keys` for `format`.
pub fn render(
    format: Format,
    keys: &[ControllerKey],
    opts: &Options,
) -> Result<Export, ExportError> {
    opts.check(format)?;
    let manifest = key_manifest(keys, &opts.namespace, &opts.secret_name)?;
    let header = header(format, keys.len(), opts);
    let mut out = sized(2 * manifest.len() + header.len() + 2048);
    match format {
        Format::K3s | Format::Rke2 | Format::K0s | Format::Kubectl => {
            out.push_str(&header);
            out.push_str(&manifest);
        }
        Format::Talos if opts.talos.takes_document() => {
            out.push_str(&header);
            out.push_str("apiVersion: v1alpha1\nkind: KubeInlineManifestConfig\n");
            out.push_str("name: ");
            out.push_str(MANIFEST_NAME);
            out.push_str("\nmanifest: |\n");
            push_indented(&mut out, &manifest, "  ");
        }
        Format::Talos => {
            out.push_str(&header);
            out.push_str("cluster:\n  inlineManifests:\n    - name: ");
            out.push_str(MANIFEST_NAME);
            out.push_str("\n      contents: |\n");
            push_indented(&mut out, &manifest, "        ");
        }
        Format::CloudInit => {
            // The first line must be the marker (cloud-init's user-data type).
            out.push_str("#cloud-config\n");
            out.push_str(&header);
            // Appends to the other parts' lists instead of replacing them.
            out.push_str(
                "merge_how:\n  - name: list\n    settings: [append]\n  - name: dict\n    settings: [no_replace, recurse_list]\n",
            );
            let path = match opts.cloud_init_for {
                Some(CloudInitFor::K3s) => k3s_path("k3s"),
                Some(CloudInitFor::Rke2) => k3s_path("rke2"),
                Some(CloudInitFor::Kubeadm) => KUBEADM_MANIFEST_PATH.to_string(),
                None => return Err(ExportError::CloudInitNeedsFor),
            };
            out.push_str("write_files:\n  - path: ");
            out.push_str(&path);
            out.push_str("\n    owner: root:root\n    permissions: '0600'\n    content: |\n");
            push_indented(&mut out, &manifest, "      ");
            if opts.cloud_init_for == Some(CloudInitFor::Kubeadm) {
                out.push_str("runcmd:\n  - - sh\n    - -c\n    - '");
                out.push_str(&kubeadm_apply_script());
                out.push_str("'\n");
            }
        }
        Format::Capi => {
            let name = opts.capi_name();
            let ns = &opts.capi_namespace;
            let (key, value) = opts.selector().ok_or(ExportError::CapiNeedsSelector)?;
            out.push_str(&header);
            out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ");
            out.push_str(&name);
            out.push_str("\n  namespace: ");
            out.push_str(ns);
            out.push_str("\ntype: addons.cluster.x-k8s.io/resource-set\nstringData:\n  ");
            out.push_str(MANIFEST_NAME);
            out.push_str(".yaml: |\n");
            push_indented(&mut out, &manifest, "    ");
            out.push_str(&format!(
                "---\napiVersion: addons.cluster.x-k8s.io/v1beta2\nkind: ClusterResourceSet\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  strategy: ApplyOnce\n  clusterSelector:\n    matchLabels:\n      {key}: {}\n  resources:\n    - kind: Secret\n      name: {name}\n",
                yaml_scalar(&value)
            ));
        }
    }
    Ok(Export {
        rel_path: rel_path(format),
        text: out,
        keys: keys.len(),
    })
}

/// Where k3s or RKE2 reads its AddOn manifests.
pub fn k3s_path(distro: &str) -> String {
    format!("/var/lib/rancher/{distro}/server/manifests/{MANIFEST_NAME}.yaml")
}

/// The `runcmd` script of `--for kubeadm`: apply the manifest with the admin kubeconfig once the
/// API server answers (up to 5 minutes after `kubeadm init`), server-side (so no
/// `last-applied-configuration` annotation holds a second copy of the key), then remove it. On
/// failure the file stays and cloud-init records the error. No single quote: it is written in a
/// single-quoted YAML scalar.
pub fn kubeadm_apply_script() -> String {
    format!(
        "i=0; until kubectl --kubeconfig={KUBEADM_ADMIN_CONF} apply --server-side --field-manager=sealstrap -f {p}; do i=$((i+1)); if [ \"$i\" -ge 60 ]; then echo \"sealstrap: the sealed-secrets keys were not applied; {p} stays\" >&2; exit 1; fi; sleep 5; done; shred -u {p} 2>/dev/null || rm -f {p}",
        p = KUBEADM_MANIFEST_PATH
    )
}

/// The comment that opens every export: what it is, that it holds private keys in the clear,
/// and that it must never be committed.
fn header(format: Format, keys: usize, opts: &Options) -> String {
    let env = match &opts.environment {
        Some(e) => format!(" of environment {e}"),
        None => String::new(),
    };
    let mut h = format!(
        "# The sealed-secrets controller's keys{env} ({keys} key Secret(s) in {}, oldest first),\n\
         # PRIVATE KEYS IN THE CLEAR: they open every value sealed for this cluster. Never commit\n\
         # this file; delete it once `sealstrap doctor --first-boot` passes.\n\
         # Made by `sealstrap key export --to {}`.\n",
        opts.namespace,
        format.as_str()
    );
    let note = match format {
        Format::Talos => Some(
            "# Talos applies inline manifests when it bootstraps the cluster; the key then stays in the\n# machine config. Later keys go in with `sealstrap key install`.\n",
        ),
        Format::K3s | Format::Rke2 => Some(
            "# Applied at start as an AddOn; removing this file later does not delete the key Secrets.\n",
        ),
        Format::K0s => Some(
            "# WARNING: k0s PRUNES what a stack applied when its files are removed: removing this stack\n# deletes the key Secrets (and the Namespace, with everything in it). Read the README first.\n",
        ),
        _ => None,
    };
    if let Some(n) = note {
        h.push_str(n);
    }
    h
}

/// A zeroizing buffer with room for `n` bytes, so it never reallocates (and leaves no copy).
fn sized(n: usize) -> Zeroizing<String> {
    Zeroizing::new(String::with_capacity(n))
}

/// Appends `text`'s lines, each indented by `indent` (a YAML block scalar's content).
fn push_indented(out: &mut Zeroizing<String>, text: &str, indent: &str) {
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(indent);
        }
        out.push_str(line);
        out.push('\n');
    }
}

/// A label value as a YAML scalar: quoted when YAML would read it as something else.
fn yaml_scalar(v: &str) -> String {
    let plain = !v.is_empty()
        && v.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        v.to_string()
    } else {
        format!("\"{v}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller_key::Template;
    use serde_json::Value;

    fn vector_key(name: &str, not_before: i64) -> ControllerKey {
        let pem = std::fs::read(format!(
            "{}/tests/data/vectors/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let key = crate::keys::parse_private_keys(&pem).unwrap().remove(0);
        ControllerKey::new(
            key,
            &Template {
                common_name: None,
                not_before,
                ttl_secs: 3600 * 24 * 365,
                serial: [7; 16],
            },
        )
        .unwrap()
    }

    fn two_keys() -> Vec<ControllerKey> {
        // Newest first on purpose: the export sorts oldest first.
        vec![
            vector_key("other-4096.key.pem", 1_800_000_100),
            vector_key("controller-2048.key.pem", 1_800_000_000),
        ]
    }

    fn opts() -> Options {
        Options {
            namespace: "sealed-secrets".into(),
            secret_name: "sealed-secrets-key".into(),
            environment: Some("metal".into()),
            talos: TalosVersion::DOCUMENT_FROM,
            cloud_init_for: None,
            capi_namespace: "default".into(),
            cluster_selector: None,
        }
    }

    fn docs(text: &str) -> Vec<Value> {
        crate::yaml::parse_documents(text).unwrap()
    }

    /// The keys a manifest carries, back out of its text.
    fn keys_in(manifest: &str) -> Vec<String> {
        let secrets: Vec<Value> = docs(manifest)
            .into_iter()
            .filter(|d| d["kind"] == "Secret")
            .collect();
        crate::controller_key::from_secrets(&secrets)
            .unwrap()
            .into_iter()
            .map(|k| k.cert.fingerprint)
            .collect()
    }

    #[test]
    fn the_manifest_is_the_namespace_then_every_key_oldest_first_the_oldest_named_as_the_chart() {
        let keys = two_keys();
        let m = key_manifest(&keys, "sealed-secrets", "sealed-secrets-key").unwrap();
        let d = docs(&m);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0]["kind"], "Namespace");
        assert_eq!(d[0]["metadata"]["name"], "sealed-secrets");
        assert_eq!(d[1]["metadata"]["name"], "sealed-secrets-key");
        let second = d[2]["metadata"]["name"].as_str().unwrap();
        assert_eq!(second, keys[0].secret_name("sealed-secrets-key"));
        for s in &d[1..] {
            assert_eq!(s["type"], "kubernetes.io/tls");
            assert_eq!(s["metadata"]["namespace"], "sealed-secrets");
            assert_eq!(
                s["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"],
                "active"
            );
        }
        // The oldest first.
        assert_eq!(
            keys_in(&m),
            vec![
                keys[1].cert.fingerprint.clone(),
                keys[0].cert.fingerprint.clone()
            ]
        );
        // kube-system always exists: no Namespace object for it.
        let m = key_manifest(&keys, "kube-system", "sealed-secrets-key").unwrap();
        assert!(docs(&m).iter().all(|d| d["kind"] == "Secret"));
        assert_eq!(
            key_manifest(&[], "x", "y").unwrap_err(),
            ExportError::NoKeys
        );
    }

    #[test]
    fn every_format_carries_the_same_keys() {
        let keys = two_keys();
        let want = keys_in(&key_manifest(&keys, "sealed-secrets", "sealed-secrets-key").unwrap());
        let extract = |f: Format, o: &Options| -> String {
            let e = render(f, &keys, o).unwrap();
            assert_eq!(e.keys, 2);
            assert!(
                e.text.contains("PRIVATE KEYS IN THE CLEAR") && e.text.contains("Never commit"),
                "{f:?}"
            );
            let d = docs(&e.text);
            match f {
                Format::Talos if o.talos.takes_document() => {
                    assert_eq!(d[0]["kind"], "KubeInlineManifestConfig");
                    assert_eq!(d[0]["name"], MANIFEST_NAME);
                    d[0]["manifest"].as_str().unwrap().to_string()
                }
                Format::Talos => d[0]["cluster"]["inlineManifests"][0]["contents"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                Format::CloudInit => {
                    assert!(e.text.starts_with("#cloud-config\n"));
                    let f = &d[0]["write_files"][0];
                    assert_eq!(f["permissions"], "0600");
                    assert_eq!(f["owner"], "root:root");
                    f["content"].as_str().unwrap().to_string()
                }
                Format::Capi => {
                    assert_eq!(d[0]["type"], "addons.cluster.x-k8s.io/resource-set");
                    assert_eq!(d[1]["kind"], "ClusterResourceSet");
                    assert_eq!(d[1]["spec"]["strategy"], "ApplyOnce");
                    assert_eq!(
                        d[1]["spec"]["clusterSelector"]["matchLabels"][ENVIRONMENT_LABEL],
                        "metal"
                    );
                    assert_eq!(
                        d[1]["spec"]["resources"][0]["name"],
                        d[0]["metadata"]["name"]
                    );
                    d[0]["stringData"]["sealed-secrets-keys.yaml"]
                        .as_str()
                        .unwrap()
                        .to_string()
                }
                _ => e.text.to_string(),
            }
        };
        let mut o = opts();
        for f in [
            Format::K3s,
            Format::Rke2,
            Format::K0s,
            Format::Kubectl,
            Format::Capi,
        ] {
            assert_eq!(keys_in(&extract(f, &o)), want, "{f:?}");
        }
        for t in ["1.13", "1.14"] {
            o.talos = TalosVersion::parse(t).unwrap();
            assert_eq!(keys_in(&extract(Format::Talos, &o)), want, "talos {t}");
        }
        for who in [CloudInitFor::K3s, CloudInitFor::Rke2, CloudInitFor::Kubeadm] {
            o.cloud_init_for = Some(who);
            assert_eq!(keys_in(&extract(Format::CloudInit, &o)), want, "{who:?}");
        }
    }

    #[test]
    fn cloud_init_puts_the_file_where_its_bootstrap_reads_and_kubeadm_applies_it() {
        let keys = two_keys();
        let mut o = opts();
        o.cloud_init_for = Some(CloudInitFor::Rke2);
        let d = docs(&render(Format::CloudInit, &keys, &o).unwrap().text);
        assert_eq!(
            d[0]["write_files"][0]["path"],
            "/var/lib/rancher/rke2/server/manifests/sealed-secrets-keys.yaml"
        );
        assert!(d[0].get("runcmd").is_none());
        o.cloud_init_for = Some(CloudInitFor::Kubeadm);
        let d = docs(&render(Format::CloudInit, &keys, &o).unwrap().text);
        assert_eq!(d[0]["write_files"][0]["path"], KUBEADM_MANIFEST_PATH);
        let cmd = &d[0]["runcmd"][0];
        assert_eq!(cmd[0], "sh");
        let script = cmd[2].as_str().unwrap();
        assert!(script.contains("--kubeconfig=/etc/kubernetes/admin.conf apply --server-side"));
        assert!(script.contains(&format!("-f {KUBEADM_MANIFEST_PATH}")));
        assert!(!kubeadm_apply_script().contains('\''));
        o.cloud_init_for = None;
        assert_eq!(
            render(Format::CloudInit, &keys, &o).unwrap_err(),
            ExportError::CloudInitNeedsFor
        );
    }

    #[test]
    fn talos_versions_choose_the_shape() {
        for (s, doc) in [
            ("1.13", false),
            ("v1.13.9", false),
            ("1.12", false),
            ("1.14", true),
            ("v1.14.0-rc.1", true),
            ("1.15.2", true),
        ] {
            assert_eq!(TalosVersion::parse(s).unwrap().takes_document(), doc, "{s}");
        }
        for s in ["", "1", "2.0", "one.two", "1.x"] {
            assert!(TalosVersion::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn names_and_selectors_are_checked() {
        let keys = two_keys();
        let mut o = opts();
        o.namespace = "Not_A_Namespace".into();
        assert!(matches!(
            render(Format::K3s, &keys, &o),
            Err(ExportError::BadNamespace(_))
        ));
        let mut o = opts();
        o.secret_name = "bad name".into();
        assert!(matches!(
            render(Format::K3s, &keys, &o),
            Err(ExportError::BadSecretName(_))
        ));
        let mut o = opts();
        o.environment = None;
        assert_eq!(
            render(Format::Capi, &keys, &o).unwrap_err(),
            ExportError::CapiNeedsSelector
        );
        o.cluster_selector = Some(parse_selector("example.com/site=rack-1").unwrap());
        let d = docs(&render(Format::Capi, &keys, &o).unwrap().text);
        assert_eq!(
            d[1]["spec"]["clusterSelector"]["matchLabels"]["example.com/site"],
            "rack-1"
        );
        assert_eq!(d[1]["metadata"]["name"], MANIFEST_NAME);
        for bad in ["noequals", "a b=c", "k=-v", "/k=v", "k=v/w"] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
        // A value YAML would read as a boolean stays a string.
        o.cluster_selector = Some(parse_selector("first-boot=true").unwrap());
        let d = docs(&render(Format::Capi, &keys, &o).unwrap().text);
        assert_eq!(
            d[1]["spec"]["clusterSelector"]["matchLabels"]["first-boot"],
            "true"
        );
    }

    #[test]
    fn the_text_buffer_never_grows() {
        // A growth would leave a copy of the key in freed memory: the capacity is set up front.
        let keys = two_keys();
        let mut o = opts();
        o.cloud_init_for = Some(CloudInitFor::Kubeadm);
        for f in [Format::Talos, Format::CloudInit, Format::Capi, Format::K3s] {
            let e = render(f, &keys, &o).unwrap();
            let manifest = key_manifest(&keys, &o.namespace, &o.secret_name).unwrap();
            assert!(
                e.text.capacity() == 2 * manifest.len() + header(f, 2, &o).len() + 2048,
                "{f:?}: the buffer was reallocated"
            );
        }
    }

    #[test]
    fn one_key_is_named_exactly_as_the_chart_and_k0s_gets_a_stack_folder() {
        let k = vector_key("controller-4096.key.pem", 1_800_000_000);
        let e = render(Format::Kubectl, std::slice::from_ref(&k), &opts()).unwrap();
        assert_eq!(keys_in(&e.text), vec![k.cert.fingerprint.clone()]);
        let d = docs(&e.text);
        assert_eq!(d[1]["metadata"]["name"], "sealed-secrets-key");
        assert_eq!(e.rel_path, "sealed-secrets-keys.yaml");
        assert_eq!(
            rel_path(Format::K0s),
            "sealed-secrets-keys/sealed-secrets-keys.yaml"
        );
        assert!(
            render(Format::K0s, std::slice::from_ref(&k), &opts())
                .unwrap()
                .text
                .contains("PRUNES")
        );
    }
}
