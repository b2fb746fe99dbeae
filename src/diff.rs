//! Key-level differences between two versions of sealed files, for review. Every re-seal changes
//! every ciphertext (a fresh session key per value), so a line diff of SealedSecrets is a wall of
//! base64 (sealed-secrets #376, #1468). This compares per SealedSecret and key: added, removed,
//! unchanged (same ciphertext), and, when the controller's keys are at hand (the escrow),
//! re-encrypted (same plaintext) or changed. Values are never printed: a changed value shows a
//! short keyed fingerprint (HMAC-SHA-256 under a key derived from the controller's private keys),
//! so two values can be compared without revealing them. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use zeroize::Zeroizing;

use crate::objects::SealedDoc;
use crate::rsa::PrivateKey;

/// What happened to one key of one SealedSecret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    /// The same ciphertext.
    Unchanged,
    /// A new ciphertext of the same plaintext (a re-seal, a new certificate).
    Reencrypted,
    /// A new plaintext.
    Changed,
    /// A new ciphertext, and no key to tell a re-seal from a new value.
    ReencryptedOrChanged,
    /// A document of the file that is not YAML (or not a SealedSecret sealstrap can read):
    /// what it holds is not known, so it is shown, never counted as removed.
    Unreadable,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Unchanged => "unchanged",
            Change::Reencrypted => "re-encrypted",
            Change::Changed => "changed",
            Change::ReencryptedOrChanged => "re-encrypted or changed",
            Change::Unreadable => "unreadable",
        }
    }
}

/// One line of the diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `namespace/name` of the SealedSecret.
    pub sealed_secret: String,
    pub key: String,
    pub change: Change,
    /// Keyed fingerprints of the old and new plaintexts, when the keys opened them.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Fingerprints values under a key derived from the controller's private keys: HMAC-SHA-256 over
/// the value's place (`namespace/name/key`) and the value, the first 6 bytes in hex. Without the
/// private keys nobody can compute or invert one; and since the place is in it, two values
/// compare only as versions of one key: a branch of 10,000 guesses sealed under other names
/// tells nothing about a value a reviewer's diff shows (one guess per reviewed change remains).
pub struct Fingerprinter {
    key: aws_lc_rs::hmac::Key,
}

impl Fingerprinter {
    /// Derives the HMAC key from `keys` (their PKCS#8 DER, sorted, under a domain label).
    pub fn new(keys: &[PrivateKey]) -> Option<Fingerprinter> {
        if keys.is_empty() {
            return None;
        }
        let mut ders: Vec<Zeroizing<Vec<u8>>> =
            keys.iter().filter_map(|k| k.to_pkcs8_der().ok()).collect();
        ders.sort_by(|a, b| a.as_slice().cmp(b.as_slice()));
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"sealstrap diff fingerprint v1\0");
        for d in &ders {
            ctx.update(&(d.len() as u64).to_be_bytes());
            ctx.update(d);
        }
        let seed = ctx.finish();
        Some(Fingerprinter {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, seed.as_ref()),
        })
    }

    /// The fingerprint of `value` at `place` (`namespace/name/key`).
    pub fn of(&self, place: &str, value: &[u8]) -> String {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.key);
        ctx.update(&(place.len() as u64).to_be_bytes());
        ctx.update(place.as_bytes());
        ctx.update(value);
        let tag = ctx.sign();
        format!("fp:{}", hex::encode(&tag.as_ref()[..6]))
    }
}

/// The SealedSecrets of a file's text, by `namespace/name`, each document read on its own (one
/// broken document hides nothing beside it, as kubectl applies the others), and the documents
/// that could not be read (`document N (line L)`). Other kinds are no part of the diff.
fn sealed_of(text: Option<&str>) -> (BTreeMap<String, SealedDoc>, Vec<String>) {
    let mut sealed = BTreeMap::new();
    let mut unreadable = Vec::new();
    for (i, doc) in crate::yaml::parse_each(text.unwrap_or(""))
        .into_iter()
        .enumerate()
    {
        let at = format!("document {} (line {})", i + 1, doc.lines.start + 1);
        match doc.value {
            Err(_) => unreadable.push(at),
            Ok(Value::Null) => {}
            Ok(v)
                if v.get("kind").and_then(Value::as_str)
                    == Some(crate::objects::SEALED_SECRET_KIND) =>
            {
                match crate::objects::parse_sealed_secret(&v, i + 1) {
                    Ok(d) => {
                        sealed.insert(d.id(), d);
                    }
                    Err(_) => unreadable.push(at),
                }
            }
            Ok(_) => {}
        }
    }
    (sealed, unreadable)
}

