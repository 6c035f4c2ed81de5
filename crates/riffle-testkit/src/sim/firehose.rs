//! [`FirehoseSimulation`]: a delivery stream with a Lambda transformation around a handler,
//! on virtual time, with an in-memory S3.
//!
//! Nothing here decides anything: `riffle_core::firehose::delivery` buffers, invokes, judges,
//! retries and names objects; the simulation performs its actions and records them.

use std::fmt::Display;

use aws_lambda_events::event::firehose::{KinesisFirehoseEvent, KinesisFirehoseResponse};
use lambda_runtime::LambdaEvent;
use riffle_core::firehose::delivery::{
    Action, Counters, Decision, Delivery, ObjectKind, SourceRecord,
};
use riffle_core::firehose::error_record::ProcessingFailedRecord;
use riffle_core::firehose::settings::{
    DeliverySettings, RawDelivery, RawProcessor, RawS3Destination,
};
use riffle_core::invocation::Outcome;
use riffle_core::time::Millis;
use serde_json::Value;
use tower::{Service, ServiceExt};

use super::SIMULATION_EPOCH_MS;

/// One invocation of the transformation.
#[derive(Debug, Clone, PartialEq)]
pub struct FirehoseInvocation {
    /// Virtual ms since the simulation started.
    pub at_ms: Millis,
    /// The event JSON as sent.
    pub event: Value,
    /// What came back, as the delivery machine judged it.
    pub outcome: Outcome,
}

/// One object written to the in-memory S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimObject {
    /// Virtual ms since the simulation started.
    pub at_ms: Millis,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Body as stored (compressed if the stream compresses).
    pub body: Vec<u8>,
    /// What it holds.
    pub kind: ObjectKind,
}

/// Everything a Firehose simulation did.
#[derive(Debug, Clone, Default)]
pub struct FirehoseTrace {
    /// Every invocation, in order.
    pub invocations: Vec<FirehoseInvocation>,
    /// Every object written, in order.
    pub objects: Vec<SimObject>,
    /// Writes the simulation failed on purpose ([`FirehoseSimulation::fail_writes`]).
    pub failed_writes: usize,
    /// The machine's counters at the end.
    pub counters: Counters,
    /// The machine's decisions (what `riffle explain` shows), in order.
    pub decisions: Vec<Decision>,
}

impl FirehoseTrace {
    fn of(&self, kind: ObjectKind) -> impl Iterator<Item = &SimObject> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }

    /// Delivered objects.
    pub fn delivered(&self) -> Vec<&SimObject> {
        self.of(ObjectKind::Delivered).collect()
    }

    /// The bodies of the delivered objects (uncompressed streams), concatenated as text.
    pub fn delivered_text(&self) -> String {
        self.of(ObjectKind::Delivered)
            .map(|o| String::from_utf8_lossy(&o.body))
            .collect()
    }

    /// The processing-failed records, in order.
    pub fn processing_failed(&self) -> Vec<ProcessingFailedRecord> {
        self.of(ObjectKind::ProcessingFailed)
            .flat_map(|o| ProcessingFailedRecord::parse_lines(&o.body).expect("one JSON per line"))
            .collect()
    }

    /// Backup objects (S3BackupMode `Enabled`).
    pub fn backups(&self) -> Vec<&SimObject> {
        self.of(ObjectKind::Backup).collect()
    }
}

