//! The platform's per-environment settings (`environments/<env>/config.yaml`): only the fields
//! that decide which secrets are needed. Pure: text in, settings out.

use serde_json::Value;

use crate::contract::Feature;
use crate::yaml;

/// What sealstrap reads from an environment config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvConfig {
    /// `secret_backend` (e.g. `gcpsm`, `kubernetes`), if set.
    pub secret_backend: Option<String>,
    pub dns_automate: bool,
    /// `dns.provider` (`none`, `google`, `cloudflare`), if set.
    pub dns_provider: Option<String>,
    pub identity: bool,
    pub n8n: bool,
    pub egress: bool,
}

/// A config file sealstrap cannot use; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not YAML (the parser's message, with line and column).
    #[error("{0}")]
    Syntax(String),
    #[error("the file is empty")]
    Empty,
    #[error("expected one YAML document, found {0}")]
    Documents(usize),
    /// `field` is dotted (`features.identity`); `found` says what kind of value is there.
    #[error("{field} must be {expected}, found {found}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
}

impl ConfigError {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ConfigError::Syntax(_) => {
                "fix the YAML at the line named (it is the platform's environments/<env>/config.yaml)"
            }
            ConfigError::Empty | ConfigError::Documents(_) => {
                "pass the environment's config.yaml (--config environments/<env>/config.yaml), or leave --config out"
            }
            ConfigError::WrongType { expected, .. } if *expected == "true or false" => {
                "write true or false, unquoted"
            }
            ConfigError::WrongType { .. } => {
                "compare with the platform's environments/*/config.yaml layout"
            }
        })
    }
}

fn field_name(path: &str) -> String {
    path.trim_start_matches('/').replace('/', ".")
}

fn get_bool(root: &Value, path: &str) -> Result<bool, ConfigError> {
    match root.pointer(path) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ConfigError::WrongType {
            field: field_name(path),
            expected: "true or false",
            found: describe(other),
        }),
    }
}

fn get_str(root: &Value, path: &str) -> Result<Option<String>, ConfigError> {
    match root.pointer(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ConfigError::WrongType {
            field: field_name(path),
            expected: "a string",
            found: describe(other),
        }),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl EnvConfig {
    /// Parses the config's YAML text.
    pub fn parse(text: &str) -> Result<EnvConfig, ConfigError> {
        let docs = yaml::parse_documents(text).map_err(|e| ConfigError::Syntax(e.message))?;
        let root = match docs.as_slice() {
            [] => return Err(ConfigError::Empty),
            [one] => one,
            more => return Err(ConfigError::Documents(more.len())),
        };
        if !root.is_object() {
            return Err(ConfigError::WrongType {
                field: "the top level".into(),
                expected: "a mapping",
                found: describe(root),
            });
        }
        for section in ["/dns", "/features"] {
            if let Some(v) = root.pointer(section)
                && !v.is_object()
                && !v.is_null()
            {
                return Err(ConfigError::WrongType {
                    field: field_name(section),
                    expected: "a mapping",
                    found: describe(v),
                });
            }
        }
        Ok(EnvConfig {
            secret_backend: get_str(root, "/secret_backend")?,
            dns_automate: get_bool(root, "/dns/automate")?,
            dns_provider: get_str(root, "/dns/provider")?,
            identity: get_bool(root, "/features/identity")?,
            n8n: get_bool(root, "/features/n8n")?,
            egress: get_bool(root, "/features/egress")?,
        })
    }

    /// Whether the config turns `feature` on, and the setting that says so.
    pub fn wants(&self, feature: Feature) -> (bool, String) {
        match feature {
            Feature::Identity => (
                self.identity,
                format!("features.identity is {}", self.identity),
            ),
            Feature::N8n => (self.n8n, format!("features.n8n is {}", self.n8n)),
            Feature::Anthropic => (self.egress, format!("features.egress is {}", self.egress)),
            Feature::Cloudflare => {
                let provider = self.dns_provider.as_deref().unwrap_or("none");
                let on = self.dns_automate && provider == "cloudflare";
                (
                    on,
                    format!(
                        "dns.automate is {} and dns.provider is {provider}",
                        self.dns_automate
                    ),
                )
            }
            Feature::Hf => (
                false,
                "the config has no switch for gated Hugging Face models".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_switches() {
        let c = EnvConfig::parse(
            "secret_backend: gcpsm\ndns:\n  automate: true\n  provider: cloudflare\nfeatures:\n  identity: true\n  n8n: false\n  egress: true\nother: ignored\n",
        )
        .unwrap();
        assert_eq!(c.secret_backend.as_deref(), Some("gcpsm"));
        assert!(c.wants(Feature::Cloudflare).0);
        assert!(c.wants(Feature::Identity).0);
        assert!(!c.wants(Feature::N8n).0);
        assert!(c.wants(Feature::Anthropic).0);
        assert!(!c.wants(Feature::Hf).0);
    }

    #[test]
    fn cloudflare_needs_both_switches() {
        let c = EnvConfig::parse("dns: {automate: true, provider: google}\n").unwrap();
        assert!(!c.wants(Feature::Cloudflare).0);
        let c = EnvConfig::parse("dns: {automate: false, provider: cloudflare}\n").unwrap();
        assert!(!c.wants(Feature::Cloudflare).0);
    }

    #[test]
    fn wrong_types_are_named() {
        let e = EnvConfig::parse("features:\n  identity: maybe\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "features.identity must be true or false, found a string"
        );
        assert_eq!(e.hint(), Some("write true or false, unquoted"));
        let e = EnvConfig::parse("features: [identity]\n").unwrap_err();
        assert_eq!(e.to_string(), "features must be a mapping, found a list");
        let e = EnvConfig::parse("features:\n  identity: true\n bad\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Syntax(m) if m.contains("line")),
            "{e}"
        );
        assert!(EnvConfig::parse("").is_err());
    }
}
