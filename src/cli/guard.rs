//! Flags of the guards: `scan`, `patch-externalsecrets`, `contract`.

use std::path::PathBuf;

use clap::Args;
use sealstrap::defaults;

use super::*;

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

/// `scan --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

/// `scan --baseline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineMode {
    Use,
    Write,
    Off,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Finds: credentials by their issuers' documented shapes (AWS, Google Cloud, Azure, GitHub, GitLab,
Slack, Stripe, SendGrid, Twilio, OpenAI, Anthropic, Hugging Face, npm, PyPI, Vault, Tailscale, ...),
JWTs, private keys of every PEM, OpenSSH, PuTTY and PGP kind (base64-encoded too, in any
wrapper), age identities, kubeconfig tokens and keys, docker config logins, passwords in URLs,
random-looking values assigned to password/secret/token/key names; plaintext `kind: Secret`
manifests; the contract's value shapes; SealedSecrets sealed for another certificate than the one
their folder is for (--cert, else the folder's controller.crt, sealstrap.yaml's environment
certificate, or the break-glass certificate for break-glass/); break-glass copies that are
missing, stray or sealed for another certificate; ExternalSecrets to the store without property.
Files git ignores are skipped. One line per finding (file, line, kind, fix), never the value.

Allow a false positive with its reason: `# sealstrap:allow REASON` on the line, or `exclude:` in
sealstrap.yaml. Adopting scan on an old repository: `--baseline write` acknowledges today's
findings in .sealstrap-baseline (keyed fingerprints, no values); only new ones fail after it.

Exit codes: 0 clean, 1 findings, 2 usage error.

Examples:
  sealstrap scan
  sealstrap scan --cert pub.pem --output json platform/ secret-source/
  sealstrap scan --staged                       # the pre-commit hook: what the commit carries
  sealstrap scan --history                      # every blob of every branch and tag, once
  sealstrap scan --history origin/main..HEAD    # the commits a push would add
  sealstrap scan --baseline write               # acknowledge today's findings
  sealstrap scan --output sarif > scan.sarif    # for code-scanning UIs")]
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
