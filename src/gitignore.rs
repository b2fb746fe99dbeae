//! `.gitignore` edits that lose nothing: a rule for one exact path, escaped for git's pattern
//! syntax, appended to the file's bytes as they are. Pure.
//!
//! Pattern syntax: gitignore(5) ("PATTERN FORMAT"): a leading `/` anchors at the file's folder;
//! `\` escapes `*`, `?`, `[`, `\`, a leading `#` or `!`, and trailing spaces.

/// The rule that ignores exactly `rel` (a path relative to the `.gitignore`'s folder, with `/`
/// separators).
pub fn exact_rule(rel: &str) -> String {
    let mut out = String::from("/");
    let segments: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        let trailing_spaces = seg.len() - seg.trim_end_matches(' ').len();
        let body = &seg[..seg.len() - trailing_spaces];
        for (j, c) in body.chars().enumerate() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') || (j == 0 && matches!(c, '#' | '!')) {
                out.push('\\');
            }
            out.push(c);
        }
        for _ in 0..trailing_spaces {
            out.push_str("\\ ");
        }
    }
    out
}

/// `existing` with `rule` appended on a line of its own; every existing byte is kept as it is
/// (not decoded, so a file that is not UTF-8 stays intact). The line ending follows the file's.
pub fn append_rule(existing: &[u8], rule: &str) -> Vec<u8> {
    let crlf = existing.windows(2).any(|w| w == b"\r\n");
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = existing.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(rule.as_bytes());
    out.extend_from_slice(eol);
    out
}

/// Whether `path` matches the glob `pattern`: `*` any run within one path segment, `**` any run
/// across segments, `?` one character, everything else literal. A pattern without `/` is
/// matched against the file name alone (as .gitignore does), one with `/` against the whole path.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn m(p: &[char], s: &[char]) -> bool {
        match p {
            [] => s.is_empty(),
            ['*', '*', rest @ ..] => {
                let rest = rest.strip_prefix(&['/']).unwrap_or(rest);
                (0..=s.len()).any(|i| m(rest, &s[i..]))
            }
            ['*', rest @ ..] => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != '/')
                .any(|i| m(rest, &s[i..])),
            ['?', rest @ ..] => s.first().is_some_and(|c| *c != '/') && m(rest, &s[1..]),
            [c, rest @ ..] => s.first() == Some(c) && m(rest, &s[1..]),
        }
    }
    let path = path.strip_prefix("./").unwrap_or(path);
    let target = if pattern.contains('/') {
        path
    } else {
        path.rsplit('/').next().unwrap_or(path)
    };
    let p: Vec<char> = pattern.trim_start_matches("./").chars().collect();
    let t: Vec<char> = target.chars().collect();
    m(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_escaped_and_anchored() {
        assert_eq!(
            exact_rule("secrets/dex-admin-password"),
            "/secrets/dex-admin-password"
        );
        assert_eq!(exact_rule("sec[prod]/pw"), "/sec\\[prod\\]/pw");
        assert_eq!(exact_rule("a*b/?x"), "/a\\*b/\\?x");
        assert_eq!(exact_rule("#x/!y"), "/\\#x/\\!y");
        assert_eq!(exact_rule("sp /p"), "/sp\\ /p");
    }

    #[test]
    fn appending_keeps_every_byte() {
        let latin1 = b"\xe9t\xe9\n.env\n*.key";
        let out = append_rule(latin1, "/secrets/pw");
        assert_eq!(&out[..latin1.len()], latin1);
        assert_eq!(&out[latin1.len()..], b"\n/secrets/pw\n");
        assert_eq!(append_rule(b"", "/x"), b"/x\n");
        assert_eq!(append_rule(b"a\r\n", "/x"), b"a\r\n/x\r\n");
    }

    #[test]
    fn globs_match_names_and_paths() {
        assert!(glob_match(
            "*.example.yaml",
            "platform/t/tenant.example.yaml"
        ));
        assert!(!glob_match("*.example.yaml", "platform/t/tenant.yaml"));
        assert!(glob_match(
            "platform/*/values.yaml",
            "platform/key-portal/values.yaml"
        ));
        assert!(!glob_match(
            "platform/*/values.yaml",
            "platform/a/b/values.yaml"
        ));
        assert!(glob_match(
            "platform/**/values.yaml",
            "platform/a/b/values.yaml"
        ));
        assert!(glob_match("vendor/**", "./vendor/x/y.yaml"));
        assert!(glob_match("f?.yaml", "a/f1.yaml"));
        assert!(!glob_match("f?.yaml", "a/f12.yaml"));
    }
}
