//! boto3 (with s3transfer's multipart uploads and downloads) against the emulator's S3, by
//! running `s3_boto3.py` next to this file. `RIFFLE_PYTHON` must name a Python with boto3
//! (`make test` sets it); the test fails, never skips, when it is missing.

use std::path::Path;
use std::time::Duration;

use riffle_emulator::{Config, Emulator};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_uploads_lists_copies_and_sees_s3s_errors() {
    let python = std::env::var_os("RIFFLE_PYTHON")
        .filter(|v| !v.is_empty())
        .expect("RIFFLE_PYTHON is not set: run `make test`, which installs boto3 under target/ and sets it");
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/s3_boto3.py");
    let mut command = tokio::process::Command::new(python);
    command
        .arg(script)
        .arg(emulator.endpoint_url())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the boto3 script finishes within two minutes")
        .unwrap();
    assert!(
        output.status.success(),
        "the boto3 script failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["big_length"], 12 * 1024 * 1024);
    // 12 MiB in 5 MiB parts: three parts, and S3's multipart ETag.
    assert!(
        seen["big_etag"].as_str().unwrap().ends_with("-3\""),
        "{seen}"
    );
    assert_eq!(seen["big_round_trip"], true);
    assert_eq!(seen["range"], "\"n\"");
    assert_eq!(seen["content_type"], "application/json");
    let expected: Vec<String> = (0..7).map(|n| format!("c/key {n}+x")).collect();
    assert_eq!(seen["paged_keys"], json!(expected));
    assert_eq!(seen["prefixes"], json!(["a/", "b/", "c/"]));
    assert_eq!(seen["copy"], "{\"n\":1}\n");
    assert_eq!(seen["deleted"], 7);
    assert_eq!(seen["no_such_key"], "NoSuchKey");
    assert_eq!(seen["no_such_bucket"], "NoSuchBucket");
    assert_eq!(seen["not_empty"], "BucketNotEmpty");
    assert_eq!(seen["buckets"], json!(["boto-bucket"]));
    emulator.shutdown().await.unwrap();
}
