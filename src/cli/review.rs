//! Flags of the commands that read sealed files back: `diff`, `verify`, `reseal`, `unseal`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use sealstrap::defaults;

use super::*;

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

#[derive(Debug, Args)]
#[command(after_help = "\
Keeps names, scopes, templates, key sets and the file's own layout: only the ciphertexts (and
sealstrap's fingerprint annotation) change. Each file is written atomically; a file that cannot be
decrypted is reported and left exactly as it was. No plaintext touches the disk.

A controller-key rotation (--cert) never touches break-glass copies (break-glass/): they are
sealed for the break-glass key. Resealing an environment's folder pins the new certificate in
sealstrap.yaml. A break-glass key rotation is --break-glass: point break-glass: {cert: ...} at
the new break-glass certificate, then reseal the copies with the old break-glass key.

Exit codes: 0 every file resealed, 1 a file could not be decrypted or written, 2 usage error.

Examples:
  sealstrap reseal --private-key old-key.pem --cert new.pem
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
  sealstrap reseal --private-key keys.yaml --cert new.pem secret-source/ apps/
  sealstrap reseal --env metal --private-key clusters/metal/secret-source/controller-keys.age -i key.txt --cert clusters/metal/secret-source/controller.crt
  sealstrap reseal --break-glass --all-envs --private-key old-break-glass.key --accept-cert break-glass")]
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
    /// The new controller certificate (a controller-key rotation; break-glass copies are left
    /// alone).
    #[arg(long, value_name = "FILE", required_unless_present = "break_glass")]
    pub cert: Option<PathBuf>,
    /// Files and folders with SealedSecrets [default: the environment's sealed folder].
    #[arg(value_name = "PATH", conflicts_with = "break_glass")]
    pub paths: Vec<PathBuf>,
    /// In the platform: the environment whose sealed folder is the default PATH.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// A break-glass key rotation: reseal exactly the break-glass copies, for the break-glass
    /// certificate sealstrap.yaml names, with the old break-glass key as --private-key.
    #[arg(long, conflicts_with = "cert")]
    pub break_glass: bool,
    /// With --break-glass: every environment's copies.
    #[arg(long, requires = "break_glass", conflicts_with = "env")]
    pub all_envs: bool,
    /// Accept the break-glass certificate sealstrap.yaml names although it is not the pinned one
    /// (`--accept-cert break-glass`): the new pin is written for review.
    #[arg(long = "accept-cert", value_name = "NAME", value_delimiter = ',')]
    pub accept_cert: Vec<String>,
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
sealed dex-admin-password; no sealed file is orphaned (its key left sealstrap.yaml). With a
break-glass certificate in sealstrap.yaml: one copy per sealed value in break-glass/, none stray,
each sealed for that certificate (with the break-glass key given, each opened and compared).
With --all-envs: every environment, then each shared value is one value everywhere.
Prints `key OK` or `key FAIL: why`, never a value.

Exit codes: 0 all OK, 1 any FAIL, 2 usage error.

Examples:
  sealstrap verify --private-key key.pem secret-source/
  sealstrap verify --all-envs -i ~/.config/sealstrap/key.txt --private-key recovery.key")]
pub struct VerifyArgs {
    /// Controller private key(s): PEM, a key Secret, a List of them, or an escrow (with -i).
    /// Without it, -i opens every escrow of the repository it can.
    #[arg(
        long = "private-key",
        required_unless_present = "identity",
        value_delimiter = ',',
        value_name = "KEY"
    )]
    pub private_keys: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// In the platform: every environment of clusters/, then the shared values across them.
    #[arg(long, conflicts_with_all = ["dir", "env", "config"])]
    pub all_envs: bool,
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
