//! The sealed-secrets controller's own key pairs, made and read offline: the self-signed
//! certificate built from the controller's template, the key Secret in the controller's format,
//! the `v1` `List` of them that the escrow holds, and which key seals.
//!
//! Pure: the key, the clock (`not_before`) and the serial come in as arguments. Sources, all in
//! bitnami-labs/sealed-secrets v0.36.6:
//! - `pkg/crypto/keys.go` `SignKeyWithNotBefore`: serial = random integer below 2^128, NotBefore
//!   = now, NotAfter = NotBefore + `--key-ttl` (default `10*365*24h`), Subject = Issuer =
//!   `CN=<--my-cn>` (empty name by default), KeyUsage EncipherOnly, BasicConstraintsValid and
//!   IsCA, self-signed with SHA256WithRSA. Go's `x509.CreateCertificate` writes the extensions
//!   in the order KeyUsage, BasicConstraints, SubjectKeyId (SHA-1 of the PKCS#1 public key,
//!   added for CA certificates), all reproduced here byte for byte.
//! - `pkg/controller/keys.go` `writeKey`: type `kubernetes.io/tls`, `tls.key` PKCS#1 PEM,
//!   `tls.crt` the certificate PEM, label `sealedsecrets.bitnami.com/sealed-secrets-key: active`,
//!   `generateName: sealed-secrets-key`. The controller lets the API server pick the suffix;
//!   sealstrap needs a fixed name to apply, so it takes five characters of the fingerprint.
//! - `pkg/controller/main.go`: the sealing key is the one with the newest certificate NotBefore
//!   (`--key-order-priority CertNotBefore`, the default); every key decrypts.

use crate::der::tlv;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cert::{self, Certificate};
use crate::keys;
use crate::rsa::{PrivateKey, RsaError};
use crate::timefmt;
use crate::yaml;

/// The label every controller key Secret carries.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The controller's default `--key-prefix` (the chart's `secretName`).
pub const DEFAULT_KEY_PREFIX: &str = "sealed-secrets-key";
/// The controller's default `--key-ttl`: 10 × 365 × 24 h.
pub const DEFAULT_TTL_SECS: i64 = 10 * 365 * 24 * 3600;

/// What goes into a new certificate besides the key.
#[derive(Clone, Debug)]
pub struct Template {
    /// `--my-cn`; `None` (the controller's default) gives an empty subject and issuer.
    pub common_name: Option<String>,
    /// Unix seconds; the controller uses "now".
    pub not_before: i64,
    /// Validity length in seconds.
    pub ttl_secs: i64,
    /// 16 random bytes: the serial is this number (below 2^128).
    pub serial: [u8; 16],
}

/// Why a controller key or key list could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControllerKeyError {
    #[error("{0}")]
    Rsa(#[from] RsaError),
    #[error("key Secret {name}: {problem}")]
    BadSecret { name: String, problem: String },
    #[error("the key list holds no controller key Secret")]
    Empty,
    #[error("not a key list: {0}")]
    NotAList(String),
    #[error("the validity of {0} seconds is out of range")]
    BadTtl(i64),
}

impl ControllerKeyError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ControllerKeyError::BadSecret { .. } | ControllerKeyError::NotAList(_) => Some(
                "the escrow must hold a v1 List of kubernetes.io/tls Secrets with tls.crt and tls.key, as `sealstrap key new` writes it",
            ),
            _ => None,
        }
    }
}

/// One controller key pair: the private key and its certificate.
#[derive(Clone)]
pub struct ControllerKey {
    pub key: PrivateKey,
    /// The certificate as PEM (one block).
    pub cert_pem: String,
    /// The parsed certificate.
    pub cert: Certificate,
}

impl std::fmt::Debug for ControllerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerKey")
            .field("fingerprint", &self.cert.fingerprint)
            .finish_non_exhaustive()
    }
}

impl ControllerKey {
    /// Makes the certificate for `key` from the controller's template.
    pub fn new(key: PrivateKey, template: &Template) -> Result<Self, ControllerKeyError> {
        let der = self_signed_der(&key, template)?;
        let cert_pem = pem("CERTIFICATE", &der);
        let cert = cert::parse(cert_pem.as_bytes()).map_err(|e| ControllerKeyError::BadSecret {
            name: "(new)".into(),
            problem: e.to_string(),
        })?;
        Ok(ControllerKey {
            key,
            cert_pem,
            cert,
        })
    }

