//! What both simulations share besides their source and mapping: the clock, the injected
//! faults, the function's timeout, the time limit and what was put; the builder methods on
//! them; the recording invoker around the handler; the run to the end; and the trace's common
//! part. `KinesisSimulation` and `SqsSimulation` each hold a [`Setup`] and add their source.

use super::*;

/// The part of a simulation that does not depend on its source.
pub(super) struct Setup {
    pub(super) clock: ManualClock,
    pub(super) faults: Faults,
    pub(super) timeout: Duration,
    pub(super) limit: Duration,
    /// Every record put (or message sent), in order.
    pub(super) put: Vec<TraceRecord>,
}

/// The invocations a simulation recorded, in completion order.
pub(super) type Log = Arc<Mutex<Vec<TraceInvocation>>>;

impl Setup {
    /// At [`SIMULATION_EPOCH_MS`], no faults, a 3 s function timeout, stopping after `limit`.
    pub(super) fn new(limit: Duration) -> Self {
        Self {
            clock: ManualClock::new(SIMULATION_EPOCH_MS),
            faults: Faults::new(),
            timeout: Duration::from_secs(3),
            limit,
            put: Vec::new(),
        }
    }

    /// The function's ARN for `function_name`.
    pub(super) fn function_arn(function_name: &str) -> String {
        format!("arn:aws:lambda:us-east-1:000000000000:function:{function_name}")
    }

    /// The invoker the mapping calls: the faults, then `handler`, recording every invocation
    /// with which records it succeeded for. A success succeeds for every record unless the
    /// mapping `reports` batch item failures, when `judge(body, records)` reads the response.
    pub(super) fn invoker(
        &self,
        handler: Invoker,
        reports: bool,
        judge: impl Fn(&[u8], &[TraceRecord]) -> Vec<bool> + Send + Sync + 'static,
    ) -> (Invoker, Log) {
        let judge: Arc<Judge> = Arc::new(move |outcome, records| match outcome {
            Outcome::Success(body) if reports => judge(body, records),
            Outcome::Success(_) => vec![true; records.len()],
            _ => vec![false; records.len()],
        });
        let log: Log = Arc::default();
        let invoker = recording(
            handler,
            self.faults.clone(),
            self.clock.clone(),
            self.timeout,
            Arc::clone(&log),
            judge,
        );
        (invoker, log)
    }

    /// Runs a mapping (`run`, given its stop switch) on a task while driving the clock until
    /// `done` or the time limit, then stops it; true if `done` held.
    ///
    /// The simulation runs on a runtime of its own (current-thread, tokio's time paused) on a
    /// blocking thread, so [`ManualClock::settle`] is exact whatever runtime the caller's test
    /// uses.
    pub(super) async fn run_to_end<F>(
        &self,
        run: impl FnOnce(watch::Receiver<bool>) -> F + Send + 'static,
        done: impl Fn() -> bool + Send + 'static,
    ) -> bool
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (clock, limit) = (self.clock.clone(), self.limit);
        let simulation = tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a current-thread runtime for the simulation");
            runtime.block_on(async move {
                let (stop, stopped) = watch::channel(false);
                let task = tokio::spawn(run(stopped));
                let finished = drive(&clock, limit, done).await;
                let _ = stop.send(true);
                ManualClock::settle().await;
                task.abort();
                let _ = task.await;
                finished
            })
        });
        match simulation.await {
            Ok(finished) => finished,
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    }

    /// The trace's common part (the source's parts empty), once the run ended.
    pub(super) fn trace(self, log: &Log, finished: bool) -> Trace {
        Trace {
            invocations: log.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            elapsed: Duration::from_millis(self.clock.now_millis() - SIMULATION_EPOCH_MS),
            put: self.put,
            finished,
            ..Trace::default()
        }
    }
}

/// Drives `clock` from one scheduled wake-up to the next until `done` or `limit`.
async fn drive(clock: &ManualClock, limit: Duration, done: impl Fn() -> bool) -> bool {
    let end = SIMULATION_EPOCH_MS + limit.as_millis() as Millis;
    loop {
        ManualClock::settle().await;
        if done() {
            return true;
        }
        match clock.next_deadline() {
            Some(next) if next <= end => clock.set(next.max(clock.now_millis())),
            _ => return false,
        }
    }
}

pub(super) type Invoker = BoxCloneSyncService<InvokeRequest, Outcome, Infallible>;
type Judge = dyn Fn(&Outcome, &[TraceRecord]) -> Vec<bool> + Send + Sync;

/// Wraps the handler's invoker: applies faults and records every invocation.
fn recording(
    inner: Invoker,
    faults: Faults,
    clock: ManualClock,
    timeout: Duration,
    log: Arc<Mutex<Vec<TraceInvocation>>>,
    judge: Arc<Judge>,
) -> Invoker {
    let counter = Arc::new(AtomicUsize::new(0));
    BoxCloneSyncService::new(tower::service_fn(move |request: InvokeRequest| {
        let (inner, faults, clock, log, judge, counter) = (
            inner.clone(),
            faults.clone(),
            clock.clone(),
            Arc::clone(&log),
            Arc::clone(&judge),
            Arc::clone(&counter),
        );
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let at_ms = clock.now_millis() - SIMULATION_EPOCH_MS;
            let records = records_of(&request.payload);
            let fault = faults.fault_for(n, &records);
            let (request_id, payload) = (request.request_id.clone(), request.payload.clone());
            let outcome = match &fault {
                Some(Fault::Error(error_type)) => {
                    Outcome::function_error(error_type.clone(), "injected by the simulation")
                }
                Some(Fault::Timeout) => {
                    clock
                        .sleep_until(clock.now_millis() + timeout.as_millis() as Millis)
                        .await;
                    Outcome::function_error(
                        "Sandbox.Timedout",
                        format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
                    )
                }
                Some(Fault::Throttle) => Outcome::Throttled,
                Some(Fault::Respond(body)) => Outcome::Success(body.clone().into_bytes()),
                Some(Fault::Delay(ms)) => {
                    clock.sleep_until(clock.now_millis() + *ms).await;
                    inner
                        .oneshot(request)
                        .await
                        .unwrap_or_else(|never| match never {})
                }
                None => inner
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {}),
            };
            let succeeded = judge(&outcome, &records);
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(TraceInvocation {
                    at_ms,
                    request_id,
                    records,
                    outcome: outcome.clone(),
                    fault,
                    payload,
                    succeeded,
                });
            Ok::<_, Infallible>(outcome)
        }
    }))
}

/// The builder methods both simulations have, on their `setup`.
macro_rules! setup_builders {
    () => {
        /// Injects `faults`.
        pub fn faults(mut self, faults: Faults) -> Self {
            self.setup.faults = faults;
            self
        }

        /// The function's Timeout (default 3 s; an SQS queue's visibility timeout must not be
        /// shorter).
        pub fn function_timeout(mut self, timeout: Duration) -> Self {
            self.setup.timeout = timeout;
            self
        }

        /// Stops the simulation after this much virtual time (default 7 days for Kinesis, 24 h
        /// for SQS).
        pub fn time_limit(mut self, limit: Duration) -> Self {
            self.setup.limit = limit;
            self
        }

        /// Moves virtual time forward before the next puts or sends (so they arrive later).
        pub fn advance(&mut self, by: Duration) {
            self.setup.clock.advance(by);
        }
    };
}

pub(super) use setup_builders;
