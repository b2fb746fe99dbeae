//! Pins: the certificate each sealed folder is sealed for and the recipients each escrow is
//! encrypted to, as a reviewer approved them, in the `pins:` section of `sealstrap.yaml`.
//!
//! Anything committed can be changed by a pull request: a certificate picked up from the tree
//! (an environment's `controller.crt`, a path in the fleet file, the break-glass certificate) or
//! a recipient in a committed recipients file would otherwise receive every value or every
//! controller key on the operator's next run. A pin is a line a reviewer reads; sealstrap uses a
//! certificate from the tree only when it matches its pin, and encrypts an escrow only to pinned
//! recipients. A certificate the operator names on the command line is the operator's choice:
//! it is used and its pin recorded. Pure: the workspace reads the file, the command writes it.
//!
//! ```yaml
//! pins:
//!   metal:                     # an environment (clusters/metal/)
//!     certificate: sha256:43a0...
//!     recipients:              # who can open its escrow
//!       - age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
//!       - ssh-ed25519 SHA256:Ne6RZ4n8r6eXbsULmlLWnD1TeBFqB4Zq6gPOmTtnm/s
//!   break-glass:               # the break-glass certificate
//!     certificate: sha256:9f1c...
//!   secret-source:             # a repository without environments: its sealed folder
//!     certificate: sha256:2e8a...
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

/// The section's name in `sealstrap.yaml`.
pub const SECTION: &str = "pins";
/// The pin of the break-glass certificate.
pub const BREAK_GLASS: &str = "break-glass";

/// What is pinned for one name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pin {
    /// `sha256:...` of the sealing certificate.
    pub certificate: Option<String>,
    /// The escrow's recipients, as [`crate::escrow::Recipient::pin_id`] writes them.
    pub recipients: Option<Vec<String>>,
}

/// Every pin, by name: an environment, [`BREAK_GLASS`], or the folder of a repository without
/// environments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    pub entries: BTreeMap<String, Pin>,
}

/// Why `pins:` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinsError {
    #[error("pins.{name}: {problem}")]
    Entry { name: String, problem: String },
    #[error("pins: must be a mapping of names to {{certificate: sha256:..., recipients: [...]}}")]
    Shape,
}

impl PinsError {
    pub fn hint(&self) -> String {
        "sealstrap writes this section itself (key new, the first seal of an environment, --accept-cert, --accept-recipients); a reviewer checks it. Restore it from git if it was edited by hand".into()
    }
}

/// Whether `s` is a certificate fingerprint as sealstrap writes it.
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Reads `pins:` from the parsed `sealstrap.yaml` (absent: none).
pub fn parse(root: &Value) -> Result<Pins, PinsError> {
    let mut pins = Pins::default();
    let Some(section) = root.get(SECTION).filter(|v| !v.is_null()) else {
        return Ok(pins);
    };
    let map = section.as_object().ok_or(PinsError::Shape)?;
    for (name, entry) in map {
        let bad = |problem: &str| PinsError::Entry {
            name: name.clone(),
            problem: problem.into(),
        };
        let entry = entry.as_object().ok_or_else(|| {
            bad("must be a mapping: {certificate: sha256:..., recipients: [...]}")
        })?;
        let certificate = match entry.get("certificate") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if is_fingerprint(s) => Some(s.clone()),
            Some(_) => return Err(bad("certificate: must be sha256: and 64 hex digits")),
        };
        let recipients = match entry.get("recipients") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(
                list.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad("recipients: must be a list of recipients"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(bad("recipients: must be a list of recipients")),
        };
        pins.entries.insert(
            name.clone(),
            Pin {
                certificate,
                recipients,
            },
        );
    }
    Ok(pins)
}

/// How a certificate about to be used stands against its pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertCheck {
    /// The pin says this certificate.
    Pinned,
    /// Nothing is pinned for the name yet.
    New,
    /// The pin says another certificate.
    Changed { pinned: String },
}

impl Pins {
    /// The certificate pinned for `name`.
    pub fn certificate(&self, name: &str) -> Option<&str> {
        self.entries.get(name)?.certificate.as_deref()
    }

