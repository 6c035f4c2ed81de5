//! The SQS mapping engine end to end: the emulator's SQS, the SDK queue source
//! (`riffle_aws::SqsQueueSource`), the runtime's `SqsMapping`, and an in-process handler that
//! takes `LambdaEvent<SqsEvent>`. The emulator and the mapping share one manual clock, so a
//! visibility timeout passes only when a test moves it; the tests wait on conditions (bounded in
//! real time) and never sleep for a fixed time.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use lambda_runtime::LambdaEvent;
use riffle_aws::{SqsQueueSource, queue_facts};
use riffle_core::config::{RawFilter, RawFilterCriteria};
use riffle_core::sqs::config::RawSqsMapping;
use riffle_core::sqs::poller::PollerSettings;
use riffle_emulator::{Emulator, ManualClock};
use riffle_runtime::{HandlerInvoker, SqsMapping, SqsMappingOptions, SqsMetrics};
use tokio::sync::watch;

use crate::support;
use crate::support::sqs;

const REGION: &str = "us-east-1";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:consumer";
/// The function's timeout: the queues' visibility timeouts (30 s) must not be shorter.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a test waits (in real time) for a condition before failing.
const PATIENCE: Duration = Duration::from_secs(20);

/// What the test handler does with a batch: `Ok` with the ids of the messages it reports as
/// failed (an empty list is success), or `Err` to fail the whole invocation.
type Verdict = Result<Vec<String>, String>;
type Behaviour = Arc<dyn Fn(&[SqsMessage]) -> Verdict + Send + Sync>;

/// One invocation the handler saw.
#[derive(Debug, Clone)]
struct Invocation {
    messages: Vec<SqsMessage>,
    verdict: Verdict,
}

impl Invocation {
    fn bodies(&self) -> Vec<String> {
        self.messages
            .iter()
            .map(|m| m.body.clone().unwrap_or_default())
            .collect()
    }
}

/// The in-process function: logs every invocation, then answers as its behaviour says.
#[derive(Clone)]
struct Handler {
    behaviour: Behaviour,
    log: Arc<Mutex<Vec<Invocation>>>,
}

impl lambda_runtime::Service<LambdaEvent<SqsEvent>> for Handler {
    type Response = SqsBatchResponse;
    type Error = lambda_runtime::Error;
    type Future = std::future::Ready<Result<SqsBatchResponse, lambda_runtime::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<SqsEvent>) -> Self::Future {
        let messages = event.payload.records;
        let verdict = (self.behaviour)(&messages);
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Invocation {
                messages,
                verdict: verdict.clone(),
            });
        std::future::ready(match verdict {
            Ok(failed) => {
                let mut response = SqsBatchResponse::default();
                for id in failed {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    response.batch_item_failures.push(failure);
                }
                Ok(response)
            }
            Err(error) => Err(error.into()),
        })
    }
}

fn succeed() -> Behaviour {
    Arc::new(|_| Ok(Vec::new()))
}

/// The emulator on a manual clock, and a client for the test's own calls.
struct Harness {
    emulator: Emulator,
    client: Client,
    clock: ManualClock,
}

async fn harness() -> Harness {
    let (emulator, client, clock) = support::start_sqs_manual().await;
    Harness {
        emulator,
        client,
        clock,
    }
}

