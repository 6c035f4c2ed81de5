//! Scenario scripts of SQS mappings (see `riffle_core::testscript`): the real `SqsMapping` on a
//! manual clock, with an in-memory queue and a scripted function. No emulator, no network, no
//! sleeping: `run` moves the clock in steps and lets the tasks run until they wait on it. Each
//! file under `sqs/mapping/testscripts/` is one test.
//!
//! Commands (labels are bodies):
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
//! - `answer`, `run`, `settle`, `stop`: as every mapping script (`crate::scripted`); `run`'s
//!   conditions: `until=empty` (the default: the queue is empty), `dlq n=N` (N dead letters),
//!   `polled n=N` (N messages received), `pollers n=N` (the scaler wants N); limit 60 s.
//! - `pollers`: the scaler's target now.
//! - `stats`: the mapping's counters and the queues' state.
//! - `invocations`: what the function saw, summed up (for scenarios too long to print).
//! - `journal`: the journal's throttles, give-ups and scaling, summed up.
//! - `deleted`: the bodies of the deleted messages, in delete order.
//! - `receive`: a ReceiveMessage of up to 10 on the queue now, printing the bodies.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use riffle_clock::Clock;
use riffle_core::invocation::Outcome;
use riffle_core::sqs::config::{RawScalingConfig, RawSqsMapping, SqsFacts};
use riffle_core::sqs::poller::{PollerSettings, ReceiveRequest, Settled};

use super::*;
use crate::MemoryQueue;
use crate::scripted::{self, Scene, T0, show_items};

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
    Pollers,
    Stats,
    Invocations,
    Journal,
    Deleted,
    Receive,
}

type BoxInvoker = tower::util::BoxCloneSyncService<InvokeRequest, Outcome, Infallible>;

#[derive(Default)]
struct Runner {
    queue: Option<MemoryQueue>,
    dlq: Option<MemoryQueue>,
    mapping: Option<Arc<SqsMapping<MemoryQueue, BoxInvoker>>>,
    /// Message id → body, of every message sent.
    sent: BTreeMap<String, String>,
}

/// The distinct values of `counts`, joined.
fn show_counts(counts: &[String]) -> String {
    let distinct: BTreeSet<&str> = counts.iter().map(String::as_str).collect();
    distinct.into_iter().collect::<Vec<_>>().join(",")
}

fn new_queue(scene: &Scene, name: &str) -> MemoryQueue {
    MemoryQueue::new(name, VISIBILITY_MS, Arc::new(scene.clock.clone()))
}

