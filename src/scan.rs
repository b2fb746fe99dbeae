//! `scan`'s checks on one file's text: plaintext Secrets, values that look like the contract's
//! formats outside sealed files, SealedSecrets sealed for another certificate, and
//! ExternalSecrets to the store without `property`. Pure; findings never quote a value.

use serde_json::Value;

use crate::manifests::FINGERPRINT_ANNOTATION;
use crate::patch;
use crate::yaml;
use crate::yaml_text;

/// What kind of problem a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    PlaintextSecret,
    SecretLikeValue,
    StaleSealedSecret,
    MissingProperty,
    /// A file scan could not read (not a verdict on its content).
    Skipped,
    /// A journal or temporary file of a sealstrap write that was interrupted: the folder may be
    /// half old, half new, and a temporary file may hold a plaintext value.
    InterruptedWrite,
    /// A file a cluster needs from git (a SealedSecret, a store, a kustomization) that git
    /// ignores.
    IgnoredByGit,
    /// A file that must never be in git (the plaintext Dex copy, a journal) is tracked or
    /// staged.
    CommittedPlaintext,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PlaintextSecret => "plaintext-secret",
            Kind::SecretLikeValue => "secret-like-value",
            Kind::StaleSealedSecret => "stale-sealed-secret",
            Kind::MissingProperty => "missing-property",
            Kind::Skipped => "skipped",
            Kind::InterruptedWrite => "interrupted-write",
            Kind::IgnoredByGit => "ignored-by-git",
            Kind::CommittedPlaintext => "committed-plaintext",
        }
    }
}

/// One finding, 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub kind: Kind,
    pub message: String,
}

/// What to look for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The current certificate's fingerprint: SealedSecrets annotated with another are stale.
    pub fingerprint: Option<String>,
    /// Store and property for the ExternalSecret check.
    pub patch: patch::Options,
}

/// Whether a file name is one `scan` parses as manifests.
pub fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}

/// How a file's bytes are read as text. Manifest rules need real text; value shapes and PEM
/// keys are looked for in every file, whatever its encoding.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// UTF-8 (lossy), checked with every rule.
    Text(String),
    /// UTF-16 with a byte-order mark, decoded; checked with every rule.
    Utf16(String),
    /// Binary (NUL bytes): NULs become line breaks, checked for value shapes and keys only.
    Binary(String),
}

/// Reads a file's bytes for scanning (pure). UTF-16 needs its byte-order mark; other files with
/// NUL bytes are binary.
pub fn decode(bytes: &[u8]) -> Decoded {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    if bytes.starts_with(&[0xff, 0xfe]) {
        return Decoded::Utf16(utf16(true));
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return Decoded::Utf16(utf16(false));
    }
    if bytes.contains(&0) {
        let replaced: Vec<u8> = bytes
            .iter()
            .map(|b| if *b == 0 { b'\n' } else { *b })
            .collect();
        return Decoded::Binary(String::from_utf8_lossy(&replaced).into_owned());
    }
    Decoded::Text(String::from_utf8_lossy(bytes).into_owned())
}

/// Value shapes and PEM private keys, line by line (for binary files and streamed large ones).
/// `first_line` is the 1-based number of the first line of `text`.
pub fn scan_values(text: &str, first_line: usize) -> Vec<Finding> {
    text.split('\n')
        .enumerate()
        .filter_map(|(i, l)| {
            secret_like(l).map(|what| Finding {
                line: first_line + i,
                kind: Kind::SecretLikeValue,
                message: format!("{what} in plain text"),
            })
        })
        .collect()
}

