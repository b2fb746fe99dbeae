//! The tests' own decryptor of SealedSecrets, written from the format's definition
//! (sealed-secrets `pkg/crypto/crypto.go` `HybridDecrypt`, FACTS §1-§2) directly on AWS-LC,
//! sharing no code with sealstrap's `seal`, `objects` or `keys` modules: what the controller
//! does with a SealedSecret, to check sealstrap's output against something that is not
//! sealstrap. Keys are read from PEM (`RSA PRIVATE KEY`, PKCS#1) or from an escrow's key List.

use std::collections::BTreeMap;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// A controller private key, as the tests hold it.
pub struct Key(OaepPrivateDecryptingKey);

/// DER length bytes.
fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let mut out = vec![0x80 | (bytes.len() - skip) as u8];
    out.extend_from_slice(&bytes[skip..]);
    out
}

/// PKCS#1 `RSAPrivateKey` DER wrapped as PKCS#8 (RFC 5208), which AWS-LC reads.
fn pkcs8_of(pkcs1: &[u8]) -> Vec<u8> {
    const RSA: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut octets = vec![0x04];
    octets.extend(der_len(pkcs1.len()));
    octets.extend_from_slice(pkcs1);
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&RSA);
    body.extend(octets);
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

/// The keys in PEM text: every `RSA PRIVATE KEY` or `PRIVATE KEY` block.
pub fn keys_from_pem(pem: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let header_end = rest[start..].find('\n').unwrap() + start;
        let label = rest[start + 11..header_end]
            .trim_end_matches('-')
            .trim()
            .to_string();
        let end = rest[header_end..].find("-----END").unwrap() + header_end;
        let b64: String = rest[header_end..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD.decode(b64).unwrap();
        let pkcs8 = match label.as_str() {
            "RSA PRIVATE KEY" => Some(pkcs8_of(&der)),
            "PRIVATE KEY" => Some(der),
            _ => None,
        };
        if let Some(p) = pkcs8 {
            let k = PrivateDecryptingKey::from_pkcs8(&p).unwrap();
            keys.push(Key(OaepPrivateDecryptingKey::new(k).unwrap()));
        }
        rest = &rest[end + 8..];
    }
    keys
}

/// The keys in a PEM file (or a key Secret / List YAML: its `tls.key` values).
pub fn keys_from_file(path: &Path) -> Vec<Key> {
    let text = std::fs::read_to_string(path).unwrap();
    if text.contains("-----BEGIN") {
        return keys_from_pem(&text);
    }
    keys_from_key_list(&text)
}

/// The keys of a controller key List (an escrow's plaintext): each item's `tls.key`.
pub fn keys_from_key_list(yaml: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    for doc in sealstrap::yaml::parse_documents(yaml).unwrap() {
        let items = match doc["kind"].as_str() {
            Some("List") => doc["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![doc],
        };
        for item in items {
            if let Some(b64) = item["data"]["tls.key"].as_str() {
                let pem = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
                keys.extend(keys_from_pem(&pem));
            }
        }
    }
    keys
}

/// The OAEP label of a SealedSecret, from its top-level metadata (FACTS §2).
fn label(doc: &Value) -> Vec<u8> {
    let annotations = &doc["metadata"]["annotations"];
    let on = |a: &str| annotations[a].as_str() == Some("true");
    let ns = doc["metadata"]["namespace"].as_str().unwrap_or("");
    let name = doc["metadata"]["name"].as_str().unwrap_or("");
    if on("sealedsecrets.bitnami.com/cluster-wide") {
        Vec::new()
    } else if on("sealedsecrets.bitnami.com/namespace-wide") {
        ns.as_bytes().to_vec()
    } else {
        format!("{ns}/{name}").into_bytes()
    }
}

/// One sealed value opened with any of `keys`, as `HybridDecrypt` does.
pub fn open_value(keys: &[Key], label: &[u8], value: &str) -> Option<Vec<u8>> {
    let raw = STANDARD.decode(value).ok()?;
    let n = usize::from(u16::from_be_bytes([*raw.first()?, *raw.get(1)?]));
    let (wrapped, body) = raw.get(2..)?.split_at_checked(n)?;
    for k in keys {
        let mut session = vec![0u8; k.0.min_output_size()];
        let label = (!label.is_empty()).then_some(label);
        let Ok(key) =
            k.0.decrypt(&OAEP_SHA256_MGF1SHA256, wrapped, &mut session, label)
        else {
            continue;
        };
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
        let mut buf = body.to_vec();
        let plain = aead
            .open_in_place(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::empty(),
                &mut buf,
            )
            .ok()?;
        return Some(plain.to_vec());
    }
    None
}

/// Every value of every SealedSecret in `file`: `NAME/KEY -> plaintext`, or `None` when one
/// does not open.
pub fn open_file(file: &Path, keys: &[Key]) -> Option<BTreeMap<String, Vec<u8>>> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = BTreeMap::new();
    for doc in sealstrap::yaml::parse_documents(&text).unwrap() {
        if doc["kind"] != "SealedSecret" {
            continue;
        }
        let label = label(&doc);
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_string();
        for (k, v) in doc["spec"]["encryptedData"].as_object()? {
            out.insert(
                format!("{name}/{k}"),
                open_value(keys, &label, v.as_str()?)?,
            );
        }
    }
    Some(out)
}

/// Every sealstrap value in the folder `dir` (`sealed/` or `break-glass/`): backend key ->
/// plaintext of its `value`, or `None` when one does not open.
pub fn open_folder(dir: &Path, keys: &[Key]) -> Option<BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        for (id, v) in open_file(&f, keys)? {
            let (name, key) = id.split_once('/').unwrap();
            assert_eq!(key, "value", "{}: sealstrap's data key", f.display());
            all.insert(name.to_string(), String::from_utf8(v).unwrap());
        }
    }
    Some(all)
}
