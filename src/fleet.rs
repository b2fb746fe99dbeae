//! The fleet file: how one repository's environments are sealed, in `sealstrap.yaml` beside the
//! fork's own keys (like sops' `creation_rules`, one committed place that says which key seals
//! what). Pure: the command layer reads the file and checks the paths.
//!
//! ```yaml
//! environments:                 # optional: every folder in clusters/ is an environment
//!   ai-dev:
//!     cert: clusters/ai-dev/secret-source/controller.crt      # the default
//!     recipients: clusters/ai-dev/secret-source/controller-keys.recipients
//!   metal:
//!     cert: certs/metal.crt
//! values:
//!   example-token: shared       # one plaintext, sealed for every environment
//!   hf-token: per-cluster       # the default: each environment its own value
//! break-glass:
//!   cert: recovery/break-glass.crt   # every value is also sealed for this offline key
//! ```
//!
//! Paths are relative to the repository root (the file's folder).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One environment's entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvEntry {
    /// The controller certificate it seals for (relative to the root).
    pub cert: Option<String>,
    /// The age recipients file of its escrow (relative to the root).
    pub recipients: Option<String>,
}

/// How a value is made across environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// The same plaintext sealed for every environment.
    Shared,
    /// Made (or provided) for each environment on its own: the default.
    PerCluster,
}

/// The fleet section of `sealstrap.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fleet {
    pub environments: BTreeMap<String, EnvEntry>,
    pub values: BTreeMap<String, Sharing>,
    /// The break-glass certificate (relative to the root).
    pub break_glass: Option<String>,
}

impl Fleet {
    pub fn sharing(&self, key: &str) -> Sharing {
        self.values.get(key).copied().unwrap_or(Sharing::PerCluster)
    }

