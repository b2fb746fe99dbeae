//! The contract's rules for values (docs/format.md §6), checked on decrypted values in memory. Pure;
//! the findings never contain a value.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::contract::{DEX_PASSWORD, Entry, Generator, Source};
use crate::generate::{self, BCRYPT_COSTS};

/// A broken rule. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("empty")]
    Empty,
    #[error("contains a line break (a trailing newline?)")]
    LineBreak,
    #[error("contains whitespace or a control character")]
    Whitespace,
    #[error("does not start with sk- (LiteLLM requires it)")]
    NoSkPrefix,
    #[error(
        "oauth2-proxy cannot use it: {0} characters, neither base64url of 16/24/32 bytes nor 16/24/32 raw bytes"
    )]
    CookieLength(usize),
    #[error("longer than 72 bytes, which bcrypt refuses")]
    TooLongForBcrypt,
    #[error("has characters that are not URL-safe (it is used in Postgres URLs)")]
    NotUrlSafe,
    #[error("starts with $ (Grafana and Argo CD treat that as a reference)")]
    DollarPrefix,
    #[error("not a bcrypt hash ($2a$/$2b$/$2y$, or base64 of one)")]
    NotBcrypt,
    #[error("the bcrypt cost is not a number")]
    BadCost,
    #[error("bcrypt cost {0} is outside 10..16; Dex refuses it and logins fail")]
    CostOutOfRange(u32),
    #[error("does not verify {DEX_PASSWORD}")]
    PairMismatch,
    #[error("cannot be verified: {0}")]
    Unverifiable(String),
}

impl ValueError {
    /// How to fix it, for a value of `key` (`generated`: sealstrap makes its values).
    pub fn hint(&self, key: &str, generated: bool) -> String {
        match self {
            ValueError::PairMismatch
            | ValueError::NotBcrypt
            | ValueError::BadCost
            | ValueError::CostOutOfRange(_)
            | ValueError::Unverifiable(_) => {
                "reset the Dex pair together: sealstrap reset-dex-admin".into()
            }
            _ if generated => format!(
                "generate a fresh value in the format its consumer needs: sealstrap rotate {key}"
            ),
            _ => format!(
                "seal {key} again with the right value, one line without a trailing newline (printf '%s' VALUE, not echo)"
            ),
        }
    }
}

/// Why one key of a bootstrap folder fails `verify`. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("missing: no sealed file")]
    Missing,
    /// Not sealed, and the tree reads it (where).
    #[error("missing: no sealed file, and {0} read it")]
    Unsealed(String),
    /// The tree reads a key no row of the contract makes (where).
    #[error("not a key of the contract, and {0} read it")]
    NotInContract(String),
    #[error("cannot read: {0}")]
    Read(String),
    #[error("{0}")]
    Object(#[from] crate::objects::ObjectError),
    #[error("holds {0} documents, expected one SealedSecret")]
    Documents(usize),
    #[error("holds SealedSecret {found}, expected {expected}")]
    WrongObject { found: String, expected: String },
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    #[error("has {0} data keys, expected only \"value\"")]
    DataKeys(usize),
    #[error("has no data key \"value\"")]
    NoValueKey,
    #[error("{0}")]
    Value(#[from] ValueError),
    #[error("cannot be checked: {DEX_PASSWORD} is missing or unreadable")]
    PairUncheckable,
    /// The folder's sealing certificate has expired (the message names the date).
    #[error("{0}")]
    CertificateExpired(String),
    /// A sealed file no row of the contract (nor sealstrap.yaml's extra:) makes: its key left
    /// the fleet file (the path, from the repository root).
    #[error("orphaned: no row of the contract or of sealstrap.yaml's extra: makes it ({0})")]
    Orphaned(String),
    /// Break-glass copies (issue 25): one per sealed value, each for the break-glass key.
    /// A copy whose sealed value is gone: its path (`break-glass/KEY.yaml` from
    /// [`check_copies`]; callers make it the path from where the user stands).
    #[error("stray break-glass copy {0}: no sealed value beside it")]
    CopyStray(String),
    #[error(
        "no break-glass copy: every sealed value has one while sealstrap.yaml names a break-glass certificate"
    )]
    CopyMissing,
    #[error("break-glass copy sealed for {found}, not the break-glass certificate {want}")]
    CopyOtherCert { found: String, want: String },
    #[error("break-glass/ holds copies, and sealstrap.yaml names no break-glass certificate")]
    CopyUnconfigured,
    #[error("the break-glass copy holds another value than the sealed one")]
    CopyDiffers,
    /// A shared value that is not one value (the environments, grouped by value).
    #[error("shared (sealstrap.yaml values:), and the environments hold different values: {0}")]
    SharedDiffers(String),
}

