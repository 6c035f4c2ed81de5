//! [`SqsSimulation`]: an SQS mapping around a handler, on virtual time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Diagnostic, LambdaEvent};
use riffle_clock::{Clock, ManualClock};
use riffle_core::invocation::Outcome;
use riffle_core::sqs::config::{RawSqsMapping, SqsFacts};
use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::PollerSettings;
use riffle_core::sqs::response as sqs_response;
use riffle_core::time::Millis;
use riffle_runtime::{HandlerInvoker, MemoryQueue, SqsMapping, SqsMappingOptions};
use serde::Serialize;
use serde_json::Value;
use tower::Service;
use tower::util::BoxCloneSyncService;

use crate::faults::Faults;

use super::*;

/// An SQS mapping around a handler, on virtual time, over an in-memory queue with SQS's
/// visibility timeouts and, if asked, a dead-letter queue.
///
/// ```
/// use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
/// use lambda_runtime::{Error, LambdaEvent, service_fn};
/// use riffle_testkit::SqsSimulation;
/// use serde_json::json;
///
/// async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
///     let mut response = SqsBatchResponse::default();
///     for message in &event.payload.records {
///         if message.body.as_deref() == Some("bad") {
///             let mut failure = BatchItemFailure::default();
///             failure.item_identifier = message.message_id.clone().unwrap_or_default();
///             response.batch_item_failures.push(failure);
///         }
///     }
///     Ok(response)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut sim = SqsSimulation::new(
///     service_fn(handler),
///     json!({"FunctionResponseTypes": ["ReportBatchItemFailures"]}),
/// )
/// .redrive(3);
/// sim.send("good");
/// sim.send("bad");
/// let trace = sim.run().await;
/// assert_eq!(trace.dead_letters, ["bad"], "three receives, then the dead-letter queue");
/// trace.assert_nothing_lost();
/// # }
/// ```
pub struct SqsSimulation<H> {
    handler: H,
    raw: RawSqsMapping,
    clock: ManualClock,
    queue: MemoryQueue,
    dead_letter: Option<MemoryQueue>,
    visibility: Duration,
    faults: Faults,
    timeout: Duration,
    limit: Duration,
    put: Vec<TraceRecord>,
}

impl<H> SqsSimulation<H> {
    /// A mapping with `properties` (EventSourceArn and FunctionName filled in if absent) around
    /// `handler` (`service_fn(handler)` taking `LambdaEvent<SqsEvent>`), on a standard queue
    /// with a 30 s visibility timeout.
    pub fn new(handler: H, mapping: Value) -> Self {
        Self::on_queue(handler, mapping, "test-queue")
    }

    /// Like [`SqsSimulation::new`] on a FIFO queue.
    pub fn fifo(handler: H, mapping: Value) -> Self {
        Self::on_queue(handler, mapping, "test-queue.fifo")
    }

    fn on_queue(handler: H, mapping: Value, name: &str) -> Self {
        let clock = ManualClock::new(SIMULATION_EPOCH_MS);
        let visibility = Duration::from_secs(30);
        let queue = MemoryQueue::new(
            name,
            visibility.as_millis() as Millis,
            Arc::new(clock.clone()),
        );
        let raw = properties(
            mapping,
            &[
                ("EventSourceArn", queue.arn().into()),
                ("FunctionName", "test-function".into()),
            ],
        );
        Self {
            handler,
            raw,
            clock,
            queue,
            dead_letter: None,
            visibility,
            faults: Faults::new(),
            timeout: Duration::from_secs(3),
            limit: Duration::from_secs(24 * 3600),
            put: Vec::new(),
        }
    }

