//! RSA for sealstrap, on aws-lc-rs: OAEP-SHA256 (MGF1-SHA256) with a label, public keys from a
//! certificate's SubjectPublicKeyInfo, private keys from PKCS#1 or PKCS#8 DER, and key
//! generation for `key new`.
//!
//! This module owns every use of the RSA backend, so the rest of the crate never names it.
//! aws-lc-rs is constant-time and carries no open advisory; the `rsa` crate, which sealstrap used
//! first, is flagged by every audit for RUSTSEC-2023-0071 (the Marvin timing attack).
//!
//! The controller keeps `tls.key` as PKCS#1 (`RSA PRIVATE KEY`, upstream
//! `pkg/controller/keys.go` `writeKey`), while aws-lc-rs reads and writes PKCS#8 only; the two
//! differ by a fixed wrapper (RFC 5208 `PrivateKeyInfo` around the RFC 8017 `RSAPrivateKey`),
//! which `wrap_pkcs1` and `unwrap_pkcs8` add and remove. Private key bytes only ever sit in
//! [`Zeroizing`] buffers, and no type here prints key material in `Debug`.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use zeroize::Zeroizing;

/// What went wrong with an RSA key or operation. Never carries key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaError {
    /// The DER is not an RSA key aws-lc-rs accepts (2048 to 8192 bits).
    #[error("not an RSA key of 2048 to 8192 bits ({0})")]
    Rejected(String),
    /// The DER is not well-formed.
    #[error("malformed DER: {0}")]
    Der(&'static str),
    /// Encryption failed (for example a message too long for OAEP with this key).
    #[error("RSA-OAEP encryption failed")]
    Encrypt,
    /// Key generation failed.
    #[error("RSA key generation failed")]
    Generate,
    /// Signing failed.
    #[error("RSA signing failed")]
    Sign,
}

/// An RSA public key that seals session keys with OAEP-SHA256.
#[derive(Clone)]
pub struct PublicKey {
    key: PublicEncryptingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .finish()
    }
}