/// Compares two versions of one file (`None`: absent). `keys` tell re-encryption from change.
pub fn compare(
    old: Option<&str>,
    new: Option<&str>,
    keys: &[PrivateKey],
    fp: Option<&Fingerprinter>,
) -> Vec<Entry> {
    let ((old, _), (new, unreadable)) = (sealed_of(old), sealed_of(new));
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let open = |d: &SealedDoc, v: &str| -> Option<Zeroizing<Vec<u8>>> {
        (!keys.is_empty())
            .then(|| crate::seal::unseal(keys, &d.label(), v).ok())
            .flatten()
    };
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = (old.get(id), new.get(id));
        let od = o.map(|d| d.encrypted_data()).unwrap_or_default();
        let nd = n.map(|d| d.encrypted_data()).unwrap_or_default();
        let names: BTreeSet<&str> = od.keys().chain(nd.keys()).copied().collect();
        for k in names {
            let (ov, nv) = (od.get(k), nd.get(k));
            let before = match (o, ov) {
                (Some(d), Some(v)) => open(d, v),
                _ => None,
            };
            let after = match (n, nv) {
                (Some(d), Some(v)) => open(d, v),
                _ => None,
            };
            let change = match (ov, nv) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(a), Some(b)) if a == b => Change::Unchanged,
                _ => match (&before, &after) {
                    (Some(a), Some(b)) if a.as_slice() == b.as_slice() => Change::Reencrypted,
                    (Some(_), Some(_)) => Change::Changed,
                    _ => Change::ReencryptedOrChanged,
                },
            };
            let place = format!("{id}/{k}");
            let print =
                |v: &Option<Zeroizing<Vec<u8>>>| fp.zip(v.as_ref()).map(|(f, v)| f.of(&place, v));
            out.push(Entry {
                sealed_secret: id.clone(),
                key: k.to_string(),
                change,
                before: print(&before),
                after: print(&after),
            });
        }
    }
    for at in unreadable {
        out.push(Entry {
            sealed_secret: at,
            key: String::new(),
            change: Change::Unreadable,
            before: None,
            after: None,
        });
    }
    out
}

/// The text git diffs for a sealed file (`git diff` through `diff.sealstrap.textconv`): every
/// document as YAML with each `encryptedData` value replaced by the keyed fingerprint of its
/// plaintext when the keys open it (a re-seal then shows no change), else by a short digest of
/// the ciphertext. Anything that is not a SealedSecret stream comes back as it was.
pub fn textconv(text: &str, keys: &[PrivateKey], fp: Option<&Fingerprinter>) -> String {
    let Ok(docs) = crate::yaml::parse_documents(text) else {
        return text.to_string();
    };
    let mut out = String::new();
    for mut doc in docs {
        if doc.get("kind").and_then(Value::as_str) == Some(crate::objects::SEALED_SECRET_KIND)
            && let Ok(sealed) = crate::objects::parse_sealed_secret(&doc, 1)
        {
            let label = sealed.label();
            let id = sealed.id();
            if let Some(Value::Object(m)) = doc.pointer_mut("/spec/encryptedData") {
                for (k, v) in m.iter_mut() {
                    let shown = match (v.as_str(), fp) {
                        (Some(c), Some(f)) => match crate::seal::unseal(keys, &label, c) {
                            Ok(p) => f.of(&format!("{id}/{k}"), &p),
                            Err(_) => ciphertext_digest(c),
                        },
                        (Some(c), None) => ciphertext_digest(c),
                        (None, _) => continue,
                    };
                    *v = Value::String(shown);
                }
            }
        }
        out.push_str(&crate::yaml::to_yaml_document(&doc));
    }
    out
}

