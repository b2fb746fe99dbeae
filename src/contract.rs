//! The platform's secret contract: every backend key, who consumes it, when it is needed, and
//! how its value is made. A static table with invariant tests; no I/O.
//!
//! Source: the platform's secrets page (sections "The secrets" and
//! "Secret contract"); the rules behind it are in docs/format.md §6.
//!
//! A fork's own keys are rows of the same table: declared once in `sealstrap.yaml` at the
//! repository root (`extra: {KEY: {generate: hex32}}` or `{provide: ENV_VAR}`, optionally
//! `environments: [ENV]`), parsed by [`parse_extras`] (through `repo_config`) into a
//! [`Contract`] value that every command of the run is given.

/// Optional parts of the platform that bring their own secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// Dex, oauth2-proxy and the OIDC clients (`features.identity`).
    Identity,
    /// n8n (`features.n8n`).
    N8n,
    /// Cloudflare DNS automation (`dns.automate` with `dns.provider: cloudflare`).
    Cloudflare,
    /// The Anthropic egress provider (`features.egress`).
    Anthropic,
    /// A gated Hugging Face model.
    Hf,
}

impl Feature {
    pub const ALL: [Feature; 5] = [
        Feature::Identity,
        Feature::N8n,
        Feature::Cloudflare,
        Feature::Anthropic,
        Feature::Hf,
    ];

    /// The name used by `--with` / `--without`.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Identity => "identity",
            Feature::N8n => "n8n",
            Feature::Cloudflare => "cloudflare",
            Feature::Anthropic => "anthropic",
            Feature::Hf => "hf",
        }
    }

    pub fn parse(s: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == s)
    }

    /// What turns it on in the environment config.
    pub fn config_switch(self) -> &'static str {
        match self {
            Feature::Identity => "features.identity: true",
            Feature::N8n => "features.n8n: true",
            Feature::Cloudflare => "dns.automate: true with dns.provider: cloudflare",
            Feature::Anthropic => "features.egress: true",
            Feature::Hf => "no config switch (serving a gated Hugging Face model); use --with hf",
        }
    }
}

/// When an entry is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Always,
    When(Feature),
}

impl Need {
    pub fn describe(self) -> &'static str {
        match self {
            Need::Always => "always",
            Need::When(Feature::Identity) => "identity enabled",
            Need::When(Feature::N8n) => "n8n enabled",
            Need::When(Feature::Cloudflare) => "dns.automate with dns.provider: cloudflare",
            Need::When(Feature::Anthropic) => "routing the Anthropic egress provider",
            Need::When(Feature::Hf) => "serving a gated Hugging Face model",
        }
    }
}

/// How a value is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// 64 lowercase hex characters (32 random bytes), as `openssl rand -hex 32`.
    Hex64,
    /// `sk-` + 64 hex (LiteLLM: "ensure it starts with sk-").
    LiteLlmKey,
    /// 43 characters of unpadded base64url of 32 random bytes: oauth2-proxy decodes it to a
    /// 32-byte AES-256 key.
    CookieSecret,
    /// 32 hex characters (16 random bytes), as the platform's script makes it; under bcrypt's
    /// 72-byte limit.
    DexPassword,
    /// bcrypt (`$2a$`) of the dex admin password; made together with it.
    DexHash,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Generated(Generator),
    /// The operator provides it: from `env`, `--value-file KEY=PATH` or a prompt.
    Provided {
        env: &'static str,
        /// Prefixes a real value starts with; others draw a warning, not a refusal.
        expected: &'static str,
    },
}

/// A Kubernetes Secret key that ESO fills from a backend key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub namespaces: &'static [&'static str],
    pub secret: &'static str,
    pub key: &'static str,
}

/// One backend key of the contract.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: &'static str,
    pub source: Source,
    pub need: Need,
    /// Changing it breaks existing data (LiteLLM's salt key encrypts stored provider keys).
    pub write_once: bool,
    /// Its consumer puts it in a URL (Postgres, Grafana provisioning), so every character must
    /// be URL-safe (RFC 3986 unreserved).
    pub url_safe: bool,
    pub consumers: &'static [Consumer],
    /// The value's format, for `sealstrap contract`.
    pub format: &'static str,
    /// Workloads to restart after the value changes.
    pub restart: &'static str,
}

