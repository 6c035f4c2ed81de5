//! The Amazon Data Firehose API, for delivery streams to S3.
//!
//! [`Action`] is the closed set of operations, parsed once from `X-Amz-Target`; `model` holds
//! the input shapes the request checker refuses malformed requests with; [`api`] holds
//! [`Firehose`], the service, one submodule per family of operations, and the in-process handle
//! the delivery glue reads accepted records through; [`store`] holds delivery streams and their
//! pending records as pure state, changed only through `FirehoseStore::apply`.

mod action;
pub mod api;
mod model;
pub mod store;

pub use action::Action;
pub use api::{DeliveryStreamInfo, Firehose};
