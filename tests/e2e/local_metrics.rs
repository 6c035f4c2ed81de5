//! `GET /_riffle/metrics` on a running `riffle local`, as a Prometheus scraper sees it: one
//! stream and one queue, both read by `lambda-probe` (which succeeds on every event). Records
//! are put and a message sent; a second function, `stalled`, reads the same stream with a reserved
//! concurrency of 0, so every invocation of it is throttled; once the status lines say they were handled, the scrape must
//! parse as OpenMetrics text and say the same counts as the status (one source of truth), and
//! the function's invocations, durations and cold starts must add up.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::local::wait_for;
use crate::support::cli::{
    kinesis_event, probe_function, queue_resource, sam_template, start_local, stream_resource,
    temp_dir,
};
use crate::support::{client, kinesis, sqs, sqs_client};

/// The template: the stream and queue, both read by `probe`, and `stalled` reading the stream.
fn template() -> String {
    let records = format!("      Events:\n{}", kinesis_event("Records", "Stream", ""));
    let work = "        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 10
";
    sam_template(&[
        stream_resource("Stream", "metrics-stream"),
        queue_resource("Jobs", "metrics-jobs"),
        probe_function("Probe", "probe", &format!("{records}{work}")),
        probe_function(
            "Stalled",
            "stalled",
            &format!("      ReservedConcurrentExecutions: 0\n{records}"),
        ),
    ])
}

