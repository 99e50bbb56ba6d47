//! A small HTTP/1.1 load generator for the service benchmark (`cargo run
//! --release --example loadgen`): keep-alive connections, each sending one
//! request at a time, paced to a total rate (0: as fast as answers come).
//!
//! One thread drives every connection through epoll, as wrk and oha do. The
//! first version ran a thread per connection: on the benchmark's two cores,
//! shared with the service, every answer then woke a client thread that
//! preempted the service's worker (a context switch per request on each
//! side, ~20% of the service's samples in the scheduler). Pacing waits in
//! epoll_pwait2 (nanosecond timeout; a timerfd cost two more system calls
//! a request): an async runtime's 1 ms timer tick would send the requests
//! due within each millisecond together, so a paced step would measure
//! bursts of its own making.
//!
//! Latency is measured from when a request was *due*, not when it was
//! sent, so a server that falls behind is charged for the queue it built
//! (no coordinated omission); flat out, a request is due when the previous
//! answer on its connection arrives. Only 127.0.0.1 is accepted: it is a
//! benchmark tool, not a way to load someone else's server.
//!
//! With `tls=CA_FILE` each connection speaks TLS (rustls, the server named
//! `localhost`, the handshake done once when the connection opens, as a
//! keep-alive client does); `auth=TOKEN` sends `Authorization: Bearer`.
//!
//! Usage: loadgen ADDR PATH BODY_FILE CONNECTIONS SECONDS RATE [tls=CA_FILE] [auth=TOKEN]
//! Prints one JSON line: requests, non-2xx, errors, seconds, rps, p50/p90/p99/max ms.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

struct Conn {
    stream: Option<TcpStream>,
    /// The TLS session over `stream` (with `tls=`).
    tls: Option<rustls::ClientConnection>,
    /// When its next request is (or was) due.
    due: Instant,
    in_flight: bool,
    buf: Vec<u8>,
    have: usize,
}

struct Tally {
    latencies_us: Vec<u32>,
    non_2xx: u64,
    errors: u64,
}

struct Poll {
    epoll: i32,
}

impl Poll {
    fn new() -> Poll {
        // SAFETY: a plain system call; failure is checked.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epoll >= 0, "epoll unavailable");
        Poll { epoll }
    }

