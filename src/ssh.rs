//! age's SSH recipient types, `ssh-ed25519` and `ssh-rsa`, so a team can lock the key escrow to
//! the SSH keys its operators already have, and open it with `age -d -i ~/.ssh/id_ed25519`.
//!
//! The format is the age specification's "ssh-rsa" and "ssh-ed25519" recipient types
//! (<https://github.com/C2SP/C2SP/blob/main/age.md>, implemented in the `age` crate's
//! `src/ssh/recipient.rs` and `src/ssh/identity.rs`, and in Go's `filippo.io/age/agessh`).
//! sealstrap builds them here instead of enabling the `age` crate's `ssh` feature, because that
//! feature pulls in the `rsa` crate (RUSTSEC-2023-0071); RSA stays on aws-lc-rs ([`crate::rsa`]).
//!
//! - `ssh-rsa`: the 16-byte file key is RSA-OAEP-SHA256 encrypted under the label
//!   `age-encryption.org/v1/ssh-rsa`.
//! - `ssh-ed25519`: the Ed25519 public key is mapped to X25519 (the birational map to the
//!   Montgomery form), an ephemeral X25519 exchange is tweaked by
//!   `HKDF-SHA256(salt = SSH public key, info = label)`, and the file key is sealed with
//!   ChaCha20-Poly1305 under `HKDF-SHA256(salt = ephemeral share || recipient, info = label)`.
//! - Both stanzas carry the first 4 bytes of SHA-256 of the SSH public key wire encoding as a tag.
//!
//! Private keys are read from OpenSSH's `openssh-key-v1` format (OpenSSH `PROTOCOL.key`),
//! unencrypted or encrypted with bcrypt-pbkdf and AES-CTR (what `ssh-keygen` writes), and from
//! PKCS#1 `RSA PRIVATE KEY` PEM (`ssh-keygen -m PEM`). Key bytes live only in [`Zeroizing`]
//! buffers, and no type here prints them.

use std::collections::HashSet;

use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::Zeroizing;

use crate::rsa::{PrivateKey, PublicKey};

const RSA_TAG: &str = "ssh-rsa";
const RSA_LABEL: &[u8] = b"age-encryption.org/v1/ssh-rsa";
const ED25519_TAG: &str = "ssh-ed25519";
const ED25519_LABEL: &[u8] = b"age-encryption.org/v1/ssh-ed25519";
/// The ChaCha20-Poly1305 sealed file key of an `ssh-ed25519` stanza.
const ED25519_BODY_BYTES: usize = FILE_KEY_BYTES + 16;

const OPENSSH_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const OPENSSH_END: &str = "-----END OPENSSH PRIVATE KEY-----";
const PKCS1_BEGIN: &str = "-----BEGIN RSA PRIVATE KEY-----";
const PKCS1_END: &str = "-----END RSA PRIVATE KEY-----";
const OPENSSH_MAGIC: &[u8] = b"openssh-key-v1\0";
/// More bcrypt rounds than anyone uses (`ssh-keygen -a` defaults to 16; 100 is "paranoid").
/// A hostile file cannot make sealstrap spin for hours.
const MAX_BCRYPT_ROUNDS: u32 = 4096;

/// What is wrong with an SSH key. Never carries key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error("not an SSH public key line ('ssh-ed25519 AAAA...' or 'ssh-rsa AAAA...')")]
    NotPublicKey,
    #[error("the SSH key is malformed: {0}")]
    Malformed(&'static str),
    #[error("SSH key type {0:?} is not supported (age takes ssh-ed25519 and ssh-rsa)")]
    UnsupportedType(String),
    #[error("the SSH private key is encrypted with {0:?}, which sealstrap cannot open")]
    UnsupportedCipher(String),
    #[error("the SSH private key is PEM-encrypted (Proc-Type: 4,ENCRYPTED)")]
    EncryptedPem,
    #[error("the passphrase does not open the SSH private key")]
    WrongPassphrase,
    #[error("the RSA key is not usable: {0}")]
    BadRsa(String),
}

