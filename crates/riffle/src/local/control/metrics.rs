//! `GET /_riffle/metrics`: the counters of the status table and of `/_riffle/mappings`, and
//! each function's, in the OpenMetrics text format (or Prometheus' 0.0.4 text format when the
//! scraper's `Accept` asks for it), named after the CloudWatch metrics they stand for.
//!
//! Every value is read from where the status table reads it (the runtime's `KinesisMetrics`,
//! their `ShardStatus` per shard, `SqsMetrics`) and from `riffle_lambda::FunctionStats`: this
//! module counts nothing itself, it takes a [`Snapshot`] and writes it with prometheus-client's
//! encoders. The names and their meanings are listed in docs/metrics.md.
//!
//! Invariant: the text for a snapshot is deterministic (mappings, shards and functions in a
//! fixed order), so it can be compared whole in tests.

use std::collections::BTreeMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use riffle_lambda::FunctionStats;
use riffle_runtime::ShardStatus;
use riffle_runtime::journal::{KinesisCounters, SqsCounters};

/// What the metrics say, read once per scrape.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    pub(super) kinesis: Vec<KinesisMapping>,
    pub(super) queues: Vec<QueueMapping>,
    pub(super) functions: Vec<Function>,
    pub(super) deliveries: Vec<Delivery>,
}

/// A delivery stream's counters and buffer fill.
#[derive(Debug)]
pub(super) struct Delivery {
    pub(super) name: String,
    pub(super) bucket: String,
    pub(super) counters: riffle_core::firehose::delivery::Counters,
    pub(super) buffered_bytes: u64,
}

/// A Kinesis mapping: its counters, and each shard's status.
#[derive(Debug)]
pub(super) struct KinesisMapping {
    pub(super) id: String,
    pub(super) function: String,
    pub(super) stream: String,
    pub(super) counters: KinesisCounters,
    pub(super) shards: BTreeMap<String, ShardStatus>,
}

/// An SQS mapping's counters.
#[derive(Debug)]
pub(super) struct QueueMapping {
    pub(super) id: String,
    pub(super) function: String,
    pub(super) queue: String,
    pub(super) counters: SqsCounters,
}

/// A function's counters.
#[derive(Debug)]
pub(super) struct Function {
    pub(super) name: String,
    pub(super) stats: FunctionStats,
}

/// The text format a scraper gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// OpenMetrics 1.0 text: the default.
    OpenMetrics,
    /// Prometheus' text format 0.0.4, for an `Accept` that names `text/plain` and not
    /// `application/openmetrics-text`.
    Prometheus,
}

/// The `Content-Type` of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Format {
    /// The format for a request's `Accept` header.
    pub(super) fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(accept)
                if accept.contains("text/plain")
                    && !accept.contains("application/openmetrics-text") =>
            {
                Self::Prometheus
            }
            _ => Self::OpenMetrics,
        }
    }

    /// The response's `Content-Type`.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => OPENMETRICS,
            Self::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

/// The text of `snapshot` in `format`.
pub(super) fn render(snapshot: Snapshot, format: Format) -> String {
    let mut registry = Registry::with_prefix("riffle");
    registry.register_collector(Box::new(snapshot));
    let mut text = String::new();
    let encoded = match format {
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        }
    };
    // Writing to a String fails only on a bug of the encoder.
    encoded.expect("the metrics encode into a String");
    text
}

/// A stream's or queue's name from its ARN (`…:stream/NAME[/consumer/…]`, `…:NAME`).
pub(super) fn source_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match resource.strip_prefix("stream/") {
        Some(stream) => stream.split('/').next().unwrap_or(stream).to_owned(),
        None => resource.to_owned(),
    }
}

