//! Kinesis mappings: the performer of `riffle_core::kinesis::shard` ([`mapping`]: one task per
//! shard, children after parents), the stream boundary it reads through ([`source`]) and its
//! in-memory model ([`memory`]). Its SQS counterpart is [`crate::sqs`], module for module.

pub mod mapping;
pub mod memory;
pub mod source;
