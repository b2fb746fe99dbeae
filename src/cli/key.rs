//! Flags of `sealstrap key`: the controller key's life cycle.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use sealstrap::defaults;

use super::*;

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
    /// Write the escrowed key Secrets in a bootstrap's own format, so the cluster has them before
    /// the controller's first start (plaintext private keys: never into a git work tree).
    #[command(after_help = "\
Every escrowed key (old ones too, so history still decrypts) as the controller's key Secrets, the
oldest named --secret-name, plus their Namespace (none for kube-system), in the format the
bootstrap applies before anything else runs:
  talos       Talos 1.14+: a KubeInlineManifestConfig document; --talos-version 1.13 (or older): a
              machine-config patch cluster.inlineManifests. Applied at bootstrap only; the key
              then sits in the machine config. Later keys go in with `sealstrap key install`.
  k3s, rke2   a file for /var/lib/rancher/{k3s,rke2}/server/manifests/, applied at start;
              removing it later does not delete the keys.
  k0s         a stack folder for /var/lib/k0s/manifests/. k0s PRUNES what a stack applied when
              its files are removed: removing it deletes the keys (see the README first).
  cloud-init  #cloud-config whose write_files puts the manifest in place (0600, root) before
              --for k3s|rke2 starts; --for kubeadm also applies it after `kubeadm init` (runcmd).
  capi        a addons.cluster.x-k8s.io/resource-set Secret and a ClusterResourceSet
              (ApplyOnce) for the management cluster, selecting sealstrap.dev/environment=ENV.
  kubectl     the manifest `sealstrap key install` applies, for anything else.

The export holds the private keys in the clear: it is refused inside a git work tree (whatever
.gitignore says) and on a terminal; files are 0600 in a 0700 folder. Delete it once
`sealstrap doctor --first-boot` passes.

Examples:
  sealstrap key export --env metal -i key.txt --to talos -o /dev/shm/first-boot
  sealstrap key export --env metal -i key.txt --to talos --talos-version 1.13 -o /dev/shm/first-boot
  sealstrap key export --all-envs -i key.txt --to k3s -o /dev/shm/first-boot
  sealstrap key export -i key.txt --to cloud-init --for kubeadm -o /dev/shm/first-boot
  sealstrap key export --env metal -i key.txt --to capi --capi-namespace clusters -o /dev/shm/first-boot
  sealstrap key export -i key.txt --to kubectl | ssh root@node 'kubectl apply --server-side -f -'")]
    Export(KeyExportArgs),
    /// Which escrowed key opens each sealed value, found offline by trying them.
    #[command(after_help = "\
Reads the environment's sealed folder (sealed/ beside the escrow; break-glass copies aside) and
every --path, opens each value with each escrowed key and prints the key that opens it. A value
no escrowed key opens is a finding (it was sealed for a key nobody escrowed). Nothing secret is
printed.

Exit codes: 0 every value opens with an escrowed key, 1 one does not (or an error), 2 usage.

Examples:
  sealstrap key usage --env metal -i key.txt
  sealstrap key usage --all-envs -i key.txt --output json")]
    Usage(KeyUsageArgs),
    /// Remove a key from the escrow once no committed value needs it; prints the cluster's part.
    #[command(after_help = "\
Refused while a value needs the key: in the environment's sealed folder, in any file of the work
tree, in HEAD, and with --history REV in any revision reachable from REV (repeatable). Refused for
the newest key (it seals) and the only one. Otherwise the escrow is re-encrypted without it (to
the committed recipients, or its passphrase) and the certificate bundle loses its certificate;
the `kubectl delete secret` for the cluster is printed.

Examples:
  sealstrap key retire sha256:3f1c9a0b --env metal -i key.txt --dry-run
  sealstrap key retire 3f1c9a0b --env metal -i key.txt --history main --history release")]
    Retire(KeyRetireArgs),
}

/// The bootstraps `key export` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Talos,
    K3s,
    Rke2,
    K0s,
    CloudInit,
    Capi,
    Kubectl,
}

/// What a `--to cloud-init` export starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudInitTarget {
    K3s,
    Rke2,
    Kubeadm,
}