impl SshError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SshError::NotPublicKey | SshError::Malformed(_) => Some(
                "pass the one-line public key from ~/.ssh/id_ed25519.pub (or id_rsa.pub), as `age -R` reads it",
            ),
            SshError::UnsupportedType(_) => {
                Some("use an ssh-ed25519 or ssh-rsa key, or an age key (`age-keygen -o key.txt`)")
            }
            SshError::UnsupportedCipher(_) | SshError::EncryptedPem => Some(
                "convert the key to OpenSSH's own format with its passphrase kept: `ssh-keygen -p -o -f KEY`",
            ),
            SshError::WrongPassphrase => Some("type the passphrase ssh-keygen asked for this key"),
            SshError::BadRsa(_) => None,
        }
    }
}

/// The first 4 bytes of SHA-256 of the SSH public key wire encoding, the stanza's first argument.
fn key_tag(wire: &[u8]) -> String {
    STANDARD_NO_PAD.encode(&crate::digest::sha256(wire)[..4])
}

/// An SSH public key as an age recipient.
#[derive(Clone)]
pub struct SshRecipient {
    wire: Vec<u8>,
    kind: RecipientKind,
}

#[derive(Clone)]
enum RecipientKind {
    /// The Ed25519 key mapped to its X25519 (Montgomery u) form.
    Ed25519([u8; 32]),
    Rsa(PublicKey),
}

impl std::fmt::Debug for SshRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SshRecipient({self})")
    }
}

impl std::fmt::Display for SshRecipient {
    /// The key as `authorized_keys` and `age -R` take it, without the comment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            RecipientKind::Ed25519(_) => ED25519_TAG,
            RecipientKind::Rsa(_) => RSA_TAG,
        };
        write!(f, "{kind} {}", STANDARD.encode(&self.wire))
    }
}

impl SshRecipient {
    /// The key's type and OpenSSH fingerprint (`ssh-ed25519 SHA256:...`, as `ssh-keygen -lf`
    /// prints it): how a reviewer recognises a custodian's key.
    pub fn fingerprint(&self) -> String {
        let kind = match self.kind {
            RecipientKind::Ed25519(_) => ED25519_TAG,
            RecipientKind::Rsa(_) => RSA_TAG,
        };
        format!(
            "{kind} SHA256:{}",
            STANDARD_NO_PAD.encode(crate::digest::sha256(&self.wire))
        )
    }

    /// Parses `ssh-ed25519 AAAA... [comment]` or `ssh-rsa AAAA... [comment]`.
    pub fn parse(line: &str) -> Result<Self, SshError> {
        let mut words = line.split_whitespace();
        let (Some(kind), Some(b64)) = (words.next(), words.next()) else {
            return Err(SshError::NotPublicKey);
        };
        if !kind.starts_with("ssh-") && !kind.starts_with("sk-") && !kind.starts_with("ecdsa-") {
            return Err(SshError::NotPublicKey);
        }
        if kind != ED25519_TAG && kind != RSA_TAG {
            return Err(SshError::UnsupportedType(kind.to_string()));
        }
        let wire = STANDARD
            .decode(b64)
            .map_err(|_| SshError::Malformed("the key is not base64"))?;
        Self::from_wire(&wire, Some(kind))
    }

    /// Reads the SSH wire encoding of a public key (RFC 4253 §6.6, RFC 8709 §4).
    fn from_wire(wire: &[u8], expect: Option<&str>) -> Result<Self, SshError> {
        let mut r = Wire(wire);
        let kind = r.utf8()?;
        if expect.is_some_and(|e| e != kind) {
            return Err(SshError::Malformed(
                "the key type word does not match the encoded key",
            ));
        }
        let kind = match kind {
            ED25519_TAG => {
                let pk: [u8; 32] = r
                    .string()?
                    .try_into()
                    .map_err(|_| SshError::Malformed("an Ed25519 key is 32 bytes"))?;
                let point = CompressedEdwardsY(pk)
                    .decompress()
                    .ok_or(SshError::Malformed("the Ed25519 key is not a curve point"))?;
                RecipientKind::Ed25519(point.to_montgomery().to_bytes())
            }
            RSA_TAG => {
                let e = r.mpint()?;
                let n = r.mpint()?;
                RecipientKind::Rsa(
                    PublicKey::from_components(n, e)
                        .map_err(|e| SshError::BadRsa(e.to_string()))?,
                )
            }
            other => return Err(SshError::UnsupportedType(other.to_string())),
        };
        r.done()?;
        Ok(SshRecipient {
            wire: wire.to_vec(),
            kind,
        })
    }
}

