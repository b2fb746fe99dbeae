//! The key escrow: an age file (age-encryption.org/v1, crate `age`, the library of str4d/rage)
//! holding the controller's key List, encrypted to recipients (age X25519 keys, and SSH
//! `ssh-ed25519`/`ssh-rsa` keys through [`crate::ssh`]) or to a passphrase.
//!
//! In memory only: bytes in, bytes out; the caller reads and writes files. Plaintext comes back
//! in [`Zeroizing`] buffers. Files made here decrypt with the Go reference CLI
//! (`age -d -i identity.txt`, or `-i ~/.ssh/id_ed25519`), and files it makes decrypt here.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::ssh::{PrivateKeyFile, SshError, SshRecipient};

/// Someone the escrow is encrypted to.
#[derive(Clone, Debug)]
pub enum Recipient {
    /// An age X25519 key (`age1...`).
    Age(age::x25519::Recipient),
    /// An SSH `ssh-ed25519` or `ssh-rsa` public key.
    Ssh(SshRecipient),
}

impl std::fmt::Display for Recipient {
    /// One line of a recipients file, as `age -R` reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::Age(r) => r.fmt(f),
            Recipient::Ssh(r) => r.fmt(f),
        }
    }
}

impl Recipient {
    /// How the recipient is pinned in `sealstrap.yaml` and listed on every run: an age key as
    /// itself, an SSH key as its type and OpenSSH fingerprint.
    pub fn pin_id(&self) -> String {
        match self {
            Recipient::Age(r) => r.to_string(),
            Recipient::Ssh(r) => r.fingerprint(),
        }
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(
        &self,
        file_key: &age_core::format::FileKey,
    ) -> Result<
        (
            Vec<age_core::format::Stanza>,
            std::collections::HashSet<String>,
        ),
        age::EncryptError,
    > {
        match self {
            Recipient::Age(r) => r.wrap_file_key(file_key),
            Recipient::Ssh(r) => r.wrap_file_key(file_key),
        }
    }
}

/// The first line of a binary age file.
const BINARY_MAGIC: &[u8] = b"age-encryption.org/v1";
/// The first line of an armored age file.
const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Why the escrow could not be written or opened. Never carries plaintext or identities.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("recipient {0:?} is neither an age recipient (age1...) nor an SSH public key")]
    BadRecipient(String),
    #[error("SSH recipient {0:?}: {1}")]
    SshRecipient(String, crate::ssh::SshError),
    #[error("the SSH identity: {0}")]
    SshIdentity(crate::ssh::SshError),
    #[error("no recipients: give --recipient, --recipients-file or --passphrase")]
    NoRecipients,
    #[error("the identity file holds no usable age identity ({0})")]
    BadIdentity(String),
    #[error(
        "not an age file (it starts with neither 'age-encryption.org/v1' nor an age armor line)"
    )]
    NotAge,
    #[error("the escrow is damaged or truncated: {0}")]
    Damaged(String),
    #[error("none of the given identities can open the escrow")]
    WrongIdentity,
    #[error("the passphrase does not open the escrow")]
    WrongPassphrase,
    #[error("the escrow is encrypted to a passphrase, not to identities")]
    NeedsPassphrase,
    #[error("the escrow is encrypted to identities, not to a passphrase")]
    NeedsIdentity,
    #[error("cannot encrypt the escrow: {0}")]
    Encrypt(String),
    #[error("{0} bytes, more than the {max} an escrow of controller keys ever needs", max = MAX_ESCROW_BYTES)]
    TooLarge(usize),
    #[error("its age header runs past {max} bytes (an escrow's header is a few hundred bytes per recipient)", max = MAX_HEADER_BYTES)]
    HeaderTooLarge,
    #[error("its age header holds {0} stanzas or a stanza with more than {max_args} arguments: more than the {max} recipients sealstrap escrows to", max = MAX_STANZAS, max_args = MAX_STANZA_ARGS)]
    TooManyStanzas(usize),
    #[error("its passphrase stanza asks for scrypt work factor {0}, above sealstrap's limit of {max} (2^{max} rounds, 1 GiB of memory); sealstrap writes {ours}", max = MAX_SCRYPT_WORK_FACTOR, ours = SCRYPT_WORK_FACTOR)]
    ExcessiveWork(u8),
}

