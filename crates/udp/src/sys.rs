//! The socket calls std does not offer: many datagrams per system call (`recvmmsg`/`sendmmsg`,
//! and UDP GSO for several datagrams to one destination) and a wait on two descriptors with a
//! sub-millisecond deadline (`ppoll`). This is the crate's only `unsafe` code; each block says
//! why it holds. Elsewhere than Linux the same interface falls back to one `recv_from`/`send_to`
//! per datagram and `poll` with millisecond timeouts.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// Room for one received datagram; a longer one is truncated (and reported with its real
/// length, then dropped as too large by the engine).
pub(crate) const ROOM: usize = 2048;

/// The kernel's view of a batch: one address, one iovec and one header per datagram.
#[cfg(target_os = "linux")]
struct Headers {
    names: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers inside `iovs`/`hdrs` are rebuilt before every system call from
// vectors the owning batch holds and are never dereferenced otherwise, so moving a batch between
// threads is sound.
#[cfg(target_os = "linux")]
unsafe impl Send for Headers {}

#[cfg(target_os = "linux")]
impl Headers {
    fn new(capacity: usize) -> Self {
        Self {
            // SAFETY: sockaddr_storage and mmsghdr are plain C structs for which all-zero bytes
            // are a valid value.
            names: vec![unsafe { std::mem::zeroed() }; capacity],
            iovs: vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; capacity],
            hdrs: vec![unsafe { std::mem::zeroed() }; capacity],
        }
    }

    /// Points header `i` at address `i` (of `namelen` bytes) and at `len` bytes from `base`.
    fn point(&mut self, i: usize, base: *mut u8, len: usize, namelen: libc::socklen_t) {
        self.iovs[i] = libc::iovec { iov_base: base.cast(), iov_len: len };
        let h = &mut self.hdrs[i];
        h.msg_hdr.msg_name = std::ptr::from_mut(&mut self.names[i]).cast();
        h.msg_hdr.msg_namelen = namelen;
        h.msg_hdr.msg_iov = std::ptr::from_mut(&mut self.iovs[i]);
        h.msg_hdr.msg_iovlen = 1;
        h.msg_hdr.msg_control = std::ptr::null_mut();
        h.msg_hdr.msg_controllen = 0;
        h.msg_hdr.msg_flags = 0;
        h.msg_len = 0;
    }
}

/// Buffers for a batch of received datagrams.
pub(crate) struct RecvBatch {
    bufs: Vec<u8>,
    /// Real lengths (may exceed [`ROOM`]: the datagram was truncated).
    pub(crate) lens: Vec<usize>,
    pub(crate) from: Vec<SocketAddr>,
    #[cfg(target_os = "linux")]
    headers: Headers,
}

