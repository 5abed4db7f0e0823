//! The endpoint's TLS identity: the operator's certificate from PEM, or a self-signed ECDSA P-256
//! certificate short enough for browsers to pin by hash (`serverCertificateHashes` accepts only
//! certificates valid for at most 14 days), renewed well before it expires.

use std::time::{Duration, SystemTime};

use wtransport::tls::self_signed::time::OffsetDateTime;
use wtransport::tls::{Certificate, CertificateChain, PrivateKey};
use wtransport::Identity;

use crate::StartError;

/// How long before "now" a self-signed certificate starts, for clocks a little behind ours.
pub(crate) const BACKDATE: Duration = Duration::from_secs(3600);
/// How long after "now" a self-signed certificate ends: with [`BACKDATE`], 13 days and an hour
/// in all, inside the browsers' limit of 14 days.
pub(crate) const VALIDITY: Duration = Duration::from_secs(13 * 86_400);
/// A self-signed certificate is replaced once it has this little validity left (so every
/// certificate serves about a week, and a page that fetched its hash has days to use it).
pub(crate) const RENEW_WHEN_LEFT: Duration = Duration::from_secs(6 * 86_400);

/// The names a self-signed certificate carries. Browsers that pin by hash do not check them;
/// other clients may.
const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The certificate the endpoint presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the DER certificate: what a page passes as `serverCertificateHashes`.
    pub hash: [u8; 32],
    /// True for the endpoint's own self-signed certificate (renewed automatically).
    pub self_signed: bool,
    /// Start of validity (self-signed certificates only; `None` for the operator's).
    pub not_before: Option<SystemTime>,
    /// End of validity (self-signed certificates only; `None` for the operator's).
    pub not_after: Option<SystemTime>,
}

