//! `riffle fault` against a running `riffle local`: `lambda-probe` (which succeeds on every
//! event) reads a stream; a rule fails its next two invocations. The mapping must retry the
//! batch, the journal must say which failures were injected, the batch must then succeed, and
//! the rule must be spent; bad rules are refused with the route's own message. On the emulator
//! side, a throttle of the stream's writes refuses puts with ProvisionedThroughputExceeded, one of
//! its reads makes the mapping's reads fail (journaled), and clearing them lets both through.

use std::process::Output;

use serde_json::Value;

use crate::support::cli::{
    assert_fails_saying, kinesis_event, poll_control, probe_function, riffle, sam_template,
    start_local, stdout, stream_resource, temp_dir,
};
use crate::support::{client, code, http_get, kinesis};

/// The template: one one-shard stream read by the probe, retried up to five times.
fn template() -> String {
    let events = kinesis_event("Records", "Stream", "            MaximumRetryAttempts: 5\n");
    sam_template(&[
        stream_resource("Stream", "fault-stream"),
        probe_function("Probe", "probe", &format!("      Events:\n{events}")),
    ])
}

/// Polls the mapping's journal (bounded) until `wanted` holds for its entries.
async fn wait_for_journal(
    endpoint: &str,
    what: &str,
    wanted: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let journal = "/_riffle/mappings/ProbeRecords/journal";
    poll_control(endpoint, journal, what, |journal| {
        let entries = journal.as_array().cloned().unwrap_or_default();
        if wanted(&entries) {
            Ok(entries)
        } else {
            Err(format!("{entries:#?}"))
        }
    })
    .await
}

/// `riffle fault add RULE…` against `endpoint`.
async fn fault_add(endpoint: &str, rule: &[&str]) -> Output {
    riffle(endpoint, &[&["fault", "add"], rule].concat()).await
}

