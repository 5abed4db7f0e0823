//! Where gamewire is stricter than mpgameserver 0.2.4 (wire spec §14 and the notes), and what
//! happens to bad input: every case is dropped and counted, nothing panics, state stays bounded.
mod support;

use std::collections::HashSet;
use std::time::Duration;

use gamewire_core::codec::{Direction, Header, PacketType, HEADER_SIZE};
use gamewire_core::crypto::RootKey;
use gamewire_core::{CloseReason, Config, ConnectError, DropReason, Endpoint, Instant, RetryMode, Status};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use support::*;

fn connected_pair(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, 1, Config::default(), Link::PERFECT);
    sim.record_wire = true;
    sim.run(Duration::from_millis(400));
    assert_eq!(sim.connected_clients(), 1);
    sim
}

fn first_wire(sim: &Sim, to_server: bool, ptype: PacketType) -> Vec<u8> {
    let dir = if to_server { Direction::ToServer } else { Direction::ToClient };
    sim.wire
        .iter()
        .find(|(ts, _, b)| *ts == to_server && Header::decode(b, dir).is_ok_and(|h| h.ptype == ptype))
        .map(|(_, _, b)| b.clone())
        .expect("datagram of that type on the wire")
}

/// A spoofed CLIENT_HELLO from a live client's address cannot re-key its session
/// (mpgameserver re-runs the handshake on the live connection).
#[test]
fn crc_hello_cannot_rekey_a_live_session() {
    let mut sim = connected_pair(11);
    let token = sim.server.token(&0).unwrap();
    let mut hello = first_wire(&sim, true, PacketType::ClientHello);
    // A fresh packet seq, so it is not simply a duplicate.
    hello[8..10].copy_from_slice(&999u16.to_be_bytes());
    let crc_at = hello.len() - 4;
    let crc = gamewire_core::crc32(&hello[..crc_at]);
    hello[crc_at..].copy_from_slice(&crc.to_be_bytes());
    let before = sim.server.connection_stats(&0).unwrap().counters.drop_auth_failed;
    assert_eq!(sim.server.handle_datagram(sim.now, 0, &mut hello), Err(DropReason::AuthFailed));
    assert_eq!(sim.server.connection_stats(&0).unwrap().counters.drop_auth_failed, before + 1);
    assert_eq!(sim.server.token(&0), Some(token), "same session");
    assert_eq!(sim.server.status(&0), Some(Status::Connected));
    // The session still carries traffic both ways.
    sim.clients[0].send(sim.now, &SERVER, b"still here", RetryMode::RetryOnTimeout, 7).unwrap();
    sim.run(Duration::from_millis(300));
    assert_eq!(received(&sim.server_events).get(b"still here".as_slice()), Some(&1));
    assert_eq!(settlements(&sim.client_events[0]).get(&7), Some(&vec![true]));
    // A CRC SERVER_HELLO replayed at the client is refused the same way.
    let mut sh = first_wire(&sim, false, PacketType::ServerHello);
    assert_eq!(sim.clients[0].handle_datagram(sim.now, SERVER, &mut sh), Err(DropReason::AuthFailed));
}

/// A genuine datagram replayed later is a replay: dropped, its messages not delivered again,
/// whether it is still inside the packet window or long past it (mpgameserver delivers it again
/// once it is more than 32 packets and 256 messages old).
#[test]
fn replays_are_dropped_inside_and_beyond_the_windows() {
    let mut sim = connected_pair(12);
    sim.clients[0].send(sim.now, &SERVER, b"once", RetryMode::None, 0).unwrap();
    sim.run(Duration::from_millis(100));
    let app = sim
        .wire
        .iter()
        .rev()
        .find(|(ts, _, b)| {
            *ts && Header::decode(b, Direction::ToServer).is_ok_and(|h| h.ptype == PacketType::App)
        })
        .map(|(_, _, b)| b.clone())
        .unwrap();
    assert_eq!(received(&sim.server_events).get(b"once".as_slice()), Some(&1));
    // Soon after: a duplicate within the window.
    let mut again = app.clone();
    assert_eq!(sim.server.handle_datagram(sim.now, 0, &mut again), Err(DropReason::Replay));
    // Much later: thousands of packets and messages on, far beyond mpgameserver's windows.
    for i in 0..3000u32 {
        sim.clients[0].send(sim.now, &SERVER, &i.to_be_bytes(), RetryMode::None, 0).unwrap();
        if i % 40 == 0 {
            sim.run(Duration::from_millis(17));
        }
    }
    sim.run(Duration::from_secs(2));
    let mut late = app.clone();
    assert_eq!(sim.server.handle_datagram(sim.now, 0, &mut late), Err(DropReason::Replay));
    sim.flush();
    assert_eq!(received(&sim.server_events).get(b"once".as_slice()), Some(&1), "never delivered twice");
    assert!(sim.server.connection_stats(&0).unwrap().counters.drop_replay >= 2);
}