impl age::Recipient for SshRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let tag = key_tag(&self.wire);
        let stanza = match &self.kind {
            RecipientKind::Rsa(pk) => Stanza {
                tag: RSA_TAG.to_string(),
                args: vec![tag],
                body: pk
                    .encrypt(RSA_LABEL, file_key.expose_secret())
                    .map_err(|e| age::EncryptError::Io(std::io::Error::other(e.to_string())))?,
            },
            RecipientKind::Ed25519(pk) => {
                let mut esk = Zeroizing::new([0u8; 32]);
                aws_lc_rs::rand::fill(esk.as_mut_slice()).map_err(|_| {
                    age::EncryptError::Io(std::io::Error::other("no system randomness"))
                })?;
                let epk = MontgomeryPoint::mul_base_clamped(*esk).to_bytes();
                let tweak = Zeroizing::new(hkdf(&self.wire, ED25519_LABEL, &[]));
                let shared = MontgomeryPoint(MontgomeryPoint(*pk).mul_clamped(*esk).to_bytes())
                    .mul_clamped(*tweak)
                    .to_bytes();
                let shared = Zeroizing::new(shared);
                let mut salt = [0u8; 64];
                salt[..32].copy_from_slice(&epk);
                salt[32..].copy_from_slice(pk);
                let key = Zeroizing::new(hkdf(&salt, ED25519_LABEL, shared.as_slice()));
                Stanza {
                    tag: ED25519_TAG.to_string(),
                    args: vec![tag, STANDARD_NO_PAD.encode(epk)],
                    body: aead_encrypt(&key, file_key.expose_secret()),
                }
            }
        };
        Ok((vec![stanza], HashSet::new()))
    }
}

/// An SSH private key as an age identity.
pub struct SshIdentity {
    wire: Vec<u8>,
    kind: IdentityKind,
}

enum IdentityKind {
    /// The X25519 scalar, `SHA-512(seed)[..32]` as Ed25519 derives it (RFC 8032 §5.1.5).
    Ed25519(Zeroizing<[u8; 32]>),
    Rsa(PrivateKey),
}

impl std::fmt::Debug for SshIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshIdentity")
            .field("tag", &key_tag(&self.wire))
            .finish_non_exhaustive()
    }
}

impl SshIdentity {
    /// The public half, as a recipient.
    pub fn to_recipient(&self) -> Result<SshRecipient, SshError> {
        SshRecipient::from_wire(&self.wire, None)
    }
}

impl age::Identity for SshIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        let (want, ours) = match &self.kind {
            IdentityKind::Ed25519(_) => (ED25519_TAG, 2),
            IdentityKind::Rsa(_) => (RSA_TAG, 1),
        };
        if stanza.tag != want || stanza.args.len() != ours {
            return None;
        }
        if stanza.args[0] != key_tag(&self.wire) {
            return None;
        }
        // From here the stanza is ours: a failure is fatal (age: a 32-bit tag collision is not
        // expected), as in the age crate and Go's agessh.
        let plain: Option<Zeroizing<Vec<u8>>> = match &self.kind {
            IdentityKind::Rsa(sk) => sk.decrypt(RSA_LABEL, &stanza.body),
            IdentityKind::Ed25519(sk) => {
                if stanza.body.len() != ED25519_BODY_BYTES {
                    return Some(Err(age::DecryptError::InvalidHeader));
                }
                let epk: [u8; 32] = match STANDARD_NO_PAD
                    .decode(&stanza.args[1])
                    .ok()
                    .and_then(|b| b.try_into().ok())
                {
                    Some(b) => b,
                    None => return Some(Err(age::DecryptError::InvalidHeader)),
                };
                let pk = MontgomeryPoint::mul_base_clamped(**sk).to_bytes();
                let tweak = Zeroizing::new(hkdf(&self.wire, ED25519_LABEL, &[]));
                let shared = Zeroizing::new(
                    MontgomeryPoint(MontgomeryPoint(epk).mul_clamped(**sk).to_bytes())
                        .mul_clamped(*tweak)
                        .to_bytes(),
                );
                // A low-order share gives an all-zero secret; Go's X25519 refuses it too.
                if shared.iter().all(|b| *b == 0) {
                    return Some(Err(age::DecryptError::DecryptionFailed));
                }
                let mut salt = [0u8; 64];
                salt[..32].copy_from_slice(&epk);
                salt[32..].copy_from_slice(&pk);
                let key = Zeroizing::new(hkdf(&salt, ED25519_LABEL, shared.as_slice()));
                aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body)
                    .ok()
                    .map(Zeroizing::new)
            }
        };
        Some(match plain {
            Some(pt) if pt.len() == FILE_KEY_BYTES => Ok(FileKey::init_with_mut(|k| {
                k.copy_from_slice(&pt);
            })),
            _ => Err(age::DecryptError::DecryptionFailed),
        })
    }
}

