//! Whether a value under a credential-sounding name is a credential, or one of the many things
//! that sit under such names in real trees: placeholders (`changeme`, `<password>`, `${VAR}`,
//! `{{ .Values.x }}`, `REPLACE_ME`), references (a Secret's name, `vault:...`, a file path, an
//! environment variable's name), identifiers, booleans, numbers. What is left counts when it
//! looks random: its length, its character classes and its Shannon entropy. Pure.

use base64::Engine as _;

/// Shannon entropy in bits per character (byte).
pub fn shannon(v: &str) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in v.bytes() {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// How many of the classes lower case, upper case, digit and symbol `v` uses.
pub fn classes(v: &str) -> usize {
    let mut seen = [false; 4];
    for b in v.bytes() {
        let i = if b.is_ascii_lowercase() {
            0
        } else if b.is_ascii_uppercase() {
            1
        } else if b.is_ascii_digit() {
            2
        } else {
            3
        };
        seen[i] = true;
    }
    seen.iter().filter(|s| **s).count()
}

fn distinct(v: &str) -> usize {
    let mut seen = [false; 256];
    v.bytes().for_each(|b| seen[b as usize] = true);
    seen.iter().filter(|s| **s).count()
}

/// The longest run of consecutive ascending characters (`abcdef`, `123456`).
fn ascending_run(v: &str) -> usize {
    let b = v.as_bytes();
    let (mut best, mut run) = (usize::from(!b.is_empty()), 1);
    for w in b.windows(2) {
        if w[1] == w[0].wrapping_add(1) && w[0].is_ascii_alphanumeric() {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    best
}

/// A value made to be replaced, not a secret: few distinct characters (`xxxx`, `****`,
/// `0000`), or a long ascending run (`1234567890`, `abcdef...`). Used for the tail of a
/// provider token too (`ghp_xxxxxxxx...`, a Slack webhook's `XXXXXXXX`).
pub fn low_variety(v: &str) -> bool {
    let n = v.len();
    n > 0 && (distinct(v) * 4 < n.min(40) || distinct(v) <= 3 || ascending_run(v) >= 6)
}

/// Words that mark an example value, wherever they stand in it (long enough that a random
/// value holds one by chance less than once in a million).
const MARKERS: [&str; 20] = [
    "changeme",
    "change_me",
    "change-me",
    "changeit",
    "placeholder",
    "redacted",
    "example",
    "replace_me",
    "replace-me",
    "replaceme",
    "replacethis",
    "yourpassword",
    "yoursecret",
    "yourtoken",
    "notreal",
    "not-a-real",
    "not_a_real",
    "dummy",
    "insecure",
    "do-not-use",
];

/// Words that mark an example value when they are a whole word of it or start it.
const WORDS: [&str; 22] = [
    "your", "my", "fake", "test", "testing", "mock", "sample", "todo", "fixme", "tbd", "foo",
    "foobar", "bar", "baz", "xxx", "secret", "password", "passwd", "token", "pass", "none", "null",
];

/// Literal values that are never a credential of their own.
const LITERALS: [&str; 12] = [
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "nil",
    "none",
    "undefined",
    "~",
    "required",
];

/// A template or variable expression, filled in at deploy time (Helm/Go `{{ }}`, Flux and
/// shell `${VAR}`, `$(cmd)`, Azure DevOps `#{X}#`, ERB `<% %>`, `$VAR`).
pub fn is_template(v: &str) -> bool {
    let t = v.trim();
    ["{{", "${", "$(", "#{", "<%"].iter().any(|m| t.contains(m))
        || (t.starts_with('$') && t[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// A placeholder, a template expression or an empty value.
pub fn is_placeholder(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() || t.len() < 3 {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    if LITERALS.contains(&lower.as_str()) {
        return true;
    }
    // Template and variable syntaxes: shell, Helm/Go, Jinja, ERB, Terraform, GitHub Actions,
    // Azure DevOps (`#{X}#`), Spring (`${x}`), Python (`%(x)s`, `{x}`), token replacement
    // (`__X__`, `@X@`), `<password>`.
    const TEMPLATE: [&str; 12] = [
        "${", "{{", "}}", "$(", "%(", "#{", "<%", "%>", "[[", "]]", "...", "…",
    ];
    if TEMPLATE.iter().any(|m| t.contains(m)) || t.contains("***") {
        return true;
    }
    let b = t.as_bytes();
    let (first, last) = (b[0], b[b.len() - 1]);
    if first == b'$'
        && b.get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return true; // $VAR
    }
    if (first == b'<' && last == b'>')
        || (first == b'{' && last == b'}')
        || (first == b'%' && last == b'%')
        || (first == b'@' && last == b'@')
        || (first == b'[' && last == b']')
        || (first == b'(' && last == b')')
        || (t.starts_with("__") && t.ends_with("__"))
    {
        return true;
    }
    if MARKERS.iter().any(|m| lower.contains(m)) || well_known_password(&lower) {
        return true;
    }
    let mut words = lower.split(|c: char| !c.is_ascii_alphanumeric());
    let first_word = words.next().unwrap_or("");
    if WORDS
        .iter()
        .any(|w| first_word.starts_with(w) && (w.len() >= 4 || first_word.len() == w.len()))
    {
        return true;
    }
    // Whole words of it, read through letter-for-digit swaps too (`s3cr3t-value`).
    if [lower.clone(), unleet(&lower)].iter().any(|l| {
        l.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|s| s.len() >= 4 && WORDS.contains(&s))
    }) {
        return true;
    }
    low_variety(t)
}

/// The passwords of every sample configuration and breach list (`Pa$$w0rd`, `P@ssw0rd1`,
/// `Admin123!`, `Welcome1`): public, so a default to be replaced, not a leak. Read through the
/// usual letter-for-symbol swaps, with a number or symbols after.
fn well_known_password(lower: &str) -> bool {
    const COMMON: [&str; 12] = [
        "password", "admin", "secret", "welcome", "letmein", "qwerty", "root", "changeme",
        "default", "guest", "master", "token",
    ];
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    COMMON.contains(&unleet(stem).as_str())
}

/// `p@$$w0rd` read as `password`: the usual symbol-for-letter swaps undone.
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '$' | '5' => 's',
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '7' => 't',
            c => c,
        })
        .collect()
}

/// Prefixes of references to a value kept elsewhere: secret managers (Vault, AWS, GCP, Azure,
/// 1Password, helm-secrets/vals `ref+`), files, the environment, URLs.
const REFERENCES: [&str; 22] = [
    "vault:",
    "ref+",
    "arn:",
    "projects/",
    "secretsmanager:",
    "sm://",
    "op://",
    "akv://",
    "azurekeyvault",
    "keyvault:",
    "gcpsm:",
    "awssm:",
    "k8s:",
    "k8s://",
    "kubernetes:",
    "env:",
    "file:",
    "secret/",
    "secretref",
    "http://",
    "https://",
    "enc[",
];

/// A reference to a value kept elsewhere, a file path, or ciphertext (SOPS `ENC[...]`, a
/// sealed value).
pub fn is_reference(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if REFERENCES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // kubeseal's sealed values: base64 of a 2-byte session-key length (RSA-2048: 0x0100,
    // RSA-4096: 0x0200) and the ciphertext, hundreds of characters long.
    if v.len() >= 300 && (v.starts_with("AgA") || v.starts_with("AQA")) {
        return true;
    }
    is_path(v) || is_file_name(v)
}

/// A file's name (`recovery.key`, `db-password.txt`, `client_secret.json`): where the value
/// is, not the value.
pub fn is_file_name(v: &str) -> bool {
    const EXTENSIONS: [&str; 20] = [
        "key", "pem", "crt", "cer", "der", "txt", "json", "yaml", "yml", "env", "p12", "pfx",
        "jks", "asc", "gpg", "age", "conf", "cfg", "ini", "toml",
    ];
    match v.rsplit_once('.') {
        Some((name, ext)) => {
            EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
                && !name.is_empty()
                && (is_identifier(name) || is_wordy(name) || is_path(name))
        }
        None => false,
    }
}

/// A file path: `/etc/app/password`, `./secrets/token.txt`, `~/.kube/token`, with every part a
/// plain name (a random base64 value starting with `/` has random parts).
pub fn is_path(v: &str) -> bool {
    let rest = if let Some(r) = v.strip_prefix("~/") {
        r
    } else if let Some(r) = v.strip_prefix("./") {
        r
    } else if let Some(r) = v.strip_prefix("../") {
        r
    } else if let Some(r) = v.strip_prefix('/') {
        r
    } else {
        return false;
    };
    // Parts in lower case (or short), and more than one part or an extension: a random
    // base64 value that starts with `/` is neither.
    !rest.is_empty()
        && (rest.contains('/') || rest.contains('.'))
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-@".contains(&b))
        && rest
            .split(|c: char| "/-_.@".contains(c))
            .filter(|s| !s.is_empty())
            .all(|s| is_wordy(s) && (s.len() <= 4 || !s.bytes().any(|b| b.is_ascii_uppercase())))
}

/// A part of a name: letters only, digits only, short, or letters then a short number
/// (`config`, `2024`, `v2`, `postgres14`).
fn is_wordy(s: &str) -> bool {
    if s.len() <= 4
        || s.bytes().all(|b| b.is_ascii_alphabetic())
        || s.bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    let digits = s.len() - letters;
    letters >= 2 && digits <= 4 && s[letters..].bytes().all(|b| b.is_ascii_digit())
}

/// A name, not a value: `db-credentials`, `vault.default.svc`, `DB_PASSWORD`, `adminPassword`,
/// `my_secret_v2`, an email address.
pub fn is_identifier(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let b = v.as_bytes();
    let separated = |seps: &[u8]| {
        v.split(|c: char| seps.contains(&(c as u8)))
            .all(|s| !s.is_empty() && is_wordy(s))
    };
    // kebab-case, snake_case, dotted (all lower case), with at least one separator.
    if b.iter().any(|c| b"-_.".contains(c))
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(c))
        && separated(b"-_.")
    {
        return true;
    }
    // UPPER_SNAKE (an environment variable's name).
    if b.contains(&b'_')
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
        && separated(b"_")
    {
        return true;
    }
    // camelCase or PascalCase words, maybe with a short number at the end.
    let letters = v.trim_end_matches(|c: char| c.is_ascii_digit());
    if v.len() - letters.len() <= 4
        && letters.len() >= 3
        && letters.bytes().all(|c| c.is_ascii_alphabetic())
        && camel_words(letters)
    {
        return true;
    }
    // An email address: a plain local part, a lower-case host with a top-level domain.
    if let Some((user, host)) = v.split_once('@') {
        let labels: Vec<&str> = host.split('.').collect();
        return !user.is_empty()
            && user
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._%+-".contains(&c))
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            })
            && labels
                .last()
                .is_some_and(|t| t.len() >= 2 && t.bytes().all(|c| c.is_ascii_lowercase()));
    }
    false
}