/// Old traffic is refused by its authenticated ctime too: a datagram whose ctime is more than
/// `max_ctime_age` older than the newest seen is a replay even if its seq looks new.
#[test]
fn stale_ctime_is_a_replay() {
    let cfg = Config { max_ctime_age: Duration::from_secs(60), ..Config::default() };
    let mut sim = Sim::new(13, 1, cfg, Link::PERFECT);
    sim.record_wire = true;
    sim.run(Duration::from_millis(400));
    let first_ka = first_wire(&sim, true, PacketType::KeepAlive);
    sim.run(Duration::from_secs(70));
    // The old keep-alive's seq is long out of the window as well; either check refuses it.
    let mut d = first_ka;
    assert_eq!(sim.server.handle_datagram(sim.now, 0, &mut d), Err(DropReason::Replay));
}

/// One lost datagram of the handshake, in any of its three steps, is not a dead connection:
/// both sides re-send their part.
#[test]
fn each_lost_handshake_datagram_is_recovered() {
    for (lose_up, nth) in [(true, 0usize), (false, 0), (true, 1)] {
        let mut sim = Sim::new(14 + nth as u64, 1, Config::default(), Link::PERFECT);
        // Drop exactly one datagram: the nth in that direction.
        let mut seen = 0usize;
        let mut connected = false;
        for _ in 0..400 {
            let mut buf = vec![0u8; 2048];
            let now = sim.now;
            let mut outs = vec![];
            while let Some(t) = sim.clients[0].poll_transmit(now, &mut buf) {
                outs.push((true, buf[..t.len].to_vec()));
            }
            while let Some(t) = sim.server.poll_transmit(now, &mut buf) {
                outs.push((false, buf[..t.len].to_vec()));
            }
            for (up, mut d) in outs {
                if up == lose_up {
                    seen += 1;
                    if seen == nth + 1 {
                        continue; // lost
                    }
                }
                if up {
                    let _ = sim.server.handle_datagram(now, 0, &mut d);
                    sim.server.process_handshakes(now, usize::MAX);
                } else {
                    let _ = sim.clients[0].handle_datagram(now, SERVER, &mut d);
                }
            }
            sim.now = sim.now + Duration::from_millis(10);
            sim.server.handle_timeout(sim.now);
            sim.clients[0].handle_timeout(sim.now);
            if sim.clients[0].status(&SERVER) == Some(Status::Connected)
                && sim.server.status(&0) == Some(Status::Connected)
            {
                connected = true;
                break;
            }
        }
        assert!(
            connected,
            "lost {} datagram #{nth}: no connection",
            if lose_up { "client" } else { "server" }
        );
    }
}

/// Messages of 1433 bytes and more are fragmented (none gets stuck), lost fragments are re-sent
/// with their header, and everything arrives once.
#[test]
fn large_messages_under_loss() {
    let mut sim = Sim::new(17, 1, Config::default(), Link::LOSSY);
    sim.run(Duration::from_secs(2));
    let sizes = [1432usize, 1433, 1434, 2451, 3475, 5000, 20_000, 100_000];
    for (i, &n) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..n).map(|k| (k * 7 + i) as u8).collect();
        sim.clients[0].send(sim.now, &SERVER, &data, RetryMode::RetryOnTimeout, i as u32 + 1).unwrap();
        sim.server.send(sim.now, &0, &data, RetryMode::RetryOnTimeout, i as u32 + 1).unwrap();
    }
    sim.run(Duration::from_secs(60));
    for (i, &n) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..n).map(|k| (k * 7 + i) as u8).collect();
        assert_eq!(received(&sim.server_events).get(&data), Some(&1), "client->server {n} bytes");
        assert_eq!(received(&sim.client_events[0]).get(&data), Some(&1), "server->client {n} bytes");
        assert_eq!(settlements(&sim.client_events[0]).get(&(i as u32 + 1)), Some(&vec![true]), "{n}");
    }
}

