//! Which escrowed key opens each sealed value, found offline by trying them, and what retiring a
//! key would break. Upstream has no way to ask this (sealed-secrets #226, #336, #359): a
//! SealedSecret does not say which key sealed it, so the only proof is to open it.
//!
//! Pure: texts and keys come in. A value opens with exactly one key (RSA-OAEP under another key
//! fails), and the plaintext is dropped (zeroized) as soon as it opened.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::controller_key::ControllerKey;
use crate::objects;
use crate::seal;
use crate::yaml;

/// One sealed value (`spec.encryptedData.<item>` of one SealedSecret) and the key that opens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedValue {
    /// The file (as the caller names it: a path, or `REV:path`).
    pub file: String,
    /// `namespace/name` of the SealedSecret.
    pub secret: String,
    /// The item (`value`).
    pub item: String,
    /// The fingerprint of the key that opens it; `None` when no key given opens it.
    pub key: Option<String>,
}

/// What reading one file found.
#[derive(Debug, Default)]
pub struct FileUsage {
    pub values: Vec<SealedValue>,
    /// Documents that look like SealedSecrets but could not be read, with why (never a value).
    pub unreadable: Vec<String>,
}

/// The key of `keys` that opens `value` under `label`, if one does.
pub fn opening_key<'a>(
    keys: &'a [ControllerKey],
    label: &[u8],
    value: &str,
) -> Option<&'a ControllerKey> {
    keys.iter()
        .find(|k| seal::unseal(std::slice::from_ref(&k.key), label, value).is_ok())
}

/// Every sealed value in `text` (YAML or JSON, several documents; other kinds are skipped),
/// each with the key of `keys` that opens it.
pub fn file_usage(file: &str, text: &str, keys: &[ControllerKey]) -> FileUsage {
    let mut out = FileUsage::default();
    for (i, doc) in yaml::parse_each(text).into_iter().enumerate() {
        let value = match doc.value {
            Ok(v) => v,
            Err(e) => {
                // A template is no manifest until rendered; anything else that says
                // SealedSecret and does not parse is named.
                let lines = text
                    .split('\n')
                    .skip(doc.lines.start)
                    .take(doc.lines.len())
                    .collect::<Vec<_>>()
                    .join("\n");
                if lines.contains("SealedSecret") && !lines.contains("{{") {
                    out.unreadable.push(format!(
                        "{file}: document {} (line {}) is not valid YAML: {}",
                        i + 1,
                        doc.lines.start + 1,
                        e.message
                    ));
                }
                continue;
            }
        };
        if value.get("kind").and_then(Value::as_str) != Some("SealedSecret") {
            continue;
        }
        let sealed = match objects::parse_sealed_secret(&value, i) {
            Ok(s) => s,
            Err(e) => {
                out.unreadable.push(format!("{file}: {e}"));
                continue;
            }
        };
        let label = sealed.label();
        for (item, v) in sealed.encrypted_data() {
            out.values.push(SealedValue {
                file: file.to_string(),
                secret: sealed.id(),
                item: item.to_string(),
                key: opening_key(keys, &label, v).map(|k| k.cert.fingerprint.clone()),
            });
        }
    }
    out
}

/// How many values each key opens (every key listed, also with none), and the values no key
/// opens.
pub fn tally<'a>(
    keys: &[ControllerKey],
    values: &'a [SealedValue],
) -> (BTreeMap<String, usize>, Vec<&'a SealedValue>) {
    let mut per_key: BTreeMap<String, usize> = keys
        .iter()
        .map(|k| (k.cert.fingerprint.clone(), 0))
        .collect();
    let mut orphans = Vec::new();
    for v in values {
        match &v.key {
            Some(fp) => *per_key.entry(fp.clone()).or_default() += 1,
            None => orphans.push(v),
        }
    }
    (per_key, orphans)
}

/// The values that need `fingerprint` (only it opens them).
pub fn needing<'a>(values: &'a [SealedValue], fingerprint: &str) -> Vec<&'a SealedValue> {
    values
        .iter()
        .filter(|v| v.key.as_deref() == Some(fingerprint))
        .collect()
}

