//! The handshake's cryptography and the per-datagram AEAD (wire spec §4, §9).
//!
//! * Keys: P-256 everywhere. The server's long-term **root key** only signs; each connection
//!   uses fresh **ephemeral** keys on both sides for ECDH.
//! * Session key: HKDF-SHA256 over the ECDH x-coordinate, salted by the server, 16 bytes.
//! * Datagrams: AES-128-GCM, nonce = header bytes 0..12, AAD = the 20-byte header.

pub mod aead;
pub mod keys;

pub use aead::{PacketCipher, TAG_SIZE};
pub use keys::{session_key, EphemeralSecret, KeyError, RootKey, RootPublicKey, SPKI_LEN};