/// Reassembly memory is bounded per connection: a peer that starts many fragmented messages and
/// never finishes them cannot make the receiver hold more than the bound.
#[test]
fn reassembly_is_bounded() {
    let bound = 64 * 1024;
    let cfg = Config { max_reassembly_bytes_per_connection: bound, ..Config::default() };
    let mut sim = Sim::new(18, 1, cfg, Link::PERFECT);
    sim.run(Duration::from_millis(400));
    // 40 messages of 20 KB sent once (NONE) over a link losing 30%: most lose a fragment and
    // nothing completes them, so unfinished messages pile up until they expire.
    sim.up.loss = 0.3;
    for i in 0..40u32 {
        let data = vec![i as u8; 20_000];
        sim.clients[0].send(sim.now, &SERVER, &data, RetryMode::None, 0).unwrap();
    }
    let mut peak = 0;
    for _ in 0..200 {
        sim.run(Duration::from_millis(50));
        if let Some(st) = sim.server.connection_stats(&0) {
            peak = peak.max(st.reassembly_bytes);
        }
    }
    let st = sim.server.connection_stats(&0).unwrap();
    assert!(peak > 0 && peak as usize <= bound, "peak {peak}");
    assert!(st.counters.messages_reassembled < 40);
    assert!(st.counters.drop_malformed > 0, "fragments over the bound are refused: {st:?}");
    assert_eq!(sim.server.status(&0), Some(Status::Connected));
    // They expire (1 + 0.5 x 20 s after creation) and the memory is returned.
    sim.up.loss = 0.0;
    sim.run(Duration::from_secs(15));
    assert_eq!(sim.server.connection_stats(&0).unwrap().reassembly_bytes, 0);
    assert_eq!(sim.server.stats().reassembly_bytes, 0);
}

/// Our client will not connect without a pinned server key unless told so explicitly.
#[test]
fn client_requires_a_pinned_key_or_an_explicit_opt_in() {
    let mut c: Endpoint<u8> = Endpoint::client(Config::default(), [0; 32]);
    assert_eq!(c.connect(Instant::ZERO, 1, None, false), Err(ConnectError::NoPinnedKey));
    assert_eq!(c.connection_count(), 0);
    assert_eq!(c.connect(Instant::ZERO, 1, None, true), Ok(()));
}

/// A client that pinned another key never completes the handshake with an impostor.
#[test]
fn wrong_pinned_key_fails_with_bad_server_key() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let real = RootKey::generate(&mut rng);
    let other = RootKey::generate(&mut rng).public();
    let mut s: Endpoint<u8> = Endpoint::server(Config::default(), real, [1; 32]);
    let mut c: Endpoint<u8> = Endpoint::client(Config::default(), [2; 32]);
    c.connect(Instant::ZERO, 0, Some(other), false).unwrap();
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; 2048];
    let mut reasons = vec![];
    for _ in 0..700 {
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            let _ = s.handle_datagram(now, 1, &mut buf[..t.len].to_vec());
            s.process_handshakes(now, usize::MAX);
        }
        while let Some(t) = s.poll_transmit(now, &mut buf) {
            let _ = c.handle_datagram(now, 0, &mut buf[..t.len].to_vec());
        }
        while let Some(e) = c.poll_event() {
            if let gamewire_core::Event::Disconnected { reason, .. } = e {
                reasons.push(reason);
            }
        }
        now = now + Duration::from_millis(10);
        c.handle_timeout(now);
        s.handle_timeout(now);
    }
    assert_eq!(reasons, [CloseReason::BadServerKey]);
    assert!(c.stats().counters.drop_auth_failed > 0);
}

