//! What the runtime's scenario-script runners share (`kinesis/mapping/tests.rs`,
//! `sqs/mapping/tests.rs`; see `riffle_core::testscript`): the commands every mapping script
//! has ([`Shared`]), the [`Scene`] they act on (a runtime with paused time, the manual clock, the
//! scripted function both mappings invoke, the mapping's task), and how batches print. A runner
//! implements [`MappingScript`] (its own commands and conditions, given the scene); the scene is
//! owned here, beside the runner, and the shared commands are performed here. Tests only.
//!
//! Shared commands:
//! - `answer ok|error|throttle|service_error [times=N] [on=LABEL]`, `answer fail LABEL…`: how the
//!   function answers the next invocations (with `on`, the next one whose batch holds LABEL);
//!   unscripted invocations succeed. `fail` names the failed items by label (SQS body, Kinesis
//!   data).
//! - `run [until=COND] [n=N] [step=MS] [limit=S]`: moves the clock in `step`s (default 100 ms)
//!   until the runner's condition holds, failing after `limit`; prints the invocations the
//!   function saw meanwhile (unless quiet) and when the condition held (no times if loose).
//! - `settle`: lets the tasks run without moving the clock; prints the invocations meanwhile.
//! - `stop`: stops the mapping and waits for its task.

use std::collections::VecDeque;
use std::error::Error;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::{Clock, ManualClock};
use riffle_core::invocation::Outcome;
use riffle_core::testscript;
use tokio::sync::watch;

/// Where every scenario starts, epoch ms.
pub(crate) const T0: u64 = 1_700_000_000_000;

/// The commands every mapping script has.
#[derive(goldenscript::Command)]
pub(crate) enum Shared {
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
    Settle,
    Stop,
}

/// A script command: a shared one, or one of the runner's own `C`.
pub(crate) enum Command<C> {
    Shared(Shared),
    Own(C),
}

impl<'a, C> TryFrom<&'a goldenscript::Command> for Command<C>
where
    C: TryFrom<&'a goldenscript::Command, Error = Box<dyn Error>>,
{
    type Error = Box<dyn Error>;

    fn try_from(command: &'a goldenscript::Command) -> Result<Self, Self::Error> {
        match command.name.as_str() {
            "answer" | "run" | "settle" | "stop" => Shared::try_from(command).map(Self::Shared),
            _ => C::try_from(command).map(Self::Own),
        }
    }
}

/// What the shared commands act on.
pub(crate) struct Scene {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) clock: ManualClock,
    pub(crate) function: Arc<Mutex<Function>>,
    /// The running mapping's stop switch and task.
    pub(crate) task: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    /// `run` does not print each invocation.
    pub(crate) quiet: bool,
    /// Nothing prints its time or counts that depend on which ready task tokio runs first.
    pub(crate) loose: bool,
}

impl Default for Scene {
    fn default() -> Self {
        Self {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a current-thread runtime with paused time"),
            clock: ManualClock::new(T0),
            function: Arc::default(),
            task: None,
            quiet: false,
            loose: false,
        }
    }
}

impl Scene {
    /// Virtual ms since T0.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_millis() - T0
    }

    /// Runs `mapping` (its `run` given the stop switch) as the scene's task.
    pub(crate) fn spawn<F>(&mut self, run: impl FnOnce(watch::Receiver<bool>) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let task = self.rt.spawn(run(stopped));
        self.task = Some((stop, task));
    }

    /// `n`, or in a loose scene only whether there were some.
    pub(crate) fn amount(&self, n: impl Into<u64>) -> String {
        match (self.loose, n.into()) {
            (false, n) => n.to_string(),
            (true, 0) => "none".into(),
            (true, _) => "some".into(),
        }
    }
}

/// What a runner keeps of the started mapping, or the error of a script that has not started one.
pub(crate) fn started<T>(mapping: Option<T>) -> Result<T, Box<dyn Error>> {
    mapping.ok_or_else(|| "no mapping: start one with `mapping`".into())
}

/// A runtime mapping's script runner: its own commands and its `run` conditions, on the scene.
/// It starts as its `Default`.
pub(crate) trait MappingScript: Default {
    /// Its own commands.
    type Own: for<'a> TryFrom<&'a goldenscript::Command, Error = Box<dyn Error>>;
    /// `run`'s condition when the script names none, and its limit in seconds.
    const UNTIL: &'static str;
    const LIMIT_SECONDS: u64;

