//! Durability: a snapshot plus a write-ahead log in the data directory, with group commit.
//!
//! Layout of `--data-dir`: `snapshot.bin` (the whole state as of the last start or clean stop)
//! and `wal.log` (every mutation since, in order). Both begin with the magic `RIFFLEDB` and a
//! format version; a file of another version is refused with a message saying so. A log frame is
//! `[u32 length][u32 CRC-32][postcard (lsn, time, entry)]`, little-endian.
//!
//! Invariants: a mutation is applied in memory and appended to the log under the store's lock,
//! so the log order is the apply order; a client is answered only after the frame holding its
//! mutation has been written and `fsync`ed (a background thread writes and syncs everything
//! pending at once, which is the group commit); records become visible to readers only once
//! durable; on start a torn tail frame (a write that was never acknowledged) is discarded.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::Millis;
use crate::dynamodb::store::{DynamoStore, Mutation as DynamoMutation};
use crate::error::{ApiError, ApiResult};
use crate::firehose::store::{FirehoseStore, Mutation as FirehoseMutation};
use crate::kinesis::store::{KinesisStore, Mutation};
use crate::sqs::store::{Mutation as SqsMutation, SqsStore};

const MAGIC: &[u8; 8] = b"RIFFLEDB";
/// Version of the snapshot and log formats this build writes and reads.
/// Version 2: streams carry their enhanced fan-out consumers.
/// Version 3: streams carry resource policies and their scaling history.
/// Version 4: the Kinesis store carries the account settings.
/// Version 5: records carry their stream-wide sequence index (AWS's sequence number layout).
/// Version 6: streams carry the resharding they are `UPDATING` for.
/// Version 7: the state carries Firehose delivery streams and their undelivered records.
/// Version 8: the state carries DynamoDB tables and their items.
pub const FORMAT_VERSION: u32 = 8;
const SNAPSHOT: &str = "snapshot.bin";
const LOG: &str = "wal.log";

/// Everything the emulator persists.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    /// Kinesis streams, shards and records.
    pub kinesis: KinesisStore,
    /// SQS queues and messages.
    pub sqs: SqsStore,
    /// Firehose delivery streams and their undelivered records.
    pub firehose: FirehoseStore,
    /// DynamoDB tables and their items.
    pub dynamodb: DynamoStore,
}

/// Borrowed form of [`State`] for writing a snapshot under the store lock; encodes identically.
#[derive(Debug, Serialize)]
pub struct StateRef<'a> {
    /// Kinesis streams, shards and records.
    pub kinesis: &'a KinesisStore,
    /// SQS queues and messages.
    pub sqs: &'a SqsStore,
    /// Firehose delivery streams and their undelivered records.
    pub firehose: &'a FirehoseStore,
    /// DynamoDB tables and their items.
    pub dynamodb: &'a DynamoStore,
}

/// One logged mutation.
#[derive(Debug, Serialize, Deserialize)]
pub enum Entry {
    /// A Kinesis mutation.
    Kinesis(Mutation),
    /// SQS facts.
    Sqs(SqsMutation),
    /// A Firehose mutation (boxed: a configuration is large beside the other entries).
    Firehose(Box<FirehoseMutation>),
    /// A DynamoDB mutation (boxed: an item is large beside the other entries).
    DynamoDb(Box<DynamoMutation>),
}

#[derive(Debug, Serialize)]
struct FrameRef<'a> {
    lsn: u64,
    time: Millis,
    entry: EntryRef<'a>,
}