/// The nonce rule: never more than 65535 packets of one connection within one `ctime` second,
/// so (ctime, seq) never repeats under a key, even with pacing lifted.
#[test]
fn nonce_never_repeats_at_full_speed() {
    let cfg =
        Config { send_interval: Duration::ZERO, unix_millis_at_zero: 1_700_000_000_000, ..Config::default() };
    let mut sim = Sim::new(20, 1, cfg, Link::PERFECT);
    sim.run(Duration::from_millis(300));
    assert_eq!(sim.connected_clients(), 1);
    // Flood from the client without the link (we only inspect headers): 150k small messages,
    // produced within a fraction of a simulated second.
    let mut seen = HashSet::new();
    let mut per_second = std::collections::HashMap::<u32, u32>::new();
    let mut buf = vec![0u8; 2048];
    let mut now = sim.now;
    let mut sent = 0u32;
    while sent < 150_000 {
        for _ in 0..5000 {
            if sim.clients[0].send(now, &SERVER, &sent.to_be_bytes(), RetryMode::None, 0).is_ok() {
                sent += 1;
            }
        }
        while let Some(t) = sim.clients[0].poll_transmit(now, &mut buf) {
            let h = Header::decode(&buf[..t.len], Direction::ToServer).unwrap();
            assert!(
                seen.insert((h.ctime, h.seq.get())),
                "nonce repeated: ctime {} seq {}",
                h.ctime,
                h.seq.get()
            );
            *per_second.entry(h.ctime).or_default() += 1;
        }
        // Nothing is acked (no server in the loop): keep the connection alive by hand.
        now = now + Duration::from_millis(2);
        sim.clients[0].handle_timeout(now);
    }
    assert!(per_second.values().all(|&n| n <= 65_535), "{per_second:?}");
    let _ = HEADER_SIZE;
}

/// By default one packet per connection per 1/60 s, as Python peers expect.
#[test]
fn default_pacing_is_one_packet_per_tick() {
    let mut sim = Sim::new(21, 1, Config::default(), Link::PERFECT);
    sim.run(Duration::from_millis(400));
    let before = sim.clients[0].connection_stats(&SERVER).unwrap().counters.datagrams_out;
    for i in 0..20_000u32 {
        sim.clients[0].send(sim.now, &SERVER, &[0u8; 100], RetryMode::None, 0).unwrap();
        if i % 2000 == 0 {
            sim.run(Duration::from_millis(100));
        }
    }
    sim.run(Duration::from_secs(1));
    let out = sim.clients[0].connection_stats(&SERVER).unwrap().counters.datagrams_out - before;
    let elapsed = 2.0;
    assert!(out as f64 <= 61.0 * elapsed + 2.0, "{out} datagrams in {elapsed} s");
}

/// Arbitrary bytes, truncations, oversize, wrong version, bad CRC, forged and replayed
/// ciphertext, a handshake for an existing connection: dropped and counted, never a panic.
#[test]
fn bad_input_is_dropped_and_counted() {
    let mut sim = connected_pair(22);
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let good_app = {
        sim.clients[0].send(sim.now, &SERVER, b"x", RetryMode::None, 0).unwrap();
        sim.run(Duration::from_millis(50));
        sim.wire.iter().rev().find(|(ts, _, _)| *ts).unwrap().2.clone()
    };
    let hello = first_wire(&sim, true, PacketType::ClientHello);
    let s = &mut sim.server;
    let now = sim.now;
    let drops = |s: &Endpoint<u32>| s.stats().counters.drops();
    let expect = |s: &mut Endpoint<u32>, from: u32, mut d: Vec<u8>, want: DropReason| {
        let before = drops(s);
        assert_eq!(s.handle_datagram(now, from, &mut d), Err(want), "{d:02x?}");
        assert_eq!(drops(s), before + 1);
    };
    // Truncated header, unknown type, bad magic, wrong direction.
    expect(s, 0, good_app[..10].to_vec(), DropReason::Malformed);
    let mut t = good_app.clone();
    t[12] = 9;
    expect(s, 0, t, DropReason::Malformed);
    let mut t = good_app.clone();
    t[0] = b'X';
    expect(s, 0, t, DropReason::Malformed);
    let mut t = good_app.clone();
    t[3] = b'C';
    expect(s, 0, t, DropReason::Malformed);
    // Truncated payload, forged ciphertext and tag, replay.
    expect(s, 0, good_app[..good_app.len() - 1].to_vec(), DropReason::Malformed);
    let mut t = good_app.clone();
    let mid = t.len() - 20;
    t[mid] ^= 0x40;
    expect(s, 0, t, DropReason::AuthFailed);
    expect(s, 0, good_app.clone(), DropReason::Replay);
    // Oversized.
    expect(s, 0, vec![0u8; 4000], DropReason::TooLarge);
    // A hello with a bad CRC or from an unknown address that is no hello; a wrong version.
    let mut t = hello.clone();
    t[200] ^= 1;
    expect(s, 77, t, DropReason::AuthFailed);
    expect(s, 78, good_app.clone(), DropReason::UnknownConnection);
    let mut t = hello.clone();
    t[120..123].copy_from_slice(&[0, 3, 2]); // version 2
    let crc_at = t.len() - 4;
    let crc = gamewire_core::crc32(&t[..crc_at]);
    t[crc_at..].copy_from_slice(&crc.to_be_bytes());
    expect(s, 79, t, DropReason::Malformed);
    // Random garbage from many addresses creates no state.
    for i in 0..2000u32 {
        let mut d = vec![0u8; (rng.next_u32() % 1600) as usize];
        rng.fill_bytes(&mut d);
        if i % 3 == 0 && d.len() > 20 {
            d[..4].copy_from_slice(b"FSOS");
            d[12] = (rng.next_u32() % 8) as u8;
        }
        let _ = s.handle_datagram(now, 1000 + i, &mut d);
    }
    assert_eq!(s.connection_count(), 1);
    assert_eq!(s.status(&0), Some(Status::Connected));
}

