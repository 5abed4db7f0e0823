//! The three handshake bodies (wire spec §9): CLIENT_HELLO, SERVER_HELLO, CHALLENGE_RESP.

use super::framing::MAX_PAYLOAD;
use super::header::HEADER_SIZE;
use super::serial::{put_bytes, put_int, Reader, SerialError};

/// Object type id of the CLIENT_HELLO body.
pub const CLIENT_HELLO_ID: u16 = 130;
/// Object type id of the SERVER_HELLO body.
pub const SERVER_HELLO_ID: u16 = 131;
/// Object type id of the CHALLENGE_RESP body.
pub const CHALLENGE_RESP_ID: u16 = 132;
/// The only protocol version.
pub const PROTOCOL_VERSION: i64 = 1;
/// Length of the SERVER_HELLO salt.
pub const SALT_LEN: usize = 16;

/// A handshake body that does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// A value in it does not decode.
    #[error(transparent)]
    Serial(#[from] SerialError),
    /// The object type id is not the expected one.
    #[error("object type {found}, expected {expected}")]
    WrongType {
        /// What was found.
        found: u16,
        /// What was expected.
        expected: u16,
    },
    /// CLIENT_HELLO of another protocol version.
    #[error("unsupported protocol version {0}")]
    Version(i64),
    /// CLIENT_HELLO without its full padding (anti-amplification).
    #[error("CLIENT_HELLO padding missing")]
    Padding,
    /// A field out of range (salt length, token, field count).
    #[error("handshake field out of range: {0}")]
    Field(&'static str),
}

fn expect_type(r: &mut Reader<'_>, expected: u16) -> Result<(), HandshakeError> {
    let found = r.u16()?;
    if found == expected {
        Ok(())
    } else {
        Err(HandshakeError::WrongType { found, expected })
    }
}

/// Bytes of padding a CLIENT_HELLO carries after fields that encode to `fields_len` bytes
/// (1311 for the 91-byte key and version 1).
pub const fn client_hello_padding(fields_len: usize) -> usize {
    MAX_PAYLOAD.saturating_sub(2 + HEADER_SIZE + fields_len + 2)
}

/// CLIENT_HELLO: the client's ephemeral public key and the protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// The client's ephemeral key, SPKI DER.
    pub public_key: &'a [u8],
}

impl<'a> ClientHello<'a> {
    /// Encodes the body: type id, key, version, then `fill_padding` writes the padding.
    pub fn encode(&self, out: &mut Vec<u8>, fill_padding: impl FnOnce(&mut [u8])) {
        out.extend_from_slice(&CLIENT_HELLO_ID.to_be_bytes());
        let start = out.len();
        put_bytes(out, self.public_key);
        put_int(out, PROTOCOL_VERSION);
        let pad = client_hello_padding(out.len() - start);
        let at = out.len();
        out.resize(at + pad, 0);
        fill_padding(&mut out[at..]);
    }

    /// Decodes and checks the body: version 1 and the full padding present (extra bytes are
    /// ignored, as mpgameserver does).
    pub fn decode(body: &'a [u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(body);
        expect_type(&mut r, CLIENT_HELLO_ID)?;
        let start = r.position();
        let public_key = r.bytes()?;
        let version = r.int()?;
        if version != PROTOCOL_VERSION {
            return Err(HandshakeError::Version(version));
        }
        if r.rest().len() < client_hello_padding(r.position() - start) {
            return Err(HandshakeError::Padding);
        }
        Ok(Self { public_key })
    }
}

/// SERVER_HELLO: the root key, the signed blob (ephemeral key, salt, token) and its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// The root public key the server embeds (clients with a pinned key ignore it).
    pub root_key: &'a [u8],
    /// The signed blob `S`, as sent.
    pub signed: &'a [u8],
    /// DER ECDSA-SHA256 signature of `signed`.
    pub signature: &'a [u8],
    /// From `S`: the server's ephemeral key.
    pub ephemeral_key: &'a [u8],
    /// From `S`: the HKDF salt.
    pub salt: &'a [u8],
    /// From `S`: the session token.
    pub token: u32,
}

/// Builds the signed blob `S` of a SERVER_HELLO.
pub fn server_hello_signed_blob(ephemeral_key: &[u8], salt: &[u8], token: u32) -> Vec<u8> {
    let mut s = Vec::with_capacity(128);
    put_bytes(&mut s, ephemeral_key);
    put_bytes(&mut s, salt);
    put_int(&mut s, i64::from(token));
    s
}

/// Encodes a SERVER_HELLO body from its parts.
pub fn encode_server_hello(out: &mut Vec<u8>, root_key: &[u8], signed: &[u8], signature: &[u8]) {
    out.extend_from_slice(&SERVER_HELLO_ID.to_be_bytes());
    put_bytes(out, root_key);
    put_bytes(out, signed);
    put_bytes(out, signature);
}

impl<'a> ServerHello<'a> {
    /// Decodes the body and the signed blob inside it (the signature is not checked here).
    pub fn decode(body: &'a [u8]) -> Result<Self, HandshakeError> {
        let mut r = Reader::new(body);
        expect_type(&mut r, SERVER_HELLO_ID)?;
        let root_key = r.bytes()?;
        let signed = r.bytes()?;
        let signature = r.bytes()?;
        let mut s = Reader::new(signed);
        let ephemeral_key = s.bytes()?;
        let salt = s.bytes()?;
        if salt.len() != SALT_LEN {
            return Err(HandshakeError::Field("salt length"));
        }
        let token = u32::try_from(s.int()?).map_err(|_| HandshakeError::Field("token"))?;
        Ok(Self { root_key, signed, signature, ephemeral_key, salt, token })
    }
}

/// Encodes a CHALLENGE_RESP body: type id, field count 1, the token.
pub fn encode_challenge_response(out: &mut Vec<u8>, token: u32) {
    out.extend_from_slice(&CHALLENGE_RESP_ID.to_be_bytes());
    put_int(out, 1);
    put_int(out, i64::from(token));
}

/// Decodes a CHALLENGE_RESP body to its token. Exactly one field is accepted.
pub fn decode_challenge_response(body: &[u8]) -> Result<u32, HandshakeError> {
    let mut r = Reader::new(body);
    expect_type(&mut r, CHALLENGE_RESP_ID)?;
    if r.int()? != 1 {
        return Err(HandshakeError::Field("field count"));
    }
    u32::try_from(r.int()?).map_err(|_| HandshakeError::Field("token"))
}
