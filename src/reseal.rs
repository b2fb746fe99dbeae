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
    /// Every SealedSecret in the file is already sealed for the new certificate (its
    /// fingerprint annotation says so): nothing to do, the file is left byte for byte.
    Current { sealed_secrets: usize },
    /// No SealedSecret in the file.
    NotSealed,
}

/// Why a file was left alone. Each case leaves the file byte for byte as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResealError {
    /// The file is not YAML/JSON (the parser's message, with line and column).
    #[error("{0}")]
    Syntax(String),
    #[error(transparent)]
    Object(#[from] crate::objects::ObjectError),
    #[error("{id}: {key}: sealing failed: {reason}")]
    Seal {
        id: String,
        key: String,
        reason: String,
    },
    #[error("cannot decrypt {id} ({keys}); the file is left exactly as it was")]
    Decrypt { id: String, keys: String },
    #[error("a sealed value is not on one line in the file (wrapped?); the file is left as it was")]
    Wrapped,
    #[error(
        "the resealed file would not match the original's structure; the file is left as it was"
    )]
    Structure,
}

impl ResealError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ResealError::Syntax(_) => Some("fix the YAML at the line named, then run reseal again".into()),
            ResealError::Object(e) => e.hint(),
            ResealError::Seal { .. } => None,
            ResealError::Decrypt { .. } => Some(
                "pass the private key it was sealed with (--private-key, repeatable; the escrow works with --identity); a renamed or moved SealedSecret no longer decrypts under strict scope".into(),
            ),
            ResealError::Wrapped | ResealError::Structure => Some(
                "reformat the file so each encryptedData value is on one line (kubeseal -o yaml writes it so), or seal it again".into(),
            ),
        }
    }
}

/// Reseals every SealedSecret in `text` for `new_key`.
pub fn reseal_text<R: CryptoRng + ?Sized>(
    rng: &mut R,
    text: &str,
    old_keys: &[PrivateKey],
    new_key: &PublicKey,
    new_fingerprint: &str,
) -> Result<Resealed, ResealError> {
    let docs = yaml::parse_documents(text).map_err(|e| ResealError::Syntax(e.message))?;
    let mut expected = docs.clone();
    let mut replacements: Vec<(String, String)> = Vec::new();
    let (mut sealed_secrets, mut values, mut current) = (0usize, 0usize, 0usize);
    for (i, doc) in docs.iter().enumerate() {
        if doc.get("kind").and_then(Value::as_str) != Some(objects::SEALED_SECRET_KIND) {
            continue;
        }
        // Already sealed for the new certificate (an earlier, interrupted or partial reseal):
        // its ciphertexts stay as they are, so a rerun changes nothing it finished.
        if crate::manifests::sealed_fingerprint(doc) == Some(new_fingerprint) {
            current += 1;
            continue;
        }
        let sealed = objects::parse_sealed_secret(doc, i + 1)?;
        sealed_secrets += 1;
        let label = sealed.label();
        let mut failures = Vec::new();
        for (k, v) in sealed.encrypted_data() {
            match seal::unseal(old_keys, &label, v) {
                Ok(plain) => {
                    let new = seal::seal(rng, new_key, &label, &plain).map_err(|e| {
                        ResealError::Seal {
                            id: sealed.id(),
                            key: k.to_string(),
                            reason: e.to_string(),
                        }
                    })?;
                    expected[i]["spec"]["encryptedData"][k] = Value::String(new.clone());
                    replacements.push((v.to_string(), new));
                    values += 1;
                }
                Err(e) => failures.push(format!("{k}: {e}")),
            }
        }
        if !failures.is_empty() {
            return Err(ResealError::Decrypt {
                id: sealed.id(),
                keys: failures.join(", "),
            });
        }
        if let Some(old_fp) = crate::manifests::sealed_fingerprint(doc)
            && old_fp != new_fingerprint
        {
            expected[i]["metadata"]["annotations"][FINGERPRINT_ANNOTATION] =
                Value::String(new_fingerprint.to_string());
            replacements.push((old_fp.to_string(), new_fingerprint.to_string()));
        }
    }
    if sealed_secrets == 0 {
        return Ok(if current > 0 {
            Resealed::Current {
                sealed_secrets: current,
            }
        } else {
            Resealed::NotSealed
        });
    }
    let mut out = text.to_string();
    for (old, new) in &replacements {
        // A ciphertext is unique; a fingerprint may repeat (several SealedSecrets in one file),
        // and every occurrence gets the same replacement.
        if !out.contains(old.as_str()) {
            return Err(ResealError::Wrapped);
        }
        out = out.replace(old.as_str(), new);
    }
    let reparsed = yaml::parse_documents(&out).map_err(|e| ResealError::Syntax(e.message))?;
    if reparsed != expected {
        return Err(ResealError::Structure);
    }
    Ok(Resealed::Changed {
        text: out,
        sealed_secrets,
        values,
    })
}
