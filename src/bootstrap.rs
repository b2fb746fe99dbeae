//! The `seal` plan: which contract entries are in, what exists, what to make, and every file
//! the run will write, all computed in memory before anything touches the disk. Pure: the
//! command layer reads the folder, the environment and the prompts, and writes the plan out.

use std::collections::{BTreeMap, BTreeSet};

use crate::rsa::PublicKey;
use rand::CryptoRng;
use zeroize::Zeroizing;

use crate::config::EnvConfig;
use crate::contract::{self, Contract, DEX_HASH, DEX_PASSWORD, Entry, Feature, Need, Source};
use crate::generate;
use crate::manifests::{self, Origin, Wiring};

/// Whether an entry is part of this run, and why.
#[derive(Clone, Debug)]
pub struct Selected {
    pub entry: Entry,
    pub included: bool,
    pub reason: String,
}

/// Decides which entries are in. Every random value is always in: the platform's own seeding
/// makes all of them, and deployed apps read some whatever the config says (LiteLLM and Grafana
/// read Dex client secrets with identity off). The config, `--with` and `--without` decide only
/// the operator-provided values; a provided value that an ExternalSecret in the tree reads
/// (`referenced`) is in as well, unless `--without` names its feature.
pub fn select(
    contract: &Contract,
    config: Option<&EnvConfig>,
    with: &[Feature],
    without: &[Feature],
    referenced: &BTreeMap<String, Vec<String>>,
    off: &BTreeMap<String, Vec<String>>,
) -> Vec<Selected> {
    contract
        .all()
        .map(|&entry| {
            let (included, reason) = match (entry.need, entry.is_generated()) {
                (Need::Always, _) => (true, "always needed".to_string()),
                (Need::When(_), true) => (
                    true,
                    "random: always sealed, as the platform seeds every random value".to_string(),
                ),
                (Need::When(f), false) => {
                    let refs = referenced.get(entry.key);
                    if without.contains(&f) {
                        (false, format!("--without {}", f.name()))
                    } else if with.contains(&f) {
                        (true, format!("--with {}", f.name()))
                    } else if let Some(cfg) = config
                        && let (true, why) = cfg.wants(f)
                    {
                        (true, format!("config: {why}"))
                    } else if let Some(r) = refs {
                        (true, format!("read by {}", r.join(", ")))
                    } else if let Some(r) = off.get(entry.key) {
                        (
                            false,
                            format!("not needed while {}", r.join("; and while ")),
                        )
                    } else if let Some(cfg) = config {
                        (false, format!("config: {}", cfg.wants(f).1))
                    } else {
                        (
                            false,
                            format!(
                                "operator-provided, needed for {}; add --with {} or --config",
                                entry.need.describe(),
                                f.name()
                            ),
                        )
                    }
                }
            };
            Selected {
                entry,
                included,
                reason,
            }
        })
        .collect()
}

/// What the output folder already holds for an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingFile {
    /// The fingerprint annotation, if the file has one.
    pub fingerprint: Option<String>,
}

/// A line of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Rotated,
    Exists,
    NeedsValue,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::Rotated => "ROTATED",
            Status::Exists => "EXISTS",
            Status::NeedsValue => "NEEDS VALUE",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// One entry's outcome.
#[derive(Clone, Debug)]
pub struct Line {
    pub key: String,
    pub status: Status,
    pub detail: String,
    /// For NEEDS VALUE: what the operator has to do.
    pub todo: Option<String>,
}

/// A file the run writes: path relative to the output folder, contents, and whether it holds
/// plaintext (written 0600).
pub struct PlannedFile {
    pub path: String,
    pub contents: Zeroizing<Vec<u8>>,
}

/// Everything a run will do.
pub struct Plan {
    pub lines: Vec<Line>,
    /// New or replaced sealed files (relative to the output folder).
    pub sealed: Vec<PlannedFile>,
    /// The Dex admin password, when this run made a new one (for the local copy).
    pub dex_password: Option<Zeroizing<String>>,
    /// Warnings: drift, files not in the contract.
    pub notes: Vec<String>,
}

