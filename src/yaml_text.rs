//! The YAML text layer: a manifest file as lines, its document boundaries, and which lines are
//! content. `patch` edits the user's text in place
//! and `scan` places its findings on lines, so both work on text, not on parsed values; this
//! module is the one place that decides what a line, a document and a content line are.
//!
//! Document boundaries are the YAML 1.2 markers on a line of their own (spec §9.1.2: `---`
//! directives-end, `...` document-end, each optionally followed by white space or a comment).
//! JSON streams have no markers: the whole file is one range.

use std::ops::Range;

/// A file's lines without their endings, its line ending, and whether it ends with one. `join`
/// gives back the same bytes for any text `split` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    pub lines: Vec<String>,
    /// `"\r\n"` when the file uses it anywhere, else `"\n"`.
    pub eol: &'static str,
    pub trailing_eol: bool,
}

impl Lines {
    pub fn split(text: &str) -> Lines {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let trailing_eol = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
                .collect()
        };
        Lines {
            lines,
            eol,
            trailing_eol,
        }
    }

    pub fn join(lines: &[String], eol: &str, trailing: bool) -> String {
        let mut s = lines.join(eol);
        if trailing {
            s.push_str(eol);
        }
        s
    }
}

/// Whether the rest of a marker line is empty, white space or a comment.
fn marker_rest_ok(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with([' ', '\t'])
}

/// Whether a line starts a new document (`---`, alone or followed by white space).
fn is_doc_start(line: &str) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.strip_prefix("---").is_some_and(marker_rest_ok)
}

/// Whether a line ends a document (`...`, alone or followed by white space).
fn is_doc_end(line: &str) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.strip_prefix("...").is_some_and(marker_rest_ok)
}

/// Whether a line holds anything but white space or a comment.
pub fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The line ranges between document markers, in order, the markers themselves excluded. Ranges
/// holding no content (an empty document, a comment block) are kept, so the caller can pair
/// ranges with the documents a parser returns only after dropping them ([`content_ranges`]).
pub fn doc_ranges<S: AsRef<str>>(lines: &[S]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        let l = l.as_ref();
        if is_doc_start(l) || is_doc_end(l) {
            ranges.push(start..i);
            start = i + 1;
        }
    }
    ranges.push(start..lines.len());
    ranges
}

/// The document ranges that hold content: one per document a YAML parser returns.
pub fn content_ranges<S: AsRef<str>>(lines: &[S]) -> Vec<Range<usize>> {
    doc_ranges(lines)
        .into_iter()
        .filter(|r| lines[r.clone()].iter().any(|l| is_content(l.as_ref())))
        .collect()
}

/// The 1-based number of the first line in `range` whose text (indentation skipped) starts with
/// `prefix`.
pub fn line_starting<S: AsRef<str>>(
    lines: &[S],
    range: &Range<usize>,
    prefix: &str,
) -> Option<usize> {
    (range.start..range.end.min(lines.len()))
        .find(|&i| lines[i].as_ref().trim_start().starts_with(prefix))
        .map(|i| i + 1)
}