impl RecvBatch {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            bufs: vec![0; capacity * ROOM],
            lens: vec![0; capacity],
            from: vec![SocketAddr::from(([0, 0, 0, 0], 0)); capacity],
            #[cfg(target_os = "linux")]
            headers: Headers::new(capacity),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.lens.len()
    }

    /// Datagram `i` of the last batch (at most [`ROOM`] bytes of it).
    pub(crate) fn datagram(&mut self, i: usize) -> &mut [u8] {
        let len = self.lens[i].min(ROOM);
        &mut self.bufs[i * ROOM..i * ROOM + len]
    }

    /// Receives what is waiting, up to the capacity, without blocking. Returns how many.
    #[cfg(target_os = "linux")]
    pub(crate) fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let n = self.lens.len();
        let storage = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        for i in 0..n {
            // SAFETY: `i * ROOM` is within `bufs` (capacity * ROOM bytes).
            let base = unsafe { self.bufs.as_mut_ptr().add(i * ROOM) };
            self.headers.point(i, base, ROOM, storage);
        }
        // SAFETY: every header points at a name, an iovec and ROOM bytes owned by `self`, valid
        // for the call; `n` headers exist. MSG_TRUNC makes msg_len the datagram's real length.
        let got = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        if got < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock { Ok(0) } else { Err(e) };
        }
        let got = got as usize;
        for i in 0..got {
            self.lens[i] = self.headers.hdrs[i].msg_len as usize;
            self.from[i] = sockaddr_to_std(&self.headers.names[i]).unwrap_or(self.from[i]);
        }
        Ok(got)
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let mut got = 0;
        while got < self.lens.len() {
            match socket.recv_from(&mut self.bufs[got * ROOM..(got + 1) * ROOM]) {
                Ok((n, from)) => {
                    self.lens[got] = n;
                    self.from[got] = from;
                    got += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if got == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(got)
    }
}

/// A socket address from the kernel's form.
#[cfg(target_os = "linux")]
fn sockaddr_to_std(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large and
            // aligned enough for.
            let a: &libc::sockaddr_in = unsafe { &*std::ptr::from_ref(s).cast() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a: &libc::sockaddr_in6 = unsafe { &*std::ptr::from_ref(s).cast() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// The kernel's form of a socket address.
#[cfg(target_os = "linux")]
fn std_to_sockaddr(a: &SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match a {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            let s: &mut libc::sockaddr_in = unsafe { &mut *std::ptr::from_mut(out).cast() };
            s.sin_family = libc::AF_INET as libc::sa_family_t;
            s.sin_port = v4.port().to_be();
            s.sin_addr = libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() };
            size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above, for sockaddr_in6.
            let s: &mut libc::sockaddr_in6 = unsafe { &mut *std::ptr::from_mut(out).cast() };
            s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            s.sin6_port = v6.port().to_be();
            s.sin6_flowinfo = v6.flowinfo();
            s.sin6_addr = libc::in6_addr { s6_addr: v6.ip().octets() };
            s.sin6_scope_id = v6.scope_id();
            size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

/// Most datagrams one UDP GSO send may carry (the kernel's `UDP_MAX_SEGMENTS`).
#[cfg(target_os = "linux")]
const GSO_MAX_SEGMENTS: usize = 64;
/// Most bytes one UDP GSO send may carry: one IP packet's worth (65,535 less the IPv6 and UDP
/// headers, and some to spare).
#[cfg(target_os = "linux")]
const GSO_MAX_BYTES: usize = 65_000;
/// GSO sends refused with EINVAL in a row (none taken in between) before a batch stops trying.
#[cfg(target_os = "linux")]
const GSO_MAX_FAILURES: u8 = 3;

/// One `sendmsg` of a batch: datagrams to one destination, sent as one GSO buffer when more than
/// one (every one `seg` bytes long but the last, which may be shorter).
#[cfg(target_os = "linux")]
#[derive(Clone, Copy)]
struct Group {
    to: SocketAddr,
    seg: usize,
    count: usize,
    bytes: usize,
    /// A shorter datagram ended it, or a later one to the same destination did not fit.
    closed: bool,
}

/// A control message buffer with the alignment `cmsghdr` needs, room for one `UDP_SEGMENT`.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Control([u8; 32]);

/// Datagrams to send, back to back in one buffer.
pub(crate) struct SendBatch {
    pub(crate) bytes: Vec<u8>,
    /// (destination, start, length) of each datagram in `bytes`.
    pub(crate) outs: Vec<(SocketAddr, usize, usize)>,
    /// Whether datagrams to one destination go out as one UDP GSO send (Linux; off with
    /// `GAMEWIRE_UDP_GSO=0`, and for good the first time the kernel refuses one).
    pub(crate) gso: bool,
    /// The kernel was asked whether it knows UDP GSO (on the first send).
    gso_probed: bool,
    /// GSO sends refused with EINVAL since the last one taken.
    gso_failures: u8,
    /// Datagrams handed to the kernel, and the `sendmsg` messages that carried them (fewer with
    /// GSO), since the batch was made; a send the kernel refused still counts.
    pub(crate) sent_datagrams: u64,
    pub(crate) sent_messages: u64,
    #[cfg(target_os = "linux")]
    headers: Headers,
    #[cfg(target_os = "linux")]
    groups: Vec<Group>,
    /// Per datagram: its group; then, per position in send order, the datagram.
    #[cfg(target_os = "linux")]
    group_of: Vec<usize>,
    #[cfg(target_os = "linux")]
    order: Vec<usize>,
    /// The counting sort's next position per group.
    #[cfg(target_os = "linux")]
    next: Vec<usize>,
    #[cfg(target_os = "linux")]
    controls: Vec<Control>,
}

impl SendBatch {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            bytes: vec![0; capacity * ROOM],
            outs: Vec::with_capacity(capacity),
            gso: cfg!(target_os = "linux") && std::env::var_os("GAMEWIRE_UDP_GSO").is_none_or(|v| v != "0"),
            gso_probed: false,
            gso_failures: 0,
            sent_datagrams: 0,
            sent_messages: 0,
            #[cfg(target_os = "linux")]
            headers: Headers::new(capacity),
            #[cfg(target_os = "linux")]
            groups: Vec::with_capacity(capacity),
            #[cfg(target_os = "linux")]
            group_of: Vec::with_capacity(capacity),
            #[cfg(target_os = "linux")]
            order: vec![0; capacity],
            #[cfg(target_os = "linux")]
            next: Vec::with_capacity(capacity),
            #[cfg(target_os = "linux")]
            controls: vec![Control([0; 32]); capacity],
        }
    }

    /// Puts the datagrams into groups: each destination's datagrams in their order, consecutive
    /// ones of one size (the last may be shorter) in one group. Without GSO every datagram is
    /// its own group. Datagrams to different destinations may leave in another order than they
    /// were queued; to any one destination, never.
    #[cfg(target_os = "linux")]
    fn plan(&mut self, n: usize) {
        self.groups.clear();
        self.group_of.clear();
        for &(to, _, len) in self.outs.iter().take(n) {
            let open = if self.gso { self.groups.iter().rposition(|g| g.to == to) } else { None };
            let joined = open.filter(|&g| {
                let g = &self.groups[g];
                !g.closed && len <= g.seg && g.count < GSO_MAX_SEGMENTS && g.bytes + len <= GSO_MAX_BYTES
            });
            match joined {
                Some(g) => {
                    let grp = &mut self.groups[g];
                    grp.count += 1;
                    grp.bytes += len;
                    grp.closed = len < grp.seg;
                    self.group_of.push(g);
                }
                None => {
                    if let Some(g) = open {
                        self.groups[g].closed = true;
                    }
                    self.group_of.push(self.groups.len());
                    self.groups.push(Group { to, seg: len, count: 1, bytes: len, closed: false });
                }
            }
        }
        // Send order: group by group (a counting sort, stable within each group).
        self.next.clear();
        let mut at = 0;
        for g in &self.groups {
            self.next.push(at);
            at += g.count;
        }
        for (i, &g) in self.group_of.iter().enumerate() {
            self.order[self.next[g]] = i;
            self.next[g] += 1;
        }
    }

    /// Sends every datagram (a failed send is a lost datagram: the protocol recovers). Returns
    /// the number of system calls made.
    #[cfg(target_os = "linux")]
    pub(crate) fn send(&mut self, socket: &UdpSocket) -> usize {
        if self.gso && !self.gso_probed {
            self.gso_probed = true;
            self.gso = gso_supported(socket);
        }
        let n = self.outs.len().min(self.headers.hdrs.len());
        self.plan(n);
        // One iovec per datagram, in send order; one header per group over its run of iovecs.
        for (pos, &i) in self.order.iter().take(n).enumerate() {
            let (_, start, len) = self.outs[i];
            // SAFETY: `start + len` is within `bytes` (the collector wrote the datagram there).
            let base = unsafe { self.bytes.as_mut_ptr().add(start) };
            self.headers.iovs[pos] = libc::iovec { iov_base: base.cast(), iov_len: len };
        }
        let mut first = 0;
        for (g, grp) in self.groups.iter().enumerate() {
            let namelen = std_to_sockaddr(&grp.to, &mut self.headers.names[g]);
            let h = &mut self.headers.hdrs[g];
            h.msg_hdr.msg_name = std::ptr::from_mut(&mut self.headers.names[g]).cast();
            h.msg_hdr.msg_namelen = namelen;
            h.msg_hdr.msg_iov = std::ptr::from_mut(&mut self.headers.iovs[first]);
            h.msg_hdr.msg_iovlen = grp.count as _;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
            if grp.count > 1 {
                set_segment(&mut h.msg_hdr, &mut self.controls[g], grp.seg);
            } else {
                h.msg_hdr.msg_control = std::ptr::null_mut();
                h.msg_hdr.msg_controllen = 0;
            }
            first += grp.count;
        }
        let ng = self.groups.len();
        let mut done = 0;
        let mut calls = 0;
        while done < ng {
            calls += 1;
            // SAFETY: headers `done..ng` point at names, iovecs, control buffers and bytes owned by
            // `self`, valid for the call.
            let sent = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers.hdrs.as_mut_ptr().add(done),
                    (ng - done) as libc::c_uint,
                    0,
                )
            };
            if sent > 0 {
                let sent = sent as usize;
                if self.groups[done..done + sent].iter().any(|g| g.count > 1) {
                    self.gso_failures = 0;
                }
                done += sent;
                continue;
            }
            // The first group left failed. A GSO group's datagrams then go one by one: a full
            // buffer may still take some of them. A socket or device that cannot do GSO at all
            // (EIO: no checksum offload; ENOPROTOOPT, EOPNOTSUPP) gets none from now on. EINVAL
            // may be one destination's (a segment larger than its route's MTU) or the socket's
            // (UDP checksums off): GSO stays on until it fails that way GSO_MAX_FAILURES times
            // with no GSO send taken in between. A single datagram that fails is lost (an
            // unreachable destination, a full buffer): the protocol recovers.
            let err = io::Error::last_os_error().raw_os_error();
            if self.groups[done].count > 1 {
                if matches!(err, Some(libc::EIO | libc::ENOPROTOOPT | libc::EOPNOTSUPP)) {
                    self.gso = false;
                } else if err == Some(libc::EINVAL) {
                    self.gso_failures += 1;
                    self.gso = self.gso_failures < GSO_MAX_FAILURES;
                }
                calls += self.send_singly(socket, done);
                self.sent_messages += self.groups[done].count as u64 - 1;
            }
            done += 1;
        }
        self.sent_datagrams += n as u64;
        self.sent_messages += ng as u64;
        self.outs.clear();
        calls
    }

    /// Sends group `g`'s datagrams one `sendmsg` each; returns the calls made.
    #[cfg(target_os = "linux")]
    fn send_singly(&mut self, socket: &UdpSocket, g: usize) -> usize {
        let mut h = self.headers.hdrs[g].msg_hdr;
        h.msg_control = std::ptr::null_mut();
        h.msg_controllen = 0;
        h.msg_iovlen = 1;
        let iovs = h.msg_iov;
        for k in 0..self.groups[g].count {
            // SAFETY: the group's header points at `count` consecutive iovecs in `iovs`.
            h.msg_iov = unsafe { iovs.add(k) };
            // SAFETY: `h` points at the group's name and one iovec over bytes owned by `self`,
            // valid for the call.
            unsafe { libc::sendmsg(socket.as_raw_fd(), &h, 0) };
        }
        self.groups[g].count
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn send(&mut self, socket: &UdpSocket) -> usize {
        for (to, start, len) in &self.outs {
            let _ = socket.send_to(&self.bytes[*start..*start + *len], to);
        }
        let calls = self.outs.len();
        self.sent_datagrams += calls as u64;
        self.sent_messages += calls as u64;
        self.outs.clear();
        calls
    }
}

/// Points `h`'s control data at `ctrl`, holding one `UDP_SEGMENT` of `seg` bytes.
#[cfg(target_os = "linux")]
fn set_segment(h: &mut libc::msghdr, ctrl: &mut Control, seg: usize) {
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as usize;
    debug_assert!(space <= ctrl.0.len());
    h.msg_control = ctrl.0.as_mut_ptr().cast();
    h.msg_controllen = space as _;
    // SAFETY: `h` has `space` bytes of 8-aligned control data, room for one cmsghdr and a u16, so
    // CMSG_FIRSTHDR is non-null and its data lies within `ctrl`.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(h);
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), seg as u16);
    }
}

