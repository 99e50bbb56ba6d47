//! A small HTTP/1.1 load generator for the service benchmark (`cargo run
//! --release --example loadgen`): keep-alive connections, each sending one
//! request at a time, paced to a total rate (0: as fast as answers come).
//! One OS thread per connection, paced with the system's sleep (tens of
//! microseconds late at most): an async runtime's 1 ms timer tick sent the
//! requests due within each millisecond together, so a paced step measured
//! bursts of its own making.
//! Latency is measured from when a request was *due*, not when it was
//! sent, so a server that falls behind is charged for the queue it built
//! (no coordinated omission). Only 127.0.0.1 is accepted: it is a
//! benchmark tool, not a way to load someone else's server.
//!
//! Usage: loadgen ADDR PATH BODY_FILE CONNECTIONS SECONDS RATE
//! Prints one JSON line: requests, non-2xx, errors, seconds, rps, p50/p90/p99/max ms.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Tally {
    latencies_us: Vec<u32>,
    non_2xx: u64,
    errors: u64,
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
    let conns: usize = a[4].parse().expect("connections");
    let seconds: f64 = a[5].parse().expect("seconds");
    let rate: f64 = a[6].parse().expect("rate");
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        a[2],
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let request = Arc::new(request);
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(seconds);
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(conns as f64 / rate));
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let (request, addr) = (request.clone(), addr.clone());
            // Connections start spread over one interval.
            let offset = interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / conns as f64));
            std::thread::spawn(move || connection(&addr, &request, start + offset, end, interval))
        })
        .collect();
    let tallies: Vec<Tally> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let took = start.elapsed();
    let mut lat: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(f64::NAN, |&x| x as f64 / 1e3)
    };
    let n = lat.len();
    let secs = took.as_secs_f64().min(seconds).max(1e-9);
    println!(
        "{{\"requests\": {n}, \"non_2xx\": {}, \"errors\": {}, \"seconds\": {secs:.3}, \"rps\": {:.1}, \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"max_ms\": {:.3}}}",
        tallies.iter().map(|t| t.non_2xx).sum::<u64>(),
        tallies.iter().map(|t| t.errors).sum::<u64>(),
        n as f64 / secs,
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

fn connection(
    addr: &str,
    request: &[u8],
    first: Instant,
    end: Instant,
    interval: Option<Duration>,
) -> Tally {
    let mut t = Tally {
        latencies_us: Vec::new(),
        non_2xx: 0,
        errors: 0,
    };
    let mut stream: Option<TcpStream> = None;
    let mut buf = vec![0u8; 1 << 16];
    let mut due = first;
    sleep_until(first);
    while Instant::now() < end {
        match interval {
            Some(_) => sleep_until(due),
            None => due = Instant::now(),
        }
        if stream.is_none() {
            match TcpStream::connect(addr) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(_) => {
                    t.errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
        }
        let s = stream.as_mut().unwrap();
        match exchange(s, request, &mut buf) {
            Ok(status) => {
                t.latencies_us
                    .push(due.elapsed().as_micros().min(u32::MAX as u128) as u32);
                t.non_2xx += u64::from(!(200..300).contains(&status));
            }
            Err(_) => {
                t.errors += 1;
                stream = None;
            }
        }
        if let Some(i) = interval {
            due += i;
        }
    }
    t
}

/// Send one request and read its whole answer; the status code.
fn exchange(s: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> std::io::Result<u16> {
    s.write_all(request)?;
    let mut have = 0;
    loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = s.read(&mut buf[have..])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
        let Some(head_end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
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
        let total = head_end + 4 + len;
        while have < total {
            if have == buf.len() {
                buf.resize(total.max(buf.len() * 2), 0);
            }
            let n = s.read(&mut buf[have..])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            have += n;
        }
        return Ok(status);
    }
}
