//! Fault injection around a handler, without touching it: fail, time out or throttle chosen
//! invocations or any batch holding chosen records, or answer with a response of your choosing
//! (a malformed partial-failure response, say).
//!
//! Invariant: a fault replaces the handler's answer for that invocation only; the handler is not
//! called for it (a `Delay` only holds it back, in virtual time), so the handler sees exactly the
//! invocations that reached the function.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::sim::TraceRecord;

/// What happens instead of the handler's answer: riffle-core's fault model, the one
/// `riffle local`'s live faults use too.
pub use riffle_core::fault::Fault;

/// One record of a batch, as a fault predicate sees it.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// The sequence number (Kinesis) or message id (SQS).
    pub id: &'a str,
    /// The record's data (Kinesis, decoded) or the message body (SQS).
    pub data: &'a [u8],
}

type Predicate = dyn Fn(&RecordView<'_>) -> bool + Send + Sync;

enum Matcher {
    Invocation(usize),
    Record(Box<Predicate>),
}

struct Rule {
    matcher: Matcher,
    fault: Fault,
    remaining: Option<usize>,
}

/// A plan of faults; clones share it (and its remaining counts).
///
/// ```
/// use riffle_testkit::{Fault, Faults};
///
/// let faults = Faults::new()
///     .on_invocation(0, Fault::Throttle)
///     .when_record(|r| r.data.starts_with(b"poison"), Fault::Error("Poison".into()))
///     .times(3);
/// # let _ = faults;
/// ```
#[derive(Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(self, matcher: Matcher, fault: Fault) -> Self {
        self.rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Rule {
                matcher,
                fault,
                remaining: None,
            });
        self
    }

    /// The `n`th invocation of the mapping (0-based, counting every invocation, retries too).
    pub fn on_invocation(self, n: usize, fault: Fault) -> Self {
        self.push(Matcher::Invocation(n), fault)
    }

    /// Any invocation whose batch holds a record matching `predicate`.
    pub fn when_record(
        self,
        predicate: impl Fn(&RecordView<'_>) -> bool + Send + Sync + 'static,
        fault: Fault,
    ) -> Self {
        self.push(Matcher::Record(Box::new(predicate)), fault)
    }

    /// Any invocation whose batch holds the record with this sequence number or message id.
    pub fn when_record_id(self, id: impl Into<String>, fault: Fault) -> Self {
        let id = id.into();
        self.when_record(move |r| r.id == id, fault)
    }

    /// Limits the last rule to `n` firings (by default a rule fires every time it matches).
    pub fn times(self, n: usize) -> Self {
        if let Some(rule) = self
            .rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_mut()
        {
            rule.remaining = Some(n);
        }
        self
    }

    /// The fault for invocation `n` of `records`, if any (and counts it).
    pub(crate) fn fault_for(&self, n: usize, records: &[TraceRecord]) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        for rule in rules.iter_mut() {
            if rule.remaining == Some(0) {
                continue;
            }
            let matches = match &rule.matcher {
                Matcher::Invocation(k) => *k == n,
                Matcher::Record(predicate) => records.iter().any(|r| {
                    predicate(&RecordView {
                        id: &r.id,
                        data: &r.data,
                    })
                }),
            };
            if matches {
                if let Some(remaining) = &mut rule.remaining {
                    *remaining -= 1;
                }
                return Some(rule.fault.clone());
            }
        }
        None
    }
}

/// The records of an event payload: Kinesis records by sequence number with their partition key
/// and decoded data, SQS messages by message id with their message group (if any) and body.
pub(crate) fn records_of(payload: &str) -> Vec<TraceRecord> {
    use base64::Engine as _;
    let Ok(event) = serde_json::from_str::<Value>(payload) else {
        return Vec::new();
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    event["Records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| match r.get("kinesis") {
                    Some(kinesis) => TraceRecord {
                        id: text(&kinesis["sequenceNumber"]),
                        key: text(&kinesis["partitionKey"]),
                        data: base64::engine::general_purpose::STANDARD
                            .decode(kinesis["data"].as_str().unwrap_or_default())
                            .unwrap_or_default(),
                    },
                    None => TraceRecord {
                        id: text(&r["messageId"]),
                        key: text(&r["attributes"]["MessageGroupId"]),
                        data: text(&r["body"]).into_bytes(),
                    },
                })
                .collect()
        })
        .unwrap_or_default()
}
