//! `sealstrap.yaml`, the repository's own configuration, read whole in one place: the fork's
//! keys (`extra:`), the paths `scan` and `patch-externalsecrets` allow (`exclude:`), and the
//! fleet (`environments:`, `values:`, `break-glass:`), the pins, and the controller's chart
//! mirror (`chart:`). The file is checked like code: a key
//! sealstrap does not know is an error naming the key, its line and the nearest known key
//! (`break_glass` → `break-glass`), because a typo silently ignored is a setting silently lost.
//! Pure: the workspace reads the file once per run and hands the text here.
//!
//! ```yaml
//! extra:
//!   registry-token: {provide: REGISTRY_TOKEN, environments: [metal]}
//! exclude:
//!   - {path: vendor/**, reason: third-party charts}
//! environments:
//!   metal: {cert: clusters/metal/secret-source/controller.crt}
//! values:
//!   example-token: shared
//! break-glass:
//!   cert: recovery/break-glass.crt
//! chart:                      # the controller's chart and image mirror (src/mirror.rs)
//!   repo: oci://registry.internal/charts
//!   image: {registry: registry.internal}
//! ```

use serde_json::Value;

use crate::allow::{self, Exclude, ExcludeError};
use crate::contract::{self, Contract, Extra, ExtrasError};
use crate::fleet::{self, Fleet, FleetError};
use crate::mirror::{self, MirrorError};
use crate::pins::{self, Pins, PinsError};

/// The file's name, at the repository root.
pub const FILE: &str = "sealstrap.yaml";

/// Every key sealstrap reads, by where it may stand (`*` any name, `[]` any list item).
const KNOWN: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "extra",
            "exclude",
            "environments",
            "values",
            "break-glass",
            "pins",
            "chart",
        ],
    ),
    ("chart", &["repo", "version", "image"]),
    ("chart.image", &["registry", "repository", "tag"]),
    (
        "extra.*",
        &["generate", "provide", "format", "environments"],
    ),
    ("exclude[]", &["path", "reason"]),
    ("environments.*", &["cert", "recipients"]),
    ("break-glass", &["cert"]),
    ("pins.*", &["certificate", "recipients"]),
];

/// `sealstrap.yaml`, parsed and checked.
#[derive(Clone, Debug, Default)]
pub struct RepoConfig {
    /// The fork's own keys, with the environments each is limited to.
    pub extras: Vec<Extra>,
    pub exclude: Vec<Exclude>,
    pub fleet: Fleet,
    /// The certificates and recipients a reviewer approved.
    pub pins: Pins,
    /// The controller's chart and image (an air-gapped site's mirror), for every environment.
    pub chart: mirror::Given,
}

