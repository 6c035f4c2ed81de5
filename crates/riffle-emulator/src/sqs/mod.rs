//! The Amazon SQS API (AWS JSON 1.0 with the awsQueryCompatible error codes).
//!
//! [`Action`] names the operations; `api` holds [`Sqs`], the service, its one dispatch and a module
//! per family of actions; [`store`] holds queues and messages as pure state. Around them:
//! `attributes` validates queue attributes, `message` builds messages from send entries,
//! `receipt` seals and opens receipt handles, `long_poll` wakes waiting receives, `reply` writes
//! the busiest answers' JSON, [`digest`] computes the MD5 digests SQS returns, [`peek`] reads a
//! queue without receiving (Riffle's own route).

mod action;
mod api;
mod attributes;
mod long_poll;
mod message;
pub mod peek;
mod receipt;
pub use riffle_core::digest;
mod reply;
pub mod store;

pub use action::Action;
pub use api::{RequestContext, Sqs};
