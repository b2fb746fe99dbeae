//! Reading and writing Kubernetes manifests as untyped values, in one place.
//!
//! Input is a multi-document YAML stream or a stream of concatenated JSON objects (kubectl and
//! kubeseal accept both). YAML is read with serde-saphyr's strict options so that `yes`, `on`,
//! `0123` or `1_000` stay strings, as Kubernetes' own YAML 1.1 reader would not turn them into
//! anything a Secret could hold. Parse errors carry the line and column but never a snippet of
//! the input: the input may be a Secret, and its values must not reach a terminal or a log.
//!
//! Output: JSON with two-space indentation in the order the value holds (kubeseal's field
//! order), YAML with keys sorted at every level and `---` before every document (what
//! `kubeseal -o yaml` prints), long strings on one line.

use serde_json::{Map, Value};

/// A manifest stream that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    /// What is wrong, with line and column where known; never a copy of the input.
    pub message: String,
}

fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
    }
}

/// Whether `text` is a JSON stream rather than YAML (first significant character `{` or `[`).
pub fn looks_like_json(text: &str) -> bool {
    matches!(
        text.trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next(),
        Some('{' | '[')
    )
}

/// Parses every document of a YAML stream or JSON stream. Empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    let docs: Vec<Value> = if looks_like_json(text) {
        let mut out = Vec::new();
        for doc in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            out.push(doc.map_err(|e| ParseError {
                message: format!(
                    "invalid JSON at line {} column {}: {}",
                    e.line(),
                    e.column(),
                    json_error_kind(&e)
                ),
            })?);
        }
        out
    } else {
        serde_saphyr::from_multiple_with_options(text, yaml_options()).map_err(|e| ParseError {
            message: format!("invalid YAML: {}", yaml_error_text(&e)),
        })?
    };
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// One document of a stream, parsed on its own: its line range (0-based, markers excluded) and
/// the value, or why it does not parse.
#[derive(Debug)]
pub struct Document {
    pub lines: std::ops::Range<usize>,
    pub value: Result<Value, ParseError>,
}

/// Every document of a YAML stream parsed on its own, so one broken document neither hides the
/// others nor moves their line numbers (the range is parsed at its place in the file, errors
/// name the file's lines). Documents with no content are dropped. A JSON stream is one range: the
/// stream as [`parse_documents`] reads it, or its error.
pub fn parse_each(text: &str) -> Vec<Document> {
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split('\n').collect();
    if looks_like_json(text) {
        // Object by object: the ones before a broken one are read (a plaintext Secret before it
        // is still named), the stream stops at the error. Each carries the lines it spans.
        let mut out = Vec::new();
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count();
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(d)) => {
                    let end = stream.byte_offset();
                    // The object begins after the whitespace before it.
                    let skipped = text[before..end].len() - text[before..end].trim_start().len();
                    let start = line_of(before + skipped);
                    if !d.is_null() {
                        out.push(Document {
                            lines: start..line_of(end) + 1,
                            value: Ok(d),
                        });
                    }
                }
                Some(Err(e)) => {
                    let rest = &text[before.min(text.len())..];
                    let start = line_of(before + rest.len() - rest.trim_start().len());
                    out.push(Document {
                        lines: start.min(lines.len())..lines.len(),
                        value: Err(ParseError {
                            message: format!(
                                "invalid JSON at line {} column {}: {}",
                                e.line(),
                                e.column(),
                                json_error_kind(&e)
                            ),
                        }),
                    });
                    break;
                }
            }
        }
        return out;
    }
    let mut out = Vec::new();
    for range in crate::yaml_text::content_ranges(&lines) {
        let doc = lines[range.clone()].join("\n");
        match parse_documents(&doc).map_err(|e| ParseError {
            message: shift_lines(&e.message, range.start),
        }) {
            Ok(docs) => {
                for d in docs {
                    out.push(Document {
                        lines: range.clone(),
                        value: Ok(d),
                    });
                }
            }
            Err(e) => out.push(Document {
                lines: range.clone(),
                value: Err(e),
            }),
        }
    }
    out
}

/// `message` with every "line N" moved down by `by` lines (a document parsed apart from the
/// lines before it).
fn shift_lines(message: &str, by: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// serde_json's message without any echo of the input.
fn json_error_kind(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "unexpected end of input".into(),
        Category::Syntax => {
            // serde_json's syntax messages are fixed phrases ("expected `,` or `}`"), followed
            // by " at line L column C", which we print ourselves.
            let s = e.to_string();
            s.split(" at line ")
                .next()
                .unwrap_or("syntax error")
                .to_string()
        }
        Category::Data | Category::Io => "unexpected data".into(),
    }
}