impl Entry {
    pub fn is_generated(&self) -> bool {
        matches!(self.source, Source::Generated(_))
    }
}

const fn c(
    namespaces: &'static [&'static str],
    secret: &'static str,
    key: &'static str,
) -> Consumer {
    Consumer {
        namespaces,
        secret,
        key,
    }
}

const HEX64: &str = "64 hex characters (32 random bytes)";

/// The contract, in the order of the platform's table.
pub const CONTRACT: &[Entry] = &[
    Entry {
        key: "litellm-master-key",
        source: Source::Generated(Generator::LiteLlmKey),
        need: Need::Always,
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["litellm"], "litellm-secrets", "master"),
            c(&["experience"], "key-portal", "LITELLM_MASTER_KEY"),
        ],
        format: "sk- followed by 64 hex characters",
        restart: "LiteLLM (namespace litellm) and the key portal (namespace experience)",
    },
    Entry {
        key: "litellm-salt-key",
        source: Source::Generated(Generator::Hex64),
        need: Need::Always,
        write_once: true,
        url_safe: false,
        consumers: &[c(&["litellm"], "litellm-secrets", "salt")],
        format: HEX64,
        restart: "LiteLLM (namespace litellm)",
    },
    Entry {
        key: "vllm-api-key",
        source: Source::Generated(Generator::Hex64),
        need: Need::Always,
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["litellm"], "litellm-secrets", "vllm"),
            c(&["serving"], "vllm-api-key", "api-key"),
        ],
        format: HEX64,
        restart: "LiteLLM (namespace litellm) and the vLLM servers (namespace serving)",
    },
    Entry {
        key: "litellm-db-password",
        source: Source::Generated(Generator::Hex64),
        need: Need::Always,
        write_once: false,
        url_safe: true,
        consumers: &[c(&["litellm"], "litellm-pg-app", "password")],
        format: "64 hex characters (URL-safe, used in Postgres URLs)",
        restart: "LiteLLM and its Postgres (namespace litellm); the database role's password must be changed too",
    },
    Entry {
        key: "litellm-grafana-ro-password",
        source: Source::Generated(Generator::Hex64),
        need: Need::Always,
        write_once: false,
        url_safe: true,
        consumers: &[
            c(&["monitoring"], "grafana-datasource-litellm", "password"),
            c(&["litellm"], "litellm-grafana-ro", "password"),
        ],
        format: "64 hex characters (URL-safe, used in Grafana provisioning)",
        restart: "Grafana (namespace monitoring) and LiteLLM's Postgres (namespace litellm)",
    },
    Entry {
        key: "n8n-encryption-key",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::N8n),
        write_once: false,
        url_safe: false,
        consumers: &[c(&["n8n"], "n8n-core-secrets", "N8N_ENCRYPTION_KEY")],
        format: HEX64,
        restart: "n8n (namespace n8n)",
    },
    Entry {
        key: "oauth2-proxy-cookie-secret",
        source: Source::Generated(Generator::CookieSecret),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[c(&["oauth2-proxy"], "oauth2-proxy-secrets", "cookieSecret")],
        format: "43 characters of unpadded base64url (decodes to a 32-byte AES key)",
        restart: "oauth2-proxy (namespace oauth2-proxy)",
    },
    Entry {
        key: "dex-admin-password",
        source: Source::Generated(Generator::DexPassword),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[],
        format: "32 hex characters; plaintext copy in secrets/dex-admin-password (0600, gitignored)",
        restart: "nothing (the operator's copy; Dex reads only the hash)",
    },
    Entry {
        key: "dex-admin-hash",
        source: Source::Generated(Generator::DexHash),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[c(&["dex"], "dex-secrets", "DEX_ADMIN_PASSWORD_HASH")],
        format: "bcrypt ($2a$, cost 12) of dex-admin-password",
        restart: "Dex (namespace dex)",
    },
    Entry {
        key: "dex-oauth2-proxy-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["dex"], "dex-secrets", "OAUTH2_PROXY_CLIENT_SECRET"),
            c(&["oauth2-proxy"], "oauth2-proxy-secrets", "clientSecret"),
        ],
        format: HEX64,
        restart: "Dex (namespace dex) and oauth2-proxy (namespace oauth2-proxy)",
    },
    Entry {
        key: "dex-argocd-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["dex"], "dex-secrets", "ARGOCD_CLIENT_SECRET"),
            c(&["argocd"], "argocd-secret", "oidc.dex.clientSecret"),
        ],
        format: HEX64,
        restart: "Dex (namespace dex) and the Argo CD server (namespace argocd)",
    },
    Entry {
        key: "dex-litellm-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["dex"], "dex-secrets", "LITELLM_CLIENT_SECRET"),
            c(&["litellm"], "litellm-secrets", "genericClientSecret"),
        ],
        format: HEX64,
        restart: "Dex (namespace dex) and LiteLLM (namespace litellm)",
    },
    Entry {
        key: "dex-grafana-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["dex"], "dex-secrets", "GRAFANA_CLIENT_SECRET"),
            c(&["monitoring"], "grafana-oidc", "clientSecret"),
        ],
        format: HEX64,
        restart: "Dex (namespace dex) and Grafana (namespace monitoring)",
    },
    Entry {
        key: "dex-open-webui-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[
            c(&["dex"], "dex-secrets", "OPENWEBUI_CLIENT_SECRET"),
            c(&["experience"], "open-webui-oidc", "clientSecret"),
        ],
        format: HEX64,
        restart: "Dex (namespace dex) and Open WebUI (namespace experience)",
    },
    Entry {
        key: "dex-tabby-client-secret",
        source: Source::Generated(Generator::Hex64),
        need: Need::When(Feature::Identity),
        write_once: false,
        url_safe: false,
        consumers: &[c(&["dex"], "dex-secrets", "TABBY_CLIENT_SECRET")],
        format: HEX64,
        restart: "Dex (namespace dex) and Tabby",
    },
    Entry {
        key: "cloudflare-api-token",
        source: Source::Provided {
            env: "CLOUDFLARE_API_TOKEN",
            expected: "40 characters, or cfut_/cfat_ followed by the token",
        },
        need: Need::When(Feature::Cloudflare),
        write_once: false,
        url_safe: false,
        consumers: &[c(
            &["external-dns", "cert-manager"],
            "cloudflare-api-token",
            "api-token",
        )],
        format: "Cloudflare API token (you provide it)",
        restart: "external-dns (namespace external-dns) and cert-manager (namespace cert-manager)",
    },
    Entry {
        key: "anthropic-api-key",
        source: Source::Provided {
            env: "ANTHROPIC_API_KEY",
            expected: "sk-ant-...",
        },
        need: Need::When(Feature::Anthropic),
        write_once: false,
        url_safe: false,
        consumers: &[c(
            &["agentgateway-system"],
            "anthropic-api-key",
            "Authorization",
        )],
        format: "Anthropic API key sk-ant-... (you provide it)",
        restart: "agentgateway (namespace agentgateway-system)",
    },
    Entry {
        key: "hf-token",
        source: Source::Provided {
            env: "HF_TOKEN",
            expected: "hf_ followed by 34 letters",
        },
        need: Need::When(Feature::Hf),
        write_once: false,
        url_safe: false,
        consumers: &[c(&["kserve"], "hf-token", "token")],
        format: "Hugging Face token hf_... (you provide it)",
        restart: "the model servers that download the gated model (namespace kserve)",
    },
];

