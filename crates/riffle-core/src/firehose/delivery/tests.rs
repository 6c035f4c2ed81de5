//! The delivery machine: buffering, invocations, retries, writes, and the nothing-lost
//! invariant as a property test.

use base64::Engine as _;
use proptest::prelude::*;

use super::*;
use crate::firehose::settings::{RawDelivery, RawProcessor, RawS3Destination};

const T0: Millis = 1_732_550_400_000; // 2024-11-25T16:00:00Z

fn raw(processor: bool, backup: bool) -> RawDelivery {
    let destination = RawS3Destination {
        bucket_arn: "arn:aws:s3:::archive".into(),
        buffer_size_mb: Some(1),
        buffer_interval_seconds: Some(60),
        ..RawS3Destination::default()
    };
    RawDelivery {
        stream_name: "logs".into(),
        stream_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs".into(),
        version: 1,
        region: "us-east-1".into(),
        source_stream_arn: None,
        backup: backup.then(|| RawS3Destination {
            bucket_arn: "arn:aws:s3:::backup".into(),
            prefix: Some("source/".into()),
            ..destination.clone()
        }),
        destination,
        processor: processor.then(|| RawProcessor {
            parameters: vec![
                (
                    "LambdaArn".into(),
                    "arn:aws:lambda:us-east-1:000000000000:function:t".into(),
                ),
                ("BufferIntervalInSeconds".into(), "10".into()),
                ("NumberOfRetries".into(), "2".into()),
            ],
        }),
    }
}

fn machine(processor: bool, backup: bool) -> Delivery {
    Delivery::new(DeliverySettings::new(&raw(processor, backup)).unwrap())
}

fn record(position: u64, data: &str) -> SourceRecord {
    SourceRecord {
        position,
        record_id: format!("id-{position}"),
        arrival: T0 + position,
        data: data.as_bytes().to_vec(),
        kinesis: None,
    }
}

fn writes(actions: &[Action]) -> Vec<(u64, String, Vec<u8>, ObjectKind)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Write {
                write_id,
                key,
                body,
                kind,
                ..
            } => Some((*write_id, key.clone(), body.clone(), *kind)),
            _ => None,
        })
        .collect()
}

fn invocations(actions: &[Action]) -> Vec<(String, serde_json::Value)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Invoke {
                invocation_id,
                payload,
                ..
            } => Some((
                invocation_id.clone(),
                serde_json::from_str(payload).unwrap(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn without_a_processor_the_interval_or_the_size_delivers_first() {
    let mut m = machine(false, false);
    assert!(writes(&m.put(vec![record(0, "a"), record(1, "b")], T0)).is_empty());
    assert_eq!(m.next_wake(), Some(T0 + 60_000));
    assert!(m.tick(T0 + 59_999).is_empty());
    let out = m.tick(T0 + 60_000);
    let w = writes(&out);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].2, b"ab",
        "records are concatenated without a delimiter"
    );
    assert!(
        w[0].1
            .starts_with("2024/11/25/16/logs-1-2024-11-25-16-01-00-"),
        "{}",
        w[0].1
    );
    assert!(
        !out.iter().any(|a| matches!(a, Action::Acknowledge { .. })),
        "not before the write"
    );
    let out = m.written(w[0].0, Ok(()), T0 + 60_001);
    assert_eq!(out, vec![Action::Acknowledge { below: 2 }]);
    assert_eq!(m.counters().delivered_objects, 1);

    // One MiB fills the buffer at once.
    let big = "x".repeat(1024 * 1024);
    let w = writes(&m.put(vec![record(2, &big)], T0 + 70_000));
    assert_eq!(w.len(), 1);
}

#[test]
fn a_transformation_is_invoked_and_judged() {
    let mut m = machine(true, false);
    m.put(
        vec![record(0, "keep"), record(1, "drop"), record(2, "bad")],
        T0,
    );
    assert_eq!(m.next_wake(), Some(T0 + 10_000));
    let out = m.tick(T0 + 10_000);
    let calls = invocations(&out);
    assert_eq!(calls.len(), 1);
    let (id, event) = &calls[0];
    assert_eq!(event["invocationId"], id.as_str());
    assert_eq!(
        event["deliveryStreamArn"],
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs"
    );
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["records"][0]["recordId"], "id-0");
    assert_eq!(event["records"][0]["data"], "a2VlcA==");
    assert_eq!(event["records"][0]["approximateArrivalTimestamp"], T0);
    assert!(event.get("sourceKinesisStreamArn").is_none());
    let body = br#"{"records":[{"recordId":"id-0","result":"Ok","data":"S0VFUA=="},
        {"recordId":"id-1","result":"Dropped","data":""},
        {"recordId":"id-2","result":"ProcessingFailed","data":"YmFk"}]}"#;
    m.invoked(id, &Outcome::Success(body.to_vec()), T0 + 10_100);
    let out = m.tick(T0 + 70_100);
    let w = writes(&out);
    assert_eq!(w.len(), 2);
    let delivered = w.iter().find(|w| w.3 == ObjectKind::Delivered).unwrap();
    assert_eq!(delivered.2, b"KEEP");
    let failed = w
        .iter()
        .find(|w| w.3 == ObjectKind::ProcessingFailed)
        .unwrap();
    assert!(
        failed
            .1
            .starts_with("processing-failed/2024/11/25/16/logs-1-"),
        "{}",
        failed.1
    );
    let lines = ProcessingFailedRecord::parse_lines(&failed.2).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].error_code, "Lambda.ProcessingFailed");
    assert_eq!(lines[0].attempts_made, 1);
    assert_eq!(lines[0].data(), b"bad");
    assert_eq!(lines[0].arrival_timestamp, T0 + 2);
    let c = m.counters();
    assert_eq!(
        (c.records_in, c.transformed, c.dropped, c.failed),
        (3, 1, 1, 1)
    );
}

