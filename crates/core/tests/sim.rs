//! Endpoint behaviour over a simulated link: handshake, the three retry modes under loss,
//! callbacks exactly once, timeouts, disconnects.
mod support;

use std::time::Duration;

use gamewire_core::{CloseReason, Config, RetryMode};
use support::*;

fn cfg() -> Config {
    Config::default()
}

#[test]
fn handshake_and_echo_on_a_perfect_link() {
    let mut sim = Sim::new(1, 1, cfg(), Link::PERFECT);
    sim.server_echo = true;
    sim.run(Duration::from_millis(300));
    assert_eq!(sim.connected_clients(), 1);
    assert!(sim.client_events[0].iter().any(|e| matches!(e, Ev::Connected { .. })));
    for i in 0..10u32 {
        sim.clients[0].send(sim.now, &SERVER, format!("m{i}").as_bytes(), RetryMode::None, i + 1).unwrap();
    }
    sim.run(Duration::from_millis(500));
    let got = received(&sim.client_events[0]);
    for i in 0..10 {
        assert_eq!(got.get(format!("echo:m{i}").as_bytes()), Some(&1), "echo {i}");
    }
    let s = settlements(&sim.client_events[0]);
    assert_eq!(s.len(), 10);
    assert!(s.values().all(|v| v == &[true]));
    // Several messages were sent in one tick: they share datagrams.
    let st = sim.clients[0].connection_stats(&SERVER).unwrap();
    assert!(st.counters.datagrams_out < 10 + 30, "{st:?}");
}

/// The proof: 20% loss, duplication, reordering and jitter, deterministic seed.
#[test]
fn lossy_link_retry_modes_and_callbacks_exactly_once() {
    for seed in [7u64, 8, 9] {
        let mut sim = Sim::new(seed, 1, cfg(), Link::LOSSY);
        sim.run(Duration::from_secs(3));
        assert_eq!(sim.connected_clients(), 1, "seed {seed}: handshake survives loss");
        let modes =
            [(RetryMode::RetryOnTimeout, 0u32), (RetryMode::BestEffort, 1000), (RetryMode::None, 2000)];
        // 150 messages per mode each way, a few per tick.
        for k in 0..150u32 {
            for (mode, base) in modes {
                let id = base + k + 1;
                let body = format!("c{id}:{}", "x".repeat((k % 40) as usize));
                sim.clients[0].send(sim.now, &SERVER, body.as_bytes(), mode, id).unwrap();
                let body = format!("s{id}:{}", "y".repeat((k % 40) as usize));
                sim.server.send(sim.now, &0, body.as_bytes(), mode, id).unwrap();
            }
            sim.run(Duration::from_millis(20));
        }
        sim.run(Duration::from_secs(8));
        let st = sim.clients[0].connection_stats(&SERVER).unwrap();
        assert!(st.counters.messages_retransmitted > 0, "seed {seed}: the link did lose packets");
        assert!(st.counters.duplicate_messages > 0 || sim.server.stats().counters.duplicate_messages > 0);
        for (side, events, prefix) in
            [("server", &sim.server_events, "c"), ("client", &sim.client_events[0], "s")]
        {
            let got = received(events);
            let settled =
                settlements(if side == "server" { &sim.client_events[0] } else { &sim.server_events });
            for (mode, base) in modes {
                for k in 0..150u32 {
                    let id = base + k + 1;
                    let ch = if prefix == "c" { "x" } else { "y" };
                    let body = format!("{prefix}{id}:{}", ch.repeat((k % 40) as usize)).into_bytes();
                    let n = got.get(&body).copied().unwrap_or(0);
                    assert!(n <= 1, "seed {seed} {side}: {mode:?} message {id} delivered {n} times");
                    let outcome =
                        settled.get(&id).unwrap_or_else(|| panic!("seed {seed}: no callback for {id}"));
                    assert_eq!(outcome.len(), 1, "seed {seed}: callback {id} fired {outcome:?}");
                    if mode == RetryMode::RetryOnTimeout {
                        assert_eq!(n, 1, "seed {seed} {side}: RETRY_ON_TIMEOUT message {id} lost");
                        assert_eq!(outcome, &[true]);
                    }
                    if outcome == &[true] {
                        assert_eq!(n, 1, "seed {seed} {side}: acked message {id} was never delivered");
                    }
                }
            }
            // 20% loss: NONE, sent once, must have lost some.
            let none_delivered = (2001..=2150u32)
                .filter(|id| got.keys().any(|k| k.starts_with(format!("{prefix}{id}:").as_bytes())))
                .count();
            assert!(
                none_delivered < 150 && none_delivered > 75,
                "seed {seed} {side}: NONE delivered {none_delivered}"
            );
        }
    }
}