    /// Whether `run`'s condition `until` (with `n`) holds now.
    fn holds(&self, scene: &Scene, until: &str, n: u64) -> Result<bool, Box<dyn Error>>;
    /// Performs one of its own commands.
    fn perform_own(
        &mut self,
        scene: &mut Scene,
        command: &Self::Own,
        out: &mut String,
    ) -> Result<(), Box<dyn Error>>;
}

/// A [`MappingScript`] and its scene, as `riffle_core::testscript` runs them.
#[derive(Default)]
struct Mapped<M> {
    scene: Scene,
    runner: M,
}

impl<M: MappingScript> testscript::Script for Mapped<M> {
    type Command = Command<M::Own>;

    fn perform(&mut self, command: &Self::Command, out: &mut String) -> Result<(), Box<dyn Error>> {
        match command {
            Command::Own(command) => self.runner.perform_own(&mut self.scene, command, out),
            Command::Shared(command) => self.perform_shared(command, out),
        }
    }
}

/// Runs the script at `path` with an `M` on a new scene, failing the test on a parse error or a
/// mismatch.
pub(crate) fn run<M: MappingScript>(path: &std::path::Path) {
    testscript::run(Mapped::<M>::default(), path);
}

impl<M: MappingScript> Mapped<M> {
    fn perform_shared(&mut self, command: &Shared, out: &mut String) -> Result<(), Box<dyn Error>> {
        let Self { scene, runner } = self;
        match command {
            Shared::Answer {
                kind,
                items,
                times,
                on,
            } => (scene.function.lock().unwrap()).script(kind, items, *times, on.as_deref())?,
            Shared::Run {
                until,
                n,
                step,
                limit,
            } => {
                started(scene.task.as_ref())?;
                let until = until.as_deref().unwrap_or(M::UNTIL);
                let step = Duration::from_millis(step.unwrap_or(100));
                let limit = Duration::from_secs(limit.unwrap_or(M::LIMIT_SECONDS));
                let mut failed = None;
                let finished = scene.rt.block_on(scene.clock.run_until(step, limit, || {
                    runner
                        .holds(scene, until, n.unwrap_or(0))
                        .unwrap_or_else(|e| {
                            failed = Some(e.to_string());
                            true
                        })
                }));
                if let Some(error) = failed {
                    return Err(error.into());
                }
                print_new(scene, out)?;
                if !finished {
                    return Err(
                        format!("not {until} after {limit:?} of virtual time:\n{out}").into(),
                    );
                }
                let n = n.map(|n| format!(" {n}")).unwrap_or_default();
                match scene.loose {
                    true => writeln!(out, "{until}{n}")?,
                    false => writeln!(out, "+{} {until}{n}", scene.now())?,
                }
            }
            Shared::Settle => {
                scene.rt.block_on(ManualClock::settle());
                print_new(scene, out)?;
            }
            Shared::Stop => {
                let (stop, task) = scene.task.take().ok_or("no mapping to stop")?;
                stop.send(true)?;
                scene.rt.block_on(async {
                    ManualClock::settle().await;
                    task.await
                })?;
                writeln!(out, "+{} stopped", scene.now())?;
            }
        }
        Ok(())
    }
}

/// Prints the invocations the scene's function saw since the last print, unless it is quiet.
fn print_new(scene: &Scene, out: &mut String) -> std::fmt::Result {
    let mut function = scene.function.lock().unwrap();
    match scene.quiet {
        true => {
            function.printed = function.seen.len();
            Ok(())
        }
        false => function.print_new(out, !scene.loose),
    }
}

/// One scripted answer: `kind` with `items` (the failed items, by label), for the next batch
/// holding `on` if set.
#[derive(Debug, Clone)]
struct Answer {
    kind: String,
    items: Vec<String>,
    on: Option<String>,
}