impl PublicKey {
    /// Builds a public key from its modulus and exponent (unsigned big-endian), as an SSH
    /// `ssh-rsa` public key carries them (RFC 4253 §6.6).
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, RsaError> {
        let mut body = Vec::new();
        crate::der::push_uint(&mut body, n);
        crate::der::push_uint(&mut body, e);
        let pkcs1 = der_sequence(&body);
        // SubjectPublicKeyInfo { rsaEncryption, BIT STRING (0 unused bits) pkcs1 } (RFC 5280).
        let mut bits = vec![0x03];
        crate::der::push_len(&mut bits, pkcs1.len() + 1);
        bits.push(0);
        bits.extend_from_slice(&pkcs1);
        let mut spki = RSA_ALGORITHM_ID.to_vec();
        spki.extend_from_slice(&bits);
        Self::from_spki_der(&der_sequence(&spki))
    }
    /// Reads an X.509 SubjectPublicKeyInfo (what a certificate carries).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, RsaError> {
        let key =
            PublicEncryptingKey::from_der(der).map_err(|e| RsaError::Rejected(e.to_string()))?;
        Ok(PublicKey { key })
    }

    /// Modulus size in bytes: the length of every OAEP ciphertext.
    pub fn size(&self) -> usize {
        self.key.key_size_bytes()
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// The SubjectPublicKeyInfo DER; its SHA-256 is the key's fingerprint.
    pub fn spki_der(&self) -> Vec<u8> {
        self.key
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .unwrap_or_default()
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256, `label`) of `message`.
    pub fn encrypt(&self, label: &[u8], message: &[u8]) -> Result<Vec<u8>, RsaError> {
        let oaep = OaepPublicEncryptingKey::new(self.key.clone()).map_err(|_| RsaError::Encrypt)?;
        let mut out = vec![0u8; oaep.ciphertext_size()];
        let len = oaep
            .encrypt(
                &OAEP_SHA256_MGF1SHA256,
                message,
                &mut out,
                oaep_label(label),
            )
            .map_err(|_| RsaError::Encrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

/// An RSA private key that opens OAEP-SHA256 session keys.
#[derive(Clone)]
pub struct PrivateKey {
    key: PrivateDecryptingKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads a PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, RsaError> {
        let key =
            PrivateDecryptingKey::from_pkcs8(der).map_err(|e| RsaError::Rejected(e.to_string()))?;
        Ok(PrivateKey { key })
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (the controller's `tls.key`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaError> {
        // Check it is one DER SEQUENCE before wrapping, so garbage is refused as such.
        let (tag, body, rest) = der_read(der)?;
        if tag != 0x30 || !rest.is_empty() || body.is_empty() {
            return Err(RsaError::Der("a PKCS#1 RSAPrivateKey is one SEQUENCE"));
        }
        Self::from_pkcs8_der(&wrap_pkcs1(der))
    }

    /// Builds a key from its parts as an OpenSSH private key file stores them (`n`, `e`, `d`,
    /// `iqmp`, `p`, `q`; PROTOCOL.key in OpenSSH), adding the CRT exponents `d mod (p-1)` and
    /// `d mod (q-1)` that PKCS#1 also needs. AWS-LC checks the result is a consistent key.
    pub fn from_components(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        p: &[u8],
        q: &[u8],
        iqmp: &[u8],
    ) -> Result<Self, RsaError> {
        let p1 = minus_one_odd(strip_zeros(p)).ok_or(RsaError::Der("p is not an odd prime"))?;
        let q1 = minus_one_odd(strip_zeros(q)).ok_or(RsaError::Der("q is not an odd prime"))?;
        let mut body = Zeroizing::new(Vec::with_capacity(n.len() * 5));
        crate::der::push_uint(&mut body, &[0]);
        for part in [n, e, d, p, q] {
            crate::der::push_uint(&mut body, part);
        }
        crate::der::push_uint(&mut body, &big_mod(d, &p1));
        crate::der::push_uint(&mut body, &big_mod(d, &q1));
        crate::der::push_uint(&mut body, iqmp);
        Self::from_pkcs1_der(&der_sequence(&body))
    }

    /// A fresh RSA-4096 key from AWS-LC's DRBG, as the controller makes its keys
    /// (upstream `pkg/crypto/keys.go` `GeneratePrivateKeyAndCert`, `--key-size` 4096).
    pub fn generate_4096() -> Result<Self, RsaError> {
        let key =
            PrivateDecryptingKey::generate(KeySize::Rsa4096).map_err(|_| RsaError::Generate)?;
        Ok(PrivateKey { key })
    }

    /// A fresh RSA-4096 key from the first of `threads` generators to finish
    /// ([`KeyGeneration`]).
    pub fn generate_4096_first_of(threads: usize) -> Result<Self, RsaError> {
        KeyGeneration::start_4096(threads).wait()
    }

    /// The PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, RsaError> {
        let der: Pkcs8V1Der<'static> = self.key.as_der().map_err(|_| RsaError::Generate)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The PKCS#1 DER, as the controller stores it.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, RsaError> {
        let pkcs8 = self.to_pkcs8_der()?;
        Ok(Zeroizing::new(unwrap_pkcs8(&pkcs8)?.to_vec()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.public_key(),
        }
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (Go's SHA256WithRSA), used to
    /// self-sign a controller certificate.
    pub fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, RsaError> {
        use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
        let pkcs8 = self.to_pkcs8_der()?;
        let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| RsaError::Rejected(e.to_string()))?;
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut sig,
        )
        .map_err(|_| RsaError::Sign)?;
        Ok(sig)
    }

    /// Opens an RSA-OAEP(SHA-256) ciphertext made under `label`; `None` if this key or label does
    /// not fit. Like the controller, the caller learns nothing more about why.
    pub fn decrypt(&self, label: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let oaep = OaepPrivateDecryptingKey::new(self.key.clone()).ok()?;
        let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
        let len = oaep
            .decrypt(
                &OAEP_SHA256_MGF1SHA256,
                ciphertext,
                &mut out,
                oaep_label(label),
            )
            .ok()?
            .len();
        out.truncate(len);
        Some(out)
    }
}

/// RSA-4096 key generation running in the background on `threads` generators at once, the key
/// taken from the first to finish: `key new` starts it first and reads its inputs meanwhile.
///
/// Generation draws random candidates until two are prime, so its time varies several-fold from
/// key to key; with more than one generator the wait is the shortest of several draws. The key
/// is no different for it: AWS-LC draws every candidate afresh (FIPS 186-4 B.3.3;
/// `generate_prime` in
/// https://github.com/aws/aws-lc/blob/main/crypto/fipsmodule/rsa/rsa_impl.c), so how long a
/// generator took says nothing about the primes it found.
///
/// The generators cannot be stopped (AWS-LC's generation has no cancellation through aws-lc-rs):
/// those that lose, or all of them when the value is dropped unread, run on to their end and
/// their keys are dropped unread; a process that ends first ends them. Start one per command,
/// never in a loop.
pub struct KeyGeneration {
    keys: std::sync::mpsc::Receiver<Result<PrivateKey, RsaError>>,
}

impl KeyGeneration {
    /// Starts `threads` (at least one) RSA-4096 generators.
    pub fn start_4096(threads: usize) -> KeyGeneration {
        let (tx, keys) = std::sync::mpsc::channel();
        for _ in 0..threads.max(1) {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(PrivateKey::generate_4096());
            });
        }
        KeyGeneration { keys }
    }

    /// The first key made, waiting up to `timeout`: `Ok(None)` if none is ready yet, an error
    /// once every generator failed.
    pub fn wait_for(&self, timeout: std::time::Duration) -> Result<Option<PrivateKey>, RsaError> {
        use std::sync::mpsc::RecvTimeoutError;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.keys.recv_timeout(left) {
                Ok(Ok(key)) => return Ok(Some(key)),
                // One generator failed; the others may not.
                Ok(Err(_)) => continue,
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => return Err(RsaError::Generate),
            }
        }
    }

    /// The first key made, however long it takes.
    pub fn wait(self) -> Result<PrivateKey, RsaError> {
        self.keys
            .iter()
            .find_map(Result::ok)
            .ok_or(RsaError::Generate)
    }
}

impl std::fmt::Debug for KeyGeneration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyGeneration").finish_non_exhaustive()
    }
}