/// Borrowed form of [`Entry`] for appending; encodes identically.
#[derive(Debug, Serialize)]
pub enum EntryRef<'a> {
    /// A Kinesis mutation.
    Kinesis(&'a Mutation),
    /// SQS facts.
    Sqs(&'a SqsMutation),
    /// A Firehose mutation.
    Firehose(&'a FirehoseMutation),
    /// A DynamoDB mutation.
    DynamoDb(&'a DynamoMutation),
}

#[derive(Debug, Deserialize)]
struct Frame {
    lsn: u64,
    time: Millis,
    entry: Entry,
}

/// Errors opening a data directory.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Reading or writing the directory failed.
    #[error("data directory {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The files were written by an incompatible version.
    #[error(
        "{path} was written in data format version {found}; this riffle reads version \
         {FORMAT_VERSION}. Use the riffle release that wrote it, or start with an empty --data-dir"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// A file is not a Riffle data file or is damaged.
    #[error("{path} is not a readable riffle data file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OpenError + '_ {
    move |source| OpenError::Io {
        path: path.to_owned(),
        source,
    }
}

struct Pending {
    buffer: Vec<u8>,
    last_lsn: u64,
    next_lsn: u64,
    stop: bool,
}

/// A reserved log position (see [`Wal::reserve`]); dropping it logs nothing.
pub struct Reservation<'a> {
    wal: &'a Wal,
    pending: std::sync::MutexGuard<'a, Pending>,
}

impl Reservation<'_> {
    /// The position the appended entry will have.
    pub fn lsn(&self) -> u64 {
        self.pending.next_lsn
    }

    /// Appends `entry`, applied at `now`, at the reserved position.
    pub fn append(self, now: Millis, entry: EntryRef<'_>) {
        let frame = self.frame(now, entry);
        self.commit(frame);
    }

    /// Encodes `entry`, applied at `now`, as the frame for the reserved position, without
    /// logging it yet: a store that consumes its mutation encodes first, applies, and only then
    /// [`commit`](Self::commit)s, so a mutation that fails to apply is never logged.
    pub fn frame(&self, now: Millis, entry: EntryRef<'_>) -> EncodedFrame {
        let frame = FrameRef {
            lsn: self.pending.next_lsn,
            time: now,
            entry,
        };
        EncodedFrame(postcard::to_allocvec(&frame).expect("mutations always encode"))
    }

    /// Logs a frame encoded by [`frame`](Self::frame) at the reserved position.
    pub fn commit(mut self, frame: EncodedFrame) {
        let payload = frame.0;
        let lsn = self.pending.next_lsn;
        let buffer = &mut self.pending.buffer;
        buffer.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        buffer.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        buffer.extend_from_slice(&payload);
        self.pending.last_lsn = lsn;
        self.pending.next_lsn = lsn + 1;
        drop(self.pending);
        self.wal.wake.notify_one();
    }
}

/// An encoded log entry for one reserved position (see [`Reservation::frame`]).
#[derive(Debug)]
pub struct EncodedFrame(Vec<u8>);

/// The write-ahead log of a running emulator.
pub struct Wal {
    dir: PathBuf,
    pending: Mutex<Pending>,
    wake: Condvar,
    durable: AtomicU64,
    durable_tx: watch::Sender<u64>,
    failed: Mutex<Option<String>>,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Opens `dir`: loads the snapshot, replays the log, writes a fresh snapshot, starts a new log.
///
/// `fresh` builds the state for an empty directory.
pub fn open(dir: &Path, fresh: impl FnOnce() -> State) -> Result<(State, Arc<Wal>), OpenError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let snapshot_path = dir.join(SNAPSHOT);
    let mut state = match fs::read(&snapshot_path) {
        Ok(bytes) => {
            let body = check_header(&snapshot_path, &bytes)?;
            postcard::from_bytes(body).map_err(|e| OpenError::Corrupt {
                path: snapshot_path.clone(),
                reason: e.to_string(),
            })?
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => fresh(),
        Err(e) => return Err(io_err(&snapshot_path)(e)),
    };
    let log_path = dir.join(LOG);
    let mut last_lsn = 0;
    match File::open(&log_path) {
        Ok(file) => {
            let replayed = replay(&log_path, file, &mut state)?;
            last_lsn = replayed;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&log_path)(e)),
    }
    write_snapshot(
        dir,
        &StateRef {
            kinesis: &state.kinesis,
            sqs: &state.sqs,
            firehose: &state.firehose,
            dynamodb: &state.dynamodb,
        },
    )?;
    let mut log = File::create(&log_path).map_err(io_err(&log_path))?;
    log.write_all(&header())
        .and_then(|()| log.sync_all())
        .map_err(io_err(&log_path))?;
    sync_dir(dir)?;
    let (durable_tx, _) = watch::channel(last_lsn);
    let wal = Arc::new(Wal {
        dir: dir.to_owned(),
        pending: Mutex::new(Pending {
            buffer: Vec::new(),
            last_lsn,
            next_lsn: last_lsn + 1,
            stop: false,
        }),
        wake: Condvar::new(),
        durable: AtomicU64::new(last_lsn),
        durable_tx,
        failed: Mutex::new(None),
        flusher: Mutex::new(None),
    });
    let worker = Arc::clone(&wal);
    let handle = std::thread::Builder::new()
        .name("riffle-wal".into())
        .spawn(move || worker.flush_loop(log))
        .map_err(io_err(dir))?;
    *wal.flusher.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    Ok((state, wal))
}

fn header() -> Vec<u8> {
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header
}

fn check_header<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8], OpenError> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(OpenError::Corrupt {
            path: path.to_owned(),
            reason: "bad magic".into(),
        });
    }
    let found = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if found != FORMAT_VERSION {
        return Err(OpenError::Version {
            path: path.to_owned(),
            found,
        });
    }
    Ok(&bytes[12..])
}

