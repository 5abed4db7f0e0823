//! seqnum.json, crc32.json and header.json: mpgameserver 0.2.4's own outputs.
mod common;

use common::*;
use gamewire_core::codec::{Direction, Header, HeaderError, PacketType};
use gamewire_core::{crc32, Seq};

#[test]
fn seqnum() {
    let v = vector("seqnum.json");
    for (op, cases) in [("add", &v["add"]), ("sub", &v["sub"])] {
        for c in cases.as_array().unwrap() {
            let a = Seq::try_from_i64(int(c, "a")).unwrap();
            let b = int(c, "b");
            let got = if op == "add" { a.checked_add(b) } else { a.checked_sub(b) };
            match c.get("result") {
                Some(r) => assert_eq!(got.map(Seq::get), Ok(r.as_i64().unwrap() as u16), "{op} {c}"),
                None => assert!(got.is_err(), "{op} {c} should fail"),
            }
        }
    }
    let diffs = v["diff"].as_array().unwrap();
    assert!(diffs.len() > 100);
    for c in diffs {
        let (a, b) = (Seq::new(int(c, "a") as u16), Seq::new(int(c, "b") as u16));
        assert_eq!(i64::from(a.diff(b)), int(c, "diff"), "diff {c}");
        assert_eq!(a.newer_than(b), c["a_newer_than_b"].as_bool().unwrap(), "newer_than {c}");
    }
    for c in v["construct_invalid"].as_array().unwrap() {
        assert!(Seq::try_from_i64(int(c, "value")).is_err(), "{c}");
    }
}

#[test]
fn crc32_cases() {
    for c in vector("crc32.json")["cases"].as_array().unwrap() {
        let want = u32::from_str_radix(text(c, "crc32"), 16).unwrap();
        assert_eq!(crc32(&unhex(text(c, "data"))), want, "{c}");
    }
}

fn fields(c: &serde_json::Value, direction: Direction) -> Header {
    Header {
        direction,
        ctime: int(c, "ctime") as u32,
        seq: Seq::new(int(c, "seq") as u16),
        ack: Seq::new(int(c, "ack") as u16),
        ptype: PacketType::from_u8(packet_type(text(c, "pkt_type"))).unwrap(),
        length: int(c, "length") as u16,
        count: int(c, "count") as u8,
        ack_bits: u32::from_str_radix(text(c, "ack_bits"), 16).unwrap(),
    }
}

#[test]
fn header_encode_and_decode() {
    let v = vector("header.json");
    for c in v["encode"].as_array().unwrap() {
        let dir =
            if c["sender_is_server"].as_bool().unwrap() { Direction::ToClient } else { Direction::ToServer };
        let h = fields(c, dir);
        assert_eq!(hex::encode(h.to_bytes()), text(c, "bytes"), "{c}");
        assert_eq!(Header::decode(&h.to_bytes(), dir), Ok(h));
    }
    for c in v["decode"].as_array().unwrap() {
        let expect =
            if c["decoder_is_server"].as_bool().unwrap() { Direction::ToServer } else { Direction::ToClient };
        let got = Header::decode(&unhex(text(c, "bytes")), expect);
        let r = &c["result"];
        match r.get("error") {
            None => assert_eq!(got, Ok(fields(r, expect)), "{}", c["case"]),
            Some(_) => {
                let want = match text(r, "message") {
                    "direction error" => HeaderError::WrongDirection,
                    "invalid magic number" => HeaderError::BadMagic,
                    "8" => HeaderError::UnknownType(8),
                    _ => HeaderError::TooShort,
                };
                assert_eq!(got, Err(want), "{}", c["case"]);
            }
        }
    }
}