    fn add(&self, fd: i32, token: u64) {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` outlives the call; fd is open.
        let r = unsafe { libc::epoll_ctl(self.epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) };
        assert_eq!(r, 0, "epoll_ctl");
    }

    /// Ready descriptors' tokens, waiting at most `timeout` (nanosecond
    /// resolution: epoll_pwait2).
    fn wait(&self, events: &mut Vec<libc::epoll_event>, timeout: Duration) {
        let t = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `events` has room for its capacity's worth of entries;
        // epoll_pwait2 fills the first `n`.
        unsafe {
            let n = libc::epoll_pwait2(
                self.epoll,
                events.as_mut_ptr(),
                events.capacity() as i32,
                &t,
                std::ptr::null(),
            );
            events.set_len(n.max(0) as usize);
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 7 {
        eprintln!("usage: loadgen ADDR PATH BODY_FILE CONNECTIONS SECONDS RATE");
        std::process::exit(2);
    }
    let addr = a[1].clone();
    if !addr.starts_with("127.0.0.1:") {
        eprintln!("loadgen: only 127.0.0.1 is allowed");
        std::process::exit(2);
    }
    let body = std::fs::read(&a[3]).expect("read the body file");
    let n_conns: usize = a[4].parse().expect("connections");
    let seconds: f64 = a[5].parse().expect("seconds");
    let rate: f64 = a[6].parse().expect("rate");
    let opt = |k: &str| a[7..].iter().find_map(|x| x.strip_prefix(k));
    let tls = opt("tls=").map(client_config);
    let auth = opt("auth=").map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
        a[2],
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(n_conns as f64 / rate));
    let poll = Poll::new();
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(seconds);
    // Connections start spread over one interval.
    let mut conns: Vec<Conn> = (0..n_conns)
        .map(|c| Conn {
            stream: None,
            tls: None,
            due: start + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / n_conns as f64)),
            in_flight: false,
            buf: vec![0u8; 1 << 16],
            have: 0,
        })
        .collect();
    let mut t = Tally {
        latencies_us: Vec::new(),
        non_2xx: 0,
        errors: 0,
    };
    let mut events = Vec::with_capacity(n_conns + 1);
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Send every request that is due on an idle connection.
        for (c, conn) in conns.iter_mut().enumerate() {
            if conn.in_flight || conn.due > now {
                continue;
            }
            if interval.is_none() {
                conn.due = now;
            }
            if send(conn, c as u64, &poll, &addr, &request, tls.as_ref()).is_err() {
                t.errors += 1;
                conn.stream = None;
                conn.due = now + Duration::from_millis(10);
            }
        }
        // Wait for answers, or until the next request is due.
        let now = Instant::now();
        let next_due = conns.iter().filter(|c| !c.in_flight).map(|c| c.due).min();
        let until = next_due.map_or(end, |d| d.min(end));
        poll.wait(&mut events, until.saturating_duration_since(now));
        for ev in events.drain(..) {
            let conn = &mut conns[ev.u64 as usize];
            match receive(conn) {
                Ok(None) => {}
                Ok(Some(status)) => {
                    let now = Instant::now();
                    if now <= end {
                        t.latencies_us
                            .push((now - conn.due).as_micros().min(u32::MAX as u128) as u32);
                        t.non_2xx += u64::from(!(200..300).contains(&status));
                    }
                    conn.in_flight = false;
                    if let Some(i) = interval {
                        conn.due += i;
                    }
                }
                Err(_) => {
                    t.errors += 1;
                    conn.stream = None;
                    conn.in_flight = false;
                }
            }
        }
    }
    report(t, seconds);
}

/// A TLS client trusting the CA in `ca` (PEM).
fn client_config(ca: &str) -> std::sync::Arc<rustls::ClientConfig> {
    let roots = churn::tls::read_roots(std::path::Path::new(ca), "tls=").expect("the CA file");
    let cfg = rustls::ClientConfig::builder_with_provider(churn::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    std::sync::Arc::new(cfg)
}

/// Plain bytes of a TLS session from a non-blocking socket (WouldBlock
/// when none are there yet; 0 at the end).
fn read_tls(
    c: &mut rustls::ClientConnection,
    s: &mut TcpStream,
    out: &mut [u8],
) -> std::io::Result<usize> {
    loop {
        match c.reader().read(out) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            done => return done,
        }
        if c.read_tls(s)? == 0 {
            return Ok(0);
        }
        c.process_new_packets().map_err(std::io::Error::other)?;
    }
}

/// Send one request on `conn` (connecting first when needed).
fn send(
    conn: &mut Conn,
    token: u64,
    poll: &Poll,
    addr: &str,
    request: &[u8],
    tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
) -> std::io::Result<()> {
    if conn.stream.is_none() {
        let mut s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        conn.tls = match tls {
            None => None,
            Some(cfg) => {
                let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
                let mut c = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(std::io::Error::other)?;
                while c.is_handshaking() {
                    c.complete_io(&mut s)?;
                }
                Some(c)
            }
        };
        s.set_nonblocking(true)?;
        poll.add(s.as_raw_fd(), token);
        conn.stream = Some(s);
    }
    let s = conn.stream.as_mut().expect("connected above");
    if let Some(c) = conn.tls.as_mut() {
        // rustls takes a bounded amount of plain text at a time.
        let mut taken = 0;
        while taken < request.len() || c.wants_write() {
            taken += c.writer().write(&request[taken..])?;
            match c.write_tls(s) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => return Err(e),
            }
        }
        conn.in_flight = true;
        conn.have = 0;
        return Ok(());
    }
    let mut sent = 0;
    while sent < request.len() {
        match s.write(&request[sent..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => return Err(e),
        }
    }
    conn.in_flight = true;
    conn.have = 0;
    Ok(())
}

/// Read what has arrived on `conn`: the status once a whole answer is in.
/// Reads stop as soon as the answer is whole (epoll reports what comes
/// after), so a one-packet answer costs one read, not a second that finds
/// the socket empty.
fn receive(conn: &mut Conn) -> std::io::Result<Option<u16>> {
    let Some(s) = conn.stream.as_mut() else {
        return Ok(None);
    };
    loop {
        if conn.have == conn.buf.len() {
            conn.buf.resize(conn.buf.len() * 2, 0);
        }
        let got = match conn.tls.as_mut() {
            Some(c) => read_tls(c, s, &mut conn.buf[conn.have..]),
            None => s.read(&mut conn.buf[conn.have..]),
        };
        match got {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => conn.have += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
        if !conn.in_flight {
            continue;
        }
        if let Some(status) = whole_answer(&conn.buf[..conn.have]) {
            return Ok(Some(status));
        }
    }
}

/// The status of the answer in `buf`, once all of it is there.
fn whole_answer(buf: &[u8]) -> Option<u16> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + 4 + len).then_some(status)
}

fn report(t: Tally, seconds: f64) {
    let mut lat = t.latencies_us;
    lat.sort_unstable();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(f64::NAN, |&x| x as f64 / 1e3)
    };
    let n = lat.len();
    println!(
        "{{\"requests\": {n}, \"non_2xx\": {}, \"errors\": {}, \"seconds\": {seconds:.3}, \"rps\": {:.1}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"max_ms\": {:.3}}}",
        t.non_2xx,
        t.errors,
        n as f64 / seconds,
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
}
