//! The driver over real loopback sockets, against core client endpoints.

use super::*;
use gamewire_abi::layout;
use gamewire_core::crypto::RootKey;
use gamewire_core::{Config, Endpoint, Event, Instant, RetryMode};
use std::sync::mpsc;

fn root() -> RootKey {
    RootKey::from_scalar(&[0x22; 32]).unwrap()
}

fn options(config: &Config, bind: SocketAddr, threads: usize) -> ServerOptions {
    let mut o = ServerOptions::new(bind, config_to_flat(config), root().to_pkcs8_der());
    o.threads = threads;
    o.recv_buffer = 1 << 20;
    o
}

/// A threaded server on loopback whose `notify` feeds the returned channel.
fn start(config: &Config) -> (SocketServer, mpsc::Receiver<()>) {
    start_with(options(config, "127.0.0.1:0".parse().unwrap(), 1))
}

fn start_with(opts: ServerOptions) -> (SocketServer, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let server = SocketServer::start(opts, move || tx.lock().unwrap().send(()).is_ok()).unwrap();
    (server, rx)
}

/// A core client endpoint over a plain socket.
struct Client {
    ep: Endpoint<u8>,
    sock: UdpSocket,
    start: StdInstant,
    buf: [u8; 2048],
}

impl Client {
    fn new(seed: u8) -> Self {
        Self::with_config(seed, Config::default())
    }
    fn with_config(seed: u8, config: Config) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        Self { ep: Endpoint::client(config, [seed; 32]), sock, start: StdInstant::now(), buf: [0; 2048] }
    }
    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }
    /// Sends what is due, reads one datagram (5 ms timeout), runs timers; returns the events
    /// (connected, message bytes).
    fn step(&mut self, to: SocketAddr, send: bool) -> Vec<(bool, Vec<u8>)> {
        let now = self.now();
        if send {
            while let Some(t) = self.ep.poll_transmit(now, &mut self.buf) {
                self.sock.send_to(&self.buf[..t.len], to).unwrap();
            }
        }
        if let Ok((n, _)) = self.sock.recv_from(&mut self.buf) {
            let _ = self.ep.handle_datagram(self.now(), 0, &mut self.buf[..n]);
        }
        self.ep.handle_timeout(self.now());
        let mut out = Vec::new();
        while let Some(e) = self.ep.poll_event() {
            match e {
                Event::Connected { .. } => out.push((true, Vec::new())),
                Event::Message { data, .. } => out.push((false, self.ep.event_data(data).to_vec())),
                _ => {}
            }
        }
        out
    }
    /// Sends one byte as a message at once, in a datagram of its own (the client does not pace).
    fn send_now(&mut self, to: SocketAddr, byte: u8) {
        self.ep.send(self.now(), &0, &[byte], RetryMode::None, 0).unwrap();
        while let Some(t) = self.ep.poll_transmit(self.now(), &mut self.buf) {
            self.sock.send_to(&self.buf[..t.len], to).unwrap();
        }
    }
    /// Steps until connected (5 s at most).
    fn connect(&mut self, to: SocketAddr) {
        self.ep.connect(self.now(), 0, Some(root().public()), false).unwrap();
        let until = StdInstant::now() + Duration::from_secs(5);
        while StdInstant::now() < until {
            if self.step(to, true).iter().any(|(c, _)| *c) {
                return;
            }
        }
        panic!("no connection");
    }
}

/// An event record of the host's stream.
#[derive(Debug, Clone, PartialEq)]
struct Record {
    kind: u32,
    peer: u32,
    a: u32,
    data: Vec<u8>,
}

/// Drains the server's events into records.
fn drain(server: &SocketServer) -> Vec<Record> {
    let mut ev = vec![0u8; 65536];
    let n = server.events(&mut ev) as usize;
    let mut at = 0;
    let mut out = Vec::new();
    let head = layout::EVENT_HEAD as usize;
    while at < n {
        let w = |i: usize| u32::from_le_bytes(ev[at + i..at + i + 4].try_into().unwrap());
        let (kind, peer, a, len) = (w(0), w(4), w(8), w(12) as usize);
        out.push(Record { kind, peer, a, data: ev[at + head..at + head + len].to_vec() });
        at += head + ((len + 3) & !3);
    }
    out
}

/// Connect, echo: the reply leaves from the host's thread by `transmit_now`.
#[test]
fn echo_through_the_thread() {
    let (server, rx) = start(&Config::default());
    let mut client = Client::new(9);
    client.connect(server.local_addr());
    client.ep.send(client.now(), &0, b"ping", RetryMode::RetryOnTimeout, 0).unwrap();
    let mut echoed = false;
    let until = StdInstant::now() + Duration::from_secs(5);
    while StdInstant::now() < until && !echoed {
        for (_, data) in client.step(server.local_addr(), true) {
            echoed |= data == b"ping";
        }
        if rx.try_recv().is_ok() {
            for r in drain(&server).into_iter().filter(|r| r.kind == event_kind::MESSAGE) {
                server.with_peer(r.peer, |st, now| st.engine.send(now, r.peer, &r.data, -1, 0));
                server.transmit_now();
            }
        }
    }
    assert!(echoed, "the server echoed the message");
    assert!(server.profile().idle_ns.load(Ordering::Relaxed) > 0);
}

