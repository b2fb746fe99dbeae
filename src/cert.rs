//! The sealed-secrets controller's certificate: PEM in, RSA public key and facts out.
//!
//! Pure: the caller passes `now` (Unix seconds), so expiry checks are testable. The rules are
//! kubeseal's (first `CERTIFICATE` block, RSA only, refuse an expired certificate, naming the
//! date as kubeseal does), plus what sealstrap adds: RSA keys under 2048 bits are refused and a
//! certificate expiring within [`EXPIRY_WARNING_DAYS`] days draws a warning. The controller's
//! empty subject and issuer are normal.

use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey as X509PublicKey;

use crate::rsa::PublicKey;
use crate::timefmt;

/// Smallest RSA modulus sealstrap seals for.
pub const MIN_RSA_BITS: usize = 2048;
/// A certificate expiring within this many days draws a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// A parsed controller certificate.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The RSA public key values are sealed with.
    pub public_key: PublicKey,
    /// `sha256:<hex>` of the SubjectPublicKeyInfo DER.
    pub fingerprint: String,
    /// Subject as text; empty for the controller's own certificates.
    pub subject: String,
    /// Issuer as text; empty for the controller's own certificates.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// RSA modulus size in bits.
    pub bits: usize,
}

/// What is wrong with a certificate file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertError {
    #[error("not a PEM file: no '-----BEGIN ...-----' line found")]
    NotPem,
    #[error("no CERTIFICATE block in the PEM data (found: {found})")]
    NoCertificateBlock { found: String },
    #[error("the CERTIFICATE block is not a valid X.509 certificate: {0}")]
    BadCertificate(String),
    #[error("expected RSA public key but found {0}")]
    NotRsa(String),
    #[error(
        "the certificate's RSA key has {bits} bits; sealstrap refuses keys under {MIN_RSA_BITS} bits"
    )]
    TooSmall { bits: usize },
    #[error("the certificate's RSA public key cannot be used: {0}")]
    BadRsaKey(String),
    #[error("failed to encrypt using an expired certificate on {}", timefmt::long_date(*.not_after))]
    Expired { not_after: i64 },
}

impl CertError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CertError::NotPem | CertError::BadCertificate(_) => Some(
                "pass the controller's public certificate: `kubeseal --fetch-cert > pub.pem` (or `sealstrap cert fetch`) where you have cluster access",
            ),
            CertError::NoCertificateBlock { found } if found.contains("PRIVATE KEY") => Some(
                "this looks like a private key; sealing needs the controller's public certificate (tls.crt), not tls.key",
            ),
            CertError::NoCertificateBlock { .. } => Some(
                "the file must contain a '-----BEGIN CERTIFICATE-----' block, as `kubeseal --fetch-cert` prints it",
            ),
            CertError::NotRsa(_) => Some(
                "the sealed-secrets controller always uses RSA keys; this is not a controller certificate",
            ),
            CertError::TooSmall { .. } => Some(
                "the controller generates 4096-bit keys by default; fetch its current certificate",
            ),
            CertError::Expired { .. } => Some(
                "fetch the controller's current certificate; it renews its key every 30 days and keeps old keys for decryption",
            ),
            CertError::BadRsaKey(_) => None,
        }
    }
}

