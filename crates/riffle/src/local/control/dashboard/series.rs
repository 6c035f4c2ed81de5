//! The dashboard's charts' data: every second, a snapshot of each mapping's counters and each
//! shard's IteratorAge, kept for the last ten minutes.
//!
//! Invariant: the ring holds at most [`CAPACITY`] samples, oldest first; a sample copies
//! counters the mappings keep anyway (a few atomic loads and one small map per mapping), so the
//! sampler's cost does not depend on traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::super::{Control, Ready};
use riffle_template::SourceKind;

/// Ten minutes of one sample a second.
pub(crate) const CAPACITY: usize = 600;

/// The sampled counters, shared by the sampler task and the route.
#[derive(Debug, Clone, Default)]
pub(crate) struct Series {
    samples: Arc<Mutex<VecDeque<Sample>>>,
}

/// Every mapping's counters at one moment (cumulative: the page draws rates from the
/// differences).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Sample {
    /// Epoch milliseconds.
    pub(crate) at: u64,
    pub(crate) mappings: Vec<MappingSample>,
}

/// One mapping's counters in a [`Sample`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct MappingSample {
    pub(crate) id: String,
    /// Records read from the stream (messages received from the queue).
    pub(crate) records_in: u64,
    /// Records (messages) handed to the function.
    pub(crate) invoked: u64,
    pub(crate) errors: u64,
    pub(crate) throttles: u64,
    /// Records sent to the on-failure destination (SQS: messages that failed and went back).
    pub(crate) on_failure: u64,
    /// Kinesis: each shard's IteratorAge.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) iterator_age_ms: BTreeMap<String, u64>,
}

impl Series {
    /// Adds `sample`, dropping the oldest beyond [`CAPACITY`].
    pub(crate) fn push(&self, sample: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() == CAPACITY {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// Every sample kept, oldest first.
    pub(crate) fn samples(&self) -> Vec<Sample> {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.iter().cloned().collect()
    }
}

/// Milliseconds since the epoch (the dashboard's clock: what the page shows is wall time).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Each mapping's counters now.
pub(crate) fn sample(ready: &Ready, at: u64) -> Sample {
    let running = &ready.running;
    let mappings = ready
        .mappings
        .iter()
        .filter_map(|info| match info.kind {
            SourceKind::Kinesis => {
                let (_, controller) = running.kinesis.iter().find(|(id, _)| *id == info.id)?;
                let c = controller.mapping().metrics().counters();
                Some(MappingSample {
                    id: info.id.clone(),
                    records_in: c.polled,
                    invoked: c.invoked_records,
                    errors: c.errors,
                    throttles: c.throttles,
                    on_failure: c.sent_to_destination,
                    iterator_age_ms: c.iterator_age_ms,
                })
            }
            SourceKind::Sqs => {
                let (_, controller) = running.queues.iter().find(|(id, _)| *id == info.id)?;
                let c = controller.mapping().metrics().counters();
                Some(MappingSample {
                    id: info.id.clone(),
                    records_in: c.received,
                    invoked: c.invoked_messages,
                    errors: c.errors,
                    throttles: c.throttles,
                    on_failure: c.failed,
                    iterator_age_ms: BTreeMap::new(),
                })
            }
        })
        .collect();
    Sample { at, mappings }
}

/// Samples the run every second, from when it is ready until the runtime stops.
pub(crate) fn start(control: Control) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let Some(ready) = control.get() else {
                continue;
            };
            let sample = sample(ready, now_ms());
            ready.dashboard.series.push(sample);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_last_ten_minutes_oldest_first() {
        let series = Series::default();
        for at in 0..(CAPACITY as u64 + 5) {
            series.push(Sample {
                at,
                mappings: Vec::new(),
            });
        }
        let samples = series.samples();
        assert_eq!(samples.len(), CAPACITY);
        assert_eq!(samples.first().unwrap().at, 5);
        assert_eq!(samples.last().unwrap().at, CAPACITY as u64 + 4);
    }
}