    /// How `fingerprint` stands against the pin of `name`.
    pub fn check(&self, name: &str, fingerprint: &str) -> CertCheck {
        match self.certificate(name) {
            Some(p) if p == fingerprint => CertCheck::Pinned,
            Some(p) => CertCheck::Changed {
                pinned: p.to_string(),
            },
            None => CertCheck::New,
        }
    }

    /// Pins `fingerprint` for `name`; whether that changed anything.
    pub fn pin_certificate(&mut self, name: &str, fingerprint: &str) -> bool {
        let e = self.entries.entry(name.to_string()).or_default();
        let changed = e.certificate.as_deref() != Some(fingerprint);
        e.certificate = Some(fingerprint.to_string());
        changed
    }

    /// Pins the recipients of `name`'s escrow; whether that changed anything.
    pub fn pin_recipients(&mut self, name: &str, recipients: &[String]) -> bool {
        let e = self.entries.entry(name.to_string()).or_default();
        let changed = e.recipients.as_deref() != Some(recipients);
        e.recipients = Some(recipients.to_vec());
        changed
    }

    /// The recipients among `ids` that the pin of `name` does not hold (all of them when nothing
    /// is pinned yet: `None`).
    pub fn unpinned_recipients<'a>(&self, name: &str, ids: &'a [String]) -> Option<Vec<&'a str>> {
        let pinned = self.entries.get(name)?.recipients.as_ref()?;
        Some(
            ids.iter()
                .filter(|r| !pinned.contains(r))
                .map(String::as_str)
                .collect(),
        )
    }

    /// The pinned recipients of `name` that `ids` leaves out (none when nothing is pinned): a
    /// re-encryption to `ids` would take the escrow away from them.
    pub fn dropped_recipients(&self, name: &str, ids: &[String]) -> Vec<String> {
        self.entries
            .get(name)
            .and_then(|e| e.recipients.as_ref())
            .map(|pinned| {
                pinned
                    .iter()
                    .filter(|r| !ids.contains(r))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The section as sealstrap writes it: a comment saying what it is, then every pin.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Pinned by sealstrap: the certificate each folder is sealed for and who can open each\n\
             # escrow, as reviewed. A certificate or recipient not pinned here is refused until\n\
             # accepted (--accept-cert NAME, --accept-recipients): review every change of these lines.\n\
             pins:\n",
        );
        for (name, pin) in &self.entries {
            out.push_str(&format!("  {name}:\n"));
            if let Some(c) = &pin.certificate {
                out.push_str(&format!("    certificate: {c}\n"));
            }
            if pin.recipients.as_ref().is_some_and(Vec::is_empty) {
                // A passphrase escrow: nobody opens it with a key (accepted on purpose).
                out.push_str("    recipients: []\n");
            } else if let Some(rs) = &pin.recipients {
                out.push_str("    recipients:\n");
                for r in rs {
                    out.push_str(&format!("      - {}\n", quote(r)));
                }
            }
        }
        out
    }
}

/// Where a certificate a run seals for comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Named by the operator: `--cert FILE`, `--fetch-cert`. Used; its pin is recorded.
    Named,
    /// Picked up from the tree (a committed `controller.crt`, a path in the fleet file). Used
    /// only when pinned; `first_use`: a run on one environment the operator named may pin a
    /// certificate for a name that has none yet (and says so).
    Tree { first_use: bool },
}

/// A certificate a run will not seal for: not what a reviewer pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertRefusal {
    #[error(
        "{file} is certificate {fingerprint}, and nothing is pinned for {name}: sealstrap seals for a certificate from the repository only when sealstrap.yaml pins it (a pull request could have put it there)"
    )]
    NotPinned {
        name: String,
        file: String,
        fingerprint: String,
    },
    #[error(
        "{file} is certificate {fingerprint}, but sealstrap.yaml pins {name} to {pinned}: the certificate changed since it was reviewed (a new controller key, or a pull request)"
    )]
    Changed {
        name: String,
        file: String,
        fingerprint: String,
        pinned: String,
    },
}

impl CertRefusal {
    pub fn hint(&self) -> String {
        let (name, file) = match self {
            CertRefusal::NotPinned { name, file, .. } | CertRefusal::Changed { name, file, .. } => {
                (name, file)
            }
        };
        format!(
            "check it (sealstrap cert inspect {file}; git log -p -- {file} shows who changed it); if you expected it (a new key), accept it: --accept-cert {name} (the new pin is written to sealstrap.yaml for review)"
        )
    }
}

