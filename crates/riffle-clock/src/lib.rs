//! The one clock Riffle reads time from.
//!
//! Invariant: nothing in the emulator or the engine calls `SystemTime::now()` or sleeps on its
//! own; both read and wait on a [`Clock`], so a test (or `riffle local`) can give them the same
//! [`ManualClock`] and move time forward hours in microseconds: retention, iterator expiry,
//! visibility timeouts, batching windows, retry back-off, record age.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// A source of wall-clock time in epoch milliseconds.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_millis(&self) -> Millis;

    /// Completes once this clock reads `deadline` or later (long polling waits on this).
    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Millis)
    }

    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wait = deadline.saturating_sub(self.now_millis());
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}

/// A clock that only moves when told to; clones share the same time, and sleepers wake when it
/// is moved past their deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<Millis>>,
}

impl ManualClock {
    /// A clock standing at `start` epoch milliseconds.
    pub fn new(start: Millis) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by.as_millis() as Millis);
    }

    /// Sets the clock to `to` epoch milliseconds.
    pub fn set(&self, to: Millis) {
        self.now.send_replace(to);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> Millis {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            while *rx.borrow_and_update() < deadline {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleepers_wake_only_when_time_passes_their_deadline() {
        let clock = ManualClock::new(1_000);
        let sleeper = clock.clone();
        let woke = tokio::spawn(async move { sleeper.sleep_until(2_000).await });
        clock.advance(Duration::from_millis(999));
        tokio::task::yield_now().await;
        assert!(!woke.is_finished());
        clock.advance(Duration::from_millis(1));
        tokio::time::timeout(Duration::from_secs(5), woke)
            .await
            .unwrap()
            .unwrap();
    }
}
