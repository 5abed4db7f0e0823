//! The load benchmark's floor: a bare UDP echo server, no protocol, no crypto.
//!
//! ```text
//! gamewire-bench-floor [--host 127.0.0.1] [--port 0] [--batch 64]
//! ```
//!
//! One thread receives with `recvmmsg` (blocking until at least one datagram is there, then
//! whatever else is queued, up to `--batch`) and sends every datagram back to its source with
//! `sendmmsg`: two system calls per batch, no copies beyond the kernel's. What it costs per
//! datagram pair is what the socket calls alone cost for a given traffic pattern, the lower bound
//! of any server that receives and answers each datagram on its own.
//!
//! The runner (`bench/load`) talks to it in JSON lines on stdin/stdout, like the Python side:
//! `{"id":1,"cmd":"hello"}` → `{"id":1,"ok":true,"result":{"port":P,"pid":N}}`; `sample` →
//! `{"datagramsIn":…,"datagramsOut":…,"batches":…}`; `exit` → replies, then exits 0.

use std::io::{BufRead, Write};
use std::mem::{size_of, zeroed};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest datagram echoed whole (bigger ones are truncated by the kernel and counted as usual).
const ROOM: usize = 2048;
/// Receive buffer asked for (Linux caps it at `net.core.rmem_max`), as gamewire's servers do.
const RECV_BUFFER: libc::c_int = 4 * 1024 * 1024;

#[derive(Default)]
struct Counters {
    datagrams_in: AtomicU64,
    datagrams_out: AtomicU64,
    batches: AtomicU64,
    send_errors: AtomicU64,
}

struct Args {
    host: String,
    port: u16,
    batch: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { host: "127.0.0.1".into(), port: 0, batch: 64 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => a.host = value,
            "--port" => a.port = value.parse().map_err(|_| format!("--port: not a port number: {value}"))?,
            "--batch" => {
                a.batch = value.parse().map_err(|_| format!("--batch: not a number: {value}"))?;
                if !(1..=1024).contains(&a.batch) {
                    return Err(format!("--batch must be from 1 to 1024, got {value}"));
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// Receives and echoes forever (the process ends on `exit`).
fn echo(sock: &UdpSocket, batch: usize, c: &Counters) {
    let fd = sock.as_raw_fd();
    let mut bufs = vec![[0u8; ROOM]; batch];
    // SAFETY: sockaddr_storage, iovec and mmsghdr are plain C structs for which all zeroes is valid.
    let mut addrs: Vec<libc::sockaddr_storage> = (0..batch).map(|_| unsafe { zeroed() }).collect();
    let mut iovs: Vec<libc::iovec> = (0..batch).map(|_| unsafe { zeroed() }).collect();
    let mut hdrs: Vec<libc::mmsghdr> = (0..batch).map(|_| unsafe { zeroed() }).collect();
    loop {
        for i in 0..batch {
            iovs[i] = libc::iovec { iov_base: bufs[i].as_mut_ptr().cast(), iov_len: ROOM };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the stated sizes for the whole call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                batch as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            continue; // EINTR and transient errors: try again
        }
        let n = n as usize;
        c.datagrams_in.fetch_add(n as u64, Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
        // Send each datagram back as received: the same buffer, its length, to its source.
        for i in 0..n {
            iovs[i].iov_len = hdrs[i].msg_len as usize;
        }
        let mut sent = 0;
        while sent < n {
            // SAFETY: as above; msg_namelen was set by recvmmsg to the source's length.
            let r = unsafe { libc::sendmmsg(fd, hdrs[sent..].as_mut_ptr(), (n - sent) as libc::c_uint, 0) };
            if r <= 0 {
                // A datagram the kernel refuses (full buffer, unreachable) is skipped, not retried.
                c.send_errors.fetch_add(1, Ordering::Relaxed);
                sent += 1;
                continue;
            }
            sent += r as usize;
            c.datagrams_out.fetch_add(r as u64, Ordering::Relaxed);
        }
    }
}

/// The value of `"key":` in a flat JSON object: a number, or a string without escapes.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = line[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        return s.split('"').next();
    }
    rest.split([',', '}']).next().map(str::trim)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gamewire-bench-floor: {e}");
            std::process::exit(2);
        }
    };
    let sock = match UdpSocket::bind((args.host.as_str(), args.port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gamewire-bench-floor: cannot bind {}:{}: {e}", args.host, args.port);
            std::process::exit(1);
        }
    };
    // SAFETY: a valid socket and an int option value of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&RECV_BUFFER as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        eprintln!("gamewire-bench-floor: SO_RCVBUF: {}", std::io::Error::last_os_error());
    }
    let port = sock.local_addr().map(|a| a.port()).unwrap_or(0);
    let counters = Arc::new(Counters::default());
    {
        let c = Arc::clone(&counters);
        let batch = args.batch;
        std::thread::Builder::new()
            .name("echo".into())
            .spawn(move || echo(&sock, batch, &c))
            .expect("spawn the echo thread");
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let id = field(&line, "id").unwrap_or("0");
        let reply = match field(&line, "cmd") {
            Some("hello") => format!("{{\"id\":{id},\"ok\":true,\"result\":{{\"port\":{port},\"pid\":{}}}}}", std::process::id()),
            Some("sample") => format!(
                "{{\"id\":{id},\"ok\":true,\"result\":{{\"datagramsIn\":{},\"datagramsOut\":{},\"batches\":{},\"sendErrors\":{}}}}}",
                counters.datagrams_in.load(Ordering::Relaxed),
                counters.datagrams_out.load(Ordering::Relaxed),
                counters.batches.load(Ordering::Relaxed),
                counters.send_errors.load(Ordering::Relaxed),
            ),
            Some("exit") => {
                let _ = writeln!(out, "{{\"id\":{id},\"ok\":true,\"result\":null}}");
                let _ = out.flush();
                std::process::exit(0);
            }
            other => format!("{{\"id\":{id},\"ok\":false,\"error\":\"unknown command {}\"}}", other.unwrap_or("")),
        };
        if writeln!(out, "{reply}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    // stdin closed: the runner went away.
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn reads_request_fields() {
        let l = r#"{"id":12,"cmd":"sample","args":null}"#;
        assert_eq!(field(l, "id"), Some("12"));
        assert_eq!(field(l, "cmd"), Some("sample"));
        assert_eq!(field(l, "nope"), None);
    }
}
