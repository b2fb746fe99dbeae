//! A writing run's request, made once from the flags: what kind of run, which paths were given,
//! the checked ESO wiring, the value files read (before the repository is locked, so a FIFO
//! given as a value file cannot block other runs), the keys and identities to open sealed
//! values with. Nothing after this module sees a clap type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sealstrap::cluster::ClusterOpts;
use sealstrap::contract::{Contract, Feature};
use sealstrap::manifests::Wiring;
use sealstrap::objects;
use zeroize::Zeroizing;

use crate::cli::{BootstrapArgs, GitOps, SealArgs, SummaryFormat, WiringArgs};
use crate::workspace::error::Failure;
use crate::workspace::files::{VALUE_LIMIT, read_limited};

/// What a run does.
pub enum Mode {
    /// `seal`: every missing value, and the wiring.
    Seal(SealOptions),
    /// `rotate`, `reset-dex-admin` and `set`: new values for `keys`; `values` holds the ones the
    /// user gave for them (`set`), the rest are made or read as seal does.
    Rotate {
        keys: BTreeSet<String>,
        values: BTreeMap<String, Zeroizing<String>>,
    },
    /// `unset`: remove the sealed values of `keys` (and their break-glass copies; the Dex pair
    /// together); `force` removes a key the environment needs.
    Unset { keys: BTreeSet<String>, force: bool },
}

/// `seal`'s own choices.
#[derive(Clone)]
pub struct SealOptions {
    /// Replace a hand-written store at the platform's swap point.
    pub force: bool,
    /// `--gitops argocd`.
    pub argocd: bool,
    /// `--gitops flux`: the Flux folder (relative to the repository root).
    pub flux: Option<PathBuf>,
    /// `--chart-repo`, `--chart-version`, `--image-*`: the mirror given on the command line.
    pub chart: sealstrap::mirror::Given,
    /// `--require-complete`.
    pub require_complete: bool,
}

/// A `--value-file [ENV:]KEY=PATH`, read.
pub struct ValueFile {
    /// The environment it is for (`ENV:KEY=PATH`); `None`: every environment the run seals.
    pub env: Option<String>,
    pub key: String,
    pub value: Zeroizing<String>,
    /// Said in the summary (a trailing newline stripped).
    pub note: Option<String>,
}

/// Where the certificate comes from.
pub enum CertSource {
    /// `--cert`, from the current folder.
    Given(PathBuf),
    /// `--fetch-cert`: the controller's, through the API server.
    Fetch(Box<ClusterOpts>),
    /// The fleet file's, else the one `key new` wrote into the sealed folder.
    Default,
}

/// The summary's form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Everything a run was asked to do, from its flags.
pub struct SealRequest {
    pub mode: Mode,
    pub cert: CertSource,
    pub allow_expired: bool,
    /// `--accept-cert NAME`: certificates from the tree to pin although they are not.
    pub accept_cert: Vec<String>,
    /// `--env`, `--config`, `--with`, `--without`.
    pub env: Option<String>,
    pub config: Option<PathBuf>,
    pub with: Vec<Feature>,
    pub without: Vec<Feature>,
    pub no_gitignore_edit: bool,
    pub secrets_dir: Option<PathBuf>,
    pub value_files: Vec<ValueFile>,
    pub bcrypt_cost: u32,
    pub output: Output,
    /// Keys (and identities for an escrow) that open sealed values: to restore the Dex copy,
    /// carry a shared value, add break-glass copies.
    pub private_keys: Vec<PathBuf>,
    pub identity: Vec<PathBuf>,
    pub dry_run: bool,
    pub fix_permissions: bool,
    pub wiring: Wiring,
    /// The controller's Service name and namespace (the chart's release, kubeseal's defaults).
    pub controller_name: String,
    pub controller_namespace: String,
}

impl SealRequest {
    /// The request of `seal`; `contract` holds every key of the repository (a `--value-file`
    /// names one of them).
    pub fn seal(args: &SealArgs, contract: &Contract) -> Result<SealRequest, Failure> {
        let chart = args.mirror.given();
        if chart != sealstrap::mirror::Given::default() && args.gitops.is_none() {
            return Err(Failure::usage(
                "--chart-repo, --chart-version and --image-* set what --gitops writes: pass --gitops argocd or --gitops flux",
            )
            .hint("`sealstrap mirror-list` prints what to mirror without writing anything"));
        }
        sealstrap::mirror::check(&chart)
            .map_err(|e| Failure::usage(e.to_string()).hint(e.hint()))?;
        SealRequest::new(
            &args.common,
            contract,
            Mode::Seal(SealOptions {
                force: args.force,
                argocd: args.gitops == Some(GitOps::Argocd),
                flux: (args.gitops == Some(GitOps::Flux)).then(|| args.flux_dir.clone()),
                chart: args.mirror.given(),
                require_complete: args.require_complete,
            }),
        )
    }

