//! [`SqsSimulation`]: an SQS mapping around a handler, on virtual time.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Diagnostic, LambdaEvent};
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

use super::setup::{Setup, setup_builders};
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
    setup: Setup,
    queue: MemoryQueue,
    dead_letter: Option<MemoryQueue>,
    visibility: Duration,
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
        let setup = Setup::new(Duration::from_secs(24 * 3600));
        let visibility = Duration::from_secs(30);
        let queue = MemoryQueue::new(
            name,
            visibility.as_millis() as Millis,
            Arc::new(setup.clock.clone()),
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
            setup,
            queue,
            dead_letter: None,
            visibility,
        }
    }

    /// The queue's VisibilityTimeout (default 30 s; call before sending).
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            self.setup.put.is_empty(),
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
            Arc::new(self.setup.clock.clone()),
        );
        self
    }

    /// Gives the queue a RedrivePolicy to a dead-letter queue after `max_receive_count` receives.
    pub fn redrive(mut self, max_receive_count: u32) -> Self {
        let dead_letter = MemoryQueue::new(
            "test-queue-dlq",
            self.visibility.as_millis() as Millis,
            Arc::new(self.setup.clock.clone()),
        );
        self.queue.redrive_to(&dead_letter, max_receive_count);
        self.dead_letter = Some(dead_letter);
        self
    }

    setup_builders!();

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
        self.setup.put.push(TraceRecord {
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
            function_timeout_seconds: self.setup.timeout.as_secs(),
        };
        let config = self
            .raw
            .validate(facts)
            .unwrap_or_else(|errors| panic!("invalid mapping: {errors:?}"));
        let settings = PollerSettings::new(&config, "us-east-1", facts)
            .unwrap_or_else(|e| panic!("invalid mapping: {e}"));
        let filtered: Vec<String> = (self.setup.put.iter())
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
        let handler = HandlerInvoker::<H, SqsEvent>::new(self.handler, self.setup.timeout);
        let judge = |body: &[u8], records: &[TraceRecord]| {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            match sqs_response::judge(body, &ids) {
                sqs_response::Verdict::Success => vec![true; records.len()],
                sqs_response::Verdict::PartialFailure(failed) => {
                    records.iter().map(|r| !failed.contains(&r.id)).collect()
                }
                sqs_response::Verdict::CompleteFailure(_) => vec![false; records.len()],
            }
        };
        let reports = config.report_batch_item_failures;
        let (invoker, log) =
            (self.setup).invoker(BoxCloneSyncService::new(handler), reports, judge);
        let mapping = Arc::new(SqsMapping::new(
            settings,
            SqsMappingOptions::new(
                "simulation",
                Setup::function_arn(&config.function_name),
                self.setup.timeout,
            ),
            self.queue.clone(),
            invoker,
            Arc::new(self.setup.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        let queue = self.queue.clone();
        let finished = (self.setup)
            .run_to_end(
                |stopped| async move { running.run(stopped).await },
                move || queue.bodies().is_empty(),
            )
            .await;
        Trace {
            dead_letters: self.dead_letter.map(|q| q.bodies()).unwrap_or_default(),
            left_in_queue: self.queue.bodies(),
            filtered,
            queue_journal: mapping.journal(),
            ..self.setup.trace(&log, finished)
        }
    }
}
