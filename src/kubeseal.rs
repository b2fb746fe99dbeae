//! kubeseal's offline operations over whole input streams: seal Secrets, seal one raw value,
//! merge into an existing SealedSecret, and recovery-unseal. Text in, values out; the binary
//! does the reading, writing and flag handling.

use crate::rsa::{PrivateKey, PublicKey};
use rand::CryptoRng;
use serde_json::Value;

use crate::objects::{
    self, ObjectError, SealRequest, SealedDoc, Target, UnsealedSecret, merge_into as merge_values,
};
use crate::seal::{self, Scope};
use crate::yaml::{self, Format};

fn parse(text: &str) -> Result<Vec<Value>, ObjectError> {
    let docs = yaml::parse_documents(text).map_err(|e| ObjectError::Syntax(e.message))?;
    if docs.is_empty() {
        return Err(ObjectError::NoDocument);
    }
    Ok(docs)
}

fn seal_err(e: seal::SealError) -> ObjectError {
    ObjectError::Seal(e.to_string())
}

/// Seals every Secret in `text` (a YAML or JSON stream). All or nothing: the first bad document
/// fails the whole stream, before any output exists.
pub fn seal_stream<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    text: &str,
    req: &SealRequest,
) -> Result<Vec<Value>, ObjectError> {
    let docs = parse(text)?;
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let index = i + 1;
        let mut secret = objects::parse_secret(doc, index)?;
        let target = objects::resolve(&mut secret, req, index)?;
        out.push(objects::sealed_secret(rng, key, &secret, &target).map_err(seal_err)?);
    }
    Ok(out)
}

/// `--raw`: seals one value; returns bare base64. Strict needs a name and a namespace,
/// namespace-wide a namespace, cluster-wide neither.
pub fn seal_raw<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    value: &[u8],
    scope: Scope,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<String, ObjectError> {
    let name = name.unwrap_or("");
    let namespace = namespace.unwrap_or("");
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(ObjectError::RawNeeds {
            flag: "namespace",
            scope: scope.to_string(),
        });
    }
    if scope == Scope::Strict && name.is_empty() {
        return Err(ObjectError::RawNeeds {
            flag: "name",
            scope: scope.to_string(),
        });
    }
    seal::seal(rng, key, &scope.label(namespace, name), value).map_err(seal_err)
}

/// `--merge-into`: seals the Secret in `text` for the SealedSecret in `target_text` (its name,
/// namespace and, unless `--scope` says otherwise, its scope) and returns the updated file in
/// the target file's own format. With the controller's `keys`, a value already in the file with
/// the same plaintext, sealed for this same certificate, keeps its ciphertext: a merge that
/// changes one key shows one changed line in review, not a wall of base64.
pub fn merge_into<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    text: &str,
    target_text: &str,
    req: &SealRequest,
    keys: &[crate::rsa::PrivateKey],
) -> Result<String, ObjectError> {
    let in_target = |e: ObjectError| ObjectError::InMergeTarget(Box::new(e));
    let target_docs = yaml::parse_documents(target_text)
        .map_err(|e| in_target(ObjectError::Syntax(e.message)))?;
    if target_docs.len() != 1 {
        return Err(ObjectError::MergeTargetCount(target_docs.len()));
    }
    let target = objects::parse_sealed_secret(&target_docs[0], 1).map_err(in_target)?;
    if let Some(scope) = req.scope
        && scope != target.scope
    {
        return Err(ObjectError::MergeScope {
            given: scope.to_string(),
            file: target.scope.to_string(),
        });
    }
    let docs = parse(text)?;
    if docs.len() != 1 {
        return Err(ObjectError::MergeInputCount(docs.len()));
    }
    let mut secret = objects::parse_secret(&docs[0], 1)?;
    // The file decides where the values will be unsealed; the input only brings items and
    // template metadata.
    if target.namespace.is_empty() {
        secret.metadata.remove("namespace");
    } else {
        secret
            .metadata
            .insert("namespace".into(), Value::String(target.namespace.clone()));
    }
    let req = SealRequest {
        scope: Some(target.scope),
        name: Some(target.name.clone()),
        namespace: None,
        default_namespace: target.namespace.clone(),
        allow_empty_data: req.allow_empty_data,
    };
    let resolved = objects::resolve(&mut secret, &req, 1)?;
    let resolved = Target {
        namespace: Some(target.namespace.clone()).filter(|n| !n.is_empty()),
        ..resolved
    };
    let mut update = objects::sealed_secret(rng, key, &secret, &resolved).map_err(seal_err)?;
    // No churn: keep a ciphertext whose plaintext is unchanged, sealed for this certificate
    // (only a key whose public half is the certificate's may say so).
    let same_cert: Vec<crate::rsa::PrivateKey> = keys
        .iter()
        .filter(|k| k.public_key().spki_der() == key.spki_der())
        .cloned()
        .collect();
    if !same_cert.is_empty() {
        let label = target.label();
        let old = target.encrypted_data();
        if let Some(Value::Object(new)) = update.pointer_mut("/spec/encryptedData") {
            for (k, v) in new.iter_mut() {
                let (Some(old_ct), Some(plain)) = (old.get(k.as_str()), secret.items.get(k)) else {
                    continue;
                };
                if crate::seal::unseal(&same_cert, &label, old_ct)
                    .is_ok_and(|p| p.as_slice() == plain.as_slice())
                {
                    *v = Value::String(old_ct.to_string());
                }
            }
        }
    }
    let mut merged = target.value.clone();
    merge_values(&mut merged, &update);
    let format = if yaml::looks_like_json(target_text) {
        Format::Json
    } else {
        Format::Yaml
    };
    Ok(format.render(&[merged]))
}

/// Reads every SealedSecret in `text`.
pub fn parse_sealed_stream(text: &str) -> Result<Vec<SealedDoc>, ObjectError> {
    parse(text)?
        .iter()
        .enumerate()
        .map(|(i, d)| objects::parse_sealed_secret(d, i + 1))
        .collect()
}

/// `--recovery-unseal`: every SealedSecret in `text` back to its Secret. Any failure fails all.
pub fn unseal_stream(text: &str, keys: &[PrivateKey]) -> Result<Vec<UnsealedSecret>, ObjectError> {
    let sealed = parse_sealed_stream(text)?;
    let mut out = Vec::with_capacity(sealed.len());
    for s in &sealed {
        out.push(
            objects::unseal_sealed_secret(s, keys).map_err(|f| ObjectError::Unseal {
                id: s.id(),
                reason: f.to_string(),
            })?,
        );
    }
    Ok(out)
}