/// Real CLIENT_HELLOs from `n` client endpoints.
fn real_hellos(cfg: &Config, root: &RootKey, n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut c: Endpoint<u8> = Endpoint::client(cfg.clone(), [i as u8; 32]);
            c.connect(Instant::ZERO, 0, Some(root.public()), false).unwrap();
            let mut buf = vec![0u8; 2048];
            let t = c.poll_transmit(Instant::ZERO, &mut buf).unwrap();
            buf[..t.len].to_vec()
        })
        .collect()
}

/// A flood of valid CLIENT_HELLOs from many senders: handshake state is bounded in count (the
/// limits refuse the excess before any key work), it expires, and the rate limit holds.
#[test]
fn hello_flood_is_bounded() {
    let cfg = Config { max_pending_handshakes: 100, handshakes_per_second: 500, ..Config::default() };
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let root = RootKey::generate(&mut rng);
    let mut s: Endpoint<u32> = Endpoint::server(cfg.clone(), root.clone(), [5; 32]);
    let hellos = real_hellos(&cfg, &root, 50);
    let now = Instant::from_micros(1_000_000);
    for port in 0..1000u32 {
        let mut d = hellos[(port % 50) as usize].clone();
        let _ = s.handle_datagram_from(now, 10_000 + port, port, &mut d);
    }
    // Queued, not answered yet: no connection before the driver gives handshakes their time.
    assert_eq!(s.connection_count(), 0);
    assert_eq!(s.queued_handshakes(), 100, "queued + pending handshakes capped");
    assert_eq!(s.process_handshakes(now, usize::MAX), 100);
    assert_eq!(s.connection_count(), 100, "pending handshakes capped");
    let c = s.stats().counters;
    assert_eq!(c.drop_rate_limited, 900);
    // Half-open connections expire after the temp-connection timeout.
    s.handle_timeout(now + Duration::from_millis(2100));
    assert_eq!(s.connection_count(), 0);
    // The rate limit: a burst of 1000 distinct hellos right away admits at most the bucket.
    let cfg2 = Config { max_pending_handshakes: 10_000, handshakes_per_second: 300, ..Config::default() };
    let mut s2: Endpoint<u32> = Endpoint::server(cfg2, root, [6; 32]);
    for port in 0..1000u32 {
        let mut d = hellos[(port % 50) as usize].clone();
        let _ = s2.handle_datagram_from(now, port, port, &mut d);
    }
    s2.process_handshakes(now, usize::MAX);
    assert_eq!(s2.connection_count(), 300);
}