/// Whether an identity file's text is an SSH private key (OpenSSH or PKCS#1 PEM).
pub fn is_private_key(text: &[u8]) -> bool {
    let t = text.trim_ascii_start();
    t.starts_with(OPENSSH_BEGIN.as_bytes()) || t.starts_with(PKCS1_BEGIN.as_bytes())
}

/// A private key file as read: ready, or waiting for its passphrase.
pub enum PrivateKeyFile {
    Plain(SshIdentity),
    Encrypted(EncryptedKey),
}

/// An OpenSSH private key encrypted with bcrypt-pbkdf and AES-CTR.
pub struct EncryptedKey {
    public: Vec<u8>,
    cipher: &'static aws_lc_rs::cipher::Algorithm,
    key_len: usize,
    salt: Vec<u8>,
    rounds: u32,
    encrypted: Vec<u8>,
}

impl EncryptedKey {
    /// Opens the key with its passphrase.
    pub fn decrypt(&self, passphrase: &[u8]) -> Result<SshIdentity, SshError> {
        use aws_lc_rs::cipher::{DecryptingKey, DecryptionContext, UnboundCipherKey};
        use aws_lc_rs::iv::FixedLength;
        let key_len = self.key_len;
        let mut material = Zeroizing::new(vec![0u8; key_len + 16]);
        bcrypt_pbkdf::bcrypt_pbkdf(passphrase, &self.salt, self.rounds, &mut material)
            .map_err(|_| SshError::WrongPassphrase)?;
        let (key, iv) = material.split_at(key_len);
        let iv: [u8; 16] = iv.try_into().map_err(|_| SshError::Malformed("iv"))?;
        let key = UnboundCipherKey::new(self.cipher, key)
            .and_then(DecryptingKey::ctr)
            .map_err(|_| SshError::Malformed("cipher key"))?;
        let mut plain = Zeroizing::new(self.encrypted.clone());
        key.decrypt(
            plain.as_mut_slice(),
            DecryptionContext::Iv128(FixedLength::from(iv)),
        )
        .map_err(|_| SshError::Malformed("the encrypted section"))?;
        private_section(&self.public, &plain, true)
    }
}