/// One invocation the function saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// Virtual ms since T0.
    pub(crate) at: u64,
    /// Its items' labels (SQS bodies, Kinesis data), in event order.
    pub(crate) items: Vec<String>,
    /// What else the transcript shows of it (as ` (receive 2)`), or nothing.
    pub(crate) detail: String,
    /// The event as sent.
    pub(crate) payload: String,
    /// The scripted answer, as the script wrote it.
    answer: String,
}

/// The function a mapping invokes: what it was scripted to answer and what it saw. Shared
/// between the runner and the invoker.
#[derive(Default)]
pub(crate) struct Function {
    answers: VecDeque<Answer>,
    pub(crate) seen: Vec<Seen>,
    /// Invocations already printed.
    printed: usize,
}

impl Function {
    /// `answer KIND [ITEM…] [times=N] [on=LABEL]`: scripts the next answers.
    fn script(
        &mut self,
        kind: &str,
        items: &[String],
        times: Option<usize>,
        on: Option<&str>,
    ) -> Result<(), Box<dyn Error>> {
        testscript::outcome(kind, items)?;
        let answer = Answer {
            kind: kind.to_owned(),
            items: items.to_vec(),
            on: on.map(str::to_owned),
        };
        self.answers
            .extend(std::iter::repeat_n(answer, times.unwrap_or(1)));
        Ok(())
    }

    /// Records an invocation of items `labels` (ids `ids`) at `at` and answers it: the first
    /// answer scripted `on` one of the labels, else the first unconditional one, else success.
    /// A `fail` answer names items by label; the response names them by id.
    pub(crate) fn invoked(
        &mut self,
        at: u64,
        labels: Vec<String>,
        ids: &[String],
        detail: String,
        payload: String,
    ) -> Outcome {
        let next = self
            .answers
            .iter()
            .position(|a| a.on.as_ref().is_some_and(|on| labels.contains(on)))
            .or_else(|| self.answers.iter().position(|a| a.on.is_none()));
        let answer = next.and_then(|at| self.answers.remove(at));
        let (outcome, shown) = match answer {
            Some(answer) => {
                let failed: Vec<String> = (answer.items.iter())
                    .filter_map(|item| labels.iter().position(|l| l == item))
                    .map(|at| ids[at].clone())
                    .collect();
                let outcome = testscript::outcome(&answer.kind, &failed).expect("checked");
                let words = std::iter::once(&answer.kind).chain(&answer.items);
                (outcome, words.cloned().collect::<Vec<_>>().join(" "))
            }
            None => (Outcome::Success(Vec::new()), "ok".to_owned()),
        };
        self.seen.push(Seen {
            at,
            items: labels,
            detail,
            payload,
            answer: shown,
        });
        outcome
    }

    /// Prints the invocations not printed yet as `+MS invoke ITEMS DETAIL → ANSWER` (without
    /// `+MS` unless `timed`). Those started at the same instant print in text order: which task
    /// tokio runs first is not part of the semantics.
    fn print_new(&mut self, out: &mut String, timed: bool) -> std::fmt::Result {
        let mut lines: Vec<(u64, String)> = self.seen[self.printed..]
            .iter()
            .map(|s| {
                let items = show_items(&s.items);
                (s.at, format!("{items}{} → {}", s.detail, s.answer))
            })
            .collect();
        self.printed = self.seen.len();
        lines.sort();
        for (at, line) in lines {
            match timed {
                true => writeln!(out, "+{at} invoke {line}")?,
                false => writeln!(out, "invoke {line}")?,
            }
        }
        Ok(())
    }
}

/// `m0..m24` → m0, m1, … m24; any other word as it is.
pub(crate) fn expand(word: &str) -> Result<Vec<String>, Box<dyn Error>> {
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

/// Labels as `m0..m9` when they are one prefix with consecutive numbers, else listed.
pub(crate) fn show_items(labels: &[String]) -> String {
    let prefix: String = labels
        .first()
        .map(|b| b.chars().take_while(|c| !c.is_ascii_digit()).collect())
        .unwrap_or_default();
    let numbers: Option<Vec<u64>> = labels
        .iter()
        .map(|b| b.strip_prefix(&prefix).and_then(|n| n.parse().ok()))
        .collect();
    match numbers {
        Some(numbers) if labels.len() > 1 => testscript::show_range(&numbers, &prefix),
        _ => labels.join(","),
    }
}
