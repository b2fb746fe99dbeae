//! kubeseal's own command line, for the drop-in (`sealstrap kubeseal`, or the binary called
//! `kubeseal`).

use std::path::PathBuf;

use clap::{Args, Parser};
use sealstrap::defaults;

use super::*;

/// Everything after `sealstrap kubeseal`, parsed as kubeseal's own flags.
#[derive(Args)]
pub struct KubesealPassthrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<std::ffi::OsString>,
}

/// kubeseal's flags. Environment fallbacks are `SEALED_SECRETS_<FLAG>`; a flag wins.
#[derive(Parser)]
#[command(
    name = "kubeseal",
    version = VERSION,
    about = "sealstrap's drop-in for kubeseal: seal Secrets with the sealed-secrets controller's certificate, offline.",
    after_help = "\
Where sealstrap does better than kubeseal:
  --merge-into keeps the file's format (YAML stays YAML) and takes the scope from the file.
  -o follows a -w file's extension (.yaml/.yml: yaml, .json: json) unless -o is given.
  A clear message when stdin is a terminal; input and output may not be the same file.
  Every error names the document and field; no secret value is ever printed in an error.

Without --cert the certificate is fetched from the controller, as kubeseal does; --fetch-cert,
--validate and --re-encrypt talk to the controller through the API server's service proxy, using
the kubeconfig (--kubeconfig, --context and kubectl's connection flags). Every request times out
after --request-timeout (default 30s).

Exit codes: 0 success, 1 error (as kubeseal), 2 usage error.

Examples:
  kubeseal --cert pub.pem -f secret.yaml -w sealed.yaml
  kubectl create secret generic db --from-literal=pw=s3cret --dry-run=client -o yaml | kubeseal --cert pub.pem -o yaml
  printf %s s3cret | kubeseal --cert pub.pem --raw --name db -n app --from-file /dev/stdin
  kubeseal --cert pub.pem --merge-into sealed.yaml < extra-key.yaml
  kubeseal --recovery-unseal --recovery-private-key key.pem -f sealed.yaml"
)]
#[command(group(
    clap::ArgGroup::new("mode")
        .multiple(false)
        .args(["raw", "merge_into", "recovery_unseal", "fetch_cert", "validate", "re_encrypt"])
))]
pub struct KubesealArgs {
    /// Certificate / public key file to seal with (PEM; a file:// URL also works).
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE")]
    pub cert: Option<String>,
    /// Secret file to seal (`-` or none: stdin).
    #[arg(
        short = 'f',
        long = "secret-file",
        env = "SEALED_SECRETS_SECRET_FILE",
        value_name = "FILE"
    )]
    pub secret_file: Option<PathBuf>,
    /// Write the sealed output to FILE (atomically, only on success) instead of stdout.
    #[arg(
        short = 'w',
        long = "sealed-secret-file",
        env = "SEALED_SECRETS_SEALED_SECRET_FILE",
        value_name = "FILE"
    )]
    pub sealed_secret_file: Option<PathBuf>,
    /// Output format: json or yaml (default json, or the -w file's extension).
    #[arg(
        short = 'o',
        long = "format",
        env = "SEALED_SECRETS_FORMAT",
        value_name = "FORMAT",
        value_parser = parse_format
    )]
    pub format: Option<sealstrap::yaml::Format>,
    /// Scope: strict, namespace-wide or cluster-wide (default: the Secret's annotations, else strict).
    #[arg(long, env = "SEALED_SECRETS_SCOPE", value_name = "SCOPE", value_parser = parse_scope)]
    pub scope: Option<sealstrap::seal::Scope>,
    /// Name of the sealed secret (overrides metadata.name; required with --raw and strict scope).
    #[arg(long, env = "SEALED_SECRETS_NAME")]
    pub name: Option<String>,
    /// Namespace (must match the Secret's own namespace if it has one).
    #[arg(short = 'n', long, env = "SEALED_SECRETS_NAMESPACE")]
    pub namespace: Option<String>,
    /// Seal one raw value (from --from-file or stdin) and print bare base64.
    #[arg(long, env = "SEALED_SECRETS_RAW")]
    pub raw: bool,
    /// With --raw: the file holding the value, exact bytes (kubectl's `[key=]path` form works).
    #[arg(
        long = "from-file",
        env = "SEALED_SECRETS_FROM_FILE",
        value_name = "FILE"
    )]
    pub from_file: Option<String>,
    /// Seal the input and merge its items into this existing SealedSecret file.
    #[arg(
        long = "merge-into",
        env = "SEALED_SECRETS_MERGE_INTO",
        value_name = "FILE"
    )]
    pub merge_into: Option<PathBuf>,
    /// Allow a Secret with no data.
    #[arg(long = "allow-empty-data", env = "SEALED_SECRETS_ALLOW_EMPTY_DATA")]
    pub allow_empty_data: bool,
    /// Unseal SealedSecrets with private keys (offline recovery); prints the Secrets.
    #[arg(long = "recovery-unseal", env = "SEALED_SECRETS_RECOVERY_UNSEAL")]
    pub recovery_unseal: bool,
    /// age identity that opens an escrow given as --recovery-private-key (sealstrap's addition).
    #[arg(
        long = "recovery-identity",
        env = "SEALSTRAP_IDENTITY",
        value_name = "FILE"
    )]
    pub recovery_identity: Vec<PathBuf>,
    /// With --recovery-unseal: print plaintext even to a terminal (sealstrap's addition; kubeseal
    /// prints it unasked).
    #[arg(long, requires = "recovery_unseal")]
    pub show: bool,
    /// Private key files for --recovery-unseal (comma-separated or repeated). With --merge-into
    /// (sealstrap's addition): a value whose plaintext is unchanged keeps its ciphertext.
    #[arg(
        long = "recovery-private-key",
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<PathBuf>,

    // --- flags that need a cluster ---
    /// Fetch the certificate from the controller (needs a cluster).
    #[arg(
        long = "fetch-cert",
        env = "SEALED_SECRETS_FETCH_CERT",
        help_heading = "Cluster"
    )]
    pub fetch_cert: bool,
    /// Validate a SealedSecret with the controller (needs a cluster).
    #[arg(long, env = "SEALED_SECRETS_VALIDATE", help_heading = "Cluster")]
    pub validate: bool,
    /// Re-encrypt a SealedSecret with the controller's newest key (needs a cluster).
    #[arg(
        long = "re-encrypt",
        env = "SEALED_SECRETS_RE_ENCRYPT",
        help_heading = "Cluster"
    )]
    pub re_encrypt: bool,
    /// Name of the sealed-secrets controller Service.
    #[arg(
        long = "controller-name",
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = defaults::CONTROLLER_NAME,
        help_heading = "Cluster"
    )]
    pub controller_name: String,
    /// Namespace of the sealed-secrets controller.
    #[arg(
        long = "controller-namespace",
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = defaults::CONTROLLER_NAMESPACE,
        help_heading = "Cluster"
    )]
    pub controller_namespace: String,
    /// Path to the kubeconfig file.
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG", help_heading = "Cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, env = "SEALED_SECRETS_CONTEXT", help_heading = "Cluster")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, env = "SEALED_SECRETS_CLUSTER", help_heading = "Cluster")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, env = "SEALED_SECRETS_USER", help_heading = "Cluster")]
    pub user: Option<String>,
    /// API server address.
    #[arg(long, env = "SEALED_SECRETS_SERVER", help_heading = "Cluster")]
    pub server: Option<String>,
    /// Bearer token for the API server.
    #[arg(
        long,
        env = "SEALED_SECRETS_TOKEN",
        help_heading = "Cluster",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Username to impersonate.
    #[arg(long = "as", env = "SEALED_SECRETS_AS", help_heading = "Cluster")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(
        long = "as-group",
        env = "SEALED_SECRETS_AS_GROUP",
        help_heading = "Cluster"
    )]
    pub as_group: Vec<String>,
    /// CA certificate file for the API server.
    #[arg(
        long = "certificate-authority",
        env = "SEALED_SECRETS_CERTIFICATE_AUTHORITY",
        help_heading = "Cluster"
    )]
    pub certificate_authority: Option<PathBuf>,
    /// Client certificate file.
    #[arg(
        long = "client-certificate",
        env = "SEALED_SECRETS_CLIENT_CERTIFICATE",
        help_heading = "Cluster"
    )]
    pub client_certificate: Option<PathBuf>,
    /// Client key file.
    #[arg(
        long = "client-key",
        env = "SEALED_SECRETS_CLIENT_KEY",
        help_heading = "Cluster"
    )]
    pub client_key: Option<PathBuf>,
    /// Skip TLS verification of the API server.
    #[arg(
        long = "insecure-skip-tls-verify",
        env = "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY",
        help_heading = "Cluster"
    )]
    pub insecure_skip_tls_verify: bool,
    /// Timeout of a single request (e.g. 30s).
    #[arg(
        long = "request-timeout",
        env = "SEALED_SECRETS_REQUEST_TIMEOUT",
        help_heading = "Cluster",
        value_parser = sealstrap::cluster::parse_timeout
    )]
    pub request_timeout: Option<std::time::Duration>,
}

