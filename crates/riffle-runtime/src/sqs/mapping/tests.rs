//! Runtime tests of SQS mappings: the real `SqsMapping` driven on a manual clock, with an
//! in-memory queue and a scripted function. No emulator, no network, no sleeping: the test moves
//! the clock and lets the tasks run until they wait on it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::{Clock, ManualClock};
use riffle_core::invocation::Outcome;
use riffle_core::sqs::config::{RawScalingConfig, RawSqsMapping, SqsFacts};
use riffle_core::sqs::poller::{PollerSettings, Settled};
use tokio::sync::watch;

use super::*;
use crate::MemoryQueue;
use riffle_core::sqs::poller::ReceiveRequest;

const T0: u64 = 1_700_000_000_000;
const VISIBILITY_MS: u64 = 30_000;

/// One invocation the scripted function saw.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    /// Virtual ms since T0.
    at: u64,
    bodies: Vec<String>,
    receive_counts: Vec<String>,
    /// The event as sent.
    payload: String,
}

type Script = dyn Fn(usize, &Seen) -> Outcome + Send + Sync;

struct Harness {
    clock: ManualClock,
    queue: MemoryQueue,
    seen: Arc<Mutex<Vec<Seen>>>,
    mapping: Arc<SqsMapping<MemoryQueue, BoxInvoker>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

type BoxInvoker = tower::util::BoxCloneSyncService<InvokeRequest, Outcome, Infallible>;

fn raw(extra: impl FnOnce(&mut RawSqsMapping)) -> RawSqsMapping {
    let mut raw = RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs".into()),
        function_name: Some("f".into()),
        ..RawSqsMapping::default()
    };
    extra(&mut raw);
    raw
}

/// Starts a mapping of `raw` over `queue`; the function answers with `script` (given the call
/// number and what it saw) after `work` of virtual time.
fn start(
    clock: &ManualClock,
    queue: &MemoryQueue,
    raw: RawSqsMapping,
    work: Duration,
    script: impl Fn(usize, &Seen) -> Outcome + Send + Sync + 'static,
) -> Harness {
    start_limited(clock, queue, raw, work, None, script)
}