/// Why `sealstrap.yaml` cannot be used. Names the key and, where it can, its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoConfigError {
    #[error("{0}")]
    Syntax(String),
    #[error(
        "expected a mapping of sections (extra:, exclude:, environments:, values:, break-glass:, pins:, chart:)"
    )]
    Shape,
    #[error("{}unknown key {path}{}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownKey {
        /// Where, as `values` or `environments.metal.cert`.
        path: String,
        line: Option<usize>,
        suggestion: Option<String>,
        /// The keys known there.
        known: Vec<&'static str>,
    },
    #[error(transparent)]
    Extras(#[from] ExtrasError),
    #[error(transparent)]
    Exclude(#[from] ExcludeError),
    #[error(transparent)]
    Fleet(#[from] FleetError),
    #[error(transparent)]
    Pins(#[from] PinsError),
    #[error(transparent)]
    Chart(#[from] MirrorError),
}

impl RepoConfigError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RepoConfigError::Syntax(_) | RepoConfigError::Shape => Some(
                "see docs/format.md §10 (\"The fleet file\") for the sections and their keys"
                    .into(),
            ),
            RepoConfigError::UnknownKey { known, .. } => Some(format!(
                "the keys known there are: {}; sealstrap refuses a key it does not know rather than ignore a setting",
                known.join(", ")
            )),
            RepoConfigError::Extras(e) => e.hint().map(str::to_string),
            RepoConfigError::Exclude(e) => Some(e.hint()),
            RepoConfigError::Fleet(e) => Some(e.hint()),
            RepoConfigError::Pins(e) => Some(e.hint()),
            RepoConfigError::Chart(e) => Some(e.hint().to_string()),
        }
    }
}

impl RepoConfig {
    /// Parses the text of `sealstrap.yaml`. An empty file is an empty configuration.
    pub fn parse(text: &str) -> Result<RepoConfig, RepoConfigError> {
        let docs =
            crate::yaml::parse_documents(text).map_err(|e| RepoConfigError::Syntax(e.message))?;
        let root = match docs.as_slice() {
            [] => return Ok(RepoConfig::default()),
            [Value::Null] => return Ok(RepoConfig::default()),
            [one @ Value::Object(_)] => one,
            _ => return Err(RepoConfigError::Shape),
        };
        check_keys(root, "", text)?;
        let extras = contract::parse_extras(root)?;
        let exclude = allow::parse_excludes(root)?;
        let contract = Contract::new(extras.iter().map(|x| x.entry).collect());
        let fleet = fleet::parse(root, &contract)?;
        let pins = pins::parse(root)?;
        let chart = mirror::parse(root)?;
        Ok(RepoConfig {
            extras,
            exclude,
            fleet,
            pins,
            chart,
        })
    }

    /// The contract of environment `env` (`None`: outside a fleet): the platform's rows and the
    /// fork's, less the fork's rows limited to other environments.
    pub fn contract(&self, env: Option<&str>) -> Contract {
        Contract::new(
            self.extras
                .iter()
                .filter(|x| x.applies_to(env))
                .map(|x| x.entry)
                .collect(),
        )
    }
}

/// Checks every mapping of `v` (at `path`) against [`KNOWN`].
fn check_keys(v: &Value, path: &str, text: &str) -> Result<(), RepoConfigError> {
    let pattern = |path: &str| -> String {
        // `extra.example-token` -> `extra.*`; `exclude[2]` -> `exclude[]`.
        let mut out = String::new();
        for (i, seg) in path.split('.').enumerate() {
            if i > 0 {
                out.push('.');
            }
            if let Some(list) = seg.strip_suffix(']').and_then(|s| s.split_once('[')) {
                out.push_str(list.0);
                out.push_str("[]");
            } else if i == 1
                && matches!(
                    path.split('.').next(),
                    Some("extra" | "environments" | "pins")
                )
            {
                out.push('*');
            } else {
                out.push_str(seg);
            }
        }
        out
    };
    match v {
        Value::Object(map) => {
            if let Some((_, known)) = KNOWN.iter().find(|(p, _)| *p == pattern(path)) {
                for k in map.keys() {
                    if !known.contains(&k.as_str()) {
                        let full = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        return Err(RepoConfigError::UnknownKey {
                            line: line_of(text, &full),
                            suggestion: nearest(k, known).map(|s| {
                                if path.is_empty() {
                                    s.to_string()
                                } else {
                                    format!("{path}.{s}")
                                }
                            }),
                            path: full,
                            known: known.to_vec(),
                        });
                    }
                }
            }
            for (k, child) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                // Only the sections' own shapes are checked; values of `values:` are words.
                if path.is_empty() && k == "values" {
                    continue;
                }
                check_keys(child, &p, text)?;
            }
        }
        Value::Array(items) if path == "exclude" => {
            for (i, item) in items.iter().enumerate() {
                check_keys(item, &format!("{path}[{i}]"), text)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The known key closest to `k`: the same once `_` is `-` and case is folded, or at most two
/// edits away (a plural, a typo).
fn nearest(k: &str, known: &[&'static str]) -> Option<&'static str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    if let Some(s) = known.iter().find(|s| norm(s) == norm(k)) {
        return Some(s);
    }
    known
        .iter()
        .map(|s| (edit_distance(&norm(k), s), *s))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// Levenshtein distance (the keys are a few characters long).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The 1-based line where the key at `path` (`a.b.c`, list items as `a[i]`) is written: the
/// first line naming each segment in turn, below the previous one (block or flow style). `None`
/// when it cannot be told.
fn line_of(text: &str, path: &str) -> Option<usize> {
    let segments: Vec<&str> = path
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = None;
    for seg in segments {
        let names = |l: &str| {
            let t = l.trim_start().trim_start_matches("- ");
            let key_at = |s: &str| {
                s.strip_prefix(seg)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
                    || s.strip_prefix(&format!("\"{seg}\""))
                        .or_else(|| s.strip_prefix(&format!("'{seg}'")))
                        .is_some_and(|r| r.trim_start().starts_with(':'))
            };
            key_at(t)
                || l.split(['{', ','])
                    .skip(1)
                    .any(|part| key_at(part.trim_start()))
        };
        let i = (from..lines.len()).find(|&i| names(lines[i]))?;
        found = Some(i + 1);
        from = i;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_an_error_naming_the_key_its_line_and_the_nearest_known_key() {
        for (text, path, line, suggestion) in [
            (
                "extra:\n  example-token: {generate: hex32}\nbreak_glass:\n  cert: a.crt\n",
                "break_glass",
                3,
                "break-glass",
            ),
            ("value:\n  example-token: shared\n", "value", 1, "values"),
            (
                "environments:\n  metal:\n    certs: a.crt\n",
                "environments.metal.certs",
                3,
                "environments.metal.cert",
            ),
            (
                "environments:\n  metal: {cert: a.crt, recipient: r.txt}\n",
                "environments.metal.recipient",
                2,
                "environments.metal.recipients",
            ),
            (
                "extra:\n  k:\n    generate: hex32\n    enviroments: [metal]\n",
                "extra.k.enviroments",
                4,
                "extra.k.environments",
            ),
            (
                "exclude:\n  - path: vendor/\n    reasons: x\n",
                "exclude[0].reasons",
                3,
                "exclude[0].reason",
            ),
        ] {
            match RepoConfig::parse(text) {
                Err(RepoConfigError::UnknownKey {
                    path: p,
                    line: l,
                    suggestion: s,
                    ..
                }) => {
                    assert_eq!(p, path, "{text}");
                    assert_eq!(l, Some(line), "{text}");
                    assert_eq!(s.as_deref(), Some(suggestion), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let e = RepoConfig::parse("colour: blue\n").unwrap_err();
        assert!(
            matches!(
                e,
                RepoConfigError::UnknownKey {
                    suggestion: None,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.hint().unwrap().contains("break-glass"), "{:?}", e.hint());
    }

    #[test]
    fn the_sections_are_read_together() {
        let c = RepoConfig::parse(
            "extra:\n  example-token: {generate: hex32}\n  registry-token: {provide: REGISTRY_TOKEN, environments: [metal]}\nexclude:\n  - {path: vendor/**, reason: charts}\nenvironments:\n  metal: {cert: certs/metal.crt}\nvalues:\n  example-token: shared\nbreak-glass: {cert: recovery/bg.crt}\n",
        )
        .unwrap();
        assert_eq!(c.extras.len(), 2);
        assert_eq!(c.exclude.len(), 1);
        assert_eq!(c.fleet.break_glass.as_deref(), Some("recovery/bg.crt"));
        // A key limited to metal is in metal's contract only.
        assert!(c.contract(Some("metal")).entry("registry-token").is_some());
        assert!(c.contract(Some("ai-dev")).entry("registry-token").is_none());
        assert!(c.contract(Some("ai-dev")).entry("example-token").is_some());
        // values: names a key of the contract or of extra:, never an unknown one.
        assert!(RepoConfig::parse("values:\n  nope: shared\n").is_err());
        assert!(RepoConfig::parse("").unwrap().extras.is_empty());
    }
}
