//! Value generators, each in the format its consumer needs (docs/format.md §6). Randomness comes in as
//! an argument; every value lives in a zeroizing buffer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::CryptoRng;
use zeroize::Zeroizing;

use crate::contract::Generator;

/// bcrypt cost the Dex hash gets by default (Dex accepts 10..=16).
pub const DEFAULT_BCRYPT_COST: u32 = 12;
/// The bcrypt costs Dex accepts.
pub const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 10..=16;

fn random<const N: usize, R: CryptoRng + ?Sized>(rng: &mut R) -> Zeroizing<[u8; N]> {
    let mut b = Zeroizing::new([0u8; N]);
    rng.fill_bytes(b.as_mut());
    b
}

fn hex_of(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(hex::encode(bytes))
}

/// Makes a value with `generator`. [`Generator::DexHash`] is not made here: see [`dex_pair`].
pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, generator: Generator) -> Zeroizing<String> {
    match generator {
        Generator::Hex64 => hex_of(random::<32, _>(rng).as_ref()),
        Generator::LiteLlmKey => {
            let mut s = Zeroizing::new(String::with_capacity(67));
            s.push_str("sk-");
            s.push_str(&hex_of(random::<32, _>(rng).as_ref()));
            s
        }
        Generator::CookieSecret => {
            Zeroizing::new(URL_SAFE_NO_PAD.encode(&random::<32, _>(rng)[..]))
        }
        Generator::DexPassword => hex_of(random::<16, _>(rng).as_ref()),
        Generator::DexHash => unreachable!("the Dex hash is made with its password: dex_pair"),
    }
}

/// The bcrypt hash (`$2a$`) of `password` with a salt from `rng`.
pub fn bcrypt_hash<R: CryptoRng + ?Sized>(
    rng: &mut R,
    password: &str,
    cost: u32,
) -> Result<Zeroizing<String>, bcrypt::BcryptError> {
    let salt = random::<16, _>(rng);
    let parts = bcrypt::hash_with_salt(password.as_bytes(), cost, *salt)?;
    Ok(Zeroizing::new(
        parts.format_for_version(bcrypt::Version::TwoA),
    ))
}

/// A new Dex admin password and its hash, made together.
pub fn dex_pair<R: CryptoRng + ?Sized>(
    rng: &mut R,
    cost: u32,
) -> Result<(Zeroizing<String>, Zeroizing<String>), bcrypt::BcryptError> {
    let password = generate(rng, Generator::DexPassword);
    let hash = bcrypt_hash(rng, &password, cost)?;
    Ok((password, hash))
}

/// How oauth2-proxy reads a cookie secret: base64url (padding trimmed) if that decodes to 16,
/// 24 or 32 bytes, else the raw string if it is 16, 24 or 32 bytes. Returns the key length.
pub fn cookie_secret_key_len(value: &str) -> Option<usize> {
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    // Go's decoder (not in strict mode) ignores non-zero trailing bits; so does this one.
    const GO_RAW_URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    let trimmed = value.trim_end_matches('=');
    if let Ok(decoded) = GO_RAW_URL.decode(trimmed)
        && matches!(decoded.len(), 16 | 24 | 32)
    {
        return Some(decoded.len());
    }
    matches!(value.len(), 16 | 24 | 32).then_some(value.len())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn formats() {
        let mut rng = StdRng::seed_from_u64(1);
        let h = generate(&mut rng, Generator::Hex64);
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let k = generate(&mut rng, Generator::LiteLlmKey);
        assert!(k.starts_with("sk-") && k.len() == 67);
        let c = generate(&mut rng, Generator::CookieSecret);
        assert_eq!(c.len(), 43);
        assert_eq!(cookie_secret_key_len(&c), Some(32));
        assert!(
            c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let p = generate(&mut rng, Generator::DexPassword);
        assert_eq!(p.len(), 32);
    }

    #[test]
    fn oauth2_proxy_rules() {
        // 32 hex characters decode as base64url to 24 bytes: AES-192 (docs/format.md §6).
        assert_eq!(cookie_secret_key_len(&"a".repeat(32)), Some(24));
        assert_eq!(cookie_secret_key_len("0123456789abcdef"), Some(16));
        // Standard base64 with + or / is not base64url and is not 16/24/32 raw bytes either.
        assert_eq!(
            cookie_secret_key_len("ab+/cdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"),
            None
        );
    }

    #[test]
    fn dex_hash_verifies_and_has_the_cost() {
        let mut rng = StdRng::seed_from_u64(2);
        let (pw, hash) = dex_pair(&mut rng, 10).unwrap();
        assert!(hash.starts_with("$2a$10$"), "{}", hash.as_str());
        assert!(bcrypt::verify(pw.as_bytes(), &hash).unwrap());
        assert!(!bcrypt::verify(b"wrong", &hash).unwrap());
    }

    #[test]
    fn values_differ() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = generate(&mut rng, Generator::Hex64);
        let b = generate(&mut rng, Generator::Hex64);
        assert_ne!(a, b);
    }
}
