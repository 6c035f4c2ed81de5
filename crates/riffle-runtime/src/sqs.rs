//! SQS mappings: the performer of `riffle_core::sqs::poller` ([`mapping`]: one task per poller,
//! as many as the scaler says), the queue boundary it polls through ([`source`]) and its
//! in-memory model ([`memory`]). Its Kinesis counterpart is [`crate::kinesis`], module for
//! module.

pub mod mapping;
pub mod memory;
pub mod source;
