//! The contract's rules for values (docs/format.md §6), checked on decrypted values in memory. Pure;
//! the findings never contain a value.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::contract::{self, DEX_PASSWORD, Generator, Source};
use crate::generate::{self, BCRYPT_COSTS};

/// Checks one value against its key's rules; `Err(why)` names the broken rule.
pub fn check_value(key: &str, value: &[u8]) -> Result<(), String> {
    let Ok(v) = std::str::from_utf8(value) else {
        return Err("not UTF-8 text".into());
    };
    if v.is_empty() {
        return Err("empty".into());
    }
    if let Some(c) = v.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(match c {
            '\n' | '\r' => "contains a line break (a trailing newline?)".into(),
            _ => "contains whitespace or a control character".into(),
        });
    }
    let Some(entry) = contract::entry(key) else {
        return Ok(());
    };
    match entry.source {
        Source::Generated(Generator::LiteLlmKey) if !v.starts_with("sk-") => {
            Err("does not start with sk- (LiteLLM requires it)".into())
        }
        Source::Generated(Generator::CookieSecret) => match generate::cookie_secret_key_len(v) {
            Some(_) => Ok(()),
            None => Err(format!(
                "oauth2-proxy cannot use it: {} characters, neither base64url of 16/24/32 bytes nor 16/24/32 raw bytes",
                v.len()
            )),
        },
        Source::Generated(Generator::DexPassword) if v.len() > 72 => {
            Err("longer than 72 bytes, which bcrypt refuses".into())
        }
        Source::Generated(Generator::DexHash) => check_hash_format(v).map(|_| ()),
        Source::Generated(Generator::Hex64)
            if matches!(key, "litellm-db-password" | "litellm-grafana-ro-password")
                && !v.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
                }) =>
        {
            Err("has characters that are not URL-safe (it is used in Postgres URLs)".into())
        }
        Source::Generated(_) if v.starts_with('$') => {
            Err("starts with $ (Grafana and Argo CD treat that as a reference)".into())
        }
        _ => Ok(()),
    }
}

/// The raw bcrypt hash in a Dex hash value (raw, or base64 of it) and its cost.
fn check_hash_format(v: &str) -> Result<(String, u32), String> {
    let raw = if v.starts_with("$2") {
        v.to_string()
    } else {
        STANDARD
            .decode(v)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| s.starts_with("$2"))
            .ok_or_else(|| "not a bcrypt hash ($2a$/$2b$/$2y$, or base64 of one)".to_string())?
    };
    let parts: Vec<&str> = raw.split('$').collect();
    if parts.len() != 4 || !matches!(parts[1], "2a" | "2b" | "2y") || parts[3].len() != 53 {
        return Err("not a bcrypt hash ($2a$/$2b$/$2y$, or base64 of one)".into());
    }
    let cost: u32 = parts[2]
        .parse()
        .map_err(|_| "the bcrypt cost is not a number".to_string())?;
    if !BCRYPT_COSTS.contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside 10..16; Dex refuses it and logins fail"
        ));
    }
    Ok((raw, cost))
}

/// Whether the Dex hash verifies the Dex password.
pub fn check_dex_pair(password: &[u8], hash: &[u8]) -> Result<(), String> {
    let hash = std::str::from_utf8(hash).map_err(|_| "not UTF-8 text".to_string())?;
    let (raw, _) = check_hash_format(hash)?;
    match bcrypt::verify(password, &raw) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("does not verify {DEX_PASSWORD}")),
        Err(e) => Err(format!("cannot be verified: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DEX_HASH;

    #[test]
    fn rules() {
        assert!(check_value("vllm-api-key", &[b'a'; 64]).is_ok());
        assert!(
            check_value("vllm-api-key", b"")
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            check_value("vllm-api-key", b"abc\n")
                .unwrap_err()
                .contains("line break")
        );
        assert!(
            check_value("litellm-master-key", b"abc")
                .unwrap_err()
                .contains("sk-")
        );
        assert!(check_value("oauth2-proxy-cookie-secret", b"short").is_err());
        assert!(check_value("oauth2-proxy-cookie-secret", &[b'a'; 43]).is_ok());
        assert!(check_value("litellm-db-password", b"p@ss/word").is_err());
        assert!(check_value("dex-argocd-client-secret", b"$ref").is_err());
        assert!(check_value("hf-token", b"hf_x").is_ok());
    }

    #[test]
    fn dex_hash_rules() {
        let h = bcrypt::hash_with_salt(b"pw", 10, [1u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(check_value(DEX_HASH, h.as_bytes()).is_ok());
        assert!(check_value(DEX_HASH, STANDARD.encode(&h).as_bytes()).is_ok());
        let low = bcrypt::hash_with_salt(b"pw", 4, [1u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(
            check_value(DEX_HASH, low.as_bytes())
                .unwrap_err()
                .contains("cost 4")
        );
        assert!(check_dex_pair(b"pw", h.as_bytes()).is_ok());
        assert!(check_dex_pair(b"other", h.as_bytes()).is_err());
        assert!(check_value(DEX_HASH, b"plain").is_err());
    }
}
