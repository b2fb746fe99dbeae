//! The values a run takes from outside: the value files read with the request, each key's
//! variable, a hidden prompt; and the one reader of a sealed value a run needs in the clear (the
//! Dex copy restored, a shared value carried, a break-glass copy added). Never printed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use sealstrap::bootstrap::{self, Selected};
use sealstrap::contract::{Entry, Source};
use sealstrap::{manifests, objects};
use zeroize::Zeroizing;

use super::request::SealRequest;
use crate::workspace::error::Failure;
use crate::workspace::files::io_failure;

pub fn check_value(key: &str, value: &str, notes: &mut Vec<String>) -> Result<(), Failure> {
    match bootstrap::check_provided(key, value) {
        Ok(None) => Ok(()),
        Ok(Some(w)) => {
            notes.push(w);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Operator-provided (and imported) values for the entries this run will make: the value
/// files read with the request, then each key's variable, then a hidden prompt on a terminal.
/// The variable that gives `var`'s value to environment `env` alone: `CLOUDFLARE_API_TOKEN` for
/// metal is `CLOUDFLARE_API_TOKEN_METAL` (`-` in the name becomes `_`).
pub fn env_variable(var: &str, env: &str) -> String {
    format!("{var}_{}", env.to_ascii_uppercase().replace('-', "_"))
}

/// Where this run takes values from: its environment, and whether it is one of a fleet run
/// (where a value given once for every environment is refused for a per-cluster key).
pub struct ValueScope<'a> {
    pub env: Option<&'a str>,
    pub fleet: bool,
    pub sharing: &'a sealstrap::fleet::Fleet,
}

/// The refusal of one value given for every environment of a fleet run (a variable, or a
/// `--value-file KEY=PATH`) that two or more environments would seal, for a key declared
/// per-cluster (the default): each cluster's value is its own.
pub fn given_for_every_environment(key: &str, source: &str, envs: &[String]) -> Failure {
    let env = envs.first().map(String::as_str).unwrap_or("ENV");
    let var = source
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    Failure::new(format!(
        "{source} would seal one {key} into {}, and {key} is per-cluster (sealstrap.yaml values:, the default); nothing was sealed",
        envs.join(" and ")
    ))
    .hint(format!(
        "give each environment its own: {}--value-file {env}:{key}=PATH; or declare it shared (values: {{{key}: shared}})",
        if var {
            format!("{} or ", env_variable(source, env))
        } else {
            String::new()
        }
    ))
}

impl ValueScope<'_> {
    /// Whether a value given for every environment of a fleet run is taken as per-cluster
    /// (the fleet run refuses it when more than one environment takes it).
    fn per_cluster_in_fleet(&self, key: &str) -> bool {
        self.fleet && self.sharing.sharing(key) != sealstrap::fleet::Sharing::Shared
    }
}

/// The values given for this run, and for a fleet run the per-cluster keys whose value came
/// from a source given for every environment (`key -> source`).
pub type Provided = (
    BTreeMap<String, Zeroizing<String>>,
    BTreeMap<String, String>,
);

pub fn provided_values(
    req: &SealRequest,
    scope: &ValueScope<'_>,
    selection: &[Selected],
    needs_value: &dyn Fn(&Entry) -> bool,
    notes: &mut Vec<String>,
) -> Result<Provided, Failure> {
    let mut values = BTreeMap::new();
    let mut everywhere = BTreeMap::new();
    // Files named for this environment (ENV:KEY=PATH) first, then those for every one.
    let mut files: Vec<&super::request::ValueFile> = req
        .value_files
        .iter()
        .filter(|f| f.env.is_some() && f.env.as_deref() == scope.env)
        .collect();
    files.extend(req.value_files.iter().filter(|f| f.env.is_none()));
    for f in files {
        let key = &f.key;
        if values.contains_key(key) {
            continue;
        }
        let Some(sel) = selection.iter().find(|s| s.entry.key == key) else {
            notes.push(format!(
                "--value-file {key} ignored: this run does not touch {key}"
            ));
            continue;
        };
        if !sel.included {
            notes.push(format!(
                "--value-file {key} ignored: {key} is not needed ({})",
                sel.reason
            ));
            continue;
        }
        if !needs_value(&sel.entry) {
            notes.push(format!(
                "--value-file {key} ignored: sealed/{key}.yaml exists and is kept (use `sealstrap rotate {key}` to replace it)"
            ));
            continue;
        }
        if f.env.is_none() && scope.per_cluster_in_fleet(key) {
            everywhere.insert(key.clone(), format!("--value-file {key}=PATH"));
        }
        check_value(key, &f.value, notes)?;
        if let Some(n) = &f.note {
            notes.push(n.clone());
        }
        values.insert(key.clone(), f.value.clone());
    }
    let interactive = std::io::stdin().is_terminal();
    for sel in selection.iter().filter(|s| s.included) {
        let e = &sel.entry;
        let Source::Provided { env, .. } = e.source else {
            continue;
        };
        if values.contains_key(e.key) || !needs_value(e) {
            continue;
        }
        // The environment's own variable, else the one for every environment.
        let own = scope.env.map(|name| env_variable(env, name));
        let found = own
            .iter()
            .map(String::as_str)
            .chain([env])
            .find_map(|var| std::env::var_os(var).map(|v| (var.to_string(), v)));
        if let Some((var, v)) = found {
            if Some(&var) != own.as_ref() && scope.per_cluster_in_fleet(e.key) {
                everywhere.insert(e.key.to_string(), var.clone());
            }
            let v = Zeroizing::new(
                v.into_string()
                    .map_err(|_| Failure::new(format!("{var} is not valid UTF-8")))?,
            );
            check_value(e.key, &v, notes).map_err(|f| f.hint(format!("fix or unset {var}")))?;
            values.insert(e.key.to_string(), v);
            continue;
        }
        if interactive {
            let prompt = format!(
                "{}{} ({}; input hidden, empty to skip): ",
                e.key,
                scope
                    .env
                    .filter(|_| scope.fleet)
                    .map(|n| format!(" for {n}"))
                    .unwrap_or_default(),
                e.need.describe()
            );
            let v = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|err| {
                Failure::new(format!("cannot read {} from the terminal: {err}", e.key))
            })?);
            if v.is_empty() {
                continue;
            }
            check_value(e.key, &v, notes)?;
            values.insert(e.key.to_string(), v);
        }
    }
    Ok((values, everywhere))
}