/// Whether a run may seal for `fingerprint` (from `file`) as `name`: `Ok(Some(note))` when the
/// run pins it (say so in the summary), `Ok(None)` when it is pinned already. `accepted`: the
/// operator passed `--accept-cert NAME`.
pub fn judge(
    pins: &Pins,
    name: &str,
    file: &str,
    fingerprint: &str,
    source: Source,
    accepted: bool,
) -> Result<Option<String>, CertRefusal> {
    match (pins.check(name, fingerprint), source) {
        (CertCheck::Pinned, _) => Ok(None),
        (CertCheck::New, Source::Named) => Ok(Some(format!(
            "pinned {name} to {fingerprint} (the certificate you named) in sealstrap.yaml: commit that line with the sealed files"
        ))),
        (CertCheck::Changed { pinned }, Source::Named) => Ok(Some(format!(
            "re-pinned {name} from {pinned} to {fingerprint} (the certificate you named) in sealstrap.yaml: commit that line with the sealed files"
        ))),
        (CertCheck::New, Source::Tree { first_use }) if first_use || accepted => Ok(Some(format!(
            "{}pinned {name} to {fingerprint} ({file}) in sealstrap.yaml: review that line before you commit it",
            if accepted {
                "--accept-cert: "
            } else {
                "first seal: "
            }
        ))),
        (CertCheck::Changed { pinned }, Source::Tree { .. }) if accepted => Ok(Some(format!(
            "--accept-cert: re-pinned {name} from {pinned} to {fingerprint} ({file}) in sealstrap.yaml: review that line before you commit it"
        ))),
        (CertCheck::New, Source::Tree { .. }) => Err(CertRefusal::NotPinned {
            name: name.into(),
            file: file.into(),
            fingerprint: fingerprint.into(),
        }),
        (CertCheck::Changed { pinned }, Source::Tree { .. }) => Err(CertRefusal::Changed {
            name: name.into(),
            file: file.into(),
            fingerprint: fingerprint.into(),
            pinned,
        }),
    }
}

/// A recipient written as a YAML scalar: plain when it reads back as itself.
fn quote(s: &str) -> String {
    if crate::style::plain_ok(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string")
    }
}

/// `text` (the whole `sealstrap.yaml`) with its `pins:` section replaced by `pins` (or appended
/// when it has none); every other byte is kept. The section is the `pins:` line and the lines
/// below it that are indented, blank or comments, with sealstrap's comment just above it.
pub fn replace_section(text: &str, pins: &Pins) -> String {
    let rendered = pins.render();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("pins:") || l.starts_with("pins :"));
    let Some(start) = start else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&rendered);
        return out;
    };
    // sealstrap's own comment above the section goes with it.
    let mut from = start;
    while from > 0 && lines[from - 1].starts_with("# ") && is_own_comment(lines[from - 1]) {
        from -= 1;
    }
    let mut to = start + 1;
    while to < lines.len() {
        let l = lines[to];
        let t = l.trim_end_matches(['\n', '\r']);
        if t.is_empty() || t.starts_with(' ') || t.starts_with('\t') {
            to += 1;
        } else {
            break;
        }
    }
    // Blank lines at the end of the section stay between it and what follows.
    while to > start + 1 && lines[to - 1].trim().is_empty() {
        to -= 1;
    }
    let mut out: String = lines[..from].concat();
    out.push_str(&rendered);
    out.push_str(&lines[to..].concat());
    out
}

