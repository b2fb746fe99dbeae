//! The sealed-secrets value format: seal and unseal one `spec.encryptedData` value.
//!
//! This module owns the byte format and nothing else: no I/O, no clock, randomness comes in as
//! an argument. It must stay byte-compatible with the controller's `HybridEncrypt` /
//! `HybridDecrypt` (bitnami-labs/sealed-secrets `pkg/crypto/crypto.go`).
//!
//! # Format
//!
//! A sealed value is the standard, padded base64 (`+/` alphabet, one line) of
//!
//! ```text
//! u16 big-endian  len(R)   256 for RSA-2048 ("AQA..."), 512 for RSA-4096 ("AgA...")
//! R               RSA-OAEP(SHA-256, MGF1-SHA-256, label) of a fresh random 32-byte session key
//! C               AES-256-GCM(session key, nonce = 12 zero bytes, no AAD) of the plaintext,
//!                 with the 16-byte tag appended
//! ```
//!
//! The zero nonce is safe only because every value gets its own session key; [`seal`] draws one
//! from the caller's CSPRNG on every call. The total length is `2 + k + len(plaintext) + 16`,
//! and an empty plaintext is valid.
//!
//! The OAEP label binds a value to where it may be unsealed ([`Scope::label`]):
//! `<namespace>/<name>` (strict), `<namespace>` (namespace-wide) or empty (cluster-wide).
//! Session keys and decrypted plaintexts are zeroized when dropped.

use crate::rsa::{PrivateKey, PublicKey, RsaError};
use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::CryptoRng;
use zeroize::Zeroizing;

/// Length of the AES-256 session key.
const SESSION_KEY_LEN: usize = 32;
/// AES-GCM tag appended to the ciphertext.
const TAG_LEN: usize = 16;

/// The annotation (value `"true"`) that makes a SealedSecret namespace-wide.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// The annotation (value `"true"`) that makes a SealedSecret cluster-wide. Wins over namespace-wide.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Where a sealed value may be unsealed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Only as this name in this namespace (the default).
    #[default]
    Strict,
    /// Under any name in this namespace.
    NamespaceWide,
    /// Anywhere in the cluster.
    ClusterWide,
}

impl Scope {
    /// All scopes, in the order kubeseal lists them.
    pub const ALL: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

    /// The name kubeseal's `--scope` flag uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }

    /// Parses kubeseal's `--scope` value (empty means the default, strict).
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "" | "strict" => Some(Scope::Strict),
            "namespace-wide" => Some(Scope::NamespaceWide),
            "cluster-wide" => Some(Scope::ClusterWide),
            _ => None,
        }
    }

    /// The OAEP label the controller derives for this scope (upstream `EncryptionLabel`).
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The scope annotations say, read the way the controller reads them (upstream
    /// `SecretScope`): the value must be exactly `"true"`, cluster-wide wins.
    pub fn from_annotations<'a, I>(annotations: I) -> Scope
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut scope = Scope::Strict;
        for (k, v) in annotations {
            if v != "true" {
                continue;
            }
            if k == CLUSTER_WIDE_ANNOTATION {
                return Scope::ClusterWide;
            }
            if k == NAMESPACE_WIDE_ANNOTATION {
                scope = Scope::NamespaceWide;
            }
        }
        scope
    }

    /// The annotation that marks this scope, if any.
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
            Scope::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The RSA operation failed (for example a key too small for OAEP-SHA256 of 32 bytes).
    #[error("RSA-OAEP encryption failed: {0}")]
    Rsa(#[from] RsaError),
    /// The plaintext is too large for AES-GCM (never for a Kubernetes Secret).
    #[error("AES-GCM encryption failed")]
    Aead,
}

/// Why a value could not be unsealed. Like the controller, these say nothing about which
/// key or label was tried, and never anything about the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    /// Not padded standard base64 (the controller uses Go's `StdEncoding`).
    #[error(
        "not valid standard base64 (the controller accepts only padded base64 with the +/ alphabet)"
    )]
    Base64,
    /// Shorter than its own length prefix says.
    #[error("sealed value too short")]
    TooShort,
    /// No key could decrypt the session key, or the AES-GCM tag did not verify.
    #[error("no key could decrypt secret")]
    NoKey,
}

/// Seals `plaintext` for `key` under `label`; returns the raw bytes (see the module docs).
pub fn seal_bytes<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rng.fill_bytes(session_key.as_mut());

    let wrapped = key.encrypt(label, session_key.as_ref())?;
    let rsa_len = u16::try_from(wrapped.len()).map_err(|_| SealError::Aead)?;

    // One buffer of the final size: length, wrapped key, then the plaintext encrypted in place,
    // then the tag. The plaintext is copied once and overwritten by its ciphertext.
    let mut out = Vec::with_capacity(2 + wrapped.len() + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&rsa_len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    let body = out.len();
    out.extend_from_slice(plaintext);
    let cipher = gcm_key(session_key.as_ref()).ok_or(SealError::Aead)?;
    // The zero nonce is what the controller uses; it is safe because the key is never reused.
    match cipher.seal_in_place_separate_tag(zero_nonce(), Aad::empty(), &mut out[body..]) {
        Ok(tag) => {
            out.extend_from_slice(tag.as_ref());
            Ok(out)
        }
        Err(_) => {
            zeroize::Zeroize::zeroize(&mut out);
            Err(SealError::Aead)
        }
    }
}

