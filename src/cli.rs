//! The command line, as data: clap derive structs and nothing else, so completions and a man
//! page can be generated from them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sealstrap::defaults;

/// `0.1.0 (git 1a2b3c4d5e6f)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("SEALSTRAP_GIT_REV"),
    ")"
);

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error: bad input, a value that cannot be sealed or unsealed, a check that failed
  2  usage error: unknown flag or name, missing argument
  3  seal --require-complete: a value the operator must provide is still missing";

/// Offline secret bring-up for bare-metal Kubernetes: seal values with the sealed-secrets
/// controller's certificate (byte-compatible with kubeseal) and read them back.
// No Debug on the command line types that can carry a credential (kubeseal's --token).
#[derive(Parser)]
#[command(name = "sealstrap", version = VERSION, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Bootstrap the whole secret contract into a folder: generate, seal, write the ESO wiring.
    Seal(SealArgs),
    /// Make new values for some keys (or re-read provided ones) and reseal just those.
    Rotate(RotateArgs),
    /// Make a new Dex admin password and hash together and rewrite the local copy.
    #[command(name = "reset-dex-admin")]
    ResetDexAdmin(ResetDexAdminArgs),
    /// Print the secret contract: backend keys, consumers, when needed, format.
    Contract(ContractArgs),
    /// Re-encrypt SealedSecrets for a new certificate with the old private key, offline.
    Reseal(ResealArgs),
    /// Decrypt every sealed value in memory and check it against the contract's rules.
    Verify(VerifyArgs),
    /// Key-level differences of sealed files between revisions; git's textconv driver.
    Diff(DiffArgs),
    /// Seal one value of the contract (or of sealstrap.yaml's extra:) from the environment, a
    /// file or a prompt, replacing the one there.
    Set(SetArgs),
    /// Remove one sealed value (and its kustomization entry).
    Unset(UnsetArgs),
    /// Server-side apply the output folder to the cluster, in dependency order.
    Apply(ApplyArgs),
    /// Walk the chain controller -> SealedSecrets -> Secrets -> RBAC -> store -> ExternalSecrets.
    Doctor(DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  source <(sealstrap completions bash)\n  sealstrap completions zsh > ~/.zfunc/_sealstrap\n  sealstrap completions fish > ~/.config/fish/completions/sealstrap.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `sealstrap man > sealstrap.1 && man -l sealstrap.1`.
    Man,
    /// Look for secrets in plain text and stale sealed files (pre-commit and CI guard).
    Scan(ScanArgs),
    /// Add `property: value` to the remoteRefs of ExternalSecrets that read the store.
    #[command(name = "patch-externalsecrets")]
    PatchExternalSecrets(PatchArgs),
    /// Inspect controller certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// The controller's key pair: make it offline, escrow it with age, install and back it up.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Unseal SealedSecrets with the controller's private key (offline recovery).
    Unseal(UnsealArgs),
    /// Drop-in for the kubeseal command line (also active when called as `kubeseal`).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Kubeseal(KubesealPassthrough),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Compares the SealedSecrets of two revisions per SealedSecret and key: added, removed, unchanged
(same ciphertext), re-encrypted (same value, new ciphertext: a re-seal or a new certificate) or
changed. Telling re-encrypted from changed needs the controller's keys: --identity opens the
escrows of the work tree (every environment's), or --private-key. No value is printed: a changed
value shows a short keyed fingerprint (fp:...), equal for equal values, that nobody without the
keys can compute. Unchanged keys are left out unless --all.

REV is A..B, or A (against the work tree) [default: HEAD against the work tree].

As git's diff driver (git diff, git log -p show the same view): run `sealstrap diff --setup` and
add the lines it prints.

Exit codes: 0 (with --exit-code: no difference), 1 differences (--exit-code) or an error, 2 usage.

Examples:
  sealstrap diff                                   # the work tree against HEAD
  sealstrap diff origin/main..HEAD -i ~/.config/sealstrap/key.txt
  sealstrap diff --setup >> /dev/stderr            # then add the lines it prints")]
pub struct DiffArgs {
    /// [REV] [PATH...]: a revision (A..B, or A against the work tree), then paths.
    #[arg(value_name = "REV_OR_PATH")]
    pub args: Vec<String>,
    /// Controller private key(s) (PEM, key Secrets, or an escrow with --identity).
    #[arg(long = "private-key", value_delimiter = ',', value_name = "KEY")]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Show unchanged keys too.
    #[arg(long)]
    pub all: bool,
    /// Exit 1 when something differs.
    #[arg(long)]
    pub exit_code: bool,
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
    /// Print the FILE given last as git's textconv driver shows it (git appends the file to
    /// the configured command): every encryptedData value as a keyed fingerprint of its
    /// plaintext (with keys) or a digest of its ciphertext.
    #[arg(long, conflicts_with_all = ["all", "exit_code"])]
    pub textconv: bool,
    /// Print the .gitattributes and git config lines of the diff driver.
    #[arg(long)]
    pub setup: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The value comes from the key's environment variable (sealstrap contract names it; for a random
key, SEALSTRAP_VALUE), from --value-file KEY=PATH, or from a hidden prompt on a terminal; never
from the command line. It is checked as seal checks it. The other sealed files stay byte for byte.

Examples:
  HF_TOKEN=... sealstrap set hf-token --env metal
  sealstrap set litellm-master-key --value-file litellm-master-key=/dev/shm/key")]
pub struct SetArgs {
    /// The backend key.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Replace litellm-salt-key (write-once: it encrypts LiteLLM's stored provider keys).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Removes OUT/sealed/KEY.yaml (and its break-glass copy) and its kustomization entry, in one
transaction. A key the environment needs is refused unless --force: the cluster would lose it.

Examples:
  sealstrap unset hf-token --env ai-dev")]
pub struct UnsetArgs {
    /// The backend key.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Remove a key the environment needs (its consumers then fail).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Fetch the controller's current certificate from the cluster (kubeseal --fetch-cert).
    #[command(after_help = "\
Asks the API server for the controller Service, then its /v1/cert.pem through the service proxy
(kubeseal's algorithm). When the Service is not there, looks for the controller by the labels the
Helm chart and the upstream manifests use and says which --controller-name/--controller-namespace
to pass. The certificate is checked as `cert inspect` does before it is written.

Examples:
  sealstrap cert fetch -o pub.pem
  sealstrap cert fetch --controller-name sealed-secrets --controller-namespace sealed-secrets -o pub.pem")]
    Fetch {
        /// Write the certificate here (atomically) instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Show a certificate's subject, issuer, validity, key size and fingerprint.
    #[command(
        after_help = "Exits 1 when the certificate cannot be used for sealing (expired, not RSA, under 2048 bits)."
    )]
    Inspect {
        /// PEM file with the controller's certificate (`-` for stdin).
        file: PathBuf,
    },
}

/// Everything after `sealstrap kubeseal`, parsed as kubeseal's own flags.
#[derive(Args)]
pub struct KubesealPassthrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Plaintext is printed to a terminal only with --show; redirect stdout to a file (mode 0600 is up to you) or pipe it.
With --check nothing secret is printed: one `namespace/name key OK` line per value, exit 1 if any fails.

Examples:
  sealstrap unseal --private-key key.pem secret-source/sealed/vllm-api-key.yaml > secret.yaml
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
  sealstrap unseal --private-key keys.yaml --check secret-source/sealed/*.yaml")]
pub struct UnsealArgs {
    /// Controller private key: PEM (PKCS#1/PKCS#8), a key Secret, a List of them, or the age
    /// escrow `key new` wrote (opened with --identity or its passphrase).
    /// Repeat or separate with commas; every key is tried.
    #[arg(
        long = "private-key",
        value_name = "KEY",
        required = true,
        value_delimiter = ','
    )]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// SealedSecret files (YAML or JSON, multi-document); `-` or nothing for stdin.
    pub files: Vec<PathBuf>,
    /// Output format of the Secrets.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: ManifestFormat,
    /// Allow printing plaintext Secrets to a terminal.
    #[arg(long)]
    pub show: bool,
    /// Decrypt everything, print only `namespace/name key OK` lines; exit 1 if any fails.
    #[arg(long, conflicts_with = "show")]
    pub check: bool,
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

/// A folder sealstrap writes and names in `.gitignore` rules: no newline or other control
/// character (a newline would end the rule early and start a rule of its own).
fn parse_plain_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        return Err("an empty path".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the path holds the control character {c:?}; choose a folder name without one"
        ));
    }
    Ok(PathBuf::from(s))
}

fn parse_feature(s: &str) -> Result<sealstrap::contract::Feature, String> {
    sealstrap::contract::Feature::parse(s).ok_or_else(|| {
        format!("unknown feature {s:?}; expected one of: identity, n8n, cloudflare, anthropic, hf")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

/// `scan --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

/// `scan --baseline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineMode {
    Use,
    Write,
    Off,
}

/// Names and addresses of the ESO wiring.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "ESO wiring")]
pub struct WiringArgs {
    /// Namespace that holds the source Secrets.
    #[arg(long, default_value = defaults::SOURCE_NAMESPACE)]
    pub source_namespace: String,
    /// Name of the ClusterSecretStore.
    #[arg(long, default_value = defaults::STORE_NAME)]
    pub store_name: String,
    /// Namespace ESO runs in.
    #[arg(long, default_value = defaults::ESO_NAMESPACE)]
    pub eso_namespace: String,
    /// ServiceAccount (and Role) ESO reads the source namespace as.
    #[arg(long, default_value = defaults::READER)]
    pub reader: String,
    /// API server URL as ESO sees it.
    #[arg(long, default_value = defaults::SERVER_URL)]
    pub server_url: String,
    /// ConfigMap in the ESO namespace holding the API server CA.
    #[arg(long, default_value = defaults::CA_CONFIGMAP)]
    pub ca_configmap: String,
    /// Key of the CA in that ConfigMap.
    #[arg(long, default_value = defaults::CA_KEY)]
    pub ca_key: String,
}

/// Which contract entries are needed: the environment config, then --with/--without.
#[derive(Debug, Clone, Args)]
pub struct SelectionArgs {
    /// In the platform: the environment (its clusters/<ENV>/ and environments/<ENV>/) [default:
    /// the --config file's, or the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The platform's environment config (environments/<env>/config.yaml): decides which
    /// entries are needed.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Include entries of these features (identity, n8n, cloudflare, anthropic, hf), over the config.
    #[arg(long, value_delimiter = ',', value_parser = parse_feature, value_name = "FEATURE")]
    pub with: Vec<sealstrap::contract::Feature>,
    /// Leave out entries of these features, over the config.
    #[arg(long, value_delimiter = ',', value_parser = parse_feature, value_name = "FEATURE")]
    pub without: Vec<sealstrap::contract::Feature>,
}

/// Options shared by seal, rotate and reset-dex-admin.
#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    /// The sealed-secrets controller's certificate (PEM) [default: controller.crt in the output
    /// folder, as `sealstrap key new` writes it]. A relative path is read from the current
    /// folder, like every path you give; defaults are anchored at the repository root.
    #[arg(long, env = "SEALSTRAP_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Fetch the certificate from the cluster instead (needs a kubeconfig).
    #[arg(long, conflicts_with = "cert")]
    pub fetch_cert: bool,
    /// Seal for an expired certificate (refused otherwise, as kubeseal does); only useful while
    /// the controller still holds its key. A certificate expiring within 30 days is a warning.
    #[arg(long)]
    pub allow_expired: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Output folder, committed to git [default: secret-source at the root of the git
    /// repository (or --platform-root), from whatever folder you run in].
    #[arg(long, value_name = "DIR", value_parser = parse_plain_path)]
    pub out: Option<PathBuf>,
    /// The platform repository's root, when it is not the git repository you run in. In the
    /// platform (found from its layout), the store is written at its swap point
    /// (platform/external-secrets/config/clustersecretstore.yaml), not in --out.
    #[arg(long, value_name = "DIR")]
    pub platform_root: Option<PathBuf>,
    /// Never edit .gitignore: when git would ignore a file seal writes, refuse and print the
    /// rule to add instead.
    #[arg(long)]
    pub no_gitignore_edit: bool,
    /// Where the Dex admin password copy goes [default: secrets/ at the git root holding --out].
    #[arg(long, value_name = "DIR", value_parser = parse_plain_path)]
    pub secrets_dir: Option<PathBuf>,
    /// Read a value from a file (one trailing newline is stripped): for operator-provided keys,
    /// or to import an existing value. Repeatable.
    #[arg(long = "value-file", value_name = "KEY=PATH")]
    pub value_files: Vec<String>,
    /// bcrypt cost of the Dex admin hash (Dex accepts 10..16).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(10..=16))]
    pub bcrypt_cost: u32,
    /// Summary format: text on stderr, or json on stdout for machines.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
    /// Controller private key(s) (same forms as `unseal`): lets `seal` restore a missing
    /// secrets/dex-admin-password from its sealed copy.
    #[arg(long = "private-key", value_delimiter = ',', value_name = "KEY")]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Compute and report everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Tighten an existing secrets folder that other users can enter to 0700 (otherwise refused).
    #[arg(long)]
    pub fix_permissions: bool,
    #[command(flatten)]
    pub wiring: WiringArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Provided values come from the environment (CLOUDFLARE_API_TOKEN, ANTHROPIC_API_KEY, HF_TOKEN),
from --value-file KEY=PATH, or from a hidden prompt when stdin is a terminal; never from a
command-line value.

Safe to run again: existing sealed files stay byte-for-byte; only missing entries are made.

Exit codes: 0 done, 1 error (nothing written), 2 usage error, 3 --require-complete and a value is
still missing.

In the platform repository (found from its store swap point, or --platform-root) the store is
written at platform/external-secrets/config/clustersecretstore.yaml, not in --out; every key the
tree's ExternalSecrets and Helm values read is sealed or NEEDS VALUE with its file and line; files
git would ignore get re-include rules in .gitignore. sealstrap.yaml at the root adds your own keys.

Examples:
  sealstrap seal --cert pub.pem
  sealstrap seal --cert pub.pem --config environments/prod/config.yaml --gitops argocd
  sealstrap seal --cert pub.pem --config environments/prod/config.yaml --with hf --out secret-source
  CLOUDFLARE_API_TOKEN=... sealstrap seal --cert pub.pem --with cloudflare --require-complete
  sealstrap seal --cert pub.pem --dry-run --output json")]
pub struct SealArgs {
    /// Exit 3 when an operator-provided value is still missing.
    #[arg(long)]
    pub require_complete: bool,
    /// In the platform: replace a hand-written store of another provider at the swap point.
    #[arg(long)]
    pub force: bool,
    /// In the platform: also write the Argo CD Applications for the sealed-secrets controller and
    /// secret-source into the always-on catalog group, and allow the chart in the AppProject.
    /// An existing Application keeps your edits; sealstrap sets only the fields it owns.
    #[arg(long, value_enum, value_name = "TOOL")]
    pub gitops: Option<GitOps>,
    /// With --gitops: the sealed-secrets chart's repository (an HTTP or OCI mirror for an
    /// air-gapped site); kept in the Application for later runs.
    #[arg(long, value_name = "URL", requires = "gitops")]
    pub chart_repo: Option<String>,
    /// With --gitops: the sealed-secrets chart's version [default: 2.18.5]; kept for later runs.
    #[arg(long, value_name = "VERSION", requires = "gitops")]
    pub chart_version: Option<String>,
    /// With --gitops flux: the folder for the Flux wiring, relative to the repository root.
    #[arg(long, value_name = "DIR", default_value = "flux", value_parser = parse_plain_path)]
    pub flux_dir: PathBuf,
    /// In the platform: seal every environment in clusters/, each for its own certificate (the
    /// fleet file's, else its folder's controller.crt), into its own folder; one summary table.
    #[arg(long, conflicts_with_all = ["env", "config", "out", "cert", "secrets_dir", "fetch_cert"])]
    pub all_envs: bool,
    // Last: the flattened groups set their own help headings for what follows.
    #[command(flatten)]
    pub common: BootstrapArgs,
}

/// GitOps tools `seal --gitops` can wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GitOps {
    Argocd,
    Flux,
}

#[derive(Debug, Args)]
#[command(after_help = "\
litellm-salt-key is write-once: it encrypts LiteLLM's stored provider keys, so it needs --force.
Rotating dex-admin-password or dex-admin-hash rotates both (as reset-dex-admin).

Examples:
  sealstrap rotate --cert pub.pem vllm-api-key dex-grafana-client-secret
  HF_TOKEN=... sealstrap rotate --cert pub.pem --with hf hf-token")]
pub struct RotateArgs {
    /// Backend keys to rotate.
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,
    /// Allow rotating write-once keys (litellm-salt-key).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  sealstrap reset-dex-admin --cert pub.pem")]
pub struct ResetDexAdminArgs {
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  sealstrap contract\n  sealstrap contract --output json")]
pub struct ContractArgs {
    /// text (a table) or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Walks files and folders (.yaml/.yml, multi-document; skips .git and hidden folders) and edits
only what it must: comments, quoting, indentation, flow style, CRLF and other documents stay
byte-for-byte.

Store-wide: every remoteRef to the store gets the property, whatever its key, because the
Kubernetes provider needs it for every single-value ref. A key outside the secret contract (and
sealstrap.yaml) is patched and reported: nothing seals its source Secret until it is declared.
Reported, not changed: a property naming another key, dataFrom entries, and Helm values that
name the store (the chart renders that ExternalSecret; the report gives the fix). Templates
(*.example.yaml) and --exclude matches are reported and not read. So after a patch, --check
passes on the same paths.

Exit codes: 0 done (with --check: nothing missing), 1 something is missing (--check) or a file
could not be read or parsed (the others are still processed), 2 usage error.

Examples:
  sealstrap patch-externalsecrets                       # the whole repository
  sealstrap patch-externalsecrets --diff > property.patch && git apply property.patch
  sealstrap patch-externalsecrets --check               # in CI or a pre-commit hook
  sealstrap patch-externalsecrets platform/ --exclude 'vendor/**'")]
pub struct PatchArgs {
    /// Files and folders to walk [default: the root of the git repository you are in].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Skip files matching GLOB (`*`, `**`, `?`; without a `/` it matches the file name);
    /// repeatable. `*.example.yaml` templates are always skipped.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// ClusterSecretStore whose ExternalSecrets are patched.
    #[arg(long, default_value = defaults::STORE_NAME)]
    pub store: String,
    /// Data key to name in remoteRef.property.
    #[arg(long, default_value = defaults::PROPERTY)]
    pub property: String,
    /// Change nothing; exit 1 listing every remoteRef still missing the property.
    #[arg(long, conflicts_with = "diff")]
    pub check: bool,
    /// Print a unified diff instead of writing.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Keeps names, scopes, templates, key sets and the file's own layout: only the ciphertexts (and
sealstrap's fingerprint annotation) change. Each file is written atomically; a file that cannot be
decrypted is reported and left exactly as it was. No plaintext touches the disk.

Exit codes: 0 every file resealed, 1 a file could not be decrypted or written, 2 usage error.

Examples:
  sealstrap reseal --private-key old-key.pem --cert new.pem
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
  sealstrap reseal --private-key keys.yaml --cert new.pem secret-source/ apps/")]
pub struct ResealArgs {
    /// The old controller private key(s): PEM, a key Secret, or a List of them.
    #[arg(
        long = "private-key",
        required = true,
        value_delimiter = ',',
        value_name = "KEY"
    )]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// The new controller certificate.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// Files and folders with SealedSecrets [default: the environment's sealed folder].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// In the platform: the environment whose sealed folder is the default PATH.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Report what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Checks: every needed key is sealed (by --config/--with/--without and the tree's ExternalSecrets,
as seal decides: a key an ExternalSecret reads is FAIL with the file and line while unsealed); every value
decrypts; no value is empty or has whitespace; litellm-master-key starts with sk-; the cookie
secret is a key oauth2-proxy accepts; the Dex hash is bcrypt with cost 10..16 and verifies the
sealed dex-admin-password. Prints `key OK` or `key FAIL: why`, never a value.

Exit codes: 0 all OK, 1 any FAIL, 2 usage error.

Example:
  sealstrap verify --private-key key.pem secret-source/")]
pub struct VerifyArgs {
    /// Controller private key(s): PEM, a key Secret, or a List of them.
    #[arg(
        long = "private-key",
        required = true,
        value_delimiter = ',',
        value_name = "KEY"
    )]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// The output folder of `seal` [default: secret-source at the repository root].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Namespace of the source Secrets.
    #[arg(long, default_value = defaults::SOURCE_NAMESPACE)]
    pub source_namespace: String,
    /// The ClusterSecretStore whose readers in the tree must all find a sealed value.
    #[arg(long, default_value = defaults::STORE_NAME)]
    pub store_name: String,
    /// The platform repository's root, when it is not the git repository you run in.
    #[arg(long, value_name = "DIR")]
    pub platform_root: Option<PathBuf>,
    /// Pass although the folder's certificate (controller.crt) has expired.
    #[arg(long)]
    pub allow_expired: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Finds: credentials by their issuers' documented shapes (AWS, Google Cloud, Azure, GitHub, GitLab,
Slack, Stripe, SendGrid, Twilio, OpenAI, Anthropic, Hugging Face, npm, PyPI, Vault, Tailscale, ...),
JWTs, private keys of every PEM, OpenSSH, PuTTY and PGP kind (base64-encoded too, in any
wrapper), age identities, kubeconfig tokens and keys, docker config logins, passwords in URLs,
random-looking values assigned to password/secret/token/key names; plaintext `kind: Secret`
manifests; the contract's value shapes; SealedSecrets sealed for another certificate than --cert;
ExternalSecrets to the store without property. Files git ignores are skipped. One line per
finding (file, line, kind, fix), never the value.

Allow a false positive with its reason: `# sealstrap:allow REASON` on the line, or `exclude:` in
sealstrap.yaml. Adopting scan on an old repository: `--baseline write` acknowledges today's
findings in .sealstrap-baseline (keyed fingerprints, no values); only new ones fail after it.

Exit codes: 0 clean, 1 findings, 2 usage error.

Examples:
  sealstrap scan
  sealstrap scan --staged                       # the pre-commit hook: what the commit carries
  sealstrap scan --history                      # every blob of every branch and tag, once
  sealstrap scan --history origin/main..HEAD    # the commits a push would add
  sealstrap scan --baseline write               # acknowledge today's findings
  sealstrap scan --output sarif > scan.sarif    # for code-scanning UIs
  sealstrap scan --cert pub.pem --output json platform/ secret-source/")]
pub struct ScanArgs {
    /// Files and folders [default: the git work tree].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The current controller certificate: SealedSecrets sealed for another are reported.
    #[arg(long, env = "SEALSTRAP_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// ClusterSecretStore for the ExternalSecret check.
    #[arg(long, default_value = defaults::STORE_NAME)]
    pub store: String,
    /// Data key for the ExternalSecret check.
    #[arg(long, default_value = defaults::PROPERTY)]
    pub property: String,
    /// text (one line per finding), json, or sarif (SARIF 2.1.0, allowed and baselined findings
    /// as suppressed results).
    #[arg(long, value_enum, default_value = "text")]
    pub output: ScanFormat,
    /// Scan what the next commit carries: the staged (index) content of the files it adds or
    /// changes, or of every staged file under the PATHs given, not the work tree.
    #[arg(long, conflicts_with = "history")]
    pub staged: bool,
    /// Scan every blob reachable from REV-RANGE once (a secret deleted later is still leaked)
    /// [default: every branch and tag]. Put PATHs after `--`.
    #[arg(long, value_name = "REV-RANGE", num_args = 0..=1, default_missing_value = "--all")]
    pub history: Option<String>,
    /// use: findings acknowledged in the baseline do not fail; write: acknowledge this run's
    /// findings (the work tree's, or the history's with --history); off: ignore it.
    #[arg(long, value_enum, default_value = "use", value_name = "MODE")]
    pub baseline: BaselineMode,
    /// The baseline file [default: .sealstrap-baseline at the top of the work tree].
    #[arg(long, value_name = "FILE")]
    pub baseline_file: Option<PathBuf>,
    /// Threads that read and match files [default: one per core].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Do not count files that could not be read (permissions, not regular files) as findings.
    #[arg(long)]
    pub allow_skipped: bool,
    /// An expired sealing certificate (--cert, a controller.crt in the tree) is a warning, not a
    /// finding or an error.
    #[arg(long)]
    pub allow_expired: bool,
    /// Allow findings in files matching GLOB (repeatable; said in the summary as "allowed").
    /// sealstrap.yaml's `exclude:` list does the same with a reason. A private key, an age
    /// identity or a tracked Dex copy is reported whatever.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// How to reach the cluster and the controller.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Path to the kubeconfig file [default: KUBECONFIG, ~/.kube/config, in-cluster].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Timeout of every request (e.g. 30s, 1m).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = sealstrap::cluster::parse_timeout)]
    pub request_timeout: std::time::Duration,
    /// Name of the sealed-secrets controller Service.
    #[arg(long, default_value = defaults::CONTROLLER_NAME)]
    pub controller_name: String,
    /// Namespace of the sealed-secrets controller.
    #[arg(long, default_value = defaults::CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Applies namespace, RBAC, SealedSecrets, then the ClusterSecretStore (field manager sealstrap),
one result line per object, and stops at the first failure with the API server's message.

Exit codes: 0 applied, 1 a failure (objects before it were applied), 2 usage error.

Examples:
  sealstrap apply
  sealstrap apply --dry-run secret-source/")]
pub struct ApplyArgs {
    /// The output folder of `seal` [default: the environment's sealed folder].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// In the platform: the environment whose folder (clusters/<ENV>/secret-source) this is
    /// about [default: the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// Server-side dry run: the API server validates and admits, nothing is stored.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Links: the controller answers and its certificate is the one the folder was sealed for; every
SealedSecret is Synced; every source Secret exists with key `value`; the reader may get secrets in
the source namespace (SubjectAccessReview); the ClusterSecretStore is Ready; every ExternalSecret
using it is Ready. Each broken link comes with a fix.

Exit codes: 0 every link OK, 1 a link is broken or the cluster cannot be reached, 2 usage error.

Examples:
  sealstrap doctor
  sealstrap doctor --output json secret-source/")]
pub struct DoctorArgs {
    /// The output folder of `seal` [default: the environment's sealed folder].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// In the platform: the environment whose folder (clusters/<ENV>/secret-source) this is
    /// about [default: the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// table or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
    #[command(flatten)]
    pub wiring: WiringArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Where the key custody files live; by default beside the sealed output, to be committed.
#[derive(Debug, Args)]
pub struct KeyFiles {
    /// The sealed output folder the files sit in by default [default: the environment's sealed
    /// folder: secret-source at the repository root, clusters/<ENV>/secret-source in the platform].
    #[arg(long = "out", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// In the platform: the environment whose folder (clusters/<ENV>/secret-source) this is
    /// about [default: the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// The public certificate bundle (newest first) [default: OUT/controller.crt].
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// The age recipients file [default: OUT/controller-keys.recipients].
    #[arg(long = "recipients-out", value_name = "FILE")]
    pub recipients_out: Option<PathBuf>,
}

/// The escrow a `key` command reads, and how to open it.
#[derive(Debug, Args)]
pub struct EscrowArgs {
    /// The escrow [default: controller-keys.age in the environment's sealed folder].
    #[arg(value_name = "ESCROW")]
    pub file: Option<PathBuf>,
    /// In the platform: the environment whose folder (clusters/<ENV>/secret-source) this is
    /// about [default: the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// How to open an age escrow.
#[derive(Debug, Args, Clone, Default)]
pub struct IdentityArgs {
    /// Identity file that opens the escrow: age (AGE-SECRET-KEY-1... lines) or an SSH private
    /// key (~/.ssh/id_ed25519, id_rsa); repeatable.
    /// Without it a passphrase escrow asks for its passphrase (or reads SEALSTRAP_PASSPHRASE).
    #[arg(
        short = 'i',
        long = "identity",
        env = "SEALSTRAP_IDENTITY",
        value_name = "FILE"
    )]
    pub identity: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a controller key pair offline: certificate to commit, private key only in an age escrow.
    #[command(after_help = "\
The certificate follows the controller's own template (RSA-4096, random 128-bit serial, empty
name unless --cn, EncipherOnly, CA:TRUE, NotBefore now, --ttl long). The private key is written
only inside the age escrow, encrypted to --recipient/--recipients-file or a passphrase; the escrow,
the certificate bundle and the recipients file are meant to be committed. Running it again adds a
key and re-encrypts to the recipients in the committed recipients file (open it with --identity).

Restore without sealstrap:
  age -d -i key.txt secret-source/controller-keys.age | kubectl apply -f -

Examples:
  age-keygen -o ~/.config/sealstrap/key.txt
  sealstrap key new --recipient age1...
  sealstrap key new --recipients-file team.txt --armor
  sealstrap key new --passphrase
  sealstrap seal --cert secret-source/controller.crt")]
    New(KeyNewArgs),
    /// Apply the escrowed key Secrets to the controller's namespace (server-side apply).
    #[command(after_help = "\
Run it before the controller starts, or right after it and restart the controller (--restart does
`kubectl rollout restart` for you). The controller seals with the key whose certificate has the
newest NotBefore; every key decrypts.

Examples:
  sealstrap key install -i ~/.config/sealstrap/key.txt
  sealstrap key install -i key.txt --dry-run
  sealstrap key install -i key.txt --controller-namespace sealed-secrets --restart")]
    Install(KeyInstallArgs),
    /// Copy the controller's keys from the cluster into the escrow (or --check that none is missing).
    #[command(after_help = "\
The controller renews its key every 30 days unless keyrenewperiod is \"0\"; renewed keys exist only
in the cluster. backup merges them into the escrow (deduplicated by fingerprint) and adds their
certificates to the committed bundle; nothing in plaintext touches the disk. --check needs no
identity: it compares the cluster's certificates with the committed bundle and exits 1 when the
cluster holds a key the escrow lacks (run it in CI).

With no escrow yet, backup makes one from the cluster's keys for -r/-R/--passphrase (a
controller that made its own key, before `key new` was ever run).

Examples:
  sealstrap key backup -r age1...                     # first escrow of a running controller
  sealstrap key backup -i key.txt
  sealstrap key backup --check")]
    Backup(KeyBackupArgs),
    /// List the keys: fingerprint, validity and which one seals.
    #[command(after_help = "\
With --identity the escrow itself is opened and listed; without, the committed certificate bundle.

Examples:
  sealstrap key list
  sealstrap key list -i key.txt")]
    List(KeyListArgs),
}

/// Who can open a new escrow. Without any, an existing escrow keeps the recipients in its
/// committed recipients file (or its passphrase).
#[derive(Debug, Args)]
pub struct EscrowLockArgs {
    /// Recipient that can open the escrow: an age key (age1...) or an SSH public key
    /// ("ssh-ed25519 AAAA...", "ssh-rsa AAAA..."); repeatable.
    #[arg(short = 'r', long = "recipient", value_name = "RECIPIENT")]
    pub recipients: Vec<String>,
    /// File of recipients, one per line, age or SSH (as `age -R` reads; ~/.ssh/id_ed25519.pub
    /// works); repeatable.
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    pub recipients_files: Vec<PathBuf>,
    /// Encrypt the escrow to a passphrase instead (asked twice, or SEALSTRAP_PASSPHRASE).
    #[arg(long, conflicts_with_all = ["recipients", "recipients_files"])]
    pub passphrase: bool,
    /// Write the escrow ASCII-armored (-----BEGIN AGE ENCRYPTED FILE-----).
    #[arg(short = 'a', long)]
    pub armor: bool,
}

#[derive(Debug, Args)]
pub struct KeyNewArgs {
    #[command(flatten)]
    pub files: KeyFiles,
    /// The escrow file [default: OUT/controller-keys.age].
    #[arg(long, value_name = "FILE")]
    pub escrow: Option<PathBuf>,
    #[command(flatten)]
    pub lock: EscrowLockArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Certificate common name (the controller's --my-cn); empty by default, as the controller.
    #[arg(long)]
    pub cn: Option<String>,
    /// Certificate validity (the controller's --key-ttl), e.g. 87600h, 3650d, 10y.
    #[arg(long, default_value = "87600h", value_parser = parse_ttl, value_name = "DURATION")]
    pub ttl: i64,
    /// Namespace of the controller, written into the key Secrets.
    #[arg(long, default_value = defaults::CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
}

#[derive(Debug, Args)]
pub struct KeyInstallArgs {
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// Restart the controller's Deployment after applying (kubectl rollout restart).
    #[arg(long)]
    pub restart: bool,
    /// Ask the API server to validate without persisting anything.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct KeyBackupArgs {
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// Only compare the cluster's certificates with the committed bundle; exit 1 if one is missing.
    #[arg(long)]
    pub check: bool,
    /// The committed certificate bundle [default: beside the escrow, controller.crt].
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// For a first backup (no escrow yet): who can open the new escrow.
    #[command(flatten)]
    pub lock: EscrowLockArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct KeyListArgs {
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// The committed certificate bundle [default: beside the escrow, controller.crt].
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
}

/// A key validity: Go durations in hours (`87600h`, as the chart's `keyttl`), days or years.
fn parse_ttl(s: &str) -> Result<i64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with h, d or y (e.g. 87600h)"))?;
    let secs = match unit {
        "h" => n * 3600,
        "d" => n * 86_400,
        "y" => n * 365 * 86_400,
        _ => return Err(format!("{s:?}: the unit must be h, d or y (e.g. 87600h)")),
    };
    if secs <= 0 || secs > 200 * 365 * 86_400 {
        return Err(format!("{s:?}: must be between 1h and 200y"));
    }
    Ok(secs)
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

/// A path flag as given, else its default anchored at the repository root.
/// A path as given, else its default inside the environment's sealed folder (`rel` empty: the
/// folder), anchored at the repository root.
fn or_env_default(
    given: &Option<PathBuf>,
    env: &Option<String>,
    rel: &str,
) -> Result<PathBuf, crate::commands::Failure> {
    match given {
        Some(p) => Ok(p.clone()),
        None => crate::commands::tree::env_default(env.as_deref(), rel),
    }
}

impl ApplyArgs {
    pub fn dir(&self) -> Result<PathBuf, crate::commands::Failure> {
        or_env_default(&self.dir, &self.env, "")
    }
}

impl DoctorArgs {
    pub fn dir(&self) -> Result<PathBuf, crate::commands::Failure> {
        or_env_default(&self.dir, &self.env, "")
    }
}

impl KeyFiles {
    pub fn out(&self) -> Result<PathBuf, crate::commands::Failure> {
        or_env_default(&self.out_dir, &self.env, "")
    }
}

impl EscrowArgs {
    pub fn path(&self) -> Result<PathBuf, crate::commands::Failure> {
        or_env_default(&self.file, &self.env, defaults::ESCROW_NAME)
    }
}