/// Whether the kernel knows UDP GSO: a kernel before 4.18 (or a sandbox) refuses the option.
/// One that silently ignored the control message would send each group as one large datagram.
#[cfg(target_os = "linux")]
fn gso_supported(socket: &UdpSocket) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket; `v` and `len` outlive the call and `len` is `v`'s size.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_UDP,
            UDP_SEGMENT,
            std::ptr::from_mut(&mut v).cast(),
            &mut len,
        )
    };
    r == 0
}

/// `UDP_SEGMENT` from linux/udp.h (Linux 4.18): the segment size of a GSO send.
#[cfg(target_os = "linux")]
const UDP_SEGMENT: libc::c_int = 103;

/// Which of the two descriptors [`wait`] found readable.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ready {
    pub(crate) socket: bool,
    pub(crate) waker: bool,
}

/// A descriptor `wait` leaves out (poll ignores negative ones): pass it as `socket` to wait for
/// the waker and the timeout only.
pub(crate) const NO_FD: RawFd = -1;

/// Waits until `socket` or `waker` is readable, or `timeout` passes (`None`: no timeout).
#[cfg(target_os = "linux")]
pub(crate) fn wait(socket: RawFd, waker: RawFd, timeout: Option<Duration>) -> Ready {
    let mut fds = [
        libc::pollfd { fd: socket, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: waker, events: libc::POLLIN, revents: 0 },
    ];
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
    });
    let tsp = ts.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
    // SAFETY: `fds` holds two valid pollfd structs for the duration of the call; `tsp` is null
    // or points at a timespec that outlives it; no signal mask is changed.
    let r = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, tsp, std::ptr::null()) };
    if r <= 0 {
        return Ready::default();
    }
    Ready { socket: fds[0].revents != 0, waker: fds[1].revents != 0 }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn wait(socket: RawFd, waker: RawFd, timeout: Option<Duration>) -> Ready {
    let mut fds = [
        libc::pollfd { fd: socket, events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: waker, events: libc::POLLIN, revents: 0 },
    ];
    let ms = timeout.map_or(-1, |d| d.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int);
    // SAFETY: `fds` holds two valid pollfd structs for the duration of the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if r <= 0 {
        return Ready::default();
    }
    Ready { socket: fds[0].revents != 0, waker: fds[1].revents != 0 }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A receiving socket on loopback and its address.
    fn receiver() -> (UdpSocket, SocketAddr) {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let a = s.local_addr().unwrap();
        (s, a)
    }

    /// Datagram `k` of a test: `len` bytes, every one `k`, so that a mixed-up boundary shows.
    fn push(b: &mut SendBatch, to: SocketAddr, k: u8, len: usize) {
        let start = b.outs.last().map_or(0, |&(_, s, l)| s + l);
        b.bytes[start..start + len].fill(k);
        b.outs.push((to, start, len));
    }

    /// Reads `n` datagrams as (first byte, length).
    fn read(s: &UdpSocket, n: usize) -> Vec<(u8, usize)> {
        let mut buf = [0u8; ROOM];
        (0..n)
            .map(|_| {
                let (len, _) = s.recv_from(&mut buf).unwrap();
                assert!(buf[..len].iter().all(|&x| x == buf[0]), "one datagram, one test datagram");
                (buf[0], len)
            })
            .collect()
    }

    #[test]
    fn a_burst_to_one_peer_leaves_in_one_gso_send_and_arrives_datagram_by_datagram() {
        let (rx, to) = receiver();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut b = SendBatch::new(64);
        for k in 1..=10 {
            push(&mut b, to, k, 1200);
        }
        push(&mut b, to, 11, 300);
        assert_eq!(b.send(&tx), 1);
        assert!(b.gso, "the kernel took the GSO send");
        assert_eq!((b.sent_datagrams, b.sent_messages), (11, 1));
        let want: Vec<(u8, usize)> = (1..=10).map(|k| (k, 1200)).chain([(11, 300)]).collect();
        assert_eq!(read(&rx, 11), want);

        // Without GSO the same burst takes one message per datagram.
        b.gso = false;
        for k in 1..=10 {
            push(&mut b, to, k, 1200);
        }
        push(&mut b, to, 11, 300);
        b.send(&tx);
        assert_eq!((b.sent_datagrams, b.sent_messages), (22, 12));
        assert_eq!(read(&rx, 11), want);
    }

    #[test]
    fn interleaved_peers_each_get_their_own_datagrams_in_order() {
        let peers: Vec<(UdpSocket, SocketAddr)> = (0..3).map(|_| receiver()).collect();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut b = SendBatch::new(64);
        // Peer p's datagrams carry 10 * p + i; sizes change within a peer's run, and a short one
        // ends a group: peer 0 gets 3 groups (500 500 | 700 200 | 700), peer 1 one, peer 2 two.
        let plan: [(usize, usize); 11] = [
            (0, 500),
            (1, 90),
            (0, 500),
            (2, 800),
            (0, 700),
            (1, 90),
            (0, 200),
            (2, 800),
            (0, 700),
            (1, 40),
            (2, 900),
        ];
        let mut sent: Vec<Vec<(u8, usize)>> = vec![Vec::new(); 3];
        for &(p, len) in &plan {
            let k = (10 * p + sent[p].len()) as u8;
            push(&mut b, peers[p].1, k, len);
            sent[p].push((k, len));
        }
        b.send(&tx);
        assert_eq!((b.sent_datagrams, b.sent_messages), (11, 6));
        for (p, (s, _)) in peers.iter().enumerate() {
            assert_eq!(read(s, sent[p].len()), sent[p], "peer {p}");
        }
    }

    #[test]
    fn a_socket_that_refuses_gso_still_sends_every_datagram() {
        let (rx, to) = receiver();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Without UDP checksums the kernel refuses GSO sends (EINVAL on Linux 6, EIO before).
        let one: libc::c_int = 1;
        // SAFETY: a valid socket and a c_int option value that outlives the call.
        let r = unsafe {
            libc::setsockopt(
                tx.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_NO_CHECK,
                std::ptr::from_ref(&one).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(r, 0);
        let mut b = SendBatch::new(64);
        for round in 1..=GSO_MAX_FAILURES {
            for k in 1..=4 {
                push(&mut b, to, k, 1000);
            }
            b.send(&tx);
            // Every datagram goes out one by one after the refusal; after a few refusals GSO is off.
            assert_eq!(b.gso, round < GSO_MAX_FAILURES, "round {round}");
            assert_eq!(read(&rx, 4), (1..=4).map(|k| (k, 1000)).collect::<Vec<_>>());
        }
        let n = u64::from(GSO_MAX_FAILURES) * 4;
        assert_eq!((b.sent_datagrams, b.sent_messages), (n, n));
    }
}