/// The largest escrow sealstrap opens: a key List of 4096-bit keys is about 5 KiB per key, so
/// this holds a hundred keys armored; a hostile file stops here instead of eating time.
pub const MAX_ESCROW_BYTES: usize = 1 << 20;
/// The largest age header sealstrap hands to the age crate: whose header parser is quadratic in
/// the header's size (str4d/rage#368: 2 MB runs past a minute).
pub const MAX_HEADER_BYTES: usize = 64 << 10;
/// The most recipient stanzas (and arguments on one stanza line) sealstrap lets the age crate
/// parse: age's header parsing is quadratic in the number of stanzas too (10,800 tiny ones
/// under the byte cap took 40-90 s), and an escrow has one stanza per custodian.
pub const MAX_STANZAS: usize = 256;
pub const MAX_STANZA_ARGS: usize = 8;
/// scrypt work factor of a passphrase escrow (age's CLI default, 2^18: 256 MiB, about a
/// second), fixed rather than tuned to the machine so every machine can open it.
pub const SCRYPT_WORK_FACTOR: u8 = 18;
/// The highest work factor sealstrap accepts when opening one: 2^20 (1 GiB of memory). A hostile
/// escrow asking for 22 or 23 would take 4 or 8 GiB.
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 20;

impl EscrowError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EscrowError::BadRecipient(_) | EscrowError::NoRecipients => Some(
                "make a key pair with `age-keygen -o key.txt` and pass its public line: --recipient age1...",
            ),
            EscrowError::SshRecipient(_, e) | EscrowError::SshIdentity(e) => e.hint(),
            EscrowError::BadIdentity(_) => Some(
                "pass the file age-keygen wrote (a line starting AGE-SECRET-KEY-1), or an SSH private key, with --identity",
            ),
            EscrowError::WrongIdentity => Some(
                "use an identity whose recipient the escrow was encrypted to (see controller-keys.recipients beside it)",
            ),
            EscrowError::NeedsPassphrase => Some(
                "leave out --identity; sealstrap asks for the passphrase (or reads SEALSTRAP_PASSPHRASE)",
            ),
            EscrowError::NeedsIdentity => Some("pass --identity FILE (or set SEALSTRAP_IDENTITY)"),
            EscrowError::Damaged(_)
            | EscrowError::NotAge
            | EscrowError::TooLarge(_)
            | EscrowError::HeaderTooLarge
            | EscrowError::ExcessiveWork(_) => Some(
                "restore the file from git (`git checkout -- FILE`); an age file cannot be repaired, and sealstrap never wrote this one",
            ),
            _ => None,
        }
    }
}

/// Whether `data` is an age file (binary or armored).
pub fn is_age(data: &[u8]) -> bool {
    let trimmed = data.trim_ascii_start();
    trimmed.starts_with(BINARY_MAGIC) || trimmed.starts_with(ARMOR_MAGIC)
}

/// Whether the escrow is encrypted to a passphrase (an `scrypt` stanza).
pub fn is_passphrase(data: &[u8]) -> Result<bool, EscrowError> {
    Ok(decryptor(data)?.is_scrypt())
}