/// A stopped server frees its port at once: a new server binds the same port right after.
#[test]
fn stop_frees_the_port_at_once() {
    let (mut a, _rx) = start(&Config::default());
    let addr = a.local_addr();
    a.stop();
    let (b, _rx2) = start_with(options(&Config::default(), addr, 1));
    assert_eq!(b.local_addr(), addr);
    // And an address in use is an error of kind AddrInUse (what JavaScript sees as EADDRINUSE),
    // also for a server of several threads, which must not join the first one's port.
    for threads in [1, 2] {
        match SocketServer::start(options(&Config::default(), addr, threads), || true) {
            Err(StartError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::AddrInUse),
            other => panic!("expected AddrInUse with {threads} threads, got {other:?}"),
        }
    }
}

/// A datagram larger than the receive room is counted with its real size and dropped.
#[test]
fn oversized_datagrams_count_their_real_size() {
    let (server, _rx) = start(&Config::default());
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..10 {
        s.send_to(&vec![7u8; 65_000], server.local_addr()).unwrap();
    }
    let until = StdInstant::now() + Duration::from_secs(5);
    while server.stats().counters.drop_too_large < 10 && StdInstant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let c = server.stats().counters;
    assert_eq!(c.drop_too_large, 10);
    assert_eq!(c.bytes_in, 650_000);
}

/// The wrong-client defect: client A's message is in the host's batch; A leaves and its
/// RELEASED reaches the host in the same drain; B connects before the host has run A's handler.
/// A reply the handler then queues for A's id is refused; B never gets it.
#[test]
fn a_reply_for_a_client_that_left_never_reaches_the_next_one() {
    let config = Config { connection_timeout: Duration::from_millis(300), ..Config::default() };
    let (server, _rx) = start(&config);
    let to = server.local_addr();
    let mut a = Client::new(1);
    a.connect(to);
    a.ep.send(a.now(), &0, b"from A", RetryMode::RetryOnTimeout, 0).unwrap();
    // Drain until A's message is there (the host runs no handler yet).
    let mut records = Vec::new();
    let until = StdInstant::now() + Duration::from_secs(5);
    while !records.iter().any(|r: &Record| r.kind == event_kind::MESSAGE) && StdInstant::now() < until {
        a.step(to, true);
        records.extend(drain(&server));
    }
    let a_id = records.iter().find(|r| r.kind == event_kind::MESSAGE).unwrap().peer;
    // A vanishes; the server times it out; the host drains DISCONNECTED + RELEASED for A.
    drop(a);
    let until = StdInstant::now() + Duration::from_secs(5);
    while !records.iter().any(|r| r.kind == event_kind::RELEASED && r.peer == a_id)
        && StdInstant::now() < until
    {
        std::thread::sleep(Duration::from_millis(10));
        records.extend(drain(&server));
    }
    assert!(records.iter().any(|r| r.kind == event_kind::RELEASED && r.peer == a_id));
    // B connects while the host is still "stalled" on that drain (no events() call since).
    let mut b = Client::new(2);
    b.ep.connect(b.now(), 0, Some(root().public()), false).unwrap();
    let until = StdInstant::now() + Duration::from_secs(5);
    while server.connection_count() == 0 && StdInstant::now() < until {
        b.step(to, true);
    }
    let until = StdInstant::now() + Duration::from_millis(300);
    while StdInstant::now() < until {
        b.step(to, true);
    }
    // Now the host runs A's handler: it replies to A's id.
    let mut cmd = Vec::new();
    let secret = b"SECRET for A";
    cmd.extend_from_slice(&a_id.to_le_bytes());
    cmd.extend_from_slice(&(-1i32).to_le_bytes());
    cmd.extend_from_slice(&0u32.to_le_bytes());
    cmd.extend_from_slice(&(secret.len() as u32).to_le_bytes());
    cmd.extend_from_slice(secret);
    cmd.resize((cmd.len() + 3) & !3, 0);
    let mut results = [0u8; 1];
    server.send_batch(&cmd, 1, &mut results);
    assert_eq!(i32::from(results[0] as i8), code::UNKNOWN_CONNECTION, "the reply to A is refused");
    server.transmit_now();
    // B is connected and never receives A's reply.
    let b_records = drain(&server);
    let b_id = b_records.iter().find(|r| r.kind == event_kind::CONNECTED).map(|r| r.peer);
    assert!(b_id.is_some_and(|b| b != a_id), "B has an id of its own: {b_id:?} vs {a_id}");
    let until = StdInstant::now() + Duration::from_millis(500);
    while StdInstant::now() < until {
        for (_, data) in b.step(to, true) {
            assert_ne!(data, secret, "B received A's reply");
        }
    }
}