    /// `<prefix><5 characters of the fingerprint>`: stable, so applying twice is a no-op.
    pub fn secret_name(&self, prefix: &str) -> String {
        let hex = self.cert.fingerprint.trim_start_matches("sha256:");
        format!("{prefix}{}", &hex[..5])
    }

    /// The key Secret in the controller's format, as a `List` item (`- apiVersion: v1` ...)
    /// with every line indented by `indent`.
    fn secret_yaml(
        &self,
        namespace: &str,
        prefix: &str,
        indent: &str,
    ) -> Result<Zeroizing<String>, ControllerKeyError> {
        self.secret_lines(namespace, &self.secret_name(prefix), indent, true)
    }

    /// The key Secret in the controller's format as one YAML document named `name` (what a
    /// bootstrap's manifest holds: `apiVersion: v1` at the margin).
    pub fn secret_document(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Zeroizing<String>, ControllerKeyError> {
        self.secret_lines(namespace, name, "", false)
    }

    /// The Secret's YAML lines. Built by hand into a zeroizing buffer sized up front, so the
    /// private key is never in an unzeroized string (nor in a buffer left behind by a growth).
    fn secret_lines(
        &self,
        namespace: &str,
        name: &str,
        indent: &str,
        item: bool,
    ) -> Result<Zeroizing<String>, ControllerKeyError> {
        let pkcs1 = self.key.to_pkcs1_der()?;
        let key_pem = Zeroizing::new(pem("RSA PRIVATE KEY", &pkcs1));
        let key_b64 = Zeroizing::new(STANDARD.encode(key_pem.as_bytes()));
        let crt_b64 = STANDARD.encode(self.cert_pem.as_bytes());
        let (first, rest) = if item { ("- ", "  ") } else { ("", "") };
        let mut out = Zeroizing::new(String::with_capacity(
            key_b64.len() + crt_b64.len() + 16 * indent.len() + 512,
        ));
        for (i, line) in [
            "apiVersion: v1".to_string(),
            "kind: Secret".into(),
            "metadata:".into(),
            format!("  name: {name}"),
            format!("  namespace: {namespace}"),
            "  labels:".into(),
            format!("    {KEY_LABEL}: active"),
            "type: kubernetes.io/tls".into(),
            "data:".into(),
            format!("  tls.crt: {crt_b64}"),
        ]
        .iter()
        .enumerate()
        {
            out.push_str(indent);
            out.push_str(if i == 0 { first } else { rest });
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(indent);
        out.push_str(rest);
        out.push_str("  tls.key: ");
        out.push_str(&key_b64);
        out.push('\n');
        Ok(out)
    }
}

/// The escrow's plaintext: a `v1` `List` of key Secrets, oldest first, that
/// `kubectl apply -f -` takes as it is.
pub fn key_list_yaml(
    keys: &[ControllerKey],
    namespace: &str,
    prefix: &str,
) -> Result<Zeroizing<String>, ControllerKeyError> {
    let mut sorted: Vec<&ControllerKey> = keys.iter().collect();
    sorted.sort_by_key(|k| k.cert.not_before);
    let mut out = Zeroizing::new(String::from(
        "# sealed-secrets controller keys (sealstrap key escrow).\n\
         # Restore without sealstrap: age -d -i IDENTITY controller-keys.age | kubectl apply -f -\n\
         apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n",
    ));
    for k in sorted {
        out.push_str(&k.secret_yaml(namespace, prefix, "")?);
    }
    Ok(out)
}

/// Reads controller keys from a key Secret, a `List` of them (the escrow's plaintext, or
/// `kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`), YAML or JSON.
/// Each Secret must hold `tls.key` and `tls.crt`, and they must be one pair.
pub fn parse_key_list(text: &str) -> Result<Vec<ControllerKey>, ControllerKeyError> {
    let docs =
        yaml::parse_documents(text).map_err(|e| ControllerKeyError::NotAList(e.to_string()))?;
    let mut out = Vec::new();
    for doc in &docs {
        collect(doc, &mut out)?;
    }
    if out.is_empty() {
        return Err(ControllerKeyError::Empty);
    }
    Ok(out)
}

/// Controller keys from API objects (`items` of a Secret list the API server returned).
pub fn from_secrets(items: &[Value]) -> Result<Vec<ControllerKey>, ControllerKeyError> {
    let mut out = Vec::new();
    for item in items {
        out.push(from_secret(item)?);
    }
    Ok(out)
}

fn collect(doc: &Value, out: &mut Vec<ControllerKey>) -> Result<(), ControllerKeyError> {
    match doc.get("kind").and_then(Value::as_str) {
        Some("List" | "SecretList") => {
            let items = doc.get("items").and_then(Value::as_array);
            for item in items.into_iter().flatten() {
                collect(item, out)?;
            }
            Ok(())
        }
        Some("Secret") => {
            out.push(from_secret(doc)?);
            Ok(())
        }
        Some(other) => Err(ControllerKeyError::NotAList(format!(
            "found kind {other}, expected a Secret or a List of Secrets"
        ))),
        None => Err(ControllerKeyError::NotAList(
            "a document has no kind".into(),
        )),
    }
}

fn from_secret(doc: &Value) -> Result<ControllerKey, ControllerKeyError> {
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string();
    let bad = |problem: String| ControllerKeyError::BadSecret {
        name: name.clone(),
        problem,
    };
    let field = |k: &str| -> Result<Zeroizing<Vec<u8>>, ControllerKeyError> {
        let b64 = doc
            .pointer(&format!("/data/{k}"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("no data[\"{k}\"]")))?;
        Ok(Zeroizing::new(STANDARD.decode(b64).map_err(|_| {
            bad(format!("data[\"{k}\"] is not valid base64"))
        })?))
    };
    let key_pem = field("tls.key")?;
    let crt_pem = field("tls.crt")?;
    let mut found = keys::parse_private_keys(&key_pem).map_err(|e| bad(e.to_string()))?;
    if found.len() != 1 {
        return Err(bad(format!(
            "tls.key holds {} keys, expected 1",
            found.len()
        )));
    }
    let key = found.remove(0);
    let crt = cert::parse(&crt_pem).map_err(|e| bad(format!("tls.crt: {e}")))?;
    if key.public_key().spki_der() != crt.public_key.spki_der() {
        return Err(bad("tls.key and tls.crt are not one key pair".into()));
    }
    let cert_pem =
        String::from_utf8(crt_pem.to_vec()).map_err(|_| bad("tls.crt is not text".into()))?;
    Ok(ControllerKey {
        key,
        cert_pem,
        cert: crt,
    })
}

/// The key the controller seals with: the newest certificate NotBefore.
pub fn sealing_key<'a, I: IntoIterator<Item = &'a Certificate>>(
    certs: I,
) -> Option<&'a Certificate> {
    certs.into_iter().max_by_key(|c| c.not_before)
}

/// Adds `new` keys to `existing`, skipping those already there (same fingerprint). Returns the
/// fingerprints that were added.
pub fn merge(existing: &mut Vec<ControllerKey>, new: Vec<ControllerKey>) -> Vec<String> {
    let mut added = Vec::new();
    for k in new {
        if existing
            .iter()
            .all(|e| e.cert.fingerprint != k.cert.fingerprint)
        {
            added.push(k.cert.fingerprint.clone());
            existing.push(k);
        }
    }
    added
}

/// Every certificate in a PEM bundle (the committed `controller.crt`), newest first.
pub fn parse_cert_bundle(data: &[u8]) -> Result<Vec<Certificate>, cert::CertError> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for block in text.split_inclusive("-----END CERTIFICATE-----") {
        if let Some(start) = block.find("-----BEGIN CERTIFICATE-----") {
            out.push(cert::parse(&block.as_bytes()[start..])?);
        }
    }
    if out.is_empty() {
        return Err(cert::CertError::NotPem);
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.not_before));
    Ok(out)
}

