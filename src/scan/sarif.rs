//! `scan --output sarif`: the findings as a SARIF 2.1.0 log (OASIS, the format GitHub code
//! scanning and other code-scanning UIs read): one run, the tool's rules (every credential rule
//! with its documented format as `helpUri`, every other finding kind), one result per finding
//! with its file and line, never the value. Allowed and baselined findings are results with a
//! `suppressions` entry carrying the reason, as the format intends
//! (https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/sarif-v2.1.0-errata01-os-complete.html#_Toc141790910).
//! Pure.

use serde_json::{Value, json};

use super::{Finding, Kind, rules};

/// The schema the log names (the OASIS errata 01 schema, as committed under
/// tests/data/schemas/sarif-schema-2.1.0.json).
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Why a result does not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suppression {
    /// `sealstrap:allow REASON` on the line.
    InSource(String),
    /// An exclusion (`sealstrap.yaml`, `--exclude`) or the baseline.
    External(String),
}

/// One result: a finding in a file (the path from the work tree's top, `/`-separated).
pub struct Item<'a> {
    pub file: &'a str,
    /// The commit that brought it (`scan --history`).
    pub commit: Option<&'a str>,
    pub finding: &'a Finding,
    pub suppression: Option<Suppression>,
}

/// What each non-credential finding kind means.
fn kind_description(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::PlaintextSecret => (
            "a Kubernetes Secret with data in plain text",
            "seal it (sealstrap kubeseal) and delete the file, then rotate the values",
        ),
        Kind::SecretLikeValue => (
            "a value shaped like a credential",
            "rotate it, then keep it sealed or in the secret store",
        ),
        Kind::StaleSealedSecret => (
            "a SealedSecret sealed for another certificate",
            "reseal it (sealstrap reseal)",
        ),
        Kind::MissingProperty => (
            "an ExternalSecret to the store without property",
            "run sealstrap patch-externalsecrets",
        ),
        Kind::Skipped => (
            "a file scan could not read",
            "make it readable, or pass --allow-skipped",
        ),
        Kind::InterruptedWrite => (
            "the leftovers of an interrupted sealstrap write",
            "run the interrupted command again",
        ),
        Kind::IgnoredByGit => (
            "a file the cluster needs that git ignores",
            "add the !/path rule the message gives to .gitignore",
        ),
        Kind::CommittedPlaintext => (
            "a file that must never be in git is tracked or staged",
            "git rm --cached it and rotate what it held",
        ),
        Kind::ExpiredCertificate => (
            "an expired sealing certificate",
            "make a new key (sealstrap key new) and reseal",
        ),
    }
}

const KINDS: [Kind; 9] = [
    Kind::PlaintextSecret,
    Kind::SecretLikeValue,
    Kind::StaleSealedSecret,
    Kind::MissingProperty,
    Kind::Skipped,
    Kind::InterruptedWrite,
    Kind::IgnoredByGit,
    Kind::CommittedPlaintext,
    Kind::ExpiredCertificate,
];

fn descriptor(id: &str, short: &str, help: &str, uri: Option<&str>, hard: bool) -> Value {
    let mut d = json!({
        "id": id,
        "name": camel(id),
        "shortDescription": {"text": short},
        "help": {"text": help},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret"],
            // GitHub code scanning's severity scale (0-10).
            "security-severity": if hard { "9.5" } else { "8.0" },
        },
    });
    if let Some(uri) = uri {
        d["helpUri"] = json!(uri);
    }
    d
}

/// `aws-access-key-id` → `AwsAccessKeyId` (SARIF's `name` is an identifier-like label).
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A path as a relative URI reference: every byte outside RFC 3986's unreserved, sub-delims,
/// `:`, `@` and `/` percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // A first segment with a colon would read as a scheme.
    if out.split('/').next().is_some_and(|s| s.contains(':')) {
        out.insert_str(0, "./");
    }
    out
}

/// The SARIF log of `items`, from sealstrap `version`.
pub fn log(items: &[Item], version: &str) -> Value {
    let mut rules_json: Vec<Value> = rules::all()
        .map(|r| descriptor(r.id, r.what, r.fix, Some(r.source), r.hard))
        .collect();
    rules_json.extend(
        KINDS
            .iter()
            .filter(|k| **k != Kind::SecretLikeValue)
            .map(|k| {
                let (short, help) = kind_description(*k);
                descriptor(
                    k.as_str(),
                    short,
                    help,
                    None,
                    *k == Kind::CommittedPlaintext,
                )
            }),
    );
    let results: Vec<Value> = items.iter().map(result).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sealstrap",
                "semanticVersion": version,
                "rules": rules_json,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {
                "description": {"text": "The top of the git work tree scanned."}
            }},
            "results": results,
        }],
    })
}

fn result(item: &Item) -> Value {
    let f = item.finding;
    let mut location = json!({"physicalLocation": {
        "artifactLocation": {"uri": uri(item.file), "uriBaseId": "%SRCROOT%"},
    }});
    if f.line > 0 {
        location["physicalLocation"]["region"] = json!({"startLine": f.line});
    }
    let mut r = json!({
        "ruleId": f.rule_id(),
        "level": "error",
        "message": {"text": f.message},
        "locations": [location],
    });
    if let Some(commit) = item.commit {
        r["properties"] = json!({"commit": commit});
        r["message"]["text"] = json!(format!("{} (in commit {commit})", f.message));
    }
    match &item.suppression {
        Some(Suppression::InSource(reason)) => {
            r["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
        }
        Some(Suppression::External(reason)) => {
            r["suppressions"] = json!([{"kind": "external", "justification": reason}]);
        }
        None => {}
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("platform/values.yaml"), "platform/values.yaml");
        assert_eq!(uri("a b/ü.yaml"), "a%20b/%C3%BC.yaml");
        assert_eq!(uri("c:d/x"), "./c:d/x");
        assert_eq!(uri("100%.txt"), "100%25.txt");
    }

    #[test]
    fn a_log_names_every_rule_and_places_results() {
        let hit_line = "token: ghp_Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\n";
        let f = crate::scan::scan_text(hit_line, &Default::default(), &Default::default());
        let file_level = Finding::new(0, Kind::IgnoredByGit, "x");
        let items = [
            Item {
                file: "a.env",
                commit: None,
                finding: &f[0],
                suppression: None,
            },
            Item {
                file: "b.yaml",
                commit: Some("0123abcd"),
                finding: &file_level,
                suppression: Some(Suppression::External("vendored".into())),
            },
        ];
        let log = log(&items, "0.1.0");
        let run = &log["runs"][0];
        let ids: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"github-token") && ids.contains(&"ignored-by-git"));
        let r = &run["results"];
        assert_eq!(r[0]["ruleId"], "github-token");
        assert_eq!(
            r[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
        assert!(
            r[1]["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
        assert_eq!(r[1]["suppressions"][0]["kind"], "external");
        assert_eq!(r[1]["properties"]["commit"], "0123abcd");
        assert!(!log.to_string().contains("Ab3dE5gH7jK9mN1p"));
    }
}