/// Applies every intact frame of the log; returns the last LSN applied.
fn replay(path: &Path, file: File, state: &mut State) -> Result<u64, OpenError> {
    let mut bytes = Vec::new();
    BufReader::new(file)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.is_empty() {
        return Ok(0);
    }
    let mut rest = check_header(path, &bytes)?;
    let mut last = 0;
    while rest.len() >= 8 {
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        let Some(payload) = rest.get(8..8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let frame: Frame = postcard::from_bytes(payload).map_err(|e| OpenError::Corrupt {
            path: path.to_owned(),
            reason: format!("frame after LSN {last}: {e}"),
        })?;
        match frame.entry {
            Entry::Kinesis(mutation) => {
                if let Err(e) = state.kinesis.apply(frame.time, mutation, 0) {
                    tracing::warn!(lsn = frame.lsn, error = %e, "logged mutation no longer applies");
                }
            }
            Entry::Sqs(mutation) => state.sqs.apply(frame.time, &mutation),
            Entry::Firehose(mutation) => {
                if let Err(e) = state.firehose.apply(frame.time, *mutation, 0) {
                    tracing::warn!(lsn = frame.lsn, error = %e, "logged mutation no longer applies");
                }
            }
            Entry::DynamoDb(mutation) => {
                if let Err(e) = state.dynamodb.apply(frame.time, *mutation) {
                    tracing::warn!(lsn = frame.lsn, error = %e, "logged mutation no longer applies");
                }
            }
        }
        last = frame.lsn;
        rest = &rest[8 + len..];
    }
    if !rest.is_empty() {
        tracing::warn!(
            bytes = rest.len(),
            "discarded a torn write at the end of the log"
        );
    }
    Ok(last)
}

/// Writes `state` to `snapshot.bin` atomically (temporary file, fsync, rename, fsync dir).
pub fn write_snapshot(dir: &Path, state: &StateRef<'_>) -> Result<(), OpenError> {
    let path = dir.join(SNAPSHOT);
    let tmp = dir.join("snapshot.bin.tmp");
    let mut bytes = header();
    let body = postcard::to_allocvec(state).map_err(|e| OpenError::Corrupt {
        path: path.clone(),
        reason: format!("encoding snapshot: {e}"),
    })?;
    bytes.extend_from_slice(&body);
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), OpenError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl Wal {
    /// Reserves the next log position. Until the reservation is appended or dropped no other
    /// entry can be logged, so a store can stamp records with the position their frame will
    /// have. Take it under the store's lock, apply, then [`Reservation::append`].
    pub fn reserve(&self) -> Reservation<'_> {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        Reservation { wal: self, pending }
    }

    /// Follows the highest LSN known to be on disk (enhanced fan-out waits on it).
    pub fn durable_watch(&self) -> watch::Receiver<u64> {
        self.durable_tx.subscribe()
    }

    /// The highest LSN known to be on disk.
    pub fn durable_lsn(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Waits until `lsn` is on disk.
    pub async fn wait_durable(&self, lsn: u64) -> ApiResult<()> {
        let mut rx = self.durable_tx.subscribe();
        loop {
            if *rx.borrow_and_update() >= lsn {
                return Ok(());
            }
            if let Some(reason) = self
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return Err(ApiError::internal(format!(
                    "persisting the request failed: {reason}"
                )));
            }
            if rx.changed().await.is_err() {
                return Err(ApiError::internal("the write-ahead log stopped"));
            }
        }
    }

    fn flush_loop(&self, mut log: File) {
        loop {
            let (buffer, last_lsn, stop) = {
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                while pending.buffer.is_empty() && !pending.stop {
                    pending = self.wake.wait(pending).unwrap_or_else(|p| p.into_inner());
                }
                (
                    std::mem::take(&mut pending.buffer),
                    pending.last_lsn,
                    pending.stop,
                )
            };
            if !buffer.is_empty() {
                if let Err(e) = log.write_all(&buffer).and_then(|()| log.sync_data()) {
                    tracing::error!(error = %e, "writing the write-ahead log failed");
                    *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    self.durable_tx.send_replace(self.durable_lsn());
                    return;
                }
                self.durable.store(last_lsn, Ordering::Release);
                self.durable_tx.send_replace(last_lsn);
            }
            if stop {
                return;
            }
        }
    }

    /// Flushes everything pending, stops the log thread, and writes a snapshot of `state` so the
    /// next start does not replay the log.
    pub fn close(&self, state: &StateRef<'_>) -> Result<(), OpenError> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        self.wake.notify_one();
        if let Some(handle) = self
            .flusher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = handle.join();
        }
        write_snapshot(&self.dir, state)?;
        let log_path = self.dir.join(LOG);
        let mut log = File::create(&log_path).map_err(io_err(&log_path))?;
        log.write_all(&header())
            .and_then(|()| log.sync_all())
            .map_err(io_err(&log_path))?;
        sync_dir(&self.dir)
    }
}
