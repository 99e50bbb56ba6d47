//! The access log: one line per request on stderr, written by a thread of
//! its own. A request hands its line over a bounded channel and goes on;
//! the writer drains whatever is waiting and writes it in one system call.
//! Writing each line from the request's thread cost more than scoring a
//! customer (a locked, unbuffered stderr write per request: 31k → 73k
//! empty requests/s without it on the benchmark machine).
//!
//! Should the writer fall behind by more than [`CAPACITY`] lines (stderr
//! blocked), lines are counted as dropped (`/metrics`) rather than making
//! requests wait.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};

/// Lines that may wait for the writer.
pub const CAPACITY: usize = 65_536;

pub struct AccessLog {
    tx: Option<SyncSender<Message>>,
    dropped: AtomicU64,
}

enum Message {
    Line(String),
    /// Write what waits, then answer.
    Flush(SyncSender<()>),
}

impl AccessLog {
    /// A log writing to stderr (`enabled`), or one that writes nothing.
    pub fn new(enabled: bool) -> AccessLog {
        let tx = enabled.then(|| {
            let (tx, rx) = sync_channel::<Message>(CAPACITY);
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(1 << 16);
                let mut next = rx.recv();
                while let Ok(m) = next {
                    let done = match m {
                        Message::Line(line) => {
                            buf.extend_from_slice(line.as_bytes());
                            None
                        }
                        Message::Flush(done) => Some(done),
                    };
                    next = rx.try_recv().map_err(|_| std::sync::mpsc::RecvError);
                    if next.is_err() || done.is_some() || buf.len() > 1 << 20 {
                        let _ = std::io::stderr().lock().write_all(&buf);
                        buf.clear();
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                        if next.is_err() {
                            next = rx.recv();
                        }
                    }
                }
            });
            tx
        });
        AccessLog {
            tx,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queue one line (ending in a newline).
    pub fn write(&self, line: String) {
        if let Some(tx) = &self.tx {
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                tx.try_send(Message::Line(line))
            {
                self.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Wait until every line queued so far is written (at shutdown).
    pub fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done, wait) = sync_channel(1);
            if tx.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(std::time::Duration::from_secs(5));
            }
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
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