    /// The queue's VisibilityTimeout (default 30 s; call before sending).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            self.put.is_empty(),
            "set the visibility timeout before sending"
        );
        let name = self
            .queue
            .arn()
            .rsplit(':')
            .next()
            .unwrap_or("test-queue")
            .to_owned();
        self.visibility = timeout;
        self.queue = MemoryQueue::new(
            &name,
            timeout.as_millis() as Millis,
            Arc::new(self.clock.clone()),
        );
        self
    }

    /// Gives the queue a RedrivePolicy to a dead-letter queue after `max_receive_count` receives.
    pub fn redrive(mut self, max_receive_count: u32) -> Self {
        let dead_letter = MemoryQueue::new(
            "test-queue-dlq",
            self.visibility.as_millis() as Millis,
            Arc::new(self.clock.clone()),
        );
        self.queue.redrive_to(&dead_letter, max_receive_count);
        self.dead_letter = Some(dead_letter);
        self
    }

    /// Injects `faults`.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The function's Timeout (default 3 s; the queue's visibility timeout must not be shorter).
    pub fn function_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops the simulation after this much virtual time (default 24 h).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Moves virtual time forward before the next sends.
    pub fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
    }

    /// Sends a message; returns its id.
    pub fn send(&mut self, body: impl Into<String>) -> String {
        self.send_to_group(body, None)
    }

    /// Sends a message whose body is `value` as JSON.
    pub fn send_json(&mut self, value: &impl Serialize) -> String {
        self.send(serde_json::to_string(value).expect("the value serializes"))
    }

    /// Sends a message to a FIFO message group.
    pub fn send_to_group(&mut self, body: impl Into<String>, group: Option<&str>) -> String {
        let body = body.into();
        let id = self.queue.send_to_group(body.clone(), group);
        self.put.push(TraceRecord {
            id: id.clone(),
            key: group.unwrap_or_default().to_owned(),
            data: body.into_bytes(),
        });
        id
    }

    /// Runs the mapping until the queue is empty (everything deleted or dead-lettered), or the
    /// time limit; returns what happened.
    pub async fn run<R, E>(self) -> Trace
    where
        H: Service<LambdaEvent<SqsEvent>, Response = R, Error = E> + Clone + Send + Sync + 'static,
        H::Future: Send + 'static,
        R: Serialize + Send + 'static,
        E: Into<Diagnostic> + Send + 'static,
    {
        let facts = SqsFacts {
            fifo: self.queue.arn().ends_with(".fifo"),
            visibility_timeout_seconds: self.visibility.as_secs(),
            function_timeout_seconds: self.timeout.as_secs(),
        };
        let config = self
            .raw
            .validate(facts)
            .unwrap_or_else(|errors| panic!("invalid mapping: {errors:?}"));
        let settings = PollerSettings::new(&config, "us-east-1", facts)
            .unwrap_or_else(|e| panic!("invalid mapping: {e}"));
        let filtered: Vec<String> = self
            .put
            .iter()
            .filter(|r| {
                !settings.filters.passes_message(&QueueMessage {
                    message_id: r.id.clone(),
                    receipt_handle: String::new(),
                    body: r.text(),
                    md5_of_body: String::new(),
                    attributes: Vec::new(),
                    message_attributes: Vec::new(),
                    md5_of_message_attributes: None,
                })
            })
            .map(|r| r.id.clone())
            .collect();
        let report = config.report_batch_item_failures;
        let judge: Arc<Judge> = Arc::new(move |outcome, records| match outcome {
            Outcome::Success(body) if report => {
                let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
                match sqs_response::judge(body, &ids) {
                    sqs_response::Verdict::Success => vec![true; records.len()],
                    sqs_response::Verdict::PartialFailure(failed) => {
                        records.iter().map(|r| !failed.contains(&r.id)).collect()
                    }
                    sqs_response::Verdict::CompleteFailure(_) => vec![false; records.len()],
                }
            }
            Outcome::Success(_) => vec![true; records.len()],
            _ => vec![false; records.len()],
        });
        let log: Arc<Mutex<Vec<TraceInvocation>>> = Arc::default();
        let handler = HandlerInvoker::<H, SqsEvent>::new(self.handler, self.timeout);
        let invoker = recording(
            BoxCloneSyncService::new(handler),
            self.faults,
            self.clock.clone(),
            self.timeout,
            Arc::clone(&log),
            judge,
        );
        let mapping = Arc::new(SqsMapping::new(
            settings,
            SqsMappingOptions::new(
                "simulation",
                format!(
                    "arn:aws:lambda:us-east-1:000000000000:function:{}",
                    config.function_name
                ),
                self.timeout,
            ),
            self.queue.clone(),
            invoker,
            Arc::new(self.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        let queue = self.queue.clone();
        let finished = run_to_end(
            &self.clock,
            self.limit,
            |stopped| async move { running.run(stopped).await },
            move || queue.bodies().is_empty(),
        )
        .await;
        let invocations = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Trace {
            invocations,
            put: self.put,
            on_failure: Vec::new(),
            dead_letters: self.dead_letter.map(|q| q.bodies()).unwrap_or_default(),
            left_in_queue: self.queue.bodies(),
            filtered,
            journal: Vec::new(),
            queue_journal: mapping.journal(),
            checkpoints: BTreeMap::new(),
            finished,
            elapsed: Duration::from_millis(self.clock.now_millis() - SIMULATION_EPOCH_MS),
        }
    }
}
