//! Scenario scripts of SQS mappings (see `riffle_core::testscript`): the real `SqsMapping` on a
//! manual clock, with an in-memory queue and a scripted function. No emulator, no network, no
//! sleeping: `run` moves the clock in steps and lets the tasks run until they wait on it. Each
//! file under `sqs/mapping/testscripts/` is one test.
//!
//! Commands:
//! - `queue [fifo=true] [dlq=N]`: a new queue `jobs` (`jobs.fifo`), visibility timeout 30 s,
//!   with a dead-letter queue after N receives; T0 again.
//! - `send BODY… [group=G]`: messages, in order (`m0..m24` is m0, m1, … m24).
//! - `mapping [batch_size=N] [window=S] [item_failures=true] [filter=PATTERN] [scaling=true]
//!   [max_concurrency=N] [work=MS] [reserved=N] [quiet=true] [loose=true]`: starts a mapping of
//!   the queue whose function takes `work` of virtual time per invocation and, with `reserved`,
//!   is throttled by Lambda (before the function sees it) when that many invocations run.
//!   `quiet`: `run` does not print each invocation. `loose` (quiet too): for scenarios whose
//!   numbers depend on which of several ready pollers tokio runs first, counts print as
//!   `some`/`none` and `run` leaves out the time; what must hold still prints exactly.
//! - `answer ok|error|throttle|service_error [times=N] [on=BODY]`, `answer fail BODY…`: how the
//!   function answers the next invocations (with `on`, the next one whose batch holds BODY);
//!   unscripted invocations succeed. `fail` names the failed messages by body.
//! - `run [until=empty|dlq|polled|pollers] [n=N] [step=MS] [limit=S]`: moves the clock in
//!   `step`s (default 100 ms) until the condition holds (default: the queue is empty; else N
//!   dead letters, N messages polled, N pollers), failing after `limit` (default 60 s); prints
//!   the invocations the function saw meanwhile (unless the mapping is `quiet`) and when the
//!   condition held.
//! - `pollers`: the scaler's target now.
//! - `stats`: the mapping's counters and the queues' state.
//! - `invocations`: what the function saw, summed up (for scenarios too long to print).
//! - `journal`: the journal's throttles, give-ups and scaling, summed up.
//! - `deleted`: the bodies of the deleted messages, in delete order.
//! - `stop`: stops the mapping and waits for its task.
//! - `receive`: a ReceiveMessage of up to 10 on the queue now, printing the bodies.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::{Clock, ManualClock};
use riffle_core::invocation::Outcome;
use riffle_core::sqs::config::{RawScalingConfig, RawSqsMapping, SqsFacts};
use riffle_core::sqs::poller::{PollerSettings, ReceiveRequest, Settled};
use riffle_core::testscript;
use tokio::sync::watch;

use super::*;
use crate::MemoryQueue;

const T0: u64 = 1_700_000_000_000;
const VISIBILITY_MS: u64 = 30_000;

#[derive(goldenscript::Command)]
enum Command {
    Queue {
        #[arg(key)]
        fifo: Option<bool>,
        #[arg(key)]
        dlq: Option<u32>,
    },
    Send {
        #[arg(optional)]
        bodies: Vec<String>,
        #[arg(key)]
        group: Option<String>,
    },
    Mapping {
        #[arg(key)]
        batch_size: Option<i64>,
        #[arg(key)]
        window: Option<i64>,
        #[arg(key)]
        item_failures: Option<bool>,
        #[arg(key)]
        filter: Option<String>,
        #[arg(key)]
        scaling: Option<bool>,
        #[arg(key)]
        max_concurrency: Option<i64>,
        #[arg(key)]
        work: Option<u64>,
        #[arg(key)]
        reserved: Option<usize>,
        #[arg(key)]
        quiet: Option<bool>,
        #[arg(key)]
        loose: Option<bool>,
    },
    Answer {
        kind: String,
        #[arg(optional)]
        items: Vec<String>,
        #[arg(key)]
        times: Option<usize>,
        #[arg(key)]
        on: Option<String>,
    },
    Run {
        #[arg(key)]
        until: Option<String>,
        #[arg(key)]
        n: Option<u64>,
        #[arg(key)]
        step: Option<u64>,
        #[arg(key)]
        limit: Option<u64>,
    },
    Pollers,
    Stats,
    Invocations,
    Journal,
    Deleted,
    Stop,
    Receive,
}

