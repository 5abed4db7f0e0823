//! The endpoint against real wtransport clients over loopback: sessions, datagrams both ways,
//! the overflow stream, limits, stop, certificate renewal.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use gamewire_webtransport::{Clock, Event, Limits, Options, SessionId, WebTransportServer, MAX_FRAME};
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint};

/// A server on 127.0.0.1 whose `notify` feeds a channel the test drains from.
fn start(opts: Options) -> (Arc<Mutex<WebTransportServer>>, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let server = WebTransportServer::start(opts, move || {
        let _ = tx.send(());
    })
    .expect("start");
    (Arc::new(Mutex::new(server)), rx)
}

fn local_opts() -> Options {
    Options::new("127.0.0.1:0".parse().unwrap())
}

/// Collects events until `pred` holds for the list, up to 5 s. Async: the client's connection is
/// driven by the test's runtime and must go on meanwhile.
async fn collect_until(
    server: &Mutex<WebTransportServer>,
    rx: &mpsc::Receiver<()>,
    events: &mut Vec<Event>,
    pred: impl Fn(&[Event]) -> bool,
) {
    let end = Instant::now() + Duration::from_secs(5);
    while !pred(events) {
        assert!(Instant::now() < end, "timed out; events so far: {events:?}");
        if rx.try_recv().is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.lock().unwrap().drain(events, 1024);
    }
}

async fn connect_from(bind: &str, port: u16, hash: [u8; 32], path: &str) -> Result<Connection, String> {
    let config = ClientConfig::builder()
        .with_bind_address(bind.parse().unwrap())
        .with_server_certificate_hashes([Sha256Digest::new(hash)])
        .build();
    let endpoint = Endpoint::client(config).map_err(|e| e.to_string())?;
    endpoint.connect(format!("https://127.0.0.1:{port}{path}")).await.map_err(|e| e.to_string())
}

async fn connect(server: &Mutex<WebTransportServer>) -> Connection {
    let (port, hash) = {
        let s = server.lock().unwrap();
        (s.local_addr().port(), s.certificate().hash)
    };
    connect_from("127.0.0.1:0", port, hash, "/gamewire").await.expect("connect")
}

fn opened(events: &[Event]) -> Vec<SessionId> {
    events
        .iter()
        .filter_map(|e| if let Event::Opened { session, .. } = e { Some(*session) } else { None })
        .collect()
}

/// A driver thread that echoes every datagram back on its session until `stop` is set.
fn echo_driver(
    server: Arc<Mutex<WebTransportServer>>,
    rx: mpsc::Receiver<()>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Vec<Event>> {
    thread::spawn(move || {
        let mut seen = Vec::new();
        let mut batch = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let _ = rx.recv_timeout(Duration::from_millis(20));
            let s = server.lock().unwrap();
            batch.clear();
            s.drain(&mut batch, 256);
            for e in &batch {
                if let Event::Datagram { session, data } = e {
                    s.send(*session, data).expect("echo");
                }
            }
            seen.extend(batch.drain(..).map(|e| match e {
                Event::Datagram { session, data } => Event::Datagram { session, data: data.slice(0..0) },
                other => other,
            }));
        }
        seen
    })
}

