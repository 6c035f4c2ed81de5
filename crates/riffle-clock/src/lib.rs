//! The one clock Riffle reads time from.
//!
//! Invariant: nothing in the emulator or the engine calls `SystemTime::now()` or sleeps on its
//! own; both read and wait on a [`Clock`], so a test (or `riffle local`) can give them the same
//! [`ManualClock`] and move time forward hours in microseconds: retention, iterator expiry,
//! visibility timeouts, batching windows, retry back-off, record age.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Milliseconds since the Unix epoch: riffle-core's, so the clock and the engine's decisions
/// speak one unit.
pub use riffle_core::time::Millis;

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
/// is moved past their deadline. It knows the deadlines of its sleepers, so a driver can jump
/// straight to the next one ([`ManualClock::next_deadline`]), and how many there are, so a test
/// can wait until a task has reached its wait ([`ManualClock::sleepers_at_least`]).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<Millis>>,
    sleepers: Arc<Mutex<Sleepers>>,
    /// How many sleepers wait right now, for [`ManualClock::sleepers_at_least`].
    waiting: Arc<watch::Sender<usize>>,
}

#[derive(Debug, Default)]
struct Sleepers {
    deadlines: BTreeMap<(Millis, u64), ()>,
    next_id: u64,
}

/// Removes a sleeper's deadline when it wakes or is dropped.
struct Registration {
    sleepers: Arc<Mutex<Sleepers>>,
    waiting: Arc<watch::Sender<usize>>,
    key: (Millis, u64),
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sleepers = self.sleepers.lock().unwrap_or_else(|p| p.into_inner());
        sleepers.deadlines.remove(&self.key);
        self.waiting.send_replace(sleepers.deadlines.len());
    }
}

