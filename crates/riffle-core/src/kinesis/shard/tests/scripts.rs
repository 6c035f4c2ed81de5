//! Scenario scripts for the shard machine (see `crate::testscript`): each file under
//! `kinesis/shard/testscripts/` sets a shard up, feeds it records and scripted function answers,
//! and records every effect the machine asks for, in order, on virtual time.
//!
//! Commands:
//! - `shard [batch_size=N] [window=MS] [pf=N] [bisect=true] [retries=N] [max_age=MS]
//!   [item_failures=true] [destination=false] [payload_limit=BYTES]`: a new machine at T0.
//! - `put FIRST[..LAST] [key=K]`: records with those sequence numbers arrive now.
//! - `answer ok|error|throttle|service_error [times=N]`, `answer fail SEQ [SEQ…]` (a
//!   batchItemFailures response): how the function answers the next invocations, in order; an
//!   invocation with no scripted answer succeeds.
//! - `refuse [times=N]`: the destination refuses the next deliveries.
//! - `end`: the shard ended (closed and read to its end).
//! - `run`: performs effects and wakes until nothing is left, printing each effect as
//!   `+MS effect` (milliseconds since T0).

use std::collections::VecDeque;
use std::error::Error;
use std::fmt::Write as _;

use super::*;
use crate::testscript;

#[derive(goldenscript::Command)]
enum Command {
    Shard {
        #[arg(key)]
        batch_size: Option<usize>,
        #[arg(key)]
        window: Option<Millis>,
        #[arg(key)]
        pf: Option<usize>,
        #[arg(key)]
        bisect: Option<bool>,
        #[arg(key)]
        retries: Option<u32>,
        #[arg(key)]
        max_age: Option<Millis>,
        #[arg(key)]
        item_failures: Option<bool>,
        #[arg(key)]
        destination: Option<bool>,
        #[arg(key)]
        payload_limit: Option<usize>,
    },
    Put {
        range: String,
        #[arg(key)]
        key: Option<String>,
    },
    Answer {
        kind: String,
        #[arg(optional)]
        items: Vec<String>,
        #[arg(key)]
        times: Option<usize>,
    },
    Refuse {
        #[arg(key)]
        times: Option<usize>,
    },
    End,
    Run,
}

#[derive(Default)]
struct Runner {
    shard: Option<Shard>,
    now: Millis,
    answers: VecDeque<Outcome>,
    refusals: usize,
    /// Effects asked for and not performed yet.
    queue: VecDeque<Effect>,
}

fn show_decision(decision: &Decision, t0: Millis) -> String {
    match decision {
        Decision::Succeeded { lane, records } => {
            format!("lane {lane} succeeded: {records} records")
        }
        Decision::PartiallyFailed {
            lane,
            resume_at,
            succeeded,
        } => format!("lane {lane} partially failed: {succeeded} succeeded, resume at {resume_at}"),
        Decision::Failed {
            lane,
            reason,
            attempts,
        } => format!("lane {lane} failed (attempt {attempts}): {reason}"),
        Decision::Bisected { lane, left, right } => {
            format!("lane {lane} bisected: {left} + {right}")
        }
        Decision::RetryScheduled { lane, at, reason } => {
            format!("lane {lane} retry at +{}: {reason}", at - t0)
        }
        Decision::Filtered { records } => format!("filtered {records} records"),
        Decision::WindowStateDropped { lane } => format!("lane {lane} window state dropped"),
        Decision::Discarded {
            lane,
            condition,
            range,
            records,
            delivered,
        } => format!(
            "lane {lane} discarded {}..{} ({records} records, {}): {}",
            range.0,
            range.1,
            condition.as_str(),
            if *delivered {
                "delivered"
            } else {
                "not delivered"
            }
        ),
        Decision::DeliveryFailed { lane, retry_at } => {
            format!("lane {lane} delivery failed, retry at +{}", retry_at - t0)
        }
    }
}

impl Runner {
    fn shard(&mut self) -> Result<&mut Shard, Box<dyn Error>> {
        self.shard
            .as_mut()
            .ok_or_else(|| "no shard: start with `shard`".into())
    }

    fn answer(&mut self, kind: &str, items: &[String], times: usize) -> Result<(), Box<dyn Error>> {
        let outcome = testscript::outcome(kind, items)?;
        self.answers.extend(std::iter::repeat_n(outcome, times));
        Ok(())
    }