/// A delivery stream around a transformation handler, on virtual time.
///
/// ```
/// use aws_lambda_events::event::firehose::{KinesisFirehoseEvent, KinesisFirehoseResponse};
/// use lambda_runtime::{Error, LambdaEvent, service_fn};
/// use riffle_testkit::{FirehoseSimulation, firehose};
///
/// async fn upper(event: LambdaEvent<KinesisFirehoseEvent>) -> Result<KinesisFirehoseResponse, Error> {
///     let records = event.payload.records.iter().map(|r| match r.data.0.as_slice() {
///         b"skip" => firehose::dropped(r),
///         data => firehose::ok(r, data.to_ascii_uppercase()),
///     });
///     Ok(firehose::response(records.collect()))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut sim = FirehoseSimulation::new(service_fn(upper));
/// sim.put("a;");
/// sim.put("skip");
/// sim.put("b;");
/// let trace = sim.run().await;
/// assert_eq!(trace.delivered_text(), "A;B;");
/// assert_eq!(trace.counters.dropped, 1);
/// # }
/// ```
pub struct FirehoseSimulation<H> {
    handler: H,
    raw: RawDelivery,
    machine: Option<Delivery>,
    now: Millis,
    next_position: u64,
    fail_writes: usize,
    pending: Vec<Action>,
    trace: FirehoseTrace,
}

