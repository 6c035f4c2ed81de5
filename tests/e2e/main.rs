//! End-to-end tests: the official AWS clients against a running emulator.
//!
//! One test binary (see `tests/Cargo.toml`); each module covers one area. Tests wait on
//! conditions with bounds and move time with the emulator's injected clock; none sleeps.

mod aws_cli;
mod cli_reading;
mod cli_tools;
mod esm_kinesis;
mod esm_sqs;
mod explain_redrive;
mod fanout;
mod firehose_api;
mod firehose_delivery;
mod http;
mod kinesis_account;
mod kinesis_api;
mod kinesis_errors;
mod kinesis_resharding;
mod kinesis_resources;
mod lambda_faults;
mod lambda_host;
mod local;
mod local_cli;
mod local_dashboard;
mod local_faults;
mod local_metrics;
mod local_resume;
mod local_watch;
mod persistence;
mod s3_api;
mod s3_boto3;
mod sqs_api;
mod sqs_errors;
mod sqs_peek;
mod sqs_semantics;
mod sqs_size;
mod support;
