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

#[derive(Debug, Args)]
#[command(after_help = "\
Finds: plaintext `kind: Secret` manifests with data/stringData; values shaped like the contract's
(sk- keys, 64-hex secrets, bcrypt hashes, hf_/sk-ant-/cfut_ tokens) and PEM private keys outside sealed files;
SealedSecrets sealed for another certificate than --cert; ExternalSecrets to the store without
property. Files git ignores are skipped. One line per finding, never the value.

Exit codes: 0 clean, 1 findings, 2 usage error.

Examples:
  sealstrap scan
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
    /// text (one line per finding) or json.
    #[arg(long, value_enum, default_value = "text")]
    pub output: SummaryFormat,
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