/// As [`start`], for a function whose reserved concurrency is `reserved`: an invocation that
/// finds `reserved` invocations running is throttled before the function sees it, as Lambda
/// does.
fn start_limited(
    clock: &ManualClock,
    queue: &MemoryQueue,
    raw: RawSqsMapping,
    work: Duration,
    reserved: Option<usize>,
    script: impl Fn(usize, &Seen) -> Outcome + Send + Sync + 'static,
) -> Harness {
    let facts = SqsFacts {
        fifo: queue.arn().ends_with(".fifo"),
        visibility_timeout_seconds: VISIBILITY_MS / 1000,
        function_timeout_seconds: 3,
    };
    let config = raw.validate(facts).unwrap();
    let settings = PollerSettings::new(&config, "us-east-1", facts).unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let script: Arc<Script> = Arc::new(script);
    let (recorder, call_clock) = (Arc::clone(&seen), clock.clone());
    let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let invoker = tower::service_fn(move |request: InvokeRequest| {
        let (recorder, call_clock, script, running) = (
            Arc::clone(&recorder),
            call_clock.clone(),
            Arc::clone(&script),
            Arc::clone(&running),
        );
        async move {
            if reserved.is_some_and(|limit| running.load(Ordering::SeqCst) >= limit) {
                return Ok(Outcome::Throttled);
            }
            running.fetch_add(1, Ordering::SeqCst);
            let event: serde_json::Value = serde_json::from_str(&request.payload).unwrap();
            let records = event["Records"].as_array().unwrap();
            let seen = Seen {
                at: call_clock.now_millis() - T0,
                bodies: records
                    .iter()
                    .map(|r| r["body"].as_str().unwrap().to_owned())
                    .collect(),
                receive_counts: records
                    .iter()
                    .map(|r| {
                        r["attributes"]["ApproximateReceiveCount"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    })
                    .collect(),
                payload: request.payload.clone(),
            };
            let number = {
                let mut all = recorder.lock().unwrap();
                all.push(seen.clone());
                all.len() - 1
            };
            if !work.is_zero() {
                call_clock
                    .sleep_until(call_clock.now_millis() + work.as_millis() as u64)
                    .await;
            }
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<Outcome, Infallible>(script(number, &seen))
        }
    });
    let mapping = Arc::new(SqsMapping::new(
        settings,
        SqsMappingOptions::new(
            "m",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            Duration::from_secs(3),
        ),
        queue.clone(),
        BoxInvoker::new(invoker),
        Arc::new(clock.clone()),
    ));
    let (stop, stopped) = watch::channel(false);
    let running = Arc::clone(&mapping);
    let task = tokio::spawn(async move { running.run(stopped).await });
    Harness {
        clock: clock.clone(),
        queue: queue.clone(),
        seen,
        mapping,
        stop,
        task,
    }
}

impl Harness {
    /// Moves the clock in `step` increments until `done` holds, or panics after `limit`.
    async fn run_until(&self, step: Duration, limit: Duration, done: impl Fn(&Self) -> bool) {
        let finished = self.clock.run_until(step, limit, || done(self)).await;
        assert!(
            finished,
            "not done after {limit:?} of virtual time; seen: {:?}; journal: {:?}",
            self.seen.lock().unwrap(),
            self.mapping
                .journal()
                .iter()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
        );
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn metric(&self, counter: impl Fn(&SqsMetrics) -> &AtomicU64) -> u64 {
        counter(self.mapping.metrics()).load(Ordering::Relaxed)
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        ManualClock::settle().await;
        self.task.await.unwrap();
    }
}

fn error() -> Outcome {
    Outcome::function_error("Error", "")
}

fn ok() -> Outcome {
    Outcome::Success(b"null".to_vec())
}

fn new_queue(clock: &ManualClock, name: &str) -> MemoryQueue {
    MemoryQueue::new(name, VISIBILITY_MS, Arc::new(clock.clone()))
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn success_deletes_every_message_of_the_batch() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    for n in 0..25 {
        queue.send(format!("m{n}"));
    }
    let h = start(&clock, &queue, raw(|_| {}), Duration::ZERO, |_, _| ok());
    h.run_until(Duration::from_millis(100), Duration::from_secs(5), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let seen = h.seen();
    assert!(seen.iter().all(|s| s.bodies.len() <= 10), "BatchSize 10");
    let mut bodies: Vec<String> = seen.iter().flat_map(|s| s.bodies.clone()).collect();
    bodies.sort();
    let mut expected: Vec<String> = (0..25).map(|n| format!("m{n}")).collect();
    expected.sort();
    assert_eq!(bodies, expected, "each message invoked exactly once");
    assert_eq!(h.metric(|m| &m.deleted), 25);
    assert_eq!(h.queue.deleted().len(), 25);
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_failed_batch_returns_after_the_visibility_timeout_and_redrive_moves_it_to_the_dlq() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    let dlq = new_queue(&clock, "jobs-dlq");
    queue.redrive_to(&dlq, 2);
    queue.send("poison");
    let h = start(&clock, &queue, raw(|_| {}), Duration::ZERO, |_, _| error());
    h.run_until(Duration::from_millis(500), Duration::from_secs(120), |_| {
        dlq.bodies() == ["poison"]
    })
    .await;
    let seen = h.seen();
    let times: Vec<u64> = seen.iter().map(|s| s.at).collect();
    assert_eq!(
        times.len(),
        2,
        "maxReceiveCount 2: two invocations, then the DLQ"
    );
    assert!(
        times[1] >= VISIBILITY_MS && times[1] < VISIBILITY_MS + 1_000,
        "the retry waits for the visibility timeout: {times:?}"
    );
    assert_eq!(seen[1].receive_counts, ["2"]);
    assert!(
        h.queue.deleted().is_empty(),
        "the engine never deletes a failed message"
    );
    assert!(h.queue.bodies().is_empty());
    assert_eq!(h.metric(|m| &m.failed), 2);
    assert_eq!(h.metric(|m| &m.errors), 2);
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn reported_failures_return_alone_and_the_rest_are_deleted() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    let ids: Vec<String> = ["a", "b", "c"].iter().map(|b| queue.send(*b)).collect();
    let failed = ids[1].clone();
    let h = start(
        &clock,
        &queue,
        raw(|r| r.function_response_types = Some(vec!["ReportBatchItemFailures".into()])),
        Duration::ZERO,
        move |n, _| {
            if n == 0 {
                Outcome::Success(
                    format!(r#"{{"batchItemFailures":[{{"itemIdentifier":"{failed}"}}]}}"#)
                        .into_bytes(),
                )
            } else {
                ok()
            }
        },
    );
    h.run_until(Duration::from_millis(500), Duration::from_secs(60), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let seen = h.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].bodies, ["a", "b", "c"]);
    assert_eq!(
        seen[1].bodies,
        ["b"],
        "only the reported message comes back"
    );
    assert!(seen[1].at >= VISIBILITY_MS);
    assert_eq!(
        h.queue.deleted(),
        [ids[0].clone(), ids[2].clone(), ids[1].clone()]
    );
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn filtered_out_messages_are_deleted_without_invoking() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    queue.send(r#"{"kind":"order","n":1}"#);
    queue.send(r#"{"kind":"refund","n":2}"#);
    queue.send("not json");
    let h = start(
        &clock,
        &queue,
        raw(|r| {
            r.filter_criteria = Some(
                serde_json::from_value(serde_json::json!({
                    "Filters": [{"Pattern": r#"{"body":{"kind":["order"]}}"#}]
                }))
                .unwrap(),
            );
        }),
        Duration::ZERO,
        |_, _| ok(),
    );
    h.run_until(Duration::from_millis(100), Duration::from_secs(5), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let bodies: Vec<String> = h.seen().iter().flat_map(|s| s.bodies.clone()).collect();
    assert_eq!(bodies, [r#"{"kind":"order","n":1}"#]);
    assert_eq!(h.metric(|m| &m.filtered), 2);
    assert_eq!(
        h.queue.deleted().len(),
        3,
        "filtered messages are deleted, as on AWS"
    );
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn fifo_groups_stay_in_order_under_failures_while_other_groups_proceed() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs.fifo");
    for body in ["a1", "a2", "a3"] {
        queue.send_to_group(body, Some("a"));
    }
    for body in ["b1", "b2"] {
        queue.send_to_group(body, Some("b"));
    }
    let failed_once = Arc::new(Mutex::new(false));
    let h = start(
        &clock,
        &queue,
        raw(|r| r.batch_size = Some(1)),
        Duration::from_millis(100),
        move |_, seen| {
            let mut failed = failed_once.lock().unwrap();
            if seen.bodies == ["a2"] && !*failed {
                *failed = true;
                error()
            } else {
                ok()
            }
        },
    );
    h.run_until(Duration::from_millis(100), Duration::from_secs(60), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let seen = h.seen();
    let order: Vec<&str> = seen.iter().map(|s| s.bodies[0].as_str()).collect();
    let group =
        |g: char| -> Vec<&str> { order.iter().copied().filter(|b| b.starts_with(g)).collect() };
    assert_eq!(
        group('a'),
        ["a1", "a2", "a2", "a3"],
        "a3 waits for a2's retry"
    );
    assert_eq!(group('b'), ["b1", "b2"]);
    let at = |body: &str, nth: usize| {
        seen.iter()
            .filter(|s| s.bodies[0] == body)
            .nth(nth)
            .unwrap()
            .at
    };
    assert!(
        at("b2", 0) < at("a2", 1),
        "group b is not held up by group a's failure"
    );
    assert!(at("a2", 1) >= VISIBILITY_MS);
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn throttles_retry_the_batch_without_receiving_it_again() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    queue.send("m");
    let h = start(&clock, &queue, raw(|_| {}), Duration::ZERO, |n, _| {
        if n < 2 { Outcome::Throttled } else { ok() }
    });
    h.run_until(Duration::from_millis(100), Duration::from_secs(10), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let times: Vec<u64> = h.seen().iter().map(|s| s.at).collect();
    assert_eq!(times, [0, 1_000, 3_000], "back-off 1 s then 2 s");
    assert_eq!(h.queue.receives(), 1, "throttles do not consume receives");
    assert!(h.seen().iter().all(|s| s.receive_counts == ["1"]));
    let first = &h.seen()[0].payload;
    assert!(
        h.seen().iter().all(|s| s.payload == *first),
        "every retry sends the same event"
    );
    assert_eq!(h.metric(|m| &m.throttles), 2);
    h.stop().await;
}

/// AWS's SQS pollers do not account for the function's reserved concurrency. With reserved
/// concurrency 2 and a backlog, five pollers (and more, while receives come back full) invoke at
/// once; the invocations beyond two are throttled, retried until the batch's visibility timeout
/// is near, and then the batch returns to the queue with a higher receive count: with
/// maxReceiveCount 1, to the dead-letter queue.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn reserved_concurrency_does_not_cap_pollers_so_throttled_messages_reach_the_dlq() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    let dlq = new_queue(&clock, "jobs-dlq");
    queue.redrive_to(&dlq, 1);
    for n in 0..1_000 {
        queue.send(format!("m{n}"));
    }
    let h = start_limited(
        &clock,
        &queue,
        raw(|_| {}),
        Duration::from_secs(3),
        Some(2),
        |_, _| ok(),
    );
    assert_eq!(h.mapping.target_pollers(), 5, "not capped at 2");
    h.run_until(Duration::from_millis(500), Duration::from_secs(600), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    let throttles = h.metric(|m| &m.throttles);
    assert!(throttles > 0, "invocations beyond 2 are throttled");
    let journal = h.mapping.journal();
    let retried = journal
        .iter()
        .filter(|e| matches!(e.kind, Decision::Throttled { .. }))
        .count();
    let gave_up: usize = journal
        .iter()
        .filter_map(|e| match &e.kind {
            Decision::Settled {
                settled: Settled::GaveUp(why),
                returned,
                ..
            } if why == "throttled" => Some(*returned),
            _ => None,
        })
        .sum();
    assert!(retried > 0, "throttles are journaled");
    assert!(
        gave_up > 0,
        "some batches were throttled until their visibility timeout"
    );
    let dead = dlq.bodies();
    assert!(
        !dead.is_empty(),
        "throttled messages reached the dead-letter queue"
    );
    assert_eq!(
        h.queue.deleted().len() + dead.len(),
        1_000,
        "every message was either processed or moved to the dead-letter queue"
    );
    assert!(
        h.seen()
            .iter()
            .all(|s| s.receive_counts.iter().all(|c| c == "1")),
        "a message received again (count 2 > maxReceiveCount 1) goes to the DLQ, not the function"
    );
    assert_eq!(
        h.metric(|m| &m.errors),
        0,
        "throttles are not function errors"
    );
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn pollers_grow_while_messages_remain_and_shrink_when_the_queue_is_idle() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    for n in 0..3_000 {
        queue.send(format!("m{n}"));
    }
    let h = start(
        &clock,
        &queue,
        raw(|r| {
            r.scaling_config = Some(RawScalingConfig {
                maximum_concurrency: None,
            });
        }),
        Duration::from_millis(500),
        |_, _| ok(),
    );
    assert_eq!(h.mapping.target_pollers(), 5, "starts at five");
    let mut peak = 0;
    h.run_until(Duration::from_millis(100), Duration::from_secs(120), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    for entry in h.mapping.journal() {
        if let Decision::Scaled { pollers } = entry.kind {
            peak = peak.max(pollers);
        }
    }
    assert!(
        peak >= 20,
        "grew by five a second while receives came back full: {peak}"
    );
    h.run_until(Duration::from_secs(1), Duration::from_secs(30), |h| {
        h.mapping.target_pollers() == 5
    })
    .await;
    h.run_until(Duration::from_secs(1), Duration::from_secs(90), |h| {
        h.mapping.target_pollers() == 2
    })
    .await;
    ManualClock::settle().await;
    assert_eq!(h.metric(|m| &m.deleted), 3_000);
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn maximum_concurrency_caps_concurrent_invocations() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    for n in 0..400 {
        queue.send(format!("m{n}"));
    }
    let h = start(
        &clock,
        &queue,
        raw(|r| {
            r.scaling_config = Some(RawScalingConfig {
                maximum_concurrency: Some(3),
            });
        }),
        Duration::from_millis(1_000),
        |_, _| ok(),
    );
    h.run_until(Duration::from_millis(250), Duration::from_secs(60), |h| {
        h.queue.bodies().is_empty()
    })
    .await;
    // Invocations last 1 s: count how many started in each 1 s slot.
    let seen = h.seen();
    let mut per_slot = std::collections::BTreeMap::new();
    for s in &seen {
        *per_slot.entry(s.at / 1_000).or_insert(0) += 1;
    }
    assert!(
        per_slot.values().all(|n| *n <= 3),
        "at most 3 at once: {per_slot:?}"
    );
    assert_eq!(seen.len(), 40);
    h.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn stopping_hands_back_messages_that_were_not_invoked() {
    let clock = ManualClock::new(T0);
    let queue = new_queue(&clock, "jobs");
    queue.send("waiting");
    let h = start(
        &clock,
        &queue,
        raw(|r| {
            r.batch_size = Some(100);
            r.maximum_batching_window_in_seconds = Some(10);
        }),
        Duration::ZERO,
        |_, _| ok(),
    );
    h.run_until(Duration::from_millis(100), Duration::from_secs(1), |h| {
        h.metric(|m| &m.polled) == 1
    })
    .await;
    let queue = h.queue.clone();
    let stop_clock = h.clock.clone();
    h.stop().await;
    assert_eq!(stop_clock.now_millis() - T0, 0);
    let again = queue
        .receive(ReceiveRequest {
            max_messages: 10,
            wait_seconds: 0,
            visibility_timeout_seconds: None,
        })
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "released at once, not after the visibility timeout"
    );
    assert_eq!(again[0].body, "waiting");
}