    /// The keys declared shared.
    pub fn shared(&self) -> BTreeSet<&str> {
        self.values
            .iter()
            .filter(|(_, s)| **s == Sharing::Shared)
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// Why the fleet section could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FleetError {
    #[error("{0}: must be a mapping")]
    NotMap(&'static str),
    #[error("environments.{env}: {problem}")]
    Env { env: String, problem: String },
    #[error("values.{key}: {problem}")]
    Value { key: String, problem: String },
    #[error("break-glass: {0}")]
    BreakGlass(String),
}

impl FleetError {
    pub fn hint(&self) -> String {
        "see docs/format.md §10 (\"The fleet file\"): environments: {ENV: {cert: PATH, recipients: PATH}}, values: {KEY: shared | per-cluster}, break-glass: {cert: PATH}".into()
    }
}

fn rel_path(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.is_empty() || s.starts_with('/') || s.split('/').any(|seg| seg == "..") {
                Err(format!(
                    "{s:?} must be a path inside the repository, relative to its root"
                ))
            } else if s.chars().any(char::is_control) {
                Err("a path holds a control character".into())
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(_) => Err("must be a path (a string)".into()),
    }
}

/// Reads the fleet section from the parsed `sealstrap.yaml` (absent sections: the defaults);
/// `values:` must name keys of `contract` (the platform's and the file's own `extra:`).
pub fn parse(root: &Value, contract: &crate::contract::Contract) -> Result<Fleet, FleetError> {
    let mut fleet = Fleet::default();
    if let Some(envs) = root.get("environments").filter(|v| !v.is_null()) {
        let envs = envs.as_object().ok_or(FleetError::NotMap("environments"))?;
        for (env, entry) in envs {
            let bad = |problem: String| FleetError::Env {
                env: env.clone(),
                problem,
            };
            if !crate::objects::is_dns_label(env) {
                return Err(bad("not an environment folder name".into()));
            }
            let entry = match entry {
                Value::Null => serde_json::Map::new(),
                Value::Object(m) => m.clone(),
                _ => {
                    return Err(bad(
                        "must be a mapping: {cert: PATH, recipients: PATH}".into()
                    ));
                }
            };
            for k in entry.keys() {
                if k != "cert" && k != "recipients" {
                    return Err(bad(format!("unknown field {k:?} (cert, recipients)")));
                }
            }
            fleet.environments.insert(
                env.clone(),
                EnvEntry {
                    cert: rel_path(entry.get("cert")).map_err(|p| bad(format!("cert: {p}")))?,
                    recipients: rel_path(entry.get("recipients"))
                        .map_err(|p| bad(format!("recipients: {p}")))?,
                },
            );
        }
    }
    if let Some(values) = root.get("values").filter(|v| !v.is_null()) {
        let values = values.as_object().ok_or(FleetError::NotMap("values"))?;
        for (key, how) in values {
            let bad = |problem: &str| FleetError::Value {
                key: key.clone(),
                problem: problem.into(),
            };
            if contract.entry(key).is_none() {
                return Err(bad("not a key of the contract or of extra:"));
            }
            if key == crate::contract::DEX_PASSWORD || key == crate::contract::DEX_HASH {
                // The pair is made together per environment, with the plaintext copy beside it.
                return Err(bad(
                    "the Dex admin pair is each environment's own (its plaintext copy is in secrets/<env>/); it cannot be shared",
                ));
            }
            let sharing = match how.as_str() {
                Some("shared") => Sharing::Shared,
                Some("per-cluster") => Sharing::PerCluster,
                _ => return Err(bad("must be shared or per-cluster")),
            };
            fleet.values.insert(key.clone(), sharing);
        }
    }
    if let Some(bg) = root.get("break-glass").filter(|v| !v.is_null()) {
        let m = bg.as_object().ok_or(FleetError::BreakGlass(
            "must be a mapping: {cert: PATH}".into(),
        ))?;
        fleet.break_glass = rel_path(m.get("cert"))
            .map_err(FleetError::BreakGlass)?
            .or(None);
        if fleet.break_glass.is_none() {
            return Err(FleetError::BreakGlass("needs cert: PATH".into()));
        }
    }
    Ok(fleet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(t: &str) -> Value {
        crate::yaml::parse_documents(t).unwrap().remove(0)
    }

    fn parse(root: &Value) -> Result<Fleet, FleetError> {
        let extras = crate::contract::parse_extras(root)
            .unwrap()
            .into_iter()
            .map(|x| x.entry)
            .collect();
        super::parse(root, &crate::contract::Contract::new(extras))
    }

    #[test]
    fn the_fleet_file_is_read_and_checked() {
        let f = parse(&doc("extra: {example-token: {generate: hex32}}\nenvironments:\n  ai-dev:\n    cert: certs/ai-dev.crt\n  metal: {}\nvalues:\n  example-token: shared\n  hf-token: per-cluster\nbreak-glass: {cert: recovery/bg.crt}\n")).unwrap();
        assert_eq!(
            f.environments["ai-dev"].cert.as_deref(),
            Some("certs/ai-dev.crt")
        );
        assert_eq!(f.environments["metal"], EnvEntry::default());
        assert_eq!(f.sharing("example-token"), Sharing::Shared);
        assert_eq!(f.sharing("vllm-api-key"), Sharing::PerCluster);
        assert_eq!(f.shared(), BTreeSet::from(["example-token"]));
        assert_eq!(f.break_glass.as_deref(), Some("recovery/bg.crt"));
        assert_eq!(parse(&doc("extra: {}\n")).unwrap(), Fleet::default());
        for bad in [
            "environments: [a]\n",
            "environments:\n  ai-dev: {cert: /etc/passwd}\n",
            "environments:\n  ai-dev: {cert: ../x.crt}\n",
            "environments:\n  ai-dev: {keys: x}\n",
            "values:\n  vllm-api-key: sometimes\n",
            "values:\n  not-a-key: shared\n",
            "values:\n  dex-admin-hash: shared\n",
            "values:\n  dex-admin-password: shared\n",
            "break-glass: {}\n",
        ] {
            assert!(parse(&doc(bad)).is_err(), "{bad}");
        }
    }
}