/// Inputs of a run that are not the contract.
pub struct Inputs<'a> {
    /// The contract of the run (the platform's rows and the fork's).
    pub contract: &'a Contract,
    pub selection: &'a [Selected],
    pub existing: &'a BTreeMap<String, ExistingFile>,
    /// Operator-provided (or imported) values, already checked, and the fleet's shared values.
    pub provided: &'a BTreeMap<String, Zeroizing<String>>,
    /// The keys of `provided` that are the fleet's shared values (a random one is annotated
    /// generated, as it is).
    pub shared: &'a BTreeSet<String>,
    /// Keys to make anew even though they exist (`rotate`, `reset-dex-admin`).
    pub rotate: &'a BTreeSet<String>,
    pub fingerprint: &'a str,
    pub wiring: &'a Wiring,
    /// What the tree's ExternalSecrets read: backend key -> where (`FILE:LINE (ExternalSecret
    /// NS/NAME)`). `None` when no tree was read (outside a repository).
    pub references: Option<&'a BTreeMap<String, Vec<String>>>,
    pub bcrypt_cost: u32,
    /// A break-glass certificate (its key and fingerprint): every value sealed in this run is
    /// also sealed for it, into `break-glass/<key>.yaml` (never applied; opened offline with
    /// the recovery key, `sealstrap unseal`).
    pub break_glass: Option<(&'a PublicKey, &'a str)>,
    /// One environment of a fleet run (its name and the fleet file): a missing per-cluster
    /// value is asked for with the environment's own variable and `--value-file ENV:KEY=PATH`.
    pub fleet_env: Option<(&'a str, &'a crate::fleet::Fleet)>,
}

/// An error while building the plan (nothing has been written).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("sealing {key} failed: {source}")]
    Seal {
        key: String,
        source: crate::seal::SealError,
    },
    #[error("bcrypt failed: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
}

fn how_to_provide(entry: &Entry, fleet_env: Option<(&str, &crate::fleet::Fleet)>) -> String {
    let Source::Provided { env, .. } = entry.source else {
        return String::new();
    };
    match fleet_env {
        // One environment of a fleet run: its own value, unless the key is shared.
        Some((name, fleet)) if fleet.sharing(entry.key) != crate::fleet::Sharing::Shared => {
            format!(
                "set {}_{} or --value-file {name}:{}=PATH (or run on a terminal to be prompted)",
                env,
                name.to_ascii_uppercase().replace('-', "_"),
                entry.key
            )
        }
        _ => format!(
            "set {env} or --value-file {}=PATH (or run on a terminal to be prompted)",
            entry.key
        ),
    }
}

/// What a run does with the Dex admin pair (password and hash), decided together as the
/// platform's own script does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DexPair {
    /// Not part of this run.
    Out,
    /// A new pair is made (none exists, or it is rotated).
    New,
    /// Both exist and are kept.
    Kept,
    /// One exists without the other (reported; `reset-dex-admin` fixes it).
    Half,
}

/// The one place that decides the Dex pair; `plan` and the command layer both ask it.
pub fn dex_pair(
    selection: &[Selected],
    existing: &BTreeMap<String, ExistingFile>,
    rotate: &BTreeSet<String>,
) -> DexPair {
    let included = |k: &str| selection.iter().any(|s| s.entry.key == k && s.included);
    if !(included(DEX_PASSWORD) && included(DEX_HASH)) {
        return DexPair::Out;
    }
    let (pw, hash) = (
        existing.contains_key(DEX_PASSWORD),
        existing.contains_key(DEX_HASH),
    );
    if rotate.contains(DEX_PASSWORD) || rotate.contains(DEX_HASH) || (!pw && !hash) {
        DexPair::New
    } else if pw && hash {
        DexPair::Kept
    } else {
        DexPair::Half
    }
}