impl Problem {
    /// How to fix it, for the value of `key` (`generated`: sealstrap makes its values).
    pub fn hint(&self, key: &str, generated: bool) -> String {
        match self {
            Problem::CertificateExpired(_) => "make a new controller key (sealstrap key new) and reseal (sealstrap reseal), or pass --allow-expired while the controller still holds the old key".into(),
            Problem::Missing => format!(
                "run `sealstrap seal` (it adds missing values and keeps the others), or give {key}'s value if it is operator-provided"
            ),
            Problem::Unsealed(_) => format!(
                "run `sealstrap seal` from the repository; if {key} is operator-provided, give its value (`sealstrap contract` names the variable)"
            ),
            Problem::NotInContract(_) => format!(
                "declare {key} in sealstrap.yaml at the repository root (extra: {{{key}: {{generate: hex32}}}}), then run `sealstrap seal`"
            ),
            Problem::Read(_) | Problem::Object(_) | Problem::Documents(_) | Problem::WrongObject { .. } | Problem::DataKeys(_) | Problem::NoValueKey => format!(
                "restore sealed/{key}.yaml from git (`git checkout -- FILE`), or seal it again: sealstrap rotate {key}"
            ),
            Problem::Decrypt(_) => "pass the controller key it was sealed for (--private-key, or the escrow with --identity); if the certificate changed, run `sealstrap reseal`".into(),
            Problem::Value(e) => e.hint(key, generated),
            Problem::PairUncheckable => "fix dex-admin-password first; then the pair is checked".into(),
            Problem::Orphaned(path) => {
                let copy = path
                    .rsplit_once("sealed/")
                    .map(|(dir, file)| format!(" and its break-glass copy if it has one ({dir}break-glass/{file})"))
                    .unwrap_or_default();
                format!(
                    "if {key} is no longer yours: git rm {path}{copy}, then `sealstrap seal` drops it from the kustomization; if it still is, declare it again in sealstrap.yaml (extra:)"
                )
            }
            Problem::CopyStray(path) => format!(
                "remove it (git rm {path}), or seal {key} again (sealstrap seal) if its value is missing"
            ),
            Problem::CopyMissing => "run `sealstrap seal` with a key that opens the sealed value (-i IDENTITY or --private-key KEY): it adds every missing copy".into(),
            Problem::CopyOtherCert { .. } => "a copy sealed for a cluster's certificate is no recovery path: with the key it was sealed for, `sealstrap reseal --break-glass --private-key KEY` seals it for the break-glass certificate again; or make a new value (sealstrap rotate, which rewrites its copy)".into(),
            Problem::CopyUnconfigured => "name the break-glass certificate in sealstrap.yaml (break-glass: {cert: PATH}), or remove the copies (git rm -r break-glass/)".into(),
            Problem::CopyDiffers => format!(
                "make one new value and its copy together: sealstrap rotate {key}"
            ),
            Problem::SharedDiffers(_) => format!(
                "make one new value for every environment: sealstrap rotate {key} (a shared key rotates everywhere in one transaction)"
            ),
        }
    }
}

/// The break-glass copies of one sealed folder against its sealed values (issue 25): one copy
/// per sealed value, none without one, each sealed for the break-glass certificate `want` (its
/// fingerprint; `None`: the fleet file names none). `sealed`: the keys of the folder's sealed
/// values; `copies`: each copy's key and the fingerprint it is annotated with. The one owner of
/// this rule: `verify` and `scan` both ask it.
pub fn check_copies(
    sealed: &std::collections::BTreeSet<String>,
    copies: &std::collections::BTreeMap<String, Option<String>>,
    want: Option<&str>,
) -> Vec<(String, Problem)> {
    let mut out = Vec::new();
    let Some(want) = want else {
        if !copies.is_empty() {
            out.push(("break-glass".to_string(), Problem::CopyUnconfigured));
        }
        return out;
    };
    for (key, fp) in copies {
        if !sealed.contains(key) {
            out.push((
                key.clone(),
                Problem::CopyStray(format!("{}/{key}.yaml", crate::manifests::BREAK_GLASS_DIR)),
            ));
        } else if fp.as_deref() != Some(want) {
            out.push((
                key.clone(),
                Problem::CopyOtherCert {
                    found: fp
                        .clone()
                        .unwrap_or_else(|| "an unknown certificate".into()),
                    want: want.to_string(),
                },
            ));
        }
    }
    for key in sealed {
        if !copies.contains_key(key) {
            out.push((key.clone(), Problem::CopyMissing));
        }
    }
    out
}

