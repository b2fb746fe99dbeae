//! Writing a manifest the way the files around it are written: the platform's maintainers review
//! every diff, and their own tooling reads these files (the fork script takes the first
//! `targetRevision` that is not a number for the branch, so a quoted chart version breaks it).
//! [`learn`] reads the neighbours' text for indentation, whether sequences are indented under
//! their key, `---` at the top, the quote character, which keys are written in flow style
//! (`automated: {prune: true, selfHeal: true}`) and the key order at each path; [`render`]
//! writes a value with that style and minimal quoting: a string is quoted only when a YAML
//! reader would take it for something else (a number, a boolean, null, a date) or its
//! characters need it (YAML 1.2 §7.3.3 plain scalars, and the YAML 1.1 types Kubernetes' reader
//! still knows). Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::yaml;

/// How a folder writes its YAML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// Spaces per nesting level.
    pub indent: usize,
    /// `key:\n  - item` (true) or `key:\n- item`.
    pub indent_sequences: bool,
    /// Documents start with `---`.
    pub doc_start: bool,
    /// The quote character for strings that need one.
    pub quote: char,
    /// Dotted key paths (`spec.syncPolicy.automated`) written in flow style.
    pub flow: BTreeSet<String>,
    /// Dotted path -> its keys in the order the neighbours write them.
    pub order: BTreeMap<String, Vec<String>>,
}

impl Default for Style {
    /// kubectl's and Helm's defaults: two spaces, sequences not indented, no `---`, double quotes.
    fn default() -> Self {
        Style {
            indent: 2,
            indent_sequences: false,
            doc_start: false,
            quote: '"',
            flow: BTreeSet::new(),
            order: BTreeMap::new(),
        }
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The key a line starts (after any `- `), with what follows its colon.
fn key_of(rest: &str) -> Option<(&str, &str)> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'"' | b'\'')) {
        let q = bytes[0];
        i = 1 + rest[1..].find(q as char)? + 1;
    } else {
        while i < bytes.len() && bytes[i] != b':' && bytes[i] != b' ' {
            i += 1;
        }
    }
    let after = rest.get(i..)?;
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with(' ')) {
        return None;
    }
    Some((
        rest[..i].trim_matches(|c| c == '"' || c == '\''),
        value.trim(),
    ))
}

/// Learns the style of `texts` (the files beside the one being written). Votes decide the
/// layout; flow keys and key orders are the union of what the neighbours do.
pub fn learn(texts: &[&str]) -> Style {
    let mut s = Style::default();
    let (mut seq_in, mut seq_out, mut docs_with, mut docs_without) = (0, 0, 0, 0);
    let (mut dq, mut sq) = (0, 0);
    let mut indents = BTreeMap::<usize, usize>::new();
    for text in texts {
        let lines: Vec<&str> = text.lines().collect();
        match lines.iter().find(|l| content(l)) {
            Some(l) if l.trim_end() == "---" => docs_with += 1,
            Some(_) => docs_without += 1,
            None => {}
        }
        // Key paths, from indentation (`- ` items add a level of their own).
        let mut stack: Vec<(usize, String)> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if !content(line) || line.trim_start().starts_with("---") {
                continue;
            }
            let ind = indent_of(line);
            if ind > 0 {
                *indents.entry(ind).or_default() += 1;
            }
            while stack.last().is_some_and(|(d, _)| *d >= ind) {
                stack.pop();
            }
            let mut rest = line.trim_start();
            let mut at = ind;
            if let Some(r) = rest.strip_prefix("- ") {
                stack.push((ind, "[]".into()));
                rest = r.trim_start();
                at = ind + 2;
            }
            let Some((key, value)) = key_of(rest) else {
                continue;
            };
            let path: Vec<&str> = stack
                .iter()
                .map(|(_, k)| k.as_str())
                .filter(|k| *k != "[]")
                .chain(std::iter::once(key))
                .collect();
            let dotted = path.join(".");
            if value.starts_with('{') || value.starts_with('[') {
                s.flow.insert(dotted);
            }
            dq += value.matches('"').count() / 2;
            sq += value.matches('\'').count() / 2;
            if value.is_empty() || value.starts_with('#') {
                // A block value: does its sequence sit deeper than its key?
                if let Some(next) = lines[i + 1..].iter().find(|l| content(l))
                    && next.trim_start().starts_with("- ")
                {
                    if indent_of(next) > at {
                        seq_in += 1;
                    } else {
                        seq_out += 1;
                    }
                }
                stack.push((at, key.to_string()));
            }
        }
        // Key order, from the parsed values (serde_json keeps document order).
        for d in yaml::parse_each(text)
            .into_iter()
            .filter_map(|d| d.value.ok())
        {
            record_order(&d, "", &mut s.order);
        }
    }
    s.indent_sequences = seq_in > seq_out;
    s.doc_start = docs_with > docs_without;
    s.quote = if sq > dq { '\'' } else { '"' };
    if let Some((&smallest, _)) = indents.iter().next() {
        // Indented sequences put items two in; the smallest mapping step is the unit.
        s.indent = if smallest == 4 || smallest == 2 {
            smallest
        } else {
            2
        };
    }
    s
}

