//! Text-preserving edits of ExternalSecrets: add `property: <name>` to every
//! `spec.data[].remoteRef` that reads from the Kubernetes-provider store.
//!
//! The convention is store-wide: under the Kubernetes provider every single-value ref needs the
//! data key, whatever its key, so a ref to a key outside the contract is patched too (and
//! reported: nothing seals its source Secret until `sealstrap.yaml` declares it). Files the user
//! excludes (`--exclude`, and `*.example.yaml` templates by default) are not read at all. So a
//! patched tree always passes `--check`.
//!
//! The file is never re-serialized. The YAML is parsed to decide *what* to change; a small
//! quote- and comment-aware scanner finds *where* each `remoteRef` is in the text; the edit is an
//! inserted line (block style, at the mapping's own indentation) or `, property: value` inserted
//! before the closing brace (flow style). Line endings, comments, quoting, key order and every
//! other document stay byte-for-byte. Every patched document is parsed again and must equal the
//! original plus exactly the added properties, or the file is left alone. Pure: text in, text out.

use serde_json::Value;

use crate::yaml;
use crate::yaml_text::{Lines, doc_ranges, is_content};

/// What to patch.
#[derive(Clone, Debug)]
pub struct Options {
    /// The ClusterSecretStore whose ExternalSecrets are patched.
    pub store: String,
    /// The data key to name (`property:`).
    pub property: String,
    /// The keys sealstrap seals (a ref to another key is reported).
    pub contract: crate::contract::Contract,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            store: crate::defaults::STORE_NAME.into(),
            property: crate::defaults::PROPERTY.into(),
            contract: Default::default(),
        }
    }
}

/// What was found about one `remoteRef` (or `dataFrom` entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// `property` was added (or, with `--check`, would be).
    Added,
    /// `property` names another data key; left as it is.
    OtherProperty(String),
    /// The key is not a backend key of the contract (nor a `sealstrap.yaml` extra): patched like
    /// every ref to the store, and reported, since nothing seals its source Secret.
    NotContractKey,
    /// A `dataFrom` entry; explained, left as it is.
    DataFrom,
    /// A remoteRef without a string `key`.
    NoKey,
    /// `external-secrets.io/v1beta1`, which ESO 2.x no longer serves.
    OldApiVersion,
}

/// One finding, with its 1-based line in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    /// `namespace/name` of the ExternalSecret.
    pub external_secret: String,
    /// `remoteRef.key`, when there is one.
    pub key: Option<String>,
    pub kind: FindingKind,
    pub message: String,
}

impl Finding {
    /// Whether this remoteRef still lacks the property (what `--check` fails on).
    pub fn is_missing_property(&self) -> bool {
        matches!(self.kind, FindingKind::Added)
    }
}

/// One edit of the file's lines (0-based line indexes into the original).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Insert a new line after line `after`.
    Insert { after: usize, text: String },
    /// Replace line `line` with `text`.
    Replace { line: usize, text: String },
}

/// One `remoteRef.key` read from the store, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// 1-based line of the `remoteRef`.
    pub line: usize,
    /// `namespace/name` of the ExternalSecret.
    pub external_secret: String,
    pub key: String,
    /// `remoteRef.property` as the file has it (before any patch).
    pub property: Option<String>,
}

/// The result of patching one file.
#[derive(Clone, Debug, Default)]
pub struct Patched {
    /// Every remoteRef with a key that reads from the store, in file order.
    pub refs: Vec<Ref>,
    pub findings: Vec<Finding>,
    /// The edits, in file order; empty when nothing changes.
    pub edits: Vec<Edit>,
    /// The new file text, when it changes.
    pub text: Option<String>,
}

/// Why a file could not be patched; the file is left alone. Each case names its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The file is not YAML (the parser's message, which names the line).
    #[error("{message}")]
    Syntax {
        line: Option<usize>,
        message: String,
    },
    /// A document does not parse on its own (an anchor used across documents, say).
    #[error("cannot split the documents of this file: {reason}")]
    Split { line: usize, reason: String },
    #[error("cannot split the documents of this file reliably")]
    Unreliable { line: usize },
    #[error(
        "ExternalSecret {id}: found {in_text} remoteRef keys in the text but {in_data} in the data"
    )]
    RefCount {
        line: usize,
        id: String,
        in_text: usize,
        in_data: usize,
    },
    #[error("ExternalSecret {id}: {reason}")]
    Layout {
        line: usize,
        id: String,
        reason: &'static str,
    },
    #[error("ExternalSecret {id}: the edit would not give the intended YAML (unusual layout)")]
    Unverified { line: usize, id: String },
}