/// Builds the plan: generates and seals every missing (or rotated) value in memory.
pub fn plan<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    inputs: &Inputs<'_>,
) -> Result<Plan, PlanError> {
    let mut lines = Vec::new();
    let mut sealed = Vec::new();
    let mut notes = Vec::new();
    let mut dex_password = None;

    let seal_one = |rng: &mut R,
                    k: &str,
                    value: &Zeroizing<String>,
                    origin: Origin|
     -> Result<Vec<PlannedFile>, PlanError> {
        let mut out = Vec::new();
        let targets = std::iter::once((key, inputs.fingerprint, manifests::sealed_path(k))).chain(
            inputs
                .break_glass
                .map(|(bk, bfp)| (bk, bfp, manifests::break_glass_path(k))),
        );
        for (pk, fp, path) in targets {
            let text = manifests::sealed_entry(rng, pk, fp, inputs.wiring, k, value, origin)
                .map_err(|source| PlanError::Seal {
                    key: k.to_string(),
                    source,
                })?;
            out.push(PlannedFile {
                path,
                contents: Zeroizing::new(text.into_bytes()),
            });
        }
        Ok(out)
    };

    let pw_exists = inputs.existing.contains_key(DEX_PASSWORD);
    let hash_exists = inputs.existing.contains_key(DEX_HASH);
    let dex_rotate = inputs.rotate.contains(DEX_PASSWORD) || inputs.rotate.contains(DEX_HASH);
    let dex_new = dex_pair(inputs.selection, inputs.existing, inputs.rotate) == DexPair::New;
    if dex_new {
        // An imported password (--value-file dex-admin-password=PATH) gets a fresh hash.
        let (pw, hash, origin) = match inputs.provided.get(DEX_PASSWORD) {
            Some(pw) => {
                let hash = generate::bcrypt_hash(rng, pw, inputs.bcrypt_cost)?;
                (pw.clone(), hash, Origin::Provided)
            }
            None => {
                let (pw, hash) = generate::dex_pair(rng, inputs.bcrypt_cost)?;
                (pw, hash, Origin::Generated)
            }
        };
        sealed.extend(seal_one(rng, DEX_PASSWORD, &pw, origin)?);
        sealed.extend(seal_one(rng, DEX_HASH, &hash, Origin::Generated)?);
        dex_password = Some(pw);
    }

    for sel in inputs.selection {
        let e = sel.entry;
        let existing = inputs.existing.get(e.key);
        if !sel.included {
            // Not needed here, but sealed already (an earlier `--with`, a `set`): it exists and
            // is kept, which is what the summary and the fleet table say.
            let (status, detail) = match existing {
                Some(_) => (
                    Status::Exists,
                    format!("kept byte-for-byte (not needed now: {})", sel.reason),
                ),
                None => (Status::Skipped, sel.reason.clone()),
            };
            lines.push(Line {
                key: e.key.to_string(),
                status,
                detail,
                todo: None,
            });
            continue;
        }
        if let Some(ex) = existing
            && let Some(fp) = &ex.fingerprint
            && fp != inputs.fingerprint
            && !inputs.rotate.contains(e.key)
            && !(dex_new && (e.key == DEX_PASSWORD || e.key == DEX_HASH))
        {
            notes.push(format!(
                "sealed/{}.yaml is sealed for certificate {fp}, not the current {}: the controller cannot decrypt it unless it still has that key; reseal it with the old private key (sealstrap reseal) or make a new value (sealstrap rotate {})",
                e.key, inputs.fingerprint, e.key
            ));
        }
        let rotating = inputs.rotate.contains(e.key);
        if e.key == DEX_PASSWORD || e.key == DEX_HASH {
            let line = if dex_new {
                Line {
                    key: e.key.to_string(),
                    status: if dex_rotate && (pw_exists || hash_exists) {
                        Status::Rotated
                    } else {
                        Status::Created
                    },
                    detail: if e.key == DEX_PASSWORD {
                        "generated; plaintext copy in the secrets folder (path below)".into()
                    } else {
                        format!(
                            "bcrypt cost {} of the new dex-admin-password",
                            inputs.bcrypt_cost
                        )
                    },
                    todo: None,
                }
            } else if pw_exists && hash_exists {
                Line {
                    key: e.key.to_string(),
                    status: Status::Exists,
                    detail: "kept".into(),
                    todo: None,
                }
            } else if e.key == DEX_PASSWORD && !pw_exists {
                Line {
                    key: e.key.to_string(),
                    status: Status::NeedsValue,
                    detail: "dex-admin-hash exists without its password, which cannot be recovered from a hash".into(),
                    todo: Some("run `sealstrap reset-dex-admin` to make a new password and hash together".into()),
                }
            } else if e.key == DEX_HASH && !hash_exists {
                Line {
                    key: e.key.to_string(),
                    status: Status::NeedsValue,
                    detail: "dex-admin-password exists without its hash".into(),
                    todo: Some(
                        "run `sealstrap reset-dex-admin` to make a new password and hash together"
                            .into(),
                    ),
                }
            } else {
                Line {
                    key: e.key.to_string(),
                    status: Status::Exists,
                    detail: "kept (its partner is missing, see above)".into(),
                    todo: None,
                }
            };
            lines.push(line);
            continue;
        }
        if existing.is_some() && !rotating {
            lines.push(Line {
                key: e.key.to_string(),
                status: Status::Exists,
                detail: "kept byte-for-byte".into(),
                todo: None,
            });
            continue;
        }
        let status = if existing.is_some() {
            Status::Rotated
        } else {
            Status::Created
        };
        let (value, origin) = if let Some(v) = inputs.provided.get(e.key) {
            // A shared value of the fleet made by sealstrap is a random one like the others.
            let origin = if inputs.shared.contains(e.key) && e.is_generated() {
                Origin::Generated
            } else {
                Origin::Provided
            };
            (v.clone(), origin)
        } else {
            match e.source {
                Source::Generated(g) => (generate::generate(rng, g), Origin::Generated),
                Source::Provided { .. } => {
                    let mut todo = how_to_provide(&e, inputs.fleet_env);
                    if let Some(r) = inputs.references.and_then(|m| m.get(e.key)) {
                        todo.push_str(&format!("; read by {}", r.join(", ")));
                    }
                    // The reason already says who reads it when the tree is why it is needed.
                    let detail = if sel.reason.starts_with("read by ") {
                        "operator-provided".to_string()
                    } else {
                        format!("operator-provided ({})", sel.reason)
                    };
                    lines.push(Line {
                        key: e.key.to_string(),
                        status: Status::NeedsValue,
                        detail,
                        todo: Some(todo),
                    });
                    continue;
                }
            }
        };
        sealed.extend(seal_one(rng, e.key, &value, origin)?);
        lines.push(Line {
            key: e.key.to_string(),
            status,
            detail: format!("{}; {}", origin.as_str(), sel.reason),
            todo: None,
        });
    }
    if let Some(refs) = inputs.references {
        // Keys the tree reads that no row of the contract makes: their ExternalSecrets would
        // fail with "secret not found".
        for (k, at) in refs {
            if inputs.contract.entry(k).is_none() {
                lines.push(Line {
                    key: k.clone(),
                    status: Status::NeedsValue,
                    detail: "read by the tree, but not a key of the contract".into(),
                    todo: Some(format!(
                        "declare it in sealstrap.yaml at the repository root (extra: {{{k}: {{generate: hex32}}}} or {{provide: ENV_VAR}}); read by {}",
                        at.join(", ")
                    )),
                });
            }
        }
        // Sealed keys nothing in the tree reads.
        let unread: Vec<&str> = inputs
            .selection
            .iter()
            .filter(|s| {
                s.included && !refs.contains_key(s.entry.key) && s.entry.key != DEX_PASSWORD
            })
            .filter(|s| {
                inputs.existing.contains_key(s.entry.key)
                    || sealed
                        .iter()
                        .any(|f| f.path == manifests::sealed_path(s.entry.key))
            })
            .map(|s| s.entry.key)
            .collect();
        if !unread.is_empty() {
            notes.push(format!(
                "sealed but read by nothing the tree deploys: {} (kept: the platform's own setup or a feature switched on later may read them; sealstrap unset KEY removes one)",
                unread.join(", ")
            ));
        }
    }
    Ok(Plan {
        lines,
        sealed,
        dex_password,
        notes,
    })
}

