//! What `riffle local` shows while it runs: a status report per mapping (and per shard) every
//! few seconds, and every function log line with its request id — as text for people or as
//! JSON lines for machines (`--log-format json`).
//!
//! Invariant: output never blocks the engine: logs come from a broadcast that drops lines for a
//! slow terminal rather than holding a function back.

use std::sync::Arc;
use std::time::Duration;

use riffle_lambda::LogSource;
use riffle_runtime::Metrics;
use riffle_template::Application;
use serde_json::{Value, json};

use super::run::Running;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Aligned text for a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

/// Prints `riffle local`'s output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Status {
    format: LogFormat,
}

fn counter(value: &std::sync::atomic::AtomicU64) -> u64 {
    Metrics::get(value)
}

impl Status {
    pub(crate) fn new(format: LogFormat) -> Self {
        Self { format }
    }

    fn emit(&self, text: String, value: Value) {
        match self.format {
            LogFormat::Text => println!("{text}"),
            LogFormat::Json => println!("{value}"),
        }
    }

    /// Announces what runs.
    pub(crate) fn ready(&self, endpoint: &str, app: &Application) {
        let mappings: Vec<String> = app
            .mappings
            .iter()
            .map(|m| {
                format!(
                    "{} ({} → {})",
                    m.logical_id, m.event_source_arn, m.function_name
                )
            })
            .collect();
        self.emit(
            format!(
                "riffle local ready at {endpoint}: {} stream(s), {} queue(s), {} function(s), mappings: {}",
                app.streams.len(),
                app.queues.len(),
                app.functions.len(),
                if mappings.is_empty() { "none".to_owned() } else { mappings.join(", ") }
            ),
            json!({
                "event": "ready",
                "endpoint": endpoint,
                "streams": app.streams.iter().map(|s| &s.name).collect::<Vec<_>>(),
                "queues": app.queues.iter().map(|q| &q.url).collect::<Vec<_>>(),
                "functions": app.functions.iter().map(|f| &f.name).collect::<Vec<_>>(),
                "mappings": app.mappings.iter().map(|m| &m.logical_id).collect::<Vec<_>>(),
            }),
        );
    }

    pub(crate) fn stopping(&self) {
        self.emit(
            "riffle local stopping: no new polls; waiting for invocations in flight".to_owned(),
            json!({"event": "stopping"}),
        );
    }

    pub(crate) fn stopped(&self) {
        self.emit(
            "riffle local stopped".to_owned(),
            json!({"event": "stopped"}),
        );
    }

    /// One report of every mapping.
    pub(crate) fn report(&self, running: &Running) {
        for (id, controller) in &running.kinesis {
            let mapping = controller.mapping();
            let m = mapping.metrics();
            let ages = m.iterator_ages();
            let last_error =
                mapping
                    .journal()
                    .entries(None)
                    .into_iter()
                    .rev()
                    .find_map(|e| match e.kind {
                        riffle_runtime::JournalKind::PollFailed { error }
                        | riffle_runtime::JournalKind::DeliveryError { error } => Some(error),
                        _ => None,
                    });
            let shards: Vec<String> = ages
                .iter()
                .map(|(shard, age)| format!("{shard} age {age} ms"))
                .collect();
            self.emit(
                format!(
                    "{id} [{}] polled {} invoked {}× ({} records) errors {} retries {} bisects {} to destination {} dropped {} filtered {}{}{}",
                    controller.state().as_str(),
                    counter(&m.polled),
                    counter(&m.invocations),
                    counter(&m.invoked_records),
                    counter(&m.errors),
                    counter(&m.retries),
                    counter(&m.bisects),
                    counter(&m.sent_to_destination),
                    counter(&m.dropped),
                    counter(&m.filtered),
                    if shards.is_empty() { String::new() } else { format!("; {}", shards.join(", ")) },
                    last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default(),
                ),
                json!({
                    "event": "status",
                    "mapping": id,
                    "state": controller.state().as_str(),
                    "polled": counter(&m.polled),
                    "invocations": counter(&m.invocations),
                    "invoked_records": counter(&m.invoked_records),
                    "errors": counter(&m.errors),
                    "retries": counter(&m.retries),
                    "bisects": counter(&m.bisects),
                    "sent_to_destination": counter(&m.sent_to_destination),
                    "dropped": counter(&m.dropped),
                    "filtered": counter(&m.filtered),
                    "iterator_age_ms": ages,
                    "last_error": last_error,
                }),
            );
        }
        for (id, mapping) in &running.queues {
            let m = mapping.metrics();
            let load =
                |v: &std::sync::atomic::AtomicU64| v.load(std::sync::atomic::Ordering::Relaxed);
            let pollers = m.pollers.load(std::sync::atomic::Ordering::Relaxed);
            self.emit(
                format!(
                    "{id} [SQS] pollers {pollers} received {} invoked {}× ({} messages) deleted {} failed {} filtered {} errors {} throttles {}; oldest message {} ms",
                    load(&m.polled),
                    load(&m.invocations),
                    load(&m.invoked_messages),
                    load(&m.deleted),
                    load(&m.failed),
                    load(&m.filtered),
                    load(&m.errors),
                    load(&m.throttles),
                    load(&m.oldest_message_age_ms),
                ),
                json!({
                    "event": "status",
                    "mapping": id,
                    "pollers": pollers,
                    "received": load(&m.polled),
                    "invocations": load(&m.invocations),
                    "invoked_messages": load(&m.invoked_messages),
                    "deleted": load(&m.deleted),
                    "failed": load(&m.failed),
                    "filtered": load(&m.filtered),
                    "errors": load(&m.errors),
                    "throttles": load(&m.throttles),
                    "oldest_message_age_ms": load(&m.oldest_message_age_ms),
                }),
            );
        }
    }

    /// Starts the periodic report and the function log printers.
    pub(crate) fn start(
        &self,
        running: Arc<Running>,
        every: Duration,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        for (logical_id, function) in &running.functions {
            let mut logs = function.logs().subscribe();
            let (status, name) = (*self, logical_id.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    match logs.recv().await {
                        Ok(line) => status.emit(
                            format!(
                                "{name} {} {}{}",
                                line.request_id.as_deref().unwrap_or("-"),
                                if line.source == LogSource::Stderr {
                                    "! "
                                } else {
                                    ""
                                },
                                line.line
                            ),
                            json!({
                                "event": "log",
                                "function": name,
                                "request_id": line.request_id,
                                "stream": format!("{:?}", line.source).to_lowercase(),
                                "line": line.line,
                                "at": line.at,
                            }),
                        ),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => status
                            .emit(
                                format!("{name}: {missed} log line(s) skipped (output too slow)"),
                                json!({"event": "log_skipped", "function": name, "lines": missed}),
                            ),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            }));
        }
        if !every.is_zero() {
            let status = *self;
            tasks.push(tokio::spawn(async move {
                let mut ticker = tokio::time::interval(every);
                ticker.tick().await;
                loop {
                    ticker.tick().await;
                    status.report(&running);
                }
            }));
        }
        tasks
    }
}
