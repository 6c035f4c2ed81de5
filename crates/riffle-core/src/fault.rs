//! Fault injection's one model, for the test kit's `Faults` and `riffle local`'s live faults:
//! what happens instead of the function's answer ([`Fault`]), which invocations a rule picks
//! ([`Selection`]), and a shared, thread-safe set of rules ([`FaultSet`]) that decides each
//! invocation and tells observers what it injected.
//!
//! Invariants: a decision is a value computed from the rule, the invocation's payload, a
//! counter and the time passed in (never the wall clock), so a seeded share picks the same
//! invocations every run; a rule past its `until_ms` or out of firings never fires again; at
//! most one rule fires per invocation (the oldest that matches).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::Millis;

/// The `errorType` of an injected failure unless the rule names another.
pub const INJECTED_ERROR_TYPE: &str = "Riffle.InjectedFault";

/// What happens instead of (or before) the function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// An unhandled function error with this `errorType` (the Runtime API's invocation error).
    Error(String),
    /// The function runs past its timeout (`Sandbox.Timedout`).
    Timeout,
    /// Lambda throttles the invocation (`TooManyRequestsException`); the function never sees it.
    Throttle,
    /// The invocation waits this many milliseconds, then runs normally.
    Delay(Millis),
    /// The function answers with this body (e.g. a malformed `batchItemFailures`).
    Respond(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(error_type) => write!(f, "fail ({error_type})"),
            Self::Timeout => f.write_str("timeout"),
            Self::Throttle => f.write_str("throttle"),
            Self::Delay(ms) => write!(f, "delay {ms} ms"),
            Self::Respond(_) => f.write_str("respond"),
        }
    }
}

/// What a rule matches records against: their data (Kinesis, decoded) or body (SQS).
#[derive(Debug, Clone)]
pub enum Pattern {
    /// The data holds this text.
    Substring(String),
    /// The data (as UTF-8, lossily) matches this regular expression.
    Regex(regex_lite::Regex),
}

impl Pattern {
    fn matches(&self, data: &[u8]) -> bool {
        match self {
            Self::Substring(text) => {
                let needle = text.as_bytes();
                needle.is_empty() || data.windows(needle.len()).any(|w| w == needle)
            }
            Self::Regex(regex) => regex.is_match(&String::from_utf8_lossy(data)),
        }
    }

    fn source(&self) -> &str {
        match self {
            Self::Substring(text) => text,
            Self::Regex(regex) => regex.as_str(),
        }
    }
}

/// Which invocations a rule picks.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Every invocation.
    All,
    /// A share (0–1) of invocations, chosen by a seeded hash of the rule's invocation count.
    Share {
        /// The share.
        share: f64,
        /// The seed: the same seed picks the same invocations.
        seed: u64,
    },
    /// The next this many invocations.
    Next(u64),
    /// Invocations holding a record whose data matches.
    Matching(Pattern),
}

/// One rule: a function's invocations it picks, and what it does to them.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// The function's name (FunctionName or logical id, as the owner of the set names them).
    pub function: String,
    /// What it does.
    pub fault: Fault,
    /// Which invocations.
    pub selection: Selection,
    /// Until when (epoch ms, exclusive); `None` until cleared.
    pub until_ms: Option<Millis>,
}

/// A rule in a [`FaultSet`], with its id and what it did so far.
#[derive(Debug, Clone)]
pub struct ActiveRule {
    /// Its id, unique in the set.
    pub id: u64,
    /// The rule.
    pub rule: FaultRule,
    /// Invocations of its function it looked at.
    pub seen: u64,
    /// Invocations it injected a fault into.
    pub fired: u64,
}

impl ActiveRule {
    /// Whether it can still fire at `now`.
    pub fn active(&self, now: Millis) -> bool {
        let expired = self.rule.until_ms.is_some_and(|until| now >= until);
        let spent = matches!(self.rule.selection, Selection::Next(n) if self.fired >= n);
        !expired && !spent
    }

    /// The rule as the control API lists it.
    pub fn to_json(&self, now: Millis) -> Value {
        let mut value = serde_json::json!({
            "id": self.id.to_string(),
            "function": self.rule.function,
            "fault": fault_name(&self.rule.fault),
            "description": self.rule.fault.to_string(),
            "active": self.active(now),
            "seen": self.seen,
            "fired": self.fired,
            "until_ms": self.rule.until_ms,
        });
        match &self.rule.fault {
            Fault::Error(error_type) => value["error_type"] = error_type.clone().into(),
            Fault::Delay(ms) => value["delay_ms"] = (*ms).into(),
            _ => {}
        }
        match &self.rule.selection {
            Selection::All => {}
            Selection::Share { share, seed } => {
                value["share"] = (*share).into();
                value["seed"] = (*seed).into();
            }
            Selection::Next(n) => value["next"] = (*n).into(),
            Selection::Matching(pattern) => {
                value["matching"] = pattern.source().into();
                value["regex"] = matches!(pattern, Pattern::Regex(_)).into();
            }
        }
        value
    }
}

