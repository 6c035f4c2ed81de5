//! Runs the very `bootstrap` binaries that deploy to Lambda, locally: a Lambda Runtime API host
//! per function, execution environments as child processes managed the way Lambda manages them
//! (created on demand, reused warm, killed and replaced after a timeout or crash, capped by
//! reserved concurrency), and their logs captured per request id.
//!
//! - [`function`]: [`LocalFunction`], the pool and the invoker (`tower::Service<InvokeRequest>`).
//! - [`histogram`]: the buckets of a function's invocation durations.
//! - [`api`]: the Runtime API endpoints the environments call.
//! - [`invoke_api`]: Lambda's Invoke API over the local functions.
//! - [`logs`]: captured function output and Lambda's START / END / REPORT lines.
//!
//! Invariant: whatever a function does — answers, errs, panics, exits, hangs, floods its
//! response — the invoker answers with exactly one `riffle_core::invocation::Outcome`, and a failed
//! environment is never reused.

pub mod api;
pub mod function;
pub mod histogram;
pub mod invoke_api;
pub mod logs;
pub mod router;

pub use function::{FunctionConfig, FunctionStats, LocalFunction};
pub use histogram::{DURATION_BUCKETS_MS, DurationHistogram};
pub use logs::{LogLine, LogSource, Logs};

/// Variables Lambda reserves: a function's Environment cannot override them.
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];
