//! The S3 API: the subset Firehose deliveries and their readers need (buckets, objects with
//! ranges and conditions, listings, copies, multipart uploads), path-style on the emulator's
//! port, with S3's XML bodies and errors.
//!
//! [`api`] addresses and routes requests, one submodule per family of operations; `store`
//! keeps buckets and objects as files with an in-memory index (durable under `--data-dir`);
//! `body` receives request bodies to files (aws-chunked, digests); `xml` is every XML document;
//! `error` is S3's codes, statuses, messages and error document.

pub mod api;
mod body;
pub mod error;
mod store;
mod xml;

pub use api::S3;
pub use error::{S3Code, S3Error};