/// Reads an SSH private key file.
pub fn parse_private_key(text: &[u8]) -> Result<PrivateKeyFile, SshError> {
    let text = std::str::from_utf8(text).map_err(|_| SshError::Malformed("not text"))?;
    if let Some(body) = pem_body(text, PKCS1_BEGIN, PKCS1_END) {
        if body.contains("Proc-Type:") {
            return Err(SshError::EncryptedPem);
        }
        let der = Zeroizing::new(decode_pem(body)?);
        return pkcs1_identity(&der).map(PrivateKeyFile::Plain);
    }
    let body = pem_body(text, OPENSSH_BEGIN, OPENSSH_END)
        .ok_or(SshError::Malformed("no OPENSSH PRIVATE KEY block"))?;
    let data = Zeroizing::new(decode_pem(body)?);
    let rest = data
        .strip_prefix(OPENSSH_MAGIC)
        .ok_or(SshError::Malformed("not an openssh-key-v1 key"))?;
    let mut r = Wire(rest);
    let cipher = r.utf8()?;
    let kdf = r.utf8()?;
    let kdf_options = r.string()?;
    if r.u32()? != 1 {
        return Err(SshError::Malformed("the file holds more than one key"));
    }
    let public = r.string()?.to_vec();
    let private = r.string()?;
    if cipher == "none" {
        if kdf != "none" {
            return Err(SshError::Malformed("a KDF without a cipher"));
        }
        r.done()?;
        return private_section(&public, private, false).map(PrivateKeyFile::Plain);
    }
    let (algorithm, key_len) = match cipher {
        "aes256-ctr" => (&aws_lc_rs::cipher::AES_256, 32),
        "aes192-ctr" => (&aws_lc_rs::cipher::AES_192, 24),
        "aes128-ctr" => (&aws_lc_rs::cipher::AES_128, 16),
        other => return Err(SshError::UnsupportedCipher(other.to_string())),
    };
    if kdf != "bcrypt" {
        return Err(SshError::UnsupportedCipher(format!(
            "{cipher} with KDF {kdf}"
        )));
    }
    let mut k = Wire(kdf_options);
    let salt = k.string()?.to_vec();
    let rounds = k.u32()?;
    k.done()?;
    if rounds == 0 || rounds > MAX_BCRYPT_ROUNDS {
        return Err(SshError::Malformed("bcrypt rounds out of range"));
    }
    if private.len() % 16 != 0 {
        return Err(SshError::Malformed(
            "the encrypted section is not whole blocks",
        ));
    }
    Ok(PrivateKeyFile::Encrypted(EncryptedKey {
        public,
        cipher: algorithm,
        key_len,
        salt,
        rounds,
        encrypted: private.to_vec(),
    }))
}

/// The (decrypted) private section: `checkint checkint keytype fields... comment padding`.
fn private_section(public: &[u8], data: &[u8], encrypted: bool) -> Result<SshIdentity, SshError> {
    let mut r = Wire(data);
    let (c1, c2) = (r.u32()?, r.u32()?);
    if c1 != c2 {
        return Err(if encrypted {
            SshError::WrongPassphrase
        } else {
            SshError::Malformed("check integers differ")
        });
    }
    let kind = r.utf8()?;
    let identity = match kind {
        ED25519_TAG => {
            let pk = r.string()?;
            let sk = r.string()?;
            if pk.len() != 32 || sk.len() != 64 || sk[32..] != *pk {
                return Err(SshError::Malformed("the Ed25519 key pair does not match"));
            }
            let digest = Zeroizing::new(crate::digest::sha512(&sk[..32]));
            let mut scalar = Zeroizing::new([0u8; 32]);
            scalar.copy_from_slice(&digest[..32]);
            let mut wire = Vec::new();
            put_string(&mut wire, ED25519_TAG.as_bytes());
            put_string(&mut wire, pk);
            SshIdentity {
                wire,
                kind: IdentityKind::Ed25519(scalar),
            }
        }
        RSA_TAG => {
            let n = r.mpint()?;
            let e = r.mpint()?;
            let d = r.mpint()?;
            let iqmp = r.mpint()?;
            let p = r.mpint()?;
            let q = r.mpint()?;
            let key = PrivateKey::from_components(n, e, d, p, q, iqmp)
                .map_err(|e| SshError::BadRsa(e.to_string()))?;
            SshIdentity {
                wire: rsa_wire(n, e),
                kind: IdentityKind::Rsa(key),
            }
        }
        other => return Err(SshError::UnsupportedType(other.to_string())),
    };
    // The comment and the 1, 2, 3... padding follow; the public key blob must be this key.
    if public != identity.wire.as_slice() {
        return Err(SshError::Malformed(
            "the public key does not match the private key",
        ));
    }
    Ok(identity)
}

