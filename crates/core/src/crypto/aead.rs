//! AES-128-GCM per datagram, in place.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce, Tag};

use crate::codec::{HEADER_SIZE, NONCE_SIZE};

/// Size of the GCM tag appended to every encrypted payload.
pub const TAG_SIZE: usize = 16;

/// The payload did not authenticate under this key, nonce and AAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AES-GCM authentication failed")]
pub struct OpenError;

/// The session cipher of one connection (one key for both directions; the direction byte in the
/// nonce keeps the two directions apart).
#[derive(Clone)]
pub struct PacketCipher {
    aead: Aes128Gcm,
}

impl core::fmt::Debug for PacketCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PacketCipher(..)")
    }
}

impl PacketCipher {
    /// Expands a 16-byte session key.
    pub fn new(key: &[u8; 16]) -> Self {
        Self { aead: Aes128Gcm::new(key.into()) }
    }

    /// Encrypts `payload` in place under `header` (nonce = its first 12 bytes, AAD = all 20) and
    /// returns the tag.
    pub fn seal(&self, header: &[u8; HEADER_SIZE], payload: &mut [u8]) -> [u8; TAG_SIZE] {
        let nonce = Nonce::from_slice(&header[..NONCE_SIZE]);
        // Encryption only fails for payloads over GCM's 64 GiB limit; ours are under 2 KiB.
        match self.aead.encrypt_in_place_detached(nonce, header, payload) {
            Ok(tag) => tag.into(),
            Err(_) => [0; TAG_SIZE],
        }
    }

    /// Decrypts `payload` in place, checking `tag`. On failure `payload` is left unspecified and
    /// must be discarded.
    pub fn open(
        &self,
        header: &[u8; HEADER_SIZE],
        payload: &mut [u8],
        tag: &[u8; TAG_SIZE],
    ) -> Result<(), OpenError> {
        let nonce = Nonce::from_slice(&header[..NONCE_SIZE]);
        self.aead
            .decrypt_in_place_detached(nonce, header, payload, Tag::from_slice(tag))
            .map_err(|_| OpenError)
    }
}