#[test]
fn none_never_retransmits_and_best_effort_gives_up_by_its_timeout() {
    let mut link = Link::LOSSY;
    link.loss = 0.3;
    let mut sim = Sim::new(3, 1, cfg(), link);
    sim.run(Duration::from_secs(3));
    assert_eq!(sim.connected_clients(), 1);
    for id in 1..=100u32 {
        sim.clients[0].send(sim.now, &SERVER, &id.to_be_bytes(), RetryMode::None, id).unwrap();
        sim.run(Duration::from_millis(17));
    }
    sim.run(Duration::from_secs(3));
    let st = sim.clients[0].connection_stats(&SERVER).unwrap();
    assert_eq!(st.counters.messages_retransmitted, 0, "NONE messages must go out once");
    assert_eq!(st.counters.messages_acked + st.counters.messages_timed_out, 100);
    assert!(st.counters.messages_timed_out > 0, "30% loss must lose some");

    // BEST_EFFORT: every message settles within about the message timeout of its send.
    for id in 1001..=1050u32 {
        let sent_at = sim.now;
        sim.clients[0].send(sim.now, &SERVER, &id.to_be_bytes(), RetryMode::BestEffort, id).unwrap();
        sim.run(Duration::from_millis(17));
        if id % 10 == 0 {
            // Each message settles within the message timeout (plus a tick) of its send.
            sim.run(Duration::from_millis(1020));
            let s = settlements(&sim.client_events[0]);
            assert_eq!(
                s.get(&id).map(Vec::len),
                Some(1),
                "BEST_EFFORT {id} not settled by {:?}",
                sim.now.saturating_since(sent_at)
            );
        }
    }
    let s = settlements(&sim.client_events[0]);
    assert!((1001..=1050).all(|id| s.get(&id).map(Vec::len) == Some(1)));
    let st2 = sim.clients[0].connection_stats(&SERVER).unwrap();
    assert!(st2.counters.messages_retransmitted > 0, "BEST_EFFORT re-sends");
}

#[test]
fn silent_client_is_dropped_once_after_the_connection_timeout() {
    let mut sim = Sim::new(4, 2, cfg(), Link::PERFECT);
    sim.run(Duration::from_millis(500));
    assert_eq!(sim.connected_clients(), 2);
    sim.muted[0] = true;
    sim.run(Duration::from_millis(4500));
    assert!(!sim.server_events.iter().any(|e| matches!(e, Ev::Disconnected { .. })), "not before 5 s");
    sim.run(Duration::from_millis(1000));
    let drops: Vec<_> = sim.server_events.iter().filter(|e| matches!(e, Ev::Disconnected { .. })).collect();
    assert_eq!(drops, [&Ev::Disconnected { peer: 0, reason: CloseReason::TimedOut }]);
    // Keep-alives hold the idle second client open well past the timeout.
    sim.run(Duration::from_secs(20));
    assert_eq!(sim.server_events.iter().filter(|e| matches!(e, Ev::Disconnected { .. })).count(), 1);
    assert_eq!(sim.server.status(&1), Some(gamewire_core::Status::Connected));
    assert_eq!(sim.server.connection_count(), 1);
}

#[test]
fn graceful_disconnect_from_either_side() {
    let mut sim = Sim::new(5, 2, cfg(), Link::PERFECT);
    sim.run(Duration::from_millis(500));
    sim.clients[0].disconnect(sim.now, &SERVER);
    sim.server.disconnect(sim.now, &1);
    sim.run(Duration::from_secs(2));
    let server_side: Vec<_> =
        sim.server_events.iter().filter(|e| matches!(e, Ev::Disconnected { .. })).cloned().collect();
    assert!(server_side.contains(&Ev::Disconnected { peer: 0, reason: CloseReason::Peer }));
    assert!(server_side.contains(&Ev::Disconnected { peer: 1, reason: CloseReason::Local }));
    assert_eq!(server_side.len(), 2);
    assert!(sim.client_events[1].contains(&Ev::Disconnected { peer: SERVER, reason: CloseReason::Peer }));
    assert!(sim.client_events[0].contains(&Ev::Disconnected { peer: SERVER, reason: CloseReason::Local }));
    assert_eq!(sim.server.connection_count(), 0);
    assert_eq!(sim.clients[0].connection_count(), 0);
}

