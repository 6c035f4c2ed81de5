//! What `riffle local` shows while it runs: the status of every mapping and shard, and every
//! function log line with its request id.
//!
//! Three forms:
//! - on a terminal, with `--log-format text`: a live table below the logs, redrawn every second
//!   (per Kinesis mapping and shard: state, position, checkpoint, iterator age, records
//!   buffered, batches in flight, invocations, errors, retries, bisects, records sent to the
//!   on-failure destination, filtered, last error; per SQS mapping: pollers, in flight,
//!   received / deleted / failed / filtered, age of the oldest message, last error; a last
//!   error gets a line of its own under its row). Log lines
//!   are printed above it and the table is drawn again below them; rows are cut to the
//!   terminal's width;
//! - text to a pipe or file: one status line per mapping every `--status-every` seconds;
//! - `--log-format json`: one object per line, status objects with a `shards` object.
//!
//! Every number comes from the runtime's metrics: `Metrics` and its `ShardStatus` per shard for
//! Kinesis mappings, `QueueMetrics` for SQS mappings.
//!
//! Invariant: output never blocks the engine: logs come from a broadcast that drops lines for a
//! slow terminal rather than holding a function back, and the status only reads counters.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use riffle_lambda::LogSource;
use riffle_runtime::{Metrics, ShardStatus};
use riffle_template::Application;
use serde_json::{Value, json};

use super::run::Running;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Text for people: a live table on a terminal, status lines otherwise.
    Text,
    /// One JSON object per line.
    Json,
}

/// How often the live table is redrawn.
const REDRAW: Duration = Duration::from_secs(1);

/// Prints `riffle local`'s output.
#[derive(Clone)]
pub(crate) struct Status {
    format: LogFormat,
    /// The live table, when stdout is a terminal and the format is text.
    live: Option<Arc<Live>>,
    running: Arc<Mutex<Option<Arc<Running>>>>,
    /// `RUNNING`, `STOPPING` or `STOPPED`: what SQS mappings are doing (they have no state of
    /// their own).
    phase: Arc<AtomicU8>,
}

const RUNNING: u8 = 0;
const STOPPING: u8 = 1;
const STOPPED: u8 = 2;

impl Status {
    pub(crate) fn new(format: LogFormat) -> Self {
        let live = (format == LogFormat::Text && std::io::stdout().is_terminal())
            .then(|| Arc::new(Live::new()));
        Self {
            format,
            live,
            running: Arc::default(),
            phase: Arc::new(AtomicU8::new(RUNNING)),
        }
    }

    /// Prints a line (above the live table when there is one).
    fn emit(&self, text: String, value: Value) {
        match (self.format, &self.live) {
            (LogFormat::Json, _) => println!("{value}"),
            (LogFormat::Text, Some(live)) => live.println(&text),
            (LogFormat::Text, None) => println!("{text}"),
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
        self.phase.store(STOPPING, Ordering::Relaxed);
        self.emit(
            "riffle local stopping: no new polls; waiting for invocations in flight".to_owned(),
            json!({"event": "stopping"}),
        );
    }

    /// The end: the live table is drawn a last time and left on the screen.
    pub(crate) fn stopped(&self) {
        self.phase.store(STOPPED, Ordering::Relaxed);
        if let Some(live) = &self.live {
            let running = self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(running) = running {
                let (kinesis, queues) = self.snapshot(&running);
                live.draw(table(&kinesis, &queues));
            }
            live.finish();
            // Below the table, which is no longer redrawn.
            println!("riffle local stopped");
            return;
        }
        self.emit(
            "riffle local stopped".to_owned(),
            json!({"event": "stopped"}),
        );
    }

    /// One report of every mapping, as lines (text or JSON).
    pub(crate) fn report(&self, running: &Running) {
        let (kinesis, queues) = self.snapshot(running);
        for mapping in &kinesis {
            self.emit(mapping.line(), mapping.json());
        }
        for mapping in &queues {
            self.emit(mapping.line(), mapping.json());
        }
    }

    /// Reads every mapping's counters and shard statuses.
    fn snapshot(&self, running: &Running) -> (Vec<KinesisView>, Vec<QueueView>) {
        let kinesis = running
            .kinesis
            .iter()
            .map(|(id, controller)| {
                KinesisView::new(
                    id,
                    controller.state().as_str(),
                    controller.mapping().metrics(),
                )
            })
            .collect();
        let queues = running
            .queues
            .iter()
            .map(|(id, mapping)| {
                let state = match self.phase.load(Ordering::Relaxed) {
                    RUNNING => "polling",
                    STOPPING => "stopping",
                    _ => "stopped",
                };
                QueueView::new(id, state, mapping.metrics(), mapping.target_pollers())
            })
            .collect();
        (kinesis, queues)
    }

    /// Starts the status (the live table every second, or a report every `every`; nothing if
    /// `every` is zero) and the function log printers.
    pub(crate) fn start(
        &self,
        running: Arc<Running>,
        every: Duration,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&running));
        let mut tasks = Vec::new();
        for (logical_id, function) in &running.functions {
            let mut logs = function.logs().subscribe();
            let (status, name) = (self.clone(), logical_id.clone());
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
            let status = self.clone();
            tasks.push(tokio::spawn(async move {
                match &status.live {
                    Some(live) => {
                        let mut ticker = tokio::time::interval(REDRAW);
                        loop {
                            ticker.tick().await;
                            let (kinesis, queues) = status.snapshot(&running);
                            live.draw(table(&kinesis, &queues));
                        }
                    }
                    None => {
                        let mut ticker = tokio::time::interval(every);
                        ticker.tick().await;
                        loop {
                            ticker.tick().await;
                            status.report(&running);
                        }
                    }
                }
            }));
        }
        tasks
    }
}

