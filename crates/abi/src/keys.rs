//! Key conversions for the bindings: PEM, PKCS#8 DER, SPKI DER.

use gamewire_core::crypto::{RootKey, RootPublicKey};

use crate::entropy::{generate_root_key, OsEntropy};
use crate::AbiError;

/// A fresh root key as PKCS#8 DER (from the operating system's generator).
pub fn key_generate() -> Result<Vec<u8>, AbiError> {
    Ok(generate_root_key(&mut OsEntropy)?.to_pkcs8_der())
}

/// PKCS#8 DER from a PEM private key (PKCS#8 or SEC1).
pub fn key_from_pem(pem: &str) -> Result<Vec<u8>, AbiError> {
    RootKey::from_pem(pem).map(|k| k.to_pkcs8_der()).map_err(|e| AbiError::bad_key(e.to_string()))
}

/// PKCS#8 PEM of a PKCS#8 DER private key.
pub fn key_to_pem(der: &[u8]) -> Result<String, AbiError> {
    RootKey::from_pkcs8_der(der).map(|k| k.to_pem()).map_err(|e| AbiError::bad_key(e.to_string()))
}

/// The public key (SPKI DER) of a PKCS#8 DER private key.
pub fn key_public(der: &[u8]) -> Result<Vec<u8>, AbiError> {
    RootKey::from_pkcs8_der(der)
        .map(|k| k.public().to_spki().to_vec())
        .map_err(|e| AbiError::bad_key(e.to_string()))
}

/// SPKI DER from a PEM public key.
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, AbiError> {
    RootPublicKey::from_pem(pem).map(|k| k.to_spki().to_vec()).map_err(|e| AbiError::bad_key(e.to_string()))
}

/// SPKI PEM of an SPKI DER public key.
pub fn public_key_to_pem(spki: &[u8]) -> Result<String, AbiError> {
    RootPublicKey::from_spki(spki).map(|k| k.to_pem()).map_err(|e| AbiError::bad_key(e.to_string()))
}
