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

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::CryptoRng;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey, PublicKey};
use sha2::Sha256;
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
    Rsa(#[from] rsa::Error),
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

    let wrapped = key.encrypt(
        rng,
        Oaep::<Sha256>::new_with_label(label.to_vec()),
        session_key.as_ref(),
    )?;
    let cipher = Aes256Gcm::new_from_slice(session_key.as_ref()).map_err(|_| SealError::Aead)?;
    let sealed = cipher
        .encrypt(&Nonce::default(), plaintext)
        .map_err(|_| SealError::Aead)?;

    let rsa_len = u16::try_from(wrapped.len()).map_err(|_| SealError::Aead)?;
    let mut out = Vec::with_capacity(2 + wrapped.len() + sealed.len());
    out.extend_from_slice(&rsa_len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed);
    Ok(out)
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
        let Ok(session_key) = key.decrypt(Oaep::<Sha256>::new_with_label(label.to_vec()), wrapped)
        else {
            continue;
        };
        let session_key = Zeroizing::new(session_key);
        if session_key.len() != SESSION_KEY_LEN {
            continue;
        }
        let Ok(cipher) = Aes256Gcm::new_from_slice(&session_key) else {
            continue;
        };
        if let Ok(plain) = cipher.decrypt(&Nonce::default(), body) {
            return Ok(Zeroizing::new(plain));
        }
    }
    Err(UnsealError::NoKey)
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
