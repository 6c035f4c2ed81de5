//! In-memory models of a delivery stream's boundaries, for tests: accepted records
//! ([`MemoryRecords`]) and an object store ([`MemoryObjects`]) that can be told to fail.
//!
//! Invariant: they behave as the boundary traits promise — records stay until acknowledged,
//! `arrival` never misses a record put after it was asked.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use riffle_core::firehose::delivery::SourceRecord;
use tokio::sync::watch;

use super::source::{ObjectSink, PutObject, RecordSource};

/// Records put into a delivery stream, kept until acknowledged.
#[derive(Debug)]
pub struct MemoryRecords {
    records: Mutex<VecDeque<SourceRecord>>,
    acknowledged: Mutex<u64>,
    next: watch::Sender<u64>,
}

impl Default for MemoryRecords {
    fn default() -> Self {
        Self {
            records: Mutex::default(),
            acknowledged: Mutex::default(),
            next: watch::channel(0).0,
        }
    }
}

impl MemoryRecords {
    /// Accepts `data` arriving at `arrival`, with the next position; returns the position.
    pub fn put(&self, record_id: &str, data: &[u8], arrival: u64) -> u64 {
        let mut records = self.records.lock().expect("records lock");
        let position = *self.next.borrow();
        records.push_back(SourceRecord {
            position,
            record_id: record_id.to_owned(),
            arrival,
            data: data.to_vec(),
            kinesis: None,
        });
        self.next.send_replace(position + 1);
        position
    }

    /// Records not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.records.lock().expect("records lock").len()
    }

    /// Every position below this was acknowledged.
    pub fn acknowledged(&self) -> u64 {
        *self.acknowledged.lock().expect("acknowledged lock")
    }
}

impl RecordSource for MemoryRecords {
    async fn read(&self, from: u64, max: usize) -> Result<Vec<SourceRecord>, String> {
        let records = self.records.lock().expect("records lock");
        Ok(records
            .iter()
            .filter(|r| r.position >= from)
            .take(max)
            .cloned()
            .collect())
    }

    async fn acknowledge(&self, below: u64) -> Result<(), String> {
        let mut records = self.records.lock().expect("records lock");
        while records.front().is_some_and(|r| r.position < below) {
            records.pop_front();
        }
        let mut acknowledged = self.acknowledged.lock().expect("acknowledged lock");
        *acknowledged = (*acknowledged).max(below);
        Ok(())
    }

    async fn arrival(&self, from: u64) {
        let mut next = self.next.subscribe();
        // `wait_for` checks the current value first, so a put before the call is seen.
        let _ = next.wait_for(|next| *next > from).await;
    }
}

/// Objects written, by bucket and key; writes fail while [`MemoryObjects::fail_writes`] says so.
#[derive(Debug, Clone, Default)]
pub struct MemoryObjects {
    objects: Arc<Mutex<BTreeMap<(String, String), PutObject>>>,
    failing: Arc<Mutex<Option<String>>>,
    attempts: Arc<Mutex<u64>>,
}

impl MemoryObjects {
    /// From now on every write fails with `error` (`None`: writes succeed again).
    pub fn fail_writes(&self, error: Option<&str>) {
        *self.failing.lock().expect("failing lock") = error.map(str::to_owned);
    }

    /// Every object written, in key order.
    pub fn objects(&self) -> Vec<PutObject> {
        self.objects
            .lock()
            .expect("objects lock")
            .values()
            .cloned()
            .collect()
    }

    /// Writes attempted, failed ones included.
    pub fn attempts(&self) -> u64 {
        *self.attempts.lock().expect("attempts lock")
    }
}

impl ObjectSink for MemoryObjects {
    async fn put(&self, object: PutObject) -> Result<(), String> {
        *self.attempts.lock().expect("attempts lock") += 1;
        if let Some(error) = self.failing.lock().expect("failing lock").clone() {
            return Err(error);
        }
        self.objects
            .lock()
            .expect("objects lock")
            .insert((object.bucket.clone(), object.key.clone()), object);
        Ok(())
    }
}
