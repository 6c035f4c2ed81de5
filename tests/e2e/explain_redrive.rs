//! `riffle local`'s control API, `riffle explain`, the Lambda Invoke API and `riffle redrive`,
//! with the real binary on a template of their own: one stream, an on-failure queue, and
//! `lambda-probe` as the function (its `bootstrap`), which fails every batch while the file
//! `PROBE_FAIL_FILE` names exists. A failed batch is journaled, explained, then redriven: kept
//! while the function still fails, deleted once it succeeds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::cli::{
    assert_fails_saying, install_probe, kinesis_event, poll_control, probe_function,
    queue_resource, sam_template, stderr, stream_resource, temp_dir,
};
use crate::support::{client, riffle_binary, sqs_client};
use crate::support::{http_get, kinesis, sqs};

const MAPPING: &str = "ProbeRecords";
const QUEUE: &str = "probe-failures";

/// A directory with the template and the probe as the function's `bootstrap`.
fn application(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    install_probe(&dir);
    let fail_file = dir.join("fail");
    let probe = format!(
        "      Environment:
        Variables:
          PROBE_FAIL_FILE: {}
      Events:
{}",
        fail_file.display(),
        kinesis_event(
            "Records",
            "Stream",
            "            MaximumRetryAttempts: 1
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Failures.Arn
"
        )
    );
    let template = sam_template(&[
        stream_resource("Stream", "probe-stream"),
        queue_resource("Failures", QUEUE),
        probe_function("Probe", "probe", &probe),
    ]);
    std::fs::write(dir.join("template.yaml"), template).unwrap();
    (dir, fail_file)
}