/// kubeseal's `-o`: json or yaml.
fn parse_format(s: &str) -> Result<sealstrap::yaml::Format, String> {
    sealstrap::yaml::Format::parse(s)
        .ok_or_else(|| format!("unsupported output format: {s} (use -o json or -o yaml)"))
}

/// kubeseal's `--scope`; empty means strict.
fn parse_scope(s: &str) -> Result<sealstrap::seal::Scope, String> {
    sealstrap::seal::Scope::parse(s).ok_or_else(|| {
        format!("invalid --scope {s:?}: must be one of: strict, namespace-wide, cluster-wide")
    })
}

/// What one kubeseal invocation does. The flags that choose a mode conflict with each other
/// (clap's `mode` group), so exactly one applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubesealMode {
    /// Seal Secrets from the input (the default).
    Seal,
    /// `--raw`: seal one value.
    Raw,
    /// `--merge-into FILE`.
    MergeInto,
    /// `--recovery-unseal`.
    RecoveryUnseal,
    /// `--fetch-cert`.
    FetchCert,
    /// `--validate`.
    Validate,
    /// `--re-encrypt`.
    ReEncrypt,
}

impl KubesealArgs {
    pub fn mode(&self) -> KubesealMode {
        if self.raw {
            KubesealMode::Raw
        } else if self.merge_into.is_some() {
            KubesealMode::MergeInto
        } else if self.recovery_unseal {
            KubesealMode::RecoveryUnseal
        } else if self.fetch_cert {
            KubesealMode::FetchCert
        } else if self.validate {
            KubesealMode::Validate
        } else if self.re_encrypt {
            KubesealMode::ReEncrypt
        } else {
            KubesealMode::Seal
        }
    }
}
