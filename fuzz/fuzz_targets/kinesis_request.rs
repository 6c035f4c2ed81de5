//! Raw request decoding: the first byte picks the operation (one of the 19 Kinesis operations the
//! emulator implements, or an unknown one), the remaining bytes are the body, sent to a service
//! that already holds stream "s" with two shards and a few records.
//!
//! No input may panic the service; every error must be one of AWS's codes for that operation with
//! a non-empty message; the store's invariants must hold afterwards (see `riffle_fuzz`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use riffle_fuzz::{Harness, OPERATIONS};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let operation = OPERATIONS[usize::from(selector) % OPERATIONS.len()];
    let harness = Harness::new();
    let _ = harness.call(operation, body);
});