/// The smallest big-endian form of an unsigned integer: no leading zero bytes.
fn strip_zeros(mut n: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n
}

/// A DER SEQUENCE around `body`.
fn der_sequence(body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 6));
    crate::der::push_tlv(&mut out, 0x30, body);
    out
}

/// `a mod m` for unsigned big-endian integers, bit by bit (schoolbook; used once per key load
/// for the CRT exponents, so speed does not matter). `m` must not be zero.
fn big_mod(a: &[u8], m: &[u8]) -> Zeroizing<Vec<u8>> {
    let m = strip_zeros(m);
    // Remainder as big-endian bytes, one byte wider than m so the shift cannot overflow.
    let mut r = Zeroizing::new(vec![0u8; m.len() + 1]);
    for byte in a {
        for bit in (0..8).rev() {
            let mut carry = (byte >> bit) & 1;
            for x in r.iter_mut().rev() {
                let next = *x >> 7;
                *x = (*x << 1) | carry;
                carry = next;
            }
            if ge(&r, m) {
                sub_in_place(&mut r, m);
            }
        }
    }
    r
}

/// `a >= b` for big-endian integers, `a` at least as long as `b`.
fn ge(a: &[u8], b: &[u8]) -> bool {
    let (head, tail) = a.split_at(a.len() - b.len());
    if head.iter().any(|x| *x != 0) {
        return true;
    }
    tail >= b
}

/// `a -= b` for big-endian integers with `a >= b`.
fn sub_in_place(a: &mut [u8], b: &[u8]) {
    let mut borrow = 0i16;
    let offset = a.len() - b.len();
    for i in (0..a.len()).rev() {
        let sub = if i >= offset {
            i16::from(b[i - offset])
        } else {
            0
        };
        let mut v = i16::from(a[i]) - sub - borrow;
        borrow = i16::from(v < 0);
        if v < 0 {
            v += 256;
        }
        a[i] = v as u8;
    }
}

/// `n - 1` for an odd unsigned big-endian integer (an RSA prime).
fn minus_one_odd(n: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(n.to_vec());
    let last = out.last_mut()?;
    if *last & 1 == 0 {
        return None;
    }
    *last &= !1;
    Some(out)
}

/// aws-lc-rs takes "no label" as `None`; an empty label is the same thing in OAEP (RFC 8017
/// §7.1.1: L defaults to the empty string), and the controller's cluster-wide scope uses it.
fn oaep_label(label: &[u8]) -> Option<&[u8]> {
    (!label.is_empty()).then_some(label)
}

/// One DER TLV, a malformed one as [`RsaError::Der`].
pub(crate) fn der_read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), RsaError> {
    crate::der::read(input).map_err(RsaError::Der)
}

/// DER of `AlgorithmIdentifier { rsaEncryption, NULL }` (RFC 8017 A.1).
const RSA_ALGORITHM_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// PKCS#8 v1 `PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING pkcs1 }` (RFC 5208 §5).
fn wrap_pkcs1(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut octets = Zeroizing::new(vec![0x04]);
    crate::der::push_len(&mut octets, pkcs1.len());
    octets.extend_from_slice(pkcs1);
    let body_len = 3 + RSA_ALGORITHM_ID.len() + octets.len();
    let mut out = Zeroizing::new(Vec::with_capacity(body_len + 6));
    out.push(0x30);
    crate::der::push_len(&mut out, body_len);
    out.extend_from_slice(&[0x02, 0x01, 0x00]);
    out.extend_from_slice(&RSA_ALGORITHM_ID);
    out.extend_from_slice(&octets);
    out
}