/// One invocation the scripted function saw.
#[derive(Debug, Clone)]
struct Seen {
    /// Virtual ms since T0.
    at: u64,
    bodies: Vec<String>,
    receive_counts: Vec<String>,
    /// The event as sent.
    payload: String,
    /// The scripted answer, as the script wrote it.
    answer: String,
}

/// One scripted answer: `kind` with `items` (bodies), for the next batch holding `on` if set.
#[derive(Debug, Clone)]
struct Answer {
    kind: String,
    items: Vec<String>,
    on: Option<String>,
}

impl Answer {
    fn show(&self) -> String {
        std::iter::once(self.kind.as_str())
            .chain(self.items.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the function was scripted to answer and what it saw; shared with the invoker.
#[derive(Default)]
struct Function {
    answers: VecDeque<Answer>,
    seen: Vec<Seen>,
}

impl Function {
    /// The answer for a batch of `bodies`: the first one scripted `on` one of them, else the
    /// first unconditional one, else ok.
    fn answer(&mut self, bodies: &[String]) -> Answer {
        let at = self
            .answers
            .iter()
            .position(|a| a.on.as_ref().is_some_and(|on| bodies.contains(on)))
            .or_else(|| self.answers.iter().position(|a| a.on.is_none()));
        at.and_then(|at| self.answers.remove(at)).unwrap_or(Answer {
            kind: "ok".into(),
            items: Vec::new(),
            on: None,
        })
    }
}

type BoxInvoker = tower::util::BoxCloneSyncService<InvokeRequest, Outcome, Infallible>;

struct Running {
    mapping: Arc<SqsMapping<MemoryQueue, BoxInvoker>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    quiet: bool,
    loose: bool,
}

struct Runner {
    rt: tokio::runtime::Runtime,
    clock: ManualClock,
    queue: Option<MemoryQueue>,
    dlq: Option<MemoryQueue>,
    function: Arc<Mutex<Function>>,
    running: Option<Running>,
    /// Invocations already printed.
    printed: usize,
    /// Message id → body, of every message sent.
    sent: BTreeMap<String, String>,
}

impl Default for Runner {
    fn default() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime with paused time");
        Self {
            rt,
            clock: ManualClock::new(T0),
            queue: None,
            dlq: None,
            function: Arc::default(),
            running: None,
            printed: 0,
            sent: BTreeMap::new(),
        }
    }
}

/// `m0..m24` → m0, m1, … m24; any other word as it is.
fn expand(word: &str) -> Result<Vec<String>, Box<dyn Error>> {
    let Some((first, last)) = word.split_once("..") else {
        return Ok(vec![word.to_owned()]);
    };
    let split = |w: &str| {
        let at = w.find(|c: char| c.is_ascii_digit()).unwrap_or(w.len());
        (w[..at].to_owned(), w[at..].to_owned())
    };
    let ((prefix, from), (_, to)) = (split(first), split(last));
    let range = testscript::parse_range(&format!("{from}..{to}"))?;
    Ok(range.into_iter().map(|n| format!("{prefix}{n}")).collect())
}

/// Bodies as `m0..m9` when they are one prefix with consecutive numbers, else listed.
fn show_bodies(bodies: &[String]) -> String {
    let prefix: String = bodies
        .first()
        .map(|b| b.chars().take_while(|c| !c.is_ascii_digit()).collect())
        .unwrap_or_default();
    let numbers: Option<Vec<u64>> = bodies
        .iter()
        .map(|b| b.strip_prefix(&prefix).and_then(|n| n.parse().ok()))
        .collect();
    match numbers {
        Some(numbers) if bodies.len() > 1 => testscript::show_range(&numbers, &prefix),
        _ => bodies.join(","),
    }
}

/// The distinct values of `counts`, joined.
fn show_counts(counts: &[String]) -> String {
    let distinct: BTreeSet<&str> = counts.iter().map(String::as_str).collect();
    distinct.into_iter().collect::<Vec<_>>().join(",")
}

impl Runner {
    fn queue(&self) -> Result<&MemoryQueue, Box<dyn Error>> {
        self.queue
            .as_ref()
            .ok_or_else(|| "no queue: start with `queue`".into())
    }

    fn running(&self) -> Result<&Running, Box<dyn Error>> {
        self.running
            .as_ref()
            .ok_or_else(|| "no mapping: start one with `mapping`".into())
    }

    fn new_queue(&self, name: &str) -> MemoryQueue {
        MemoryQueue::new(name, VISIBILITY_MS, Arc::new(self.clock.clone()))
    }

    /// The invoker: Lambda's throttle when `reserved` invocations run, then the scripted
    /// function, which takes `work` of virtual time.
    fn invoker(&self, work: Duration, reserved: Option<usize>) -> BoxInvoker {
        let (function, clock) = (Arc::clone(&self.function), self.clock.clone());
        let running = Arc::new(AtomicUsize::new(0));
        BoxInvoker::new(tower::service_fn(move |request: InvokeRequest| {
            let (function, clock, running) =
                (Arc::clone(&function), clock.clone(), Arc::clone(&running));
            async move {
                if reserved.is_some_and(|limit| running.load(Ordering::SeqCst) >= limit) {
                    return Ok(Outcome::Throttled);
                }
                running.fetch_add(1, Ordering::SeqCst);
                let event: serde_json::Value = serde_json::from_str(&request.payload).unwrap();
                let records = event["Records"].as_array().unwrap();
                let field = |pick: &dyn Fn(&serde_json::Value) -> &serde_json::Value| {
                    records
                        .iter()
                        .map(|r| pick(r).as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()
                };
                let bodies = field(&|r| &r["body"]);
                let ids = field(&|r| &r["messageId"]);
                let receive_counts = field(&|r| &r["attributes"]["ApproximateReceiveCount"]);
                let answer = function.lock().unwrap().answer(&bodies);
                let failed: Vec<String> = answer
                    .items
                    .iter()
                    .filter_map(|item| bodies.iter().position(|b| b == item))
                    .map(|at| ids[at].clone())
                    .collect();
                let outcome = testscript::outcome(&answer.kind, &failed).unwrap();
                function.lock().unwrap().seen.push(Seen {
                    at: clock.now_millis() - T0,
                    bodies,
                    receive_counts,
                    payload: request.payload.clone(),
                    answer: answer.show(),
                });
                if !work.is_zero() {
                    clock
                        .sleep_until(clock.now_millis() + work.as_millis() as u64)
                        .await;
                }
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<Outcome, Infallible>(outcome)
            }
        }))
    }

    fn start(
        &mut self,
        raw: RawSqsMapping,
        work: Duration,
        reserved: Option<usize>,
        quiet: bool,
        loose: bool,
    ) -> Result<(), Box<dyn Error>> {
        let queue = self.queue()?.clone();
        let facts = SqsFacts {
            fifo: queue.arn().ends_with(".fifo"),
            visibility_timeout_seconds: VISIBILITY_MS / 1000,
            function_timeout_seconds: 3,
        };
        let config = raw
            .validate(facts)
            .map_err(|e| format!("invalid mapping: {e:?}"))?;
        let settings = PollerSettings::new(&config, "us-east-1", facts)
            .map_err(|e| format!("invalid mapping: {e}"))?;
        let mapping = Arc::new(SqsMapping::new(
            settings,
            SqsMappingOptions::new(
                "m",
                "arn:aws:lambda:us-east-1:000000000000:function:f",
                Duration::from_secs(3),
            ),
            queue,
            self.invoker(work, reserved),
            Arc::new(self.clock.clone()),
        ));
        let (stop, stopped) = watch::channel(false);
        let running = Arc::clone(&mapping);
        let task = self.rt.spawn(async move { running.run(stopped).await });
        self.running = Some(Running {
            mapping,
            stop,
            task,
            quiet,
            loose,
        });
        Ok(())
    }

    /// Whether `until` (with `n`) holds now.
    fn holds(&self, until: &str, n: u64) -> Result<bool, Box<dyn Error>> {
        let mapping = &self.running()?.mapping;
        Ok(match until {
            "empty" => self.queue()?.bodies().is_empty(),
            "dlq" => self.dlq.as_ref().map_or(0, |q| q.bodies().len()) as u64 == n,
            "polled" => mapping.metrics().polled.load(Ordering::Relaxed) == n,
            "pollers" => mapping.target_pollers() as u64 == n,
            other => return Err(format!("unknown condition {other}").into()),
        })
    }

    fn run(
        &mut self,
        until: &str,
        n: Option<u64>,
        step: Duration,
        limit: Duration,
        out: &mut String,
    ) -> Result<(), Box<dyn Error>> {
        self.running()?;
        let clock = self.clock.clone();
        let mut failed = None;
        let finished = self.rt.block_on(clock.run_until(step, limit, || {
            self.holds(until, n.unwrap_or(0)).unwrap_or_else(|e| {
                failed = Some(e.to_string());
                true
            })
        }));
        if let Some(error) = failed {
            return Err(error.into());
        }
        if !self.running()?.quiet {
            // Invocations started at the same instant by different pollers print in text
            // order: which poller tokio runs first is not part of the semantics.
            let function = self.function.lock().unwrap();
            let mut lines: Vec<(u64, String)> = Vec::new();
            for seen in &function.seen[self.printed..] {
                let mut line = String::new();
                let out = &mut line;
                write!(out, "+{} invoke {}", seen.at, show_bodies(&seen.bodies))?;
                let counts = show_counts(&seen.receive_counts);
                if counts != "1" {
                    write!(out, " (receive {counts})")?;
                }
                write!(out, " → {}", seen.answer)?;
                lines.push((seen.at, line));
            }
            lines.sort();
            for (_, line) in lines {
                writeln!(out, "{line}")?;
            }
        }
        self.printed = self.function.lock().unwrap().seen.len();
        if !finished {
            return Err(format!("not {until} after {limit:?} of virtual time:\n{out}").into());
        }
        let at = self.clock.now_millis() - T0;
        if self.running()?.loose {
            writeln!(out, "{until}")?;
            return Ok(());
        }
        match n {
            Some(n) => writeln!(out, "+{at} {until} {n}")?,
            None => writeln!(out, "+{at} {until}")?,
        }
        Ok(())
    }

    /// `n`, or with a `loose` mapping only whether there were some.
    fn amount(&self, n: impl Into<u64>) -> String {
        let (n, loose) = (n.into(), self.running.as_ref().is_some_and(|r| r.loose));
        match (loose, n) {
            (false, n) => n.to_string(),
            (true, 0) => "none".into(),
            (true, _) => "some".into(),
        }
    }

    fn stats(&self, out: &mut String) -> Result<(), Box<dyn Error>> {
        let metrics = self.running()?.mapping.metrics();
        let count = |c: &std::sync::atomic::AtomicU64| self.amount(c.load(Ordering::Relaxed));
        writeln!(
            out,
            "polled {}, deleted {}, failed {}, filtered {}, errors {}, throttles {}",
            count(&metrics.polled),
            count(&metrics.deleted),
            count(&metrics.failed),
            count(&metrics.filtered),
            count(&metrics.errors),
            count(&metrics.throttles),
        )?;
        let queue = self.queue()?;
        let dead = self
            .dlq
            .as_ref()
            .map(MemoryQueue::bodies)
            .unwrap_or_default();
        let deleted = queue.deleted().len();
        let left = queue.bodies().len();
        if self.running()?.loose {
            writeln!(
                out,
                "queue: {left} left; of {} sent, {} deleted or dead-lettered ({} dead letters)",
                self.sent.len(),
                deleted + dead.len(),
                self.amount(dead.len() as u64)
            )?;
            return Ok(());
        }
        write!(
            out,
            "queue: {left} left, {deleted} deleted, {} receives",
            queue.receives()
        )?;
        match dead.len() {
            _ if self.dlq.is_none() => writeln!(out)?,
            0..=10 => writeln!(out, "; dead-letter queue: {}", show_bodies(&dead))?,
            n => writeln!(out, "; dead-letter queue: {n} messages")?,
        }
        Ok(())
    }

    fn invocations(&self, out: &mut String) -> Result<(), Box<dyn Error>> {
        let function = self.function.lock().unwrap();
        let seen = &function.seen;
        let bodies: Vec<&String> = seen.iter().flat_map(|s| &s.bodies).collect();
        let distinct: BTreeSet<&String> = bodies.iter().copied().collect();
        let largest = seen.iter().map(|s| s.bodies.len()).max().unwrap_or(0);
        let counts: Vec<String> = seen.iter().flat_map(|s| s.receive_counts.clone()).collect();
        writeln!(
            out,
            "{} invocations of {} messages ({} distinct), at most {largest} a batch, receive counts {}",
            self.amount(seen.len() as u64),
            self.amount(bodies.len() as u64),
            self.amount(distinct.len() as u64),
            show_counts(&counts)
        )?;
        if bodies.len() == distinct.len() {
            writeln!(out, "no message invoked twice")?;
        }
        let mut per_second = BTreeMap::new();
        for s in seen {
            *per_second.entry(s.at / 1_000).or_insert(0) += 1;
        }
        let busiest = per_second.values().max().unwrap_or(&0);
        writeln!(out, "at most {busiest} started in one second")?;
        let same_event = seen.windows(2).all(|w| w[0].payload == w[1].payload);
        if seen.len() > 1 && same_event {
            writeln!(out, "every invocation sent the same event")?;
        }
        Ok(())
    }

    fn journal(&self, out: &mut String) -> Result<(), Box<dyn Error>> {
        let journal = self.running()?.mapping.journal();
        let throttled = journal
            .iter()
            .filter(|e| matches!(e.kind, Decision::Throttled { .. }))
            .count();
        let (mut gave_up, mut returned, mut why) = (0, 0, BTreeSet::new());
        let mut pollers = Vec::new();
        for entry in &journal {
            match &entry.kind {
                Decision::Settled {
                    settled: Settled::GaveUp(reason),
                    returned: r,
                    ..
                } => {
                    gave_up += 1;
                    returned += r;
                    why.insert(reason.as_str());
                }
                Decision::Scaled { pollers: n } => pollers.push(*n),
                _ => {}
            }
        }
        write!(
            out,
            "throttled {} times; gave up on {} batches ({} messages)",
            self.amount(throttled as u64),
            self.amount(gave_up as u64),
            self.amount(returned as u64)
        )?;
        let why: Vec<&str> = why.into_iter().collect();
        match why.is_empty() {
            true => writeln!(out)?,
            false => writeln!(out, ": {}", why.join(", "))?,
        }
        let peak = pollers.iter().max().copied().unwrap_or(0);
        let scaled = self.amount(pollers.len() as u64);
        writeln!(
            out,
            "scaled {scaled} times, to at most {} pollers",
            self.amount(peak as u64)
        )?;
        Ok(())
    }
}

impl testscript::Script for Runner {
    type Command = Command;

    fn perform(&mut self, command: &Command, out: &mut String) -> Result<(), Box<dyn Error>> {
        match command {
            Command::Queue { fifo, dlq } => {
                *self = Self::default();
                let name = if fifo.unwrap_or(false) {
                    "jobs.fifo"
                } else {
                    "jobs"
                };
                let queue = self.new_queue(name);
                if let Some(max_receive_count) = dlq {
                    let dlq = self.new_queue("jobs-dlq");
                    queue.redrive_to(&dlq, *max_receive_count);
                    self.dlq = Some(dlq);
                }
                self.queue = Some(queue);
            }
            Command::Send { bodies, group } => {
                for word in bodies {
                    for body in expand(word)? {
                        let id = self.queue()?.send_to_group(body.clone(), group.as_deref());
                        self.sent.insert(id, body);
                    }
                }
            }
            Command::Mapping {
                batch_size,
                window,
                item_failures,
                filter,
                scaling,
                max_concurrency,
                work,
                reserved,
                quiet,
                loose,
            } => {
                let filter_criteria = filter
                    .as_ref()
                    .map(|pattern| {
                        serde_json::from_value(serde_json::json!({
                            "Filters": [{"Pattern": pattern}]
                        }))
                    })
                    .transpose()?;
                let scaling_config = (scaling.unwrap_or(false) || max_concurrency.is_some())
                    .then_some(RawScalingConfig {
                        maximum_concurrency: *max_concurrency,
                    });
                let raw = RawSqsMapping {
                    event_source_arn: Some(self.queue()?.arn()),
                    function_name: Some("f".into()),
                    batch_size: *batch_size,
                    maximum_batching_window_in_seconds: *window,
                    function_response_types: item_failures
                        .unwrap_or(false)
                        .then(|| vec!["ReportBatchItemFailures".into()]),
                    filter_criteria,
                    scaling_config,
                    ..RawSqsMapping::default()
                };
                let work = Duration::from_millis(work.unwrap_or(0));
                let (quiet, loose) = (quiet.unwrap_or(false), loose.unwrap_or(false));
                self.start(raw, work, *reserved, quiet || loose, loose)?;
            }
            Command::Answer {
                kind,
                items,
                times,
                on,
            } => {
                let answer = Answer {
                    kind: kind.clone(),
                    items: items.clone(),
                    on: on.clone(),
                };
                testscript::outcome(kind, items)?;
                let mut function = self.function.lock().unwrap();
                function
                    .answers
                    .extend(std::iter::repeat_n(answer, times.unwrap_or(1)));
            }
            Command::Run {
                until,
                n,
                step,
                limit,
            } => {
                let until = until.as_deref().unwrap_or("empty");
                let step = Duration::from_millis(step.unwrap_or(100));
                let limit = Duration::from_secs(limit.unwrap_or(60));
                self.run(until, *n, step, limit, out)?;
            }
            Command::Pollers => {
                let target = self.running()?.mapping.target_pollers();
                writeln!(out, "{target} pollers")?;
            }
            Command::Stats => self.stats(out)?,
            Command::Invocations => self.invocations(out)?,
            Command::Journal => self.journal(out)?,
            Command::Deleted => {
                let deleted: Vec<String> = (self.queue()?.deleted().iter())
                    .map(|id| self.sent.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .collect();
                writeln!(out, "deleted {}", show_bodies(&deleted))?;
            }
            Command::Stop => {
                let running = self.running.take().ok_or("no mapping to stop")?;
                running.stop.send(true)?;
                self.rt.block_on(async {
                    ManualClock::settle().await;
                    running.task.await
                })?;
                writeln!(out, "+{} stopped", self.clock.now_millis() - T0)?;
            }
            Command::Receive => {
                let queue = self.queue()?.clone();
                let received = self.rt.block_on(queue.receive(ReceiveRequest {
                    max_messages: 10,
                    wait_seconds: 0,
                    visibility_timeout_seconds: None,
                }))?;
                let bodies: Vec<String> = received.into_iter().map(|m| m.body).collect();
                writeln!(out, "received {}", show_bodies(&bodies))?;
            }
        }
        Ok(())
    }
}

test_each_file::test_each_path! { in "crates/riffle-runtime/src/sqs/mapping/testscripts" as script => run_script }

fn run_script(path: &std::path::Path) {
    testscript::run(Runner::default(), path);
}
