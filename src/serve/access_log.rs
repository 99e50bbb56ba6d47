//! The access log: one line per request on stderr, written by a thread of
//! its own. A request appends its line to a shared buffer (a short locked
//! copy) and goes on; the writer wakes every [`FLUSH_EVERY`], takes what
//! has gathered and writes it in one system call. Lines reach stderr at
//! most that late.
//!
//! Why this shape: writing each line from the request's thread cost more
//! than scoring a customer (a locked, unbuffered stderr write per request:
//! 31k → 73k empty requests/s without it on the benchmark machine); handing
//! each line to the writer over a channel woke the writer once per request
//! and freed every line on another thread than the one that made it
//! (glibc's allocator then locks the maker's arena): 8% of the service's
//! CPU in futex calls and allocator locks at 10k requests/s.
//!
//! Should stderr block so that more than [`MAX_PENDING`] bytes wait, lines
//! are counted as dropped (`/metrics`) rather than making requests wait.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the writer takes the gathered lines.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Bytes that may wait for the writer (about 100,000 lines).
pub const MAX_PENDING: usize = 8 << 20;

pub struct AccessLog {
    pending: Option<Arc<Buffers>>,
    dropped: AtomicU64,
}

/// Lines gathering, and the lines being written (its lock keeps the writer
/// thread and a final flush in order).
#[derive(Default)]
struct Buffers {
    pending: Mutex<Vec<u8>>,
    out: Mutex<Vec<u8>>,
}

impl AccessLog {
    /// A log writing to stderr (`enabled`), or one that writes nothing.
    pub fn new(enabled: bool) -> AccessLog {
        let pending = enabled.then(|| {
            let pending = Arc::new(Buffers::default());
            let shared = Arc::downgrade(&pending);
            std::thread::spawn(move || {
                // Ends when the log is dropped.
                while shared.strong_count() > 0 {
                    std::thread::sleep(FLUSH_EVERY);
                    if let Some(b) = shared.upgrade() {
                        b.write_out();
                    }
                }
            });
            pending
        });
        AccessLog {
            pending,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.pending.is_some()
    }

    /// Queue one line (ending in a newline).
    pub fn write(&self, line: &str) {
        if let Some(p) = &self.pending {
            let mut buf = lock(&p.pending);
            if buf.len() + line.len() > MAX_PENDING {
                self.dropped.fetch_add(1, Relaxed);
            } else {
                buf.extend_from_slice(line.as_bytes());
            }
        }
    }

    /// Write every line queued so far (at shutdown).
    pub fn flush(&self) {
        if let Some(p) = &self.pending {
            p.write_out();
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

impl Buffers {
    /// Swap the gathered lines out (so requests never wait on stderr) and
    /// write them.
    fn write_out(&self) {
        let mut out = lock(&self.out);
        std::mem::swap(&mut *lock(&self.pending), &mut *out);
        if !out.is_empty() {
            let _ = std::io::stderr().lock().write_all(&out);
            out.clear();
        }
    }
}

fn lock(m: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current UTC time to the second, formatted once per second per thread.
pub fn now() -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        if l.0 != secs {
            *l = (secs, crate::artifact::format_time(secs).0);
        }
        l.1.clone()
    })
}