/// Scans one file. `manifest` says whether to parse it as YAML/JSON manifests.
pub fn scan_text(text: &str, manifest: bool, opts: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    // Line ranges of the documents, to skip sealed ones in the value search and to place
    // findings.
    let mut sealed_ranges: Vec<std::ops::Range<usize>> = Vec::new();
    if manifest {
        // Each document on its own: a broken one neither hides a plaintext Secret beside it nor
        // moves its line. A Go/Helm template (`{{`) is no manifest until rendered: its broken
        // documents are expected, and its lines are still checked for value shapes below.
        let template = text.contains("{{");
        for d in yaml::parse_each(text) {
            let range = d.lines.clone();
            let doc = match d.value {
                Ok(doc) => doc,
                Err(e) => {
                    if !template {
                        findings.push(Finding {
                            line: range.start + 1,
                            kind: Kind::Skipped,
                            message: format!(
                                "this document is not valid YAML ({}), so its manifest rules were not checked (the other documents were); fix it",
                                e.message
                            ),
                        });
                    }
                    continue;
                }
            };
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = doc
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            let at = yaml_text::line_starting(&lines, &range, "kind:").unwrap_or(range.start + 1);
            match kind {
                "Secret" if doc.get("apiVersion").and_then(Value::as_str) == Some("v1") => {
                    let has = |f: &str| {
                        doc.get(f)
                            .and_then(Value::as_object)
                            .is_some_and(|m| !m.is_empty())
                    };
                    if has("data") || has("stringData") {
                        findings.push(Finding {
                            line: at,
                            kind: Kind::PlaintextSecret,
                            message: format!(
                                "Secret {name} carries data in plain text (base64 is not encryption); seal it (sealstrap kubeseal -f FILE -w sealed.yaml) and delete this file, then rotate the values: they are in git history"
                            ),
                        });
                    }
                }
                "SealedSecret" => {
                    sealed_ranges.push(range.clone());
                    if let (Some(want), Some(have)) = (
                        &opts.fingerprint,
                        doc.pointer("/metadata/annotations")
                            .and_then(|a| a.get(FINGERPRINT_ANNOTATION))
                            .and_then(Value::as_str),
                    ) && want != have
                    {
                        findings.push(Finding {
                            line: at,
                            kind: Kind::StaleSealedSecret,
                            message: format!(
                                "SealedSecret {name} is sealed for certificate {have}, not {want}; reseal it (sealstrap reseal --private-key OLD --cert NEW)"
                            ),
                        });
                    }
                }
                _ => {}
            }
        }
        if !yaml::looks_like_json(text) {
            for f in patch::read_text(text, &opts.patch)
                .findings
                .iter()
                .filter(|f| f.is_missing_property())
            {
                findings.push(Finding {
                    line: f.line,
                    kind: Kind::MissingProperty,
                    message: format!(
                        "ExternalSecret {} reads {} without property: {} (ESO would hand over the whole Secret as JSON); run sealstrap patch-externalsecrets",
                        f.external_secret,
                        f.key.as_deref().unwrap_or("?"),
                        opts.patch.property
                    ),
                });
            }
        }
    }
    for (i, line) in lines.iter().enumerate() {
        if sealed_ranges.iter().any(|r| r.contains(&i)) {
            continue;
        }
        if let Some(what) = secret_like(line) {
            findings.push(Finding {
                line: i + 1,
                kind: Kind::SecretLikeValue,
                message: format!("{what} outside a sealed file; seal it and rotate it"),
            });
        }
    }
    findings.sort_by_key(|f| f.line);
    findings
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// What a line holds that looks like one of the contract's value formats, if anything.
pub fn secret_like(line: &str) -> Option<&'static str> {
    if line.contains("-----BEGIN") && line.contains("PRIVATE KEY-----") {
        return Some("a PEM private key (a controller key backup opens every sealed value)");
    }
    let b = line.as_bytes();
    let lower = line.to_ascii_lowercase();
    let hashy_context = [
        "sha256",
        "sha512",
        "checksum",
        "digest",
        "integrity",
        "hash",
        "fingerprint",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let boundary_before = |i: usize| i == 0 || !is_token_char(b[i - 1]);
    let run =
        |from: usize, pred: &dyn Fn(u8) -> bool| b[from..].iter().take_while(|c| pred(**c)).count();
    for i in 0..b.len() {
        if !boundary_before(i) {
            continue;
        }
        // Bytes, not `&line[i..]`: `i` may fall inside a multi-byte character.
        let rest = &b[i..];
        if rest.starts_with(b"sk-ant-") && run(i + 7, &is_token_char) >= 20 {
            return Some("an Anthropic API key (sk-ant-...)");
        }
        if rest.starts_with(b"sk-") {
            let n = run(i + 3, &|c| c.is_ascii_hexdigit());
            if n == 64 && b.get(i + 67).is_none_or(|c| !is_token_char(*c)) {
                return Some("a LiteLLM master key (sk- + 64 hex)");
            }
        }
        if rest.starts_with(b"hf_") {
            let n = run(i + 3, &|c| c.is_ascii_alphabetic());
            if n == 34 && b.get(i + 37).is_none_or(|c| !is_token_char(*c)) {
                return Some("a Hugging Face token (hf_...)");
            }
        }
        if (rest.starts_with(b"cfut_") || rest.starts_with(b"cfat_"))
            && run(i + 5, &is_token_char) >= 20
        {
            return Some("a Cloudflare API token");
        }
        if (rest.starts_with(b"$2a$") || rest.starts_with(b"$2b$") || rest.starts_with(b"$2y$"))
            && b.len() >= i + 7
            && b[i + 4].is_ascii_digit()
            && b[i + 5].is_ascii_digit()
            && b[i + 6] == b'$'
            && run(i + 7, &|c| {
                c.is_ascii_alphanumeric() || c == b'.' || c == b'/'
            }) == 53
        {
            return Some("a bcrypt hash (like the Dex admin hash)");
        }
        if !hashy_context && b[i].is_ascii_hexdigit() {
            let n = run(i, &|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
            if n == 64 && b.get(i + 64).is_none_or(|c| !is_token_char(*c)) {
                return Some("a 64-hex value like sealstrap's random secrets");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_shapes() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(secret_like(&format!("key: sk-{hex}")).is_some());
        assert!(secret_like(&format!("password: {hex}")).is_some());
        assert!(secret_like(&format!("image: app@sha256:{hex}")).is_none());
        assert!(secret_like(&format!("checksum = \"{hex}\"")).is_none());
        assert!(secret_like(&format!("x: {hex}0")).is_none(), "65 hex");
        assert!(secret_like(&format!("token: hf_{}", "a".repeat(34))).is_some());
        assert!(secret_like("token: sk-ant-api03-abcdefghijklmnopqrstuvwxyz").is_some());
        let h = bcrypt::hash_with_salt(b"x", 10, [0u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(secret_like(&format!("hash: '{h}'")).is_some());
        assert!(secret_like("name: litellm-master-key").is_none());
        assert!(secret_like("-----BEGIN RSA PRIVATE KEY-----").is_some());
        assert!(secret_like("-----BEGIN CERTIFICATE-----").is_none());
    }

    #[test]
    fn multi_byte_characters_before_a_value_do_not_panic() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(secret_like(&format!("# café ✓ — password: {hex}")).is_some());
        assert!(secret_like(&format!("é{hex}")).is_some());
        for line in [
            "ä",
            "✓sk-",
            "日本語 hf_",
            "€$2a$",
            "sk-ant-é",
            "\u{1F600}cfut_",
        ] {
            let _ = secret_like(line);
        }
    }

    #[test]
    fn decoding_finds_keys_in_binary_and_utf16() {
        let key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n\0";
        let Decoded::Binary(t) = decode(key) else {
            panic!("NUL means binary")
        };
        assert_eq!(scan_values(&t, 1).len(), 1);
        let mut utf16 = vec![0xff, 0xfe];
        for u in "kind: Secret\n-----BEGIN PRIVATE KEY-----\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let Decoded::Utf16(t) = decode(&utf16) else {
            panic!("BOM means UTF-16")
        };
        assert!(t.starts_with("kind: Secret"));
        assert_eq!(scan_values(&t, 1)[0].line, 2);
        assert_eq!(decode(b"plain"), Decoded::Text("plain".into()));
    }

    #[test]
    fn secrets_and_sealed_secrets() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {pw: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: empty}\ndata: {}\n";
        let f = scan_text(text, true, &Options::default());
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].kind), (2, Kind::PlaintextSecret));
        assert!(!f[0].message.contains(": x"));
    }

    #[test]
    fn a_broken_document_hides_nothing_beside_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: [1, 2}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n";
        let f = scan_text(text, true, &Options::default());
        let got: Vec<(usize, Kind)> = f.iter().map(|f| (f.line, f.kind)).collect();
        assert_eq!(
            got,
            vec![(1, Kind::Skipped), (7, Kind::PlaintextSecret)],
            "{f:?}"
        );
        // A Helm template's broken documents are expected; its Secret still counts when it parses.
        let helm = format!("{{{{- if .Values.x }}}}\n{text}");
        let f = scan_text(&helm, true, &Options::default());
        assert!(f.iter().all(|f| f.kind != Kind::Skipped), "{f:?}");
    }

    #[test]
    fn findings_land_on_their_document_whatever_the_markers() {
        // Tab after `---`, a `...` end marker and a comment-only document: the shared text layer
        // (yaml_text) pairs each parsed document with its lines.
        let text = "# head\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {pw: x}\n---\t# second\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: {pw: y}\n...\n---\n# nothing\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\nstringData: {pw: z}\n";
        let f = scan_text(text, true, &Options::default());
        let lines: Vec<usize> = f.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![3, 8, 16], "{f:?}");
    }
}