/// A PKCS#1 `RSA PRIVATE KEY` (RFC 8017 A.1.2), with its public wire encoding for the tag.
fn pkcs1_identity(der: &[u8]) -> Result<SshIdentity, SshError> {
    let bad = |_| SshError::Malformed("not a PKCS#1 RSAPrivateKey");
    let (_, body, _) = crate::rsa::der_read(der).map_err(bad)?;
    let (_, _version, rest) = crate::rsa::der_read(body).map_err(bad)?;
    let (_, n, rest) = crate::rsa::der_read(rest).map_err(bad)?;
    let (_, e, _) = crate::rsa::der_read(rest).map_err(bad)?;
    let key = PrivateKey::from_pkcs1_der(der).map_err(|e| SshError::BadRsa(e.to_string()))?;
    Ok(SshIdentity {
        wire: rsa_wire(n, e),
        kind: IdentityKind::Rsa(key),
    })
}

/// `string "ssh-rsa", mpint e, mpint n` (RFC 4253 §6.6).
fn rsa_wire(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    put_string(&mut wire, RSA_TAG.as_bytes());
    put_mpint(&mut wire, e);
    put_mpint(&mut wire, n);
    wire
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// An unsigned integer as an SSH mpint (RFC 4251 §5): minimal, with a zero byte before a high bit.
fn put_mpint(out: &mut Vec<u8>, n: &[u8]) {
    let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    let n = &n[start..];
    let pad = n.first().is_some_and(|b| b & 0x80 != 0);
    out.extend_from_slice(&((n.len() + usize::from(pad)) as u32).to_be_bytes());
    if pad {
        out.push(0);
    }
    out.extend_from_slice(n);
}

/// The text between a PEM block's lines, if the block is there. (Not `x509_parser::pem`, which
/// `keys.rs` uses for certificates and controller keys: it builds the joined base64 in a buffer
/// it never zeroizes, and these are private keys; `decode_pem` zeroizes its copy.)
fn pem_body<'a>(text: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let start = text.find(begin)? + begin.len();
    let stop = text[start..].find(end)? + start;
    Some(&text[start..stop])
}

fn decode_pem(body: &str) -> Result<Vec<u8>, SshError> {
    let joined: Zeroizing<String> =
        Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    STANDARD
        .decode(joined.as_bytes())
        .map_err(|_| SshError::Malformed("the PEM body is not base64"))
}