impl PatchError {
    /// The 1-based line the problem is on, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            PatchError::Syntax { line, .. } => *line,
            PatchError::Split { line, .. }
            | PatchError::Unreliable { line }
            | PatchError::RefCount { line, .. }
            | PatchError::Layout { line, .. }
            | PatchError::Unverified { line, .. } => Some(*line),
        }
    }

    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            PatchError::Syntax { .. } => "fix the YAML at that line; the file was left alone",
            PatchError::Split { .. } | PatchError::Unreliable { .. } => {
                "the file was left alone; keep each document self-contained (no anchors or aliases across `---`), or add `property:` by hand"
            }
            PatchError::RefCount { .. }
            | PatchError::Layout { .. }
            | PatchError::Unverified { .. } => {
                "the file was left alone; write remoteRef in block style (`remoteRef:` then `key:` on its own line), or add `property:` by hand"
            }
        })
    }
}

/// A `remoteRef` key found in the text: line index within the file and the byte column just
/// after its colon.
#[derive(Clone, Copy, Debug)]
struct Token {
    line: usize,
    key_col: usize,
    after_colon: usize,
}

/// Finds every `remoteRef:` key in `lines[range]`, skipping comments, quoted strings and block
/// scalars.
fn find_remote_refs(lines: &[String], range: std::ops::Range<usize>) -> Vec<Token> {
    let mut out = Vec::new();
    let mut in_single = false;
    let mut in_double = false;
    // Inside a block scalar (`|` or `>`): lines indented deeper than this are content.
    let mut block_scalar_indent: Option<usize> = None;
    for li in range {
        let line = &lines[li];
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(bi) = block_scalar_indent {
            if line.trim().is_empty() || indent > bi {
                continue;
            }
            block_scalar_indent = None;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        let mut prev_sig: Option<u8> = None; // last significant char before i on this line
        while i < bytes.len() {
            let c = bytes[i];
            if in_single {
                if c == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    in_single = false;
                    prev_sig = Some(b'\'');
                }
                i += 1;
                continue;
            }
            if in_double {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    in_double = false;
                    prev_sig = Some(b'"');
                }
                i += 1;
                continue;
            }
            match c {
                b'#' if i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t' => break,
                b'\'' | b'"' => {
                    // A quoted key `"remoteRef":` counts too.
                    let quoted = if c == b'"' {
                        "\"remoteRef\""
                    } else {
                        "'remoteRef'"
                    };
                    let key_pos = matches!(prev_sig, None | Some(b'-' | b'{' | b',' | b'?'));
                    if key_pos && line[i..].starts_with(quoted) {
                        let j = i + quoted.len();
                        let k = skip_spaces(bytes, j);
                        if bytes.get(k) == Some(&b':') {
                            out.push(Token {
                                line: li,
                                key_col: i,
                                after_colon: k + 1,
                            });
                            i = k + 1;
                            prev_sig = Some(b':');
                            continue;
                        }
                    }
                    if c == b'\'' {
                        in_single = true;
                    } else {
                        in_double = true;
                    }
                    i += 1;
                }
                b' ' | b'\t' => i += 1,
                b'|' | b'>' if prev_sig == Some(b':') || prev_sig == Some(b'-') => {
                    // Block scalar header: the following deeper-indented lines are content.
                    let rest = line[i + 1..].trim();
                    if rest.is_empty()
                        || rest.starts_with('#')
                        || rest
                            .chars()
                            .all(|ch| ch.is_ascii_digit() || ch == '+' || ch == '-')
                    {
                        block_scalar_indent = Some(indent);
                        break;
                    }
                    prev_sig = Some(c);
                    i += 1;
                }
                _ => {
                    let key_pos = matches!(prev_sig, None | Some(b'-' | b'{' | b',' | b'?'))
                        && (prev_sig != Some(b'-') || i > 0 && bytes[i - 1] == b' ');
                    if key_pos && line[i..].starts_with("remoteRef") {
                        let j = i + "remoteRef".len();
                        let k = skip_spaces(bytes, j);
                        if bytes.get(k) == Some(&b':')
                            && (k + 1 == bytes.len() || matches!(bytes[k + 1], b' ' | b'\t' | b'{'))
                        {
                            out.push(Token {
                                line: li,
                                key_col: i,
                                after_colon: k + 1,
                            });
                            i = k + 1;
                            prev_sig = Some(b':');
                            continue;
                        }
                    }
                    // Skip the rest of this plain scalar or indicator.
                    prev_sig = Some(c);
                    i += 1;
                    if !matches!(c, b'-' | b'{' | b',' | b'?' | b'[' | b':' | b'}' | b']') {
                        while i < bytes.len()
                            && !matches!(bytes[i], b',' | b'{' | b'}' | b'[' | b']' | b'#')
                        {
                            if bytes[i] == b':'
                                && (i + 1 == bytes.len() || matches!(bytes[i + 1], b' ' | b'\t'))
                            {
                                break;
                            }
                            if bytes[i] == b'#' && bytes[i - 1] == b' ' {
                                break;
                            }
                            i += 1;
                        }
                        prev_sig = Some(b'x');
                    }
                }
            }
        }
    }
    out
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    i
}