// ---------------------------------------------------------------------------------------------
// The live table on the terminal.

/// The table under the logs: one indicatif line per row, in a `MultiProgress` that prints log
/// lines above its rows and cuts each row (`{wide_msg}`) to the terminal's width.
struct Live {
    multi: MultiProgress,
    rows: Mutex<Vec<ProgressBar>>,
    style: ProgressStyle,
}

impl Live {
    fn new() -> Self {
        Self {
            // Rows are drawn together once a second (`draw` forces it); a low rate keeps the
            // intermediate updates of single rows from being drawn one by one.
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout_with_hz(1)),
            rows: Mutex::new(Vec::new()),
            style: ProgressStyle::with_template("{wide_msg}").expect("a valid template"),
        }
    }

    fn println(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    /// Shows `lines` as the table.
    fn draw(&self, lines: Vec<String>) {
        let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        while rows.len() < lines.len() {
            let row = self
                .multi
                .add(ProgressBar::no_length().with_style(self.style.clone()));
            rows.push(row);
        }
        while rows.len() > lines.len() {
            if let Some(row) = rows.pop() {
                row.finish_and_clear();
                self.multi.remove(&row);
            }
        }
        for (row, line) in rows.iter().zip(lines) {
            row.set_message(line);
        }
        // Draw every row now, whatever the rate limit let through.
        self.multi.suspend(|| ());
    }

    /// Leaves the table on the screen, as last drawn.
    fn finish(&self) {
        for row in self.rows.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            row.finish();
        }
    }
}

