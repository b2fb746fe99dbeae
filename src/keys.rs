//! Private keys of the sealed-secrets controller, in every form `kubeseal --recovery-unseal`
//! accepts: PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`), a controller key Secret
//! (YAML or JSON, `data["tls.key"]`), or a `List` of such Secrets, as
//! `kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`
//! prints it. Pure: bytes in, keys out. Key material is zeroized when dropped; errors never
//! contain key bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use x509_parser::pem::Pem;
use zeroize::Zeroizing;

use crate::rsa::{PrivateKey, RsaError};
use crate::yaml;

/// Why a private key file could not be read. Never carries key bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("neither a PEM private key nor a YAML/JSON Secret (the file is binary)")]
    Binary,
    #[error("neither a PEM private key nor a readable YAML/JSON Secret: {0}")]
    Unreadable(String),
    #[error(
        "no private key found: expected a PEM private key (-----BEGIN RSA PRIVATE KEY-----), a Secret with data[\"tls.key\"] or a List of them"
    )]
    NoKey,
    #[error("the {0} has no items")]
    EmptyList(String),
    #[error("Secret {0} has no data[\"tls.key\"]")]
    NoTlsKey(String),
    #[error("Secret {0}: data[\"tls.key\"] is not valid base64")]
    TlsKeyNotBase64(String),
    #[error("Secret {0}: data[\"tls.key\"] holds no PEM private key")]
    TlsKeyNotPem(String),
    #[error("expected a Secret or a List of Secrets holding tls.key, found kind {0}")]
    WrongKind(String),
    #[error("invalid PKCS#1 RSA private key: {0}")]
    BadPkcs1(RsaError),
    #[error("not a usable RSA PKCS#8 private key ({0})")]
    BadPkcs8(RsaError),
    /// An EC or Ed25519 key.
    #[error("{0}; the sealed-secrets controller's keys are RSA")]
    NotRsa(&'static str),
    #[error("the private key is password-protected")]
    Encrypted,
}

impl KeyError {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            KeyError::Binary
            | KeyError::Unreadable(_)
            | KeyError::NoKey
            | KeyError::WrongKind(_)
            | KeyError::EmptyList(_)
            | KeyError::NotRsa(_) => {
                "pass the controller's key: the escrow from `sealstrap key new` (with --identity), or `kubectl -n kube-system get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml`"
            }
            KeyError::NoTlsKey(_) => {
                "is it a sealed-secrets key Secret? Those are type kubernetes.io/tls with tls.crt and tls.key"
            }
            KeyError::TlsKeyNotBase64(_) | KeyError::TlsKeyNotPem(_) => {
                "take the Secret from the cluster unchanged (kubectl get secret -o yaml); data values are base64 of the PEM"
            }
            KeyError::BadPkcs1(_) | KeyError::BadPkcs8(_) => {
                "the file is damaged or not the controller's key; restore it from the escrow or the cluster"
            }
            KeyError::Encrypted => {
                "decrypt it into memory, not a file: `openssl pkey -in KEY | sealstrap unseal --private-key - ...`, or keep keys in an escrow (sealstrap key backup)"
            }
        })
    }
}

/// Parses every RSA private key in `data`: PEM blocks first, else a Secret or a List of them.
pub fn parse_private_keys(data: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
    if let Some(keys) = parse_pem_keys(data)? {
        return Ok(keys);
    }
    let text = std::str::from_utf8(data).map_err(|_| KeyError::Binary)?;
    let docs = yaml::parse_documents(text).map_err(|e| KeyError::Unreadable(e.to_string()))?;
    let mut keys = Vec::new();
    for doc in docs.iter() {
        collect_from_object(doc, &mut keys)?;
    }
    if keys.is_empty() {
        return Err(KeyError::NoKey);
    }
    Ok(keys)
}

fn collect_from_object(doc: &Value, keys: &mut Vec<PrivateKey>) -> Result<(), KeyError> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    match kind {
        "List" | "SecretList" => {
            let items = doc
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| KeyError::EmptyList(kind.to_string()))?;
            for item in items {
                collect_from_object(item, keys)?;
            }
            Ok(())
        }
        "Secret" => {
            let name = doc
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            let encoded = doc
                .pointer("/data/tls.key")
                .and_then(Value::as_str)
                .ok_or_else(|| KeyError::NoTlsKey(name.to_string()))?;
            let pem = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| KeyError::TlsKeyNotBase64(name.to_string()))?,
            );
            match parse_pem_keys(&pem)? {
                Some(mut found) => {
                    keys.append(&mut found);
                    Ok(())
                }
                None => Err(KeyError::TlsKeyNotPem(name.to_string())),
            }
        }
        "" => Err(KeyError::NoKey),
        other => Err(KeyError::WrongKind(other.to_string())),
    }
}

/// Keys from PEM blocks; `None` when `data` holds no PEM private key block at all.
fn parse_pem_keys(data: &[u8]) -> Result<Option<Vec<PrivateKey>>, KeyError> {
    let mut keys = Vec::new();
    for block in Pem::iter_from_buffer(data) {
        let Ok(block) = block else {
            break;
        };
        let contents = Zeroizing::new(block.contents);
        let key = match block.label.as_str() {
            "RSA PRIVATE KEY" => {
                PrivateKey::from_pkcs1_der(&contents).map_err(KeyError::BadPkcs1)?
            }
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&contents).map_err(|e| {
                // id-ecPublicKey (RFC 5480) and id-Ed25519 (RFC 8410) in the AlgorithmIdentifier.
                let has = |oid: &[u8]| contents.windows(oid.len()).any(|w| w == oid);
                if has(&[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]) {
                    KeyError::NotRsa("an EC private key (PKCS#8)")
                } else if has(&[0x06, 0x03, 0x2b, 0x65, 0x70]) {
                    KeyError::NotRsa("an Ed25519 private key (PKCS#8)")
                } else {
                    KeyError::BadPkcs8(e)
                }
            })?,
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            "EC PRIVATE KEY" => return Err(KeyError::NotRsa("an EC private key")),
            _ => continue,
        };
        keys.push(key);
    }
    Ok((!keys.is_empty()).then_some(keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_echoing_it() {
        let err = parse_private_keys(b"kind: ConfigMap\nmetadata: {name: x}\n").unwrap_err();
        assert!(err.to_string().contains("found kind ConfigMap"), "{err}");
        let err = parse_private_keys(b"\xff\xfe\x00binary").unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
    }

    #[test]
    fn secret_without_tls_key() {
        let err = parse_private_keys(
            b"apiVersion: v1\nkind: Secret\nmetadata: {name: k}\ndata: {a: YQ==}\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("Secret k has no data[\"tls.key\"]"),
            "{err}"
        );
    }
}