    /// The request of any writing command, from the options they share.
    pub fn new(
        args: &BootstrapArgs,
        contract: &Contract,
        mode: Mode,
    ) -> Result<SealRequest, Failure> {
        let wiring = wiring(&args.wiring)?;
        let cert = match (&args.cert, args.fetch_cert) {
            (Some(c), _) => CertSource::Given(c.clone()),
            (None, true) => CertSource::Fetch(Box::new(crate::workspace::cluster::opts(
                &args.cluster,
                Default::default(),
            )?)),
            (None, false) => CertSource::Default,
        };
        let mut value_files = Vec::new();
        for spec in &args.value_files {
            let v = read_value_file(contract, spec)?;
            if value_files
                .iter()
                .any(|f: &ValueFile| f.key == v.key && f.env == v.env)
            {
                return Err(Failure::usage(format!(
                    "--value-file {} is given twice",
                    v.key
                )));
            }
            value_files.push(v);
        }
        Ok(SealRequest {
            mode,
            cert,
            allow_expired: args.allow_expired,
            accept_cert: args.accept_cert.clone(),
            env: args.selection.env.clone(),
            config: args.selection.config.clone(),
            with: args.selection.with.clone(),
            without: args.selection.without.clone(),
            no_gitignore_edit: args.no_gitignore_edit,
            secrets_dir: args.secrets_dir.clone(),
            value_files,
            bcrypt_cost: args.bcrypt_cost,
            output: match args.output {
                SummaryFormat::Text => Output::Text,
                SummaryFormat::Json => Output::Json,
            },
            private_keys: args.private_keys.clone(),
            identity: args.identity.identity.clone(),
            dry_run: args.dry_run,
            fix_permissions: args.fix_permissions,
            wiring,
            controller_name: args.cluster.controller_name.clone(),
            controller_namespace: args.cluster.controller_namespace.clone(),
        })
    }

    /// `seal`'s options (`None` for the other commands).
    pub fn seal_options(&self) -> Option<&SealOptions> {
        match &self.mode {
            Mode::Seal(o) => Some(o),
            _ => None,
        }
    }

    /// Whether keys to open sealed values were given.
    pub fn has_keys(&self) -> bool {
        !(self.private_keys.is_empty() && self.identity.is_empty())
    }
}

/// The ESO wiring from its flags, checked: valid Kubernetes names and an https:// URL.
fn wiring(w: &WiringArgs) -> Result<Wiring, Failure> {
    let wiring = Wiring {
        source_namespace: w.source_namespace.clone(),
        store_name: w.store_name.clone(),
        eso_namespace: w.eso_namespace.clone(),
        reader: w.reader.clone(),
        server_url: w.server_url.clone(),
        ca_configmap: w.ca_configmap.clone(),
        ca_key: w.ca_key.clone(),
    };
    for (flag, v) in [
        ("--source-namespace", &wiring.source_namespace),
        ("--eso-namespace", &wiring.eso_namespace),
    ] {
        if !objects::is_dns_label(v) {
            return Err(Failure::usage(format!(
                "{flag} {v:?} is not a valid namespace name"
            )));
        }
    }
    for (flag, v) in [
        ("--store-name", &wiring.store_name),
        ("--reader", &wiring.reader),
        ("--ca-configmap", &wiring.ca_configmap),
    ] {
        if !objects::is_dns_subdomain(v) {
            return Err(Failure::usage(format!(
                "{flag} {v:?} is not a valid Kubernetes name"
            )));
        }
    }
    if !objects::is_data_key(&wiring.ca_key) {
        return Err(Failure::usage(format!(
            "--ca-key {:?} is not a valid ConfigMap key",
            wiring.ca_key
        )));
    }
    if !wiring.server_url.starts_with("https://") {
        return Err(Failure::usage(format!(
            "--server-url {:?} must be an https:// URL",
            wiring.server_url
        )));
    }
    Ok(wiring)
}

/// Reads a `--value-file [ENV:]KEY=PATH`: one trailing newline stripped (and said so).
fn read_value_file(contract: &Contract, spec: &str) -> Result<ValueFile, Failure> {
    let Some((key, path)) = spec.split_once('=') else {
        return Err(Failure::usage(format!(
            "--value-file {spec:?} must be KEY=PATH (or ENV:KEY=PATH for one environment)"
        )));
    };
    let (env, key) = match key.split_once(':') {
        Some((env, key)) => {
            if !objects::is_dns_label(env) {
                return Err(Failure::usage(format!(
                    "--value-file {env:?}:{key}: not an environment name"
                )));
            }
            (Some(env.to_string()), key)
        }
        None => (None, key),
    };
    if contract.entry(key).is_none() {
        return Err(Failure::usage(format!(
            "--value-file: {key:?} is not a backend key of the contract"
        ))
        .hint("`sealstrap contract` lists the keys"));
    }
    if key == sealstrap::contract::DEX_HASH {
        return Err(Failure::usage(
            "--value-file dex-admin-hash: the hash is always made from dex-admin-password; import the password instead",
        ));
    }
    let path = Path::new(path);
    let bytes = read_limited(Some(path), "", VALUE_LIMIT)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::new(format!(
            "--value-file {key}: {} is not UTF-8 text",
            path.display()
        ))
    })?;
    let stripped = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'));
    let note = stripped.map(|_| format!("stripped one trailing newline from {}", path.display()));
    Ok(ValueFile {
        env,
        key: key.to_string(),
        value: Zeroizing::new(stripped.unwrap_or(text).to_string()),
        note,
    })
}