#[derive(Debug, Args)]
pub struct KeyExportArgs {
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// In the platform: every environment in clusters/, each into its own subfolder of -o.
    #[arg(long, conflicts_with_all = ["env", "file"], requires = "output")]
    pub all_envs: bool,
    /// The bootstrap that applies the keys.
    #[arg(long = "to", value_enum, value_name = "FORMAT")]
    pub to: ExportFormat,
    /// The folder to write into (made 0700; an existing one must be 0700), never inside a git
    /// work tree [default: stdout, which may not be a terminal].
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// With --to talos: the cluster's Talos release (1.13 and older take a machine-config patch).
    #[arg(long, default_value = "1.14", value_name = "VERSION")]
    pub talos_version: String,
    /// With --to cloud-init: what the node starts (where the manifest goes; kubeadm: runcmd).
    #[arg(long = "for", value_enum, value_name = "BOOTSTRAP")]
    pub for_bootstrap: Option<CloudInitTarget>,
    /// Namespace of the controller (the key Secrets').
    #[arg(long, default_value = defaults::CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
    /// The chart's secretName (the controller's --key-prefix): the oldest key's Secret name.
    #[arg(long, default_value = "sealed-secrets-key", value_name = "NAME")]
    pub secret_name: String,
    /// With --to capi: the management cluster's namespace of the Clusters.
    #[arg(long, default_value = "default", value_name = "NAMESPACE")]
    pub capi_namespace: String,
    /// With --to capi: the Cluster label the ClusterResourceSet selects [default (platform):
    /// sealstrap.dev/environment=ENV].
    #[arg(long, value_name = "KEY=VALUE")]
    pub cluster_selector: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeyUsageArgs {
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// In the platform: every environment in clusters/, each with its own escrow and folder.
    #[arg(long, conflicts_with_all = ["env", "file"])]
    pub all_envs: bool,
    /// More files or folders with SealedSecrets for this cluster (repeatable).
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct KeyRetireArgs {
    /// The key: its fingerprint (sha256:...) or at least 8 hex digits of it.
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// Also refuse while the tree of REV (a branch you may still deploy, a tag) holds a value
    /// that needs the key (repeatable).
    #[arg(long = "history", value_name = "REV")]
    pub history: Vec<String>,
    /// With --history: every commit reachable from REV, not only its tree (so a rollback to
    /// any of them would still open without the old escrow).
    #[arg(long, requires = "history")]
    pub reachable: bool,
    /// More files or folders with SealedSecrets for this cluster (repeatable).
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The committed certificate bundle [default: beside the escrow, controller.crt].
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// Check and report, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Namespace of the controller (for the printed kubectl commands).
    #[arg(long, default_value = defaults::CONTROLLER_NAMESPACE)]
    pub controller_namespace: String,
    /// Name of the controller's Deployment (for the printed kubectl commands).
    #[arg(long, default_value = defaults::CONTROLLER_NAME)]
    pub controller_name: String,
    /// The chart's secretName (for the printed kubectl commands).
    #[arg(long, default_value = "sealed-secrets-key", value_name = "NAME")]
    pub secret_name: String,
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
    /// Encrypt to the committed recipients file although sealstrap.yaml does not pin some of
    /// its recipients (you added them): the new pins are written for review.
    #[arg(long)]
    pub accept_recipients: bool,
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
    let unit_secs: i64 = match unit {
        "h" => 3600,
        "d" => 86_400,
        "y" => 365 * 86_400,
        _ => return Err(format!("{s:?}: the unit must be h, d or y (e.g. 87600h)")),
    };
    // Checked: a number too large for the product is as out of range as 201y.
    match n.checked_mul(unit_secs) {
        Some(secs) if secs > 0 && secs <= 200 * 365 * 86_400 => Ok(secs),
        _ => Err(format!("{s:?}: must be between 1h and 200y")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;

    #[test]
    fn a_validity_out_of_range_is_refused_never_wrapped() {
        assert_eq!(parse_ttl("87600h"), Ok(87_600 * 3600));
        assert_eq!(parse_ttl("10y"), Ok(10 * 365 * 86_400));
        for bad in [
            "0h",
            "201y",
            "32376562800603237y",
            "9223372036854775807h",
            "99999999999999999999d",
            "10w",
            "h",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
