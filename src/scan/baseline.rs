//! The scan baseline (`.sealstrap-baseline`): findings acknowledged once when `scan` is adopted
//! on an old repository, so only new ones fail. No values: each finding is kept as a keyed
//! fingerprint, HMAC-SHA-256 under the baseline's own random key over the finding's rule, file
//! and the SHA-256 of what was found (a value, a Secret's data) or, for findings without a
//! value, its message. The key only salts: a fingerprint cannot be looked up in a table or
//! matched across repositories, and it tells nothing the acknowledged files do not already
//! hold. The same secret moved to another line keeps its fingerprint; a new value at the same
//! place is a new finding.
//!
//! ```json
//! {
//!   "about": "...",
//!   "version": 1,
//!   "fingerprint_key": "9c1f...",
//!   "findings": [
//!     {"file": "apps/db/values.yaml", "line": 12, "kind": "secret-like-value",
//!      "rule": "generic-credential", "fingerprint": "5e0a..."}
//!   ]
//! }
//! ```
//!
//! One baseline holds the work tree's entries and the history's (`commit` set): writing one
//! scope keeps the other's entries. Pure.

use std::collections::HashSet;

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};

use super::Finding;

/// The baseline's file name, at the top of the work tree.
pub const FILE_NAME: &str = ".sealstrap-baseline";

const ABOUT: &str = "sealstrap scan baseline: findings acknowledged once, so only new ones fail. No values: each fingerprint is HMAC-SHA-256 under fingerprint_key over the finding's rule, file and value digest. Rewrite with `sealstrap scan --baseline write` (add --history for the history's entries).";

/// One acknowledged finding. `line` is for the reader; matching uses the fingerprint only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub file: String,
    pub line: usize,
    pub kind: String,
    pub rule: String,
    /// The commit that brought it, for a finding of `scan --history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    about: String,
    version: u32,
    fingerprint_key: String,
    findings: Vec<Entry>,
}