/// Finds the `}` closing the flow mapping that opens at `lines[line][col]`; returns its line
/// and column. Quote-aware; nested braces and brackets are skipped.
fn matching_brace(lines: &[String], line: usize, col: usize, end: usize) -> Option<(usize, usize)> {
    let mut depth = 0i32;
    let mut in_single = false;
    let mut in_double = false;
    for (li, l) in lines.iter().enumerate().take(end).skip(line) {
        let bytes = l.as_bytes();
        let start = if li == line { col } else { 0 };
        let mut i = start;
        while i < bytes.len() {
            let c = bytes[i];
            if in_single {
                if c == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        in_single = false;
                    }
                }
            } else if in_double {
                if c == b'\\' {
                    i += 1;
                } else if c == b'"' {
                    in_double = false;
                }
            } else {
                match c {
                    b'\'' => in_single = true,
                    b'"' => in_double = true,
                    b'#' if i > 0 && bytes[i - 1] == b' ' => break,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return (c == b'}').then_some((li, i));
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
    }
    None
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The edit that adds `property: <p>` to the remoteRef at `tok`.
fn edit_for(
    lines: &[String],
    tok: Token,
    doc_end: usize,
    property: &str,
) -> Result<Edit, &'static str> {
    let line = &lines[tok.line];
    let bytes = line.as_bytes();
    let j = skip_spaces(bytes, tok.after_colon);
    if bytes.get(j) == Some(&b'{') {
        let (cl, cc) = matching_brace(lines, tok.line, j, doc_end)
            .ok_or("unterminated flow mapping after remoteRef")?;
        let target = &lines[cl];
        // Insert right after the last significant character before the closing brace.
        let before = target[..cc].trim_end_matches([' ', '\t']);
        if cl == tok.line && before.ends_with('{') {
            return Err("empty remoteRef");
        }
        let insert_at = before.len();
        let mut text = String::with_capacity(target.len() + property.len() + 12);
        text.push_str(&target[..insert_at]);
        text.push_str(&format!(", property: {property}"));
        text.push_str(&target[insert_at..]);
        return Ok(Edit::Replace { line: cl, text });
    }
    let rest = line[j..].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err("remoteRef has an unexpected value on its line");
    }
    // Block mapping: its lines are the following content lines indented deeper than the key.
    let mut child_indent = None;
    let mut last_content = None;
    let mut key_line = None;
    for (li, l) in lines.iter().enumerate().take(doc_end).skip(tok.line + 1) {
        if !is_content(l) {
            continue;
        }
        let ind = indent_of(l);
        if ind <= tok.key_col {
            break;
        }
        let ci = *child_indent.get_or_insert(ind);
        last_content = Some(li);
        if ind == ci {
            let t = l.trim_start();
            if t.starts_with("key:") || t.starts_with("\"key\":") || t.starts_with("'key':") {
                let v = t.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
                // A value on the same line (not a block scalar) ends the key's lines here.
                if !v.is_empty() && !v.starts_with('|') && !v.starts_with('>') {
                    key_line = Some(li);
                }
            }
        }
    }
    let child_indent = child_indent.ok_or("remoteRef has no entries")?;
    let after = key_line
        .or(last_content)
        .expect("a child indent implies a content line");
    Ok(Edit::Insert {
        after,
        text: format!("{}property: {property}", " ".repeat(child_indent)),
    })
}