fn is_own_comment(line: &str) -> bool {
    let head = Pins::default().render();
    head.lines()
        .filter(|l| l.starts_with('#'))
        .any(|c| c == line.trim_end_matches(['\n', '\r']))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn parse_text(t: &str) -> Result<Pins, PinsError> {
        parse(
            &crate::yaml::parse_documents(t)
                .unwrap()
                .into_iter()
                .next()
                .unwrap_or_default(),
        )
    }

    #[test]
    fn a_certificate_is_pinned_new_or_changed() {
        let mut p = Pins::default();
        assert_eq!(p.check("metal", A), CertCheck::New);
        assert!(p.pin_certificate("metal", A));
        assert!(!p.pin_certificate("metal", A), "the same pin again");
        assert_eq!(p.check("metal", A), CertCheck::Pinned);
        assert_eq!(p.check("metal", B), CertCheck::Changed { pinned: A.into() });
        let ids = vec!["age1x".to_string(), "age1y".to_string()];
        assert_eq!(p.unpinned_recipients("metal", &ids), None);
        p.pin_recipients("metal", &ids[..1]);
        assert_eq!(p.unpinned_recipients("metal", &ids), Some(vec!["age1y"]));
    }

    #[test]
    fn the_section_is_rewritten_in_place_and_every_other_byte_kept() {
        let mut p = Pins::default();
        p.pin_certificate("metal", A);
        p.pin_recipients(
            "metal",
            &["age1x".into(), "ssh-ed25519 SHA256:abc/def+g".into()],
        );
        let head = "# the fleet\nextra:\n  example-token: {generate: hex32}  # ours\n";
        let tail = "\nvalues:\n  example-token: shared\n";
        let first = replace_section(head, &p);
        assert!(first.starts_with(head), "{first}");
        assert_eq!(parse_text(&first).unwrap(), p);
        // In the middle of the file: replaced, the rest kept byte for byte.
        let text = format!("{first}{tail}");
        p.pin_certificate("ai-dev", B);
        let second = replace_section(&text, &p);
        assert!(
            second.starts_with(head) && second.ends_with(tail),
            "{second}"
        );
        assert_eq!(parse_text(&second).unwrap(), p);
        assert_eq!(second.matches("# Pinned by sealstrap").count(), 1);
        // An empty file gets the section alone.
        assert_eq!(replace_section("", &p), p.render());
    }

    #[test]
    fn a_certificate_from_the_tree_is_used_only_when_pinned() {
        let mut p = Pins::default();
        let tree = Source::Tree { first_use: false };
        let first = Source::Tree { first_use: true };
        // Named by the operator: used, and pinned.
        assert!(
            judge(&p, "metal", "a.crt", A, Source::Named, false)
                .unwrap()
                .is_some()
        );
        // From the tree: refused with no pin, unless it is a first seal or accepted.
        assert!(matches!(
            judge(&p, "metal", "a.crt", A, tree, false),
            Err(CertRefusal::NotPinned { .. })
        ));
        assert!(
            judge(&p, "metal", "a.crt", A, first, false)
                .unwrap()
                .is_some()
        );
        assert!(
            judge(&p, "metal", "a.crt", A, tree, true)
                .unwrap()
                .is_some()
        );
        p.pin_certificate("metal", A);
        assert_eq!(judge(&p, "metal", "a.crt", A, tree, false), Ok(None));
        // A changed certificate: refused even on a first-use run, with both fingerprints.
        let e = judge(&p, "metal", "a.crt", B, first, false).unwrap_err();
        assert_eq!(
            e,
            CertRefusal::Changed {
                name: "metal".into(),
                file: "a.crt".into(),
                fingerprint: B.into(),
                pinned: A.into()
            }
        );
        assert!(e.to_string().contains(A) && e.to_string().contains(B));
        assert!(e.hint().contains("--accept-cert metal"));
        assert!(
            judge(&p, "metal", "a.crt", B, tree, true)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn bad_pins_are_named() {
        for bad in [
            "pins: [a]\n",
            "pins:\n  metal: sha256:x\n",
            "pins:\n  metal: {certificate: md5:abc}\n",
            "pins:\n  metal: {recipients: age1x}\n",
        ] {
            assert!(parse_text(bad).is_err(), "{bad}");
        }
        assert!(parse_text("extra: {}\n").unwrap().entries.is_empty());
    }

    /// An empty recipients pin (a passphrase escrow, accepted) is written and read back as one:
    /// every recipient is then new, and no recipient is dropped.
    #[test]
    fn an_empty_recipients_pin_round_trips() {
        let mut p = Pins::default();
        p.pin_recipients("metal", &[]);
        let text = p.render();
        assert!(text.contains("    recipients: []\n"), "{text}");
        let back = parse(&crate::yaml::parse_documents(&text).unwrap()[0]).unwrap();
        assert_eq!(back, p);
        let ids = vec!["age1x".to_string()];
        assert_eq!(back.unpinned_recipients("metal", &ids), Some(vec!["age1x"]));
        assert!(back.dropped_recipients("metal", &ids).is_empty());
    }
}
