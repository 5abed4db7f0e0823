//! P-256 keys: the root signing key, ephemeral ECDH keys, their wire and file encodings.
//!
//! On the wire a public key is a DER SubjectPublicKeyInfo of an uncompressed point: a fixed
//! 26-byte prefix followed by `04 | X | Y` (91 bytes). On disk keys are PEM, interchangeable with
//! mpgameserver's: PKCS#8 (`BEGIN PRIVATE KEY`) for private keys (SEC1 `BEGIN EC PRIVATE KEY` is
//! read too) and SPKI (`BEGIN PUBLIC KEY`) for public keys.

use hkdf::Hkdf;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::{PublicKey, SecretKey};
use rand_core::CryptoRngCore;
use sha2::Sha256;

/// Length of a P-256 public key as DER SubjectPublicKeyInfo with an uncompressed point.
pub const SPKI_LEN: usize = 91;
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// HKDF `info` of protocol version 1.
pub const HKDF_INFO: &[u8] = b"01-secp256r1-sha256-aesgcm128-server-client";

/// A key that could not be read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a P-256 public key (bad DER, or a point not on the curve).
    #[error("not a valid P-256 public key")]
    BadPublicKey,
    /// Not a P-256 private key.
    #[error("not a valid P-256 private key")]
    BadPrivateKey,
    /// PEM that holds neither a PKCS#8 nor a SEC1 P-256 private key, or no SPKI public key.
    #[error("unreadable PEM: {0}")]
    BadPem(String),
}

fn spki_of(public: &PublicKey) -> [u8; SPKI_LEN] {
    let point = public.to_encoded_point(false);
    let mut out = [0u8; SPKI_LEN];
    out[..26].copy_from_slice(&SPKI_PREFIX);
    out[26..].copy_from_slice(point.as_bytes());
    out
}

fn parse_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
    if der.len() == SPKI_LEN && der[..26] == SPKI_PREFIX {
        // The common case: validate the point directly.
        return PublicKey::from_sec1_bytes(&der[26..]).map_err(|_| KeyError::BadPublicKey);
    }
    PublicKey::from_public_key_der(der).map_err(|_| KeyError::BadPublicKey)
}

/// The server's long-term root key: signs each SERVER_HELLO.
#[derive(Clone)]
pub struct RootKey {
    secret: SecretKey,
    signing: SigningKey,
}

impl core::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RootKey").field("public", &self.public()).finish_non_exhaustive()
    }
}

impl RootKey {
    fn from_secret(secret: SecretKey) -> Self {
        let signing = SigningKey::from(&secret);
        Self { secret, signing }
    }

    /// A new random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self::from_secret(SecretKey::random(rng))
    }

    /// From the 32-byte big-endian scalar.
    pub fn from_scalar(bytes: &[u8]) -> Result<Self, KeyError> {
        SecretKey::from_slice(bytes).map(Self::from_secret).map_err(|_| KeyError::BadPrivateKey)
    }

    /// From PEM: PKCS#8 (`BEGIN PRIVATE KEY`, what mpgameserver writes) or SEC1
    /// (`BEGIN EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if let Ok(k) = SecretKey::from_pkcs8_pem(pem) {
            return Ok(Self::from_secret(k));
        }
        SecretKey::from_sec1_pem(pem).map(Self::from_secret).map_err(|e| KeyError::BadPem(e.to_string()))
    }

    /// From PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        SecretKey::from_pkcs8_der(der).map(Self::from_secret).map_err(|_| KeyError::BadPrivateKey)
    }

    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), LF line endings.
    pub fn to_pem(&self) -> String {
        // Encoding a valid P-256 key to PKCS#8 cannot fail.
        self.secret.to_pkcs8_pem(LineEnding::LF).map(|s| s.to_string()).unwrap_or_default()
    }

    /// PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        self.secret.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The public half.
    pub fn public(&self) -> RootPublicKey {
        RootPublicKey { key: self.secret.public_key() }
    }

    /// ECDSA-SHA256 signature of `msg`, DER-encoded (deterministic, RFC 6979).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.signing.sign(msg);
        let der: DerSignature = sig.to_der();
        der.as_bytes().to_vec()
    }
}

/// A root public key, as a client pins it.
#[derive(Clone, PartialEq, Eq)]
pub struct RootPublicKey {
    key: PublicKey,
}

impl core::fmt::Debug for RootPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let spki = self.to_spki();
        write!(f, "RootPublicKey(")?;
        for b in &spki[27..35] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

impl RootPublicKey {
    /// From DER SubjectPublicKeyInfo (the point is validated).
    pub fn from_spki(der: &[u8]) -> Result<Self, KeyError> {
        parse_spki(der).map(|key| Self { key })
    }

    /// From SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        PublicKey::from_public_key_pem(pem)
            .map(|key| Self { key })
            .map_err(|e| KeyError::BadPem(e.to_string()))
    }

    /// The 91-byte SPKI.
    pub fn to_spki(&self) -> [u8; SPKI_LEN] {
        spki_of(&self.key)
    }

    /// SPKI PEM, LF line endings.
    pub fn to_pem(&self) -> String {
        self.key.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// Checks a DER ECDSA-SHA256 signature of `msg`.
    pub fn verify(&self, msg: &[u8], der_sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_der(der_sig) else { return false };
        VerifyingKey::from(&self.key).verify(msg, &sig).is_ok()
    }
}

/// An ephemeral ECDH key of one handshake.
pub struct EphemeralSecret {
    secret: SecretKey,
}

impl core::fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EphemeralSecret(..)")
    }
}

impl EphemeralSecret {
    /// A new random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self { secret: SecretKey::random(rng) }
    }

    /// From a fixed scalar (test vectors).
    pub fn from_scalar(bytes: &[u8]) -> Result<Self, KeyError> {
        SecretKey::from_slice(bytes).map(|secret| Self { secret }).map_err(|_| KeyError::BadPrivateKey)
    }

    /// Our public key as 91-byte SPKI.
    pub fn public_spki(&self) -> [u8; SPKI_LEN] {
        spki_of(&self.secret.public_key())
    }

    /// ECDH with the peer's SPKI: the 32-byte x-coordinate of the shared point.
    pub fn diffie_hellman(&self, peer_spki: &[u8]) -> Result<[u8; 32], KeyError> {
        let peer = parse_spki(peer_spki)?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
        let mut x = [0u8; 32];
        x.copy_from_slice(shared.raw_secret_bytes());
        Ok(x)
    }
}

/// `HKDF-SHA256(ikm = shared_x, salt, info = "01-secp256r1-sha256-aesgcm128-server-client", L = 16)`.
pub fn session_key(shared_x: &[u8], salt: &[u8]) -> [u8; 16] {
    let mut okm = [0u8; 16];
    // 16 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), shared_x).expand(HKDF_INFO, &mut okm);
    okm
}