/// Parses the first `CERTIFICATE` block of `pem` (other blocks are skipped, as Go's
/// `ParseCertsPEM` does). Does not check validity dates: see [`Certificate::check`].
pub fn parse(pem: &[u8]) -> Result<Certificate, CertError> {
    let mut found = Vec::new();
    let mut cert_block = None;
    for block in Pem::iter_from_buffer(pem) {
        let Ok(block) = block else {
            break;
        };
        if block.label == "CERTIFICATE" {
            cert_block = Some(block);
            break;
        }
        if !found.contains(&block.label) {
            found.push(block.label.clone());
        }
    }
    let Some(block) = cert_block else {
        return Err(if found.is_empty() {
            CertError::NotPem
        } else {
            CertError::NoCertificateBlock {
                found: found.join(", "),
            }
        });
    };
    let x509 = block
        .parse_x509()
        .map_err(|e| CertError::BadCertificate(e.to_string()))?;
    let spki = x509.public_key();
    let bits = match spki.parsed() {
        Ok(X509PublicKey::RSA(rsa)) => rsa.key_size(),
        Ok(X509PublicKey::EC(ec)) => {
            return Err(CertError::NotRsa(format!(
                "an EC key ({} bits)",
                ec.key_size()
            )));
        }
        Ok(X509PublicKey::DSA(_)) => return Err(CertError::NotRsa("a DSA key".into())),
        Ok(X509PublicKey::GostR3410(_) | X509PublicKey::GostR3410_2012(_)) => {
            return Err(CertError::NotRsa("a GOST key".into()));
        }
        Ok(X509PublicKey::Unknown(_)) | Err(_) => {
            return Err(CertError::NotRsa(format!(
                "a key of algorithm {}",
                spki.algorithm.algorithm
            )));
        }
    };
    if bits < MIN_RSA_BITS {
        return Err(CertError::TooSmall { bits });
    }
    let public_key =
        PublicKey::from_spki_der(spki.raw).map_err(|e| CertError::BadRsaKey(e.to_string()))?;
    let validity = x509.validity();
    Ok(Certificate {
        public_key,
        fingerprint: fingerprint_spki(spki.raw),
        subject: x509.subject().to_string(),
        issuer: x509.issuer().to_string(),
        serial: x509.raw_serial_as_string(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        bits,
    })
}

/// `sha256:<hex>` of a SubjectPublicKeyInfo DER: equal to
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`.
pub fn fingerprint_spki(spki_der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(crate::digest::sha256(spki_der)))
}

/// A non-fatal finding about a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertWarning {
    /// Expires within [`EXPIRY_WARNING_DAYS`] days.
    ExpiresSoon { days: i64, not_after: i64 },
    /// Not valid yet (the controller's clock or ours is off).
    NotYetValid { not_before: i64 },
}

impl std::fmt::Display for CertWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertWarning::ExpiresSoon { days, not_after } => write!(
                f,
                "the certificate expires in {days} day{} ({}); fetch a fresh one from the controller soon",
                if *days == 1 { "" } else { "s" },
                timefmt::rfc3339(*not_after)
            ),
            CertWarning::NotYetValid { not_before } => write!(
                f,
                "the certificate is not valid before {}; check this machine's clock",
                timefmt::rfc3339(*not_before)
            ),
        }
    }
}

impl Certificate {
    /// Whole days from `now` until expiry (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    /// kubeseal's check before sealing (expired is an error) plus sealstrap's warnings.
    pub fn check(&self, now: i64) -> Result<Vec<CertWarning>, CertError> {
        if now > self.not_after {
            return Err(CertError::Expired {
                not_after: self.not_after,
            });
        }
        let mut warnings = Vec::new();
        if now < self.not_before {
            warnings.push(CertWarning::NotYetValid {
                not_before: self.not_before,
            });
        }
        let days = self.days_left(now);
        if days < EXPIRY_WARNING_DAYS {
            warnings.push(CertWarning::ExpiresSoon {
                days,
                not_after: self.not_after,
            });
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_pem() {
        assert_eq!(parse(b"hello").unwrap_err(), CertError::NotPem);
        assert_eq!(parse(b"").unwrap_err(), CertError::NotPem);
    }

    #[test]
    fn key_only_pem_names_what_it_found() {
        let pem = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let err = parse(pem).unwrap_err();
        assert_eq!(
            err,
            CertError::NoCertificateBlock {
                found: "RSA PRIVATE KEY".into()
            }
        );
        assert!(err.hint().unwrap().contains("private key"));
    }

    #[test]
    fn broken_certificate_body() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(parse(pem), Err(CertError::BadCertificate(_))));
    }

    #[test]
    fn expired_message_is_kubeseals() {
        let e = CertError::Expired {
            not_after: 1_795_907_879,
        };
        assert_eq!(
            e.to_string(),
            "failed to encrypt using an expired certificate on November 28, 2026"
        );
    }
}

#[cfg(test)]
mod vector_tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/vectors/keys")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn controller_certificate_with_empty_subject_is_accepted() {
        let c = parse(&vector("controller-4096.crt.pem")).unwrap();
        assert_eq!(c.bits, 4096);
        assert_eq!(c.subject, "");
        assert!(c.fingerprint.starts_with("sha256:") && c.fingerprint.len() == 7 + 64);
        assert_eq!(c.check(c.not_before + 86_400).unwrap(), vec![]);
    }

    #[test]
    fn expiry_is_checked_against_the_given_time() {
        let c = parse(&vector("controller-2048.crt.pem")).unwrap();
        let soon = c.not_after - 10 * 86_400 - 5;
        assert_eq!(
            c.check(soon).unwrap(),
            vec![CertWarning::ExpiresSoon {
                days: 10,
                not_after: c.not_after
            }]
        );
        assert_eq!(
            c.check(c.not_after + 1).unwrap_err(),
            CertError::Expired {
                not_after: c.not_after
            }
        );
        assert!(matches!(
            c.check(c.not_before - 100).unwrap()[0],
            CertWarning::NotYetValid { .. }
        ));
    }

    #[test]
    fn ec_certificate_is_refused() {
        assert!(matches!(
            parse(&vector("ec-p256.crt.pem")),
            Err(CertError::NotRsa(_))
        ));
    }
}