/// The plaintext of the sealed value `key` in the output folder `out`, opened with `keys`;
/// `hint` says which key it takes. The one reader of a sealed value a run needs in the clear
/// (the Dex copy restored, a shared value carried, a break-glass copy added).
pub fn read_sealed_value(
    out: &Path,
    keys: &[sealstrap::rsa::PrivateKey],
    key: &str,
    hint: &str,
) -> Result<Zeroizing<String>, Failure> {
    let path = out.join(manifests::sealed_path(key));
    let text = crate::workspace::files::read_repo_text(&path)?.ok_or_else(|| {
        io_failure(
            "cannot read",
            &path,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    let docs = sealstrap::kubeseal::parse_sealed_stream(&text)
        .map_err(|e| Failure::at(path.display(), &e))?;
    let doc = docs
        .first()
        .ok_or_else(|| Failure::new(format!("{}: no SealedSecret", path.display())))?;
    let mut secret = objects::unseal_sealed_secret(doc, keys)
        .map_err(|f| Failure::new(format!("{}: {f}", path.display())).hint(hint))?;
    let value = secret.items.remove(manifests::VALUE_KEY).ok_or_else(|| {
        Failure::new(format!(
            "{}: no data key {}",
            path.display(),
            manifests::VALUE_KEY
        ))
    })?;
    let s = std::str::from_utf8(&value)
        .map_err(|_| Failure::new(format!("{}: the sealed value is not text", path.display())))?;
    Ok(Zeroizing::new(s.to_string()))
}