/// A running `riffle local`, killed if the test fails before stopping it.
struct Local {
    child: Child,
    events: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Local {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        let template = dir.join("template.yaml");
        let mut child = Command::new(riffle_binary())
            .args(["local", "--template"])
            .arg(&template)
            .args(["--log-format", "json", "--status-every", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("riffle local starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    let _ = sender.send(value);
                }
            }
        });
        Self {
            child,
            events,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for an output event that satisfies `wanted`.
    fn wait_for(&mut self, limit: Duration, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if wanted(&event) {
                        return event;
                    }
                }
                Err(_) => panic!(
                    "no {what} within {limit:?}; last events: {:#?}",
                    self.seen.iter().rev().take(15).collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Ctrl-C, and a clean exit.
    fn stop(mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        self.wait_for(Duration::from_secs(60), "the stopped event", |e| {
            e["event"] == "stopped"
        });
        let status = self.child.wait().unwrap();
        assert!(status.success(), "riffle local exits cleanly: {status}");
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `GET /_riffle/mappings` (bounded) until the mapping's counters satisfy `wanted`.
async fn wait_for_counters(endpoint: &str, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    poll_control(endpoint, "/_riffle/mappings", what, |list| {
        let mapping = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == MAPPING)
            .cloned()
            .expect("the mapping is listed");
        if wanted(&mapping["counters"]) {
            Ok(mapping)
        } else {
            Err(mapping.to_string())
        }
    })
    .await
}

/// Runs `riffle <args>` to its end.
async fn riffle(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(riffle_binary())
            .args(&args)
            .env_remove("RIFFLE_ENDPOINT_URL")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `riffle explain --mapping MAPPING --endpoint-url ENDPOINT` to its end.
async fn explain(mapping: &str, endpoint: &str) -> Output {
    riffle(args(&[
        "explain",
        "--mapping",
        mapping,
        "--endpoint-url",
        endpoint,
    ]))
    .await
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The bodies the on-failure queue holds, read without hiding them.
async fn failure_records(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let out = sqs::Receive::default()
        .max(10)
        .visibility(0)
        .receive(sqs, url)
        .await;
    out.messages()
        .iter()
        .map(|m| m.body().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_a_failed_batch_and_redrive_reinvokes_its_exact_records() {
    let (dir, fail_file) = application("explain");
    std::fs::write(&fail_file, "fail").unwrap();
    let mut local = Local::start(&dir, &["--port", "0"]);
    let ready = local.wait_for(Duration::from_secs(60), "ready event", |e| {
        e["event"] == "ready"
    });
    let endpoint = ready["endpoint"].as_str().unwrap().to_owned();

    // Two records in one batch; the function fails it twice (MaximumRetryAttempts 1), and the
    // mapping sends one failure record for both to the queue.
    let kinesis = client(&endpoint);
    let entry = |data: &str| kinesis::entry("k", data);
    let put = kinesis
        .put_records()
        .stream_name("probe-stream")
        .records(entry("one"))
        .records(entry("two"))
        .send()
        .await
        .unwrap();
    let failed: Vec<String> = put
        .records()
        .iter()
        .map(|r| r.sequence_number().unwrap().to_owned())
        .collect();
    let listed = wait_for_counters(&endpoint, "failure record", |c| {
        c["sent_to_destination"].as_u64() >= Some(2)
    })
    .await;
    assert_eq!(listed["kind"], "kinesis");
    assert_eq!(listed["function"], "probe");
    assert_eq!(listed["state"], "Enabled");
    assert_eq!(
        listed["event_source_arn"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/probe-stream"
    );
    assert!(
        listed["counters"]["retries"].as_u64() >= Some(1),
        "{listed}"
    );

    // The journal route: oldest first, with the retry and the discard of exactly those records.
    let path = format!("/_riffle/mappings/{MAPPING}/journal");
    let (status, journal) = http_get(&endpoint, &path).await;
    assert_eq!(status, 200);
    let journal = journal.as_array().unwrap().clone();
    let kinds: Vec<&str> = journal.iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["invoked", "failed", "retry_scheduled", "discarded"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let position = |kind: &str| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(position("failed") < position("retry_scheduled"));
    assert!(position("retry_scheduled") < position("discarded"));
    assert!(
        journal
            .windows(2)
            .all(|w| w[0]["at"].as_u64() <= w[1]["at"].as_u64()),
        "oldest first"
    );
    let discarded = &journal[position("discarded")];
    assert_eq!(discarded["condition"], "RetryAttemptsExhausted");
    assert_eq!(discarded["first_sequence_number"], failed[0].as_str());
    assert_eq!(discarded["last_sequence_number"], failed[1].as_str());
    assert_eq!(discarded["shard"], "shardId-000000000000");
    assert!(discarded["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        journal[position("failed")]["reason"],
        "ProbeFailing: the probe fails while PROBE_FAIL_FILE exists",
        "the function's errorType and errorMessage: why the batch was retried"
    );
    let (_, one_shard) = http_get(&endpoint, &format!("{path}?shard=shardId-000000000000")).await;
    assert!(one_shard.as_array().unwrap().len() >= journal.len());
    let (status, other_shard) =
        http_get(&endpoint, &format!("{path}?shard=shardId-000000000009")).await;
    assert_eq!(status, 404, "a shard the mapping never read: {other_shard}");
    assert_eq!(other_shard["error"], "UnknownShard");
    assert_eq!(
        other_shard["known"],
        serde_json::json!(["shardId-000000000000"])
    );
    let (status, unknown) = http_get(&endpoint, "/_riffle/mappings/Nope/journal").await;
    assert_eq!(status, 404);
    assert_eq!(unknown["error"], "UnknownMapping");
    assert_eq!(unknown["known"], serde_json::json!([MAPPING]));

    // `riffle explain` says the same in words, and as JSON lines.
    let explained = explain(MAPPING, &endpoint).await;
    assert!(explained.status.success(), "{}", stderr(&explained));
    let text = stdout(&explained);
    assert!(text.contains("failed with ProbeFailing"), "{text}");
    assert!(text.contains("will retry at"), "{text}");
    assert!(
        text.contains(&format!(
            "gave up (RetryAttemptsExhausted): 2 records sent to the on-failure destination  {}..{}",
            failed[0], failed[1]
        )),
        "{text}"
    );
    let as_json = riffle(args(&[
        "explain",
        "--mapping",
        MAPPING,
        "--shard",
        "shardId-000000000000",
        "--format",
        "json",
        "--endpoint-url",
        &endpoint,
    ]))
    .await;
    assert!(as_json.status.success(), "{}", stderr(&as_json));
    let lines: Vec<Value> = stdout(&as_json)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(lines.iter().any(|e| e["kind"] == "discarded"));
    let unknown = explain("Nope", &endpoint).await;
    assert_fails_saying(&unknown, "no mapping Nope; its mappings are: ProbeRecords");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let not_running = explain(MAPPING, &nobody).await;
    assert_fails_saying(&not_running, "Is `riffle local` running?");

    // The Invoke API, through aws-sdk-lambda, by name, logical id and ARN.
    let lambda = riffle_aws::lambda_client(&endpoint, "us-east-1");
    for name in [
        "probe",
        "Probe",
        "arn:aws:lambda:us-east-1:000000000000:function:probe",
    ] {
        let out = lambda
            .invoke()
            .function_name(name)
            .payload(aws_sdk_lambda::primitives::Blob::new(
                r#"{"action":"echo","n":1}"#,
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoking {name}: {e:?}"));
        assert_eq!(out.status_code, 200);
        assert_eq!(out.function_error, None);
        assert_eq!(out.executed_version.as_deref(), Some("$LATEST"));
        let body: Value = serde_json::from_slice(out.payload.unwrap().as_ref()).unwrap();
        assert_eq!(body["echo"]["n"], 1, "{name}: {body}");
    }
    let error = lambda
        .invoke()
        .function_name("probe")
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .payload(aws_sdk_lambda::primitives::Blob::new(
            r#"{"action":"error"}"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(error.status_code, 200);
    assert_eq!(error.function_error.as_deref(), Some("Unhandled"));
    // LogType Tail: the invocation's own log lines, base64, as `aws lambda invoke --log-type
    // Tail` decodes them.
    let tail = {
        use base64::Engine as _;
        let encoded = error.log_result.clone().expect("X-Amz-Log-Result");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(tail.contains("START RequestId: "), "{tail}");
    assert!(tail.contains("REPORT RequestId: "), "{tail}");
    let body: Value = serde_json::from_slice(error.payload.unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "OrderRejected");
    let missing = lambda
        .invoke()
        .function_name("missing")
        .payload(aws_sdk_lambda::primitives::Blob::new("{}"))
        .send()
        .await;
    let missing = missing.expect_err("no such function");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception(),
        "{missing:?}"
    );
    // The engine's remote invoker talks to it too.
    let outcome = riffle_aws::LambdaInvoker::new(lambda.clone(), "probe")
        .invoke(riffle_runtime::InvokeRequest {
            function_arn: String::new(),
            request_id: "r-1".into(),
            payload: r#"{"action":"noop"}"#.into(),
            deadline_ms: 0,
        })
        .await;
    assert_eq!(
        outcome,
        riffle_core::invocation::Outcome::Success(b"null".to_vec())
    );

    // `riffle redrive`: a dry run changes nothing; while the function fails, the failure record
    // is kept (and visible again); once it succeeds, it gets exactly the failed records and the
    // failure record is deleted.
    let sqs = sqs_client(&endpoint);
    let url = sqs
        .get_queue_url()
        .queue_name(QUEUE)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert_eq!(failure_records(&sqs, &url).await.len(), 1);
    let redrive = |extra: &[&str]| {
        let mut list = args(&["redrive", "--queue", QUEUE, "--endpoint-url", &endpoint]);
        list.extend(args(extra));
        riffle(list)
    };
    let dry = redrive(&["--dry-run"]).await;
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains(&format!(
            "would invoke arn:aws:lambda:us-east-1:000000000000:function:probe with 2 record(s) of shardId-000000000000: {}, {}",
            failed[0], failed[1]
        )),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        failure_records(&sqs, &url).await.len(),
        1,
        "a dry run deletes nothing"
    );

    let still_failing = redrive(&[]).await;
    assert!(
        !still_failing.status.success(),
        "the kept record is an error"
    );
    assert!(
        stdout(&still_failing).contains("kept: invoke")
            && stdout(&still_failing).contains("ProbeFailing"),
        "{}",
        stdout(&still_failing)
    );
    assert_eq!(
        failure_records(&sqs, &url).await.len(),
        1,
        "kept, and visible again"
    );

    // The function recovers; a later record in the shard is processed by the mapping, and must
    // not be part of the redrive.
    std::fs::remove_file(&fail_file).unwrap();
    let later = kinesis::put(&kinesis, "probe-stream", "k", "three").await;
    wait_for_counters(&endpoint, "the later record processed", |c| {
        c["invoked_records"].as_u64() >= Some(5)
    })
    .await;
    let redriven = redrive(&["--function", "Probe"]).await;
    assert!(
        redriven.status.success(),
        "{}{}",
        stdout(&redriven),
        stderr(&redriven)
    );
    let text = stdout(&redriven);
    assert!(
        text.contains(&format!(
            "invoke Probe with 2 record(s) of shardId-000000000000: {}, {}: succeeded; failure record deleted",
            failed[0], failed[1]
        )),
        "{text}"
    );
    assert!(!text.contains(later.sequence_number()), "{text}");
    assert!(failure_records(&sqs, &url).await.is_empty());
    let empty = redrive(&[]).await;
    assert!(empty.status.success());
    assert!(stdout(&empty).contains("nothing to redrive"));

    local.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reaches_the_control_port_when_riffle_local_uses_another_endpoint() {
    let (emulator, _) = crate::support::start().await;
    let (dir, _) = application("control-port");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let control = free.local_addr().unwrap();
    drop(free);
    let mut local = Local::start(
        &dir,
        &[
            "--endpoint-url",
            &emulator.endpoint_url(),
            "--control-port",
            &control.port().to_string(),
        ],
    );
    local.wait_for(Duration::from_secs(60), "ready event", |e| {
        e["event"] == "ready"
    });
    let control = format!("http://{control}");
    let (status, list) = http_get(&control, "/_riffle/mappings").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["id"], MAPPING);
    // The shard task starts reading a moment after `ready`: wait (bounded) for its first entry.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, journal) =
            http_get(&control, &format!("/_riffle/mappings/{MAPPING}/journal")).await;
        if journal
            .as_array()
            .is_some_and(|entries| !entries.is_empty())
        {
            break;
        }
        assert!(Instant::now() < deadline, "no journal entry within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let explained = explain(MAPPING, &control).await;
    assert!(explained.status.success(), "{}", stderr(&explained));
    assert!(
        stdout(&explained).contains("started reading at"),
        "{}",
        stdout(&explained)
    );
    // The emulator itself has no control API: explain says what it reached.
    let wrong = explain(MAPPING, &emulator.endpoint_url()).await;
    assert_fails_saying(&wrong, "not riffle local's control API");
    local.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_embedder_adds_routes_to_the_emulator() {
    let routes = axum::Router::new().route("/_test/ping", axum::routing::get(|| async { "pong" }));
    let emulator = riffle_emulator::Emulator::start(riffle_emulator::Config {
        extra_routes: routes,
        ..riffle_emulator::Config::default()
    })
    .await
    .unwrap();
    let endpoint = emulator.endpoint_url();
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /_test/ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(
        raw.starts_with("HTTP/1.1 200") && raw.ends_with("pong"),
        "{raw}"
    );
    let (status, health) = http_get(&endpoint, "/_riffle/health").await;
    assert_eq!((status, &health["status"]), (200, &Value::from("ready")));
    // Everything else still goes to the X-Amz-Target dispatch.
    client(&endpoint).list_streams().send().await.unwrap();
    emulator.shutdown().await.unwrap();
}