impl<H> FirehoseSimulation<H>
where
    H: Service<LambdaEvent<KinesisFirehoseEvent>, Response = KinesisFirehoseResponse>,
    H::Error: Display,
{
    /// Stream `test-delivery-stream` to bucket `test-bucket` (Firehose's default buffering
    /// hints) with `handler` as its Lambda processor (Firehose's default processor parameters).
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            raw: RawDelivery {
                stream_name: "test-delivery-stream".into(),
                stream_arn: crate::firehose::FIXTURE_DELIVERY_STREAM_ARN.into(),
                version: 1,
                region: "us-east-1".into(),
                source_stream_arn: None,
                destination: RawS3Destination {
                    bucket_arn: "arn:aws:s3:::test-bucket".into(),
                    ..RawS3Destination::default()
                },
                processor: Some(RawProcessor {
                    parameters: vec![(
                        "LambdaArn".into(),
                        "arn:aws:lambda:us-east-1:000000000000:function:test".into(),
                    )],
                }),
                backup: None,
            },
            machine: None,
            now: SIMULATION_EPOCH_MS,
            next_position: 0,
            fail_writes: 0,
            pending: Vec::new(),
            trace: FirehoseTrace::default(),
        }
    }

    /// Destination BufferingHints (MiB, seconds). Call before putting records.
    pub fn buffering(mut self, size_mb: u32, interval_seconds: u32) -> Self {
        self.raw.destination.buffer_size_mb = Some(size_mb);
        self.raw.destination.buffer_interval_seconds = Some(interval_seconds);
        self
    }

    /// A processor parameter (`BufferSizeInMBs`, `BufferIntervalInSeconds`, `NumberOfRetries`).
    pub fn processor_parameter(mut self, name: &str, value: &str) -> Self {
        if let Some(p) = &mut self.raw.processor {
            p.parameters.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Prefix and ErrorOutputPrefix.
    pub fn prefixes(mut self, prefix: &str, error_output_prefix: Option<&str>) -> Self {
        self.raw.destination.prefix = Some(prefix.to_owned());
        self.raw.destination.error_output_prefix = error_output_prefix.map(str::to_owned);
        self
    }

    /// CompressionFormat.
    pub fn compression(mut self, format: &str) -> Self {
        self.raw.destination.compression = Some(format.to_owned());
        self
    }

    /// S3BackupMode `Enabled`, to `bucket` with `prefix`.
    pub fn backup(mut self, bucket: &str, prefix: &str) -> Self {
        self.raw.backup = Some(RawS3Destination {
            bucket_arn: format!("arn:aws:s3:::{bucket}"),
            prefix: Some(prefix.to_owned()),
            ..self.raw.destination.clone()
        });
        self
    }

    /// The next `n` writes to S3 fail (each is retried by the machine).
    pub fn fail_writes(&mut self, n: usize) {
        self.fail_writes += n;
    }

    fn machine(&mut self) -> &mut Delivery {
        let raw = &self.raw;
        self.machine.get_or_insert_with(|| {
            Delivery::new(
                DeliverySettings::new(raw).unwrap_or_else(|e| panic!("delivery settings: {e}")),
            )
        })
    }

    /// Puts a record now; returns its record id.
    pub fn put(&mut self, data: impl Into<Vec<u8>>) -> String {
        let position = self.next_position;
        self.next_position += 1;
        let record_id = format!("{position:056}");
        let record = SourceRecord {
            position,
            record_id: record_id.clone(),
            arrival: self.now,
            data: data.into(),
            kinesis: None,
        };
        let now = self.now;
        let actions = self.machine().put(vec![record], now);
        self.pending.extend(actions);
        record_id
    }

    /// Virtual time since the start.
    pub fn elapsed_ms(&self) -> Millis {
        self.now - SIMULATION_EPOCH_MS
    }

    async fn perform(&mut self, mut actions: Vec<Action>) {
        while let Some(action) = actions.pop() {
            let now = self.now;
            let more = match action {
                Action::Invoke {
                    invocation_id,
                    payload,
                    ..
                } => {
                    let outcome = self.call(&payload).await;
                    self.trace.invocations.push(FirehoseInvocation {
                        at_ms: now - SIMULATION_EPOCH_MS,
                        event: serde_json::from_str(&payload).unwrap_or(Value::Null),
                        outcome: outcome.clone(),
                    });
                    self.machine().invoked(&invocation_id, &outcome, now)
                }
                Action::Write {
                    write_id,
                    bucket,
                    key,
                    body,
                    kind,
                    ..
                } => {
                    if self.fail_writes > 0 {
                        self.fail_writes -= 1;
                        self.trace.failed_writes += 1;
                        self.machine()
                            .written(write_id, Err("InternalError".into()), now)
                    } else {
                        self.trace.objects.push(SimObject {
                            at_ms: now - SIMULATION_EPOCH_MS,
                            bucket,
                            key,
                            body,
                            kind,
                        });
                        self.machine().written(write_id, Ok(()), now)
                    }
                }
                Action::Acknowledge { .. } => Vec::new(),
            };
            actions.extend(more);
        }
    }

    async fn call(&mut self, payload: &str) -> Outcome {
        let event: KinesisFirehoseEvent = match serde_json::from_str(payload) {
            Ok(event) => event,
            Err(e) => return Outcome::function_error("Runtime.UnmarshalError", e.to_string()),
        };
        let request = crate::events::lambda_event(event);
        let result = match self.handler.ready().await {
            Ok(service) => service.call(request).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(response) => Outcome::Success(serde_json::to_vec(&response).expect("serializable")),
            Err(e) => Outcome::function_error("Unhandled", e.to_string()),
        }
    }

    /// Runs for `ms` of virtual time: every buffer, invocation and write due in it happens.
    pub async fn advance(&mut self, ms: Millis) {
        let until = self.now + ms;
        let actions = std::mem::take(&mut self.pending);
        self.perform(actions).await;
        loop {
            let wake = self.machine().next_wake();
            match wake {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    let actions = self.machine().tick(now);
                    self.perform(actions).await;
                }
                _ => break,
            }
        }
        self.now = until;
    }

    /// Runs until every record is delivered, processing-failed or dropped (at most a virtual
    /// day), and returns what happened.
    pub async fn run(&mut self) -> FirehoseTrace {
        let actions = std::mem::take(&mut self.pending);
        self.perform(actions).await;
        let limit = self.now + 24 * 3600 * 1000;
        while let Some(at) = self.machine().next_wake() {
            if at > limit {
                break;
            }
            self.now = self.now.max(at);
            let now = self.now;
            let actions = self.machine().tick(now);
            self.perform(actions).await;
        }
        self.trace()
    }

    /// What happened so far.
    pub fn trace(&mut self) -> FirehoseTrace {
        let counters = self.machine().counters();
        let decisions = self.machine().take_decisions();
        self.trace.decisions.extend(decisions);
        let mut trace = self.trace.clone();
        trace.counters = counters;
        trace
    }
}

#[cfg(test)]
mod tests;