fn fault_name(fault: &Fault) -> &'static str {
    match fault {
        Fault::Error(_) => "fail",
        Fault::Timeout => "timeout",
        Fault::Throttle => "throttle",
        Fault::Delay(_) => "delay",
        Fault::Respond(_) => "respond",
    }
}

/// A fault a set injected into one invocation, as observers see it.
#[derive(Debug, Clone)]
pub struct Injection {
    /// When, epoch ms.
    pub at: Millis,
    /// The rule's id.
    pub rule: u64,
    /// The function.
    pub function: String,
    /// The invocation's request id.
    pub request_id: String,
    /// What was injected.
    pub fault: Fault,
    /// The batch's source ARN (`eventSourceARN` of its first record), if it has one.
    pub event_source_arn: Option<String>,
    /// The shard of a Kinesis batch (from its first record's `eventID`).
    pub shard_id: Option<String>,
}

/// The rule as the control API takes it (`POST /_riffle/faults`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The function.
    pub function: String,
    /// `fail`, `timeout`, `throttle` or `delay`.
    pub fault: String,
    /// `errorType` of a `fail` (default [`INJECTED_ERROR_TYPE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Milliseconds of a `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<Millis>,
    /// A share of invocations, 0–1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// The share's seed (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The next N invocations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
    /// Invocations holding a record whose data holds this text (or matches it, with `regex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching: Option<String>,
    /// Whether `matching` is a regular expression.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub regex: bool,
    /// For how long, from when it is added (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<Millis>,
    /// Until when (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<Millis>,
}

impl FaultSpec {
    /// The rule it describes, added at `now`; or why it describes none.
    pub fn rule(&self, now: Millis) -> Result<FaultRule, String> {
        if self.function.is_empty() {
            return Err("function is required".to_owned());
        }
        let fault = match self.fault.as_str() {
            "fail" => Fault::Error(
                self.error_type
                    .clone()
                    .unwrap_or_else(|| INJECTED_ERROR_TYPE.to_owned()),
            ),
            "timeout" => Fault::Timeout,
            "throttle" => Fault::Throttle,
            "delay" => Fault::Delay(
                self.delay_ms
                    .ok_or("a delay needs delay_ms (milliseconds)")?,
            ),
            other => {
                return Err(format!(
                    "fault must be fail, timeout, throttle or delay, not {other:?}"
                ));
            }
        };
        if self.delay_ms.is_some() && !matches!(fault, Fault::Delay(_)) {
            return Err("delay_ms goes with fault delay only".to_owned());
        }
        if self.error_type.is_some() && !matches!(fault, Fault::Error(_)) {
            return Err("error_type goes with fault fail only".to_owned());
        }
        let chosen = [
            self.share.is_some(),
            self.next.is_some(),
            self.matching.is_some(),
        ];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err("choose at most one of share, next and matching".to_owned());
        }
        let selection = match (self.share, self.next, &self.matching) {
            (Some(share), _, _) => {
                if !(0.0..=1.0).contains(&share) {
                    return Err(format!("share must be between 0 and 1, not {share}"));
                }
                Selection::Share {
                    share,
                    seed: self.seed.unwrap_or(0),
                }
            }
            (_, Some(0), _) => return Err("next must be at least 1".to_owned()),
            (_, Some(n), _) => Selection::Next(n),
            (_, _, Some(pattern)) if self.regex => Selection::Matching(Pattern::Regex(
                regex_lite::Regex::new(pattern)
                    .map_err(|e| format!("matching is not a regular expression: {e}"))?,
            )),
            (_, _, Some(pattern)) => Selection::Matching(Pattern::Substring(pattern.clone())),
            _ => Selection::All,
        };
        if self.seed.is_some() && self.share.is_none() {
            return Err("seed goes with share only".to_owned());
        }
        if self.regex && self.matching.is_none() {
            return Err("regex goes with matching only".to_owned());
        }
        let until_ms = match (self.for_ms, self.until_ms) {
            (Some(_), Some(_)) => return Err("choose one of for_ms and until_ms".to_owned()),
            (Some(0), None) => return Err("for_ms must be at least 1".to_owned()),
            (Some(ms), None) => Some(now.saturating_add(ms)),
            (None, until) => until,
        };
        Ok(FaultRule {
            function: self.function.clone(),
            fault,
            selection,
            until_ms,
        })
    }
}

type Observer = dyn Fn(&Injection) + Send + Sync;

#[derive(Default)]
struct Inner {
    rules: Vec<ActiveRule>,
    next_id: u64,
    observers: Vec<Arc<Observer>>,
}

