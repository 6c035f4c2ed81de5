//! The wire itself: what a client that is not an SDK sees (raw HTTP/1.1).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: serde_json::Value,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// POSTs `body` to Kinesis operation `operation` of `emulator`.
async fn kinesis_post(
    emulator: &riffle_emulator::Emulator,
    operation: &str,
    body: &[u8],
) -> Response {
    let target = format!("Kinesis_20131202.{operation}");
    post(&emulator.endpoint_url(), Some(&target), body).await
}

async fn post(endpoint: &str, target: Option<&str>, body: &[u8]) -> Response {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(target) = target {
        request.push_str(&format!("X-Amz-Target: {target}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    // The server may answer before reading a body it refuses; ignore a reset while writing.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a complete HTTP response");
    let status = crate::support::status_of(head);
    let mut lines = head.lines();
    lines.next();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    Response {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn malformed_json_is_a_serialization_exception() {
    let (emulator, _) = support::start().await;
    let out = kinesis_post(&emulator, "CreateStream", b"{not json").await;
    assert_eq!(out.status, 400);
    assert_eq!(out.body["__type"], "SerializationException");
    assert_eq!(
        out.header("x-amzn-ErrorType"),
        Some("SerializationException")
    );
    assert_eq!(
        out.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
}

#[tokio::test]
async fn wrong_member_types_are_serialization_exceptions() {
    let (emulator, _) = support::start().await;
    let body = br#"{"StreamName":"s","ShardCount":"two"}"#;
    let out = kinesis_post(&emulator, "CreateStream", body).await;
    assert_eq!(out.body["__type"], "SerializationException");
}

#[tokio::test]
async fn unknown_operations_and_missing_targets_are_unknown_operation() {
    let (emulator, _) = support::start().await;
    let out = kinesis_post(&emulator, "FlyToTheMoon", b"{}").await;
    assert_eq!(out.body["__type"], "UnknownOperationException");
    let out = post(&emulator.endpoint_url(), None, b"{}").await;
    assert_eq!(out.body["__type"], "UnknownOperationException");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let (emulator, _) = support::start().await;
    let body = vec![b' '; riffle_emulator::server::MAX_BODY_BYTES + 1];
    let out = kinesis_post(&emulator, "PutRecords", &body).await;
    assert_eq!(out.status, 413);
    assert_eq!(out.body["__type"], "RequestEntityTooLarge");
}

#[tokio::test]
async fn unsigned_requests_are_accepted_and_get_a_request_id() {
    let (emulator, _) = support::start().await;
    let out = kinesis_post(
        &emulator,
        "CreateStream",
        br#"{"StreamName":"raw","ShardCount":1}"#,
    )
    .await;
    assert_eq!(out.status, 200);
    assert!(
        out.header("x-amzn-RequestId")
            .is_some_and(|id| id.len() == 36)
    );
    let out = kinesis_post(&emulator, "ListStreams", b"").await;
    assert_eq!(out.body["StreamNames"][0], "raw");
    let created = out.body["StreamSummaries"][0]["StreamCreationTimestamp"]
        .as_f64()
        .unwrap();
    assert!(
        created > 1.7e9,
        "timestamps are epoch seconds as JSON numbers"
    );
}

#[tokio::test]
async fn health_endpoint_answers_ready() {
    let (emulator, _) = support::start().await;
    let addr = emulator.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET /_riffle/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let body: serde_json::Value =
        serde_json::from_str(raw.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["services"]["kinesis"], "running");
}