/// A reader of SSH wire types (RFC 4251 §5).
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Result<u32, SshError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or(SshError::Malformed("truncated"))?;
        self.0 = rest;
        Ok(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Result<&'a [u8], SshError> {
        let len = self.u32()? as usize;
        if self.0.len() < len {
            return Err(SshError::Malformed("truncated"));
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(s)
    }

    fn utf8(&mut self) -> Result<&'a str, SshError> {
        std::str::from_utf8(self.string()?).map_err(|_| SshError::Malformed("a name is not text"))
    }

    /// A non-negative mpint, as unsigned big-endian bytes.
    fn mpint(&mut self) -> Result<&'a [u8], SshError> {
        let s = self.string()?;
        if s.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(SshError::Malformed("a negative integer"));
        }
        Ok(s)
    }

    fn done(&self) -> Result<(), SshError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(SshError::Malformed("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ed25519 OpenSSH key pair written by `ssh-keygen -t ed25519 -N '' -C test` (a test key,
    /// made for this file and used nowhere else).
    const ED25519_KEY: &str = include_str!("../tests/data/ssh/id_ed25519");
    const ED25519_PUB: &str = include_str!("../tests/data/ssh/id_ed25519.pub");
    /// The same kind of key, encrypted with the passphrase `sealstrap-test` (`-a 16`, aes256-ctr).
    const ED25519_ENC: &str = include_str!("../tests/data/ssh/id_ed25519_pass");
    const RSA_KEY: &str = include_str!("../tests/data/ssh/id_rsa");
    const RSA_PUB: &str = include_str!("../tests/data/ssh/id_rsa.pub");
    const RSA_PEM: &str = include_str!("../tests/data/ssh/id_rsa_pem");

    fn plain(text: &str) -> SshIdentity {
        match parse_private_key(text.as_bytes()).unwrap() {
            PrivateKeyFile::Plain(id) => id,
            PrivateKeyFile::Encrypted(_) => panic!("expected an unencrypted key"),
        }
    }

    fn round_trip(recipient: &SshRecipient, identity: &SshIdentity) {
        let file_key = FileKey::new(Box::new([7u8; 16]));
        let (stanzas, _) = age::Recipient::wrap_file_key(recipient, &file_key).unwrap();
        let opened = age::Identity::unwrap_stanzas(identity, &stanzas)
            .expect("the stanza is ours")
            .unwrap();
        assert_eq!(opened.expose_secret(), &[7u8; 16]);
    }

    #[test]
    fn public_keys_parse_and_print_as_ssh_writes_them() {
        for line in [ED25519_PUB, RSA_PUB] {
            let r = SshRecipient::parse(line.trim()).unwrap();
            let mut words = line.split_whitespace();
            let expected = format!("{} {}", words.next().unwrap(), words.next().unwrap());
            assert_eq!(r.to_string(), expected);
        }
        assert_eq!(
            SshRecipient::parse("ecdsa-sha2-nistp256 AAAA x").unwrap_err(),
            SshError::UnsupportedType("ecdsa-sha2-nistp256".into())
        );
        assert!(matches!(
            SshRecipient::parse("ssh-ed25519 !!!"),
            Err(SshError::Malformed(_))
        ));
        // The type word must match the encoded key.
        let b64 = ED25519_PUB.split_whitespace().nth(1).unwrap();
        assert!(matches!(
            SshRecipient::parse(&format!("ssh-rsa {b64}")),
            Err(SshError::Malformed(_))
        ));
    }

    #[test]
    fn ed25519_and_rsa_keys_open_what_their_public_keys_seal() {
        for (key, public) in [
            (ED25519_KEY, ED25519_PUB),
            (RSA_KEY, RSA_PUB),
            (RSA_PEM, RSA_PUB),
        ] {
            let id = plain(key);
            let r = SshRecipient::parse(public.trim()).unwrap();
            assert_eq!(
                id.to_recipient().unwrap().to_string(),
                r.to_string(),
                "the private key's public half is the .pub file"
            );
            round_trip(&r, &id);
        }
    }

    #[test]
    fn another_key_passes_and_a_damaged_body_fails() {
        let rsa = plain(RSA_KEY);
        let ed = plain(ED25519_KEY);
        let r = SshRecipient::parse(ED25519_PUB.trim()).unwrap();
        let file_key = FileKey::new(Box::new([1u8; 16]));
        let (mut stanzas, _) = age::Recipient::wrap_file_key(&r, &file_key).unwrap();
        assert!(age::Identity::unwrap_stanzas(&rsa, &stanzas).is_none());
        stanzas[0].body[0] ^= 1;
        assert!(matches!(
            age::Identity::unwrap_stanzas(&ed, &stanzas),
            Some(Err(age::DecryptError::DecryptionFailed))
        ));
    }

    #[test]
    fn an_encrypted_key_opens_with_its_passphrase_only() {
        let PrivateKeyFile::Encrypted(enc) = parse_private_key(ED25519_ENC.as_bytes()).unwrap()
        else {
            panic!("expected an encrypted key");
        };
        assert_eq!(
            enc.decrypt(b"wrong").unwrap_err(),
            SshError::WrongPassphrase
        );
        let id = enc.decrypt(b"sealstrap-test").unwrap();
        round_trip(&id.to_recipient().unwrap(), &id);
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for text in [
            "",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n-----END RSA PRIVATE KEY-----",
        ] {
            assert!(parse_private_key(text.as_bytes()).is_err(), "{text}");
        }
        // Every truncation of a real key is refused or parses; none panics.
        let body = pem_body(ED25519_KEY, OPENSSH_BEGIN, OPENSSH_END).unwrap();
        let data = decode_pem(body).unwrap();
        for cut in 0..data.len() {
            let pem = format!(
                "{OPENSSH_BEGIN}\n{}\n{OPENSSH_END}\n",
                STANDARD.encode(&data[..cut])
            );
            assert!(parse_private_key(pem.as_bytes()).is_err());
        }
    }
}