#[test]
fn unfinished_handshake_is_forgotten_after_the_temp_timeout() {
    let mut sim = Sim::new(6, 1, cfg(), Link::PERFECT);
    // Let the CLIENT_HELLO through, then cut the client off.
    sim.run(Duration::from_millis(3));
    sim.muted[0] = true;
    sim.down.loss = 1.0;
    sim.run(Duration::from_millis(100));
    assert_eq!(sim.server.connection_count(), 1, "half-open");
    sim.run(Duration::from_millis(2100));
    assert_eq!(sim.server.connection_count(), 0, "forgotten after 2 s");
    assert!(sim.server_events.contains(&Ev::Released { peer: 0 }));
    assert!(!sim.server_events.iter().any(|e| matches!(e, Ev::Connected { .. } | Ev::Disconnected { .. })));
    assert_eq!(sim.server.stats().counters.handshakes_failed, 1);
    // The client gives up at its connect timeout.
    sim.run(Duration::from_secs(3));
    assert!(sim.client_events[0]
        .contains(&Ev::Disconnected { peer: SERVER, reason: CloseReason::ConnectTimeout }));
}

/// "Send the reason, then disconnect": what either side queued before `disconnect` is delivered
/// (acknowledged, callbacks true) before the DISCONNECT, also on a lossy link, and the peer sees
/// the messages before it sees the disconnect.
#[test]
fn a_graceful_disconnect_delivers_what_was_queued_first() {
    for (seed, link) in [(31, Link::PERFECT), (32, Link::LOSSY), (33, Link::LOSSY)] {
        let mut sim = Sim::new(seed, 1, cfg(), link);
        sim.run(Duration::from_millis(1500));
        assert_eq!(sim.connected_clients(), 1, "seed {seed}");
        // Client side: three messages, then disconnect at once.
        for (i, mode) in
            [RetryMode::None, RetryMode::BestEffort, RetryMode::RetryOnTimeout].into_iter().enumerate()
        {
            let msg = format!("bye {i}");
            sim.clients[0].send(sim.now, &SERVER, msg.as_bytes(), mode, 10 + i as u32).unwrap();
        }
        sim.clients[0].disconnect(sim.now, &SERVER);
        sim.run(Duration::from_secs(3));
        let got = received(&sim.server_events);
        // RETRY_ON_TIMEOUT always arrives; on a perfect link everything does.
        assert_eq!(got.get(&b"bye 2"[..]), Some(&1), "seed {seed}: {got:?}");
        if seed == 31 {
            assert_eq!(got.len(), 3, "{got:?}");
            assert_eq!(settlements(&sim.client_events[0]).get(&12), Some(&vec![true]));
        }
        // Every callback fired exactly once.
        for (id, outcomes) in settlements(&sim.client_events[0]) {
            assert_eq!(outcomes.len(), 1, "seed {seed}: callback {id} {outcomes:?}");
        }
        // The server saw the messages before the disconnect.
        let pos = |f: &dyn Fn(&Ev) -> bool| sim.server_events.iter().position(f);
        let last_msg = sim.server_events.iter().rposition(|e| matches!(e, Ev::Message { .. })).unwrap();
        let disc = pos(&|e| matches!(e, Ev::Disconnected { .. })).expect("server saw the disconnect");
        assert!(last_msg < disc, "seed {seed}: messages before the disconnect");
    }
    // Server side: `send` then `disconnect` on the server's handle reaches the client.
    let mut sim = Sim::new(34, 1, cfg(), Link::LOSSY);
    sim.run(Duration::from_millis(1500));
    sim.server.send(sim.now, &0, b"kicked: reason", RetryMode::RetryOnTimeout, 7).unwrap();
    sim.server.disconnect(sim.now, &0);
    sim.run(Duration::from_secs(3));
    assert_eq!(received(&sim.client_events[0]).get(&b"kicked: reason"[..]), Some(&1));
    assert_eq!(settlements(&sim.server_events).get(&7), Some(&vec![true]));
    assert!(sim.client_events[0]
        .iter()
        .any(|e| matches!(e, Ev::Disconnected { reason: CloseReason::Peer, .. })));
}
