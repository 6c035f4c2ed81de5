//! `lambda-probe`: a Lambda function built with `lambda_runtime`, for the Runtime API host's
//! tests. The event says what to do: `{"action": "echo" | "noop" | "error" | "panic" | "exit"
//! | "sleep" | "big" | "log" (`lines`: how many) | "env", …}`. With `PROBE_INIT=exit` in its environment it exits before
//! starting the runtime, as a function whose initialisation fails does; with `PROBE_LOG_EVENTS=1`
//! it prints every event it receives as one line `event <json>` (so a test of `riffle local` can
//! read what the mapping delivered from the function's log).

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    if std::env::var("PROBE_LOG_EVENTS").as_deref() == Ok("1") {
        println!("event {payload}");
    }
    match payload["action"].as_str().unwrap_or("echo") {
        "error" => Err(Diagnostic {
            error_type: "OrderRejected".into(),
            error_message: "the probe was asked to fail".into(),
        }),
        "noop" => Ok(Value::Null),
        "panic" => panic!("the probe was asked to panic"),
        "exit" => std::process::exit(3),
        "sleep" => {
            let ms = payload["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({ "slept": ms, "pid": std::process::id() }))
        }
        "big" => {
            let bytes = payload["bytes"].as_u64().unwrap_or(0) as usize;
            Ok(Value::String("x".repeat(bytes)))
        }
        "log" => {
            let lines = payload["lines"].as_u64().unwrap_or(1);
            for _ in 0..lines {
                println!("hello on stdout from {}", context.request_id);
                eprintln!("hello on stderr from {}", context.request_id);
            }
            Ok(json!({ "logged": true }))
        }
        "env" => {
            let names = payload["names"].as_array().cloned().unwrap_or_default();
            let values: serde_json::Map<String, Value> = names
                .iter()
                .filter_map(Value::as_str)
                .map(|name| {
                    (
                        name.to_owned(),
                        std::env::var(name).map_or(Value::Null, Value::String),
                    )
                })
                .collect();
            Ok(json!({
                "env": values,
                "deadline": context.deadline,
                "arn": context.invoked_function_arn,
                "request_id": context.request_id,
                "trace_id": context.xray_trace_id,
            }))
        }
        _ if payload.get("action").is_none() && failing() => Err(Diagnostic {
            error_type: "ProbeFailing".into(),
            error_message: "the probe fails while PROBE_FAIL_FILE exists".into(),
        }),
        _ => Ok(json!({ "echo": payload, "pid": std::process::id() })),
    }
}

/// Whether the file `PROBE_FAIL_FILE` names exists: then every event without an `action` (a
/// Kinesis or SQS event from a mapping) fails, so a test can make a mapping's batches fail and
/// later succeed by creating and removing the file.
fn failing() -> bool {
    std::env::var_os("PROBE_FAIL_FILE").is_some_and(|path| std::path::Path::new(&path).exists())
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var("PROBE_INIT").as_deref() == Ok("exit") {
        eprintln!("probe: failing its initialisation");
        std::process::exit(2);
    }
    lambda_runtime::run(service_fn(handler)).await
}