#[test]
fn invocation_errors_are_retried_then_fail_every_record() {
    let mut m = machine(true, false);
    m.put(vec![record(0, "a")], T0);
    let mut out = m.tick(T0 + 10_000);
    for attempt in 1..=3 {
        let calls = invocations(&out);
        assert_eq!(calls.len(), 1, "attempt {attempt}");
        out = m.invoked(
            &calls[0].0,
            &Outcome::function_error("Boom", "no"),
            T0 + 10_000 + attempt,
        );
    }
    assert!(
        invocations(&out).is_empty(),
        "NumberOfRetries 2: three attempts"
    );
    let decisions = m.take_decisions();
    let failures: Vec<bool> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::InvocationFailed { code, retrying, .. } => {
                assert_eq!(code, "Lambda.FunctionError");
                Some(*retrying)
            }
            _ => None,
        })
        .collect();
    assert_eq!(failures, [true, true, false]);
    assert_eq!(
        serde_json::to_value(&decisions[0]).unwrap()["kind"],
        "invoked",
        "the journal's shape"
    );
    let w = writes(&m.tick(T0 + 80_000));
    let lines = ProcessingFailedRecord::parse_lines(&w[0].2).unwrap();
    assert_eq!(lines[0].attempts_made, 3);
    assert_eq!(lines[0].error_code, "Lambda.FunctionError");
    assert_eq!(
        lines[0].lambda_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:t:$LATEST"
    );
    assert_eq!(lines[0].attempt_ending_timestamp, T0 + 10_003);
    assert_eq!(m.counters().invocation_errors, 3);
}

#[test]
fn a_buffer_is_split_into_invocations_within_six_mib() {
    let mut settings = DeliverySettings::new(&raw(true, false)).unwrap();
    settings.processor.as_mut().unwrap().buffer_bytes = 8 * 1024 * 1024;
    let mut m = Delivery::new(settings);
    let data = "y".repeat(900 * 1024);
    let records: Vec<_> = (0..8).map(|n| record(n, &data)).collect();
    let calls = invocations(
        &m.tick(T0)
            .into_iter()
            .chain(m.put(records, T0))
            .chain(m.tick(T0 + 10_000))
            .collect::<Vec<_>>(),
    );
    assert!(calls.len() >= 2);
    let mut total = 0;
    for (_, event) in &calls {
        assert!(event.to_string().len() <= MAX_PAYLOAD_BYTES);
        total += event["records"].as_array().unwrap().len();
    }
    assert_eq!(total, 8);
}