/// The PEM bundle of every key's certificate, newest first, so tools that read the first block
/// (kubeseal, `seal --cert`) seal with the key the controller would pick.
pub fn cert_bundle(keys: &[ControllerKey]) -> String {
    let mut sorted: Vec<&ControllerKey> = keys.iter().collect();
    sorted.sort_by_key(|k| std::cmp::Reverse(k.cert.not_before));
    sorted.iter().map(|k| k.cert_pem.as_str()).collect()
}

/// A one-line description of a certificate for listings.
pub fn describe(c: &Certificate) -> String {
    format!(
        "{}  NotBefore {}  NotAfter {}  RSA-{}",
        c.fingerprint,
        timefmt::rfc3339(c.not_before),
        timefmt::rfc3339(c.not_after),
        c.bits
    )
}

/// PEM with 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// --- The certificate, in DER (RFC 5280 §4.1), laid out as Go's x509.CreateCertificate does ---

const OID_SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];

fn self_signed_der(key: &PrivateKey, t: &Template) -> Result<Vec<u8>, ControllerKeyError> {
    if t.ttl_secs <= 0 || t.ttl_secs > 200 * 365 * 86_400 {
        return Err(ControllerKeyError::BadTtl(t.ttl_secs));
    }
    let spki = key.public_key().spki_der();
    let name = name_der(t.common_name.as_deref());
    let sig_alg = tlv(
        0x30,
        &[tlv(0x06, OID_SHA256_WITH_RSA), tlv(0x05, &[])].concat(),
    );
    let validity = tlv(
        0x30,
        &[time_der(t.not_before), time_der(t.not_before + t.ttl_secs)].concat(),
    );
    // KeyUsage: BIT STRING with encipherOnly (bit 7), as Go encodes it: 03 02 00 01... Go
    // reverses the bit order per byte, so bit 7 becomes 0x01 with no unused bits.
    let key_usage = extension(OID_KEY_USAGE, true, &tlv(0x03, &[0x00, 0x01]));
    let basic = extension(OID_BASIC_CONSTRAINTS, true, &tlv(0x30, &tlv(0x01, &[0xff])));
    let ski = extension(
        OID_SUBJECT_KEY_ID,
        false,
        &tlv(0x04, &subject_key_id(&spki)?),
    );
    let extensions = tlv(0xa3, &tlv(0x30, &[key_usage, basic, ski].concat()));
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[0x02])),
            crate::der::uint(&t.serial),
            sig_alg.clone(),
            name.clone(),
            validity,
            name,
            spki,
            extensions,
        ]
        .concat(),
    );
    let signature = key.sign_pkcs1_sha256(&tbs)?;
    let mut bits = vec![0x00];
    bits.extend_from_slice(&signature);
    Ok(tlv(0x30, &[tbs, sig_alg, tlv(0x03, &bits)].concat()))
}