/// A short digest of a ciphertext (not of the value): changes with every re-seal.
fn ciphertext_digest(c: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, c.as_bytes());
    format!("ciphertext:{}", hex::encode(&d.as_ref()[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifests::{Origin, Wiring};

    fn keypair() -> (PrivateKey, crate::rsa::PublicKey) {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors/keys/controller-2048.key.pem"
        ))
        .unwrap();
        let k = crate::keys::parse_private_keys(&pem).unwrap().remove(0);
        let p = k.public_key();
        (k, p)
    }

    fn sealed(pk: &crate::rsa::PublicKey, name: &str, value: &str) -> String {
        let mut rng = rand::rngs::SysRng;
        let mut rng = rand::rand_core::UnwrapErr(&mut rng);
        crate::manifests::sealed_entry(
            &mut rng,
            pk,
            "sha256:test",
            &Wiring::default(),
            name,
            &Zeroizing::new(value.to_string()),
            Origin::Generated,
        )
        .unwrap()
    }

    #[test]
    fn keys_tell_a_reseal_from_a_change_and_no_value_is_shown() {
        let (k, pk) = keypair();
        let a1 = sealed(&pk, "a", "one");
        let a2 = sealed(&pk, "a", "one"); // re-sealed: new ciphertext, same value
        let a3 = sealed(&pk, "a", "two");
        let keys = vec![k];
        let fp = Fingerprinter::new(&keys).unwrap();
        let e = compare(Some(&a1), Some(&a1), &keys, Some(&fp));
        assert_eq!(e[0].change, Change::Unchanged);
        let e = compare(Some(&a1), Some(&a2), &keys, Some(&fp));
        assert_eq!(e[0].change, Change::Reencrypted);
        assert_eq!(e[0].before, e[0].after);
        let e = compare(Some(&a1), Some(&a3), &keys, Some(&fp));
        assert_eq!(e[0].change, Change::Changed);
        assert_ne!(e[0].before, e[0].after);
        let e = compare(Some(&a1), Some(&a3), &[], None);
        assert_eq!(e[0].change, Change::ReencryptedOrChanged);
        assert_eq!((e[0].before.clone(), e[0].after.clone()), (None, None));
        let e = compare(None, Some(&a1), &[], None);
        assert_eq!(
            (e[0].sealed_secret.as_str(), e[0].change),
            ("secret-source/a", Change::Added)
        );
        let e = compare(Some(&a1), None, &[], None);
        assert_eq!(e[0].change, Change::Removed);
        // textconv: a re-seal gives the same text with the keys, and no value in it.
        let t1 = textconv(&a1, &keys, Some(&fp));
        assert_eq!(t1, textconv(&a2, &keys, Some(&fp)));
        assert_ne!(t1, textconv(&a3, &keys, Some(&fp)));
        assert!(!t1.contains("one") || !t1.contains(": one"), "{t1}");
        assert!(t1.contains("value: fp:"), "{t1}");
        assert_ne!(textconv(&a1, &[], None), textconv(&a2, &[], None));
        assert_eq!(
            textconv("not: sealed\n", &keys, Some(&fp)),
            "---\nnot: sealed\n"
        );
    }

    #[test]
    fn a_fingerprint_is_bound_to_its_place() {
        let (k, pk) = keypair();
        let keys = vec![k];
        let fp = Fingerprinter::new(&keys).unwrap();
        // The same value under another name: a different fingerprint, so a branch of guesses
        // sealed under other names compares with nothing a review shows.
        assert_ne!(
            fp.of("secret-source/a/value", b"1234"),
            fp.of("secret-source/guess-1234/value", b"1234")
        );
        assert_eq!(
            fp.of("secret-source/a/value", b"1234"),
            fp.of("secret-source/a/value", b"1234")
        );
        // compare() fingerprints each key at its place.
        let a = sealed(&pk, "a", "1234");
        let b = sealed(&pk, "b", "1234");
        let e = compare(None, Some(&format!("{a}{b}")), &keys, Some(&fp));
        assert_ne!(e[0].after, e[1].after);
    }

    #[test]
    fn one_broken_document_hides_nothing_and_is_never_a_removal() {
        let (_, pk) = keypair();
        let a = sealed(&pk, "a", "one");
        let b = sealed(&pk, "b", "two");
        // 1,100 empty documents and a broken one in front of a new SealedSecret.
        let padded = format!("{}not: [yaml\n---\n{a}{b}", "---\n".repeat(1100));
        let e = compare(Some(&a), Some(&padded), &[], None);
        let changes: Vec<(&str, Change)> = e
            .iter()
            .map(|x| (x.sealed_secret.as_str(), x.change))
            .collect();
        assert!(
            changes.contains(&("secret-source/a", Change::Unchanged)),
            "{changes:?}"
        );
        assert!(
            changes.contains(&("secret-source/b", Change::Added)),
            "{changes:?}"
        );
        assert!(
            e.iter().any(|x| x.change == Change::Unreadable
                && x.sealed_secret.ends_with("(line 1101)")),
            "{changes:?}"
        );
        assert!(!changes.iter().any(|(_, c)| *c == Change::Removed));
    }
}
