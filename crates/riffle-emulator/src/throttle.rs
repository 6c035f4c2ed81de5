//! Injected throttles (`riffle fault --stream|--queue`): for a time or until cleared, a stream's
//! reads (GetRecords) or writes (PutRecord, PutRecords) answer
//! `ProvisionedThroughputExceededException`, or a queue's receives (ReceiveMessage) answer
//! `ThrottlingException`, as AWS answers a client over its limits.
//!
//! Invariant: checked once per request in the router, before the action runs, so a throttled
//! request changes nothing; with no rules the check is one lock-free load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::clock::Millis;

/// What a throttle holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleTarget {
    /// GetRecords of this stream (by name).
    StreamReads(String),
    /// PutRecord and PutRecords to this stream (by name).
    StreamWrites(String),
    /// ReceiveMessage of this queue (by name).
    QueueReceives(String),
}

impl std::fmt::Display for ThrottleTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::StreamReads(name) => write!(f, "reads of stream {name}"),
            Self::StreamWrites(name) => write!(f, "writes to stream {name}"),
            Self::QueueReceives(name) => write!(f, "receives of queue {name}"),
        }
    }
}

/// One throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    /// Its id, unique among the throttles.
    pub id: u64,
    /// What it holds back.
    pub target: ThrottleTarget,
    /// Until when (epoch ms on the emulator's clock, exclusive); `None` until cleared.
    pub until_ms: Option<Millis>,
    /// Requests it refused.
    pub refused: u64,
}

impl Throttle {
    /// Whether it refuses requests at `now`.
    pub fn active(&self, now: Millis) -> bool {
        self.until_ms.is_none_or(|until| now < until)
    }
}

#[derive(Debug, Default)]
struct Inner {
    throttles: Vec<Throttle>,
    next_id: u64,
}

/// The emulator's throttles; clones share them (`Config::throttles`).
#[derive(Debug, Clone, Default)]
pub struct Throttles {
    any: Arc<AtomicBool>,
    inner: Arc<Mutex<Inner>>,
}

impl Throttles {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a throttle of `target` until `until_ms`; returns its id.
    pub fn add(&self, target: ThrottleTarget, until_ms: Option<Millis>) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.throttles.push(Throttle {
            id,
            target,
            until_ms,
            refused: 0,
        });
        self.any.store(true, Ordering::Release);
        id
    }

    /// Every throttle, oldest first (expired ones too, until cleared).
    pub fn list(&self) -> Vec<Throttle> {
        self.lock().throttles.clone()
    }

    /// Removes throttle `id`; whether there was one.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.throttles.len();
        inner.throttles.retain(|t| t.id != id);
        self.any
            .store(!inner.throttles.is_empty(), Ordering::Release);
        inner.throttles.len() != before
    }

    /// Removes every throttle; how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        self.any.store(false, Ordering::Release);
        std::mem::take(&mut inner.throttles).len()
    }

    /// Whether a request on `target` is refused at `now` (and counts it).
    pub fn refuses(&self, target: &ThrottleTarget, now: Millis) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let mut inner = self.lock();
        match inner
            .throttles
            .iter_mut()
            .find(|t| t.target == *target && t.active(now))
        {
            Some(throttle) => {
                throttle.refused += 1;
                true
            }
            None => false,
        }
    }

    /// Whether any throttle exists (cheap).
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }
}

/// A throttle as riffle local's control API takes it (`POST /_riffle/faults`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// The stream's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The queue's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// `throttle`.
    pub fault: String,
    /// `reads` or `writes`, for a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
    /// For how long from now (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<Millis>,
    /// Until when (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<Millis>,
}

impl ThrottleSpec {
    /// What it throttles, or why it names nothing it can.
    pub fn target(&self) -> Result<ThrottleTarget, String> {
        if self.fault != "throttle" {
            return Err(format!(
                "a stream or queue can only be throttled (fault \"throttle\"), not {:?}",
                self.fault
            ));
        }
        match (&self.stream, &self.queue, self.on.as_deref()) {
            (Some(_), Some(_), _) => Err("name a stream or a queue, not both".to_owned()),
            (Some(stream), None, Some("reads")) => Ok(ThrottleTarget::StreamReads(stream.clone())),
            (Some(stream), None, Some("writes")) => {
                Ok(ThrottleTarget::StreamWrites(stream.clone()))
            }
            (Some(_), None, _) => {
                Err("a stream throttle needs on: \"reads\" or \"writes\"".to_owned())
            }
            (None, Some(_), Some(_)) => Err("on goes with a stream only".to_owned()),
            (None, Some(queue), None) => Ok(ThrottleTarget::QueueReceives(queue.clone())),
            (None, None, _) => Err("name a function, a stream or a queue".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_refuses_its_target_until_its_time_or_until_cleared() {
        let throttles = Throttles::default();
        let writes = ThrottleTarget::StreamWrites("s".into());
        let reads = ThrottleTarget::StreamReads("s".into());
        assert!(!throttles.refuses(&writes, 0));
        let id = throttles.add(writes.clone(), Some(1_000));
        assert!(throttles.refuses(&writes, 999));
        assert!(!throttles.refuses(&reads, 999));
        assert!(!throttles.refuses(&writes, 1_000));
        assert_eq!(throttles.list()[0].refused, 1);
        let forever = throttles.add(reads.clone(), None);
        assert!(throttles.refuses(&reads, u64::MAX - 1));
        assert!(throttles.remove(id) && !throttles.remove(id));
        assert!(throttles.remove(forever));
        assert!(throttles.is_empty() && !throttles.refuses(&reads, 0));
        throttles.add(ThrottleTarget::QueueReceives("q".into()), None);
        assert_eq!(throttles.clear(), 1);
    }
}
