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
//! Every number comes from the runtime's metrics: `KinesisMetrics` and its `ShardStatus` per shard for
//! Kinesis mappings, `SqsMetrics` for SQS mappings.
//!
//! Invariant: output never blocks the engine: logs come from a broadcast that drops lines for a
//! slow terminal rather than holding a function back, and the status only reads counters.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use riffle_lambda::LogSource;
use riffle_template::Application;
use serde_json::{Value, json};

use super::run::Running;
use super::table::{KinesisView, QueueView, table};
use super::terminal;
use crate::tools::output::out;

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
    /// Stdout is a terminal. Otherwise function log lines lose their escape sequences (colour
    /// codes are noise in a file or a pipe).
    terminal: bool,
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
        let terminal = std::io::stdout().is_terminal();
        let live = (format == LogFormat::Text && terminal).then(|| Arc::new(Live::new()));
        Self {
            format,
            terminal,
            live,
            running: Arc::default(),
            phase: Arc::new(AtomicU8::new(RUNNING)),
        }
    }

    /// Prints a line (above the live table when there is one). A closed stdout (`riffle local
    /// | head`) drops the line: the application keeps running, as `riffle emulator` does.
    fn emit(&self, text: String, value: Value) {
        let _ = match (self.format, &self.live) {
            (LogFormat::Json, _) => out!("{value}"),
            (LogFormat::Text, Some(live)) => {
                // Each line fitted on its own (a build's diagnostics are many).
                for line in text.split('\n') {
                    live.println(line);
                }
                Ok(())
            }
            (LogFormat::Text, None) => out!("{text}"),
        };
    }

    /// Announces what runs.
    pub(crate) fn ready(&self, endpoint: &str, dashboard: &str, app: &Application) {
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
                "riffle local ready at {endpoint}: {} stream(s), {} queue(s), {} function(s), mappings: {}; dashboard at {dashboard}",
                app.streams.len(),
                app.queues.len(),
                app.functions.len(),
                if mappings.is_empty() { "none".to_owned() } else { mappings.join(", ") }
            ),
            json!({
                "event": "ready",
                "endpoint": endpoint,
                "dashboard": dashboard,
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
            let _ = out!("riffle local stopped");
            return;
        }
        self.emit(
            "riffle local stopped".to_owned(),
            json!({"event": "stopped"}),
        );
    }

    /// `--watch`: `function` was rebuilt (in `build`) and its next invocations run the new
    /// binary.
    pub(crate) fn function_reloaded(&self, function: &str, build: Duration) {
        let build_ms = build.as_millis() as u64;
        self.emit(
            format!(
                "riffle: reloaded {function} (built in {:.1} s); invocations in flight finish on the previous binary",
                build.as_secs_f64()
            ),
            json!({"event": "function_reloaded", "function": function, "build_ms": build_ms}),
        );
    }

    /// `--watch`: the rebuild of `function` failed with cargo's `output`; the old binary serves.
    pub(crate) fn function_build_failed(&self, function: &str, output: &str) {
        self.emit(
            format!(
                "{}\nriffle: {function} did not build; the previous binary keeps serving",
                output.trim_end()
            ),
            json!({"event": "function_build_failed", "function": function, "output": output}),
        );
    }

    /// `--watch`: the edited template was read; `applied` settings changed while running,
    /// `needs_restart` (`Resource (why)`) did not, `failed` could not be applied.
    pub(crate) fn template_reloaded(
        &self,
        applied: &[String],
        needs_restart: &[String],
        failed: &[String],
    ) {
        let mut text = format!(
            "riffle: template reloaded: applied {}",
            if applied.is_empty() {
                "nothing".to_owned()
            } else {
                applied.join("; ")
            }
        );
        if !needs_restart.is_empty() {
            text.push_str(&format!(
                "; needs a restart of riffle local: {}",
                needs_restart.join(", ")
            ));
        }
        if !failed.is_empty() {
            text.push_str(&format!("; failed: {}", failed.join("; ")));
        }
        self.emit(
            text,
            json!({
                "event": "template_reloaded",
                "applied": applied,
                "needs_restart": needs_restart,
                "failed": failed,
            }),
        );
    }

    /// `--watch`: the edited template has `errors`; nothing changed.
    pub(crate) fn template_invalid(&self, errors: &str) {
        self.emit(
            format!("{errors}\nriffle: the template has errors; nothing changed"),
            json!({"event": "template_invalid", "errors": errors}),
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
        for delivery in running.deliveries.iter().flat_map(|d| d.views()) {
            self.emit(delivery.line(), delivery.json());
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
            .map(|(id, controller)| {
                let mapping = controller.mapping();
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
                        Ok(line) => {
                            let (text, value) = log_line(&name, line, status.terminal);
                            status.emit(text, value);
                        }
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
                            let mut lines = table(&kinesis, &queues);
                            if let Some(deliveries) = &running.deliveries {
                                lines.extend(super::delivery_view::table(&deliveries.views()));
                            }
                            live.draw(lines);
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

/// A function's log line as text and as JSON. Not on a terminal, its escape sequences are
/// removed: a function's colours are noise in a file, a pipe or a JSON string.
fn log_line(function: &str, mut line: riffle_lambda::LogLine, terminal: bool) -> (String, Value) {
    if !terminal {
        line.line = terminal::plain(&line.line);
    }
    let text = format!(
        "{function} {} {}{}",
        line.request_id.as_deref().unwrap_or("-"),
        if line.source == LogSource::Stderr {
            "! "
        } else {
            ""
        },
        line.line
    );
    let value = json!({
        "event": "log",
        "function": function,
        "request_id": line.request_id,
        "stream": format!("{:?}", line.source).to_lowercase(),
        "line": line.line,
        "at": line.at,
    });
    (text, value)
}

// ---------------------------------------------------------------------------------------------
// The live table on the terminal.

/// The table under the logs: one indicatif line per row, in a `MultiProgress` that prints log
/// lines above its rows and cuts each row (`{wide_msg}`) to the terminal's width.
struct Live {
    multi: MultiProgress,
    rows: Mutex<Vec<ProgressBar>>,
    style: ProgressStyle,
    /// The terminal's width in columns, read at each draw (the terminal may be resized).
    width: Box<dyn Fn() -> usize + Send + Sync>,
}

impl Live {
    fn new() -> Self {
        // Rows are drawn together once a second (`draw` forces it); a low rate keeps the
        // intermediate updates of single rows from being drawn one by one.
        Self::with_target(ProgressDrawTarget::stdout_with_hz(1), Box::new(width))
    }

    fn with_target(
        target: ProgressDrawTarget,
        width: Box<dyn Fn() -> usize + Send + Sync>,
    ) -> Self {
        Self {
            multi: MultiProgress::with_draw_target(target),
            rows: Mutex::new(Vec::new()),
            style: ProgressStyle::with_template("{wide_msg}").expect("a valid template"),
            width,
        }
    }

    /// Prints `line` above the table, wrapped to rows no wider than the terminal, so that
    /// indicatif counts the rows the terminal shows (see [`terminal`]).
    fn println(&self, line: &str) {
        let rows = terminal::fit(line, (self.width)());
        let _ = self.multi.println(rows.join("\n"));
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
        let width = (self.width)();
        for (row, line) in rows.iter().zip(lines) {
            row.set_message(terminal::truncate(&line, width));
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

/// The terminal's width in columns, as indicatif reads it.
fn width() -> usize {
    usize::from(console::Term::stdout().size().1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A terminal as far as the table's redraws go: auto-wrap at the right margin (a full row
    /// waits for the next character to wrap), tab stops every 8 columns, wide characters, colours
    /// taking no room, and a history that never scrolls away, so a stray copy stays in sight.
    #[derive(Debug)]
    struct Screen {
        rows: Vec<Vec<char>>,
        row: usize,
        /// `width` when the row is full and the next character wraps.
        col: usize,
        width: usize,
    }

    impl Screen {
        fn cell(&mut self) -> &mut Vec<char> {
            while self.rows.len() <= self.row {
                self.rows.push(vec![' '; self.width]);
            }
            &mut self.rows[self.row]
        }

        fn write(&mut self, text: &str) {
            use unicode_width::UnicodeWidthChar as _;
            for (part, escape) in console::AnsiCodeIterator::new(text) {
                if escape {
                    continue;
                }
                for c in part.chars() {
                    match c {
                        '\r' => self.col = 0,
                        '\n' => (self.row, self.col) = (self.row + 1, 0),
                        '\t' => self.col = (self.col / 8 + 1).saturating_mul(8).min(self.width - 1),
                        c => {
                            let Some(w) = c.width().filter(|w| *w > 0) else {
                                continue;
                            };
                            if self.col + w > self.width {
                                (self.row, self.col) = (self.row + 1, 0);
                            }
                            let col = self.col;
                            let row = self.cell();
                            row[col] = c;
                            for filler in &mut row[col + 1..col + w] {
                                *filler = '\0';
                            }
                            self.col += w;
                        }
                    }
                }
            }
            self.cell();
        }

        fn text(&self) -> Vec<String> {
            self.rows
                .iter()
                .map(|r| r.iter().filter(|c| **c != '\0').collect::<String>())
                .map(|r| r.trim_end().to_owned())
                .collect()
        }
    }

    #[derive(Debug, Clone)]
    struct Terminal(Arc<Mutex<Screen>>);

    impl Terminal {
        fn new(width: usize) -> Self {
            Self(Arc::new(Mutex::new(Screen {
                rows: Vec::new(),
                row: 0,
                col: 0,
                width,
            })))
        }

        fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
            self.0.lock().unwrap()
        }
    }

    impl indicatif::TermLike for Terminal {
        fn width(&self) -> u16 {
            self.screen().width as u16
        }
        fn height(&self) -> u16 {
            50
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            let mut screen = self.screen();
            screen.row = screen.row.saturating_sub(n);
            screen.col = screen.col.min(screen.width - 1);
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            let mut screen = self.screen();
            screen.row += n;
            screen.col = screen.col.min(screen.width - 1);
            screen.cell();
            Ok(())
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            let mut screen = self.screen();
            screen.col = (screen.col + n).min(screen.width - 1);
            Ok(())
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            let mut screen = self.screen();
            screen.col = screen.col.saturating_sub(n);
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.screen().write(&format!("{s}\n"));
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.screen().write(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            let mut screen = self.screen();
            *screen.cell() = vec![' '; screen.width];
            screen.col = 0;
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_with_tabs_wide_characters_and_long_lines_leave_no_copy_of_the_table() {
        const WIDTH: usize = 60;
        let terminal = Terminal::new(WIDTH);
        let live = Live::with_target(
            ProgressDrawTarget::term_like(Box::new(terminal.clone())),
            Box::new(|| WIDTH),
        );
        let table = vec![
            "KINESIS MAPPING / SHARD  STATE     AGE  IN FLIGHT  INVOKED  ERRORS  RETRIES"
                .to_owned(),
            "Orders                   Enabled  caught up  0  3  0  0".to_owned(),
            "  shardId-000000000000   polling  caught up  0  3  0  0".to_owned(),
        ];
        live.draw(table.clone());
        let logs = [
            "Orders 8f5a REPORT RequestId: 8f5a\tDuration: 1.25 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB",
            "Orders 8f5a \u{1b}[2m2026-12-02T15:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m 注文を処理しました 注文番号 o-1 金額 1250 通貨 EUR 注文を処理しました",
            "Orders 8f5a 📦 shipped 📦 shipped 📦 shipped 📦 shipped 📦 shipped 📦 shipped 📦 shipped",
            &"a".repeat(3 * WIDTH + 7),
            "Orders 8f5a x\ty\tz\r\u{1b}[2K",
        ];
        for line in logs {
            live.println(line);
            live.draw(table.clone());
        }
        let screen = terminal.screen().text();
        let headers = screen
            .iter()
            .filter(|row| row.starts_with("KINESIS MAPPING"))
            .count();
        assert_eq!(headers, 1, "one header, under the logs: {screen:#?}");
        // Every log line is there, whole, in order, then the table (cut to the width).
        let mut expected: Vec<String> = logs
            .iter()
            .flat_map(|line| terminal::fit(line, WIDTH))
            .map(|row| terminal::plain(&row).trim_end().to_owned())
            .collect();
        expected.extend(
            table
                .iter()
                .map(|row| terminal::truncate(row, WIDTH).trim_end().to_owned()),
        );
        let screen: Vec<String> = screen.into_iter().filter(|r| !r.is_empty()).collect();
        assert_eq!(screen, expected);
    }

    #[test]
    fn function_log_lines_lose_their_colour_codes_when_stdout_is_not_a_terminal() {
        // What lambda_runtime's default tracing subscriber writes: dimmed time, green level.
        let coloured =
            "\u{1b}[2m2026-12-02T15:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m order processed";
        let line = riffle_lambda::LogLine {
            at: 1,
            function: "orders".into(),
            environment: 0,
            request_id: Some("r-1".into()),
            source: LogSource::Stdout,
            line: coloured.into(),
        };
        let (text, value) = log_line("Orders", line.clone(), false);
        assert_eq!(
            text,
            "Orders r-1 2026-12-02T15:00:00Z  INFO order processed"
        );
        assert_eq!(value["line"], "2026-12-02T15:00:00Z  INFO order processed");
        // On a terminal the colours are the function's to show.
        let (text, value) = log_line("Orders", line, true);
        assert_eq!(text, format!("Orders r-1 {coloured}"));
        assert_eq!(value["line"], coloured);
    }
}