/// Waits (bounded) for a status line of `mapping` that satisfies `wanted`.
fn wait_for_status(
    events: &std::sync::mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
    mapping: &str,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    wait_for(events, seen, Duration::from_secs(60), what, |e| {
        e["event"] == "status" && e["mapping"] == mapping && wanted(e)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_scrape_parses_and_counts_what_the_status_counts() {
    let dir = temp_dir("metrics");
    let (_child, _guard, events, mut seen, endpoint) = start_local(&dir, &template(), "1");

    let kinesis = client(&endpoint);
    for n in 0..3 {
        kinesis::put(&kinesis, "metrics-stream", "k", format!("record {n}")).await;
    }
    let sqs = sqs_client(&endpoint);
    let url = sqs
        .get_queue_url()
        .queue_name("metrics-jobs")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    sqs::send(&sqs, &url, "job 1").await;

    let stream_status = wait_for_status(
        &events,
        &mut seen,
        "ProbeRecords",
        "the three records invoked",
        |e| {
            e["invoked_records"].as_u64() == Some(3)
                && e["shards"]["shardId-000000000000"]["in_flight"] == 0
        },
    );
    let queue_status = wait_for_status(
        &events,
        &mut seen,
        "ProbeWork",
        "the message deleted",
        |e| e["deleted"].as_u64() == Some(1),
    );
    wait_for_status(
        &events,
        &mut seen,
        "StalledRecords",
        "a throttled invocation retried",
        |e| e["retries"].as_u64() >= Some(1),
    );

    let (head, body) = get(&endpoint, "/_riffle/metrics", None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    let samples = parse_openmetrics(&body);
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let key = (name.to_owned(), labels_key(labels));
        *samples
            .get(&key)
            .unwrap_or_else(|| panic!("no {key:?} in:\n{body}"))
    };
    let stream = [
        ("function", "probe"),
        ("mapping", "ProbeRecords"),
        ("stream", "metrics-stream"),
    ];
    let shard = [
        ("function", "probe"),
        ("mapping", "ProbeRecords"),
        ("shard", "shardId-000000000000"),
        ("stream", "metrics-stream"),
    ];
    let queue = [
        ("function", "probe"),
        ("mapping", "ProbeWork"),
        ("queue", "metrics-jobs"),
    ];
    let function = [("function", "probe")];
    let count = |v: &Value| v.as_u64().unwrap() as f64;

    // The stream mapping: what its status line said.
    assert_eq!(value("riffle_polled_events_total", &stream), 3.0);
    assert_eq!(value("riffle_invoked_events_total", &stream), 3.0);
    let shard_status = &stream_status["shards"]["shardId-000000000000"];
    let stream_invocations = value("riffle_mapping_invocations_total", &shard);
    assert_eq!(stream_invocations, count(&shard_status["invocations"]));
    assert_eq!(value("riffle_mapping_errors_total", &shard), 0.0);
    assert!(value("riffle_iterator_age_milliseconds", &shard) >= 0.0);
    // The throttled mapping and function: throttles, and no invocation of the function.
    let stalled_shard = [
        ("function", "stalled"),
        ("mapping", "StalledRecords"),
        ("shard", "shardId-000000000000"),
        ("stream", "metrics-stream"),
    ];
    assert!(value("riffle_mapping_throttles_total", &stalled_shard) >= 1.0);
    assert_eq!(value("riffle_mapping_errors_total", &stalled_shard), 0.0);
    assert_eq!(value("riffle_mapping_throttles_total", &shard), 0.0);
    assert!(value("riffle_throttles_total", &[("function", "stalled")]) >= 1.0);
    assert_eq!(
        value("riffle_invocations_total", &[("function", "stalled")]),
        0.0
    );
    // The queue mapping.
    assert_eq!(value("riffle_polled_events_total", &queue), 1.0);
    assert_eq!(value("riffle_invoked_events_total", &queue), 1.0);
    assert_eq!(value("riffle_deleted_events_total", &queue), 1.0);
    let queue_invocations = value("riffle_mapping_invocations_total", &queue);
    assert_eq!(queue_invocations, count(&queue_status["invocations"]));
    assert!(value("riffle_pollers", &queue) >= 1.0);
    // The function: every invocation came from one of the two mappings, and each has a
    // duration; one environment served them one at a time.
    let invocations = value("riffle_invocations_total", &function);
    assert_eq!(invocations, stream_invocations + queue_invocations);
    assert_eq!(value("riffle_errors_total", &function), 0.0);
    assert_eq!(value("riffle_throttles_total", &function), 0.0);
    assert_eq!(value("riffle_concurrent_executions", &function), 0.0);
    assert!(value("riffle_cold_starts_total", &function) >= 1.0);
    assert_eq!(
        value("riffle_duration_milliseconds_count", &function),
        invocations
    );
    let mut inf = function.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        value("riffle_duration_milliseconds_bucket", &inf),
        invocations
    );

    // A scraper that only takes Prometheus' text format gets it.
    let (head, body) = get(
        &endpoint,
        "/_riffle/metrics",
        Some("text/plain; version=0.0.4"),
    )
    .await;
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert!(!body.contains("# EOF"), "{body}");
    assert!(
        body.contains("riffle_invocations_total{function=\"probe\"} "),
        "{body}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET {endpoint}{path}` over HTTP/1.1 (with `Accept` if given): the head and the body.
async fn get(endpoint: &str, path: &str, accept: Option<&str>) -> (String, String) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    (head.to_owned(), body.to_owned())
}

/// Labels in a fixed order, for looking samples up whatever order they were written in.
fn labels_key(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut key: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    key.sort();
    key
}

type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

/// Checks `text` against the OpenMetrics text format's rules as far as a scraper relies on them,
/// and returns its samples: every family has `# TYPE` (and `# HELP`) before its samples, once; a
/// sample's name is its family's name or that plus the suffix its type allows; labels are
/// `name="value"` with escapes; values are numbers; `# EOF` ends the text, once.
fn parse_openmetrics(text: &str) -> Samples {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .expect("ends with a newline")
        .split('\n')
        .collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF:\n{text}");
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut samples = Samples::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap().to_owned());
            let rest = parts.next().unwrap_or_default();
            match kind {
                "TYPE" => {
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "info",
                            "stateset",
                            "unknown",
                            "summary",
                            "gaugehistogram"
                        ]
                        .contains(&rest),
                        "{line}"
                    );
                    assert!(
                        types.insert(name.clone(), rest.to_owned()).is_none(),
                        "one TYPE per family: {line}"
                    );
                    current = Some((name, rest.to_owned()));
                }
                "HELP" | "UNIT" => assert!(!rest.is_empty(), "{line}"),
                _ => panic!("unknown metadata line {line:?}"),
            }
            continue;
        }
        let (family, kind) = current
            .clone()
            .unwrap_or_else(|| panic!("a sample before any TYPE: {line}"));
        let (name, labels, value) = sample(line);
        let suffix = name
            .strip_prefix(&family)
            .unwrap_or_else(|| panic!("{name} is not of family {family}"));
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_sum", "_count", "_created"],
            _ => &[""],
        };
        assert!(
            allowed.contains(&suffix),
            "{name}: suffix {suffix:?} for a {kind}"
        );
        let mut key = labels;
        key.sort();
        assert!(
            samples.insert((name.clone(), key), value).is_none(),
            "a repeated sample: {line}"
        );
    }
    samples
}

/// One sample line: name, labels, value.
fn sample(line: &str) -> (String, Vec<(String, String)>, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    assert!(is_name(name), "a metric name: {line}");
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            let (key, after) = inner
                .split_once("=\"")
                .unwrap_or_else(|| panic!("a label key=\"value\": {line}"));
            assert!(is_name(key), "a label name {key:?}: {line}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let close = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => panic!("an escape at the end: {line}"),
                    },
                    Some((_, c)) => value.push(c),
                    None => panic!("an unclosed label value: {line}"),
                }
            };
            labels.push((key.to_owned(), value));
            let after = &after[close + 1..];
            if let Some(next) = after.strip_prefix(',') {
                inner = next;
                continue;
            }
            rest = after
                .strip_prefix('}')
                .unwrap_or_else(|| panic!(", or }} after a label value: {line}"));
            break;
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("a space before the value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("a number: {line}")),
    };
    (name.to_owned(), labels, value)
}
