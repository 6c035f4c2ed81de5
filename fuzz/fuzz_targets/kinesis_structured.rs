//! Structured, stateful fuzzing: the input is decoded (with `arbitrary`) into a short scenario of
//! calls whose JSON bodies use the operation's real member names, with values that are mostly
//! plausible (stream names, shard ids, sequence numbers in the emulator's layout, iterator types,
//! base64 data, hash keys at the edges of the key space) and sometimes wrong in type or range.
//! Shard iterators, pagination tokens, sequence numbers, shard ids and hash keys returned by
//! earlier calls are fed back into later ones, and the clock can move (forwards past iterator
//! expiry and retention, or backwards), so scenarios reach resharding, reading across closed
//! shards and expired tokens.
//!
//! Checks: no panic; every error one of AWS's codes for the operation, with a message; a refused
//! request changes nothing; the store's invariants hold after every call; GetRecords returns
//! strictly increasing sequence numbers and valid base64.

#![no_main]

use std::time::Duration;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use riffle_emulator::Clock as _;
use riffle_fuzz::{Harness, OPERATIONS};
use serde_json::{Map, Number, Value};

#[path = "kinesis_structured/values.rs"]
mod values;

use values::{Pool, Text, Val, request_body};

/// Largest number of steps in one scenario.
const MAX_STEPS: usize = 12;
/// Largest number of values kept per kind of returned value.
const MAX_POOL: usize = 32;

/// One step of a scenario.
#[derive(Debug)]
enum Step {
    /// Call `OPERATIONS[op]` with `body`, followed by `trailing` bytes if any; if `follow` and
    /// the answer holds a shard iterator, read with it at once, as consumers do.
    Call {
        op: usize,
        body: Val,
        trailing: Option<Vec<u8>>,
        follow: bool,
    },
    /// Move the clock forward.
    Advance(u64),
    /// Move the clock back (wall clocks do step backwards).
    Rewind(u64),
    /// Run the background tick (trimming and finishing deletions).
    Tick,
}

fn step(u: &mut Unstructured<'_>) -> Result<Step> {
    Ok(match u.int_in_range(0..=19)? {
        0 => {
            let ms = match u.int_in_range(0..=4)? {
                0 => 1000,
                1 => 300_001,
                2 => 24 * 3_600_000 + 1,
                3 => 8760 * 3_600_000,
                _ => u.arbitrary::<u32>()?.into(),
            };
            Step::Advance(ms)
        }
        1 => Step::Rewind(u.int_in_range(1..=600_000)?),
        2 => Step::Tick,
        _ => {
            let op = u.choose_index(OPERATIONS.len())?;
            let body = request_body(u, OPERATIONS[op])?;
            let trailing = if u.ratio(1, 32)? {
                Some(u.arbitrary()?)
            } else {
                None
            };
            let follow = u.ratio(1, 2)?;
            Step::Call {
                op,
                body,
                trailing,
                follow,
            }
        }
    })
}

fn scenario(data: &[u8]) -> Vec<Step> {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    while !u.is_empty() && steps.len() < MAX_STEPS {
        match step(&mut u) {
            Ok(s) => steps.push(s),
            Err(_) => break,
        }
    }
    steps
}

/// Values handed out by earlier calls.
#[derive(Default)]
struct Pools {
    values: Vec<(Pool, String)>,
}

impl Pools {
    fn get(&self, pool: Pool, index: u8) -> Option<&str> {
        let of_kind: Vec<&str> = self
            .values
            .iter()
            .filter(|(p, _)| *p == pool)
            .map(|(_, v)| v.as_str())
            .collect();
        (!of_kind.is_empty()).then(|| of_kind[usize::from(index) % of_kind.len()])
    }

    fn collect(&mut self, value: &Value) {
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    match (Pool::of_member(key), member) {
                        (Some(pool), Value::String(s)) => self.add(pool, s),
                        _ => self.collect(member),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.collect(item)),
            _ => {}
        }
    }

    fn add(&mut self, pool: Pool, value: &str) {
        if self.values.iter().filter(|(p, _)| *p == pool).count() >= MAX_POOL {
            let oldest = self
                .values
                .iter()
                .position(|(p, _)| *p == pool)
                .expect("one exists");
            self.values.remove(oldest);
        }
        self.values.push((pool, value.to_owned()));
    }
}

