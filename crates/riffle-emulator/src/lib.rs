//! An embedded, wire-compatible emulator of Amazon Kinesis Data Streams, Amazon SQS, Amazon
//! Data Firehose (to S3) and the Amazon S3 subset stream deliveries need.
//!
//! The official AWS SDKs and the AWS CLI talk to it unchanged: point their endpoint URL at
//! [`Emulator::endpoint_url`]. It speaks AWS JSON 1.1 (Kinesis) and 1.0 (SQS) over HTTP/1.1
//! and HTTP/2 (cleartext, for clients that stream SubscribeToShard over it) on one port, answers
//! with AWS's error types, enforces AWS's validation (and, with [`Limits::Aws`], AWS's
//! per-shard throughput), reads all time from one injected [`Clock`], and with a data directory survives `kill -9` without
//! losing an acknowledged write.
//!
//! # Layout
//! - [`kinesis`]: the Kinesis API. `kinesis::Action` is its closed set of operations;
//!   `kinesis::store` is pure state that takes `now`, changed only through its `apply`;
//!   `kinesis::api` decodes, validates and encodes, one file per family of operations.
//! - [`sqs`]: the SQS API. `sqs::store` is pure state that takes `now`; `sqs::api` decodes,
//!   validates, long-polls and encodes.
//! - [`firehose`]: the Firehose API (delivery streams to S3) and the in-process handle the
//!   delivery glue reads accepted records through; `firehose::store` is pure state.
//! - [`s3`]: the S3 API (path-style REST with XML), objects stored as files with an
//!   in-memory index.
//! - [`server`]: HTTP routing on `X-Amz-Target`, the health endpoint, start and shutdown.
//! - [`persist`]: snapshot plus write-ahead log with group commit.
//! - [`error`]: AWS error codes and their one wire encoding.
//! - `action`, `request`, `seal`, `model` (crate-private, shared by the services): the macro
//!   that declares a service's `Action` enum, request body decoding, sealed opaque tokens, and
//!   the request checker that walks a service's input shapes from AWS's model.
//! - `clock`: the injected clock, re-exported from the `riffle-clock` crate.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = riffle_emulator::Emulator::start(riffle_emulator::Config::default()).await?;
//! println!("Kinesis endpoint: {}", emulator.endpoint_url());
//! emulator.shutdown().await?;
//! # Ok(()) }
//! ```

mod action;
mod cbor;
pub mod dynamodb;
pub mod error;
pub mod firehose;
pub mod kinesis;
mod model;
pub mod persist;
mod request;
pub mod s3;
mod seal;
pub mod server;
pub mod sqs;
pub mod throttle;

pub use error::{ApiError, ErrorCode};
pub use riffle_clock as clock;
pub use riffle_clock::{Clock, ManualClock, Millis, SystemClock};
pub use server::{Config, Emulator, Limits, StartError};
