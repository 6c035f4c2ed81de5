//! SubscribeToShard from two clients no one here wrote: boto3 (HTTP/1.1, chunked event stream)
//! and the AWS SDK for JavaScript v3 (HTTP/2 cleartext with prior knowledge), each running a
//! script next to this file against an in-process emulator.
//!
//! `RIFFLE_PYTHON` must name a Python with boto3 and `RIFFLE_JS_SDK` a directory whose
//! `node_modules` holds `@aws-sdk/client-kinesis` (`make test` installs both under `target/`
//! and sets them); these tests fail, never skip, when either is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::register;
use crate::support::{self, create_stream, kinesis};

/// How long one client script may take before the test kills it and fails.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(60);

fn required_env(name: &str, what: &str) -> PathBuf {
    match std::env::var_os(name).filter(|v| !v.is_empty()) {
        Some(value) => PathBuf::from(value),
        None => panic!(
            "{name} is not set. This test needs {what}: run `make test`, which installs it under \
             target/ and sets {name}"
        ),
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("e2e/fanout")
        .join(name)
}

/// Runs `command` to completion within the deadline, with no AWS settings of this machine's
/// (no `AWS_*` variables, no config or credentials files, no instance metadata); its stdout as
/// JSON.
async fn run(mut command: tokio::process::Command) -> Value {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let output = tokio::time::timeout(SCRIPT_DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{command:?} did not finish within {SCRIPT_DEADLINE:?}"))
        .expect("the script runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed:\n{stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{command:?} printed no JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A stream `orders` holding r0 and r1, a consumer, and the emulator's endpoint.
async fn fixture() -> (riffle_emulator::Emulator, aws_sdk_kinesis::Client, String) {
    let (emulator, client) = support::start().await;
    create_stream(&client, "orders", 1).await;
    let consumer = register(&client, "script").await;
    for data in ["r0", "r1"] {
        kinesis::try_put(&client, "orders", "k", data)
            .await
            .unwrap();
    }
    (emulator, client, consumer)
}

/// What every script must have seen: four records in order, a continuation on every event, the
/// last one the sequence number of r3, and a second subscription refused.
async fn check(client: &aws_sdk_kinesis::Client, answer: &Value) {
    assert_eq!(
        answer["received"],
        serde_json::json!(["r0", "r1", "r2", "r3"]),
        "{answer}"
    );
    let continuations = answer["continuations"].as_array().unwrap();
    assert!(continuations.iter().all(Value::is_string), "{answer}");
    let records = kinesis::read_to_tip(client, "orders", kinesis::SHARD_0).await;
    assert_eq!(
        continuations.last().unwrap(),
        records.last().unwrap().sequence_number(),
        "{answer}"
    );
    assert_eq!(answer["second"], "ResourceInUseException", "{answer}");
}

#[tokio::test]
async fn boto3_subscribe_to_shard_over_http1() {
    let python = required_env("RIFFLE_PYTHON", "a Python with boto3");
    let (emulator, client, consumer) = fixture().await;
    let mut command = tokio::process::Command::new(python);
    command
        .arg(script("boto3_subscribe.py"))
        .arg(emulator.endpoint_url())
        .arg(&consumer);
    let answer = run(command).await;
    check(&client, &answer).await;
}

#[tokio::test]
async fn javascript_sdk_subscribe_to_shard_over_h2c() {
    let sdk = required_env(
        "RIFFLE_JS_SDK",
        "a directory whose node_modules holds @aws-sdk/client-kinesis",
    );
    let (emulator, client, consumer) = fixture().await;
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script("js_subscribe.cjs"))
        .arg(emulator.endpoint_url())
        .arg(&consumer)
        .env("NODE_PATH", sdk.join("node_modules"));
    let answer = run(command).await;
    check(&client, &answer).await;
}
