//! Flags of the cluster commands (`cert fetch`, `apply`, `doctor`) and the connection options.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sealstrap::defaults;

use super::*;

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

With --first-boot only the controller and its keys are checked (right after the first boot,
before anything is synced): it seals with the escrow's newest key, every escrowed key is in the
cluster labeled sealedsecrets.bitnami.com/sealed-secrets-key=active, and no key Secret is one the
controller made itself.

Examples:
  sealstrap doctor
  sealstrap doctor --output json secret-source/
  sealstrap doctor --env metal --first-boot")]
pub struct DoctorArgs {
    /// The output folder of `seal` [default: the environment's sealed folder].
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// In the platform: the environment whose folder (clusters/<ENV>/secret-source) this is
    /// about [default: the only one in clusters/].
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Only the key links a fresh cluster must pass: the controller seals with the escrow's
    /// newest key, every escrowed key is in the cluster with the controller's label, and no key
    /// Secret is one the controller made itself (the export came too late).
    #[arg(long)]
    pub first_boot: bool,

    /// table or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
    #[command(flatten)]
    pub wiring: WiringArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}