/// `adminPassword`, `DbSecret`: words of two or more lower-case letters, each after one capital.
fn camel_words(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut words = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_uppercase() {
            i += 1;
        }
        let lower = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if lower < 2 && !(start == 0 && lower >= 1) {
            return false;
        }
        // A word has a vowel; random letters in camel case seldom do, word after word.
        if !b[start..i + lower]
            .iter()
            .any(|c| b"aeiouAEIOU".contains(c))
        {
            return false;
        }
        i += lower;
        words += 1;
    }
    words >= 1
}

/// Whether `v` looks random: long enough, enough character classes, enough entropy.
pub fn looks_random(v: &str) -> bool {
    let n = v.len();
    if !(8..=1024).contains(&n) || v.bytes().any(|b| b.is_ascii_whitespace() || b < 0x20) {
        return false;
    }
    let h = shannon(v);
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let letters = v.bytes().filter(u8::is_ascii_alphabetic).count();
    if digits == n {
        return false; // a number: a port, an id, a PIN
    }
    if v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return n >= 16 && digits > 0 && letters > 0 && h >= 3.0;
    }
    match classes(v) {
        1 => n >= 20 && h >= 3.8,
        2 => (n >= 12 && h >= 3.0) || (n >= 10 && h >= 3.2),
        _ => h >= 2.5,
    }
}

