//! The Amazon DynamoDB API (first increment: tables and single items).
//!
//! [`Action`] is the closed set of operations, parsed once from `X-Amz-Target`; `model` holds
//! the input shapes the request checker refuses malformed requests with; [`api`] holds
//! [`DynamoDb`], the service, one submodule per family of operations; [`store`] holds tables
//! and their items as pure state, changed only through `DynamoStore::apply`.

mod action;
pub mod api;
mod model;
pub mod store;

pub use action::Action;
pub use api::DynamoDb;