/// An empty `Name`, or `CN=<cn>` (PrintableString when it fits, as Go chooses, else UTF8String).
fn name_der(cn: Option<&str>) -> Vec<u8> {
    match cn {
        None | Some("") => tlv(0x30, &[]),
        Some(cn) => {
            let printable = cn
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
            let value = tlv(if printable { 0x13 } else { 0x0c }, cn.as_bytes());
            let atv = tlv(0x30, &[tlv(0x06, OID_COMMON_NAME), value].concat());
            tlv(0x30, &tlv(0x31, &atv))
        }
    }
}

/// UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5).
fn time_der(unix: i64) -> Vec<u8> {
    let s = timefmt::rfc3339(unix); // YYYY-MM-DDTHH:MM:SSZ
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let year: i64 = digits[..4].parse().unwrap_or(0);
    if (1950..2050).contains(&year) {
        tlv(0x17, format!("{}Z", &digits[2..]).as_bytes())
    } else {
        tlv(0x18, format!("{digits}Z").as_bytes())
    }
}

/// Go's `x509.CreateCertificate` SubjectKeyId for a CA: SHA-1 of the subjectPublicKey bits.
fn subject_key_id(spki: &[u8]) -> Result<Vec<u8>, ControllerKeyError> {
    let (_, body, _) = crate::rsa::der_read(spki)?;
    let (_, _algorithm, rest) = crate::rsa::der_read(body)?;
    let (tag, bits, _) = crate::rsa::der_read(rest)?;
    if tag != 0x03 || bits.is_empty() {
        return Err(RsaError::Der("SubjectPublicKeyInfo has no BIT STRING").into());
    }
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &bits[1..]);
    Ok(digest.as_ref().to_vec())
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut body = tlv(0x06, oid);
    if critical {
        body.extend_from_slice(&tlv(0x01, &[0xff]));
    }
    body.extend_from_slice(&tlv(0x04, value));
    tlv(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_times_encode_like_go() {
        // 2026-11-28T23:17:59Z, the vector certificate's NotBefore.
        assert_eq!(time_der(1_795_907_879), tlv(0x17, b"261128231759Z"));
        assert_eq!(time_der(2_524_608_000)[0], 0x18, "2050 is GeneralizedTime");
    }

    #[test]
    fn names_are_empty_or_one_common_name() {
        assert_eq!(name_der(None), vec![0x30, 0x00]);
        assert_eq!(
            name_der(Some("ab")),
            vec![
                0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x02, b'a',
                b'b'
            ]
        );
        assert_eq!(name_der(Some("a_b"))[11], 0x0c, "not printable: UTF8String");
    }
}
