//! Scaling: how many pollers a mapping runs, a machine of its own shared by the mapping's
//! pollers. Pollers feed it [`Signal`]s; it says when to start one and when one retires.
//!
//! Invariant: the pollers running stay within `[1, ceiling]` once started, and a poller
//! retires only when more run than the target.

use crate::time::Millis;

use super::{
    Decision, GROWTH_PER_SECOND, IDLE_AFTER_MS, IDLE_POLLERS, PollerSettings, START_POLLERS, Signal,
};

/// How many pollers (concurrent batches) a mapping runs.
///
/// Starts at 5. While every receive comes back full, adds 5 a second (300 a minute) up to the
/// ceiling. A receive that comes back empty retires one poller down to the floor: 5 while
/// messages flow, 2 after a minute without any (5 when MaximumConcurrency is set). A function
/// error (without ReportBatchItemFailures) or a throttle halves the count, down to the floor.
#[derive(Debug, Clone)]
pub struct Scaler {
    target: usize,
    ceiling: usize,
    maximum_concurrency_set: bool,
    last_growth: Millis,
    last_message: Millis,
    /// Pollers running.
    live: usize,
}

impl Scaler {
    /// A scaler for `settings`, starting at `now`.
    pub fn new(settings: &PollerSettings, now: Millis) -> Self {
        Self {
            target: START_POLLERS.min(settings.ceiling),
            ceiling: settings.ceiling,
            maximum_concurrency_set: settings.maximum_concurrency_set,
            last_growth: now,
            last_message: now,
            live: 0,
        }
    }

    /// Pollers running.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Whether one more poller should start now; if so it counts as running.
    pub fn start_poller(&mut self) -> bool {
        let start = self.live < self.target;
        self.live += usize::from(start);
        start
    }

    /// A poller that holds nothing asks whether to retire: it does when more run than the
    /// target, and then no longer counts.
    pub fn retire_poller(&mut self) -> bool {
        let retire = self.live > self.target;
        self.live -= usize::from(retire);
        retire
    }

    /// A poller stopped because the mapping stops.
    pub fn poller_stopped(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    /// What a poller reported; the new target when it changed.
    pub fn signal(&mut self, signal: Signal, now: Millis) -> Option<Decision> {
        let changed = match signal {
            Signal::Received { requested, got } => self.received(requested, got, now),
            Signal::BackedOff => self.backed_off(now),
        };
        changed.then_some(Decision::Scaled {
            pollers: self.target,
        })
    }

    /// Pollers that should run.
    pub fn target(&self) -> usize {
        self.target
    }

    fn floor(&self, now: Millis) -> usize {
        let idle = now.saturating_sub(self.last_message) >= IDLE_AFTER_MS;
        let floor = if idle && !self.maximum_concurrency_set {
            IDLE_POLLERS
        } else {
            START_POLLERS
        };
        floor.min(self.ceiling)
    }

    /// A receive asked for `requested` messages and got `got`. Returns whether the target
    /// changed.
    pub fn received(&mut self, requested: usize, got: usize, now: Millis) -> bool {
        let before = self.target;
        if got > 0 {
            self.last_message = now;
            self.target = self.target.max(self.floor(now));
        }
        if got > 0 && got >= requested {
            if now.saturating_sub(self.last_growth) >= 1000 {
                self.target = (self.target + GROWTH_PER_SECOND).min(self.ceiling);
                self.last_growth = now;
            }
        } else if got == 0 {
            self.target = self.target.saturating_sub(1).max(self.floor(now));
        }
        self.target != before
    }

    /// A batch failed in a way that makes Lambda back off. Returns whether the target changed.
    pub fn backed_off(&mut self, now: Millis) -> bool {
        let before = self.target;
        self.target = (self.target / 2).max(self.floor(now)).min(before);
        self.last_growth = now;
        self.target != before
    }
}