/// The contract a run works with: the platform's rows, then the fork's own keys from
/// `sealstrap.yaml` (`extra:`). A value, made once per run from the repository's configuration
/// (`repo_config::RepoConfig::contract`) and passed to whatever needs it; there is no
/// process-wide table, so every command sees the same rows.
#[derive(Clone, Debug, Default)]
pub struct Contract {
    extras: Vec<Entry>,
}

impl Contract {
    /// The platform's rows and the fork's `extras`.
    pub fn new(extras: Vec<Entry>) -> Contract {
        Contract { extras }
    }

    /// Every row: the platform's contract, then the fork's keys.
    pub fn all(&self) -> impl Iterator<Item = &Entry> {
        CONTRACT.iter().chain(self.extras.iter())
    }

    /// The row of a backend key (the platform's or the fork's).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.all().find(|e| e.key == key)
    }

    /// Whether `key` is one of the fork's own keys.
    pub fn is_extra(&self, key: &str) -> bool {
        self.extras.iter().any(|e| e.key == key)
    }
}

/// The platform's row of `key` (the fork's keys aside).
pub fn builtin(key: &str) -> Option<&'static Entry> {
    CONTRACT.iter().find(|e| e.key == key)
}

/// A fork's key from `extra:`, and the environments it is limited to (`None`: every one).
#[derive(Clone, Debug)]
pub struct Extra {
    pub entry: Entry,
    pub environments: Option<Vec<String>>,
}