/// Rules shared by everything that invokes functions; clones share them.
#[derive(Clone, Default)]
pub struct FaultSet {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for FaultSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultSet").finish_non_exhaustive()
    }
}

impl FaultSet {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds `rule`; returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.rules.push(ActiveRule {
            id,
            rule,
            seen: 0,
            fired: 0,
        });
        id
    }

    /// Every rule, oldest first (spent and expired ones too, until cleared).
    pub fn rules(&self) -> Vec<ActiveRule> {
        self.lock().rules.clone()
    }

    /// Removes the rule `id`; whether there was one.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        inner.rules.len() != before
    }

    /// Removes every rule; how many there were.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut self.lock().rules).len()
    }

    /// Calls `observer` with every fault injected from now on.
    pub fn observe(&self, observer: impl Fn(&Injection) + Send + Sync + 'static) {
        self.lock().observers.push(Arc::new(observer));
    }

    /// Whether any rule exists (cheap: the invoke path asks this first).
    pub fn is_empty(&self) -> bool {
        self.lock().rules.is_empty()
    }

    /// The fault for an invocation of `function` with `payload` at `now`, if a rule picks it
    /// (and counts it); observers hear of it before this returns.
    pub fn decide(
        &self,
        function: &str,
        request_id: &str,
        payload: &str,
        now: Millis,
    ) -> Option<Injection> {
        let mut records: Option<Vec<PayloadRecord>> = None;
        let (injection, observers) = {
            let mut inner = self.lock();
            let mut chosen = None;
            for rule in inner.rules.iter_mut() {
                if rule.rule.function != function || !rule.active(now) {
                    continue;
                }
                let n = rule.seen;
                rule.seen += 1;
                let picked = match &rule.rule.selection {
                    Selection::All | Selection::Next(_) => true,
                    Selection::Share { share, seed } => pick(*seed, n, *share),
                    Selection::Matching(pattern) => records
                        .get_or_insert_with(|| payload_records(payload))
                        .iter()
                        .any(|r| pattern.matches(&r.data)),
                };
                if picked && chosen.is_none() {
                    rule.fired += 1;
                    chosen = Some((rule.id, rule.rule.fault.clone()));
                    break;
                }
            }
            let (rule, fault) = chosen?;
            let records = records.get_or_insert_with(|| payload_records(payload));
            let first = records.first();
            let injection = Injection {
                at: now,
                rule,
                function: function.to_owned(),
                request_id: request_id.to_owned(),
                fault,
                event_source_arn: first.and_then(|r| r.event_source_arn.clone()),
                shard_id: first.and_then(|r| r.shard_id.clone()),
            };
            (injection, inner.observers.clone())
        };
        for observer in observers {
            observer(&injection);
        }
        Some(injection)
    }
}

/// Whether a seeded share picks invocation `n`: splitmix64 of seed and n, as a fraction.
fn pick(seed: u64, n: u64, share: f64) -> bool {
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// One record of an event payload, as a rule sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadRecord {
    /// The sequence number (Kinesis) or message id (SQS).
    pub id: String,
    /// The partition key (Kinesis) or message group (SQS, if any).
    pub key: String,
    /// The data (Kinesis, decoded) or the body (SQS).
    pub data: Vec<u8>,
    /// `eventSourceARN`.
    pub event_source_arn: Option<String>,
    /// The shard, from a Kinesis record's `eventID` (`shardId-…:sequence`).
    pub shard_id: Option<String>,
}

/// The records of an event payload (`{"Records":[…]}`): Kinesis records with their decoded
/// data, SQS messages with their body; none for anything else.
pub fn payload_records(payload: &str) -> Vec<PayloadRecord> {
    let Ok(event) = serde_json::from_str::<Value>(payload) else {
        return Vec::new();
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let Some(records) = event["Records"].as_array() else {
        return Vec::new();
    };
    records
        .iter()
        .map(|r| {
            let event_source_arn = r["eventSourceARN"].as_str().map(str::to_owned);
            match r.get("kinesis") {
                Some(kinesis) => PayloadRecord {
                    id: text(&kinesis["sequenceNumber"]),
                    key: text(&kinesis["partitionKey"]),
                    data: base64::engine::general_purpose::STANDARD
                        .decode(kinesis["data"].as_str().unwrap_or_default())
                        .unwrap_or_default(),
                    event_source_arn,
                    shard_id: r["eventID"]
                        .as_str()
                        .and_then(|id| id.split(':').next())
                        .map(str::to_owned),
                },
                None => PayloadRecord {
                    id: text(&r["messageId"]),
                    key: text(&r["attributes"]["MessageGroupId"]),
                    data: text(&r["body"]).into_bytes(),
                    event_source_arn,
                    shard_id: None,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