/// A loaded (or new) baseline.
pub struct Baseline {
    key: hmac::Key,
    key_hex: String,
    entries: Vec<Entry>,
    known: HashSet<String>,
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BaselineError {
    #[error("it is not a sealstrap scan baseline ({0})")]
    Shape(String),
    #[error("it is baseline version {0}; this sealstrap reads version 1")]
    Version(u32),
    #[error("its fingerprint_key is not 64 hex digits")]
    Key,
}

impl BaselineError {
    pub fn hint(&self) -> String {
        "write it again from the current findings: sealstrap scan --baseline write (or take it back from git)".into()
    }
}

impl Baseline {
    /// An empty baseline with `key` (32 random bytes the caller draws).
    pub fn new(key: [u8; 32]) -> Baseline {
        Baseline {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            key_hex: hex::encode(key),
            entries: Vec::new(),
            known: HashSet::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let file: File =
            serde_json::from_str(text).map_err(|e| BaselineError::Shape(e.to_string()))?;
        if file.version != 1 {
            return Err(BaselineError::Version(file.version));
        }
        let key: [u8; 32] = hex::decode(&file.fingerprint_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or(BaselineError::Key)?;
        let mut b = Baseline::new(key);
        b.set_entries(file.findings);
        Ok(b)
    }

    fn set_entries(&mut self, entries: Vec<Entry>) {
        self.known = entries.iter().map(|e| e.fingerprint.clone()).collect();
        self.entries = entries;
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The fingerprint of `finding` in `file` (the path from the work tree's top).
    pub fn fingerprint(&self, file: &str, finding: &Finding) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(b"sealstrap-baseline-v1\0");
        ctx.update(finding.rule_id().as_bytes());
        ctx.update(b"\0");
        ctx.update(file.as_bytes());
        ctx.update(b"\0");
        match &finding.digest {
            Some(d) => ctx.update(&d.0),
            None => ctx.update(finding.message.as_bytes()),
        }
        hex::encode(&ctx.sign().as_ref()[..16])
    }

    /// Whether `finding` in `file` is acknowledged.
    pub fn contains(&self, file: &str, finding: &Finding) -> bool {
        self.known.contains(&self.fingerprint(file, finding))
    }

    /// The entry that acknowledges `finding` in `file`.
    pub fn entry(&self, file: &str, commit: Option<&str>, finding: &Finding) -> Entry {
        Entry {
            file: file.to_string(),
            line: finding.line,
            kind: finding.kind.as_str().to_string(),
            rule: finding.rule_id().to_string(),
            commit: commit.map(str::to_string),
            fingerprint: self.fingerprint(file, finding),
        }
    }

    /// Replaces the entries of one scope (the history's when `history`, else the work tree's)
    /// with `entries`, keeping the other scope's.
    pub fn replace_scope(&mut self, history: bool, entries: Vec<Entry>) {
        let mut kept: Vec<Entry> = self
            .entries
            .drain(..)
            .filter(|e| e.commit.is_some() != history)
            .collect();
        kept.extend(entries);
        kept.sort_by(|a, b| {
            (&a.commit, &a.file, a.line, &a.fingerprint).cmp(&(
                &b.commit,
                &b.file,
                b.line,
                &b.fingerprint,
            ))
        });
        kept.dedup_by(|a, b| a.fingerprint == b.fingerprint && a.commit == b.commit);
        self.set_entries(kept);
    }

    /// The file's text: deterministic JSON, one finding per line.
    pub fn render(&self) -> String {
        let mut out = String::from("{\n");
        out.push_str(&format!(
            "  \"about\": {},\n  \"version\": 1,\n  \"fingerprint_key\": \"{}\",\n  \"findings\": [",
            serde_json::to_string(ABOUT).expect("json"),
            self.key_hex
        ));
        for (i, e) in self.entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&serde_json::to_string(e).expect("json"));
        }
        out.push_str(if self.entries.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{FileClass, Kind, scan_text};

    fn finding(text: &str) -> Finding {
        let f = scan_text(text, &FileClass::default(), &Default::default());
        assert_eq!(f.len(), 1, "{f:?}");
        f.into_iter().next().unwrap()
    }

    #[test]
    fn fingerprints_follow_the_value_not_the_line() {
        let b = Baseline::new([7; 32]);
        let token = "ghp_Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";
        let a = finding(&format!("token: {token}\n"));
        let moved = finding(&format!("# a comment\n\nother: {token}\n"));
        assert_ne!(a.line, moved.line);
        assert_eq!(b.fingerprint("a.env", &a), b.fingerprint("a.env", &moved));
        // Another file, another value or another key: another fingerprint.
        assert_ne!(b.fingerprint("a.env", &a), b.fingerprint("b.env", &a));
        let other = finding("token: ghp_Zb3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG6\n");
        assert_ne!(b.fingerprint("a.env", &a), b.fingerprint("a.env", &other));
        assert_ne!(
            b.fingerprint("a.env", &a),
            Baseline::new([8; 32]).fingerprint("a.env", &a)
        );
        // A finding without a value is fingerprinted by its message.
        let f = Finding::new(0, Kind::IgnoredByGit, "a SealedSecret that git ignores");
        assert_eq!(b.fingerprint("x", &f).len(), 32);
    }

    #[test]
    fn a_baseline_round_trips_without_values_and_keeps_the_other_scope() {
        let token = "ghp_Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";
        let f = finding(&format!("token: {token}\n"));
        let mut b = Baseline::new([1; 32]);
        b.replace_scope(false, vec![b.entry("a.env", None, &f)]);
        b.replace_scope(true, vec![b.entry("old.env", Some("abc123"), &f)]);
        let text = b.render();
        assert!(!text.contains(token) && !text.contains(&token[4..]));
        let back = Baseline::parse(&text).unwrap();
        assert_eq!(back.entries().len(), 2);
        assert!(back.contains("a.env", &f) && back.contains("old.env", &f));
        assert!(!back.contains("b.env", &f));
        // Writing the work tree's scope again keeps the history's entry.
        let mut again = back;
        again.replace_scope(false, Vec::new());
        assert_eq!(again.entries().len(), 1);
        assert_eq!(again.entries()[0].commit.as_deref(), Some("abc123"));
        // Nothing a scan rule finds in the baseline itself.
        assert!(
            scan_text(
                &text,
                &crate::scan::classify(FILE_NAME),
                &Default::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn a_broken_baseline_is_an_error_with_a_hint() {
        assert!(matches!(
            Baseline::parse("{}"),
            Err(BaselineError::Shape(_))
        ));
        let v2 = r#"{"version": 2, "fingerprint_key": "00", "findings": []}"#;
        assert_eq!(Baseline::parse(v2).unwrap_err(), BaselineError::Version(2));
        let short = r#"{"version": 1, "fingerprint_key": "00", "findings": []}"#;
        assert_eq!(Baseline::parse(short).unwrap_err(), BaselineError::Key);
        assert!(BaselineError::Key.hint().contains("--baseline write"));
    }
}