/// The one-line "what is left" summary, e.g.
/// `1 value to provide: cloudflare-api-token — set CLOUDFLARE_API_TOKEN or --value-file ...`.
pub fn todo_summary(lines: &[Line]) -> Option<String> {
    let todo: Vec<&Line> = lines
        .iter()
        .filter(|l| l.status == Status::NeedsValue)
        .collect();
    if todo.is_empty() {
        return None;
    }
    let n = todo.len();
    let items: Vec<String> = todo
        .iter()
        .map(|l| format!("{} — {}", l.key, l.todo.as_deref().unwrap_or("")))
        .collect();
    Some(format!(
        "{n} value{} to provide: {}",
        if n == 1 { "" } else { "s" },
        items.join("; ")
    ))
}

/// An operator-provided value sealstrap refuses. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvidedError {
    #[error("the value for {key} is empty")]
    Empty { key: String },
    #[error(
        "the value for {key} contains {what} at position {position}; it must be one line without spaces"
    )]
    BadCharacter {
        key: String,
        what: String,
        position: usize,
    },
}

impl ProvidedError {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ProvidedError::Empty { .. } => {
                "give the value (the variable, --value-file or the prompt), or leave the key out with --without"
            }
            ProvidedError::BadCharacter { what, .. } if what == "a line break" => {
                "a file written by `echo` ends with a newline: write it with `printf '%s' VALUE > FILE`, or paste it at the prompt"
            }
            ProvidedError::BadCharacter { .. } => {
                "give the value without it (no --force seals it: the platform's consumers read one line without spaces)"
            }
        })
    }
}