/// serde-saphyr's message with snippets off: "line L column C: what".
fn yaml_error_text(e: &serde_saphyr::Error) -> String {
    let s = e.to_string();
    // serde-saphyr's alias budget ("billion laughs") prints its limit as Rust debug output.
    if let Some(pos) = s.find("budget breached") {
        let at = s[pos..]
            .find(" at line ")
            .map(|i| s[pos + i..].split(" (").next().unwrap_or("").to_string())
            .unwrap_or_default();
        return format!(
            "the document expands through aliases (&anchor/*alias) past sealstrap's limit{at}; a Kubernetes manifest never needs that many"
        );
    }
    let s = s.strip_prefix("error: ").unwrap_or(&s);
    // Keep only the first line: with snippets disabled that is the whole message.
    s.lines().next().unwrap_or("syntax error").to_string()
}

/// Returns `value` with the keys of every object sorted.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// One YAML document, keys sorted, starting with `---`.
pub fn to_yaml_document(value: &Value) -> String {
    let opts = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let body = serde_saphyr::to_string_with_options(&sorted(value), opts)
        .expect("a serde_json::Value always serializes");
    let mut out = String::with_capacity(body.len() + 4);
    out.push_str("---\n");
    out.push_str(&body);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// One JSON document, two-space indentation, in the value's own key order, ending in a newline.
pub fn to_json_document(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("a serde_json::Value always serializes");
    s.push('\n');
    s
}

/// Output format of manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// Parses `json` / `yaml` (case-insensitive, as kubeseal).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    /// The format a file name implies: YAML for `.yaml`/`.yml`, JSON for `.json`.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// Renders documents in this format.
    pub fn render(self, docs: &[Value]) -> String {
        docs.iter()
            .map(|d| match self {
                Format::Json => to_json_document(d),
                Format::Yaml => to_yaml_document(d),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_broken_document_does_not_hide_the_others() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n---\n# only a comment\n---\nkind: Secret\n";
        let docs = super::parse_each(text);
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[0].value.as_ref().unwrap()["a"], 1);
        let err = docs[1].value.as_ref().unwrap_err();
        assert!(err.message.contains("line 4"), "the file's line: {err}");
        assert_eq!(docs[1].lines, 2..4);
        assert_eq!(docs[2].value.as_ref().unwrap()["kind"], "Secret");
        assert_eq!(docs[2].lines.start, 7);
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_keeps_yes_on_and_leading_zeros_as_strings() {
        let docs = parse_documents("a: yes\nb: on\nc: 0123\nd: 1_000\ne: true\n").unwrap();
        assert_eq!(
            docs[0],
            json!({"a": "yes", "b": "on", "c": "0123", "d": "1_000", "e": true})
        );
    }

    #[test]
    fn multi_document_yaml_and_json_streams() {
        let docs = parse_documents("---\na: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
        let docs = parse_documents("{\"a\": 1}\n{\"b\": 2}").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn yaml_errors_name_the_line_and_do_not_echo_values() {
        let err =
            parse_documents("stringData:\n  password: hunter2-secret\n  bad: [1, 2\nnext: x\n")
                .unwrap_err();
        assert!(err.message.contains("line"), "{}", err.message);
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }

    #[test]
    fn json_errors_name_the_line_and_do_not_echo_values() {
        let err =
            parse_documents("{\"stringData\": {\"password\": \"hunter2\" \"x\": 1}}").unwrap_err();
        assert!(err.message.contains("line 1 column"), "{}", err.message);
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }

    #[test]
    fn yaml_output_is_sorted_and_quotes_ambiguous_strings() {
        let out = to_yaml_document(&json!({"b": "true", "a": {"z": "0123", "y": "on"}}));
        assert_eq!(
            out,
            "---\na:\n  \"y\": \"on\"\n  z: \"0123\"\nb: \"true\"\n"
        );
        let back = parse_documents(&out).unwrap();
        assert_eq!(back[0], json!({"a": {"y": "on", "z": "0123"}, "b": "true"}));
    }

    #[test]
    fn long_strings_stay_on_one_line() {
        let long = "A".repeat(2000);
        let out = to_yaml_document(&json!({ "v": long }));
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn a_json_stream_reads_the_objects_before_a_broken_one() {
        let text = "{\"kind\": \"Secret\"}\n\n{\"kind\": \"ConfigMap\"}\n{\"kind\": \n";
        let docs = parse_each(text);
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[0].value.as_ref().unwrap()["kind"], "Secret");
        assert_eq!(docs[0].lines.start, 0);
        assert_eq!(docs[1].lines.start, 2);
        assert!(docs[2].value.is_err());
        assert_eq!(docs[2].lines.start, 3);
    }
}