/// The decoded text of `v` when it is standard base64 of printable text (`cGFzc3dvcmQ=`).
pub fn base64_text(v: &str) -> Option<String> {
    if v.len() < 8 || !v.len().is_multiple_of(4) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t')
        .then_some(text)
}

/// A literal credential under a credential-sounding name: not a placeholder, reference or
/// identifier (nor base64 of a placeholder), and random-looking.
pub fn credential_value(v: &str) -> bool {
    if is_placeholder(v) || is_reference(v) || is_identifier(v) {
        return false;
    }
    if let Some(text) = base64_text(v)
        && (is_placeholder(&text) || is_identifier(&text))
    {
        return false;
    }
    looks_random(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_and_classes() {
        assert_eq!(shannon(""), 0.0);
        assert_eq!(shannon("aaaa"), 0.0);
        assert!((shannon("abcd") - 2.0).abs() < 1e-9);
        assert_eq!(classes("aA1!"), 4);
        assert_eq!(classes("abc"), 1);
    }

    #[test]
    fn placeholders_are_not_credentials() {
        for v in [
            "changeme",
            "CHANGE_ME",
            "<password>",
            "${DB_PASSWORD}",
            "${DB_PASSWORD:-x}",
            "{{ .Values.auth.password }}",
            "{{ randAlphaNum 32 }}",
            "$(cat /run/secrets/db)",
            "$DB_PASSWORD",
            "#{DbPassword}#",
            "__DB_PASSWORD__",
            "REPLACE_ME",
            "your-token-here",
            "xxxxxxxxxxxxxxxx",
            "****************",
            "1234567890abcdef",
            "00000000-0000-0000-0000-000000000000",
            "true",
            "",
            "%(db_password)s",
            "dummy-secret-for-tests",
            "not-a-real-token",
            "example123",
            "test-password-1",
            "my-super-secret",
            "Pa$$w0rd",
            "P@ssw0rd1",
            "Admin123!",
            "Welcome1",
            "Passw0rd!",
        ] {
            assert!(!credential_value(v), "{v}");
        }
    }

    #[test]
    fn references_and_names_are_not_credentials() {
        for v in [
            "db-credentials",
            "postgres-app-v2",
            "vault.default.svc.cluster.local",
            "DB_PASSWORD",
            "adminPasswordSecret",
            "existingSecret",
            "vault:secret/data/db#password",
            "ref+vault://secret/db#/password",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
            "/etc/secrets/db-password",
            "recovery.key",
            "client_secret.json",
            "dDBrM24=",
            "s3cr3t-value",
            "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "./secrets/token.txt",
            "ENC[AES256_GCM,data:Tr7o=,iv:x,tag:y,type:str]",
            "https://vault.example.com",
            "ops@example.org",
            "cGFzc3dvcmQ=",
            "12345678901234",
        ] {
            assert!(!credential_value(v), "{v}");
        }
    }

    #[test]
    fn random_values_are_credentials() {
        for v in [
            "Xk9#mQ2$vL7p",
            "9f86d081884c7d659a2feaa0c55ad015",
            "kZ3q8VnR2mT6wY1p",
            "q8v2k3m9z7x1c4b6n0r5",
            "Tz4Rk9mW2qLx8Vb3Nc7YpFh6",
            "hunter2-very-s3cure",
            "hT7#qL2v!Xw9",
            // Random passwords that look like an email address or camel-case words at a glance.
            "qKJ!%i99iig@d.R79aUr",
            "b6knyi@.bJhJ4h9jmFEw",
            "yzBjcySuoNprjydju",
        ] {
            assert!(credential_value(v), "{v}");
        }
        // A base64-encoded random value counts (its text is not a placeholder).
        assert!(credential_value("aDd4Mk5xUjdaM2tMcFc5dA=="));
    }

    #[test]
    fn paths_need_plain_parts() {
        assert!(is_path("/etc/ssl/private/server.key"));
        assert!(!is_path("/K7MDENG/bPxRfiCY+q8vZ"));
        assert!(!is_path("relative/path"));
        assert!(!is_path("/AzKYDoagamuixJPORSMEOVsfxEkmGNV"));
        assert!(is_path("~/.kube/token"));
    }
}