/// One sender flooding hellos holds at most `handshake_queue_per_source` places and is answered
/// in turn with the others: a few hellos from other senders are answered within the first rounds,
/// however many the flooder sent.
#[test]
fn hello_queue_is_shared_out_between_sources() {
    let cfg = Config { handshake_queue_per_source: 8, ..Config::default() };
    let mut rng = ChaCha8Rng::seed_from_u64(24);
    let root = RootKey::generate(&mut rng);
    let mut s: Endpoint<u32> = Endpoint::server(cfg.clone(), root.clone(), [7; 32]);
    let hellos = real_hellos(&cfg, &root, 20);
    let now = Instant::from_micros(1_000_000);
    const FLOODER: u32 = 1;
    for port in 0..1000u32 {
        let mut d = hellos[(port % 10) as usize].clone();
        let _ = s.handle_datagram_from(now, 10_000 + port, FLOODER, &mut d);
    }
    assert_eq!(s.queued_handshakes(), 8, "the flooder holds its share only");
    assert_eq!(s.stats().counters.drop_rate_limited, 992);
    // Five other senders, one hello each, after the flood.
    for i in 0..5u32 {
        let mut d = hellos[10 + i as usize].clone();
        s.handle_datagram_from(now, 100 + i, 2 + i, &mut d).unwrap();
    }
    // Two rounds of six answers: every other sender is served in the first round.
    s.process_handshakes(now, 6);
    for i in 0..5u32 {
        assert_eq!(s.status(&(100 + i)), Some(Status::Connecting), "sender {i} answered in the first round");
    }
    s.process_handshakes(now, usize::MAX);
    assert_eq!(s.queued_handshakes(), 0);
    assert_eq!(s.connection_count(), 13);
}

/// A hello that waited longer than the handshake timeout is dropped, not answered (its client has
/// given up or re-sent), and its address is released.
#[test]
fn a_stale_queued_hello_is_dropped() {
    let cfg = Config::default();
    let mut rng = ChaCha8Rng::seed_from_u64(25);
    let root = RootKey::generate(&mut rng);
    let mut s: Endpoint<u32> = Endpoint::server(cfg.clone(), root.clone(), [8; 32]);
    let mut d = real_hellos(&cfg, &root, 1).remove(0);
    let t0 = Instant::from_micros(1_000_000);
    s.handle_datagram(t0, 5, &mut d).unwrap();
    // A re-sent hello from the same address while the first waits is a duplicate.
    let mut again = real_hellos(&cfg, &root, 1).remove(0);
    assert_eq!(s.handle_datagram(t0, 5, &mut again), Err(DropReason::Replay));
    assert!(s.poll_event().is_none(), "the address is not released while its hello waits");
    let later = t0 + cfg.temp_connection_timeout;
    assert_eq!(s.process_handshakes(later, usize::MAX), 1);
    assert_eq!(s.connection_count(), 0);
    assert_eq!(s.poll_event(), Some(gamewire_core::Event::Released { addr: 5 }));
}

/// A datagram that created nothing releases its address; a hello from the same address that
/// arrives before the caller took that event must not be orphaned by it: the stale release is
/// withheld and the hello is answered under the address the caller still maps.
#[test]
fn a_release_overtaken_by_a_hello_is_withheld() {
    let cfg = Config::default();
    let mut rng = ChaCha8Rng::seed_from_u64(26);
    let root = RootKey::generate(&mut rng);
    let mut s: Endpoint<u32> = Endpoint::server(cfg.clone(), root.clone(), [9; 32]);
    let t0 = Instant::from_micros(1_000_000);
    let mut garbage = vec![0xffu8; 40];
    assert_eq!(s.handle_datagram(t0, 5, &mut garbage), Err(DropReason::Malformed));
    let mut hello = real_hellos(&cfg, &root, 1).remove(0);
    s.handle_datagram(t0, 5, &mut hello).unwrap();
    assert!(s.poll_event().is_none(), "no release while a hello from the address waits");
    assert_eq!(s.process_handshakes(t0, usize::MAX), 1);
    assert_eq!(s.status(&5), Some(Status::Connecting));
    assert!(s.poll_event().is_none(), "no release while the address is connecting");
    // With nothing pending, a datagram that creates nothing is still released.
    let mut more = vec![0xffu8; 40];
    assert_eq!(s.handle_datagram(t0, 6, &mut more), Err(DropReason::Malformed));
    assert_eq!(s.poll_event(), Some(gamewire_core::Event::Released { addr: 6 }));
}
