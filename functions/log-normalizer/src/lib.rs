//! A Firehose transformation for application logs: each record is one JSON log line
//! (`{"level": "warning", "msg": "…", "ts": "…", …}` in any of the common spellings); it comes
//! out as one normalised line `{"timestamp":…,"level":"WARN","message":…,"fields":{…}}\n`, so
//! the objects Firehose writes are newline-delimited JSON that Athena reads as is.
//!
//! - a line whose level is in `DROP_LEVELS` (comma-separated, default `DEBUG,TRACE`) is
//!   `Dropped`;
//! - a line that is not a JSON object, or has no message, is `ProcessingFailed` (Firehose then
//!   writes it under the error prefix with its original bytes);
//! - everything else is `Ok`.

use std::collections::BTreeSet;

use aws_lambda_events::event::firehose::{
    KinesisFirehoseEvent, KinesisFirehoseEventRecord, KinesisFirehoseResponse,
    KinesisFirehoseResponseRecord,
};
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::{Map, Value};

/// The normalised shape of a log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// `timestamp`, `ts`, `time` or `@timestamp`, as given (null if absent).
    pub timestamp: Value,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL` (`INFO` if absent).
    pub level: String,
    /// `message` or `msg`.
    pub message: String,
    /// Every other field, unchanged.
    pub fields: Map<String, Value>,
}

/// What the transformation does with one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Deliver this line.
    Keep(LogLine),
    /// Its level is dropped.
    Drop,
    /// Not a log line.
    Fail(&'static str),
}

/// The level's canonical name.
pub fn canonical_level(level: &str) -> String {
    match level.trim().to_ascii_uppercase().as_str() {
        "WARNING" => "WARN".to_owned(),
        "ERR" => "ERROR".to_owned(),
        "CRITICAL" | "CRIT" => "FATAL".to_owned(),
        "INFORMATION" => "INFO".to_owned(),
        other => other.to_owned(),
    }
}

/// The transformation, configured.
#[derive(Debug, Clone)]
pub struct Normalizer {
    drop_levels: BTreeSet<String>,
}

impl Normalizer {
    /// Drops lines with these levels (any spelling).
    pub fn new<S: AsRef<str>>(drop_levels: &[S]) -> Self {
        Self {
            drop_levels: drop_levels
                .iter()
                .map(|l| canonical_level(l.as_ref()))
                .collect(),
        }
    }

    /// Configured by `DROP_LEVELS` (default `DEBUG,TRACE`).
    pub fn from_env() -> Self {
        let levels = std::env::var("DROP_LEVELS").unwrap_or_else(|_| "DEBUG,TRACE".into());
        let levels: Vec<&str> = levels.split(',').filter(|l| !l.trim().is_empty()).collect();
        Self::new(&levels)
    }

    /// What to do with one line.
    pub fn judge(&self, data: &[u8]) -> Verdict {
        let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(data) else {
            return Verdict::Fail("not a JSON object");
        };
        let mut take = |names: &[&str]| names.iter().find_map(|n| fields.remove(*n));
        let message = match take(&["message", "msg"]) {
            Some(Value::String(text)) => text,
            Some(other) if !other.is_null() => other.to_string(),
            _ => return Verdict::Fail("no message"),
        };
        let level = match take(&["level", "severity", "lvl"]) {
            Some(Value::String(level)) => canonical_level(&level),
            _ => "INFO".to_owned(),
        };
        let timestamp = take(&["timestamp", "ts", "time", "@timestamp"]).unwrap_or(Value::Null);
        if self.drop_levels.contains(&level) {
            return Verdict::Drop;
        }
        Verdict::Keep(LogLine {
            timestamp,
            level,
            message,
            fields,
        })
    }

    fn transform(&self, record: &KinesisFirehoseEventRecord) -> KinesisFirehoseResponseRecord {
        let mut out = KinesisFirehoseResponseRecord::default();
        out.record_id = record.record_id.clone();
        match self.judge(&record.data.0) {
            Verdict::Keep(line) => {
                let mut data = serde_json::to_vec(&line).expect("JSON values serialize");
                data.push(b'\n');
                out.result = Some("Ok".into());
                out.data.0 = data;
            }
            Verdict::Drop => out.result = Some("Dropped".into()),
            Verdict::Fail(why) => {
                tracing::warn!(record_id = ?record.record_id, why, "unparseable log line");
                out.result = Some("ProcessingFailed".into());
                out.data.0 = record.data.0.clone();
            }
        }
        out
    }

    /// The Lambda handler: one result per record, in order.
    pub async fn handle(
        &self,
        event: LambdaEvent<KinesisFirehoseEvent>,
    ) -> Result<KinesisFirehoseResponse, Error> {
        let mut response = KinesisFirehoseResponse::default();
        response.records = event
            .payload
            .records
            .iter()
            .map(|r| self.transform(r))
            .collect();
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