/// The rows of the live table: a header, each Kinesis mapping and its shards, then the SQS
/// mappings under their own header.
/// The live table: a row per mapping and per shard, the counts people look at first on the left
/// (a narrow terminal cuts the right), and a row's last error on a line of its own below it.
fn table(kinesis: &[KinesisView], queues: &[QueueView]) -> Vec<String> {
    let mut lines = Vec::new();
    if !kinesis.is_empty() {
        let mut rows = vec![
            [
                "KINESIS MAPPING / SHARD",
                "STATE",
                "AGE",
                "IN FLIGHT",
                "INVOKED",
                "ERRORS",
                "RETRIES",
                "BISECTS",
                "TO DEST",
                "FILTERED",
                "BUFFERED",
                "POSITION",
                "CHECKPOINT",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        let mut errors = vec![None];
        for mapping in kinesis {
            let age = mapping
                .shards
                .iter()
                .filter_map(|s| s.status.iterator_age_ms)
                .max();
            let total = |count: fn(&ShardStatus) -> u64| {
                mapping
                    .shards
                    .iter()
                    .map(|s| count(&s.status))
                    .sum::<u64>()
                    .to_string()
            };
            rows.push(vec![
                mapping.id.clone(),
                mapping.state.clone(),
                age.map(duration).unwrap_or_default(),
                total(|s| s.in_flight),
                mapping.invocations.to_string(),
                mapping.errors.to_string(),
                mapping.retries.to_string(),
                mapping.bisects.to_string(),
                mapping.sent_to_destination.to_string(),
                mapping.filtered.to_string(),
                total(|s| s.buffered),
            ]);
            // The mapping's last error is its latest shard's, shown under that shard.
            errors.push(None);
            for shard in &mapping.shards {
                let status = &shard.status;
                rows.push(vec![
                    format!("  {}", shard.id),
                    shard.state.to_owned(),
                    status.iterator_age_ms.map(duration).unwrap_or_default(),
                    status.in_flight.to_string(),
                    status.invocations.to_string(),
                    status.errors.to_string(),
                    status.retries.to_string(),
                    status.bisects.to_string(),
                    status.sent_to_destination.to_string(),
                    status.filtered.to_string(),
                    status.buffered.to_string(),
                    status.position.as_deref().map(short).unwrap_or_default(),
                    status.checkpoint.as_deref().map(short).unwrap_or_default(),
                ]);
                errors.push(status.last_error.as_ref().map(|(_, e)| e.clone()));
            }
        }
        lines.extend(with_errors(
            align(&rows, &[2, 3, 4, 5, 6, 7, 8, 9, 10]),
            errors,
        ));
    }
    if !queues.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let mut rows = vec![
            [
                "SQS MAPPING",
                "STATE",
                "POLLERS",
                "IN FLIGHT",
                "RECEIVED",
                "DELETED",
                "FAILED",
                "FILTERED",
                "OLDEST",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        let mut errors = vec![None];
        for queue in queues {
            rows.push(vec![
                queue.id.clone(),
                queue.state.to_owned(),
                if queue.state == "stopped" {
                    "0".to_owned()
                } else {
                    format!("{}/{}", queue.pollers, queue.target_pollers)
                },
                queue.in_flight.to_string(),
                queue.received.to_string(),
                queue.deleted.to_string(),
                queue.failed.to_string(),
                queue.filtered.to_string(),
                if queue.received == 0 {
                    String::new()
                } else {
                    duration(queue.oldest_message_age_ms)
                },
            ]);
            errors.push(queue.last_error.clone());
        }
        lines.extend(with_errors(align(&rows, &[2, 3, 4, 5, 6, 7, 8]), errors));
    }
    if lines.is_empty() {
        lines.push("no mappings".to_owned());
    }
    lines
}

/// `lines`, each followed by its error (one line, indented) when it has one.
fn with_errors(lines: Vec<String>, errors: Vec<Option<String>>) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for (line, error) in lines.into_iter().zip(errors) {
        out.push(line);
        if let Some(error) = error {
            out.push(format!(
                "    last error: {}",
                error.replace(['\n', '\r'], " ")
            ));
        }
    }
    out
}

fn align(rows: &[Vec<String>], right: &[usize]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if right.contains(&c) {
                        format!("{cell:>width$}", width = widths[c])
                    } else {
                        format!("{cell:<width$}", width = widths[c])
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// A sequence number, shortened to its last digits (where records of a shard differ).
fn short(sequence_number: &str) -> String {
    const KEEP: usize = 10;
    let digits = sequence_number.chars().count();
    if digits <= KEEP {
        return sequence_number.to_owned();
    }
    let tail: String = sequence_number.chars().skip(digits - KEEP).collect();
    format!("…{tail}")
}

/// Milliseconds for people: `850ms`, `4.2s`, `3m07s`, `2h05m`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1_000.0),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms / 1_000 % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

// ---------------------------------------------------------------------------------------------
// What the status shows, read from the mappings.

/// A Kinesis mapping as the status shows it.
struct KinesisView {
    id: String,
    state: String,
    polled: u64,
    invocations: u64,
    invoked_records: u64,
    errors: u64,
    retries: u64,
    bisects: u64,
    sent_to_destination: u64,
    dropped: u64,
    filtered: u64,
    last_error: Option<String>,
    shards: Vec<ShardView>,
}

/// One shard of a Kinesis mapping.
struct ShardView {
    id: String,
    state: &'static str,
    status: ShardStatus,
}

impl KinesisView {
    fn new(id: &str, state: &str, metrics: &Metrics) -> Self {
        let disabled = matches!(state, "Disabled" | "Disabling");
        let shards = metrics
            .shards()
            .into_iter()
            .map(|(shard, status)| {
                let shard_state = if status.finished {
                    "finished"
                } else if disabled && status.in_flight == 0 {
                    "stopped"
                } else if status.in_flight > 0 {
                    "invoking"
                } else if status.retry_pending {
                    "retrying"
                } else if status.read_failing {
                    "read error"
                } else if status.buffered > 0 {
                    "batching"
                } else {
                    "polling"
                };
                ShardView {
                    id: shard,
                    state: shard_state,
                    status,
                }
            })
            .collect();
        Self {
            id: id.to_owned(),
            state: state.to_owned(),
            polled: Metrics::get(&metrics.polled),
            invocations: Metrics::get(&metrics.invocations),
            invoked_records: Metrics::get(&metrics.invoked_records),
            errors: Metrics::get(&metrics.errors),
            retries: Metrics::get(&metrics.retries),
            bisects: Metrics::get(&metrics.bisects),
            sent_to_destination: Metrics::get(&metrics.sent_to_destination),
            dropped: Metrics::get(&metrics.dropped),
            filtered: Metrics::get(&metrics.filtered),
            last_error: metrics.last_error().map(|(_, shard, error)| {
                if shard.is_empty() {
                    error
                } else {
                    format!("{shard}: {error}")
                }
            }),
            shards,
        }
    }

    fn line(&self) -> String {
        let shards: Vec<String> = self
            .shards
            .iter()
            .map(|view| {
                let mut text = format!("{} {}", view.id, view.state);
                let s = &view.status;
                if let Some(position) = &s.position {
                    text.push_str(&format!(" at {}", short(position)));
                }
                if let Some(checkpoint) = &s.checkpoint {
                    text.push_str(&format!(" checkpoint {}", short(checkpoint)));
                }
                if let Some(age) = s.iterator_age_ms {
                    text.push_str(&format!(" age {age} ms"));
                }
                if s.buffered > 0 || s.in_flight > 0 {
                    text.push_str(&format!(
                        " buffered {} in flight {}",
                        s.buffered, s.in_flight
                    ));
                }
                text
            })
            .collect();
        format!(
            "{} [{}] polled {} invoked {}× ({} records) errors {} retries {} bisects {} to destination {} dropped {} filtered {}{}{}",
            self.id,
            self.state,
            self.polled,
            self.invocations,
            self.invoked_records,
            self.errors,
            self.retries,
            self.bisects,
            self.sent_to_destination,
            self.dropped,
            self.filtered,
            if shards.is_empty() {
                String::new()
            } else {
                format!("; {}", shards.join(", "))
            },
            self.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default(),
        )
    }

    fn json(&self) -> Value {
        let ages: BTreeMap<&str, u64> = self
            .shards
            .iter()
            .filter_map(|s| Some((s.id.as_str(), s.status.iterator_age_ms?)))
            .collect();
        let shards: serde_json::Map<String, Value> = self
            .shards
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    json!({
                        "state": s.state,
                        "position": s.status.position,
                        "checkpoint": s.status.checkpoint,
                        "iterator_age_ms": s.status.iterator_age_ms,
                        "buffered": s.status.buffered,
                        "in_flight": s.status.in_flight,
                        "invocations": s.status.invocations,
                        "errors": s.status.errors,
                        "retries": s.status.retries,
                        "bisects": s.status.bisects,
                        "sent_to_destination": s.status.sent_to_destination,
                        "dropped": s.status.dropped,
                        "filtered": s.status.filtered,
                        "last_error": s.status.last_error.as_ref().map(|(_, e)| e),
                    }),
                )
            })
            .collect();
        json!({
            "event": "status",
            "mapping": self.id,
            "state": self.state,
            "polled": self.polled,
            "invocations": self.invocations,
            "invoked_records": self.invoked_records,
            "errors": self.errors,
            "retries": self.retries,
            "bisects": self.bisects,
            "sent_to_destination": self.sent_to_destination,
            "dropped": self.dropped,
            "filtered": self.filtered,
            "iterator_age_ms": ages,
            "last_error": self.last_error,
            "shards": shards,
        })
    }
}

/// An SQS mapping as the status shows it.
struct QueueView {
    id: String,
    state: &'static str,
    pollers: usize,
    target_pollers: usize,
    in_flight: usize,
    received: u64,
    invocations: u64,
    invoked_messages: u64,
    deleted: u64,
    failed: u64,
    filtered: u64,
    errors: u64,
    throttles: u64,
    oldest_message_age_ms: u64,
    last_error: Option<String>,
}

impl QueueView {
    fn new(
        id: &str,
        state: &'static str,
        metrics: &riffle_runtime::QueueMetrics,
        target_pollers: usize,
    ) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        Self {
            id: id.to_owned(),
            state,
            pollers: metrics.pollers.load(Relaxed),
            target_pollers,
            in_flight: metrics.in_flight.load(Relaxed),
            received: metrics.polled.load(Relaxed),
            invocations: metrics.invocations.load(Relaxed),
            invoked_messages: metrics.invoked_messages.load(Relaxed),
            deleted: metrics.deleted.load(Relaxed),
            failed: metrics.failed.load(Relaxed),
            filtered: metrics.filtered.load(Relaxed),
            errors: metrics.errors.load(Relaxed),
            throttles: metrics.throttles.load(Relaxed),
            oldest_message_age_ms: metrics.oldest_message_age_ms.load(Relaxed),
            last_error: metrics.last_error().map(|(_, error)| error),
        }
    }

    fn line(&self) -> String {
        format!(
            "{} [SQS {}] pollers {} received {} invoked {}× ({} messages) deleted {} failed {} filtered {} errors {} throttles {}; in flight {}; oldest message {} ms{}",
            self.id,
            self.state,
            self.pollers,
            self.received,
            self.invocations,
            self.invoked_messages,
            self.deleted,
            self.failed,
            self.filtered,
            self.errors,
            self.throttles,
            self.in_flight,
            self.oldest_message_age_ms,
            self.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default(),
        )
    }

    fn json(&self) -> Value {
        json!({
            "event": "status",
            "mapping": self.id,
            "state": self.state,
            "pollers": self.pollers,
            "target_pollers": self.target_pollers,
            "in_flight": self.in_flight,
            "received": self.received,
            "invocations": self.invocations,
            "invoked_messages": self.invoked_messages,
            "deleted": self.deleted,
            "failed": self.failed,
            "filtered": self.filtered,
            "errors": self.errors,
            "throttles": self.throttles,
            "oldest_message_age_ms": self.oldest_message_age_ms,
            "last_error": self.last_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_and_shortens_sequence_numbers() {
        let mapping = KinesisView {
            id: "Orders".into(),
            state: "Enabled".into(),
            polled: 12,
            invocations: 4,
            invoked_records: 12,
            errors: 1,
            retries: 1,
            bisects: 0,
            sent_to_destination: 0,
            dropped: 0,
            filtered: 0,
            last_error: Some("shardId-000000000000: Function.Error".into()),
            shards: vec![ShardView {
                id: "shardId-000000000000".into(),
                state: "polling",
                status: ShardStatus {
                    position: Some(
                        "49590338271490256608559692538361571095921575989136588898".into(),
                    ),
                    checkpoint: Some(
                        "49590338271490256608559692538361571095921575989136588898".into(),
                    ),
                    iterator_age_ms: Some(1_500),
                    in_flight: 1,
                    invocations: 4,
                    errors: 1,
                    retries: 1,
                    last_error: Some((1, "Function.Error".into())),
                    ..ShardStatus::default()
                },
            }],
        };
        let queue = QueueView {
            id: "Failures".into(),
            state: "polling",
            pollers: 5,
            target_pollers: 5,
            in_flight: 0,
            received: 0,
            invocations: 0,
            invoked_messages: 0,
            deleted: 0,
            failed: 0,
            filtered: 0,
            errors: 0,
            throttles: 0,
            oldest_message_age_ms: 0,
            last_error: None,
        };
        let lines = table(&[mapping], &[queue]);
        assert_eq!(lines.len(), 7, "{lines:#?}");
        assert!(lines[0].starts_with("KINESIS MAPPING / SHARD  STATE"));
        assert!(
            lines[2].ends_with("…9136588898  …9136588898"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("1.5s"), "{}", lines[2]);
        assert_eq!(
            lines[3], "    last error: Function.Error",
            "the error on a line of its own, under its shard"
        );
        // Columns line up: STATE starts at the same place in every row.
        let at = lines[0].find("STATE").unwrap();
        assert_eq!(&lines[1][at..at + 7], "Enabled");
        assert_eq!(&lines[2][at..at + 7], "polling");
        // Counts are right-aligned under their headers.
        let errors_end = lines[0].find("ERRORS").unwrap() + "ERRORS".len();
        assert_eq!(&lines[2][errors_end - 1..errors_end], "1");
        assert_eq!(lines[4], "");
        assert!(lines[5].starts_with("SQS MAPPING  STATE    POLLERS"));
        assert!(lines[6].starts_with("Failures"), "{}", lines[6]);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_200), "4.2s");
        assert_eq!(duration(187_000), "3m07s");
        assert_eq!(duration(7_500_000), "2h05m");
    }
}