impl Extra {
    /// Whether the key belongs to environment `env` (`None`: a run outside any environment,
    /// which has every key).
    pub fn applies_to(&self, env: Option<&str>) -> bool {
        match (&self.environments, env) {
            (Some(envs), Some(env)) => envs.iter().any(|e| e == env),
            _ => true,
        }
    }
}

/// Why `sealstrap.yaml` cannot be used. Names the key and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtrasError {
    #[error("{0}")]
    Syntax(String),
    #[error("expected a mapping with `extra:` at the top level")]
    Shape,
    #[error("extra.{key}: {problem}")]
    Key { key: String, problem: String },
}

impl ExtrasError {
    pub fn hint(&self) -> Option<&'static str> {
        Some(
            "each extra key is `KEY: {generate: hex32}` (or sk-hex32, base64url32) or `KEY: {provide: ENV_VAR}`; KEY is a valid Secret name not already in `sealstrap contract`",
        )
    }
}

/// The generators a fork can name for its keys.
pub const EXTRA_GENERATORS: [(&str, Generator, &str); 3] = [
    ("hex32", Generator::Hex64, HEX64),
    (
        "sk-hex32",
        Generator::LiteLlmKey,
        "sk- followed by 64 hex characters",
    ),
    (
        "base64url32",
        Generator::CookieSecret,
        "43 characters of unpadded base64url (32 random bytes)",
    ),
];

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Reads `extra:` from the parsed `sealstrap.yaml`: each new key maps to `{generate: NAME}` or
/// `{provide: ENV_VAR}` (optional `format:` describes a provided value, `environments: [ENV]`
/// limits it to those environments). The rows are always needed where they apply, never
/// write-once, and name no consumer (the tree's ExternalSecrets say who reads them). Their
/// names are leaked into `'static` strings: the file is read once per process.
pub fn parse_extras(root: &serde_json::Value) -> Result<Vec<Extra>, ExtrasError> {
    use serde_json::Value;
    let Some(extra) = root.as_object().map(|m| m.get("extra")) else {
        return if root.is_null() {
            Ok(Vec::new())
        } else {
            Err(ExtrasError::Shape)
        };
    };
    let Some(extra) = extra else {
        return Ok(Vec::new());
    };
    let map = match extra {
        Value::Null => return Ok(Vec::new()),
        Value::Object(m) => m,
        _ => return Err(ExtrasError::Shape),
    };
    let mut out: Vec<Extra> = Vec::new();
    for (key, spec) in map {
        let bad = |problem: String| ExtrasError::Key {
            key: key.clone(),
            problem,
        };
        if !crate::objects::is_dns_subdomain(key) {
            return Err(bad(
                "not a valid Secret name (lowercase letters, digits, '-', '.')".into(),
            ));
        }
        if CONTRACT.iter().any(|e| e.key == key) {
            return Err(bad("already a key of the platform's contract".into()));
        }
        let spec = spec.as_object().ok_or_else(|| {
            bad("must be a mapping: {generate: hex32} or {provide: ENV_VAR}".into())
        })?;
        let get = |f: &str| spec.get(f).and_then(Value::as_str);
        for field in spec.keys() {
            if !matches!(
                field.as_str(),
                "generate" | "provide" | "format" | "environments"
            ) {
                return Err(bad(format!("unknown field {field:?}")));
            }
        }
        let (source, format) = match (get("generate"), get("provide")) {
            (Some(g), None) => {
                let (_, generator, format) = EXTRA_GENERATORS
                    .iter()
                    .find(|(name, _, _)| *name == g)
                    .ok_or_else(|| {
                        bad(format!(
                            "unknown generator {g:?}; use one of: {}",
                            EXTRA_GENERATORS.map(|(n, _, _)| n).join(", ")
                        ))
                    })?;
                (Source::Generated(*generator), *format)
            }
            (None, Some(env)) => {
                let valid = env.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                    && env
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !valid {
                    return Err(bad(format!(
                        "provide: {env:?} is not an environment variable name (A-Z, 0-9, _)"
                    )));
                }
                let clash = CONTRACT.iter().chain(out.iter().map(|x| &x.entry)).any(
                    |e| matches!(e.source, Source::Provided { env: other, .. } if other == env),
                );
                if clash {
                    return Err(bad(format!("{env} already provides another key")));
                }
                (
                    Source::Provided {
                        env: leak(env),
                        expected: "",
                    },
                    get("format").map(leak).unwrap_or("a value you provide"),
                )
            }
            _ => {
                return Err(bad("needs exactly one of generate: or provide:".into()));
            }
        };
        let environments = match spec.get("environments") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => {
                let mut envs = Vec::new();
                for v in list {
                    match v.as_str() {
                        Some(e) if crate::objects::is_dns_label(e) => envs.push(e.to_string()),
                        _ => {
                            return Err(bad(
                                "environments: must be a list of environment names (clusters/<env>/)"
                                    .into(),
                            ));
                        }
                    }
                }
                if envs.is_empty() {
                    return Err(bad(
                        "environments: an empty list leaves the key in no environment; remove the key instead"
                            .into(),
                    ));
                }
                Some(envs)
            }
            Some(_) => {
                return Err(bad(
                    "environments: must be a list of environment names, e.g. [metal]".into(),
                ));
            }
        };
        out.push(Extra {
            entry: Entry {
                key: leak(key),
                source,
                need: Need::Always,
                write_once: false,
                url_safe: false,
                consumers: &[],
                format,
                restart: "whatever reads it (see the ExternalSecrets that name it)",
            },
            environments,
        });
    }
    Ok(out)
}