fn external_secret_id(doc: &Value) -> String {
    let ns = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}/{name}")
    }
}

/// Whether `doc` is an ExternalSecret reading from ClusterSecretStore `store`.
fn uses_store(doc: &Value, store: &str) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != "ExternalSecret"
        || !matches!(
            api,
            "external-secrets.io/v1" | "external-secrets.io/v1beta1"
        )
    {
        return false;
    }
    let Some(r) = doc.pointer("/spec/secretStoreRef") else {
        return false;
    };
    r.get("kind").and_then(Value::as_str) == Some("ClusterSecretStore")
        && r.get("name").and_then(Value::as_str) == Some(store)
}

/// A store reference in Helm values: a mapping with `secretStoreRef: {name: STORE}` and a
/// `remoteKey` beside it (the platform's charts render their ExternalSecret from such values, so
/// no edit of an ExternalSecret file reaches it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmRef {
    /// 1-based line of `remoteKey:`.
    pub line: usize,
    /// The dotted path of the mapping (`externalSecret`).
    pub path: String,
    pub key: String,
    /// `remoteProperty` or `property` beside it, if the values set one.
    pub property: Option<String>,
}

/// The Helm-values store references in a YAML file (documents that are not ExternalSecrets).
pub fn helm_refs(text: &str, store: &str) -> Vec<HelmRef> {
    // Document by document: one broken document does not hide the values beside it.
    let docs: Vec<Value> = yaml::parse_each(text)
        .into_iter()
        .filter_map(|d| d.value.ok())
        .collect();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    fn walk(v: &Value, path: &str, store: &str, found: &mut Vec<(String, String, Option<String>)>) {
        match v {
            Value::Object(m) => {
                let names_store = m
                    .get("secretStoreRef")
                    .and_then(|r| r.get("name"))
                    .and_then(Value::as_str)
                    == Some(store);
                if names_store && let Some(k) = m.get("remoteKey").and_then(Value::as_str) {
                    let property = ["remoteProperty", "property"]
                        .iter()
                        .find_map(|f| m.get(*f).and_then(Value::as_str))
                        .map(str::to_string);
                    found.push((path.to_string(), k.to_string(), property));
                }
                for (k, child) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, &p, store, found);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, &format!("{path}[{i}]"), store, found);
                }
            }
            _ => {}
        }
    }
    let mut from = 0usize;
    for doc in &docs {
        if doc.get("kind").and_then(Value::as_str) == Some("ExternalSecret") {
            continue;
        }
        let mut found = Vec::new();
        walk(doc, "", store, &mut found);
        for (path, key, property) in found {
            let at = (from..lines.len())
                .find(|&i| {
                    let l = lines[i].trim_start();
                    l.starts_with("remoteKey:") && l.contains(key.as_str())
                })
                .unwrap_or(from);
            from = at + 1;
            out.push(HelmRef {
                line: at + 1,
                path,
                key,
                property,
            });
        }
    }
    out
}

/// Applies `edits` (sorted, at most one per line) to `lines`.
fn apply(lines: &[String], edits: &[Edit]) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len() + edits.len());
    for (i, l) in lines.iter().enumerate() {
        let mut line = l.clone();
        for e in edits {
            if let Edit::Replace { line: li, text } = e
                && *li == i
            {
                line = text.clone();
            }
        }
        out.push(line);
        for e in edits {
            if let Edit::Insert { after, text } = e
                && *after == i
            {
                out.push(text.clone());
            }
        }
    }
    out
}

/// What [`read_text`] found: the file's store references and findings, and the documents that
/// do not parse (1-based first line, the parser's message).
#[derive(Debug, Default)]
pub struct Read {
    pub refs: Vec<Ref>,
    pub findings: Vec<Finding>,
    pub broken: Vec<(usize, String)>,
}