fn kinds(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| *k != "polled")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_rule_fails_the_next_two_invocations_and_the_journal_says_so() {
    let dir = temp_dir("faults");
    let (_child, _guard, _events, _seen, endpoint) = start_local(&dir, &template(), "0");

    // Bad rules: the server's checks, answered as the control routes answer errors.
    let refused = fault_add(
        &endpoint,
        &["--function", "Probe", "--fail", "--share", "2"],
    )
    .await;
    assert_fails_saying(&refused, "between 0 and 1");
    let unknown = fault_add(&endpoint, &["--function", "nope", "--throttle"]).await;
    assert_fails_saying(&unknown, "no function nope");
    let (status, none) = http_get(&endpoint, "/_riffle/faults").await;
    assert_eq!((status, none), (200, Value::Array(Vec::new())));

    let added = fault_add(&endpoint, &["--function", "Probe", "--fail", "--next", "2"]).await;
    assert!(added.status.success(), "{added:?}");
    let line = stdout(&added);
    assert!(
        line.contains("probe")
            && line.contains("fail (Riffle.InjectedFault)")
            && line.contains("the next 2 invocations"),
        "{line}"
    );

    kinesis::put(&client(&endpoint), "fault-stream", "k", "hello").await;
    let entries = wait_for_journal(
        &endpoint,
        "a success after two injected failures",
        |entries| kinds(entries).contains(&"succeeded"),
    )
    .await;
    let kinds = kinds(&entries);
    let injected: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "fault_injected")
        .collect();
    assert_eq!(injected.len(), 2, "{kinds:?}");
    for entry in &injected {
        assert_eq!(entry["fault"], "fail (Riffle.InjectedFault)");
        assert_eq!(entry["rule"], "1");
        assert_eq!(entry["shard"], "shardId-000000000000");
    }
    // Each injected failure is followed by the mapping's failure decision and a retry; the third
    // invocation reaches the function.
    let failed = entries
        .iter()
        .filter(|e| e["kind"] == "failed")
        .map(|e| e.to_string())
        .collect::<Vec<_>>();
    assert_eq!(failed.len(), 2, "{kinds:?}");
    assert!(
        failed.iter().all(|f| f.contains("Riffle.InjectedFault")),
        "{failed:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "invoked").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "retry_scheduled").count(),
        2,
        "{kinds:?}"
    );
    let first_injected = kinds.iter().position(|k| *k == "fault_injected").unwrap();
    let succeeded = kinds.iter().position(|k| *k == "succeeded").unwrap();
    assert!(first_injected < succeeded, "{kinds:?}");

    let explained = riffle(&endpoint, &["explain", "--mapping", "ProbeRecords"]).await;
    let text = stdout(&explained);
    assert_eq!(
        text.matches("injected fault: fail (Riffle.InjectedFault) (riffle fault 1")
            .count(),
        2,
        "{text}"
    );

    let listed = stdout(&riffle(&endpoint, &["fault", "list"]).await);
    assert!(listed.contains("[done, fired 2 of 2 seen]"), "{listed}");
    let (_, rules) = http_get(&endpoint, "/_riffle/faults").await;
    assert_eq!(rules[0]["fired"], 2);
    assert_eq!(rules[0]["active"], false);
    let cleared = riffle(&endpoint, &["fault", "clear", "1"]).await;
    assert!(
        stdout(&cleared).contains("removed fault rule 1"),
        "{cleared:?}"
    );
    assert_fails_saying(
        &riffle(&endpoint, &["fault", "clear", "1"]).await,
        "no fault rule 1",
    );
    let cleared = riffle(&endpoint, &["fault", "clear"]).await;
    assert!(
        stdout(&cleared).contains("removed 0 fault rules"),
        "{cleared:?}"
    );

    // The emulator side: the stream's writes, then its reads.
    let kinesis_client = client(&endpoint);
    let writes = fault_add(
        &endpoint,
        &[
            "--stream",
            "fault-stream",
            "--writes",
            "--throttle",
            "--for",
            "5m",
        ],
    )
    .await;
    let line = stdout(&writes);
    assert!(
        line.starts_with("t1  throttle writes to stream fault-stream until "),
        "{writes:?}"
    );
    let refused = kinesis::try_put(&kinesis_client, "fault-stream", "k", "held back").await;
    assert_eq!(code(&refused), "ProvisionedThroughputExceededException");
    let reads = fault_add(
        &endpoint,
        &["--stream", "fault-stream", "--reads", "--throttle"],
    )
    .await;
    assert!(
        stdout(&reads).starts_with("t2  throttle reads of stream fault-stream  [active"),
        "{reads:?}"
    );
    wait_for_journal(&endpoint, "a read refused by the throttle", |entries| {
        entries.iter().any(|e| {
            e["kind"] == "poll_failed"
                && e["error"].as_str().is_some_and(|m| {
                    m.starts_with("throttled: Rate exceeded for stream fault-stream")
                })
        })
    })
    .await;
    let listed = stdout(&riffle(&endpoint, &["fault", "list"]).await);
    assert!(
        listed.contains("t1  throttle writes") && listed.contains("t2  throttle reads"),
        "{listed}"
    );
    let cleared = riffle(&endpoint, &["fault", "clear"]).await;
    assert!(
        stdout(&cleared).contains("removed 2 fault rules"),
        "{cleared:?}"
    );
    kinesis::put(&kinesis_client, "fault-stream", "k", "let through").await;
    wait_for_journal(&endpoint, "the second record invoked", |entries| {
        entries.iter().filter(|e| e["kind"] == "succeeded").count() == 2
    })
    .await;
}

#[tokio::test]
async fn a_queue_throttle_refuses_receives_until_it_ends_on_the_emulators_clock() {
    use riffle_emulator::throttle::{ThrottleTarget, Throttles};
    let throttles = Throttles::default();
    let clock = riffle_emulator::ManualClock::new(crate::support::T0);
    let (emulator, _) = crate::support::start_with(riffle_emulator::Config {
        throttles: throttles.clone(),
        clock: std::sync::Arc::new(clock.clone()),
        ..riffle_emulator::Config::default()
    })
    .await;
    let sqs = crate::support::sqs_client(&emulator.endpoint_url());
    let url = crate::support::sqs::queue(&sqs, "held", &[]).await;
    crate::support::sqs::send(&sqs, &url, "waiting").await;
    throttles.add(
        ThrottleTarget::QueueReceives("held".into()),
        Some(crate::support::T0 + 1_000),
    );
    let refused = sqs.receive_message().queue_url(&url).send().await;
    // The SDK reports the query-compatible code, RequestThrottled, as for AWS's own throttles.
    assert_eq!(code(&refused), "RequestThrottled");
    // Sends are not receives: still accepted.
    crate::support::sqs::send(&sqs, &url, "also waiting").await;
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(crate::support::sqs::receive(&sqs, &url, 10).await.len(), 2);
    assert!(throttles.list()[0].refused >= 1);
}