/// Seals `plaintext` and returns it as a `spec.encryptedData` value (standard base64).
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<String, SealError> {
    Ok(STANDARD.encode(seal_bytes(rng, key, label, plaintext)?))
}

/// Length of a sealed value for `key` and a plaintext of `plaintext_len` bytes.
pub fn sealed_len(key: &PublicKey, plaintext_len: usize) -> usize {
    2 + key.size() + plaintext_len + TAG_LEN
}

/// Unseals raw bytes with the first of `keys` that works (the controller tries every key it has).
pub fn unseal_bytes(
    keys: &[PrivateKey],
    label: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
    if sealed.len() < 2 {
        return Err(UnsealError::TooShort);
    }
    let rsa_len = usize::from(u16::from_be_bytes([sealed[0], sealed[1]]));
    let rest = &sealed[2..];
    if rest.len() < rsa_len {
        return Err(UnsealError::TooShort);
    }
    let (wrapped, body) = rest.split_at(rsa_len);
    for key in keys {
        let Some(session_key) = key.decrypt(label, wrapped) else {
            continue;
        };
        if let Some(plain) = open_body(&session_key, body) {
            return Ok(plain);
        }
    }
    Err(UnsealError::NoKey)
}

/// AES-GCM with a zero nonce under a 16-, 24- or 32-byte session key. sealstrap and kubeseal
/// always make 32-byte keys, but the controller opens the body with Go's `aes.NewCipher`, which
/// takes all three AES key sizes (upstream `pkg/crypto/crypto.go` `HybridDecrypt`), so a value
/// another sealer made with a shorter key must unseal here too.
fn open_body(session_key: &[u8], body: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = gcm_key(session_key)?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = cipher
        .open_in_place(zero_nonce(), Aad::empty(), buf.as_mut_slice())
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// An AES-GCM key of the size the session key has (16, 24 or 32 bytes).
fn gcm_key(session_key: &[u8]) -> Option<LessSafeKey> {
    let algorithm = match session_key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        SESSION_KEY_LEN => &AES_256_GCM,
        _ => return None,
    };
    Some(LessSafeKey::new(
        UnboundKey::new(algorithm, session_key).ok()?,
    ))
}

fn zero_nonce() -> Nonce {
    Nonce::assume_unique_for_key([0u8; 12])
}

/// Unseals one `spec.encryptedData` value (padded standard base64 only, as the controller).
pub fn unseal(
    keys: &[PrivateKey],
    label: &[u8],
    value: &str,
) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
    let raw = STANDARD.decode(value).map_err(|_| UnsealError::Base64)?;
    unseal_bytes(keys, label, &raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_controller() {
        assert_eq!(Scope::Strict.label("ns", "n"), b"ns/n");
        assert_eq!(Scope::NamespaceWide.label("ns", "n"), b"ns");
        assert_eq!(Scope::ClusterWide.label("ns", "n"), b"");
    }

    #[test]
    fn scope_annotations_need_exact_true_and_cluster_wins() {
        let ann =
            |pairs: &[(&'static str, &'static str)]| Scope::from_annotations(pairs.iter().copied());
        assert_eq!(ann(&[]), Scope::Strict);
        assert_eq!(
            ann(&[(NAMESPACE_WIDE_ANNOTATION, "true")]),
            Scope::NamespaceWide
        );
        assert_eq!(ann(&[(NAMESPACE_WIDE_ANNOTATION, "True")]), Scope::Strict);
        assert_eq!(ann(&[(CLUSTER_WIDE_ANNOTATION, "yes")]), Scope::Strict);
        assert_eq!(
            ann(&[
                (CLUSTER_WIDE_ANNOTATION, "true"),
                (NAMESPACE_WIDE_ANNOTATION, "true")
            ]),
            Scope::ClusterWide
        );
        assert_eq!(
            ann(&[
                (NAMESPACE_WIDE_ANNOTATION, "true"),
                (CLUSTER_WIDE_ANNOTATION, "true")
            ]),
            Scope::ClusterWide
        );
    }

    #[test]
    fn scope_parse_round_trips() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse(""), Some(Scope::Strict));
        assert_eq!(Scope::parse("Strict"), None);
    }

    #[test]
    fn too_short_inputs_are_refused_before_any_rsa() {
        assert_eq!(unseal_bytes(&[], b"", &[]), Err(UnsealError::TooShort));
        assert_eq!(unseal_bytes(&[], b"", &[2]), Err(UnsealError::TooShort));
        assert_eq!(
            unseal_bytes(&[], b"", &[0, 3, 1, 2]),
            Err(UnsealError::TooShort)
        );
        assert_eq!(unseal(&[], b"", "AA=").unwrap_err(), UnsealError::Base64);
    }
}
