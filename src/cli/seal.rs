//! Flags of the commands that write sealed values: `seal`, `rotate`, `reset-dex-admin`, `set`,
//! `unset`, and the option groups they share.

use std::path::PathBuf;

use clap::Args;
use sealstrap::defaults;

use super::*;

#[derive(Debug, Args)]
#[command(after_help = "\
The value comes from the key's environment variable (sealstrap contract names it; for a random
key, SEALSTRAP_VALUE), from --value-file KEY=PATH, or from a hidden prompt on a terminal; never
from the command line. It is checked as seal checks it. The other sealed files stay byte for byte.

Examples:
  HF_TOKEN=... sealstrap set hf-token --env metal
  sealstrap set litellm-master-key --value-file litellm-master-key=/dev/shm/key
  sealstrap set hf-token --all-envs --value-file metal:hf-token=/dev/shm/a --value-file ai-dev:hf-token=/dev/shm/b

A key sealstrap.yaml declares shared takes one value, sealed for every environment (and the
break-glass certificate) in one transaction.")]
pub struct SetArgs {
    /// The backend key.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Replace litellm-salt-key (write-once: it encrypts LiteLLM's stored provider keys).
    #[arg(long)]
    pub force: bool,
    /// In the platform: in every environment of clusters/ that has the key, in one
    /// transaction (a key sealstrap.yaml declares shared is always changed everywhere).
    #[arg(long, conflicts_with_all = ["env", "config", "out", "cert", "secrets_dir", "fetch_cert"])]
    pub all_envs: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Removes OUT/sealed/KEY.yaml (and its break-glass copy) and its kustomization entry, in one
transaction. A key the environment needs is refused unless --force: the cluster would lose it.

A key sealstrap.yaml declares shared (or any key, with --all-envs) leaves every environment that
has it, in one transaction.

Examples:
  sealstrap unset hf-token --env ai-dev
  sealstrap unset registry-token --all-envs")]
pub struct UnsetArgs {
    /// The backend key.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Remove a key the environment needs (its consumers then fail).
    #[arg(long)]
    pub force: bool,
    /// In the platform: in every environment of clusters/ that has the key, in one
    /// transaction (a key sealstrap.yaml declares shared is always changed everywhere).
    #[arg(long, conflicts_with_all = ["env", "config", "out", "cert", "secrets_dir", "fetch_cert"])]
    pub all_envs: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
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
    /// Accept the certificate the repository holds for NAME (an environment, `break-glass`, or
    /// the sealed folder of a repository without environments, `secret-source`) although
    /// sealstrap.yaml does not pin it: the new pin is written for review. Repeatable.
    #[arg(long = "accept-cert", value_name = "NAME", value_delimiter = ',')]
    pub accept_cert: Vec<String>,
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
    #[command(flatten)]
    pub mirror: MirrorArgs,
}

/// The controller's chart and image, for an air-gapped site's mirror (over `sealstrap.yaml`'s
/// `chart:`, which is over what the written files hold, which is over upstream's).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Chart and image mirror (with --gitops)")]
pub struct MirrorArgs {
    /// The sealed-secrets chart's repository: an https:// Helm repository or an oci:// registry
    /// path (oci://registry.internal/charts) [default: sealstrap.yaml chart.repo, else what the
    /// files hold, else https://bitnami-labs.github.io/sealed-secrets].
    #[arg(long, value_name = "URL")]
    pub chart_repo: Option<String>,
    /// The chart's version [default: sealstrap.yaml chart.version, else the files', else 2.18.5].
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    /// The controller image's registry (host[:port][/path]) [default: docker.io].
    #[arg(long, value_name = "HOST")]
    pub image_registry: Option<String>,
    /// The controller image's repository [default: bitnami/sealed-secrets-controller].
    #[arg(long, value_name = "PATH")]
    pub image_repository: Option<String>,
    /// The controller image's tag; TAG@sha256:DIGEST pins it [default: 0.36.6].
    #[arg(long, value_name = "TAG")]
    pub image_tag: Option<String>,
}

impl MirrorArgs {
    pub fn given(&self) -> sealstrap::mirror::Given {
        sealstrap::mirror::Given {
            repo: self.chart_repo.clone(),
            version: self.chart_version.clone(),
            image: sealstrap::mirror::ImageGiven {
                registry: self.image_registry.clone(),
                repository: self.image_repository.clone(),
                tag: self.image_tag.clone(),
            },
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
The chart and image `seal --gitops` writes, each from upstream to where it points: the flags here,
else sealstrap.yaml's chart:, else (in the platform) each environment's controller Application,
else upstream's. Run it on a connected machine; the copy lines are what to run there. Nothing is
written and nothing is fetched.

Examples:
  sealstrap mirror-list
  sealstrap mirror-list --chart-repo oci://registry.internal/charts --image-registry registry.internal
  sealstrap mirror-list --output json")]
pub struct MirrorListArgs {
    #[command(flatten)]
    pub mirror: MirrorArgs,
    /// The platform repository's root, when it is not the git repository you run in.
    #[arg(long, value_name = "DIR")]
    pub platform_root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
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
  HF_TOKEN=... sealstrap rotate --cert pub.pem --with hf hf-token
  sealstrap rotate example-token              # shared in sealstrap.yaml: one new value, every environment
  sealstrap rotate --all-envs vllm-api-key    # a new value of its own in each environment

With break-glass: in sealstrap.yaml, each new value's break-glass copy changes in the same write.")]
pub struct RotateArgs {
    /// Backend keys to rotate.
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,
    /// Allow rotating write-once keys (litellm-salt-key).
    #[arg(long)]
    pub force: bool,
    /// In the platform: in every environment of clusters/ that has the key, in one
    /// transaction (a key sealstrap.yaml declares shared is always changed everywhere).
    #[arg(long, conflicts_with_all = ["env", "config", "out", "cert", "secrets_dir", "fetch_cert"])]
    pub all_envs: bool,
    #[command(flatten)]
    pub common: BootstrapArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  sealstrap reset-dex-admin --cert pub.pem")]
pub struct ResetDexAdminArgs {
    #[command(flatten)]
    pub common: BootstrapArgs,
}
