//! `riffle local` on the repository's own template.yaml, as a new user runs it, without a
//! terminal: it builds the example functions, creates the streams and queues, and the order
//! events mapping processes valid orders, reports the invalid one, retries it and sends it to
//! the on-failure queue, where failure-inspector reads it; `riffle explain` tells that story from
//! the decision journal (and the SQS mapping's journal the receive, invocation and delete);
//! Ctrl-C stops everything cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::kinesis;
use crate::support::{client, riffle_binary};

/// Waits (bounded) for a JSON event from `riffle local` that satisfies `wanted`.
pub(crate) fn wait_for(
    events: &mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
    limit: Duration,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) => {
                seen.push(event.clone());
                if wanted(&event) {
                    return event;
                }
            }
            Err(_) => panic!(
                "no {what} within {limit:?}; last events: {:#?}",
                seen.iter().rev().take(15).collect::<Vec<_>>()
            ),
        }
    }
}

/// Waits (bounded) for `riffle local`'s ready event.
pub(crate) fn wait_ready(
    events: &mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
    limit: Duration,
) -> Value {
    wait_for(events, seen, limit, "ready event", |e| {
        e["event"] == "ready"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_application_runs_end_to_end_and_stops_cleanly() {
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let mut command = Command::new(riffle_binary());
    command.args(["local", "--template", template, "--port", "0"]);
    command.args(["--log-format", "json", "--status-every", "1"]);
    command.args(["--build-profile", "dev"]);
    let (mut child, guard, events) = spawn_json(command);
    let mut seen = Vec::new();
    // Building the four functions can take a while on a cold target directory.
    let ready = wait_ready(&events, &mut seen, Duration::from_secs(600));
    let endpoint = ready["endpoint"].as_str().unwrap().to_owned();
    assert_eq!(ready["functions"].as_array().unwrap().len(), 4);
    // The dashboard shares the emulator's port.
    assert_eq!(
        ready["dashboard"],
        Value::from(format!("{endpoint}/_riffle/"))
    );

    let kinesis = client(&endpoint);
    let valid = r#"{"orderId":"o-1","amount_cents":1250,"currency":"EUR"}"#;
    for data in [valid, "not an order", valid] {
        kinesis::put(&kinesis, "order-events", "o-1", data).await;
    }
    let mut wait_two_minutes = |what: &str, wanted: &dyn Fn(&Value) -> bool| {
        wait_for(&events, &mut seen, Duration::from_secs(120), what, wanted)
    };
    // Valid orders are processed, and the invalid one reported, retried (MaximumRetryAttempts 3)
    // and sent to the on-failure queue — together with the order behind it in its batch, as
    // Lambda does — where failure-inspector reads and deletes the one invocation record.
    wait_two_minutes("an order processed", &|e| {
        e["event"] == "log"
            && e["function"] == "OrderEventsFunction"
            && e["line"]
                .as_str()
                .is_some_and(|l| l.contains("order processed"))
    });
    let status = wait_two_minutes("the failure delivered", &|e| {
        e["event"] == "status"
            && e["mapping"] == "OrderEventsFunctionOrders"
            && e["sent_to_destination"].as_u64() >= Some(1)
    });
    assert_eq!(status["state"], "Enabled");
    assert!(status["retries"].as_u64().unwrap() >= 3, "{status}");
    explain_tells_why_the_invalid_order_was_dropped(&endpoint);
    wait_two_minutes("the failure record read", &|e| {
        e["event"] == "status"
            && e["mapping"] == "FailureInspectorFunctionFailures"
            && e["deleted"].as_u64() == Some(1)
    });
    // The SQS mapping's journal: the failure record received, invoked, and deleted on success.
    let journal = explain(&endpoint, "FailureInspectorFunctionFailures");
    let settled = journal
        .iter()
        .find(|e| e["kind"] == "settled")
        .unwrap_or_else(|| panic!("no settled batch in {journal:#?}"));
    assert_eq!(
        (&settled["outcome"], &settled["deleted"]),
        (&Value::from("success"), &Value::from(1))
    );
    for kind in ["received", "invoked"] {
        assert!(
            journal.iter().any(|e| e["kind"] == kind),
            "no {kind} in {journal:#?}"
        );
    }
    assert!(
        seen.iter().any(|e| e["event"] == "log"
            && e["function"] == "FailureInspectorFunction"
            && e["line"]
                .as_str()
                .is_some_and(|l| l.contains("RetryAttemptsExhausted"))),
        "failure-inspector logged the invocation record"
    );

    log_archive_delivers_normalised_lines_and_failures(&endpoint, &events, &mut seen).await;

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    wait_for(
        &events,
        &mut seen,
        Duration::from_secs(60),
        "the stopped event",
        |e| e["event"] == "stopped",
    );
    let status = child.wait().unwrap();
    std::mem::forget(guard);
    assert!(status.success(), "riffle local exits cleanly: {status}");
}

/// The log-archive delivery stream: lines put to app-logs are normalised by log-normalizer and
/// written to the bucket under `logs/`; a line that is not JSON goes to
/// `errors/processing-failed/`, in Firehose's error record format; the status reports both.
async fn log_archive_delivers_normalised_lines_and_failures(
    endpoint: &str,
    events: &mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
) {
    let kinesis = client(endpoint);
    let s3 = riffle_aws::Clients::new(endpoint, "us-east-1").s3();
    for line in [
        r#"{"level":"warning","msg":"disk almost full","ts":"2026-12-04T10:00:00Z"}"#,
        r#"{"level":"debug","msg":"noise"}"#,
        "plain text, not JSON",
    ] {
        kinesis::put(&kinesis, "app-logs", "host-1", line).await;
    }
    let status = wait_for(
        events,
        seen,
        Duration::from_secs(120),
        "the log archive delivered",
        |e| {
            e["event"] == "delivery_status"
                && e["delivery_stream"] == "log-archive"
                && e["delivered_objects"].as_u64() >= Some(1)
                && e["failed"].as_u64() >= Some(1)
        },
    );
    assert_eq!(status["dropped"], 1, "{status}");
    assert_eq!(status["transformed"], 1, "{status}");
    let read_all = |prefix: &'static str| {
        let s3 = s3.clone();
        async move {
            let listed = s3
                .list_objects_v2()
                .bucket("riffle-example-log-archive")
                .prefix(prefix)
                .send()
                .await
                .unwrap();
            let mut text = String::new();
            for object in listed.contents() {
                let out = s3
                    .get_object()
                    .bucket("riffle-example-log-archive")
                    .key(object.key().unwrap())
                    .send()
                    .await
                    .unwrap();
                let bytes = out.body.collect().await.unwrap().into_bytes();
                text.push_str(std::str::from_utf8(&bytes).unwrap());
            }
            text
        }
    };
    let delivered = read_all("logs/").await;
    let line: Value = serde_json::from_str(delivered.lines().next().unwrap()).unwrap();
    assert_eq!(
        (&line["level"], &line["message"]),
        (&Value::from("WARN"), &Value::from("disk almost full")),
        "{delivered}"
    );
    assert!(!delivered.contains("noise"), "{delivered}");
    let failed = read_all("errors/processing-failed/").await;
    let error: Value = serde_json::from_str(failed.lines().next().unwrap()).unwrap();
    assert_eq!(error["errorCode"], "Lambda.ProcessingFailed", "{failed}");
    // `riffle explain` tells the delivery stream's story from its decisions.
    let journal = explain(endpoint, "log-archive");
    let kinds: Vec<&str> = journal.iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["invoked", "transformed", "written"] {
        assert!(kinds.contains(&kind), "no {kind} in {journal:#?}");
    }
    let transformed = journal.iter().find(|e| e["kind"] == "transformed").unwrap();
    assert_eq!(
        (
            &transformed["ok"],
            &transformed["dropped"],
            &transformed["failed"]
        ),
        (&Value::from(1), &Value::from(1), &Value::from(1))
    );
}

/// `riffle explain --format json` for `mapping`: its journal entries, oldest first.
fn explain(endpoint: &str, mapping: &str) -> Vec<Value> {
    let output = Command::new(riffle_binary())
        .args([
            "explain",
            "--endpoint-url",
            endpoint,
            "--mapping",
            mapping,
            "--format",
            "json",
        ])
        .output()
        .expect("riffle explain runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

/// `riffle explain`, as a user runs it next to `riffle local`, gives the invalid order's story:
/// reported by the function, retried three times, then given up on and delivered to the
/// on-failure queue, with the checkpoint moved past it.
fn explain_tells_why_the_invalid_order_was_dropped(endpoint: &str) {
    let journal_now = || explain(endpoint, "OrderEventsFunctionOrders");
    // The status that announced the delivery can come a moment before the checkpoint is saved.
    let deadline = Instant::now() + Duration::from_secs(30);
    let journal = loop {
        let journal = journal_now();
        let settled = journal
            .iter()
            .skip_while(|e| e["kind"] != "delivered")
            .any(|e| e["kind"] == "checkpointed");
        if settled || Instant::now() > deadline {
            break journal;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let kinds: Vec<&str> = journal.iter().filter_map(|e| e["kind"].as_str()).collect();
    let position = |kind: &str| {
        kinds
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("no {kind} in the journal: {kinds:?}"))
    };
    let reported = position("partially_failed");
    let retried = journal
        .iter()
        .filter(|e| e["kind"] == "invoked" && e["previous_invocations"].as_u64() >= Some(1))
        .count();
    assert_eq!(retried, 3, "MaximumRetryAttempts 3: {kinds:?}");
    let discarded = &journal[position("discarded")];
    assert_eq!(discarded["condition"], "RetryAttemptsExhausted");
    assert_eq!(discarded["delivered"], true);
    let delivered = position("delivered");
    assert!(reported < delivered, "{kinds:?}");
    assert!(
        journal[delivered]["destination"]
            .as_str()
            .is_some_and(|d| d.ends_with(":order-events-failures")),
        "{}",
        journal[delivered]
    );
    assert!(
        kinds[delivered..].contains(&"checkpointed"),
        "the checkpoint moves past the batch after the delivery: {kinds:?}"
    );
}

/// Starts `command` (a `riffle local … --log-format json`) with its JSON output lines coming
/// through the returned channel; the guard kills it if the test fails before stopping it.
pub(crate) fn spawn_json(mut command: Command) -> (Child, KillOnDrop, mpsc::Receiver<Value>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("riffle local starts");
    let stdout = child.stdout.take().unwrap();
    let guard = KillOnDrop(child.id());
    let (sender, events) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                let _ = sender.send(value);
            }
        }
    });
    (child, guard, events)
}

/// Kills `riffle local` (and so its functions) if the test fails before stopping it.
pub(crate) struct KillOnDrop(pub(crate) u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}
