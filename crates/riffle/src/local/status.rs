//! What `riffle local` shows while it runs: the status of every mapping and shard, and every
//! function log line with its request id.
//!
//! Three forms:
//! - on a terminal, with `--log-format text`: a live table below the logs, redrawn every second
//!   (per Kinesis mapping and shard: state, position, checkpoint, iterator age, records
//!   buffered, batches in flight, invocations, errors, retries, bisects, records sent to the
//!   on-failure destination, filtered, last error; per SQS mapping: pollers, in flight,
//!   received / deleted / failed / filtered, age of the oldest message, last error). Log lines
//!   are printed above it and the table is drawn again below them; rows are cut to the
//!   terminal's width;
//! - text to a pipe or file: one status line per mapping every `--status-every` seconds;
//! - `--log-format json`: one object per line, status objects with a `shards` object.
//!
//! Per-shard counts come from the mapping's decision journal, read incrementally (the mapping's
//! `Metrics` counts per mapping); positions, checkpoints, ages, buffered and in-flight counts
//! from `Metrics::shards`.
//!
//! Invariant: output never blocks the engine: logs come from a broadcast that drops lines for a
//! slow terminal rather than holding a function back, and the status reads counters and copies
//! of the journals.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use riffle_core::queue::Settled;
use riffle_core::shard::JournalEntry;
use riffle_lambda::LogSource;
use riffle_runtime::{JournalEvent, JournalKind, Metrics, QueueJournalEvent, QueueJournalKind};
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
    tallies: Arc<Mutex<Tallies>>,
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
            tallies: Arc::default(),
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

    /// Reads every mapping's counters, shard statuses and new journal entries.
    fn snapshot(&self, running: &Running) -> (Vec<KinesisView>, Vec<QueueView>) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let kinesis = running
            .kinesis
            .iter()
            .map(|(id, controller)| {
                let mapping = controller.mapping();
                let tally = tallies.kinesis.entry(id.clone()).or_default();
                tally.absorb(&mapping.journal().entries(None));
                KinesisView::new(id, controller.state().as_str(), mapping.metrics(), tally)
            })
            .collect();
        let queues = running
            .queues
            .iter()
            .map(|(id, mapping)| {
                let tally = tallies.queues.entry(id.clone()).or_default();
                tally.absorb(&mapping.journal());
                let state = match self.phase.load(Ordering::Relaxed) {
                    RUNNING => "polling",
                    STOPPING => "stopping",
                    _ => "stopped",
                };
                QueueView::new(
                    id,
                    state,
                    mapping.metrics(),
                    mapping.target_pollers(),
                    tally,
                )
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
fn table(kinesis: &[KinesisView], queues: &[QueueView]) -> Vec<String> {
    let mut lines = Vec::new();
    if !kinesis.is_empty() {
        let mut rows = vec![
            [
                "KINESIS MAPPING / SHARD",
                "STATE",
                "POSITION",
                "CHECKPOINT",
                "AGE",
                "BUFFERED",
                "IN FLIGHT",
                "INVOKED",
                "ERRORS",
                "RETRIES",
                "BISECTS",
                "TO DEST",
                "FILTERED",
                "LAST ERROR",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for mapping in kinesis {
            let age = mapping
                .shards
                .iter()
                .filter_map(|s| s.iterator_age_ms)
                .max();
            rows.push(vec![
                mapping.id.clone(),
                mapping.state.clone(),
                String::new(),
                String::new(),
                age.map(duration).unwrap_or_default(),
                mapping
                    .shards
                    .iter()
                    .map(|s| s.buffered)
                    .sum::<u64>()
                    .to_string(),
                mapping
                    .shards
                    .iter()
                    .map(|s| s.in_flight)
                    .sum::<u64>()
                    .to_string(),
                mapping.invocations.to_string(),
                mapping.errors.to_string(),
                mapping.retries.to_string(),
                mapping.bisects.to_string(),
                mapping.sent_to_destination.to_string(),
                mapping.filtered.to_string(),
                mapping.last_error.clone().unwrap_or_default(),
            ]);
            for shard in &mapping.shards {
                rows.push(vec![
                    format!("  {}", shard.id),
                    shard.state.to_owned(),
                    shard.position.as_deref().map(short).unwrap_or_default(),
                    shard.checkpoint.as_deref().map(short).unwrap_or_default(),
                    shard.iterator_age_ms.map(duration).unwrap_or_default(),
                    shard.buffered.to_string(),
                    shard.in_flight.to_string(),
                    shard.counts.invocations.to_string(),
                    shard.counts.errors.to_string(),
                    shard.counts.retries.to_string(),
                    shard.counts.bisects.to_string(),
                    shard.counts.sent_to_destination.to_string(),
                    shard.counts.filtered.to_string(),
                    shard.counts.last_error.clone().unwrap_or_default(),
                ]);
            }
        }
        lines.extend(align(&rows, &[4, 5, 6, 7, 8, 9, 10, 11, 12]));
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
                "LAST ERROR",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
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
                queue.last_error.clone().unwrap_or_default(),
            ]);
        }
        lines.extend(align(&rows, &[2, 3, 4, 5, 6, 7, 8]));
    }
    if lines.is_empty() {
        lines.push("no mappings".to_owned());
    }
    lines
}

/// Pads every cell to its column's width (numbers, in `right`, to the right); the last column
/// is left as it is, so only it is cut on a narrow terminal.
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
                    if c + 1 == row.len() {
                        // Errors are one line in the table.
                        cell.replace(['\n', '\r'], " ")
                    } else if right.contains(&c) {
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
    position: Option<String>,
    checkpoint: Option<String>,
    iterator_age_ms: Option<u64>,
    buffered: u64,
    in_flight: u64,
    counts: ShardCounts,
}

impl KinesisView {
    fn new(id: &str, state: &str, metrics: &Metrics, tally: &KinesisTally) -> Self {
        let statuses = metrics.shards();
        let mut ids: Vec<&String> = statuses.keys().chain(tally.shards.keys()).collect();
        ids.sort();
        ids.dedup();
        let disabled = matches!(state, "Disabled" | "Disabling");
        let shards = ids
            .into_iter()
            .map(|shard| {
                let status = statuses.get(shard).cloned().unwrap_or_default();
                let counts = tally.shards.get(shard).cloned().unwrap_or_default();
                let shard_state = if status.finished {
                    "finished"
                } else if disabled && status.in_flight == 0 {
                    "stopped"
                } else if status.in_flight > 0 {
                    "invoking"
                } else if counts.retry_pending {
                    "retrying"
                } else if counts.read_failing {
                    "read error"
                } else if status.buffered > 0 {
                    "batching"
                } else {
                    "polling"
                };
                ShardView {
                    id: shard.clone(),
                    state: shard_state,
                    position: status.position,
                    checkpoint: status.checkpoint,
                    iterator_age_ms: status.iterator_age_ms,
                    buffered: status.buffered,
                    in_flight: status.in_flight,
                    counts,
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
            last_error: tally.last_error.clone(),
            shards,
        }
    }

    fn line(&self) -> String {
        let shards: Vec<String> = self
            .shards
            .iter()
            .map(|s| {
                let mut text = format!("{} {}", s.id, s.state);
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
            .filter_map(|s| Some((s.id.as_str(), s.iterator_age_ms?)))
            .collect();
        let shards: serde_json::Map<String, Value> = self
            .shards
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    json!({
                        "state": s.state,
                        "position": s.position,
                        "checkpoint": s.checkpoint,
                        "iterator_age_ms": s.iterator_age_ms,
                        "buffered": s.buffered,
                        "in_flight": s.in_flight,
                        "invocations": s.counts.invocations,
                        "errors": s.counts.errors,
                        "retries": s.counts.retries,
                        "bisects": s.counts.bisects,
                        "sent_to_destination": s.counts.sent_to_destination,
                        "dropped": s.counts.dropped,
                        "filtered": s.counts.filtered,
                        "last_error": s.counts.last_error,
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
        tally: &QueueTally,
    ) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        Self {
            id: id.to_owned(),
            state,
            pollers: metrics.pollers.load(Relaxed),
            target_pollers,
            in_flight: tally.in_flight(),
            received: metrics.polled.load(Relaxed),
            invocations: metrics.invocations.load(Relaxed),
            invoked_messages: metrics.invoked_messages.load(Relaxed),
            deleted: metrics.deleted.load(Relaxed),
            failed: metrics.failed.load(Relaxed),
            filtered: metrics.filtered.load(Relaxed),
            errors: metrics.errors.load(Relaxed),
            throttles: metrics.throttles.load(Relaxed),
            oldest_message_age_ms: metrics.oldest_message_age_ms.load(Relaxed),
            last_error: tally.last_error.clone(),
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

// ---------------------------------------------------------------------------------------------
// Counting from the journals.

/// What the status has counted from every mapping's journal so far.
#[derive(Default)]
struct Tallies {
    kinesis: BTreeMap<String, KinesisTally>,
    queues: BTreeMap<String, QueueTally>,
}

/// Finds the entries of a journal not seen before. A journal keeps its last entries in order
/// and drops the oldest, so the new entries are those after the last ones seen; if those were
/// dropped too (more entries than the journal keeps since the last look), every entry is new.
struct Cursor<T> {
    tail: Vec<T>,
}

impl<T> Default for Cursor<T> {
    fn default() -> Self {
        Self { tail: Vec::new() }
    }
}

impl<T: PartialEq + Clone> Cursor<T> {
    /// Entries compared to find the last look: enough that a run of identical entries (same
    /// time, same shard, same decision) is not mistaken for it.
    const TAIL: usize = 8;

    fn fresh<'a>(&mut self, entries: &'a [T]) -> &'a [T] {
        // The last look ended at the latest `end` where the entries before `end` are the tail
        // seen then (as far as the journal still has them).
        let k = self.tail.len();
        let start = (1..=entries.len())
            .rev()
            .find(|&end| {
                let n = k.min(end);
                n > 0 && entries[end - n..end] == self.tail[k - n..]
            })
            .unwrap_or(0);
        let keep = entries.len().min(Self::TAIL);
        self.tail = entries[entries.len() - keep..].to_vec();
        &entries[start..]
    }
}

/// Per-shard counts of a Kinesis mapping.
#[derive(Debug, Clone, Default, PartialEq)]
struct ShardCounts {
    invocations: u64,
    errors: u64,
    retries: u64,
    bisects: u64,
    sent_to_destination: u64,
    dropped: u64,
    filtered: u64,
    last_error: Option<String>,
    /// A retry is scheduled and its invocation has not started.
    retry_pending: bool,
    /// The last read failed.
    read_failing: bool,
}

#[derive(Default)]
struct KinesisTally {
    cursor: Cursor<JournalEvent>,
    shards: BTreeMap<String, ShardCounts>,
    last_error: Option<String>,
}

impl KinesisTally {
    fn absorb(&mut self, entries: &[JournalEvent]) {
        for event in self.cursor.fresh(entries) {
            let counts = self.shards.entry(event.shard_id.clone()).or_default();
            let mut error = None;
            match &event.kind {
                JournalKind::ShardStarted { .. } | JournalKind::ShardFinished => {}
                JournalKind::Polled { .. } => counts.read_failing = false,
                JournalKind::PollFailed { error: e } => {
                    counts.read_failing = true;
                    error = Some(format!("read: {e}"));
                }
                JournalKind::Invoked { .. } => {
                    counts.invocations += 1;
                    counts.retry_pending = false;
                }
                JournalKind::Checkpointed { .. } | JournalKind::Delivered { .. } => {}
                JournalKind::DeliveryError { error: e } => {
                    error = Some(format!("on-failure destination: {e}"));
                }
                JournalKind::Decision(decision) => match decision {
                    JournalEntry::Succeeded { .. } | JournalEntry::DeliveryFailed { .. } => {}
                    JournalEntry::PartiallyFailed { resume_at, .. } => {
                        error = Some(format!("batch item failures from {resume_at}"));
                    }
                    JournalEntry::Failed { reason, .. } => {
                        counts.errors += 1;
                        error = Some(reason.clone());
                    }
                    JournalEntry::Bisected { .. } => counts.bisects += 1,
                    JournalEntry::RetryScheduled { .. } => {
                        counts.retries += 1;
                        counts.retry_pending = true;
                    }
                    JournalEntry::Filtered { records } => counts.filtered += *records as u64,
                    JournalEntry::WindowStateDropped { .. } => {
                        error = Some("tumbling window state dropped".to_owned());
                    }
                    JournalEntry::Discarded {
                        condition,
                        records,
                        delivered,
                        ..
                    } => {
                        if *delivered {
                            counts.sent_to_destination += *records as u64;
                        } else {
                            counts.dropped += *records as u64;
                        }
                        error = Some(format!(
                            "{} record(s) {}: {}",
                            records,
                            if *delivered {
                                "sent to the on-failure destination"
                            } else {
                                "dropped"
                            },
                            condition.as_str()
                        ));
                    }
                },
            }
            if let Some(error) = error {
                counts.last_error = Some(error.clone());
                self.last_error = Some(format!("{}: {error}", event.shard_id));
            }
        }
    }
}

#[derive(Default)]
struct QueueTally {
    cursor: Cursor<QueueJournalEvent>,
    /// Pollers holding a batch (invoked, or waiting to invoke it again after a throttle).
    holding: BTreeMap<usize, bool>,
    last_error: Option<String>,
}

impl QueueTally {
    fn absorb(&mut self, entries: &[QueueJournalEvent]) {
        for event in self.cursor.fresh(entries) {
            match &event.kind {
                QueueJournalKind::Invoked { .. } | QueueJournalKind::Throttled { .. } => {
                    self.holding.insert(event.poller, true);
                }
                QueueJournalKind::Settled { settled, .. } => {
                    self.holding.insert(event.poller, false);
                    let error = match settled {
                        Settled::Success => None,
                        Settled::PartialFailure(ids) => {
                            Some(format!("{} message(s) reported failed", ids.len()))
                        }
                        Settled::InvalidResponse(why) => Some(format!("invalid response: {why}")),
                        Settled::FunctionError(why) => Some(why.clone()),
                        Settled::GaveUp(why) => Some(format!("gave up: {why}")),
                    };
                    if error.is_some() {
                        self.last_error = error;
                    }
                }
                QueueJournalKind::Released { .. } => {
                    self.holding.insert(event.poller, false);
                }
                QueueJournalKind::SourceFailed { call, error } => {
                    self.last_error = Some(format!("{call}: {error}"));
                }
                QueueJournalKind::DeleteFailed { failures } => {
                    self.last_error = Some(format!("{} delete(s) failed", failures.len()));
                }
                QueueJournalKind::Received { .. }
                | QueueJournalKind::Filtered { .. }
                | QueueJournalKind::Scaled { .. } => {}
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.holding.values().filter(|h| **h).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: u64, shard: &str, kind: JournalKind) -> JournalEvent {
        JournalEvent {
            at,
            shard_id: shard.to_owned(),
            kind,
        }
    }

    #[test]
    fn the_cursor_yields_each_entry_once_even_when_the_journal_drops_old_ones() {
        let mut cursor = Cursor::default();
        let all: Vec<u32> = (0..30).collect();
        assert_eq!(cursor.fresh(&all[..10]), &all[..10]);
        assert_eq!(cursor.fresh(&all[..10]), &[] as &[u32]);
        // The journal dropped 0..5 and gained 10..20.
        assert_eq!(cursor.fresh(&all[5..20]), &all[10..20]);
        // Everything seen was dropped: all that is left is new.
        assert_eq!(cursor.fresh(&all[21..30]), &all[21..30]);
    }

    #[test]
    fn the_cursor_is_not_fooled_by_entries_seen_again_later() {
        let mut cursor = Cursor::default();
        assert_eq!(cursor.fresh(&[1, 2, 1, 2]).len(), 4);
        // The last entry seen (2) comes again, but not after the same entries.
        assert_eq!(cursor.fresh(&[1, 2, 1, 2, 3, 1, 2]), &[3, 1, 2]);
    }

    #[test]
    fn shard_counts_follow_the_journal() {
        let mut tally = KinesisTally::default();
        let s0 = "shardId-000000000000";
        let s1 = "shardId-000000000001";
        let invoked = JournalKind::Invoked {
            lane: 0,
            records: 3,
            range: None,
            previous_invocations: 0,
        };
        let mut journal = vec![
            event(1, s0, invoked.clone()),
            event(
                2,
                s0,
                JournalKind::Decision(JournalEntry::Failed {
                    lane: 0,
                    reason: "Function.Error".into(),
                    attempts: 1,
                }),
            ),
            event(
                2,
                s0,
                JournalKind::Decision(JournalEntry::Bisected {
                    lane: 0,
                    left: 1,
                    right: 2,
                }),
            ),
            event(
                2,
                s0,
                JournalKind::Decision(JournalEntry::RetryScheduled {
                    lane: 0,
                    at: 3,
                    reason: "Function.Error".into(),
                }),
            ),
            event(
                3,
                s1,
                JournalKind::Decision(JournalEntry::Filtered { records: 4 }),
            ),
        ];
        tally.absorb(&journal);
        assert!(tally.shards[s0].retry_pending);
        journal.push(event(4, s0, invoked));
        journal.push(event(
            5,
            s0,
            JournalKind::Decision(JournalEntry::Discarded {
                lane: 0,
                condition: riffle_core::event::FailureCondition::RetryAttemptsExhausted,
                range: (
                    riffle_core::sequence::SequenceNumber::parse("1").unwrap(),
                    riffle_core::sequence::SequenceNumber::parse("2").unwrap(),
                ),
                records: 2,
                delivered: true,
            }),
        ));
        tally.absorb(&journal);
        let s0_counts = &tally.shards[s0];
        assert_eq!(
            (
                s0_counts.invocations,
                s0_counts.errors,
                s0_counts.bisects,
                s0_counts.retries,
                s0_counts.sent_to_destination,
                s0_counts.retry_pending,
            ),
            (2, 1, 1, 1, 2, false)
        );
        assert_eq!(
            s0_counts.last_error.as_deref(),
            Some("2 record(s) sent to the on-failure destination: RetryAttemptsExhausted")
        );
        assert_eq!(tally.shards[s1].filtered, 4);
        assert_eq!(tally.shards[s1].invocations, 0);
    }

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
                position: Some("49590338271490256608559692538361571095921575989136588898".into()),
                checkpoint: Some("49590338271490256608559692538361571095921575989136588898".into()),
                iterator_age_ms: Some(1_500),
                buffered: 0,
                in_flight: 1,
                counts: ShardCounts {
                    invocations: 4,
                    errors: 1,
                    retries: 1,
                    last_error: Some("Function.Error".into()),
                    ..ShardCounts::default()
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
        assert_eq!(lines.len(), 6, "{lines:#?}");
        assert!(lines[0].starts_with("KINESIS MAPPING / SHARD  STATE"));
        assert!(
            lines[2].contains("…9136588898  …9136588898"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("1.5s"), "{}", lines[2]);
        assert!(lines[2].ends_with("Function.Error"), "{}", lines[2]);
        // Columns line up: STATE starts at the same place in every row.
        let at = lines[0].find("STATE").unwrap();
        assert_eq!(&lines[1][at..at + 7], "Enabled");
        assert_eq!(&lines[2][at..at + 7], "polling");
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("SQS MAPPING  STATE    POLLERS"));
        assert!(lines[5].starts_with("Failures"), "{}", lines[5]);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_200), "4.2s");
        assert_eq!(duration(187_000), "3m07s");
        assert_eq!(duration(7_500_000), "2h05m");
    }
}
