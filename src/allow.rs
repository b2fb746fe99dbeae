//! Exclusions with a reason: paths `scan` and `patch-externalsecrets --check` do not hold
//! against the repository, from `sealstrap.yaml` and the command line. Every exclusion carries
//! its reason into the summary ("allowed"), so nothing is silenced without a word; what must
//! never be in git (a private key, an age identity, the plaintext Dex copy) is reported whatever
//! they say (see `scan::Finding::hard`). Pure.
//!
//! ```yaml
//! # sealstrap.yaml
//! exclude:
//!   - path: vendor/**
//!     reason: third-party charts, scanned upstream
//!   - path: platform/key-portal/values.yaml
//!     reason: the chart has no property field yet (key-portal#12)
//! ```

use serde_json::Value;

use crate::gitignore::glob_match;

/// One exclusion: a path glob (`**` across folders, `*` within one; a glob without `/` matches a
/// file name anywhere; `dir/` means everything below) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclude {
    pub glob: String,
    pub reason: String,
}

impl Exclude {
    /// An exclusion given on the command line.
    pub fn from_flag(glob: &str) -> Exclude {
        Exclude {
            glob: glob.to_string(),
            reason: format!("--exclude {glob}"),
        }
    }

    /// Whether `path` (relative to the repository root, `/`-separated) is excluded.
    pub fn matches(&self, path: &str) -> bool {
        let g = self.glob.trim_start_matches("./");
        let path = path.trim_start_matches("./");
        if let Some(dir) = g.strip_suffix('/') {
            return path.starts_with(&format!("{dir}/")) || glob_match(&format!("{dir}/**"), path);
        }
        g.len() <= 256 && g.matches('*').count() <= 8 && glob_match(g, path)
    }
}

/// The first exclusion matching `path`.
pub fn matching<'a>(excludes: &'a [Exclude], path: &str) -> Option<&'a Exclude> {
    excludes.iter().find(|e| e.matches(path))
}

/// Why `exclude:` could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExcludeError {
    #[error("exclude: must be a list of {{path: GLOB, reason: TEXT}}")]
    Shape,
    #[error("exclude entry {0}: needs a path (a glob) and a reason (said in every summary)")]
    Entry(usize),
}

impl ExcludeError {
    pub fn hint(&self) -> String {
        "write it as:\n  exclude:\n    - path: vendor/**\n      reason: third-party charts".into()
    }
}

/// Reads `exclude:` from the parsed `sealstrap.yaml` (absent: none).
pub fn parse_excludes(root: &Value) -> Result<Vec<Exclude>, ExcludeError> {
    let Some(list) = root.get("exclude") else {
        return Ok(Vec::new());
    };
    let list = match list {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        _ => return Err(ExcludeError::Shape),
    };
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let get = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            match (get("path"), get("reason")) {
                (Some(glob), Some(reason)) => Ok(Exclude {
                    glob: glob.to_string(),
                    reason: reason.to_string(),
                }),
                _ => Err(ExcludeError::Entry(i + 1)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_need_a_reason_and_match_paths() {
        let doc = crate::yaml::parse_documents(
            "exclude:\n  - path: vendor/\n    reason: third-party\n  - path: '*.lock.hcl'\n    reason: checksums\n",
        )
        .unwrap();
        let ex = parse_excludes(&doc[0]).unwrap();
        assert!(ex[0].matches("vendor/charts/a.yaml"));
        assert!(!ex[0].matches("src/vendor.yaml"));
        assert!(ex[1].matches("terraform/.terraform.lock.hcl"));
        assert_eq!(matching(&ex, "x.yaml"), None);
        let bad = crate::yaml::parse_documents("exclude:\n  - path: vendor/\n").unwrap();
        assert_eq!(parse_excludes(&bad[0]), Err(ExcludeError::Entry(1)));
        let bad = crate::yaml::parse_documents("exclude: vendor/\n").unwrap();
        assert_eq!(parse_excludes(&bad[0]), Err(ExcludeError::Shape));
        assert_eq!(Exclude::from_flag("a/**").reason, "--exclude a/**");
    }
}
