//! A thread that owns the PostgreSQL connection while a run streams in.
//!
//! The scores thread encodes each chunk's rows (binary COPY, [`super::copy`])
//! and hands the bytes over; this thread keeps one `COPY … FROM STDIN` open
//! for as long as the chunks go to the same table, so the server works on
//! rows without waiting for a chunk's round trip, while the client encodes
//! the next. Rows for the other table (staging) finish the open COPY and
//! start one there. Stopping hands the connection back for the commit.

use super::copy::{HEADER, TRAILER};
use postgres::Client;
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Where a batch of encoded rows goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// The scores table.
    Table,
    /// The staging table of rows whose id may have come before.
    Staging,
}

/// Encoded batches waiting for the server (each is one chunk's rows).
const QUEUE: usize = 2;
/// Bytes handed to the connection at a time.
const PIECE: usize = 64 * 1024;

pub struct Pump {
    tx: SyncSender<(Dest, Vec<u8>)>,
    handle: JoinHandle<(Client, Result<(), String>)>,
}

impl Pump {
    /// Start streaming on `client`; `copy_sql(into)` is the COPY statement
    /// for each target.
    pub fn start(client: Client, copy_sql: [String; 2]) -> Pump {
        let (tx, rx) = sync_channel(QUEUE);
        let handle = std::thread::spawn(move || {
            let mut client = client;
            let result = run(&mut client, &rx, &copy_sql);
            (client, result)
        });
        Pump { tx, handle }
    }

    /// Queue a batch; `false` when the thread stopped on an error (which
    /// [`Pump::stop`] returns).
    pub fn send(&self, into: Dest, bytes: Vec<u8>) -> bool {
        self.tx.send((into, bytes)).is_ok()
    }

    /// Finish the open COPY and hand back the connection, with the first
    /// error the server or the socket gave.
    pub fn stop(self) -> Result<(Client, Result<(), String>), String> {
        drop(self.tx);
        self.handle
            .join()
            .map_err(|_| "the database writer panicked".to_string())
    }
}

fn run(
    client: &mut Client,
    rx: &Receiver<(Dest, Vec<u8>)>,
    copy_sql: &[String; 2],
) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let mut next = rx.recv().ok();
    while let Some((into, bytes)) = next.take() {
        let mut w = client
            .copy_in(&copy_sql[into as usize])
            .map_err(|e| text(&e))?;
        w.write_all(HEADER).map_err(|e| text(&e))?;
        put(&mut w, &bytes)?;
        for (other, bytes) in rx.iter() {
            if other != into {
                next = Some((other, bytes));
                break;
            }
            put(&mut w, &bytes)?;
        }
        w.write_all(&TRAILER).map_err(|e| text(&e))?;
        w.finish().map_err(|e| text(&e))?;
    }
    Ok(())
}

/// Write a batch in pieces: the writer copies each write into its send
/// buffer, which would otherwise grow to a whole batch.
fn put(w: &mut impl Write, bytes: &[u8]) -> Result<(), String> {
    bytes
        .chunks(PIECE)
        .try_for_each(|p| w.write_all(p))
        .map_err(|e| e.to_string())
}