fn record_order(v: &Value, path: &str, order: &mut BTreeMap<String, Vec<String>>) {
    match v {
        Value::Object(m) => {
            let known = order.entry(path.to_string()).or_default();
            for k in m.keys() {
                if !known.contains(k) {
                    known.push(k.clone());
                }
            }
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                record_order(child, &p, order);
            }
        }
        Value::Array(a) => {
            for child in a {
                record_order(child, path, order);
            }
        }
        _ => {}
    }
}

/// Whether a string can be written without quotes and read back as the same string, by this
/// crate's reader and by a YAML 1.1 reader (Kubernetes', Helm's).
pub fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s != s.trim() || s.chars().any(|c| c.is_control()) {
        return false;
    }
    let first = s.chars().next().expect("not empty");
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x` is plain unless it reads as a number; the other indicators never are.
        if !(first == '-' && s.len() > 1 && !s[1..].starts_with(' ')) {
            return false;
        }
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if yaml11_typed(s) {
        return false;
    }
    // What a permissive YAML 1.2 reader makes of it must be this very string.
    matches!(
        serde_saphyr::from_str::<Value>(&format!("k: {s}\n")),
        Ok(Value::Object(m)) if m.get("k") == Some(&Value::String(s.to_string()))
    )
}

/// The YAML 1.1 types a 1.2 reader no longer sees: yes/no/on/off booleans, numbers with `_`,
/// `0b`/`0o`/`0x`, sexagesimal `1:30`, and timestamps.
fn yaml11_typed(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    ) {
        return true;
    }
    let t = s.trim_start_matches(['+', '-']);
    let digits_us = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let hex = t.len() > 2
        && (t.starts_with("0x") || t.starts_with("0b") || t.starts_with("0o"))
        && t[2..].bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
    let sexagesimal = t.contains(':') && t.split(':').all(digits_us);
    let date = s.len() >= 10
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[7] == b'-'
        && s[..4].bytes().all(|b| b.is_ascii_digit());
    let number = {
        let m = t.replace('_', "");
        !m.is_empty()
            && m.parse::<f64>().is_ok()
            && !m.eq_ignore_ascii_case("inf")
            && !m.eq_ignore_ascii_case("nan")
            && !m.eq_ignore_ascii_case("infinity")
            || m.eq_ignore_ascii_case(".inf")
            || m.eq_ignore_ascii_case(".nan")
    };
    hex || sexagesimal || date || number
}

fn quoted(s: &str, q: char) -> String {
    if q == '\'' && !s.chars().any(|c| c.is_control()) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    serde_json::to_string(s).expect("a string serializes")
}

fn scalar(v: &Value, style: &Style) -> String {
    match v {
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) => quoted(s, style.quote),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// The keys of a map in the style's order for `path`, then the rest in the value's own order.
fn ordered<'a>(m: &'a serde_json::Map<String, Value>, path: &str, style: &Style) -> Vec<&'a str> {
    let mut keys: Vec<&'a str> = Vec::new();
    if let Some(known) = style.order.get(path) {
        for k in known {
            if let Some((key, _)) = m.get_key_value(k) {
                keys.push(key.as_str());
            }
        }
    }
    let rest: Vec<&'a str> = m
        .keys()
        .map(String::as_str)
        .filter(|k| !keys.contains(k))
        .collect();
    keys.extend(rest);
    keys
}

/// One line of flow style (`{a: b, c: [d]}`), when everything in it is a scalar or flow.
fn flow(v: &Value, style: &Style) -> String {
    match v {
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    scalar(&Value::String(k.clone()), style),
                    flow(v, style)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|v| flow(v, style))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::String(s) if s.contains([',', '[', ']', '{', '}']) => quoted(s, style.quote),
        other => scalar(other, style),
    }
}

fn emit_map(
    m: &serde_json::Map<String, Value>,
    path: &str,
    indent: usize,
    style: &Style,
    first_prefix: Option<&str>,
    out: &mut String,
) {
    for (i, k) in ordered(m, path, style).into_iter().enumerate() {
        let v = &m[k];
        let lead = match (i, first_prefix) {
            (0, Some(p)) => p.to_string(),
            _ => " ".repeat(indent),
        };
        let key = scalar(&Value::String(k.to_string()), style);
        let p = if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        };
        match v {
            Value::Object(c) if c.is_empty() => out.push_str(&format!("{lead}{key}: {{}}\n")),
            Value::Array(c) if c.is_empty() => out.push_str(&format!("{lead}{key}: []\n")),
            Value::Object(_) | Value::Array(_)
                if style.flow.contains(&p) && flow(v, style).len() + indent + key.len() < 100 =>
            {
                out.push_str(&format!("{lead}{key}: {}\n", flow(v, style)));
            }
            Value::Object(c) => {
                out.push_str(&format!("{lead}{key}:\n"));
                emit_map(c, &p, indent + style.indent, style, None, out);
            }
            Value::Array(a) => {
                out.push_str(&format!("{lead}{key}:\n"));
                let at = if style.indent_sequences {
                    indent + style.indent
                } else {
                    indent
                };
                emit_seq(a, &p, at, style, out);
            }
            other => out.push_str(&format!("{lead}{key}: {}\n", scalar(other, style))),
        }
    }
}

fn emit_seq(a: &[Value], path: &str, indent: usize, style: &Style, out: &mut String) {
    let dash = format!("{}- ", " ".repeat(indent));
    for v in a {
        match v {
            Value::Object(m) if !m.is_empty() => {
                emit_map(m, path, indent + 2, style, Some(&dash), out);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str(&format!("{dash}{}\n", flow(v, style)));
                let _ = inner;
            }
            other => out.push_str(&format!("{dash}{}\n", flow(other, style))),
        }
    }
}

/// Writes `value` (a mapping) in `style`, after `comment` lines (`# ` added), ending in a
/// newline. The result is read back and must be the same value.
pub fn render(value: &Value, style: &Style, comment: &str) -> String {
    let mut out = String::new();
    for l in comment.lines() {
        out.push_str(&format!("# {l}\n").replace("# \n", "#\n"));
    }
    if style.doc_start {
        out.push_str("---\n");
    }
    match value {
        Value::Object(m) => emit_map(m, "", 0, style, None, &mut out),
        other => out.push_str(&format!("{}\n", flow(other, style))),
    }
    debug_assert_eq!(
        yaml::parse_documents(&out)
            .ok()
            .and_then(|d| d.into_iter().next())
            .as_ref(),
        Some(value),
        "{out}"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NEIGHBOUR: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: external-secrets\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\nspec:\n  project: platform\n  source:\n    repoURL: https://charts.external-secrets.io\n    chart: external-secrets\n    targetRevision: 2.6.0\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: external-secrets\n  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n    syncOptions: [CreateNamespace=true, ServerSideApply=true]\n";

    #[test]
    fn an_application_is_written_like_its_neighbour() {
        let style = learn(&[NEIGHBOUR]);
        assert!(!style.doc_start && style.indent == 2);
        assert!(style.flow.contains("spec.syncPolicy.automated"));
        let app = json!({
            "kind": "Application",
            "apiVersion": "argoproj.io/v1alpha1",
            "metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "1"}, "namespace": "argocd", "name": "sealed-secrets"},
            "spec": {
                "source": {"targetRevision": "2.18.5", "chart": "sealed-secrets", "repoURL": "https://bitnami-labs.github.io/sealed-secrets",
                    "helm": {"valuesObject": {"fullnameOverride": "sealed-secrets-controller", "keyrenewperiod": "0"}}},
                "project": "platform",
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "kube-system"},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["ServerSideApply=true"]}
            }
        });
        let out = render(&app, &style, "The sealed-secrets controller.");
        assert_eq!(
            out,
            "# The sealed-secrets controller.\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: sealed-secrets\n  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\nspec:\n  project: platform\n  source:\n    repoURL: https://bitnami-labs.github.io/sealed-secrets\n    chart: sealed-secrets\n    targetRevision: 2.18.5\n    helm:\n      valuesObject:\n        fullnameOverride: sealed-secrets-controller\n        keyrenewperiod: \"0\"\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: kube-system\n  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n    syncOptions: [ServerSideApply=true]\n"
        );
    }

    #[test]
    fn sequences_and_documents_follow_the_neighbours() {
        let indented = "---\nspec:\n  sourceRepos:\n    - a\n    - b\n";
        let style = learn(&[indented]);
        assert!(style.indent_sequences && style.doc_start);
        let out = render(
            &json!({"spec": {"list": ["x", {"k": "v", "w": 1}]}}),
            &style,
            "",
        );
        assert_eq!(
            out,
            "---\nspec:\n  list:\n    - x\n    - k: v\n      w: 1\n"
        );
        let flat = learn(&["spec:\n  sourceRepos:\n  - a\n"]);
        assert!(!flat.indent_sequences);
    }

    #[test]
    fn strings_are_quoted_only_when_a_reader_would_misread_them() {
        for plain in [
            "2.18.5",
            "main",
            "https://x.example/a",
            "ServerSideApply=true",
            "a-b",
            "1.2.3-rc1",
            "v1",
        ] {
            assert!(plain_ok(plain), "{plain}");
        }
        for typed in [
            "0",
            "1",
            "1.5",
            "true",
            "No",
            "on",
            "null",
            "~",
            "0x1F",
            "1e3",
            "1_000",
            "2024-01-02",
            "12:30",
            "",
            " a",
            "a: b",
            "- x",
            "#c",
            "*a",
            "{x}",
            ".5",
            "-1",
        ] {
            assert!(!plain_ok(typed), "{typed}");
        }
        // Every case reads back as the same string.
        for s in ["2.18.5", "0", "yes", "a: b", "it's", "line\nbreak"] {
            let v = json!({"k": s});
            let out = render(&v, &Style::default(), "");
            assert_eq!(yaml::parse_documents(&out).unwrap()[0], v, "{out}");
        }
    }
}