/// Parses recipients: one per item, or per line of a recipients file (`#` comments and blank
/// lines skipped), as `age -R` reads them.
pub fn parse_recipients<'a, I: IntoIterator<Item = &'a str>>(
    lines: I,
) -> Result<Vec<Recipient>, EscrowError> {
    let mut out: Vec<Recipient> = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let shown: String = line.chars().take(24).collect();
        let r = if line.starts_with("age1") {
            Recipient::Age(
                age::x25519::Recipient::from_str(line)
                    .map_err(|_| EscrowError::BadRecipient(shown))?,
            )
        } else {
            match SshRecipient::parse(line) {
                Ok(r) => Recipient::Ssh(r),
                Err(SshError::NotPublicKey) => return Err(EscrowError::BadRecipient(shown)),
                Err(e) => return Err(EscrowError::SshRecipient(format!("{shown}..."), e)),
            }
        };
        if !out.iter().any(|o| o.to_string() == r.to_string()) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The recipients file sealstrap commits beside the escrow.
pub fn recipients_file(recipients: &[Recipient]) -> String {
    let mut out = String::from(
        "# age recipients of controller-keys.age (one per line; `age -R` reads this file).\n\
         # sealstrap key new/backup re-encrypt the escrow to exactly these.\n",
    );
    for r in recipients {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    out
}

/// Encrypts to every recipient; any one identity opens the file.
pub fn encrypt_to(
    recipients: &[Recipient],
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, EscrowError> {
    if recipients.is_empty() {
        return Err(EscrowError::NoRecipients);
    }
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| EscrowError::Encrypt(e.to_string()))?;
    finish(encryptor, plaintext, armor)
}

/// Encrypts to a passphrase (scrypt).
pub fn encrypt_passphrase(
    passphrase: SecretString,
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, EscrowError> {
    let mut r = age::scrypt::Recipient::new(passphrase);
    r.set_work_factor(SCRYPT_WORK_FACTOR);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        .map_err(|e| EscrowError::Encrypt(e.to_string()))?;
    finish(encryptor, plaintext, armor)
}

fn finish(
    encryptor: age::Encryptor,
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, EscrowError> {
    let enc = |e: std::io::Error| EscrowError::Encrypt(e.to_string());
    let format = if armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let mut out = Vec::new();
    let armored = age::armor::ArmoredWriter::wrap_output(&mut out, format).map_err(enc)?;
    let mut writer = encryptor.wrap_output(armored).map_err(enc)?;
    writer.write_all(plaintext).map_err(enc)?;
    writer.finish().and_then(|a| a.finish()).map_err(enc)?;
    Ok(out)
}

/// Reads the identities in an identity file's text: `AGE-SECRET-KEY-1...` lines (`#` comments),
/// or one SSH private key, as `age -i` takes them. An encrypted SSH key calls `passphrase` once.
pub fn parse_identities(
    text: &[u8],
    passphrase: &mut dyn FnMut() -> Result<Zeroizing<String>, EscrowError>,
) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, EscrowError> {
    if crate::ssh::is_private_key(text) {
        let id = match crate::ssh::parse_private_key(text).map_err(EscrowError::SshIdentity)? {
            PrivateKeyFile::Plain(id) => id,
            PrivateKeyFile::Encrypted(key) => key
                .decrypt(passphrase()?.as_bytes())
                .map_err(EscrowError::SshIdentity)?,
        };
        return Ok(vec![Box::new(id)]);
    }
    let file = age::IdentityFile::from_buffer(text)
        .map_err(|e| EscrowError::BadIdentity(e.to_string()))?;
    let ids = file
        .into_identities()
        .map_err(|e| EscrowError::BadIdentity(e.to_string()))?;
    if ids.is_empty() {
        return Err(EscrowError::BadIdentity("no identities in the file".into()));
    }
    Ok(ids)
}

/// Opens the escrow with identities.
pub fn decrypt_with_identities(
    data: &[u8],
    identities: &[Box<dyn age::Identity + Send + Sync>],
) -> Result<Zeroizing<Vec<u8>>, EscrowError> {
    let d = decryptor(data)?;
    if d.is_scrypt() {
        return Err(EscrowError::NeedsPassphrase);
    }
    let reader = d
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => EscrowError::WrongIdentity,
            other => EscrowError::Damaged(other.to_string()),
        })?;
    read_all(reader)
}

/// Opens the escrow with a passphrase.
pub fn decrypt_with_passphrase(
    data: &[u8],
    passphrase: SecretString,
) -> Result<Zeroizing<Vec<u8>>, EscrowError> {
    let d = decryptor(data)?;
    if !d.is_scrypt() {
        return Err(EscrowError::NeedsIdentity);
    }
    let mut id = age::scrypt::Identity::new(passphrase);
    id.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
    let reader = d
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                EscrowError::WrongPassphrase
            }
            age::DecryptError::ExcessiveWork { required, .. } => {
                EscrowError::ExcessiveWork(required)
            }
            other => EscrowError::Damaged(other.to_string()),
        })?;
    read_all(reader)
}

type Reader<'a> = age::armor::ArmoredReader<std::io::BufReader<&'a [u8]>>;

fn decryptor(data: &[u8]) -> Result<age::Decryptor<Reader<'_>>, EscrowError> {
    if !is_age(data) {
        return Err(EscrowError::NotAge);
    }
    if data.len() > MAX_ESCROW_BYTES {
        return Err(EscrowError::TooLarge(data.len()));
    }
    check_header_size(data)?;
    age::Decryptor::new(age::armor::ArmoredReader::new(data))
        .map_err(|e| EscrowError::Damaged(e.to_string()))
}