#[test]
fn a_kinesis_source_adds_its_arn_and_record_metadata() {
    let mut raw = raw(true, false);
    raw.source_stream_arn = Some("arn:aws:kinesis:us-east-1:000000000000:stream/app-logs".into());
    let mut m = Delivery::new(DeliverySettings::new(&raw).unwrap());
    let mut r = record(0, "a");
    r.kinesis = Some(crate::firehose::transform::KinesisRecordMetadata {
        shard_id: "shardId-000000000001".into(),
        partition_key: "k".into(),
        approximate_arrival_timestamp: T0 - 5,
        sequence_number: "4960".into(),
        subsequence_number: 0,
    });
    m.put(vec![r], T0);
    let calls = invocations(&m.tick(T0 + 10_000));
    let event = &calls[0].1;
    assert_eq!(
        event["sourceKinesisStreamArn"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/app-logs"
    );
    assert_eq!(
        event["records"][0]["kinesisRecordMetadata"],
        serde_json::json!({"shardId": "shardId-000000000001", "partitionKey": "k",
            "approximateArrivalTimestamp": T0 - 5, "sequenceNumber": "4960", "subsequenceNumber": 0})
    );
}

#[test]
fn failed_writes_are_retried_with_the_same_key_and_body() {
    let mut m = machine(false, true);
    m.put(vec![record(0, "a")], T0);
    let first = writes(&m.tick(T0 + 60_000));
    assert_eq!(first.len(), 2, "the object and its backup");
    let backup = first.iter().find(|w| w.3 == ObjectKind::Backup).unwrap();
    assert!(
        backup.1.starts_with("source/2024/11/25/16/"),
        "{}",
        backup.1
    );
    let object = first.iter().find(|w| w.3 == ObjectKind::Delivered).unwrap();
    assert!(
        m.written(object.0, Err("InternalError".into()), T0 + 60_000)
            .is_empty()
    );
    assert_eq!(m.next_wake(), Some(T0 + 61_000));
    let again = writes(&m.tick(T0 + 61_000));
    assert_eq!(again, vec![object.clone()]);
    assert!(
        m.written(object.0, Ok(()), T0 + 61_001).is_empty(),
        "the backup is unwritten"
    );
    assert_eq!(
        m.written(backup.0, Ok(()), T0 + 61_002),
        vec![Action::Acknowledge { below: 1 }]
    );
    assert!(m.is_idle());
    assert_eq!(m.counters().write_failures, 1);
}

/// How the scripted function answers one invocation.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Error,
    Malformed,
    /// Per record, by `(index + seed) % 3`: Ok, Dropped, ProcessingFailed.
    Results(u8),
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        1 => Just(Answer::Error),
        1 => Just(Answer::Malformed),
        4 => any::<u8>().prop_map(Answer::Results),
    ]
}

/// Scripted answers and S3, recording where each record (by its `<n:` tag) ended.
struct Harness {
    answers: Vec<Answer>,
    write_ok: Vec<bool>,
    answer_at: usize,
    write_at: usize,
    delivered: Vec<u64>,
    failed: Vec<u64>,
    dropped: Vec<u64>,
    backed_up: Vec<u64>,
    backup: bool,
    acknowledged: u64,
}

fn tags(text: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(text)
        .split('<')
        .skip(1)
        .map(|t| t.split(':').next().unwrap().parse().unwrap())
        .collect()
}

