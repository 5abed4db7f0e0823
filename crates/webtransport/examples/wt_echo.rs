//! A WebTransport echo server for browser tests, driven the way gamewire's socket driver drives
//! the endpoint (a plain thread: wait for `notify` or the next timer, drain, handle, send).
//!
//! ```text
//! cargo run -p gamewire-webtransport --example wt_echo -- raw
//! cargo run -p gamewire-webtransport --example wt_echo -- gamewire root.pem
//! ```
//!
//! `raw`: every datagram comes back as it was. `gamewire`: the gamewire protocol itself
//! (`gamewire_core::Endpoint`, keyed by session id) with the root key from the PEM file; each
//! message comes back prefixed with `re:` (RETRY_ON_TIMEOUT). The first stdout line is JSON:
//! `{"port":…,"certificateHash":"<hex>"}`; then one JSON line per protocol event. Stops when
//! stdin closes.

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant as StdInstant};

use gamewire_core::crypto::RootKey;
use gamewire_core::{Config, Endpoint, Event as CoreEvent, Instant, RetryMode};
use gamewire_webtransport::{Event, Options, WebTransportServer};

fn line(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("raw");
    let root = match mode {
        "raw" => None,
        "gamewire" => {
            let path = args.get(1).ok_or("gamewire mode needs the root key's PEM file")?;
            Some(RootKey::from_pem(&std::fs::read_to_string(path)?).map_err(|e| format!("{path}: {e:?}"))?)
        }
        other => return Err(format!("unknown mode {other} (raw | gamewire)").into()),
    };
    let (wake_tx, wake) = mpsc::channel::<()>();
    let stdin_closed = wake_tx.clone();
    let mut server = WebTransportServer::start(Options::new("127.0.0.1:0".parse()?), move || {
        let _ = wake_tx.send(());
    })?;
    line(serde_json::json!({
        "port": server.local_addr().port(),
        "certificateHash": server.certificate().hash_hex(),
    }));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = std::sync::Arc::clone(&done);
    std::thread::spawn(move || {
        for _ in std::io::stdin().lock().lines() {}
        done2.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = stdin_closed.send(());
    });

    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
    let seed =
        gamewire_abi::entropy::seed(&mut gamewire_abi::entropy::OsEntropy).expect("OS random generator");
    let mut ep: Option<Endpoint<u64>> = root.map(|r| Endpoint::server(Config::default(), r, seed));
    let mut events = Vec::new();
    let mut buf = vec![0u8; 2048];
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        let wait = ep.as_mut().and_then(|e| e.poll_timeout()).map_or(Duration::from_millis(50), |at| {
            Duration::from_micros(at.as_micros().saturating_sub(now().as_micros()))
                .min(Duration::from_millis(50))
        });
        let _ = wake.recv_timeout(wait);
        events.clear();
        server.drain(&mut events, 1024);
        for ev in events.drain(..) {
            match (ev, ep.as_mut()) {
                (Event::Opened { session, remote }, _) => {
                    line(
                        serde_json::json!({ "event": "opened", "session": session, "remote": remote.to_string(),
                        "maxDatagram": server.max_datagram_size(session) }),
                    );
                }
                (Event::Datagram { session, data }, None) => {
                    let _ = server.send(session, &data);
                }
                (Event::Datagram { session, data }, Some(ep)) => {
                    let mut d = data.to_vec();
                    let _ = ep.handle_datagram(now(), session, &mut d);
                    ep.process_handshakes(now(), usize::MAX);
                }
                (Event::Closed { session }, ep) => {
                    line(serde_json::json!({ "event": "closed", "session": session }));
                    if let Some(ep) = ep {
                        ep.disconnect(now(), &session);
                    }
                }
            }
        }
        let Some(ep) = ep.as_mut() else { continue };
        ep.handle_timeout(now());
        while let Some(ev) = ep.poll_event() {
            match ev {
                CoreEvent::Connected { addr, token } => {
                    line(serde_json::json!({ "event": "connected", "session": addr, "token": token }));
                }
                CoreEvent::Message { addr, seq, data } => {
                    let mut reply = b"re:".to_vec();
                    reply.extend_from_slice(ep.event_data(data));
                    line(
                        serde_json::json!({ "event": "message", "session": addr, "seq": seq, "length": reply.len() - 3 }),
                    );
                    let _ = ep.send(now(), &addr, &reply, RetryMode::RetryOnTimeout, 0);
                }
                CoreEvent::Disconnected { addr, reason } => {
                    line(
                        serde_json::json!({ "event": "disconnected", "session": addr, "reason": format!("{reason:?}") }),
                    );
                }
                _ => {}
            }
        }
        while let Some(t) = ep.poll_transmit(now(), &mut buf) {
            let _ = server.send(t.to, &buf[..t.len]);
        }
    }
    server.stop();
    Ok(())
}
