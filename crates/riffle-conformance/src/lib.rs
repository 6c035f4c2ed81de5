//! Conformance suites for the boundaries of `riffle-runtime`: [`stream`] (`StreamSource` and
//! `ShardReader`), [`queue`] (`QueueSource`) and [`checkpoint`] (`CheckpointStore`).
//!
//! Each suite is a set of checks, generic over a fixture that sets up state the way the
//! implementation allows (in memory: by calling the model; on the emulator: through the SDK) and
//! gives the checks a manual clock. The macros turn a suite into one `#[tokio::test]` per check
//! for one implementation; `tests/memory.rs` runs every suite against the in-memory models the
//! runtime's tests and the test kit use, `tests/emulator.rs` against the SDK adapters of
//! `riffle-aws` on the embedded emulator. So the in-memory models cannot drift from the emulator
//! without a check failing on one side.
//!
//! Architecture invariant: a check asserts only what the runtime relies on and AWS documents;
//! where the two implementations may differ (a sender id, a receipt handle's text), it does not
//! look.

// The fixtures' async methods are awaited in place by the checks, never spawned, so their
// futures need no `Send` bound.
#![allow(async_fn_in_trait)]

pub mod checkpoint;
pub mod queue;
pub mod stream;

use std::time::Duration;

use riffle_clock::ManualClock;
use riffle_core::time::Millis;

/// 2023-11-14T22:13:20Z: where every fixture's clock starts.
pub const T0: Millis = 1_700_000_000_000;

/// Waits, for at most five seconds of real time, until the earliest sleeper on `clock` sleeps
/// until exactly `deadline`: the way a check knows a long poll is waiting before it moves time.
pub async fn sleeper_at(clock: &ManualClock, deadline: Millis) {
    let waiting = async {
        while clock.next_deadline() != Some(deadline) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap_or_else(|_| panic!("nobody came to sleep until {deadline} within 5 s"));
}

/// One `#[tokio::test]` per check of a suite, each on a fresh fixture from `$make`.
#[doc(hidden)]
#[macro_export]
macro_rules! __checks {
    ($make:expr; $module:ident: $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let fixture = $make().await;
                $crate::$module::$check(&fixture).await;
            }
        )*
    };
}