/// Replaces the scalar value of the block-mapping key at `path` (keys from the top of the first
/// document) with `rendered`, keeping the line's indentation and trailing comment and every
/// other byte of the file. `None` when the key is not on a line of its own (flow style, a
/// sequence on the way, a multi-line value): the caller renders the file instead.
pub fn set_scalar(text: &str, path: &[&str], rendered: &str) -> Option<String> {
    let Lines {
        mut lines,
        eol,
        trailing_eol,
    } = Lines::split(text);
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        if is_doc_start(line) && i > 0 && lines[..i].iter().any(|l| is_content(l)) {
            break; // only the first document
        }
        if !is_content(line) || is_doc_start(line) {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = line.trim_start();
        if rest.starts_with("- ") || rest == "-" {
            // A sequence item: paths here go through a list, which this edit does not address.
            while stack.last().is_some_and(|(d, _)| *d >= indent) {
                stack.pop();
            }
            stack.push((indent, "[]".into()));
            continue;
        }
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        let Some(colon) = rest
            .find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
        else {
            continue;
        };
        let key = rest[..colon].trim_matches(|c| c == '"' || c == '\'');
        let keys: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        if keys.len() + 1 == path.len()
            && keys.iter().zip(path).all(|(a, b)| a == b)
            && key == path[path.len() - 1]
        {
            found = Some((i, indent, colon));
            break;
        }
        let value = rest[colon + 1..].trim();
        if value.is_empty() || value.starts_with('#') {
            stack.push((indent, key.to_string()));
        }
    }
    let (i, indent, colon) = found?;
    let rest = lines[i][indent..].to_string();
    let value_part = rest[colon + 1..].trim_start();
    if value_part.starts_with(['{', '[', '|', '>', '&', '*', '!']) || value_part.is_empty() {
        return None;
    }
    // A comment after the value: ` #` outside quotes (values sealstrap edits are plain or simply
    // quoted).
    let comment = value_part
        .char_indices()
        .find(|(j, c)| {
            *c == '#' && value_part[..*j].ends_with(' ') && !value_part[..*j].contains(['"', '\''])
        })
        .map(|(j, _)| value_part[j..].to_string());
    let spacing = match &comment {
        Some(c) => {
            let before = &value_part[..value_part.len() - c.len()];
            format!("{}{c}", &before[before.trim_end().len()..])
        }
        None => String::new(),
    };
    lines[i] = format!(
        "{}{}: {rendered}{spacing}",
        &lines[i][..indent],
        &rest[..colon]
    );
    Some(Lines::join(&lines, eol, trailing_eol))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scalar_is_set_in_place_keeping_comments_and_layout() {
        let text = "# app\nspec:\n  source:\n    repoURL: https://a   # upstream\n    targetRevision: 2.18.5\n  list:\n    - repoURL: x\n---\nspec: {}\n";
        let out =
            super::set_scalar(text, &["spec", "source", "repoURL"], "oci://mirror/charts").unwrap();
        assert_eq!(
            out,
            text.replace(
                "repoURL: https://a   # upstream",
                "repoURL: oci://mirror/charts   # upstream"
            )
        );
        assert!(super::set_scalar(text, &["spec", "missing"], "x").is_none());
        assert!(
            super::set_scalar("spec: {source: {a: 1}}\n", &["spec", "source", "a"], "2").is_none()
        );
        assert_eq!(
            super::set_scalar("a:\n  b: \"1\"\n", &["a", "b"], "\"2\"").unwrap(),
            "a:\n  b: \"2\"\n"
        );
    }

    use super::*;

    #[test]
    fn split_and_join_give_back_the_same_bytes() {
        for text in ["", "a", "a\n", "a\r\nb\r\n", "a\n\nb", "\n", "x\r\ny"] {
            let l = Lines::split(text);
            assert_eq!(
                Lines::join(&l.lines, l.eol, l.trailing_eol),
                text,
                "{text:?}"
            );
        }
    }

    #[test]
    fn markers_are_whole_lines() {
        for yes in ["---", "--- ", "---\t# c", "---\r", "--- !tag"] {
            assert!(is_doc_start(yes), "{yes:?}");
        }
        for no in ["----", " ---", "---x", "-- -", ""] {
            assert!(!is_doc_start(no), "{no:?}");
        }
        assert!(is_doc_end("...") && is_doc_end("... # end") && !is_doc_end("...."));
    }

    #[test]
    fn ranges_pair_with_parsed_documents() {
        let lines: Vec<&str> = "# head\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n"
            .split('\n')
            .collect();
        assert_eq!(doc_ranges(&lines), vec![0..1, 2..3, 4..5, 6..7, 8..9]);
        assert_eq!(content_ranges(&lines), vec![2..3, 6..7]);
        assert_eq!(line_starting(&lines, &(6..7), "b:"), Some(7));
    }
}