impl CertificateInfo {
    /// The hash as lowercase hex (64 characters).
    pub fn hash_hex(&self) -> String {
        self.hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// True when a self-signed certificate should be replaced at `now`.
    pub(crate) fn renewal_due(&self, now: SystemTime) -> bool {
        match (self.self_signed, self.not_after) {
            (true, Some(end)) => end.duration_since(now).map_or(true, |left| left <= RENEW_WHEN_LEFT),
            _ => false,
        }
    }
}

/// The time source for certificates (validity, renewal). Tests move it to see a renewal without
/// waiting days.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// An operator's certificate chain and private key, PEM text.
#[derive(Clone)]
pub struct PemIdentity {
    /// One or more `CERTIFICATE` blocks, the end-entity certificate first.
    pub cert_pem: String,
    /// A PKCS#8 `PRIVATE KEY` block.
    pub key_pem: String,
}

impl std::fmt::Debug for PemIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("PemIdentity").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// An identity and what the endpoint tells about it.
pub(crate) struct Made {
    pub(crate) identity: Identity,
    pub(crate) info: CertificateInfo,
}

/// A fresh self-signed ECDSA P-256 certificate valid from `now - BACKDATE` to `now + VALIDITY`.
pub(crate) fn self_signed(now: SystemTime) -> Result<Made, StartError> {
    let not_before = now.checked_sub(BACKDATE).unwrap_or(now);
    let not_after = now + VALIDITY;
    let identity = Identity::self_signed_builder()
        .subject_alt_names(SELF_SIGNED_NAMES)
        .validity_period(OffsetDateTime::from(not_before), OffsetDateTime::from(not_after))
        .build()
        .map_err(|e| StartError::Certificate(format!("self-signed certificate: {e}")))?;
    let hash = leaf_hash(&identity)?;
    // Certificates carry whole seconds: report what the certificate says.
    let info = CertificateInfo {
        hash,
        self_signed: true,
        not_before: Some(truncate_to_seconds(not_before)),
        not_after: Some(truncate_to_seconds(not_after)),
    };
    Ok(Made { identity, info })
}

/// The operator's certificate from PEM text.
pub(crate) fn from_pem(pem_identity: &PemIdentity) -> Result<Made, StartError> {
    let bad = |what: &str| StartError::Certificate(what.to_string());
    let blocks = pem::parse_many(pem_identity.cert_pem.as_bytes())
        .map_err(|e| StartError::Certificate(format!("cert_pem: not PEM: {e}")))?;
    let mut chain = Vec::new();
    for block in blocks.into_iter().filter(|b| b.tag() == "CERTIFICATE") {
        chain.push(
            Certificate::from_der(block.into_contents())
                .map_err(|e| StartError::Certificate(format!("cert_pem: not an X.509 certificate: {e}")))?,
        );
    }
    if chain.is_empty() {
        return Err(bad("cert_pem: no CERTIFICATE block"));
    }
    let key = pem::parse_many(pem_identity.key_pem.as_bytes())
        .map_err(|e| StartError::Certificate(format!("key_pem: not PEM: {e}")))?
        .into_iter()
        .find(|b| b.tag() == "PRIVATE KEY" || b.tag() == "EC PRIVATE KEY" || b.tag() == "RSA PRIVATE KEY")
        .ok_or_else(|| bad("key_pem: no PRIVATE KEY block"))?;
    if key.tag() != "PRIVATE KEY" {
        return Err(StartError::Certificate(format!(
            "key_pem: a {} block; convert it to PKCS#8 (`openssl pkcs8 -topk8 -nocrypt -in key.pem`)",
            key.tag()
        )));
    }
    let identity =
        Identity::new(CertificateChain::new(chain), PrivateKey::from_der_pkcs8(key.into_contents()));
    let hash = leaf_hash(&identity)?;
    Ok(Made {
        identity,
        info: CertificateInfo { hash, self_signed: false, not_before: None, not_after: None },
    })
}

fn leaf_hash(identity: &Identity) -> Result<[u8; 32], StartError> {
    identity
        .certificate_chain()
        .as_slice()
        .first()
        .map(|c| *c.hash().as_ref())
        .ok_or_else(|| StartError::Certificate("the certificate chain is empty".into()))
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => SystemTime::UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_fits_the_browser_rule_and_renews_after_a_week() {
        let now = SystemTime::now();
        let made = self_signed(now).unwrap();
        let (start, end) = (made.info.not_before.unwrap(), made.info.not_after.unwrap());
        assert!(end.duration_since(start).unwrap() <= Duration::from_secs(14 * 86_400));
        assert!(start <= now && end > now);
        assert!(!made.info.renewal_due(now));
        assert!(!made.info.renewal_due(now + Duration::from_secs(6 * 86_400)));
        assert!(made.info.renewal_due(now + Duration::from_secs(7 * 86_400 + 1)));
        assert!(made.info.renewal_due(now + Duration::from_secs(30 * 86_400)), "an expired one too");
        assert_eq!(made.info.hash_hex().len(), 64);
    }

    #[test]
    fn operator_pem_round_trips_and_bad_pem_is_named() {
        let made = self_signed(SystemTime::now()).unwrap();
        let cert_pem = made.identity.certificate_chain().as_slice()[0].to_pem();
        let key_pem = made.identity.private_key().to_secret_pem();
        let op = from_pem(&PemIdentity { cert_pem: cert_pem.clone(), key_pem: key_pem.clone() }).unwrap();
        assert_eq!(op.info.hash, made.info.hash);
        assert!(!op.info.self_signed);
        assert!(!op.info.renewal_due(SystemTime::now() + Duration::from_secs(400 * 86_400)));
        let err = |p: PemIdentity| match from_pem(&p) {
            Err(StartError::Certificate(m)) => m,
            other => panic!("expected a certificate error, got {:?}", other.map(|m| m.info)),
        };
        assert!(
            err(PemIdentity { cert_pem: "nope".into(), key_pem: key_pem.clone() }).starts_with("cert_pem")
        );
        assert!(err(PemIdentity { cert_pem: cert_pem.clone(), key_pem: "".into() }).starts_with("key_pem"));
        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(err(PemIdentity { cert_pem, key_pem: sec1.into() }).contains("PKCS#8"));
    }
}