impl Harness {
    /// Creates queue `name` with `attributes` (and a 30 s visibility timeout unless given);
    /// returns its URL and ARN.
    async fn queue(
        &self,
        name: &str,
        attributes: &[(QueueAttributeName, &str)],
    ) -> (String, String) {
        let mut request = self
            .client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::VisibilityTimeout, "30");
        for (key, value) in attributes {
            request = request.attributes(key.clone(), *value);
        }
        let url = request.send().await.unwrap().queue_url.unwrap();
        let arn = format!("arn:aws:sqs:{REGION}:000000000000:{name}");
        (url, arn)
    }

    /// Sends `bodies` with SendMessageBatch, ten at a time, each to `group` if given (FIFO).
    async fn send(&self, url: &str, bodies: &[String], group: Option<&str>) -> Vec<String> {
        let mut ids = Vec::new();
        for chunk in bodies.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("e{i}"))
                        .message_body(body)
                        .set_message_group_id(group.map(str::to_owned))
                        .build()
                        .unwrap()
                })
                .collect();
            let out = sqs::send_batch(&self.client, url, entries).await.unwrap();
            assert!(out.failed().is_empty(), "{:?}", out.failed());
            ids.extend(out.successful().iter().map(|s| s.message_id().to_owned()));
        }
        ids
    }

    /// A queue attribute as a number.
    async fn count(&self, url: &str, attribute: QueueAttributeName) -> u64 {
        let value = sqs::attribute(&self.client, url, attribute).await;
        value.parse().unwrap()
    }

    /// Messages received and not yet visible again (in flight).
    async fn hidden(&self, url: &str) -> u64 {
        self.count(
            url,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        )
        .await
    }

    /// Messages in the queue: visible, in flight and delayed.
    async fn depth(&self, url: &str) -> u64 {
        self.count(url, QueueAttributeName::ApproximateNumberOfMessages)
            .await
            + self.hidden(url).await
            + self
                .count(url, QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .await
    }

    /// Starts a mapping from the queue `queue_arn` to a handler with `behaviour`; `configure`
    /// adjusts the mapping's properties before validation.
    async fn start_mapping(
        &self,
        queue_arn: &str,
        configure: impl FnOnce(&mut RawSqsMapping),
        behaviour: Behaviour,
    ) -> Running {
        let (_, sqs) = riffle_aws::clients(&self.emulator.endpoint_url(), REGION);
        let source = SqsQueueSource::for_arn(sqs.clone(), queue_arn)
            .await
            .expect("the queue URL resolves");
        let facts = queue_facts(&sqs, source.queue_url())
            .await
            .expect("the queue's attributes are read");
        assert_eq!(facts.queue_arn, queue_arn);
        let mut raw = RawSqsMapping {
            event_source_arn: Some(facts.queue_arn.clone()),
            function_name: Some("consumer".into()),
            ..RawSqsMapping::default()
        };
        configure(&mut raw);
        let sqs_facts = facts.sqs_facts(FUNCTION_TIMEOUT.as_secs());
        let config = raw.validate(sqs_facts).expect("a valid mapping");
        let settings = PollerSettings::new(&config, REGION, sqs_facts).expect("valid settings");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Handler {
            behaviour,
            log: log.clone(),
        };
        let mapping = Arc::new(SqsMapping::new(
            settings,
            SqsMappingOptions::new("m-sqs", FUNCTION_ARN, FUNCTION_TIMEOUT),
            source,
            HandlerInvoker::<_, SqsEvent>::new(handler, FUNCTION_TIMEOUT),
            Arc::new(self.clock.clone()),
        ));
        let (stop, stopped) = watch::channel(false);
        let running = mapping.clone();
        let task = tokio::spawn(async move { running.run(stopped).await });
        Running {
            mapping,
            stop,
            task,
            log,
        }
    }
}

type TestMapping = SqsMapping<SqsQueueSource, HandlerInvoker<Handler, SqsEvent>>;

/// A mapping running in a task, and what its handler saw.
struct Running {
    mapping: Arc<TestMapping>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    log: Arc<Mutex<Vec<Invocation>>>,
}

impl Running {
    fn invocations(&self) -> Vec<Invocation> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every body the handler was given, in invocation order (with repeats).
    fn bodies(&self) -> Vec<String> {
        self.invocations()
            .iter()
            .flat_map(Invocation::bodies)
            .collect()
    }

    /// Every body the handler was given, sorted (with repeats).
    fn sorted_bodies(&self) -> Vec<String> {
        let mut bodies = self.bodies();
        bodies.sort();
        bodies
    }