/// The two Dex admin keys, which are made and rotated together.
pub const DEX_PASSWORD: &str = "dex-admin-password";
pub const DEX_HASH: &str = "dex-admin-hash";

/// What a provided value looks like to the loose checks of docs/format.md §6: `None` if it looks right,
/// else what was expected (a warning, never a refusal).
pub fn unexpected_format(key: &str, value: &str) -> Option<&'static str> {
    let ok = match key {
        "anthropic-api-key" => value.starts_with("sk-ant-"),
        "hf-token" => {
            value.starts_with("hf_")
                && value.len() == 37
                && value[3..].bytes().all(|b| b.is_ascii_alphabetic())
        }
        "cloudflare-api-token" => {
            value.len() == 40 || value.starts_with("cfut_") || value.starts_with("cfat_")
        }
        _ => true,
    };
    if ok {
        None
    } else {
        match builtin(key)?.source {
            Source::Provided { expected, .. } => Some(expected),
            Source::Generated(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::objects::{is_data_key, is_dns_label, is_dns_subdomain};

    #[test]
    fn keys_are_unique_valid_names() {
        let mut seen = HashSet::new();
        for e in CONTRACT {
            assert!(seen.insert(e.key), "duplicate {}", e.key);
            assert!(
                is_dns_subdomain(e.key),
                "{} is not a valid Secret name",
                e.key
            );
        }
        assert_eq!(CONTRACT.len(), 18);
    }

    #[test]
    fn consumers_are_valid_kubernetes_references() {
        for e in CONTRACT {
            for c in e.consumers {
                assert!(is_dns_subdomain(c.secret), "{}", c.secret);
                assert!(is_data_key(c.key), "{}", c.key);
                for ns in c.namespaces {
                    assert!(is_dns_label(ns), "{ns}");
                }
            }
        }
    }

    #[test]
    fn every_key_has_a_source_and_provided_ones_have_distinct_env_vars() {
        let mut envs = HashSet::new();
        for e in CONTRACT {
            if let Source::Provided { env, .. } = e.source {
                assert!(envs.insert(env));
                assert!(
                    matches!(e.need, Need::When(_)),
                    "{} provided but always needed",
                    e.key
                );
            }
        }
        assert_eq!(envs.len(), 3);
        assert_eq!(
            builtin(DEX_HASH).unwrap().source,
            Source::Generated(Generator::DexHash)
        );
        assert_eq!(
            builtin(DEX_PASSWORD).unwrap().source,
            Source::Generated(Generator::DexPassword)
        );
        assert!(builtin("litellm-salt-key").unwrap().write_once);
        assert_eq!(CONTRACT.iter().filter(|e| e.write_once).count(), 1);
    }

    #[test]
    fn extras_become_rows_and_bad_ones_are_named() {
        let parse = |t: &str| {
            let doc = crate::yaml::parse_documents(t)
                .unwrap()
                .into_iter()
                .next()
                .unwrap_or_default();
            parse_extras(&doc).map(|v| v.into_iter().map(|x| x.entry).collect::<Vec<_>>())
        };
        let rows = parse(
            "# fork keys\nextra:\n  example-token: {generate: hex32}\n  partner-key:\n    provide: PARTNER_KEY\n    format: pk_ and 32 characters\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, "example-token");
        assert_eq!(rows[0].source, Source::Generated(Generator::Hex64));
        assert!(matches!(
            rows[1].source,
            Source::Provided {
                env: "PARTNER_KEY",
                ..
            }
        ));
        assert_eq!(rows[1].format, "pk_ and 32 characters");
        assert_eq!(parse("").unwrap().len(), 0);
        for (text, want) in [
            (
                "extra:\n  Bad_Key: {generate: hex32}\n",
                "not a valid Secret name",
            ),
            (
                "extra:\n  vllm-api-key: {generate: hex32}\n",
                "already a key",
            ),
            ("extra:\n  k: {generate: md5}\n", "unknown generator"),
            ("extra:\n  k: {provide: HF_TOKEN}\n", "already provides"),
            (
                "extra:\n  k: {generate: hex32, provide: X}\n",
                "exactly one",
            ),
            ("extra:\n  k: {generate: hex32, size: 3}\n", "unknown field"),
            ("extra: [a]\n", "mapping with `extra:`"),
            (
                "extra:\n  k: {generate: hex32, environments: metal}\n",
                "list of environment names",
            ),
            (
                "extra:\n  k: {generate: hex32, environments: []}\n",
                "no environment",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn every_feature_name_round_trips() {
        for f in Feature::ALL {
            assert_eq!(Feature::parse(f.name()), Some(f));
        }
        assert_eq!(Feature::parse("vault"), None);
    }

    #[test]
    fn provided_value_checks_are_loose() {
        assert_eq!(unexpected_format("anthropic-api-key", "sk-ant-abc"), None);
        assert!(unexpected_format("anthropic-api-key", "abc").is_some());
        assert_eq!(
            unexpected_format("hf-token", &format!("hf_{}", "a".repeat(34))),
            None
        );
        assert!(unexpected_format("hf-token", "hf_short").is_some());
        assert_eq!(
            unexpected_format("cloudflare-api-token", &"x".repeat(40)),
            None
        );
        assert_eq!(unexpected_format("cloudflare-api-token", "cfut_abc"), None);
        assert!(unexpected_format("cloudflare-api-token", "short").is_some());
    }
}