/// Two socket threads share the port; clients spread over both shards, ids are unique, the
/// stats add up, and every client's echo comes back to it.
#[cfg(target_os = "linux")]
#[test]
fn two_shards_share_one_port() {
    let (server, rx) = start_with(options(&Config::default(), "127.0.0.1:0".parse().unwrap(), 2));
    assert_eq!(server.threads(), 2);
    let to = server.local_addr();
    let mut clients: Vec<Client> = (0..12).map(|i| Client::new(10 + i)).collect();
    for c in &mut clients {
        c.connect(to);
    }
    assert_eq!(server.connection_count(), 12);
    let mut ids = HashSet::new();
    let mut shards = HashSet::new();
    for (i, c) in clients.iter_mut().enumerate() {
        c.ep.send(c.now(), &0, format!("hello {i}").as_bytes(), RetryMode::RetryOnTimeout, 0).unwrap();
    }
    let mut echoed = vec![false; clients.len()];
    let until = StdInstant::now() + Duration::from_secs(5);
    while echoed.iter().any(|e| !e) && StdInstant::now() < until {
        for (i, c) in clients.iter_mut().enumerate() {
            for (_, data) in c.step(to, true) {
                if data == format!("hello {i}").as_bytes() {
                    echoed[i] = true;
                }
            }
        }
        if rx.try_recv().is_ok() {
            for r in drain(&server) {
                if r.kind == event_kind::CONNECTED {
                    assert!(ids.insert(r.peer), "peer ids are unique across shards");
                    shards.insert(shard_of(r.peer));
                }
                if r.kind == event_kind::MESSAGE {
                    server.with_peer(r.peer, |st, now| st.engine.send(now, r.peer, &r.data, -1, 0));
                }
            }
            server.transmit_now();
        }
    }
    assert!(echoed.iter().all(|e| *e), "every client got its own echo: {echoed:?}");
    assert_eq!(shards.len(), 2, "both shards hold clients");
    assert!(server.stats().counters.messages_received >= 12);
}

/// An idle server sleeps: with no client, its thread wakes a handful of times in half a second.
#[test]
fn an_idle_server_sleeps() {
    let (server, _rx) = start(&Config::default());
    std::thread::sleep(Duration::from_millis(500));
    let wakeups = server.profile().wakeups.load(Ordering::Relaxed);
    assert!(wakeups <= 3, "{wakeups} wake-ups with nothing to do");
}

/// A one-thread server that holds its host's wake-up 200 ms after the first event of a batch,
/// and an unpaced client connected to it; the host has been told of the connection and has
/// not drained.
fn held_server(seed: u8) -> (SocketServer, mpsc::Receiver<()>, Client) {
    let mut opts = options(&Config::default(), "127.0.0.1:0".parse().unwrap(), 1);
    opts.notify_delay = Duration::from_millis(200);
    let (server, rx) = start_with(opts);
    let mut c = Client::with_config(seed, Config { send_interval: Duration::ZERO, ..Config::default() });
    c.connect(server.local_addr());
    rx.recv_timeout(Duration::from_secs(5)).expect("the host is told of the connection");
    (server, rx, c)
}

/// Sends messages 0..20 one by one, 2 ms apart; returns the server thread's wake-ups meanwhile.
fn trickle(server: &SocketServer, c: &mut Client) -> u64 {
    let wakeups = || server.profile().wakeups.load(Ordering::Relaxed);
    let before = wakeups();
    for i in 0..20u8 {
        c.send_now(server.local_addr(), i);
        std::thread::sleep(Duration::from_millis(2));
    }
    wakeups() - before
}

/// While a batch of events waits for its notify time, the thread leaves the socket alone:
/// datagrams that arrive one by one within `notify_delay` cost it a wake-up for the batch, not
/// one each, and every one of them reaches the host, in order, with the one notification.
#[test]
fn a_batch_waiting_to_notify_leaves_the_socket_alone() {
    let (server, rx, mut c) = held_server(4);
    assert!(drain(&server).iter().any(|r| r.kind == event_kind::CONNECTED));
    let woken = trickle(&server, &mut c);
    rx.recv_timeout(Duration::from_secs(5)).expect("the host is told of the batch");
    let got: Vec<u8> =
        drain(&server).into_iter().filter(|r| r.kind == event_kind::MESSAGE).map(|r| r.data[0]).collect();
    assert_eq!(got, (0..20).collect::<Vec<u8>>(), "every message, in order, in one batch");
    // One wake-up for the first datagram, one at the notify time, and the connection's own
    // timers (a keep-alive each 100 ms); without the hold it was one per datagram on top.
    assert!(woken <= 8, "{woken} wake-ups for 20 datagrams held for one notification");
}