/// Finds the escrowed key a user names: a full `sha256:...` fingerprint, or a unique prefix of
/// its hex (at least 8 characters, with or without `sha256:`).
pub fn find_key<'a>(
    keys: &'a [ControllerKey],
    given: &str,
) -> Result<&'a ControllerKey, FindKeyError> {
    let hex = given
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    if hex.len() < 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FindKeyError::TooShort(given.chars().take(80).collect()));
    }
    let found: Vec<&ControllerKey> = keys
        .iter()
        .filter(|k| {
            k.cert
                .fingerprint
                .trim_start_matches("sha256:")
                .starts_with(&hex)
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(FindKeyError::NotEscrowed(given.chars().take(80).collect())),
        _ => Err(FindKeyError::Ambiguous(given.chars().take(80).collect())),
    }
}

/// Why a fingerprint names no single escrowed key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindKeyError {
    #[error("{0:?} is not a key fingerprint (sha256:... or at least 8 hex digits of one)")]
    TooShort(String),
    #[error("no escrowed key has the fingerprint {0}")]
    NotEscrowed(String),
    #[error("{0} matches more than one escrowed key")]
    Ambiguous(String),
}

impl FindKeyError {
    pub fn hint(&self) -> Option<&'static str> {
        Some("`sealstrap key list -i IDENTITY` lists the escrowed keys with their fingerprints")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller_key::Template;

    fn key(name: &str, not_before: i64) -> ControllerKey {
        let pem = std::fs::read(format!(
            "{}/tests/data/vectors/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let k = crate::keys::parse_private_keys(&pem).unwrap().remove(0);
        ControllerKey::new(
            k,
            &Template {
                common_name: None,
                not_before,
                ttl_secs: 86_400,
                serial: [3; 16],
            },
        )
        .unwrap()
    }

    fn sealed_for(k: &ControllerKey, name: &str, value: &str) -> String {
        let mut rng = rand::rngs::SysRng;
        let mut rng = rand::rand_core::UnwrapErr(&mut rng);
        crate::manifests::sealed_entry(
            &mut rng,
            &k.key.public_key(),
            &k.cert.fingerprint,
            &crate::manifests::Wiring::default(),
            name,
            &zeroize::Zeroizing::new(value.to_string()),
            crate::manifests::Origin::Generated,
        )
        .unwrap()
    }

    #[test]
    fn each_value_is_mapped_to_the_key_that_opens_it_and_orphans_are_named() {
        let old = key("controller-2048.key.pem", 1_800_000_000);
        let new = key("controller-4096.key.pem", 1_800_000_100);
        let stranger = key("other-4096.key.pem", 1_800_000_200);
        let text = format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{}---\n{}",
            sealed_for(&old, "a", "one"),
            sealed_for(&new, "b", "two"),
            sealed_for(&stranger, "c", "three")
        );
        let keys = vec![old.clone(), new.clone()];
        let u = file_usage("f.yaml", &text, &keys);
        assert!(u.unreadable.is_empty(), "{:?}", u.unreadable);
        assert_eq!(u.values.len(), 3);
        assert_eq!(u.values[0].secret, "secret-source/a");
        assert_eq!(
            u.values[0].key.as_deref(),
            Some(old.cert.fingerprint.as_str())
        );
        assert_eq!(
            u.values[1].key.as_deref(),
            Some(new.cert.fingerprint.as_str())
        );
        assert_eq!(u.values[2].key, None);
        let (per_key, orphans) = tally(&keys, &u.values);
        assert_eq!(per_key[&old.cert.fingerprint], 1);
        assert_eq!(per_key[&new.cert.fingerprint], 1);
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].secret, "secret-source/c");
        assert_eq!(needing(&u.values, &old.cert.fingerprint).len(), 1);
        assert!(needing(&u.values, &stranger.cert.fingerprint).is_empty());
        // A broken document that says SealedSecret is named, never skipped silently.
        let u = file_usage("g.yaml", "kind: SealedSecret\nmetadata: [unclosed\n", &keys);
        assert_eq!(u.unreadable.len(), 1, "{:?}", u.unreadable);
    }

    #[test]
    fn keys_are_found_by_fingerprint_or_a_unique_prefix() {
        let a = key("controller-2048.key.pem", 1);
        let b = key("controller-4096.key.pem", 2);
        let keys = vec![a.clone(), b.clone()];
        let fp = a.cert.fingerprint.clone();
        assert_eq!(find_key(&keys, &fp).unwrap().cert.fingerprint, fp);
        assert_eq!(find_key(&keys, &fp[7..17]).unwrap().cert.fingerprint, fp);
        assert!(matches!(
            find_key(&keys, "abc"),
            Err(FindKeyError::TooShort(_))
        ));
        assert!(matches!(
            find_key(&keys, "sha256:0000000000"),
            Err(FindKeyError::NotEscrowed(_))
        ));
    }
}