    /// Performs effects and wakes until the machine has nothing left to do.
    fn run(&mut self, out: &mut String) -> Result<(), Box<dyn Error>> {
        for _ in 0..10_000 {
            let Some(effect) = self.queue.pop_front() else {
                let shard = self.shard()?;
                let Some(wake) = shard.next_wake() else {
                    return Ok(());
                };
                self.now = self.now.max(wake);
                let now = self.now;
                let effects = self.shard()?.tick(now);
                self.queue.extend(effects);
                continue;
            };
            let (now, at) = (self.now, self.now - T0);
            match effect {
                Effect::Invoke {
                    lane,
                    batch,
                    payload,
                    previous_invocations,
                    ..
                } => {
                    let outcome = self
                        .answers
                        .pop_front()
                        .unwrap_or(Outcome::Success(Vec::new()));
                    writeln!(
                        out,
                        "+{at} invoke lane {lane} batch {batch}: {} (try {}) → {}",
                        testscript::show_range(&seqs_of(&payload), ""),
                        previous_invocations + 1,
                        testscript::show_outcome(&outcome)
                    )?;
                    let invocation = Invocation {
                        request_id: format!("req-{batch}"),
                        outcome,
                    };
                    let effects = self
                        .shard()?
                        .invocation_finished(lane, batch, invocation, now);
                    self.queue.extend(effects);
                }
                Effect::Deliver {
                    lane,
                    delivery,
                    record,
                } => {
                    let accepted = self.refusals == 0;
                    self.refusals = self.refusals.saturating_sub(1);
                    writeln!(
                        out,
                        "+{at} deliver lane {lane}: {} {}..{}, {} records, {} invocations → {}",
                        record.condition.as_str(),
                        record.start_sequence_number,
                        record.end_sequence_number,
                        record.batch_size,
                        record.approximate_invoke_count,
                        if accepted { "accepted" } else { "refused" }
                    )?;
                    let effects = self
                        .shard()?
                        .delivery_finished(lane, delivery, accepted, now);
                    self.queue.extend(effects);
                }
                Effect::Checkpoint(seq) => writeln!(out, "+{at} checkpoint {seq}")?,
                Effect::Journal(decision) => {
                    writeln!(out, "+{at} journal {}", show_decision(&decision, T0))?;
                }
            }
        }
        Err("the machine did not settle within 10,000 effects".into())
    }
}

impl testscript::Script for Runner {
    type Command = Command;

    fn perform(&mut self, command: &Command, out: &mut String) -> Result<(), Box<dyn Error>> {
        match command {
            Command::Shard {
                batch_size,
                window,
                pf,
                bisect,
                retries,
                max_age,
                item_failures,
                destination,
                payload_limit,
            } => {
                let defaults = settings();
                let settings = ShardSettings {
                    batch_size: batch_size.unwrap_or(defaults.batch_size),
                    batching_window_ms: window.unwrap_or(defaults.batching_window_ms),
                    parallelization_factor: pf.unwrap_or(defaults.parallelization_factor),
                    bisect_on_function_error: bisect.unwrap_or(false),
                    maximum_retry_attempts: *retries,
                    maximum_record_age_ms: max_age.unwrap_or(defaults.maximum_record_age_ms),
                    report_batch_item_failures: item_failures.unwrap_or(false),
                    destination: destination.unwrap_or(true).then_some(DestinationKind::Sqs),
                    max_payload_bytes: payload_limit.unwrap_or(defaults.max_payload_bytes),
                    ..defaults
                };
                *self = Self {
                    shard: Some(Shard::new(settings, None, T0)),
                    now: T0,
                    ..Self::default()
                };
            }
            Command::Put { range, key } => {
                let now = self.now;
                let key = key.as_deref().unwrap_or("k");
                let records = testscript::parse_range(range)?
                    .into_iter()
                    .map(|seq| record(seq, key, now))
                    .collect();
                let effects = self.shard()?.records_polled(records, now);
                self.queue.extend(effects);
            }
            Command::Answer { kind, items, times } => {
                self.answer(kind, items, times.unwrap_or(1))?;
            }
            Command::Refuse { times } => self.refusals += times.unwrap_or(1),
            Command::End => {
                let now = self.now;
                let effects = self.shard()?.shard_ended(now);
                self.queue.extend(effects);
            }
            Command::Run => self.run(out)?,
        }
        Ok(())
    }
}

test_each_file::test_each_path! { in "crates/riffle-core/src/kinesis/shard/testscripts" as script => run_script }

fn run_script(path: &std::path::Path) {
    testscript::run(Runner::default(), path);
}
