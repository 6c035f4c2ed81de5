//! The boundaries of a delivery stream: where its accepted records come from
//! ([`RecordSource`]) and where its objects go ([`ObjectSink`]).
//!
//! Invariant: a source hands out records in position order and keeps each until it is
//! acknowledged, so a delivery that stops (a crash, a shutdown) resumes from the first record
//! not yet settled.

use std::future::Future;

use riffle_core::firehose::delivery::SourceRecord;

/// The records a delivery stream accepted and has not yet delivered.
pub trait RecordSource: Send + Sync + 'static {
    /// Up to `max` records at position `from` or later, oldest first.
    fn read(
        &self,
        from: u64,
        max: usize,
    ) -> impl Future<Output = Result<Vec<SourceRecord>, String>> + Send;
    /// Every record below position `below` is delivered: forget it (durably).
    fn acknowledge(&self, below: u64) -> impl Future<Output = Result<(), String>> + Send;
    /// Resolves once a record at position `from` or later may be there (at once if one is).
    fn arrival(&self, from: u64) -> impl Future<Output = ()> + Send;
}

/// One object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObject {
    /// Bucket name.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Body.
    pub body: Vec<u8>,
    /// `Content-Encoding` to store.
    pub content_encoding: Option<&'static str>,
}

/// Where a delivery stream's objects go (S3, through the SDK or in process).
pub trait ObjectSink: Clone + Send + Sync + 'static {
    /// PutObject; `Err` is the store's error, for the journal (the write is retried).
    fn put(&self, object: PutObject) -> impl Future<Output = Result<(), String>> + Send;
}
