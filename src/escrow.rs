//! The key escrow: an age file (age-encryption.org/v1, crate `age`, the library of str4d/rage)
//! holding the controller's key List, encrypted to X25519 recipients or to a passphrase.
//!
//! In memory only: bytes in, bytes out; the caller reads and writes files. Plaintext comes back
//! in [`Zeroizing`] buffers. Files made here decrypt with the Go reference CLI
//! (`age -d -i identity.txt`), and files it makes decrypt here.
//!
//! SSH recipients are refused on purpose: the `age` crate's SSH support pulls in the `rsa`
//! crate, which every audit flags for RUSTSEC-2023-0071, and sealstrap's RSA lives on aws-lc-rs
//! alone. An operator with an SSH key makes an age key with `age-keygen` instead.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

/// The first line of a binary age file.
const BINARY_MAGIC: &[u8] = b"age-encryption.org/v1";
/// The first line of an armored age file.
const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Why the escrow could not be written or opened. Never carries plaintext or identities.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("recipient {0:?} is not an age X25519 recipient (age1...)")]
    BadRecipient(String),
    #[error("recipient {0:?} is an SSH key; sealstrap takes age X25519 recipients and passphrases")]
    SshRecipient(String),
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
}

impl EscrowError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EscrowError::BadRecipient(_) | EscrowError::NoRecipients => Some(
                "make a key pair with `age-keygen -o key.txt` and pass its public line: --recipient age1...",
            ),
            EscrowError::SshRecipient(_) => Some(
                "make an age key with `age-keygen -o key.txt` and use its age1... recipient (age's SSH support needs the rsa crate, which carries RUSTSEC-2023-0071)",
            ),
            EscrowError::BadIdentity(_) => Some(
                "pass the file age-keygen wrote (a line starting AGE-SECRET-KEY-1) with --identity",
            ),
            EscrowError::WrongIdentity => Some(
                "use an identity whose recipient the escrow was encrypted to (see controller-keys.recipients beside it)",
            ),
            EscrowError::NeedsPassphrase => Some(
                "leave out --identity; sealstrap asks for the passphrase (or reads SEALSTRAP_PASSPHRASE)",
            ),
            EscrowError::NeedsIdentity => Some("pass --identity FILE (or set SEALSTRAP_IDENTITY)"),
            EscrowError::Damaged(_) | EscrowError::NotAge => Some(
                "restore the file from git (`git checkout -- FILE`); an age file cannot be repaired",
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
) -> Result<Vec<age::x25519::Recipient>, EscrowError> {
    let mut out: Vec<age::x25519::Recipient> = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("ssh-") {
            let shown: String = line.chars().take(24).collect();
            return Err(EscrowError::SshRecipient(format!("{shown}...")));
        }
        let r = age::x25519::Recipient::from_str(line).map_err(|_| {
            let shown: String = line.chars().take(24).collect();
            EscrowError::BadRecipient(shown)
        })?;
        if !out.iter().any(|o| o.to_string() == r.to_string()) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The recipients file sealstrap commits beside the escrow.
pub fn recipients_file(recipients: &[age::x25519::Recipient]) -> String {
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
    recipients: &[age::x25519::Recipient],
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
    finish(
        age::Encryptor::with_user_passphrase(passphrase),
        plaintext,
        armor,
    )
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

/// Reads the identities in an identity file's text (`AGE-SECRET-KEY-1...` lines, `#` comments).
pub fn parse_identities(
    text: &[u8],
) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, EscrowError> {
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
    let id = age::scrypt::Identity::new(passphrase);
    let reader = d
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                EscrowError::WrongPassphrase
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
    age::Decryptor::new(age::armor::ArmoredReader::new(data))
        .map_err(|e| EscrowError::Damaged(e.to_string()))
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
                let ids = parse_identities(id.to_string().expose_secret().as_bytes()).unwrap();
                assert_eq!(
                    decrypt_with_identities(&file, &ids).unwrap().as_slice(),
                    b"key list"
                );
            }
            let other = age::x25519::Identity::generate();
            let ids = parse_identities(other.to_string().expose_secret().as_bytes()).unwrap();
            assert!(matches!(
                decrypt_with_identities(&file, &ids),
                Err(EscrowError::WrongIdentity)
            ));
        }
    }

    #[test]
    fn bad_recipients_are_named_and_ssh_is_refused() {
        assert!(matches!(
            parse_recipients(["age1notarecipient"]),
            Err(EscrowError::BadRecipient(_))
        ));
        assert!(matches!(
            parse_recipients(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host"]),
            Err(EscrowError::SshRecipient(_))
        ));
        assert!(matches!(
            encrypt_to(&[], b"x", false),
            Err(EscrowError::NoRecipients)
        ));
    }

    #[test]
    fn damaged_files_are_refused() {
        let a = age::x25519::Identity::generate();
        let r = parse_recipients([a.to_public().to_string().as_str()]).unwrap();
        let file = encrypt_to(&r, b"key list", false).unwrap();
        let ids = parse_identities(a.to_string().expose_secret().as_bytes()).unwrap();
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
}
