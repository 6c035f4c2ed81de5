//! The `riffle` tools against an emulator: `put` (one record and a JSONL file), `tail`, `dlq` and
//! `generate-event`, run as a user runs them.

use std::process::Command;

use crate::support::cli::{riffle, stdout};
use crate::support::{kinesis, sqs};
use crate::support::{riffle_binary, sqs_client, start};

#[tokio::test]
async fn put_writes_every_line_of_a_file_with_its_key_and_tail_reads_them_back() {
    let (emulator, kinesis) = start().await;
    let endpoint = emulator.endpoint_url();
    kinesis
        .create_stream()
        .stream_name("orders")
        .shard_count(2)
        .send()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("riffle-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..1_234)
        .map(|n| format!(r#"{{"orderId":"o-{}","n":{n}}}"#, n % 10))
        .collect();
    std::fs::write(&file, format!("{}\n\n", lines.join("\n"))).unwrap();
    let put = riffle(
        &endpoint,
        &[
            "put",
            "--stream",
            "orders",
            "--file",
            file.to_str().unwrap(),
            "--key-field",
            "orderId",
        ],
    )
    .await;
    assert!(stdout(&put).starts_with("put 1234 record(s) to orders"));
    // Every line is in the stream once, under its orderId.
    let mut seen = Vec::new();
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        for record in kinesis::read_to_tip(&kinesis, "orders", shard).await {
            let data = String::from_utf8(record.data().as_ref().to_vec()).unwrap();
            let value: serde_json::Value = serde_json::from_str(&data).unwrap();
            assert_eq!(value["orderId"], record.partition_key().unwrap());
            seen.push(data);
        }
    }
    seen.sort();
    let mut expected = lines.clone();
    expected.sort();
    assert_eq!(seen, expected);

    let one = riffle(
        &endpoint,
        &[
            "put",
            "--stream",
            "orders",
            "--data",
            "hello",
            "--partition-key",
            "p",
        ],
    )
    .await;
    assert!(stdout(&one).starts_with("shardId-"));
    let tail = riffle(
        &endpoint,
        &[
            "tail",
            "--stream",
            "orders",
            "--from-start",
            "--json",
            "--limit",
            "1235",
        ],
    )
    .await;
    let tailed: Vec<serde_json::Value> = stdout(&tail)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(tailed.len(), 1235);
    assert!(
        tailed
            .iter()
            .any(|r| r["partitionKey"] == "p" && r["data"] == "aGVsbG8=")
    );

    let missing = riffle(&endpoint, &["put", "--stream", "nope", "--data", "x"]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ResourceNotFoundException"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn dlq_summarises_invocation_records_without_consuming_them() {
    let (emulator, _) = start().await;
    let endpoint = emulator.endpoint_url();
    let sqs = sqs_client(&endpoint);
    let url = sqs::queue(&sqs, "failures", &[]).await;
    let record = r#"{"requestContext":{"requestId":"r","functionArn":"f","condition":"RecordAgeExceeded","approximateInvokeCount":1},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"11","endSequenceNumber":"19","approximateArrivalOfFirstRecord":"2025-11-25T16:34:58.101Z","approximateArrivalOfLastRecord":"2025-11-25T16:34:58.907Z","batchSize":9,"streamArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders"}}"#;
    sqs.send_message()
        .queue_url(&url)
        .message_body(record)
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("stray")
        .send()
        .await
        .unwrap();
    let shown = stdout(&riffle(&endpoint, &["dlq", "--queue", "failures"]).await);
    assert!(
        shown.contains("RecordAgeExceeded: 9 record(s) of shardId-000000000000 11..19"),
        "{shown}"
    );
    assert!(shown.contains("stray"));
    let again = stdout(&riffle(&endpoint, &["dlq", "--queue", &url, "--json"]).await);
    assert_eq!(again.lines().count(), 2, "the first look consumed nothing");
}

#[test]
fn generate_event_prints_the_engines_event() {
    let output = Command::new(riffle_binary())
        .args(["generate-event", "kinesis", "--data", "a", "--data", "b"])
        .output()
        .unwrap();
    let text = stdout(&output);
    let event: aws_lambda_events::event::kinesis::KinesisEvent =
        serde_json::from_str(&text).unwrap();
    assert_eq!(event.records.len(), 2);
    assert_eq!(event.records[1].kinesis.data.0, b"b");
    assert!(
        text.find("\"kinesis\"").unwrap() < text.find("\"eventSource\"").unwrap(),
        "AWS's order"
    );
}