/// A shared value across the environments that hold it (environment, value): `None` when it is
/// one value; else the finding, which names the environments grouped by value (never a value,
/// nor anything derived from one).
pub fn shared_differs(held: &[(&str, &[u8])]) -> Option<Problem> {
    let mut groups: Vec<(&[u8], Vec<&str>)> = Vec::new();
    for (env, value) in held {
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, envs)) => envs.push(env),
            None => groups.push((value, vec![env])),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let said: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(i, (_, envs))| {
            let who = envs.join(" and ");
            let what = if i == 0 { "one value" } else { "another" };
            if envs.len() == 1 {
                format!("{who} holds {what}")
            } else {
                format!("{who} hold {what}")
            }
        })
        .collect();
    Some(Problem::SharedDiffers(said.join(", ")))
}

/// Whether a value a person chose looks guessable: short, or made of few distinct characters,
/// or a short number. Such a value could be found by sealing guesses and comparing review
/// fingerprints one change at a time; the warning says so (never a refusal).
pub fn looks_guessable(v: &str) -> bool {
    let distinct: std::collections::BTreeSet<char> = v.chars().collect();
    v.chars().count() < 12
        || distinct.len() < 6
        || (v.len() < 20 && v.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks one value against the rules of its contract row (`None`: a key outside the contract,
/// held only to the rules every value keeps); the error names the broken rule.
pub fn check_value(entry: Option<&Entry>, value: &[u8]) -> Result<(), ValueError> {
    let Ok(v) = std::str::from_utf8(value) else {
        return Err(ValueError::NotUtf8);
    };
    if v.is_empty() {
        return Err(ValueError::Empty);
    }
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(match c {
            '\n' | '\r' => ValueError::LineBreak,
            _ => ValueError::Whitespace,
        });
    }
    let Some(entry) = entry else {
        return Ok(());
    };
    match entry.source {
        Source::Generated(Generator::LiteLlmKey) if !v.starts_with("sk-") => {
            Err(ValueError::NoSkPrefix)
        }
        Source::Generated(Generator::CookieSecret) => match generate::cookie_secret_key_len(v) {
            Some(_) => Ok(()),
            None => Err(ValueError::CookieLength(v.len())),
        },
        Source::Generated(Generator::DexPassword) if v.len() > 72 => {
            Err(ValueError::TooLongForBcrypt)
        }
        Source::Generated(Generator::DexHash) => check_hash_format(v).map(|_| ()),
        _ if entry.url_safe
            && !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) =>
        {
            Err(ValueError::NotUrlSafe)
        }
        Source::Generated(_) if v.starts_with('$') => Err(ValueError::DollarPrefix),
        _ => Ok(()),
    }
}

/// The raw bcrypt hash in a Dex hash value (raw, or base64 of it) and its cost.
fn check_hash_format(v: &str) -> Result<(String, u32), ValueError> {
    let raw = if v.starts_with("$2") {
        v.to_string()
    } else {
        STANDARD
            .decode(v)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| s.starts_with("$2"))
            .ok_or(ValueError::NotBcrypt)?
    };
    let parts: Vec<&str> = raw.split('$').collect();
    if parts.len() != 4 || !matches!(parts[1], "2a" | "2b" | "2y") || parts[3].len() != 53 {
        return Err(ValueError::NotBcrypt);
    }
    let cost: u32 = parts[2].parse().map_err(|_| ValueError::BadCost)?;
    if !BCRYPT_COSTS.contains(&cost) {
        return Err(ValueError::CostOutOfRange(cost));
    }
    Ok((raw, cost))
}