    /// Waits until the mapping has deleted `count` messages.
    async fn until_deleted(&self, count: u64) {
        eventually(&format!("{count} messages were deleted"), || async move {
            self.metric(|m| &m.deleted) == count
        })
        .await;
    }

    /// How many times the handler was given `body`.
    fn times_seen(&self, body: &str) -> usize {
        self.bodies().iter().filter(|b| *b == body).count()
    }

    fn metric(&self, counter: impl Fn(&SqsMetrics) -> &AtomicU64) -> u64 {
        counter(self.mapping.metrics()).load(Ordering::Relaxed)
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the mapping stops")
            .unwrap();
    }
}

/// Polls `condition` until it holds, failing after [`PATIENCE`] of real time.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

fn receive_count(message: &SqsMessage) -> u32 {
    message.attributes["ApproximateReceiveCount"]
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_batch_is_deleted_and_the_queue_ends_empty() {
    let h = harness().await;
    let (url, arn) = h.queue("jobs", &[]).await;
    let bodies = numbered("job-", 25);
    h.send(&url, &bodies, None).await;
    let running = h.start_mapping(&arn, |_| {}, succeed()).await;
    running.until_deleted(25).await;
    assert_eq!(h.depth(&url).await, 0, "nothing left, visible or in flight");
    let seen = running.sorted_bodies();
    let mut expected = bodies.clone();
    expected.sort();
    assert_eq!(seen, expected, "each message handled exactly once");
    assert!(
        running.invocations().iter().all(|i| i.messages.len() <= 10),
        "BatchSize 10 by default"
    );
    assert_eq!(running.metric(|m| &m.polled), 25);
    assert_eq!(running.metric(|m| &m.invoked_messages), 25);
    assert_eq!(
        running.metric(|m| &m.invocations),
        running.invocations().len() as u64
    );
    assert_eq!(
        (
            running.metric(|m| &m.failed),
            running.metric(|m| &m.errors),
            running.metric(|m| &m.filtered)
        ),
        (0, 0, 0)
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_returns_after_the_visibility_timeout_and_redrive_ends_it_in_the_dead_letter_queue()
 {
    let h = harness().await;
    let (dlq_url, dlq_arn) = h.queue("jobs-dlq", &[]).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":2}}"#);
    let (url, arn) = h
        .queue("jobs", &[(QueueAttributeName::RedrivePolicy, &policy)])
        .await;
    let bodies = numbered("poison-", 3);
    h.send(&url, &bodies, None).await;
    let running = h
        .start_mapping(&arn, |_| {}, Arc::new(|_| Err("always fails".into())))
        .await;
    let r = &running;
    eventually(
        "each message was handed to the function once",
        || async move { r.bodies().len() == 3 },
    )
    .await;
    eventually("the function error was settled", || async move {
        r.metric(|m| &m.failed) == 3
    })
    .await;
    assert_eq!(
        h.hidden(&url).await,
        3,
        "the failed messages stay in the queue, hidden"
    );
    h.clock.advance(Duration::from_secs(29));
    assert_eq!(
        h.count(&url, QueueAttributeName::ApproximateNumberOfMessages)
            .await,
        0,
        "nothing is visible again before 30 s"
    );
    h.clock.advance(Duration::from_secs(1));
    eventually(
        "each message was handed to the function again",
        || async move { r.bodies().len() == 6 },
    )
    .await;
    for invocation in running.invocations().iter().skip(3) {
        assert!(
            invocation.messages.iter().all(|m| receive_count(m) == 2),
            "redelivered: {invocation:?}"
        );
    }
    eventually("the second failure was settled", || async move {
        r.metric(|m| &m.failed) == 6
    })
    .await;
    h.clock.advance(Duration::from_secs(30));
    let (h_ref, dlq, src) = (&h, dlq_url.as_str(), url.as_str());
    eventually(
        "the messages were moved to the dead-letter queue",
        || async move {
            h_ref
                .count(dlq, QueueAttributeName::ApproximateNumberOfMessages)
                .await
                == 3
                && h_ref.depth(src).await == 0
        },
    )
    .await;
    for body in &bodies {
        assert_eq!(running.times_seen(body), 2, "{body}: maxReceiveCount 2");
    }
    assert_eq!(
        running.metric(|m| &m.deleted),
        0,
        "the engine never deletes"
    );
    assert_eq!(running.metric(|m| &m.polled), 6);
    assert_eq!(
        running.metric(|m| &m.errors),
        running.metric(|m| &m.invocations)
    );
    let moved = sqs::receive_ten(&h.client, &dlq_url).await;
    let mut moved: Vec<String> = moved
        .messages()
        .iter()
        .map(|m| m.body().unwrap_or_default().to_owned())
        .collect();
    moved.sort();
    assert_eq!(moved, bodies);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_batch_item_failures_returns_only_the_reported_messages() {
    let h = harness().await;
    let (url, arn) = h.queue("jobs", &[]).await;
    let mut bodies = numbered("ok-", 4);
    bodies.extend(numbered("fail-", 2));
    h.send(&url, &bodies, None).await;
    // The `fail-` messages fail on their first delivery and succeed on the second.
    let behaviour: Behaviour = Arc::new(|messages| {
        Ok(messages
            .iter()
            .filter(|m| {
                m.body.as_deref().unwrap_or_default().starts_with("fail-") && receive_count(m) == 1
            })
            .map(|m| m.message_id.clone().unwrap_or_default())
            .collect())
    });
    let running = h
        .start_mapping(
            &arn,
            |raw| raw.function_response_types = Some(vec!["ReportBatchItemFailures".into()]),
            behaviour,
        )
        .await;
    let r = &running;
    eventually("the succeeded messages were deleted", || async move {
        r.metric(|m| &m.deleted) == 4 && r.metric(|m| &m.failed) == 2
    })
    .await;
    assert_eq!(
        h.hidden(&url).await,
        2,
        "only the two reported messages are left, hidden until their timeout"
    );
    assert_eq!(
        h.count(&url, QueueAttributeName::ApproximateNumberOfMessages)
            .await,
        0
    );
    h.clock.advance(Duration::from_secs(30));
    eventually(
        "the reported messages came back and were deleted",
        || async move { r.metric(|m| &m.deleted) == 6 },
    )
    .await;
    assert_eq!(h.depth(&url).await, 0);
    for body in &bodies {
        let expected = if body.starts_with("fail-") { 2 } else { 1 };
        assert_eq!(running.times_seen(body), expected, "{body}");
    }
    assert_eq!(
        running.metric(|m| &m.errors),
        0,
        "a partial failure is no error"
    );
    assert_eq!(running.metric(|m| &m.polled), 8);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_the_filters_drop_are_deleted_without_invoking_the_function() {
    let h = harness().await;
    let (url, arn) = h.queue("jobs", &[]).await;
    let of_kind = |kind: &str| -> Vec<String> {
        (0..3)
            .map(|i| format!(r#"{{"kind":"{kind}","n":{i}}}"#))
            .collect()
    };
    let keep = of_kind("keep");
    let drop = of_kind("skip");
    let mut all = keep.clone();
    all.extend(drop.iter().cloned());
    h.send(&url, &all, None).await;
    let running = h
        .start_mapping(
            &arn,
            |raw| {
                raw.filter_criteria = Some(RawFilterCriteria {
                    filters: Some(vec![RawFilter {
                        pattern: Some(r#"{"body":{"kind":["keep"]}}"#.into()),
                    }]),
                })
            },
            succeed(),
        )
        .await;
    let r = &running;
    eventually(
        "kept messages were handled and dropped ones deleted",
        || async move { r.metric(|m| &m.deleted) == 3 && r.metric(|m| &m.filtered) == 3 },
    )
    .await;
    let (h_ref, u) = (&h, url.as_str());
    eventually(
        "the queue is empty",
        || async move { h_ref.depth(u).await == 0 },
    )
    .await;
    let seen = running.sorted_bodies();
    assert_eq!(seen, keep, "only matching messages reach the function");
    assert_eq!(running.metric(|m| &m.invoked_messages), 3);
    assert_eq!(running.metric(|m| &m.polled), 6);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_group_order_holds_when_one_group_fails_and_the_other_proceeds() {
    let h = harness().await;
    let (url, arn) = h
        .queue(
            "jobs.fifo",
            &[
                (QueueAttributeName::FifoQueue, "true"),
                (QueueAttributeName::ContentBasedDeduplication, "true"),
            ],
        )
        .await;
    let a = numbered("a", 5);
    let b = numbered("b", 5);
    // All of a is sent before b, and a FIFO receive hands out the oldest messages of groups with
    // nothing in flight, so with BatchSize 2 a batch never mixes the groups: [a0 a1] [a2 a3] [a4]
    // and [b0 b1] [b2 b3] [b4].
    h.send(&url, &a, Some("a")).await;
    h.send(&url, &b, Some("b")).await;
    // The first batch holding a2 fails as a whole.
    let behaviour: Behaviour = Arc::new(|messages| {
        let first_a2 = messages
            .iter()
            .any(|m| m.body.as_deref() == Some("a2") && receive_count(m) == 1);
        if first_a2 {
            Err("a2 failed".into())
        } else {
            Ok(Vec::new())
        }
    });
    let running = h
        .start_mapping(&arn, |raw| raw.batch_size = Some(2), behaviour)
        .await;
    let r = &running;
    eventually(
        "group b finished and a's failure was settled",
        || async move { r.metric(|m| &m.deleted) == 7 && r.metric(|m| &m.errors) == 1 },
    )
    .await;
    let succeeded = |group: &str| -> Vec<String> {
        running
            .invocations()
            .iter()
            .filter(|i| i.verdict.is_ok())
            .flat_map(Invocation::bodies)
            .filter(|body| body.starts_with(group))
            .collect()
    };
    assert_eq!(succeeded("b"), b, "group b went on, in order");
    assert_eq!(
        succeeded("a"),
        ["a0", "a1"],
        "group a stopped at its failure"
    );
    let seen_a: Vec<String> = running
        .bodies()
        .into_iter()
        .filter(|body| body.starts_with('a'))
        .collect();
    assert!(
        !seen_a.contains(&"a4".to_owned()),
        "nothing after the failed batch of a was handed out: {seen_a:?}"
    );
    h.clock.advance(Duration::from_secs(30));
    eventually("group a finished after its retry", || async move {
        r.metric(|m| &m.deleted) == 10
    })
    .await;
    assert_eq!(
        succeeded("a"),
        a,
        "group a in order, its failed batch retried first"
    );
    let seen_a: Vec<String> = running
        .bodies()
        .into_iter()
        .filter(|body| body.starts_with('a'))
        .collect();
    let failed_at = seen_a.iter().position(|b| b == "a2").unwrap();
    let retried_at = seen_a.iter().rposition(|b| b == "a2").unwrap();
    assert!(failed_at < retried_at, "a2 was seen twice: {seen_a:?}");
    assert_eq!(
        &seen_a[retried_at..],
        &a[2..],
        "after the retry, a continues in order: {seen_a:?}"
    );
    for invocation in running.invocations() {
        for message in &invocation.messages {
            let group = &message.attributes["MessageGroupId"];
            let body = message.body.as_deref().unwrap_or_default();
            assert!(body.starts_with(group.as_str()), "{body} in group {group}");
            assert!(message.attributes.contains_key("SequenceNumber"));
            assert!(message.attributes.contains_key("MessageDeduplicationId"));
        }
    }
    assert_eq!(h.depth(&url).await, 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_receives_the_sqs_event_with_aws_fields() {
    let h = harness().await;
    let (url, arn) = h.queue("jobs", &[]).await;
    let string = |data_type: &str, value: &str| {
        MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
            .unwrap()
    };
    let sent = h
        .client
        .send_message()
        .queue_url(&url)
        .message_body(r#"{"order": 7}"#)
        .message_attributes("Author", string("String", "Ada"))
        .message_attributes("Pages", string("Number", "6"))
        .message_attributes("Cover", sqs::binary_attribute(vec![0u8, 1, 2, 255]))
        .send()
        .await
        .unwrap();
    let plain_sent = sqs::send(&h.client, &url, "plain").await;
    let running = h.start_mapping(&arn, |_| {}, succeed()).await;
    running.until_deleted(2).await;
    let records: Vec<SqsMessage> = running
        .invocations()
        .into_iter()
        .flat_map(|i| i.messages)
        .collect();
    let record = records
        .iter()
        .find(|m| m.body.as_deref() == Some(r#"{"order": 7}"#))
        .unwrap();
    assert_eq!(record.message_id.as_deref(), sent.message_id());
    assert!(
        record
            .receipt_handle
            .as_deref()
            .is_some_and(|h| !h.is_empty())
    );
    assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
    assert_eq!(record.event_source_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(record.aws_region.as_deref(), Some(REGION));
    assert_eq!(record.md5_of_body.as_deref(), sent.md5_of_message_body());
    assert_eq!(
        record.md5_of_message_attributes.as_deref(),
        sent.md5_of_message_attributes()
    );
    let attributes = &record.attributes;
    assert_eq!(attributes["ApproximateReceiveCount"], "1");
    assert_eq!(attributes["SentTimestamp"], support::T0.to_string());
    assert_eq!(
        attributes["ApproximateFirstReceiveTimestamp"],
        support::T0.to_string(),
        "received at the same virtual instant"
    );
    assert!(!attributes["SenderId"].is_empty());
    let author = &record.message_attributes["Author"];
    assert_eq!(
        (author.data_type.as_deref(), author.string_value.as_deref()),
        (Some("String"), Some("Ada"))
    );
    let pages = &record.message_attributes["Pages"];
    assert_eq!(
        (pages.data_type.as_deref(), pages.string_value.as_deref()),
        (Some("Number"), Some("6"))
    );
    let cover = &record.message_attributes["Cover"];
    assert_eq!(cover.data_type.as_deref(), Some("Binary"));
    assert_eq!(
        cover.binary_value.as_ref().map(|b| b.0.clone()),
        Some(vec![0u8, 1, 2, 255])
    );
    let plain = records
        .iter()
        .find(|m| m.body.as_deref() == Some("plain"))
        .unwrap();
    assert!(plain.message_attributes.is_empty());
    assert_eq!(plain.md5_of_message_attributes, None);
    assert_eq!(
        plain.md5_of_body.as_deref(),
        plain_sent.md5_of_message_body()
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_messages_of_1_mib_reach_the_function_five_to_an_invocation_under_6_mib() {
    let h = harness().await;
    let (url, arn) = h.queue("big", &[]).await;
    let bodies: Vec<String> = (0..7)
        .map(|i| format!("{i}{}", "x".repeat(1_048_576 - 1)))
        .collect();
    for body in &bodies {
        let sent = h.client.send_message().queue_url(&url).message_body(body);
        sent.send().await.expect("SQS takes messages of 1 MiB");
    }
    let running = h.start_mapping(&arn, |_| {}, succeed()).await;
    running.until_deleted(7).await;
    let invocations = running.invocations();
    assert!(
        invocations.iter().all(|i| i.messages.len() <= 5),
        "six messages of 1 MiB exceed the 6 MiB payload"
    );
    let seen = running.sorted_bodies();
    assert_eq!(seen, bodies, "each delivered once, whole");
    running.stop().await;
}