/// With several shards, one notification covers a batch that spans them: the host drains every
/// shard when it is told, so a shard whose batch is ready while another shard's notification
/// waits for the host does not wake the host again.
#[cfg(target_os = "linux")]
#[test]
fn one_notification_covers_every_shard() {
    let mut opts = options(&Config::default(), "127.0.0.1:0".parse().unwrap(), 2);
    opts.notify_delay = Duration::from_millis(200);
    let (server, rx) = start_with(opts);
    let to = server.local_addr();
    let config = || Config { send_interval: Duration::ZERO, ..Config::default() };
    let mut clients: Vec<Client> = (0..12).map(|i| Client::with_config(40 + i, config())).collect();
    for c in &mut clients {
        c.connect(to);
    }
    let mut shards = HashSet::new();
    let until = StdInstant::now() + Duration::from_secs(5);
    while shards.len() < 2 || server.connection_count() < 12 {
        assert!(StdInstant::now() < until, "both shards hold clients");
        if rx.recv_timeout(Duration::from_millis(50)).is_ok() {
            for r in drain(&server).into_iter().filter(|r| r.kind == event_kind::CONNECTED) {
                shards.insert(shard_of(r.peer));
            }
        }
    }
    while rx.try_recv().is_ok() {}
    let notifications = || server.profile().notifications.load(Ordering::Relaxed);
    let before = notifications();
    for (i, c) in clients.iter_mut().enumerate() {
        c.send_now(to, i as u8);
    }
    let sent = server.now_ms();
    rx.recv_timeout(Duration::from_secs(5)).expect("the host is told of the batch");
    // Before draining, let every shard pass its own notify time (each holds its batch 200 ms
    // from its first datagram): the thread is then armed for a later time than that.
    let past = ((sent + 300.0) * 1000.0) as u64;
    let until = StdInstant::now() + Duration::from_secs(5);
    while !server.shards.iter().all(|s| s.armed_us.load(Ordering::Acquire) > past) {
        assert!(StdInstant::now() < until, "the socket threads sleep past their notify times");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut got: Vec<u8> =
        drain(&server).into_iter().filter(|r| r.kind == event_kind::MESSAGE).map(|r| r.data[0]).collect();
    got.sort_unstable();
    assert_eq!(got, (0..12).collect::<Vec<u8>>(), "one drain takes every shard's messages");
    assert_eq!(notifications() - before, 1, "one notification for a batch over both shards");
}

/// After the host is told, and until it drains, the thread keeps leaving the socket alone in
/// turns of `notify_delay`: datagrams that come meanwhile cost no wake-up apiece, and the host
/// gets every one of them.
#[test]
fn undrained_events_keep_the_socket_held() {
    // Told of the connection, the host does not drain yet.
    let (server, _rx, mut c) = held_server(5);
    let woken = trickle(&server, &mut c);
    let mut got = Vec::new();
    let until = StdInstant::now() + Duration::from_secs(5);
    while got.len() < 20 {
        assert!(StdInstant::now() < until, "every message reaches the host: {got:?}");
        got.extend(drain(&server).into_iter().filter(|r| r.kind == event_kind::MESSAGE).map(|r| r.data[0]));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(got, (0..20).collect::<Vec<u8>>(), "every message, in order");
    // The turn that began with the connection's events ends within the 40 ms of sending, or
    // does not; either way a wake-up or two and the connection's timers, not one per datagram.
    assert!(woken <= 8, "{woken} wake-ups for 20 datagrams while the host had not drained");
}

/// A notification the host could not queue is not the end of it: the thread tells the host
/// again, where with the "told" flag left set no shard would ever notify again.
#[test]
fn a_refused_notification_is_tried_again() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let calls = AtomicU64::new(0);
    let opts = options(&Config::default(), "127.0.0.1:0".parse().unwrap(), 1);
    let server = SocketServer::start(opts, move || {
        // The first notification is refused, as by a host whose queue is full.
        calls.fetch_add(1, Ordering::Relaxed) > 0 && tx.lock().unwrap().send(()).is_ok()
    })
    .unwrap();
    let mut c = Client::new(6);
    c.connect(server.local_addr());
    rx.recv_timeout(Duration::from_secs(5)).expect("the host is told after the refusal");
    assert!(drain(&server).iter().any(|r| r.kind == event_kind::CONNECTED));
    assert!(
        server.profile().notifications.load(Ordering::Relaxed) >= 2,
        "the refused one and the one that got through"
    );
}