type Labels = Vec<(&'static str, String)>;

/// Whether a family counts up or reads a level now.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// One metric family: its kind, name (without the `riffle_` prefix, the unit or `_total`),
/// help, unit, and its series.
struct Family {
    kind: Kind,
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    series: Vec<(Labels, u64)>,
}

impl Family {
    fn counter(name: &'static str, help: &'static str, series: Vec<(Labels, u64)>) -> Self {
        let unit = None;
        Self {
            kind: Kind::Counter,
            name,
            help,
            unit,
            series,
        }
    }

    fn gauge(
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
        series: Vec<(Labels, u64)>,
    ) -> Self {
        Self {
            kind: Kind::Gauge,
            name,
            help,
            unit,
            series,
        }
    }

    /// Writes the family, or nothing when it has no series.
    fn encode(&self, encoder: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        if self.series.is_empty() {
            return Ok(());
        }
        let metric_type = match self.kind {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
        };
        let mut metric =
            encoder.encode_descriptor(self.name, self.help, self.unit.as_ref(), metric_type)?;
        for (labels, value) in &self.series {
            let mut series = metric.encode_family(labels)?;
            match self.kind {
                Kind::Counter => series.encode_counter::<NoLabelSet, _, u64>(value, None)?,
                Kind::Gauge => series.encode_gauge(value)?,
            }
        }
        Ok(())
    }
}

fn ms() -> Option<Unit> {
    Some(Unit::Other("milliseconds".to_owned()))
}

impl KinesisMapping {
    fn labels(&self) -> Labels {
        vec![
            ("mapping", self.id.clone()),
            ("function", self.function.clone()),
            ("stream", self.stream.clone()),
        ]
    }

    fn shard_labels(&self, shard: &str) -> Labels {
        let mut labels = self.labels();
        labels.push(("shard", shard.to_owned()));
        labels
    }
}

impl QueueMapping {
    fn labels(&self) -> Labels {
        vec![
            ("mapping", self.id.clone()),
            ("function", self.function.clone()),
            ("queue", self.queue.clone()),
        ]
    }
}

impl Snapshot {
    /// One series per shard of every Kinesis mapping, with `value` of its status.
    fn per_shard(&self, value: impl Fn(&ShardStatus) -> Option<u64>) -> Vec<(Labels, u64)> {
        self.kinesis
            .iter()
            .flat_map(|m| {
                m.shards
                    .iter()
                    .filter_map(|(shard, s)| Some((m.shard_labels(shard), value(s)?)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn per_kinesis(&self, value: impl Fn(&KinesisCounters) -> u64) -> Vec<(Labels, u64)> {
        self.kinesis
            .iter()
            .map(|m| (m.labels(), value(&m.counters)))
            .collect()
    }

    fn per_queue(&self, value: impl Fn(&SqsCounters) -> u64) -> Vec<(Labels, u64)> {
        self.queues
            .iter()
            .map(|m| (m.labels(), value(&m.counters)))
            .collect()
    }

    fn per_function(&self, value: impl Fn(&FunctionStats) -> u64) -> Vec<(Labels, u64)> {
        self.functions
            .iter()
            .map(|f| (vec![("function", f.name.clone())], value(&f.stats)))
            .collect()
    }

    /// Both kinds of mapping in one family: per shard for Kinesis, per mapping for SQS.
    fn per_shard_and_queue(
        &self,
        shard: impl Fn(&ShardStatus) -> u64,
        queue: impl Fn(&SqsCounters) -> u64,
    ) -> Vec<(Labels, u64)> {
        let mut series = self.per_shard(|s| Some(shard(s)));
        series.extend(self.per_queue(queue));
        series
    }

    /// The mappings' families, in the order they are written.
    fn mappings(&self) -> Vec<Family> {
        let mut polled = self.per_kinesis(|c| c.polled);
        polled.extend(self.per_queue(|c| c.received));
        let mut invoked = self.per_kinesis(|c| c.invoked_records);
        invoked.extend(self.per_queue(|c| c.invoked_messages));
        vec![
            Family::gauge(
                "iterator_age",
                "IteratorAge: how old the last record of a shard's last successful batch was when \
                 the batch finished; 0 once the shard is caught up",
                ms(),
                self.per_shard(|s| s.iterator_age_ms),
            ),
            Family::counter(
                "polled_events",
                "PolledEventCount: records (Kinesis) or messages (SQS, each receive) the mapping read",
                polled,
            ),
            Family::counter(
                "invoked_events",
                "InvokedEventCount: records or messages sent to the function, counting retries",
                invoked,
            ),
            Family::counter(
                "mapping_invocations",
                "Invocations of the function by the mapping (per shard for Kinesis), counting retries",
                self.per_shard_and_queue(|s| s.invocations, |c| c.invocations),
            ),
            Family::counter(
                "mapping_errors",
                "Invocations by the mapping that failed (function error, timeout, invalid response)",
                self.per_shard_and_queue(|s| s.errors, |c| c.errors),
            ),
            Family::counter(
                "mapping_throttles",
                "Invocations by the mapping that the function throttled (retried, not counted as attempts)",
                self.per_shard_and_queue(|s| s.throttles, |c| c.throttles),
            ),
            Family::counter(
                "mapping_retries",
                "Retries the Kinesis mapping scheduled, per shard",
                self.per_shard(|s| Some(s.retries)),
            ),
            Family::counter(
                "mapping_bisects",
                "Batches the Kinesis mapping split in two (BisectBatchOnFunctionError), per shard",
                self.per_shard(|s| Some(s.bisects)),
            ),
            Family::counter(
                "on_failure_destination_delivered_events",
                "OnFailureDestinationDeliveredEventCount: records reported to the on-failure destination",
                self.per_shard(|s| Some(s.sent_to_destination)),
            ),
            Family::counter(
                "dropped_events",
                "DroppedEventCount: records given up without an on-failure destination",
                self.per_shard(|s| Some(s.dropped)),
            ),
            Family::counter(
                "filtered_out_events",
                "FilteredOutEventCount: records or messages the filter criteria dropped",
                self.per_shard_and_queue(|s| s.filtered, |c| c.filtered),
            ),
            Family::counter(
                "deleted_events",
                "DeletedEventCount: messages the SQS mapping deleted after the function succeeded",
                self.per_queue(|c| c.deleted),
            ),
            Family::counter(
                "failed_invoke_events",
                "FailedInvokeEventCount: messages of failed invocations, left to return to the queue",
                self.per_queue(|c| c.failed),
            ),
            Family::gauge(
                "pollers",
                "Pollers the SQS mapping runs now",
                None,
                self.per_queue(|c| c.pollers as u64),
            ),
            Family::gauge(
                "approximate_age_of_oldest_message",
                "ApproximateAgeOfOldestMessage: the age of the oldest message of the SQS mapping's \
                 last receive",
                ms(),
                self.per_queue(|c| c.oldest_message_age_ms),
            ),
        ]
    }

    /// The functions' counters and gauges, in the order they are written.
    fn functions(&self) -> Vec<Family> {
        vec![
            Family::counter(
                "invocations",
                "Invocations: invocations of the function, from every mapping and the Invoke API",
                self.per_function(|s| s.invocations),
            ),
            Family::counter(
                "errors",
                "Errors: invocations that ended in a function error (timeouts and crashes included)",
                self.per_function(|s| s.errors),
            ),
            Family::counter(
                "throttles",
                "Throttles: invocations refused for lack of concurrency",
                self.per_function(|s| s.throttles),
            ),
            Family::gauge(
                "concurrent_executions",
                "ConcurrentExecutions: invocations of the function under way now",
                None,
                self.per_function(|s| s.concurrent_executions as u64),
            ),
            Family::counter(
                "cold_starts",
                "Execution environments started and initialised (an Init Duration in a REPORT line)",
                self.per_function(|s| s.cold_starts.len() as u64),
            ),
        ]
    }

    /// Each function's duration histogram.
    fn durations(&self, encoder: &mut DescriptorEncoder<'_>) -> std::fmt::Result {
        if self.functions.is_empty() {
            return Ok(());
        }
        let unit = ms();
        let mut metric = encoder.encode_descriptor(
            "duration",
            "Duration: how long the function ran, per invocation it answered, failed or timed out",
            unit.as_ref(),
            MetricType::Histogram,
        )?;
        for function in &self.functions {
            let labels: Labels = vec![("function", function.name.clone())];
            let d = &function.stats.duration;
            metric
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(d.sum_ms, d.count, &d.buckets(), None)?;
        }
        Ok(())
    }
}

impl Snapshot {
    /// The delivery streams' counters and gauges, in the order they are written.
    fn deliveries(&self) -> Vec<Family> {
        let per = |value: &dyn Fn(&Delivery) -> u64| -> Vec<(Labels, u64)> {
            self.deliveries
                .iter()
                .map(|d| {
                    let labels = vec![
                        ("delivery_stream", d.name.clone()),
                        ("bucket", d.bucket.clone()),
                    ];
                    (labels, value(d))
                })
                .collect()
        };
        vec![
            Family::counter(
                "firehose_incoming_records",
                "Records the delivery stream accepted (IncomingRecords).",
                per(&|d| d.counters.records_in),
            ),
            Family::counter(
                "firehose_transformed_records",
                "Records the transformation returned Ok (SucceedProcessing.Records).",
                per(&|d| d.counters.transformed),
            ),
            Family::counter(
                "firehose_dropped_records",
                "Records the transformation returned Dropped.",
                per(&|d| d.counters.dropped),
            ),
            Family::counter(
                "firehose_processing_failed_records",
                "Records written under the error prefix as processing-failed.",
                per(&|d| d.counters.failed),
            ),
            Family::counter(
                "firehose_invocations",
                "Invocations of the transformation, retries included.",
                per(&|d| d.counters.invocations),
            ),
            Family::counter(
                "firehose_invocation_errors",
                "Invocations of the transformation that failed as a whole.",
                per(&|d| d.counters.invocation_errors),
            ),
            Family::counter(
                "firehose_delivered_objects",
                "Objects delivered to the destination bucket (DeliveryToS3.Success).",
                per(&|d| d.counters.delivered_objects),
            ),
            Family::counter(
                "firehose_delivered_bytes",
                "Bytes of records in delivered objects, before compression (DeliveryToS3.Bytes).",
                per(&|d| d.counters.delivered_bytes),
            ),
            Family::counter(
                "firehose_write_failures",
                "Object writes S3 refused (each is retried).",
                per(&|d| d.counters.write_failures),
            ),
            Family::gauge(
                "firehose_buffered",
                "Bytes buffered now, waiting for the buffering hints.",
                Some(Unit::Bytes),
                per(&|d| d.buffered_bytes),
            ),
        ]
    }
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        for family in self
            .mappings()
            .into_iter()
            .chain(self.functions())
            .chain(self.deliveries())
        {
            family.encode(&mut encoder)?;
        }
        self.durations(&mut encoder)
    }
}

#[cfg(test)]
mod tests;