/// The PKCS#1 key inside an RSA PKCS#8 `PrivateKeyInfo`.
fn unwrap_pkcs8(pkcs8: &[u8]) -> Result<&[u8], RsaError> {
    let (tag, body, _) = der_read(pkcs8)?;
    if tag != 0x30 {
        return Err(RsaError::Der("PrivateKeyInfo is not a SEQUENCE"));
    }
    let (tag, _version, rest) = der_read(body)?;
    if tag != 0x02 {
        return Err(RsaError::Der("PrivateKeyInfo has no version"));
    }
    let (tag, algorithm, rest) = der_read(rest)?;
    if tag != 0x30 || algorithm != &RSA_ALGORITHM_ID[2..] {
        return Err(RsaError::Der("PrivateKeyInfo is not rsaEncryption"));
    }
    let (tag, key, _) = der_read(rest)?;
    if tag != 0x04 {
        return Err(RsaError::Der(
            "PrivateKeyInfo has no privateKey OCTET STRING",
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs1_and_pkcs8_wrappers_round_trip() {
        let fake = [0x30, 0x03, 0x02, 0x01, 0x00];
        let wrapped = wrap_pkcs1(&fake);
        assert_eq!(unwrap_pkcs8(&wrapped).unwrap(), &fake);
        let long = {
            let mut v = vec![0x30, 0x82, 0x01, 0x00];
            v.extend(std::iter::repeat_n(0u8, 256));
            v
        };
        assert_eq!(unwrap_pkcs8(&wrap_pkcs1(&long)).unwrap(), long.as_slice());
    }

    #[test]
    fn garbage_is_refused() {
        assert!(PrivateKey::from_pkcs1_der(b"").is_err());
        assert!(PrivateKey::from_pkcs1_der(&[0x30, 0x05, 0x00]).is_err());
        assert!(PrivateKey::from_pkcs8_der(&[0x30, 0x00]).is_err());
        assert!(PublicKey::from_spki_der(b"not der").is_err());
        assert!(unwrap_pkcs8(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn big_mod_matches_machine_arithmetic() {
        let cases: [(u128, u128); 6] = [
            (0, 7),
            (6, 7),
            (u128::MAX, 0xffff_fffb),
            (0x1234_5678_9abc_def0_1122_3344_5566_7788, 0x1_0000_0001),
            (1 << 100, (1 << 61) - 1),
            (12345, 1),
        ];
        for (a, m) in cases {
            let got = big_mod(&a.to_be_bytes(), &m.to_be_bytes());
            let got = got.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
            assert_eq!(got, a % m, "{a} mod {m}");
        }
    }

    /// The fields of a PKCS#1 RSAPrivateKey, in order.
    fn pkcs1_fields(der: &[u8]) -> Vec<Vec<u8>> {
        let (_, mut body, _) = der_read(der).unwrap();
        let mut out = Vec::new();
        while !body.is_empty() {
            let (tag, value, rest) = der_read(body).unwrap();
            assert_eq!(tag, 0x02);
            out.push(strip_zeros(value).to_vec());
            body = rest;
        }
        out
    }

    #[test]
    fn a_key_rebuilt_from_its_openssh_parts_is_the_same_key() {
        // Made as `key new` makes it: the first of two generators.
        let key = KeyGeneration::start_4096(2).wait().unwrap();
        assert_eq!(key.bits(), 4096);
        let sealed = key.public_key().encrypt(b"ns/name", b"session").unwrap();
        assert_eq!(*key.decrypt(b"ns/name", &sealed).unwrap(), b"session");
        let der = key.to_pkcs1_der().unwrap();
        let f = pkcs1_fields(&der);
        // version, n, e, d, p, q, dp, dq, qinv
        let rebuilt =
            PrivateKey::from_components(&f[1], &f[2], &f[3], &f[4], &f[5], &f[8]).unwrap();
        assert_eq!(*rebuilt.to_pkcs1_der().unwrap(), *der);
        let public = PublicKey::from_components(&f[1], &f[2]).unwrap();
        assert_eq!(public.spki_der(), key.public_key().spki_der());
        // A wrong d is refused, not silently accepted.
        let mut bad_d = f[3].clone();
        bad_d[10] ^= 1;
        assert!(PrivateKey::from_components(&f[1], &f[2], &bad_d, &f[4], &f[5], &f[8]).is_err());
    }
}