/// Reads a file's store references without editing it: as [`patch_text`] reads them when the
/// whole file parses, else document by document, so an ExternalSecret next to a broken document
/// is still seen (the broken ones are named). Line numbers are the file's.
pub fn read_text(text: &str, opts: &Options) -> Read {
    match patch_text(text, opts) {
        Ok(p) => Read {
            refs: p.refs,
            findings: p.findings,
            broken: Vec::new(),
        },
        Err(PatchError::Syntax { .. }) if !yaml::looks_like_json(text) => {
            let lines: Vec<&str> = text.split('\n').collect();
            let mut read = Read::default();
            for doc in yaml::parse_each(text) {
                match doc.value {
                    Ok(_) => {
                        let one = lines[doc.lines.clone()].join("\n");
                        if let Ok(p) = patch_text(&one, opts) {
                            let by = doc.lines.start;
                            read.refs.extend(p.refs.into_iter().map(|mut r| {
                                r.line += by;
                                r
                            }));
                            read.findings.extend(p.findings.into_iter().map(|mut f| {
                                f.line += by;
                                f
                            }));
                        }
                    }
                    Err(e) => read.broken.push((doc.lines.start + 1, e.message)),
                }
            }
            read
        }
        Err(_) => Read::default(),
    }
}

/// Patches one file's text. `Ok` with no edits means nothing to change.
pub fn patch_text(text: &str, opts: &Options) -> Result<Patched, PatchError> {
    // The whole stream must parse; this also gives the error's line.
    let all_docs = yaml::parse_documents(text).map_err(|e| PatchError::Syntax {
        line: first_number_after(&e.message, "line "),
        message: e.message,
    })?;
    if yaml::looks_like_json(text) {
        // JSON has no comments or layout to keep; sealstrap leaves JSON files to the user.
        return Ok(Patched::default());
    }
    let Lines {
        lines,
        eol,
        trailing_eol,
    } = Lines::split(text);

    let ranges = doc_ranges(&lines);

    let mut findings = Vec::new();
    let mut refs = Vec::new();
    let mut edits = Vec::new();
    let mut doc_index = 0usize;
    for range in ranges {
        let doc_text = lines[range.clone()].join("\n");
        let docs = yaml::parse_documents(&doc_text).map_err(|e| PatchError::Split {
            line: range.start + 1,
            reason: e.message,
        })?;
        let Some(doc) = docs.first() else {
            continue;
        };
        if all_docs.get(doc_index) != Some(doc) {
            return Err(PatchError::Unreliable {
                line: range.start + 1,
            });
        }
        doc_index += 1;
        if !uses_store(doc, &opts.store) {
            continue;
        }
        let id = external_secret_id(doc);
        let items: Vec<&Value> = doc
            .pointer("/spec/data")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let with_ref: Vec<&Value> = items
            .iter()
            .copied()
            .filter(|i| i.get("remoteRef").is_some_and(Value::is_object))
            .collect();
        let tokens = find_remote_refs(&lines, range.clone());
        if tokens.len() != with_ref.len() {
            return Err(PatchError::RefCount {
                line: range.start + 1,
                id: id.clone(),
                in_text: tokens.len(),
                in_data: with_ref.len(),
            });
        }
        let mut expected = doc.clone();
        let mut doc_edits = Vec::new();
        let mut data_pos = 0usize;
        for (item_index, item) in items.iter().enumerate() {
            let Some(rr) = item.get("remoteRef").filter(|v| v.is_object()) else {
                continue;
            };
            let tok = tokens[data_pos];
            data_pos += 1;
            let line_no = tok.line + 1;
            let key = rr.get("key").and_then(Value::as_str).map(str::to_string);
            let property = rr.get("property");
            if let Some(k) = &key {
                refs.push(Ref {
                    line: line_no,
                    external_secret: id.clone(),
                    key: k.clone(),
                    property: property.and_then(Value::as_str).map(str::to_string),
                });
            }
            match (property, &key) {
                (Some(p), _) => {
                    let p = p.as_str().unwrap_or("");
                    if p != opts.property {
                        findings.push(Finding {
                            line: line_no,
                            external_secret: id.clone(),
                            key: key.clone(),
                            kind: FindingKind::OtherProperty(p.to_string()),
                            message: format!(
                                "remoteRef {} names property {p:?}, not {:?}; left as it is (the source Secret must have that data key)",
                                key.as_deref().unwrap_or("?"),
                                opts.property
                            ),
                        });
                    }
                }
                (None, None) => findings.push(Finding {
                    line: line_no,
                    external_secret: id.clone(),
                    key: None,
                    kind: FindingKind::NoKey,
                    message: "remoteRef has no key; left as it is".into(),
                }),
                (None, Some(k)) => {
                    if opts.contract.entry(k).is_none() {
                        findings.push(Finding {
                            line: line_no,
                            external_secret: id.clone(),
                            key: Some(k.clone()),
                            kind: FindingKind::NotContractKey,
                            message: format!(
                                "remoteRef key {k:?} is not a key of the secret contract: nothing seals its source Secret until it is declared in sealstrap.yaml (extra: {{{k}: {{generate: hex32}}}}); property added all the same, as for every ref to the store"
                            ),
                        });
                    }
                    let edit =
                        edit_for(&lines, tok, range.end, &opts.property).map_err(|reason| {
                            PatchError::Layout {
                                line: line_no,
                                id: id.clone(),
                                reason,
                            }
                        })?;
                    doc_edits.push(edit);
                    expected["spec"]["data"][item_index]["remoteRef"]["property"] =
                        Value::String(opts.property.clone());
                    findings.push(Finding {
                        line: line_no,
                        external_secret: id.clone(),
                        key: Some(k.clone()),
                        kind: FindingKind::Added,
                        message: format!("remoteRef {k}: property: {}", opts.property),
                    });
                }
            }
        }
        if doc.get("apiVersion").and_then(Value::as_str) == Some("external-secrets.io/v1beta1") {
            findings.push(Finding {
                line: range.start + 1,
                external_secret: id.clone(),
                key: None,
                kind: FindingKind::OldApiVersion,
                message: "apiVersion external-secrets.io/v1beta1 is no longer served by ESO 2.x; change it to external-secrets.io/v1 (the fields are the same here)".into(),
            });
        }
        if let Some(df) = doc.pointer("/spec/dataFrom").and_then(Value::as_array) {
            let df_line = lines[range.clone()]
                .iter()
                .position(|l| l.trim_start().starts_with("dataFrom:"))
                .map(|i| range.start + i + 1)
                .unwrap_or(range.start + 1);
            for entry in df {
                let what = if entry.get("extract").is_some() {
                    format!(
                        "dataFrom.extract copies every data key of the source Secret, so the target Secret gets one key named {:?}; use data with remoteRef.property to choose its name",
                        opts.property
                    )
                } else if entry.get("find").is_some() {
                    "dataFrom.find matches source Secrets by name or tags in the source namespace and copies all their data keys".to_string()
                } else {
                    "dataFrom entry: under the Kubernetes provider it copies whole source Secrets"
                        .to_string()
                };
                findings.push(Finding {
                    line: df_line,
                    external_secret: id.clone(),
                    key: None,
                    kind: FindingKind::DataFrom,
                    message: format!("{what}; left as it is"),
                });
            }
        }
        if !doc_edits.is_empty() {
            // Verify: the patched document must be the original plus exactly these properties.
            doc_edits.sort_by_key(edit_line);
            let local: Vec<Edit> = doc_edits.clone();
            let patched_lines = apply(&lines, &local);
            let shift = local
                .iter()
                .filter(|e| matches!(e, Edit::Insert { .. }))
                .count();
            let patched_doc = patched_lines[range.start..range.end + shift].join("\n");
            let reparsed = yaml::parse_documents(&patched_doc).ok();
            if reparsed.as_ref().and_then(|d| d.first()) != Some(&expected) {
                return Err(PatchError::Unverified {
                    line: range.start + 1,
                    id: id.clone(),
                });
            }
            edits.extend(doc_edits);
        }
    }
    edits.sort_by_key(edit_line);
    let text = (!edits.is_empty()).then(|| Lines::join(&apply(&lines, &edits), eol, trailing_eol));
    Ok(Patched {
        refs,
        findings,
        edits,
        text,
    })
}