impl Harness {
    fn respond(&mut self, event: &serde_json::Value) -> Outcome {
        let answer = self.answers[self.answer_at % self.answers.len()];
        self.answer_at += 1;
        let records = event["records"].as_array().unwrap();
        match answer {
            Answer::Error => Outcome::function_error("Boom", "scripted"),
            Answer::Malformed => Outcome::Success(br#"{"records":[]}"#.to_vec()),
            Answer::Results(seed) => {
                let records: Vec<_> = records
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let result = ["Ok", "Dropped", "ProcessingFailed"][(i + seed as usize) % 3];
                        if result == "Dropped" {
                            let data = base64::engine::general_purpose::STANDARD
                                .decode(r["data"].as_str().unwrap())
                                .unwrap();
                            self.dropped.extend(tags(&data));
                        }
                        serde_json::json!({"recordId": r["recordId"], "result": result, "data": r["data"]})
                    })
                    .collect();
                Outcome::Success(
                    serde_json::to_vec(&serde_json::json!({"records": records})).unwrap(),
                )
            }
        }
    }

    /// Performs `actions` and what they lead to; checks every acknowledgement.
    fn perform(
        &mut self,
        m: &mut Delivery,
        mut queue: Vec<Action>,
        now: Millis,
    ) -> Result<(), TestCaseError> {
        while let Some(action) = queue.pop() {
            match action {
                Action::Invoke {
                    invocation_id,
                    payload,
                    ..
                } => {
                    let event: serde_json::Value = serde_json::from_str(&payload).unwrap();
                    prop_assert!(payload.len() <= MAX_PAYLOAD_BYTES);
                    let outcome = self.respond(&event);
                    queue.extend(m.invoked(&invocation_id, &outcome, now));
                }
                Action::Write {
                    write_id,
                    body,
                    kind,
                    ..
                } => {
                    let ok = self.write_ok[self.write_at % self.write_ok.len()]
                        || self.write_at % 5 == 4;
                    self.write_at += 1;
                    if ok {
                        match kind {
                            ObjectKind::Delivered => self.delivered.extend(tags(&body)),
                            ObjectKind::ProcessingFailed => {
                                for line in ProcessingFailedRecord::parse_lines(&body).unwrap() {
                                    self.failed.extend(tags(&line.data()));
                                }
                            }
                            ObjectKind::Backup => self.backed_up.extend(tags(&body)),
                        }
                    }
                    let result = if ok { Ok(()) } else { Err("503".into()) };
                    queue.extend(m.written(write_id, result, now));
                }
                Action::Acknowledge { below } => {
                    prop_assert!(below > self.acknowledged);
                    for n in self.acknowledged..below {
                        prop_assert!(
                            self.delivered.contains(&n)
                                || self.failed.contains(&n)
                                || self.dropped.contains(&n),
                            "record {} acknowledged before it was settled",
                            n
                        );
                        prop_assert!(
                            !self.backup || self.backed_up.contains(&n),
                            "record {} acknowledged before it was backed up",
                            n
                        );
                    }
                    self.acknowledged = below;
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn nothing_is_lost(
        processor in any::<bool>(),
        backup in any::<bool>(),
        sizes in prop::collection::vec(1..200_000usize, 1..40),
        gaps in prop::collection::vec(0..20_000u64, 1..8),
        answers in prop::collection::vec(answer(), 1..16),
        write_ok in prop::collection::vec(prop::bool::weighted(0.7), 1..8),
    ) {
        let mut m = machine(processor, backup);
        let mut h = Harness {
            answers, write_ok, answer_at: 0, write_at: 0, delivered: Vec::new(), failed: Vec::new(),
            dropped: Vec::new(), backed_up: Vec::new(), backup, acknowledged: 0,
        };
        let mut now = T0;
        let total = sizes.len() as u64;
        for (n, size) in sizes.iter().enumerate() {
            let data = format!("<{n}:{}>", "z".repeat(*size));
            let actions = m.put(vec![record(n as u64, &data)], now);
            h.perform(&mut m, actions, now)?;
            now += gaps[n % gaps.len()];
            let actions = m.tick(now);
            h.perform(&mut m, actions, now)?;
        }
        // Run the clock to each wake-up until everything settles.
        let mut rounds = 0;
        while let Some(at) = m.next_wake() {
            rounds += 1;
            prop_assert!(rounds < 10_000, "the machine settles");
            now = now.max(at);
            let actions = m.tick(now);
            h.perform(&mut m, actions, now)?;
        }
        prop_assert!(m.is_idle());
        prop_assert_eq!(h.acknowledged, total);
        let mut seen: Vec<u64> = [h.delivered.clone(), h.failed.clone(), h.dropped.clone()].concat();
        prop_assert_eq!(seen.len() as u64, total, "each record once: delivered, failed or dropped");
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..total).collect::<Vec<_>>());
        let c = m.counters();
        prop_assert_eq!(c.dropped, h.dropped.len() as u64);
        prop_assert_eq!(c.transformed + c.dropped + c.failed, if processor { total } else { 0 });
        if backup {
            h.backed_up.sort_unstable();
            prop_assert_eq!(h.backed_up, (0..total).collect::<Vec<_>>());
        }
    }
}

#[test]
fn draining_delivers_without_waiting_for_the_hints() {
    let mut m = machine(true, false);
    m.put(vec![record(0, "a")], T0);
    let calls = invocations(&m.drain(T0 + 1));
    assert_eq!(calls.len(), 1, "the processor's buffer goes at once");
    let body = br#"{"records":[{"recordId":"id-0","result":"Ok","data":"QQ=="}]}"#;
    let w = writes(&m.invoked(&calls[0].0, &Outcome::Success(body.to_vec()), T0 + 2));
    assert_eq!(w.len(), 1, "and so does the destination's");
    assert_eq!(w[0].2, b"A");
}

#[test]
fn records_put_during_an_invocation_form_the_next_one() {
    let mut m = machine(true, false);
    m.put(vec![record(0, "a")], T0);
    let first = invocations(&m.tick(T0 + 10_000));
    m.put(vec![record(1, "b")], T0 + 10_001);
    let second = invocations(&m.tick(T0 + 20_001));
    assert_eq!(second.len(), 1, "invoked while the first is still running");
    assert_eq!(second[0].1["records"][0]["recordId"], "id-1");
    assert_eq!(m.in_flight().0, 2);
    assert_ne!(first[0].0, second[0].0, "each invocation has its own id");
}
