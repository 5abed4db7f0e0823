//! Every parser of the receive path, on arbitrary bytes: header (both directions), protection
//! (CRC and AES-GCM with a fixed key), message framing, fragments, the handshake bodies, the tagged
//! encoding, and the replay window fed with the bytes as sequence numbers.
#![no_main]

use gamewire_core::codec::fragment::FragmentHeader;
use gamewire_core::codec::handshake::{decode_challenge_response, ClientHello, ServerHello};
use gamewire_core::codec::serial::Reader;
use gamewire_core::codec::{Direction, Header, Messages};
use gamewire_core::crypto::PacketCipher;
use gamewire_core::packet::unprotect;
use gamewire_core::window::ReplayWindow;
use gamewire_core::Seq;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cipher = PacketCipher::new(&[7u8; 16]);
    for dir in [Direction::ToServer, Direction::ToClient] {
        if let Ok(h) = Header::decode(data, dir) {
            for c in [None, Some(&cipher)] {
                let mut buf = data.to_vec();
                if let Ok(p) = unprotect(&mut buf, &h, c) {
                    if let Ok(msgs) = Messages::parse(&buf[p], h.count, h.ptype) {
                        for m in msgs {
                            let _ = FragmentHeader::parse(m.data);
                            let _ = ClientHello::decode(m.data);
                            let _ = ServerHello::decode(m.data);
                            let _ = decode_challenge_response(m.data);
                        }
                    }
                }
            }
            let rest = &data[20..];
            let _ = Messages::parse(rest, h.count, h.ptype).map(|m| m.count());
        }
    }
    let _ = ClientHello::decode(data);
    let _ = ServerHello::decode(data);
    let _ = decode_challenge_response(data);
    let mut r = Reader::new(data);
    while r.int().is_ok() || r.bytes().is_ok() {}
    let mut w = ReplayWindow::new(256);
    for pair in data.chunks_exact(2) {
        let s = Seq::new(u16::from_be_bytes([pair[0], pair[1]]));
        if s.is_set() {
            w.insert(s);
            assert!(w.contains(s) || w.current().diff(s).unsigned_abs() >= 256 || s == w.current());
        }
        let _ = w.ack_bits();
    }
});