fn edit_line(e: &Edit) -> usize {
    match e {
        Edit::Insert { after, .. } => *after,
        Edit::Replace { line, .. } => *line,
    }
}

fn first_number_after(s: &str, marker: &str) -> Option<usize> {
    let i = s.find(marker)? + marker.len();
    let digits: String = s[i..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A unified diff of `old` against the result of `edits` (3 lines of context), as `git apply`
/// and `patch -p1` take it: `a/PATH` and `b/PATH`, every line with the file's own ending (CRLF
/// stays CRLF), and `\ No newline at end of file` where the file's last line has none.
pub fn unified_diff(path: &str, old: &str, edits: &[Edit]) -> String {
    let Lines {
        lines,
        eol,
        trailing_eol,
    } = Lines::split(old);
    if edits.is_empty() {
        return String::new();
    }
    const NO_EOL: &str = "\\ No newline at end of file\n";
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let ctx = 3usize;
    let mut groups: Vec<Vec<&Edit>> = Vec::new();
    for e in edits {
        match groups.last_mut() {
            Some(g) if edit_line(e) <= edit_line(g[g.len() - 1]) + 2 * ctx + 1 => g.push(e),
            _ => groups.push(vec![e]),
        }
    }
    let mut added_before = 0usize;
    for g in groups {
        let first = edit_line(g[0]);
        let last_edit = edit_line(g[g.len() - 1]);
        let from = first.saturating_sub(ctx);
        let to = (last_edit + ctx + 1).min(lines.len());
        // The hunk as (old line, new line) pairs; `None` on a side the line is not in.
        let mut rows: Vec<(Option<&str>, Option<&str>)> = Vec::new();
        for (i, line) in lines.iter().enumerate().take(to).skip(from) {
            let replaced = g.iter().find_map(|e| match e {
                Edit::Replace { line: li, text } if *li == i => Some(text.as_str()),
                _ => None,
            });
            match replaced {
                Some(t) => {
                    rows.push((Some(line), None));
                    rows.push((None, Some(t)));
                }
                None => rows.push((Some(line), Some(line))),
            }
            for e in &g {
                if let Edit::Insert { after, text } = e
                    && *after == i
                {
                    rows.push((None, Some(text)));
                }
            }
        }
        let old_n = rows.iter().filter(|r| r.0.is_some()).count();
        let new_n = rows.iter().filter(|r| r.1.is_some()).count();
        // Which row holds each side's last line of the file (it may lack a line ending).
        let touches_end = to == lines.len() && !trailing_eol;
        let old_last_row = touches_end
            .then(|| rows.iter().rposition(|r| r.0.is_some()))
            .flatten();
        let new_last_row = touches_end
            .then(|| rows.iter().rposition(|r| r.1.is_some()))
            .flatten();
        let mut body = String::new();
        let mut emit = |prefix: char, text: &str, end: bool| {
            body.push(prefix);
            body.push_str(text);
            if end {
                body.push('\n');
                body.push_str(NO_EOL);
            } else {
                body.push_str(eol);
            }
        };
        for (ri, (o, n)) in rows.iter().enumerate() {
            let old_end = old_last_row == Some(ri);
            let new_end = new_last_row == Some(ri);
            match (o, n) {
                (Some(o), Some(_)) if old_end == new_end => emit(' ', o, old_end),
                // The old last line gains a line ending: shown as changed.
                (Some(o), Some(n)) => {
                    emit('-', o, old_end);
                    emit('+', n, new_end);
                }
                (Some(o), None) => emit('-', o, old_end),
                (None, Some(n)) => emit('+', n, new_end),
                (None, None) => {}
            }
        }
        let inserted_here = g
            .iter()
            .filter(|e| matches!(e, Edit::Insert { .. }))
            .count();
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            from + 1,
            old_n,
            from + 1 + added_before,
            new_n
        ));
        out.push_str(&body);
        added_before += inserted_here;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(text: &str) -> Patched {
        patch_text(text, &Options::default()).unwrap()
    }

    const ES: &str = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: litellm-secrets\n  namespace: litellm\nspec:\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: secret-store\n  target:\n    name: litellm-secrets\n  data:\n";

    #[test]
    fn block_style_gets_a_line_after_key() {
        let text = format!(
            "{ES}    - secretKey: master\n      remoteRef:\n        key: litellm-master-key # the master key\n        conversionStrategy: Default\n"
        );
        let p = patch(&text);
        assert_eq!(
            p.text.unwrap(),
            format!(
                "{ES}    - secretKey: master\n      remoteRef:\n        key: litellm-master-key # the master key\n        property: value\n        conversionStrategy: Default\n"
            )
        );
    }

    #[test]
    fn flow_style_gets_property_inside_the_braces() {
        let text = format!(
            "{ES}  - secretKey: salt\n    remoteRef: {{ key: litellm-salt-key }}   # salt\n"
        );
        let p = patch(&text);
        assert_eq!(
            p.text.unwrap(),
            format!(
                "{ES}  - secretKey: salt\n    remoteRef: {{ key: litellm-salt-key, property: value }}   # salt\n"
            )
        );
    }

    #[test]
    fn second_run_changes_nothing() {
        let text = format!("{ES}  - secretKey: vllm\n    remoteRef:\n      key: vllm-api-key\n");
        let once = patch(&text).text.unwrap();
        let twice = patch(&once);
        assert!(twice.text.is_none());
        assert!(twice.findings.is_empty());
    }

    #[test]
    fn crlf_is_kept() {
        let text = format!("{ES}  - secretKey: vllm\n    remoteRef:\n      key: vllm-api-key\n")
            .replace('\n', "\r\n");
        let out = patch(&text).text.unwrap();
        assert!(out.contains("      key: vllm-api-key\r\n      property: value\r\n"));
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn other_store_and_other_property_are_left_alone_and_an_unknown_key_is_patched() {
        let other = ES.replace("name: secret-store", "name: vault");
        let text = format!("{other}  - secretKey: a\n    remoteRef:\n      key: vllm-api-key\n");
        assert!(patch(&text).text.is_none());
        let text = format!(
            "{ES}  - secretKey: a\n    remoteRef:\n      key: vllm-api-key\n      property: token\n  - secretKey: b\n    remoteRef:\n      key: my-own-thing\n"
        );
        let p = patch(&text);
        // The store-wide convention: the unknown key gets the property too, and is reported.
        let out = p.text.unwrap();
        assert!(out.contains("      property: token\n"));
        assert!(out.ends_with("      key: my-own-thing\n      property: value\n"));
        assert_eq!(
            p.findings[0].kind,
            FindingKind::OtherProperty("token".into())
        );
        assert_eq!(p.findings[1].kind, FindingKind::NotContractKey);
        assert_eq!(p.findings[1].line, 18);
        assert!(!p.findings[1].is_missing_property());
    }

    #[test]
    fn comments_and_strings_mentioning_remote_ref_are_not_keys() {
        let text = format!(
            "{ES}  # remoteRef: {{key: nope}}\n  - secretKey: a # remoteRef: x\n    remoteRef:\n      key: vllm-api-key\n"
        )
        .replace("  target:\n", "  target:\n    template:\n      metadata:\n        annotations:\n          note: \"remoteRef: quoted\"\n");
        let p = patch(&text);
        assert!(
            p.text
                .unwrap()
                .contains("      key: vllm-api-key\n      property: value\n")
        );
    }

    #[test]
    fn diff_shows_only_added_lines() {
        let text = format!("{ES}  - secretKey: vllm\n    remoteRef:\n      key: vllm-api-key\n");
        let p = patch(&text);
        let d = unified_diff("f.yaml", &text, &p.edits);
        assert!(
            d.starts_with("--- a/f.yaml\n+++ b/f.yaml\n@@ -12,4 +12,5 @@\n"),
            "{d}"
        );
        assert_eq!(
            d.lines()
                .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                .count(),
            1
        );
        assert!(d.contains("+      property: value\n"));
    }

    #[test]
    fn broken_yaml_is_an_error_with_a_line() {
        let e = patch_text("a: [1\nb: 2\n", &Options::default()).unwrap_err();
        assert!(e.line().is_some(), "{e:?}");
    }

    #[test]
    fn helm_values_that_name_the_store_are_found_with_their_line() {
        let text = "replicaCount: 1\nexternalSecret:\n  enabled: true\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: secret-store\n  remoteKey: litellm-master-key\nother:\n  secretStoreRef: {name: another-store}\n  remoteKey: x\n";
        let refs = helm_refs(text, "secret-store");
        assert_eq!(
            refs,
            vec![HelmRef {
                line: 7,
                path: "externalSecret".into(),
                key: "litellm-master-key".into(),
                property: None,
            }]
        );
        assert!(helm_refs("a: [", "secret-store").is_empty());
    }

    #[test]
    fn refs_outside_the_contract_are_patched_and_reported() {
        let text = format!("{ES}  - secretKey: token\n    remoteRef:\n      key: example-token\n");
        let p = patch(&text);
        assert!(p.text.unwrap().contains("      property: value\n"));
        assert!(
            p.findings
                .iter()
                .any(|f| f.kind == FindingKind::NotContractKey)
        );
        assert_eq!(p.refs.len(), 1);
        assert_eq!(
            (p.refs[0].line, p.refs[0].key.as_str()),
            (14, "example-token")
        );
    }
}
