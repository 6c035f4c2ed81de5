//! Function logs, captured per execution environment and tagged with the request id the
//! environment was working on, like a CloudWatch log stream; plus the START / END / REPORT
//! lines Lambda writes around each invocation.
//!
//! Invariant: the buffer is bounded (the newest lines win); live subscribers never block a
//! function (a slow subscriber misses lines instead).

use std::collections::VecDeque;
use std::sync::Mutex;

use riffle_core::time::Millis;
use tokio::sync::broadcast;

/// Lines kept per function.
pub const LOG_CAPACITY: usize = 10_000;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// The function's standard output.
    Stdout,
    /// The function's standard error.
    Stderr,
    /// Written by Riffle, as Lambda writes START / END / REPORT.
    Platform,
}

/// One captured line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it was read, epoch ms.
    pub at: Millis,
    /// The function's name.
    pub function: String,
    /// The execution environment (its log stream).
    pub environment: u64,
    /// The invocation the environment was running, if any.
    pub request_id: Option<String>,
    /// Which stream.
    pub source: LogSource,
    /// The text, without the newline.
    pub line: String,
}

/// The logs of one function.
#[derive(Debug)]
pub struct Logs {
    lines: Mutex<VecDeque<LogLine>>,
    live: broadcast::Sender<LogLine>,
}

impl Default for Logs {
    fn default() -> Self {
        Self {
            lines: Mutex::default(),
            live: broadcast::channel(1024).0,
        }
    }
}

impl Logs {
    /// Appends a line and shows it to subscribers.
    pub fn push(&self, line: LogLine) {
        tracing::debug!(
            function = %line.function,
            request_id = line.request_id.as_deref().unwrap_or("-"),
            "{}",
            line.line
        );
        let _ = self.live.send(line.clone());
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == LOG_CAPACITY {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Every kept line, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().cloned().collect()
    }

    /// Kept lines of one invocation.
    pub fn for_request(&self, request_id: &str) -> Vec<LogLine> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        lines
            .iter()
            .filter(|l| l.request_id.as_deref() == Some(request_id))
            .cloned()
            .collect()
    }

    /// Lines from now on, as they arrive.
    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.live.subscribe()
    }
}
