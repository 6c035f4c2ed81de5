//! The Amazon SQS API (AWS JSON 1.0 with the awsQueryCompatible error codes).
//!
//! [`store`] holds queues and messages as pure state, [`api`] decodes, validates and answers
//! requests and runs long polls, `reply` writes the busiest answers' JSON, [`digest`] computes
//! the MD5 digests SQS returns, [`peek`] reads a queue without receiving (Riffle's own route).

mod action;
pub mod api;
pub mod peek;
pub use riffle_core::digest;
mod reply;
pub mod store;

pub use action::Action;
pub use api::{RequestContext, Sqs};
