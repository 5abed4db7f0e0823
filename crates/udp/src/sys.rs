//! The socket calls std does not offer: many datagrams per system call (`recvmmsg`/`sendmmsg`)
//! and a wait on two descriptors with a sub-millisecond deadline (`ppoll`). This is the crate's
//! only `unsafe` code; each block says why it holds. Elsewhere than Linux the same interface
//! falls back to one `recv_from`/`send_to` per datagram and `poll` with millisecond timeouts.

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

/// Datagrams to send, back to back in one buffer.
pub(crate) struct SendBatch {
    pub(crate) bytes: Vec<u8>,
    /// (destination, start, length) of each datagram in `bytes`.
    pub(crate) outs: Vec<(SocketAddr, usize, usize)>,
    #[cfg(target_os = "linux")]
    headers: Headers,
}

impl SendBatch {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            bytes: vec![0; capacity * ROOM],
            outs: Vec::with_capacity(capacity),
            #[cfg(target_os = "linux")]
            headers: Headers::new(capacity),
        }
    }

    /// Sends every datagram (a failed send is a lost datagram: the protocol recovers). Returns
    /// the number of system calls made.
    #[cfg(target_os = "linux")]
    pub(crate) fn send(&mut self, socket: &UdpSocket) -> usize {
        let n = self.outs.len().min(self.headers.hdrs.len());
        for (i, (to, start, len)) in self.outs.iter().take(n).enumerate() {
            let namelen = std_to_sockaddr(to, &mut self.headers.names[i]);
            // SAFETY: `start + len` is within `bytes` (the collector wrote the datagram there).
            let base = unsafe { self.bytes.as_mut_ptr().add(*start) };
            self.headers.point(i, base, *len, namelen);
        }
        let mut done = 0;
        let mut calls = 0;
        while done < n {
            calls += 1;
            // SAFETY: headers `done..n` point at names, iovecs and bytes owned by `self`, valid
            // for the call.
            let sent = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    self.headers.hdrs.as_mut_ptr().add(done),
                    (n - done) as libc::c_uint,
                    0,
                )
            };
            if sent <= 0 {
                // The first datagram left failed (e.g. an unreachable destination): skip it.
                done += 1;
            } else {
                done += sent as usize;
            }
        }
        self.outs.clear();
        calls
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn send(&mut self, socket: &UdpSocket) -> usize {
        for (to, start, len) in &self.outs {
            let _ = socket.send_to(&self.bytes[*start..*start + *len], to);
        }
        let calls = self.outs.len();
        self.outs.clear();
        calls
    }
}

/// Which of the two descriptors [`wait`] found readable.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ready {
    pub(crate) socket: bool,
    pub(crate) waker: bool,
}

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