/// The invoker: Lambda's throttle when `reserved` invocations run, then the scene's scripted
/// function, which takes `work` of virtual time.
fn invoker(scene: &Scene, work: Duration, reserved: Option<usize>) -> BoxInvoker {
    let (function, clock) = (Arc::clone(&scene.function), scene.clock.clone());
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
            let counts = show_counts(&field(&|r| &r["attributes"]["ApproximateReceiveCount"]));
            let detail = match counts.as_str() {
                "1" => String::new(),
                counts => format!(" (receive {counts})"),
            };
            let at = clock.now_millis() - T0;
            let outcome = (function.lock().unwrap()).invoked(
                at,
                bodies,
                &ids,
                detail,
                request.payload.clone(),
            );
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

impl Runner {
    fn queue(&self) -> Result<&MemoryQueue, Box<dyn Error>> {
        self.queue
            .as_ref()
            .ok_or_else(|| "no queue: start with `queue`".into())
    }

    fn mapping(&self) -> Result<&SqsMapping<MemoryQueue, BoxInvoker>, Box<dyn Error>> {
        scripted::started(self.mapping.as_deref())
    }

    fn start(
        &mut self,
        scene: &mut Scene,
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
            invoker(scene, work, reserved),
            Arc::new(scene.clock.clone()),
        ));
        let running = Arc::clone(&mapping);
        scene.spawn(|stopped| async move { running.run(stopped).await });
        (scene.quiet, scene.loose) = (quiet, loose);
        self.mapping = Some(mapping);
        Ok(())
    }

    fn stats(&self, scene: &Scene, out: &mut String) -> Result<(), Box<dyn Error>> {
        let metrics = self.mapping()?.metrics();
        let count = |c: &std::sync::atomic::AtomicU64| scene.amount(c.load(Ordering::Relaxed));
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
        if scene.loose {
            writeln!(
                out,
                "queue: {left} left; of {} sent, {} deleted or dead-lettered ({} dead letters)",
                self.sent.len(),
                deleted + dead.len(),
                scene.amount(dead.len() as u64)
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
            0..=10 => writeln!(out, "; dead-letter queue: {}", show_items(&dead))?,
            n => writeln!(out, "; dead-letter queue: {n} messages")?,
        }
        Ok(())
    }

    fn invocations(&self, scene: &Scene, out: &mut String) -> Result<(), Box<dyn Error>> {
        let function = scene.function.lock().unwrap();
        let seen = &function.seen;
        let bodies: Vec<&String> = seen.iter().flat_map(|s| &s.items).collect();
        let distinct: BTreeSet<&String> = bodies.iter().copied().collect();
        let largest = seen.iter().map(|s| s.items.len()).max().unwrap_or(0);
        let counts: Vec<String> = seen
            .iter()
            .flat_map(|s| {
                let event: serde_json::Value = serde_json::from_str(&s.payload).unwrap();
                let records = event["Records"].as_array().cloned().unwrap_or_default();
                records.into_iter().map(|r| {
                    let count = &r["attributes"]["ApproximateReceiveCount"];
                    count.as_str().unwrap_or_default().to_owned()
                })
            })
            .collect();
        writeln!(
            out,
            "{} invocations of {} messages ({} distinct), at most {largest} a batch, receive counts {}",
            scene.amount(seen.len() as u64),
            scene.amount(bodies.len() as u64),
            scene.amount(distinct.len() as u64),
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

    fn journal(&self, scene: &Scene, out: &mut String) -> Result<(), Box<dyn Error>> {
        let journal = self.mapping()?.journal();
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
            scene.amount(throttled as u64),
            scene.amount(gave_up as u64),
            scene.amount(returned as u64)
        )?;
        let why: Vec<&str> = why.into_iter().collect();
        match why.is_empty() {
            true => writeln!(out)?,
            false => writeln!(out, ": {}", why.join(", "))?,
        }
        let peak = pollers.iter().max().copied().unwrap_or(0);
        let scaled = scene.amount(pollers.len() as u64);
        writeln!(
            out,
            "scaled {scaled} times, to at most {} pollers",
            scene.amount(peak as u64)
        )?;
        Ok(())
    }
}

impl scripted::MappingScript for Runner {
    type Own = Command;
    const UNTIL: &'static str = "empty";
    const LIMIT_SECONDS: u64 = 60;

    fn holds(&self, _scene: &Scene, until: &str, n: u64) -> Result<bool, Box<dyn Error>> {
        let mapping = self.mapping()?;
        Ok(match until {
            "empty" => self.queue()?.bodies().is_empty(),
            "dlq" => self.dlq.as_ref().map_or(0, |q| q.bodies().len()) as u64 == n,
            "polled" => mapping.metrics().polled.load(Ordering::Relaxed) == n,
            "pollers" => mapping.target_pollers() as u64 == n,
            other => return Err(format!("unknown condition {other}").into()),
        })
    }

    fn perform_own(
        &mut self,
        scene: &mut Scene,
        command: &Command,
        out: &mut String,
    ) -> Result<(), Box<dyn Error>> {
        match command {
            Command::Queue { fifo, dlq } => {
                *scene = Scene::default();
                *self = Self::default();
                let name = if fifo.unwrap_or(false) {
                    "jobs.fifo"
                } else {
                    "jobs"
                };
                let queue = new_queue(scene, name);
                if let Some(max_receive_count) = dlq {
                    let dlq = new_queue(scene, "jobs-dlq");
                    queue.redrive_to(&dlq, *max_receive_count);
                    self.dlq = Some(dlq);
                }
                self.queue = Some(queue);
            }
            Command::Send { bodies, group } => {
                for word in bodies {
                    for body in scripted::expand(word)? {
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
                self.start(scene, raw, work, *reserved, quiet || loose, loose)?;
            }
            Command::Pollers => {
                let target = self.mapping()?.target_pollers();
                writeln!(out, "{target} pollers")?;
            }
            Command::Stats => self.stats(scene, out)?,
            Command::Invocations => self.invocations(scene, out)?,
            Command::Journal => self.journal(scene, out)?,
            Command::Deleted => {
                let deleted: Vec<String> = (self.queue()?.deleted().iter())
                    .map(|id| self.sent.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .collect();
                writeln!(out, "deleted {}", show_items(&deleted))?;
            }
            Command::Receive => {
                let queue = self.queue()?.clone();
                let received = scene.rt.block_on(queue.receive(ReceiveRequest {
                    max_messages: 10,
                    wait_seconds: 0,
                    visibility_timeout_seconds: None,
                }))?;
                let bodies: Vec<String> = received.into_iter().map(|m| m.body).collect();
                writeln!(out, "received {}", show_items(&bodies))?;
            }
        }
        Ok(())
    }
}

test_each_file::test_each_path! { in "crates/riffle-runtime/src/sqs/mapping/testscripts" as script => scripted::run::<Runner> }
