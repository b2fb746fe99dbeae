//! Flags of `sealstrap key`: the controller key's life cycle.

use std::path::PathBuf;

use clap::{Args, Subcommand};
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