#[tokio::test]
async fn datagrams_echo_and_sessions_open_and_close_in_order() {
    let (server, rx) = start(local_opts());
    let stop = Arc::new(AtomicBool::new(false));
    let driver = echo_driver(Arc::clone(&server), rx, Arc::clone(&stop));
    let conn = connect(&server).await;
    for i in 0..100u32 {
        conn.send_datagram(i.to_be_bytes()).unwrap();
        let back =
            tokio::time::timeout(Duration::from_secs(5), conn.receive_datagram()).await.unwrap().unwrap();
        assert_eq!(&back.payload()[..], &i.to_be_bytes());
    }
    conn.close(0u32.into(), b"bye");
    let end = Instant::now() + Duration::from_secs(5);
    while server.lock().unwrap().stats().sessions > 0 {
        assert!(Instant::now() < end, "the session did not close");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // the driver's last drain
    stop.store(true, Ordering::Relaxed);
    let seen = driver.join().unwrap();
    let id = opened(&seen)[0];
    assert!(matches!(seen.first(), Some(Event::Opened { remote, .. }) if remote.ip().is_loopback()));
    assert_eq!(
        seen.iter().filter(|e| matches!(e, Event::Datagram { session, .. } if *session == id)).count(),
        100
    );
    assert_eq!(seen.last(), Some(&Event::Closed { session: id }), "Closed comes last");
    let st = server.lock().unwrap().stats();
    assert_eq!((st.sessions_opened, st.datagrams_in, st.datagrams_out), (1, 100, 100));
}

/// A gamewire packet of 1472 bytes does not fit a QUIC datagram on loopback (initial MTU 1200):
/// it travels as a frame on the overflow stream, both ways, and arrives whole.
#[tokio::test]
async fn oversized_datagrams_take_the_overflow_stream_both_ways() {
    let (server, rx) = start(local_opts());
    let conn = connect(&server).await;
    let mut events = Vec::new();
    collect_until(&server, &rx, &mut events, |e| !opened(e).is_empty()).await;
    let id = opened(&events)[0];
    let max = server.lock().unwrap().max_datagram_size(id).unwrap();
    assert!(max > 1000 && max < 1472, "QUIC datagram room on loopback: {max}");
    let big: Vec<u8> = (0..1472u32).map(|i| (i % 251) as u8).collect();
    server.lock().unwrap().send(id, &big).unwrap();
    server.lock().unwrap().send(id, &big[..300]).unwrap();
    // Server → client: the small one as a datagram, the big one as a frame.
    let small = tokio::time::timeout(Duration::from_secs(5), conn.receive_datagram()).await.unwrap().unwrap();
    assert_eq!(&small.payload()[..], &big[..300]);
    let mut stream = tokio::time::timeout(Duration::from_secs(5), conn.accept_uni()).await.unwrap().unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    assert_eq!(u16::from_be_bytes(len), 1472);
    let mut got = vec![0u8; 1472];
    stream.read_exact(&mut got).await.unwrap();
    assert_eq!(got, big);
    // Client → server: two frames on one stream.
    let mut out = conn.open_uni().await.unwrap().await.unwrap();
    for n in [1472usize, 5] {
        out.write_all(&(n as u16).to_be_bytes()).await.unwrap();
        out.write_all(&big[..n]).await.unwrap();
    }
    events.clear();
    collect_until(&server, &rx, &mut events, |e| e.len() >= 2).await;
    assert_eq!(events[0], Event::Datagram { session: id, data: big.clone().into() });
    assert_eq!(events[1], Event::Datagram { session: id, data: big[..5].to_vec().into() });
    assert_eq!(
        server.lock().unwrap().send(id, &vec![0u8; MAX_FRAME + 1]),
        Err(gamewire_webtransport::SendError::TooLarge)
    );
    // A frame over the limit ends the session.
    out.write_all(&((MAX_FRAME + 1) as u16).to_be_bytes()).await.unwrap();
    events.clear();
    collect_until(&server, &rx, &mut events, |e| e.contains(&Event::Closed { session: id })).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
    assert!(closed.is_ok(), "the client saw the session end");
}

#[tokio::test]
async fn stop_closes_sessions_and_frees_the_port_at_once() {
    let (server, _rx) = start(local_opts());
    let conn = connect(&server).await;
    let addr: SocketAddr = server.lock().unwrap().local_addr();
    assert!(UdpSocket::bind(addr).is_err(), "the port is taken while running");
    server.lock().unwrap().stop();
    UdpSocket::bind(addr).expect("the port is free as soon as stop returns");
    let closed = tokio::time::timeout(Duration::from_secs(2), conn.closed()).await;
    assert!(closed.is_ok(), "the client was told (CONNECTION_CLOSE), not left to time out");
    assert_eq!(server.lock().unwrap().send(1, b"x"), Err(gamewire_webtransport::SendError::UnknownSession));
}

#[tokio::test]
async fn a_flood_from_one_address_leaves_others_alone() {
    let limits = Limits { sessions_per_ip: 2, ..Limits::default() };
    let (server, _rx) = start(Options { limits, ..local_opts() });
    let (port, hash) = {
        let s = server.lock().unwrap();
        (s.local_addr().port(), s.certificate().hash)
    };
    let _a = connect_from("127.0.0.1:0", port, hash, "/").await.unwrap();
    let _b = connect_from("127.0.0.1:0", port, hash, "/").await.unwrap();
    let refused = connect_from("127.0.0.1:0", port, hash, "/").await;
    assert!(refused.is_err(), "a third session from 127.0.0.1 is refused");
    // Linux routes all of 127.0.0.0/8 to loopback: another source address.
    let other = connect_from("127.0.0.2:0", port, hash, "/").await;
    assert!(other.is_ok(), "another source still gets in: {other:?}");
    let st = server.lock().unwrap().stats();
    assert_eq!((st.sessions, st.sessions_refused_per_ip), (3, 1));
}

#[tokio::test]
async fn a_wrong_path_or_a_wrong_hash_is_refused() {
    let (server, _rx) = start(Options { path: Some("/gamewire".into()), ..local_opts() });
    let (port, hash) = {
        let s = server.lock().unwrap();
        (s.local_addr().port(), s.certificate().hash)
    };
    assert!(connect_from("127.0.0.1:0", port, hash, "/other").await.is_err());
    assert!(connect_from("127.0.0.1:0", port, [7u8; 32], "/gamewire").await.is_err());
    assert!(connect_from("127.0.0.1:0", port, hash, "/gamewire?v=1").await.is_ok());
}

/// A clock the test moves.
struct TestClock(Mutex<SystemTime>);
impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// The certificate is renewed when the clock says so, without waiting days: the endpoint starts
/// on a clock 8 days behind (its certificate is "8 days old", still valid now), the clock moves
/// to now, the next check renews. New sessions pin the new hash; the old hash no longer works.
#[tokio::test]
async fn a_self_signed_certificate_is_renewed_through_the_clock_seam() {
    let real = SystemTime::now();
    let clock = Arc::new(TestClock(Mutex::new(real - Duration::from_secs(8 * 86_400))));
    let opts = Options { clock: Arc::clone(&clock) as Arc<dyn Clock>, ..local_opts() };
    let (server, _rx) = start(opts);
    let before = server.lock().unwrap().certificate();
    let port = server.lock().unwrap().local_addr().port();
    assert!(before.self_signed);
    let kept = connect_from("127.0.0.1:0", port, before.hash, "/").await.expect("the old certificate works");
    assert!(!server.lock().unwrap().check_certificate().unwrap(), "not due at its own start");
    *clock.0.lock().unwrap() = real;
    assert!(server.lock().unwrap().check_certificate().unwrap(), "due after 8 days");
    let after = server.lock().unwrap().certificate();
    assert_ne!(after.hash, before.hash);
    assert!(
        after.not_before.unwrap() <= real
            && after.not_after.unwrap() > real + Duration::from_secs(12 * 86_400)
    );
    assert!(connect_from("127.0.0.1:0", port, after.hash, "/").await.is_ok(), "the new hash works");
    assert!(
        connect_from("127.0.0.1:0", port, before.hash, "/").await.is_err(),
        "the old hash no longer does"
    );
    kept.send_datagram(b"still here").expect("sessions from before the renewal go on");
    assert_eq!(server.lock().unwrap().stats().certificates_renewed, 1);
}
