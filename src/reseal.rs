//! Offline re-encryption of SealedSecrets for a new certificate, keeping the file's layout.
//!
//! Every value is decrypted with the old private keys and sealed again for the new public key
//! under the same label (same name, namespace and scope), in memory. The file's text is kept:
//! only each ciphertext, and sealstrap's fingerprint annotation where present, are replaced in
//! place; the result is parsed again and must equal the original with exactly those values
//! changed. A file with anything that cannot be decrypted is not changed at all. Pure.

use crate::rsa::{PrivateKey, PublicKey};
use rand::CryptoRng;
use serde_json::Value;

use crate::manifests::FINGERPRINT_ANNOTATION;
use crate::objects;
use crate::seal;
use crate::yaml;

/// The outcome for one file.
#[derive(Debug)]
pub enum Resealed {
    /// The new text, and how many SealedSecrets and values it holds.
    Changed {
        text: String,
        sealed_secrets: usize,
        values: usize,
    },
    /// No SealedSecret in the file.
    NotSealed,
}

/// Why a file was left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResealError(pub String);

/// Reseals every SealedSecret in `text` for `new_key`.
pub fn reseal_text<R: CryptoRng + ?Sized>(
    rng: &mut R,
    text: &str,
    old_keys: &[PrivateKey],
    new_key: &PublicKey,
    new_fingerprint: &str,
) -> Result<Resealed, ResealError> {
    let docs = yaml::parse_documents(text).map_err(|e| ResealError(e.message))?;
    let mut expected = docs.clone();
    let mut replacements: Vec<(String, String)> = Vec::new();
    let (mut sealed_secrets, mut values) = (0usize, 0usize);
    for (i, doc) in docs.iter().enumerate() {
        if doc.get("kind").and_then(Value::as_str) != Some(objects::SEALED_SECRET_KIND) {
            continue;
        }
        let sealed =
            objects::parse_sealed_secret(doc, i + 1).map_err(|e| ResealError(e.message))?;
        sealed_secrets += 1;
        let label = sealed.label();
        let mut failures = Vec::new();
        for (k, v) in sealed.encrypted_data() {
            match seal::unseal(old_keys, &label, v) {
                Ok(plain) => {
                    let new = seal::seal(rng, new_key, &label, &plain)
                        .map_err(|e| ResealError(format!("{}: {k}: {e}", sealed.id())))?;
                    expected[i]["spec"]["encryptedData"][k] = Value::String(new.clone());
                    replacements.push((v.to_string(), new));
                    values += 1;
                }
                Err(e) => failures.push(format!("{k}: {e}")),
            }
        }
        if !failures.is_empty() {
            return Err(ResealError(format!(
                "cannot decrypt {} ({}); the file is left exactly as it was",
                sealed.id(),
                failures.join(", ")
            )));
        }
        if let Some(old_fp) = doc
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(FINGERPRINT_ANNOTATION))
            .and_then(Value::as_str)
            && old_fp != new_fingerprint
        {
            expected[i]["metadata"]["annotations"][FINGERPRINT_ANNOTATION] =
                Value::String(new_fingerprint.to_string());
            replacements.push((old_fp.to_string(), new_fingerprint.to_string()));
        }
    }
    if sealed_secrets == 0 {
        return Ok(Resealed::NotSealed);
    }
    let mut out = text.to_string();
    for (old, new) in &replacements {
        // A ciphertext is unique; a fingerprint may repeat (several SealedSecrets in one file),
        // and every occurrence gets the same replacement.
        if !out.contains(old.as_str()) {
            return Err(ResealError(
                "a sealed value is not on one line in the file (wrapped?); the file is left as it was"
                    .into(),
            ));
        }
        out = out.replace(old.as_str(), new);
    }
    let reparsed = yaml::parse_documents(&out).map_err(|e| ResealError(e.message))?;
    if reparsed != expected {
        return Err(ResealError(
            "the resealed file would not match the original's structure; the file is left as it was"
                .into(),
        ));
    }
    Ok(Resealed::Changed {
        text: out,
        sealed_secrets,
        values,
    })
}