impl ManualClock {
    /// A clock standing at `start` epoch milliseconds.
    pub fn new(start: Millis) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
            sleepers: Arc::default(),
            waiting: Arc::new(watch::Sender::new(0)),
        }
    }

    /// The earliest deadline anyone is sleeping until, if anyone sleeps.
    pub fn next_deadline(&self) -> Option<Millis> {
        let sleepers = self.sleepers.lock().unwrap_or_else(|p| p.into_inner());
        sleepers
            .deadlines
            .keys()
            .next()
            .map(|(deadline, _)| *deadline)
    }

    /// How many sleepers wait on this clock right now.
    pub fn sleepers(&self) -> usize {
        *self.waiting.borrow()
    }

    /// Completes once at least `count` sleepers wait on this clock: how a test knows that a
    /// task has reached its wait (a long poll has registered) before it makes the event that
    /// should end it, without sleeping or yielding to get the order.
    pub async fn sleepers_at_least(&self, count: usize) {
        let mut waiting = self.waiting.subscribe();
        // The sender lives in `self`, so the channel cannot close while we borrow it.
        let _ = waiting.wait_for(|n| *n >= count).await;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by.as_millis() as Millis);
    }

    /// Sets the clock to `to` epoch milliseconds.
    pub fn set(&self, to: Millis) {
        self.now.send_replace(to);
    }

    /// Completes once every other task of the runtime waits (on this clock, on each other, or on
    /// anything else that is not ready): the point where a test looks at what happened.
    ///
    /// Exact, not a guess: it needs a current-thread runtime with tokio's time paused
    /// (`#[tokio::test(flavor = "current_thread", start_paused = true)]`, tokio's `test-util`),
    /// where tokio moves its own time (never this clock's) to the next tokio timer only when no
    /// task can run, so the short tokio sleep here ends exactly when the runtime is idle.
    ///
    /// # Panics
    /// If tokio's time is not paused: there the sleep would be a real one and order nothing.
    pub async fn settle() {
        let frozen = tokio::time::Instant::now();
        std::thread::sleep(Duration::from_micros(50));
        assert_eq!(
            tokio::time::Instant::now(),
            frozen,
            "ManualClock::settle needs a current-thread runtime with paused time (start_paused = true)"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    /// Moves the clock forward in `step`s, settling before each, until `done` holds (true) or
    /// `limit` of virtual time has passed (false).
    pub async fn run_until(
        &self,
        step: Duration,
        limit: Duration,
        mut done: impl FnMut() -> bool,
    ) -> bool {
        let end = self.now_millis() + limit.as_millis() as Millis;
        loop {
            Self::settle().await;
            if done() {
                return true;
            }
            if self.now_millis() >= end {
                return false;
            }
            self.advance(step);
        }
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> Millis {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut rx = self.now.subscribe();
        let registration = {
            let mut sleepers = self.sleepers.lock().unwrap_or_else(|p| p.into_inner());
            sleepers.next_id += 1;
            let key = (deadline, sleepers.next_id);
            sleepers.deadlines.insert(key, ());
            self.waiting.send_replace(sleepers.deadlines.len());
            Registration {
                sleepers: Arc::clone(&self.sleepers),
                waiting: Arc::clone(&self.waiting),
                key,
            }
        };
        Box::pin(async move {
            let _registration = registration;
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

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn manual_sleepers_wake_only_when_time_passes_their_deadline() {
        let clock = ManualClock::new(1_000);
        let sleeper = clock.clone();
        let woke = tokio::spawn(async move { sleeper.sleep_until(2_000).await });
        clock.sleepers_at_least(1).await;
        clock.advance(Duration::from_millis(999));
        ManualClock::settle().await;
        assert!(!woke.is_finished());
        clock.advance(Duration::from_millis(1));
        tokio::time::timeout(Duration::from_secs(5), woke)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn the_clock_knows_the_next_deadline_of_its_sleepers() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.next_deadline(), None);
        let (a, b) = (clock.clone(), clock.clone());
        let late = tokio::spawn(async move { a.sleep_until(5_000).await });
        let early = tokio::spawn(async move { b.sleep_until(3_000).await });
        clock.sleepers_at_least(2).await;
        assert_eq!(clock.next_deadline(), Some(3_000));
        clock.set(3_000);
        early.await.unwrap();
        assert_eq!(
            clock.next_deadline(),
            Some(5_000),
            "a woken sleeper is forgotten"
        );
        late.abort();
        let _ = late.await;
        assert_eq!(clock.next_deadline(), None, "so is a dropped one");
    }

    #[tokio::test]
    async fn a_test_can_wait_until_a_sleeper_has_registered() {
        let clock = ManualClock::new(1_000);
        let sleeper = clock.clone();
        assert_eq!(clock.sleepers(), 0);
        let woke = tokio::spawn(async move { sleeper.sleep_until(2_000).await });
        tokio::time::timeout(Duration::from_secs(5), clock.sleepers_at_least(1))
            .await
            .expect("the sleeper registers");
        assert_eq!(clock.next_deadline(), Some(2_000));
        clock.set(2_000);
        woke.await.unwrap();
        assert_eq!(clock.sleepers(), 0, "a woken sleeper no longer counts");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn settle_returns_only_once_every_task_waits() {
        // A relay of tasks, each woken by the one before: more hops than any fixed number of
        // yields would be sure to cover.
        let (first, mut next) = tokio::sync::mpsc::unbounded_channel::<u32>();
        for _ in 0..2_000 {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
            let mut from = std::mem::replace(&mut next, rx);
            tokio::spawn(async move {
                while let Some(n) = from.recv().await {
                    let _ = tx.send(n + 1);
                }
            });
        }
        first.send(0).unwrap();
        ManualClock::settle().await;
        assert_eq!(next.try_recv().ok(), Some(2_000));
    }

    #[tokio::test]
    #[should_panic(expected = "paused time")]
    async fn settle_refuses_a_runtime_whose_time_runs() {
        ManualClock::settle().await;
    }
}