/// Refuses an age header longer than [`MAX_HEADER_BYTES`] before the age crate parses it: the
/// header ends at its `---` line, found here in one linear pass over the (de-armored) bytes.
fn check_header_size(data: &[u8]) -> Result<(), EscrowError> {
    let mut reader = age::armor::ArmoredReader::new(data);
    let mut buf = vec![0u8; MAX_HEADER_BYTES];
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(EscrowError::Damaged(e.to_string())),
        }
    }
    let header_end = buf[..n].windows(4).position(|w| w == b"\n---");
    if n == buf.len() && header_end.is_none() {
        return Err(EscrowError::HeaderTooLarge);
    }
    // Count stanzas and their arguments in the same linear pass's bytes, before age parses.
    let header = &buf[..header_end.unwrap_or(n)];
    let mut stanzas = 0usize;
    for line in header.split(|b| *b == b'\n') {
        if line.starts_with(b"-> ") {
            stanzas += 1;
            let args = line.split(|b| *b == b' ').count().saturating_sub(2);
            if stanzas > MAX_STANZAS || args > MAX_STANZA_ARGS {
                return Err(EscrowError::TooManyStanzas(stanzas));
            }
        }
    }
    Ok(())
}

fn read_all(mut reader: impl Read) -> Result<Zeroizing<Vec<u8>>, EscrowError> {
    let mut out = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut out)
        .map_err(|e| EscrowError::Damaged(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    fn no_pass() -> Result<Zeroizing<String>, EscrowError> {
        panic!("no passphrase is asked for")
    }

    #[test]
    fn round_trip_to_two_recipients_each_opens() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let recipients = parse_recipients([
            a.to_public().to_string().as_str(),
            "# comment",
            "",
            b.to_public().to_string().as_str(),
        ])
        .unwrap();
        for armor in [false, true] {
            let file = encrypt_to(&recipients, b"key list", armor).unwrap();
            assert!(is_age(&file));
            assert_eq!(!armor, file.starts_with(BINARY_MAGIC));
            for id in [&a, &b] {
                let ids = parse_identities(id.to_string().expose_secret().as_bytes(), &mut no_pass)
                    .unwrap();
                assert_eq!(
                    decrypt_with_identities(&file, &ids).unwrap().as_slice(),
                    b"key list"
                );
            }
            let other = age::x25519::Identity::generate();
            let ids = parse_identities(other.to_string().expose_secret().as_bytes(), &mut no_pass)
                .unwrap();
            assert!(matches!(
                decrypt_with_identities(&file, &ids),
                Err(EscrowError::WrongIdentity)
            ));
        }
    }

    #[test]
    fn bad_recipients_are_named() {
        assert!(matches!(
            parse_recipients(["age1notarecipient"]),
            Err(EscrowError::BadRecipient(_))
        ));
        assert!(matches!(
            parse_recipients(["hello world"]),
            Err(EscrowError::BadRecipient(_))
        ));
        assert!(matches!(
            parse_recipients(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host"]),
            Err(EscrowError::SshRecipient(_, SshError::Malformed(_)))
        ));
        assert!(matches!(
            parse_recipients(["ecdsa-sha2-nistp256 AAAAE2VjZHNh user@host"]),
            Err(EscrowError::SshRecipient(_, SshError::UnsupportedType(_)))
        ));
        assert!(matches!(
            encrypt_to(&[], b"x", false),
            Err(EscrowError::NoRecipients)
        ));
    }

    #[test]
    fn ssh_and_age_recipients_share_one_escrow() {
        let a = age::x25519::Identity::generate();
        let ed_pub = include_str!("../tests/data/ssh/id_ed25519.pub");
        let rsa_pub = include_str!("../tests/data/ssh/id_rsa.pub");
        let recipients = parse_recipients([
            a.to_public().to_string().as_str(),
            ed_pub.trim(),
            rsa_pub.trim(),
            // The same key again, with another comment: one recipient.
            ed_pub.trim().replace("sealstrap-test", "copy").as_str(),
        ])
        .unwrap();
        assert_eq!(recipients.len(), 3);
        let listed = recipients_file(&recipients);
        assert!(listed.contains(ed_pub.rsplit_once(' ').unwrap().0));
        let file = encrypt_to(&recipients, b"key list", false).unwrap();
        for key in [
            include_str!("../tests/data/ssh/id_ed25519"),
            include_str!("../tests/data/ssh/id_rsa"),
        ] {
            let ids = parse_identities(key.as_bytes(), &mut no_pass).unwrap();
            assert_eq!(
                decrypt_with_identities(&file, &ids).unwrap().as_slice(),
                b"key list"
            );
        }
        let enc = include_str!("../tests/data/ssh/id_ed25519_pass");
        let mut asked = 0;
        let mut wrong = || {
            asked += 1;
            Ok(Zeroizing::new("nope".to_string()))
        };
        assert!(matches!(
            parse_identities(enc.as_bytes(), &mut wrong),
            Err(EscrowError::SshIdentity(SshError::WrongPassphrase))
        ));
        assert_eq!(asked, 1);
        // That key is not a recipient: it is asked for, opens, and does not fit.
        let ids = parse_identities(enc.as_bytes(), &mut || {
            Ok(Zeroizing::new("sealstrap-test".to_string()))
        })
        .unwrap();
        assert!(matches!(
            decrypt_with_identities(&file, &ids),
            Err(EscrowError::WrongIdentity)
        ));
    }

    #[test]
    fn damaged_files_are_refused() {
        let a = age::x25519::Identity::generate();
        let r = parse_recipients([a.to_public().to_string().as_str()]).unwrap();
        let file = encrypt_to(&r, b"key list", false).unwrap();
        let ids = parse_identities(a.to_string().expose_secret().as_bytes(), &mut no_pass).unwrap();
        let truncated = &file[..file.len() - 5];
        assert!(matches!(
            decrypt_with_identities(truncated, &ids),
            Err(EscrowError::Damaged(_))
        ));
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(decrypt_with_identities(&flipped, &ids).is_err());
        assert!(matches!(
            decrypt_with_identities(b"plain text", &ids),
            Err(EscrowError::NotAge)
        ));
    }

    /// Issue 21: a hostile escrow must neither hang sealstrap (age's header parser is quadratic,
    /// rage#368) nor make it allocate gigabytes (scrypt work factors 22-23).
    #[test]
    fn hostile_escrows_are_refused_before_age_parses_them() {
        let a = age::x25519::Identity::generate();
        let ids = parse_identities(a.to_string().expose_secret().as_bytes(), &mut no_pass).unwrap();
        // A 2 MB header: refused by size; a 200 KB one: refused by header length, at once.
        let stanza = format!("-> X25519 {}\n{}\n", "A".repeat(43), "B".repeat(43));
        for count in [20_000usize, 2_000] {
            let mut file = b"age-encryption.org/v1\n".to_vec();
            for _ in 0..count {
                file.extend_from_slice(stanza.as_bytes());
            }
            file.extend_from_slice(b"--- AAAA\n");
            // These errors come only from sealstrap's own checks, made before the age crate
            // sees the header.
            let err = decrypt_with_identities(&file, &ids).unwrap_err();
            assert!(
                matches!(err, EscrowError::TooLarge(_) | EscrowError::HeaderTooLarge),
                "{count}: {err}"
            );
        }
        // 10,800 tiny stanzas under the byte cap: refused by count, before age's quadratic parse.
        let mut file = b"age-encryption.org/v1\n".to_vec();
        for _ in 0..10_800 {
            file.extend_from_slice(b"-> a\n\n");
        }
        file.extend_from_slice(b"--- AAAA\n");
        assert!(file.len() < MAX_HEADER_BYTES);
        let err = decrypt_with_identities(&file, &ids).unwrap_err();
        assert!(matches!(err, EscrowError::TooManyStanzas(_)), "{err}");
        // So is one stanza line with a thousand arguments.
        let file = format!(
            "age-encryption.org/v1\n-> X25519{}\n\n--- AAAA\n",
            " a".repeat(1000)
        );
        assert!(matches!(
            decrypt_with_identities(file.as_bytes(), &ids).unwrap_err(),
            EscrowError::TooManyStanzas(_)
        ));
        // A passphrase escrow sealstrap wrote uses work factor 18; one edited to ask for 23 is
        // refused before scrypt runs.
        let pass = || SecretString::from("correct horse".to_string());
        let file = encrypt_passphrase(pass(), b"key list", false).unwrap();
        let text = String::from_utf8_lossy(&file).into_owned();
        let stanza_line = text.lines().nth(1).unwrap().to_string();
        assert!(
            stanza_line.starts_with("-> scrypt ") && stanza_line.ends_with(" 18"),
            "{stanza_line}"
        );
        assert_eq!(
            &*decrypt_with_passphrase(&file, pass()).unwrap(),
            b"key list"
        );
        let hostile = text.replacen(&stanza_line, &stanza_line.replace(" 18", " 23"), 1);
        let err = decrypt_with_passphrase(hostile.as_bytes(), pass()).unwrap_err();
        assert!(matches!(err, EscrowError::ExcessiveWork(23)), "{err}");
    }
}