/// Whether the Dex hash verifies the Dex password.
pub fn check_dex_pair(password: &[u8], hash: &[u8]) -> Result<(), ValueError> {
    let hash = std::str::from_utf8(hash).map_err(|_| ValueError::NotUtf8)?;
    let (raw, _) = check_hash_format(hash)?;
    match bcrypt::verify(password, &raw) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ValueError::PairMismatch),
        Err(e) => Err(ValueError::Unverifiable(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DEX_HASH;

    #[test]
    fn rules() {
        assert!(check_value(crate::contract::builtin("vllm-api-key"), &[b'a'; 64]).is_ok());
        assert!(
            check_value(crate::contract::builtin("vllm-api-key"), b"")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            check_value(crate::contract::builtin("vllm-api-key"), b"abc\n")
                .unwrap_err()
                .to_string()
                .contains("line break")
        );
        assert!(
            check_value(crate::contract::builtin("litellm-master-key"), b"abc")
                .unwrap_err()
                .to_string()
                .contains("sk-")
        );
        assert!(
            check_value(
                crate::contract::builtin("oauth2-proxy-cookie-secret"),
                b"short"
            )
            .is_err()
        );
        assert!(
            check_value(
                crate::contract::builtin("oauth2-proxy-cookie-secret"),
                &[b'a'; 43]
            )
            .is_ok()
        );
        assert!(
            check_value(
                crate::contract::builtin("litellm-db-password"),
                b"p@ss/word"
            )
            .is_err()
        );
        assert!(
            check_value(
                crate::contract::builtin("dex-argocd-client-secret"),
                b"$ref"
            )
            .is_err()
        );
        assert!(check_value(crate::contract::builtin("hf-token"), b"hf_x").is_ok());
    }

    #[test]
    fn dex_hash_rules() {
        let h = bcrypt::hash_with_salt(b"pw", 10, [1u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(check_value(crate::contract::builtin(DEX_HASH), h.as_bytes()).is_ok());
        assert!(
            check_value(
                crate::contract::builtin(DEX_HASH),
                STANDARD.encode(&h).as_bytes()
            )
            .is_ok()
        );
        let low = bcrypt::hash_with_salt(b"pw", 4, [1u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(
            check_value(crate::contract::builtin(DEX_HASH), low.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("cost 4")
        );
        assert!(check_dex_pair(b"pw", h.as_bytes()).is_ok());
        assert!(check_dex_pair(b"other", h.as_bytes()).is_err());
        assert!(check_value(crate::contract::builtin(DEX_HASH), b"plain").is_err());
    }

    #[test]
    fn break_glass_copies_are_one_per_value_for_the_break_glass_certificate() {
        use std::collections::{BTreeMap, BTreeSet};
        let sealed: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        let bg = "sha256:bg";
        let copy = |fp: &str| Some(fp.to_string());
        let clean: BTreeMap<String, Option<String>> =
            sealed.iter().map(|k| (k.clone(), copy(bg))).collect();
        assert!(check_copies(&sealed, &clean, Some(bg)).is_empty());
        let mut bad = clean.clone();
        bad.insert("b".into(), copy("sha256:cluster"));
        bad.insert("gone".into(), copy(bg));
        bad.remove("c");
        bad.insert("a".into(), None);
        let found: Vec<(String, String)> = check_copies(&sealed, &bad, Some(bg))
            .into_iter()
            .map(|(k, p)| (k, p.to_string()))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].1.contains("an unknown certificate"), "{found:?}");
        assert!(found[1].1.contains("sha256:cluster"), "{found:?}");
        assert!(found[2].1.starts_with("stray"), "{found:?}");
        assert_eq!(found[3].0, "c");
        assert!(matches!(
            check_copies(&sealed, &clean, None).as_slice(),
            [(_, Problem::CopyUnconfigured)]
        ));
        assert!(check_copies(&sealed, &BTreeMap::new(), None).is_empty());
    }

    #[test]
    fn a_shared_value_is_one_value_and_the_finding_names_only_environments() {
        assert!(shared_differs(&[("a", b"x"), ("b", b"x"), ("c", b"x")]).is_none());
        assert!(shared_differs(&[("a", b"x")]).is_none());
        let p = shared_differs(&[("a", b"secret1"), ("b", b"secret1"), ("c", b"secret2")])
            .unwrap()
            .to_string();
        assert!(
            p.ends_with("a and b hold one value, c holds another"),
            "{p}"
        );
        assert!(!p.contains("secret"), "{p}");
    }
}
