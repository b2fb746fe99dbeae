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

use crate::rsa::PrivateKey;
use crate::yaml;

/// Why a private key file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{0}")]
    Invalid(String),
}

impl KeyError {
    fn new(msg: impl Into<String>) -> Self {
        KeyError::Invalid(msg.into())
    }
}

/// Parses every RSA private key in `data`: PEM blocks first, else a Secret or a List of them.
pub fn parse_private_keys(data: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
    if let Some(keys) = parse_pem_keys(data)? {
        return Ok(keys);
    }
    let text = std::str::from_utf8(data).map_err(|_| {
        KeyError::new("neither a PEM private key nor a YAML/JSON Secret (the file is binary)")
    })?;
    let docs = yaml::parse_documents(text).map_err(|e| {
        KeyError::new(format!(
            "neither a PEM private key nor a readable YAML/JSON Secret: {e}"
        ))
    })?;
    let mut keys = Vec::new();
    for doc in docs.iter() {
        collect_from_object(doc, &mut keys)?;
    }
    if keys.is_empty() {
        return Err(KeyError::new(
            "no private key found: expected a PEM private key, a Secret with data[\"tls.key\"] or a List of them",
        ));
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
                .ok_or_else(|| KeyError::new(format!("the {kind} has no items")))?;
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
                .ok_or_else(|| {
                    KeyError::new(format!(
                        "Secret {name} has no data[\"tls.key\"]; is it a sealed-secrets key Secret?"
                    ))
                })?;
            let pem = Zeroizing::new(STANDARD.decode(encoded).map_err(|_| {
                KeyError::new(format!(
                    "Secret {name}: data[\"tls.key\"] is not valid base64"
                ))
            })?);
            match parse_pem_keys(&pem)? {
                Some(mut found) => {
                    keys.append(&mut found);
                    Ok(())
                }
                None => Err(KeyError::new(format!(
                    "Secret {name}: data[\"tls.key\"] holds no PEM private key"
                ))),
            }
        }
        "" => Err(KeyError::new(
            "no private key found: expected a PEM private key (-----BEGIN RSA PRIVATE KEY-----), a Secret with data[\"tls.key\"] or a List of them",
        )),
        other => Err(KeyError::new(format!(
            "expected a Secret or a List of Secrets holding tls.key, found kind {other}"
        ))),
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
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&contents)
                .map_err(|e| KeyError::new(format!("invalid PKCS#1 RSA private key: {e}")))?,
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&contents).map_err(|e| {
                // id-ecPublicKey (RFC 5480) and id-Ed25519 (RFC 8410) in the AlgorithmIdentifier.
                let has = |oid: &[u8]| contents.windows(oid.len()).any(|w| w == oid);
                if has(&[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]) {
                    KeyError::new("an EC private key (PKCS#8); the sealed-secrets controller's keys are RSA")
                } else if has(&[0x06, 0x03, 0x2b, 0x65, 0x70]) {
                    KeyError::new("an Ed25519 private key (PKCS#8); the sealed-secrets controller's keys are RSA")
                } else {
                    KeyError::new(format!(
                        "not a usable RSA PKCS#8 private key ({e}); the controller's keys are RSA"
                    ))
                }
            })?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError::new(
                    "the private key is password-protected; decrypt it first (openssl pkey -in KEY -out plain.pem)",
                ));
            }
            "EC PRIVATE KEY" => {
                return Err(KeyError::new(
                    "an EC private key; the sealed-secrets controller's keys are RSA",
                ));
            }
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