/// Checks an operator-provided value: refuses empty values and any whitespace or control
/// character; returns a warning when the format looks unexpected.
pub fn check_provided(key: &str, value: &str) -> Result<Option<String>, ProvidedError> {
    if value.is_empty() {
        return Err(ProvidedError::Empty {
            key: key.to_string(),
        });
    }
    if let Some((i, c)) = value
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        let what = match c {
            '\n' | '\r' => "a line break".to_string(),
            ' ' => "a space".to_string(),
            '\t' => "a tab".to_string(),
            c => format!("the control or whitespace character U+{:04X}", c as u32),
        };
        return Err(ProvidedError::BadCharacter {
            key: key.to_string(),
            what,
            position: i + 1,
        });
    }
    Ok(contract::unexpected_format(key, value).map(|expected| {
        format!("the value for {key} does not look like {expected}; sealing it anyway")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_in(sel: &[Selected]) -> Vec<&'static str> {
        sel.iter()
            .filter(|s| s.included)
            .map(|s| s.entry.key)
            .collect()
    }

    #[test]
    fn default_selection_is_every_random_entry() {
        let sel = select(
            &Contract::default(),
            None,
            &[],
            &[],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        let keys = keys_in(&sel);
        assert_eq!(keys.len(), 15);
        assert!(!keys.contains(&"cloudflare-api-token"));
        assert!(keys.contains(&"n8n-encryption-key"));
    }

    #[test]
    fn the_config_decides_only_provided_values_and_the_tree_adds_what_it_reads() {
        let none = BTreeMap::new();
        let cfg = EnvConfig::parse("features: {identity: false, n8n: false, egress: true}\ndns: {automate: true, provider: cloudflare}\n").unwrap();
        let keys = keys_in(&select(
            &Contract::default(),
            Some(&cfg),
            &[],
            &[],
            &none,
            &none,
        ));
        assert!(keys.contains(&"anthropic-api-key"));
        assert!(keys.contains(&"cloudflare-api-token"));
        // identity and n8n off: their random values are sealed all the same (LiteLLM and
        // Grafana read Dex client secrets whatever the config says).
        assert!(
            keys.contains(&"dex-grafana-client-secret") && keys.contains(&"n8n-encryption-key")
        );
        assert!(!keys.contains(&"hf-token"));
        let keys = keys_in(&select(
            &Contract::default(),
            Some(&cfg),
            &[Feature::Hf],
            &[Feature::Identity, Feature::Anthropic],
            &none,
            &none,
        ));
        assert!(keys.contains(&"hf-token") && keys.contains(&"dex-admin-hash"));
        assert!(!keys.contains(&"anthropic-api-key"));
        // A provided value an ExternalSecret reads is in, with where it is read.
        let refs = BTreeMap::from([(
            "hf-token".to_string(),
            vec!["platform/kserve/es.yaml:14 (ExternalSecret kserve/hf-token)".to_string()],
        )]);
        let sel = select(
            &Contract::default(),
            None,
            &[],
            &[],
            &refs,
            &BTreeMap::new(),
        );
        let hf = sel.iter().find(|s| s.entry.key == "hf-token").unwrap();
        assert!(
            hf.included && hf.reason.contains("platform/kserve/es.yaml:14"),
            "{}",
            hf.reason
        );
        // Read only by a switched-off feature: not needed, and why; read by a deployed file too
        // (the tree then lists it under refs only): needed.
        let off = BTreeMap::from([(
            "hf-token".to_string(),
            vec!["kserve is off (enabled: \"false\" in clusters/dev/groups.yaml); read by platform/kserve/es.yaml:14 (ExternalSecret kserve/hf-token) when it is on".to_string()],
        )]);
        let sel = select(&Contract::default(), None, &[], &[], &BTreeMap::new(), &off);
        let hf = sel.iter().find(|s| s.entry.key == "hf-token").unwrap();
        assert!(!hf.included, "{}", hf.reason);
        assert!(
            hf.reason.starts_with("not needed while kserve is off"),
            "{}",
            hf.reason
        );
        let sel = select(
            &Contract::default(),
            None,
            &[Feature::Hf],
            &[],
            &BTreeMap::new(),
            &off,
        );
        assert!(sel.iter().any(|s| s.entry.key == "hf-token" && s.included));
    }

    #[test]
    fn provided_values_are_checked() {
        assert!(check_provided("hf-token", "").is_err());
        let e = check_provided("hf-token", "hf_abc\ndef")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a line break at position 7"), "{e}");
        assert!(!e.contains("abc"));
        assert!(check_provided("hf-token", "a b").is_err());
        assert!(check_provided("hf-token", "a\u{7}b").is_err());
        assert!(
            check_provided("anthropic-api-key", "sk-ant-x")
                .unwrap()
                .is_none()
        );
        assert!(check_provided("anthropic-api-key", "xx").unwrap().is_some());
    }
}
