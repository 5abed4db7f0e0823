//! Helpers shared by the integration tests: the mpgameserver vectors in `test/vectors/`.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(unreachable_pub)] // a test helper module: `pub` is for the test binaries that include it

use serde_json::Value;
use std::path::PathBuf;

/// Reads `test/vectors/<name>` (the repository's copy of the mpgameserver 0.2.4 vectors).
pub fn vector(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a lower-case hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s}: {e}"))
}

/// An integer field.
pub fn int(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// A string field.
pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Packet type ids by the names the vectors use.
pub fn packet_type(name: &str) -> u8 {
    match name {
        "UNKNOWN" => 0,
        "CLIENT_HELLO" => 1,
        "SERVER_HELLO" => 2,
        "CHALLENGE_RESP" => 3,
        "KEEP_ALIVE" => 4,
        "DISCONNECT" => 5,
        "APP" => 6,
        "APP_FRAGMENT" => 7,
        other => panic!("unknown packet type name {other}"),
    }
}
