//! The tools never change what they inspect, take input as users give it, and end quietly
//! when their reader goes away: `riffle dlq` reads through the emulator's peek route (so a
//! redrive later finds every failure record), `riffle put` reads standard input and files and
//! refuses an oversized line by number, and a closed stdout is a clean exit.

use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::types::QueueAttributeName;
use tokio::io::AsyncWriteExt as _;

use crate::support::cli::{assert_fails_saying, riffle, riffle_with, stderr, stdout, temp_dir};
use crate::support::{create_stream, http_get, sqs_client, start};
use crate::support::{kinesis, sqs};

/// An emulator with a one-shard stream `stream`: the emulator, a client and its endpoint.
async fn with_stream(stream: &str) -> (riffle_emulator::Emulator, aws_sdk_kinesis::Client, String) {
    let (emulator, kinesis) = start().await;
    let endpoint = emulator.endpoint_url();
    create_stream(&kinesis, stream, 1).await;
    (emulator, kinesis, endpoint)
}

/// Every record of `stream`'s shard 0, oldest first: (partition key, data).
async fn records(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> Vec<(String, Vec<u8>)> {
    let records = kinesis::read_to_tip(kinesis, stream, kinesis::SHARD_0).await;
    records
        .iter()
        .map(|r| {
            (
                r.partition_key().unwrap_or_default().to_owned(),
                r.data().as_ref().to_vec(),
            )
        })
        .collect()
}

#[tokio::test]
async fn put_reads_one_record_from_standard_input_or_from_a_file() {
    let (_emulator, kinesis, endpoint) = with_stream("inputs").await;
    let dir = temp_dir("put-data");
    let file = dir.join("event.json");
    let contents = b"{\n  \"orderId\": \"o-1\"\n}\n\x00binary";
    std::fs::write(&file, contents).unwrap();
    let at_file = format!("@{}", file.display());
    let base = ["put", "--stream", "inputs", "--partition-key"];
    let piped = riffle_with(
        &endpoint,
        &[&base[..], &["stdin", "--data", "-"]].concat(),
        b"from\nstdin\n",
    )
    .await;
    assert!(stdout(&piped).starts_with("shardId-000000000000 "));
    let from_file = riffle(
        &endpoint,
        &[&base[..], &["file", "--data", &at_file]].concat(),
    )
    .await;
    assert!(stdout(&from_file).starts_with("shardId-000000000000 "));
    let literal = riffle(&endpoint, &[&base[..], &["text", "--data", "-x"]].concat()).await;
    stdout(&literal);
    assert_eq!(
        records(&kinesis, "inputs").await,
        [
            ("stdin".to_owned(), b"from\nstdin\n".to_vec()),
            ("file".to_owned(), contents.to_vec()),
            ("text".to_owned(), b"-x".to_vec()),
        ],
        "all of standard input, and the file's bytes, as one record each"
    );
    let missing = riffle(
        &endpoint,
        &[&base[..], &["x", "--data", "@/nonexistent/f"]].concat(),
    )
    .await;
    assert_fails_saying(&missing, "reading /nonexistent/f");
    let huge = vec![b'x'; 1024 * 1024 + 1];
    let too_big = riffle_with(
        &endpoint,
        &[&base[..], &["x", "--data", "-"]].concat(),
        &huge,
    )
    .await;
    assert!(!too_big.status.success());
    assert!(
        stderr(&too_big).contains(
            "standard input: 1048577 bytes, over the 1048576-byte (1 MiB) limit of a Kinesis \
             record's data; nothing put"
        ),
        "{}",
        stderr(&too_big)
    );
    assert_eq!(records(&kinesis, "inputs").await.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn put_refuses_a_file_with_oversized_lines_naming_each_and_puts_nothing() {
    let (_emulator, kinesis, endpoint) = with_stream("big").await;
    let dir = temp_dir("put-file");
    let file = dir.join("big.jsonl");
    let big = |n: usize, len: usize| format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(len));
    // Six lines of almost 1 MiB (together over PutRecords' 5 MiB), and lines 3 and 6 too large.
    let fits = 1024 * 1024 - 64;
    let mut lines: Vec<String> = (0..6).map(|n| big(n, fits)).collect();
    lines.insert(2, big(90, 1024 * 1024));
    lines.insert(5, big(91, 2 * 1024 * 1024));
    std::fs::write(&file, lines.join("\n")).unwrap();
    let args = ["put", "--stream", "big", "--file", file.to_str().unwrap()];
    let refused = riffle(&endpoint, &args).await;
    assert!(!refused.status.success());
    let message = stderr(&refused);
    for expected in [
        "2 of 8 line(s) cannot be put, so nothing was put".to_owned(),
        format!(
            "line 3: {} bytes, over the 1048576-byte (1 MiB) limit",
            lines[2].len()
        ),
        format!(
            "line 6: {} bytes, over the 1048576-byte (1 MiB) limit",
            lines[5].len()
        ),
    ] {
        assert!(message.contains(&expected), "{expected:?} in {message}");
    }
    assert!(!message.contains("HeapByteBuffer"), "{message}");
    assert!(records(&kinesis, "big").await.is_empty(), "nothing put");

    // Without the bad lines, every line is put once, in requests under 5 MiB.
    lines.remove(5);
    lines.remove(2);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let put = riffle(&endpoint, &args).await;
    assert!(
        stdout(&put).starts_with("put 6 record(s) to big"),
        "{}",
        stdout(&put)
    );
    let stored = records(&kinesis, "big").await;
    let keys: Vec<&str> = stored.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "4", "5", "6"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Lambda Invoke API that records each payload and succeeds (`null`).
async fn invoke_api() -> (String, Arc<Mutex<Vec<String>>>) {
    let payloads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&payloads);
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        axum::routing::post(move |body: String| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(body);
                ([("x-amz-executed-version", "$LATEST")], "null")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, payloads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_twice_then_redrive_still_finds_the_failure_records_with_max_receive_count_1() {
    let (_emulator, kinesis, endpoint) = with_stream("orders").await;
    let mut sequence = Vec::new();
    for data in ["one", "two"] {
        let out = kinesis::put(&kinesis, "orders", "k", data).await;
        sequence.push(out.sequence_number);
    }
    let sqs = sqs_client(&endpoint);
    sqs::queue(&sqs, "failures-dlq", &[]).await;
    let url = sqs::queue_with(&sqs, "failures", QueueAttributeName::RedrivePolicy, r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:failures-dlq","maxReceiveCount":"1"}"#).await;
    let record = format!(
        r#"{{"requestContext":{{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:000000000000:function:probe","condition":"RetryAttemptsExhausted","approximateInvokeCount":2}},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{{"shardId":"shardId-000000000000","startSequenceNumber":"{}","endSequenceNumber":"{}","approximateArrivalOfFirstRecord":"2025-11-25T16:34:58.101Z","approximateArrivalOfLastRecord":"2025-11-25T16:34:58.907Z","batchSize":2,"streamArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders"}}}}"#,
        sequence[0], sequence[1]
    );
    sqs.send_message()
        .queue_url(&url)
        .message_body(&record)
        .send()
        .await
        .unwrap();

    for look in 1..=2 {
        let shown = stdout(&riffle(&endpoint, &["dlq", "--queue", "failures"]).await);
        assert!(
            shown.contains("RetryAttemptsExhausted: 2 record(s) of shardId-000000000000"),
            "look {look}: {shown}"
        );
    }
    let (_, peeked) = http_get(&endpoint, "/_riffle/queues/failures/messages").await;
    assert_eq!(peeked["messages"][0]["receiveCount"], 0, "{peeked}");
    assert_eq!(peeked["messages"][0]["state"], "visible");
    let (_, dead) = http_get(&endpoint, "/_riffle/queues/failures-dlq/messages").await;
    assert_eq!(dead["messages"], serde_json::json!([]));

    let (lambda, payloads) = invoke_api().await;
    let redriven = riffle(
        &endpoint,
        &[
            "redrive",
            "--queue",
            "failures",
            "--lambda-endpoint-url",
            &lambda,
        ],
    )
    .await;
    let text = stdout(&redriven);
    assert!(
        text.contains("with 2 record(s) of shardId-000000000000")
            && text.contains("succeeded; failure record deleted"),
        "{text}"
    );
    let payloads = payloads.lock().unwrap().clone();
    assert_eq!(payloads.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
    let data: Vec<&str> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kinesis"]["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["b25l", "dHdv"], "one, two");
    let (_, left) = http_get(&endpoint, "/_riffle/queues/failures/messages").await;
    assert_eq!(left["messages"], serde_json::json!([]));

    let unknown = riffle(
        &endpoint,
        &["dlq", "--queue", &format!("{endpoint}/000000000000/gone")],
    )
    .await;
    assert_fails_saying(
        &unknown,
        "no queue gone; its queues are: failures, failures-dlq",
    );
}

/// Runs `riffle ARGS` with its stdout a pipe whose reading end is closed at once (the reader
/// went away, as `| head -1` does after its line), to its end (bounded).
async fn with_stdout_closed(args: &[&str]) -> Output {
    let mut child = crate::support::cli::spawn(args, None, Stdio::null());
    drop(child.stdout.take());
    crate::support::cli::finish(child).await
}

fn assert_quiet_exit(what: &str, output: &Output) {
    let err = stderr(output);
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.contains("Broken pipe"), "{what}: {err}");
    assert!(output.status.success(), "{what}: {:?} {err}", output.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_explain_and_generate_event_quietly() {
    // More than a pipe holds (64 KiB), so the writes reach the closed end whatever the timing.
    let data = "x".repeat(100_000);
    let generated = with_stdout_closed(&["generate-event", "kinesis", "--data", &data]).await;
    assert_quiet_exit("generate-event", &generated);

    // A control API with a long journal.
    let journal: Vec<serde_json::Value> = (0..5_000)
        .map(|n| {
            serde_json::json!({"at": n, "time": "2025-11-25T16:35:01.512Z",
                "shard": "shardId-000000000000", "kind": "invoked", "records": 1})
        })
        .collect();
    let body = serde_json::to_string(&journal).unwrap();
    let app = axum::Router::new().route(
        "/_riffle/mappings/{id}/journal",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let control = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for format in ["json", "text"] {
        let explained = with_stdout_closed(&[
            "explain",
            "--mapping",
            "M",
            "--format",
            format,
            "--endpoint-url",
            &control,
        ])
        .await;
        assert_quiet_exit(&format!("explain --format {format}"), &explained);
    }
}

/// An SQS endpoint that is not Riffle's emulator: it forwards every POST (the SQS API) to
/// `emulator` and has no `/_riffle/…` routes.
async fn plain_sqs_endpoint(emulator: String) -> String {
    use tokio::io::AsyncReadExt as _;
    let forward = move |headers: axum::http::HeaderMap, uri: axum::http::Uri, body: String| {
        let emulator = emulator.clone();
        async move {
            let addr = emulator.trim_start_matches("http://").to_owned();
            let mut request = format!("POST {} HTTP/1.1\r\nHost: {addr}\r\n", uri.path());
            for name in ["x-amz-target", "content-type", "authorization"] {
                if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                    request.push_str(&format!("{name}: {value}\r\n"));
                }
            }
            request.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ));
            let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.unwrap();
            let text = String::from_utf8(raw).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let status = crate::support::status_of(head);
            let mut lines = head.lines();
            lines.next();
            let mut response = axum::response::Response::builder().status(status);
            for line in lines {
                let (name, value) = line.split_once(": ").unwrap();
                if name.starts_with("x-amz") || name == "content-type" {
                    response = response.header(name, value);
                }
            }
            response
                .body(axum::body::Body::from(body.to_owned()))
                .unwrap()
        }
    };
    let app = axum::Router::new()
        .route("/", axum::routing::post(forward.clone()))
        .route("/{*path}", axum::routing::post(forward));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    endpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_elsewhere_receives_each_message_once_hands_it_back_and_says_it_counts() {
    let (emulator, _) = start().await;
    let endpoint = emulator.endpoint_url();
    let sqs = sqs_client(&endpoint);
    let url = sqs::queue(&sqs, "failures", &[]).await;
    for n in 0..15 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("m{n}"))
            .send()
            .await
            .unwrap();
    }
    let elsewhere = plain_sqs_endpoint(endpoint.clone()).await;
    let output = riffle(&elsewhere, &["dlq", "--queue", "failures", "--json"]).await;
    let shown = stdout(&output);
    let mut bodies: Vec<&str> = shown.lines().collect();
    bodies.sort_by_key(|b| b[1..].parse::<u32>().unwrap());
    let expected: Vec<String> = (0..15).map(|n| format!("m{n}")).collect();
    assert_eq!(bodies, expected, "each message once");
    assert!(
        stderr(&output).contains("counts toward the queue's maxReceiveCount"),
        "{}",
        stderr(&output)
    );
    let (_, peeked) = http_get(&endpoint, "/_riffle/queues/failures/messages").await;
    for message in peeked["messages"].as_array().unwrap() {
        assert_eq!(message["receiveCount"], 1, "received once: {message}");
        assert_eq!(message["state"], "visible", "handed back: {message}");
    }
}