fn resolve(val: &Val, pools: &Pools) -> Value {
    match val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(i) => Value::Number((*i).into()),
        Val::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Val::Str(Text::Lit(s)) => Value::String(s.clone()),
        Val::Str(Text::Captured {
            pool,
            index,
            tamper,
        }) => {
            let mut s = pools.get(*pool, *index).unwrap_or("").to_owned();
            if let Some(t) = tamper {
                if s.is_empty() {
                    s.push(char::from(*t));
                } else {
                    // Replace one ASCII character (captured values are ASCII).
                    let at = usize::from(*t) % s.len();
                    let replacement = if s.as_bytes()[at] == b'A' { "B" } else { "A" };
                    s.replace_range(at..=at, replacement);
                }
            }
            Value::String(s)
        }
        Val::Arr(items) => Value::Array(items.iter().map(|v| resolve(v, pools)).collect()),
        Val::Obj(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), resolve(v, pools)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// Checks that a successful GetRecords is well-formed.
fn check_get_records(response: &Value) {
    use base64::Engine as _;
    let records = response["Records"]
        .as_array()
        .expect("GetRecords answers Records");
    let mut previous: Option<&str> = None;
    for record in records {
        let seq = record["SequenceNumber"]
            .as_str()
            .expect("a record has a SequenceNumber");
        if let Some(prev) = previous {
            // Sequence numbers are fixed-width decimal, so text order is numeric order.
            assert!(
                prev.len() < seq.len() || (prev.len() == seq.len() && prev < seq),
                "GetRecords returned {seq} after {prev}"
            );
        }
        previous = Some(seq);
        let data = record["Data"].as_str().expect("a record has Data");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_else(|e| panic!("GetRecords returned Data that is not base64 ({e})"));
    }
    let has_next = response.get("NextShardIterator").is_some();
    let has_children = response.get("ChildShards").is_some();
    assert!(
        has_next != has_children,
        "GetRecords must answer either an iterator or children"
    );
}

fuzz_target!(|data: &[u8]| {
    let steps = scenario(data);
    if steps.is_empty() {
        return;
    }
    let harness = Harness::new();
    let mut pools = Pools::default();
    // The seeded records' sequence numbers and shard ids, as a client would have seen them.
    if let Ok(response) = harness.call("ListShards", br#"{"StreamName":"s"}"#) {
        pools.collect(&response);
    }
    for step in &steps {
        match step {
            Step::Advance(ms) => harness.clock.advance(Duration::from_millis(*ms)),
            Step::Rewind(ms) => {
                let now = harness.clock.now_millis();
                harness.clock.set(now.saturating_sub(*ms));
            }
            Step::Tick => {
                harness.kinesis.tick();
                harness.check_invariants();
            }
            Step::Call {
                op,
                body,
                trailing,
                follow,
            } => {
                let operation = OPERATIONS[*op];
                let mut bytes = serde_json::to_vec(&resolve(body, &pools)).expect("plain JSON");
                if let Some(extra) = trailing {
                    bytes.extend_from_slice(extra);
                }
                let Ok(response) = harness.call(operation, &bytes) else {
                    continue;
                };
                if operation == "GetRecords" {
                    check_get_records(&response);
                }
                pools.collect(&response);
                let iterator = ["ShardIterator", "NextShardIterator"]
                    .iter()
                    .find_map(|member| response.get(*member).and_then(Value::as_str));
                if let (true, Some(iterator)) = (*follow, iterator) {
                    let body = serde_json::json!({ "ShardIterator": iterator }).to_string();
                    if let Ok(response) = harness.call("GetRecords", body.as_bytes()) {
                        check_get_records(&response);
                        pools.collect(&response);
                    }
                }
            }
        }
    }
});
