//! One local function: its Runtime API host, its pool of execution environments (child
//! processes of the real `bootstrap`), and the invoker the engine calls.
//!
//! Invariants:
//! - an environment runs one invocation at a time and is reused warm after a clean finish;
//! - an environment that timed out, crashed or failed to start is killed and never reused
//!   (the next invocation gets a fresh one, as on Lambda);
//! - after [`LocalFunction::replace_binary`], no invocation starts on the old binary: idle
//!   old environments are stopped, busy ones finish their invocation and are then retired;
//! - at most `reserved_concurrency` (or the account default of 1 000) environments exist; an
//!   invocation beyond that is a throttle, never queued and never a function error;
//! - every invocation ends with exactly one [`Outcome`].

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use riffle_core::fault::{Fault, FaultSet};
use riffle_core::invocation::MAX_PAYLOAD_BYTES;
use riffle_core::invocation::Outcome;
use riffle_core::time::Millis;
use riffle_runtime::InvokeRequest;
use tokio::sync::{mpsc, oneshot, watch};

use crate::histogram::DurationHistogram;
use crate::logs::{LogLine, LogSource, Logs};

mod reload;
mod spawn;

/// Environments allowed without reserved concurrency: the default account concurrency.
pub const ACCOUNT_CONCURRENCY: usize = 1000;
/// How long an environment may take to initialise (reach its first `/next`), as on Lambda.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest an invocation waits for its log lines to be read from the pipes before it ends.
const LOG_CATCH_UP: Duration = Duration::from_millis(200);

/// What Riffle needs to run a function.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// FunctionName.
    pub name: String,
    /// The `bootstrap` executable.
    pub binary: PathBuf,
    /// Handler (`_HANDLER`); `bootstrap` for `provided` runtimes.
    pub handler: String,
    /// Timeout.
    pub timeout: Duration,
    /// MemorySize, MB.
    pub memory_mb: u32,
    /// The function's own Environment variables.
    pub environment: Vec<(String, String)>,
    /// ReservedConcurrentExecutions.
    pub reserved_concurrency: Option<usize>,
    /// Region.
    pub region: String,
    /// Account id, for the ARN.
    pub account_id: String,
    /// `AWS_ENDPOINT_URL` for the function's own SDK calls (the local emulator).
    pub endpoint_url: Option<String>,
    /// Injected faults (`riffle fault`): checked once per invocation, before an environment is
    /// taken, whoever invokes (a mapping or the Invoke API). Rules name the function by `name`.
    pub faults: FaultSet,
}

impl FunctionConfig {
    /// A function named `name` running `binary` with Lambda's defaults (3 s, 128 MB).
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            binary: binary.into(),
            handler: "bootstrap".into(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            environment: Vec::new(),
            reserved_concurrency: None,
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            endpoint_url: None,
            faults: FaultSet::default(),
        }
    }

    /// The function's ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }
}

/// Counters of one function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionStats {
    /// Invocations started.
    pub invocations: u64,
    /// Invocations that ended in a function error.
    pub errors: u64,
    /// Invocations refused for lack of concurrency.
    pub throttles: u64,
    /// Environments started.
    pub environments_started: u64,
    /// Time from starting each environment's process to its first `/next`, in start order.
    pub cold_starts: Vec<Duration>,
    /// Environments alive now.
    pub environments: usize,
    /// Invocations under way now (Lambda's `ConcurrentExecutions`), counting those waiting for
    /// their environment's init.
    pub concurrent_executions: usize,
    /// How long the function ran, for every invocation that it answered, failed or timed out
    /// (Lambda's `Duration`).
    pub duration: DurationHistogram,
}

/// An invocation handed to an environment's `/next`.
pub(crate) struct Dispatch {
    pub(crate) request_id: String,
    pub(crate) payload: bytes::Bytes,
    pub(crate) deadline_ms: Millis,
    pub(crate) function_arn: String,
    pub(crate) trace_id: String,
}

struct Pending {
    request_id: String,
    payload: bytes::Bytes,
    function_arn: String,
    trace_id: String,
    picked: oneshot::Sender<Millis>,
}

/// Why an environment did not take an invocation.
struct Ended {
    /// The function never saw the event.
    unseen: bool,
    error_type: String,
    message: String,
}

/// Warm environments that may end under one invocation before it is failed: each is replaced
/// by a fresh one, which is how Lambda treats a sandbox whose runtime exited between
/// invocations.
const MAX_REPLACED: usize = 3;

/// How an invocation finished, as the runtime reported it.
pub(crate) enum Completion {
    Response(Vec<u8>),
    Error { error_type: String, body: Vec<u8> },
}

struct Environment {
    id: u64,
    /// The [`Pool::generation`] of the binary it runs.
    generation: u64,
    inbox: mpsc::Sender<Pending>,
    outbox: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    current: Arc<Mutex<Option<String>>>,
    exited: watch::Receiver<Option<String>>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    init_error: Mutex<Option<(String, Vec<u8>)>>,
    ready: AtomicBool,
    started: Instant,
    init_duration: Mutex<Option<Duration>>,
    /// One per pipe reader: ask it to read what is already in its pipe, and wait for its ack.
    catch_up: Mutex<Vec<mpsc::UnboundedSender<oneshot::Sender<()>>>>,
}

impl Environment {
    fn has_exited(&self) -> bool {
        self.exited.borrow().is_some()
    }

    fn kill(&self) {
        if let Some(kill) = lock(&self.kill).take() {
            let _ = kill.send(());
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn epoch_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

struct Pool {
    environments: HashMap<u64, Arc<Environment>>,
    idle: Vec<u64>,
    next_id: u64,
    /// The binary new environments start from, and its generation (one more per
    /// [`LocalFunction::replace_binary`]): only environments of this generation are reused.
    binary: PathBuf,
    generation: u64,
}

/// State shared by the invoker and the Runtime API handlers.
pub(crate) struct Shared {
    config: FunctionConfig,
    arn: String,
    runtime_api: Mutex<Option<SocketAddr>>,
    pool: Mutex<Pool>,
    in_flight: Mutex<HashMap<String, (u64, oneshot::Sender<Completion>)>>,
    logs: Logs,
    stats: Mutex<FunctionStats>,
    sequence: AtomicU64,
}

impl Shared {
    fn environment(&self, id: u64) -> Option<Arc<Environment>> {
        lock(&self.pool).environments.get(&id).cloned()
    }

    fn platform_log(&self, environment: u64, request_id: Option<&str>, line: String) {
        self.logs.push(LogLine {
            at: epoch_ms(),
            function: self.config.name.clone(),
            environment,
            request_id: request_id.map(str::to_owned),
            source: LogSource::Platform,
            line,
        });
    }

    /// Waits for the next invocation of environment `id` (its `/next`).
    pub(crate) async fn next_for(&self, id: u64) -> Option<Dispatch> {
        let environment = self.environment(id)?;
        if !environment.ready.swap(true, Ordering::SeqCst) {
            let init = environment.started.elapsed();
            *lock(&environment.init_duration) = Some(init);
            lock(&self.stats).cold_starts.push(init);
        }
        let pending = {
            let mut outbox = environment.outbox.lock().await;
            outbox.recv().await?
        };
        let deadline_ms = epoch_ms() + self.config.timeout.as_millis() as Millis;
        *lock(&environment.current) = Some(pending.request_id.clone());
        self.platform_log(
            id,
            Some(&pending.request_id),
            format!("START RequestId: {} Version: $LATEST", pending.request_id),
        );
        let _ = pending.picked.send(deadline_ms);
        Some(Dispatch {
            request_id: pending.request_id,
            payload: pending.payload,
            deadline_ms,
            function_arn: pending.function_arn,
            trace_id: pending.trace_id,
        })
    }

    /// Completes invocation `request_id` if environment `env` is running it.
    pub(crate) fn complete(&self, env: u64, request_id: &str, completion: Completion) -> bool {
        let mut in_flight = lock(&self.in_flight);
        match in_flight.get(request_id) {
            Some((owner, _)) if *owner == env => {
                let (_, done) = in_flight.remove(request_id).expect("present");
                done.send(completion).is_ok()
            }
            _ => false,
        }
    }

    /// Environment `env` reported an init error (`/init/error`).
    pub(crate) fn init_failed(&self, env: u64, error_type: String, body: Vec<u8>) {
        if let Some(environment) = self.environment(env) {
            self.platform_log(
                env,
                None,
                format!(
                    "INIT_REPORT Status: error Error Type: {error_type} {}",
                    String::from_utf8_lossy(&body)
                ),
            );
            *lock(&environment.init_error) = Some((error_type, body));
        }
    }

    fn remove(&self, environment: &Environment) {
        environment.kill();
        let mut pool = lock(&self.pool);
        pool.environments.remove(&environment.id);
        pool.idle.retain(|id| *id != environment.id);
        lock(&self.stats).environments = pool.environments.len();
    }

    /// Waits (briefly, bounded) until the environment's pipe readers have read what the
    /// function wrote before it answered, so those lines carry this request's id, not the next
    /// one's (or none): the function writes them before it posts its answer, so by the time the
    /// answer arrives they are in the pipes, ready to read.
    async fn logs_caught_up(&self, environment: &Environment) {
        let acks: Vec<oneshot::Receiver<()>> = lock(&environment.catch_up)
            .iter()
            .filter_map(|reader| {
                let (ack, acked) = oneshot::channel();
                reader.send(ack).ok().map(|()| acked)
            })
            .collect();
        let _ = tokio::time::timeout(LOG_CATCH_UP, async {
            for acked in acks {
                let _ = acked.await;
            }
        })
        .await;
    }

    fn release(&self, environment: &Arc<Environment>) {
        *lock(&environment.current) = None;
        let mut pool = lock(&self.pool);
        if environment.has_exited() || pool.generation != environment.generation {
            drop(pool);
            self.remove(environment);
        } else {
            pool.idle.push(environment.id);
        }
    }

    /// An idle environment, or a new one within the concurrency limit; `Err` is the outcome
    /// to report instead (a throttle, or a function that cannot start).
    fn acquire(self: &Arc<Self>) -> Result<Arc<Environment>, Outcome> {
        let mut pool = lock(&self.pool);
        while let Some(id) = pool.idle.pop() {
            match pool.environments.get(&id) {
                Some(env) if !env.has_exited() && env.generation == pool.generation => {
                    return Ok(Arc::clone(env));
                }
                Some(env) => {
                    env.kill();
                    pool.environments.remove(&id);
                }
                None => {}
            }
        }
        let limit = self
            .config
            .reserved_concurrency
            .unwrap_or(ACCOUNT_CONCURRENCY);
        if pool.environments.len() >= limit {
            return Err(Outcome::Throttled);
        }
        let id = pool.next_id;
        pool.next_id += 1;
        let environment = self
            .spawn(id, &pool.binary, pool.generation)
            .map_err(|error| {
                self.platform_log(
                    id,
                    None,
                    format!("failed to start {}: {error}", pool.binary.display()),
                );
                Outcome::function_error("Runtime.InvalidEntrypoint", error.to_string())
            })?;
        pool.environments.insert(id, Arc::clone(&environment));
        let mut stats = lock(&self.stats);
        stats.environments_started += 1;
        stats.environments = pool.environments.len();
        Ok(environment)
    }

    fn trace_id(&self, n: u64) -> String {
        format!(
            "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
            epoch_ms() / 1000,
            n,
            n
        )
    }

    fn fail(
        &self,
        environment: &Environment,
        request_id: &str,
        error_type: &str,
        message: &str,
    ) -> Outcome {
        lock(&self.in_flight).remove(request_id);
        self.remove(environment);
        self.platform_log(
            environment.id,
            Some(request_id),
            format!("RequestId: {request_id} Error: {message}"),
        );
        lock(&self.stats).errors += 1;
        Outcome::function_error(error_type, message)
    }

    /// Hands `pending` to `environment` and waits until its runtime takes it from `/next`; or
    /// says how the environment ended first.
    async fn hand_over(
        &self,
        environment: &Environment,
        pending: Pending,
        picked: oneshot::Receiver<Millis>,
        cold: bool,
    ) -> Result<(), Ended> {
        let gone = |unseen| Ended {
            unseen,
            error_type: "Runtime.ExitError".to_owned(),
            message: "the environment is gone".to_owned(),
        };
        if environment.inbox.send(pending).await.is_err() {
            return Err(gone(true));
        }
        let mut exited = environment.exited.clone();
        let init_limit = environment.started + INIT_TIMEOUT;
        let mut picked = picked;
        tokio::select! {
            // Taken first: a runtime that took the event and died at once has seen it, and
            // must not be given it again.
            biased;
            taken = &mut picked => taken.map(|_| ()).map_err(|_| gone(true)),
            _ = exited.wait_for(Option::is_some) => {
                if picked.try_recv().is_ok() {
                    return Ok(());
                }
                let status = environment.exited.borrow().clone().unwrap_or_default();
                Err(match lock(&environment.init_error).take() {
                    Some((error_type, body)) => Ended {
                        unseen: true,
                        error_type,
                        message: format!("init failed: {}", String::from_utf8_lossy(&body)),
                    },
                    None => Ended {
                        unseen: true,
                        error_type: "Runtime.ExitError".to_owned(),
                        message: format!("Runtime exited with error: {status}"),
                    },
                })
            }
            () = tokio::time::sleep_until(init_limit.into()), if cold => Err(Ended {
                unseen: true,
                error_type: "Sandbox.Timedout".to_owned(),
                message: format!("init did not finish within {} s", INIT_TIMEOUT.as_secs()),
            }),
        }
    }

    /// The outcome of an invocation a fault rule took over (the function never sees it), counted
    /// and logged as Lambda would count and log that outcome.
    async fn injected(&self, request_id: &str, rule: u64, fault: Fault) -> Outcome {
        let log = |line: String| self.platform_log(0, Some(request_id), line);
        match fault {
            Fault::Throttle => {
                lock(&self.stats).throttles += 1;
                log(format!(
                    "RequestId: {request_id} throttled (injected by riffle fault {rule})"
                ));
                Outcome::Throttled
            }
            Fault::Timeout => {
                lock(&self.stats).invocations += 1;
                tokio::time::sleep(self.config.timeout).await;
                lock(&self.stats).errors += 1;
                lock(&self.stats).duration.observe(self.config.timeout);
                let message = format!(
                    "Task timed out after {:.2} seconds (injected by riffle fault {rule})",
                    self.config.timeout.as_secs_f64()
                );
                log(format!("RequestId: {request_id} Error: {message}"));
                Outcome::function_error("Sandbox.Timedout", message)
            }
            Fault::Error(error_type) => {
                lock(&self.stats).invocations += 1;
                lock(&self.stats).errors += 1;
                let message = format!("injected by riffle fault {rule}");
                log(format!(
                    "RequestId: {request_id} Error: {error_type}: {message}"
                ));
                Outcome::function_error(error_type, message)
            }
            Fault::Respond(body) => {
                lock(&self.stats).invocations += 1;
                Outcome::Success(body.into_bytes())
            }
            Fault::Delay(_) => unreachable!("a delay runs the invocation"),
        }
    }

    /// Runs one invocation to its outcome.
    async fn invoke(self: Arc<Self>, request: InvokeRequest) -> Outcome {
        if request.payload.len() > MAX_PAYLOAD_BYTES {
            return Outcome::ServiceError(format!(
                "RequestTooLargeException: Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
            ));
        }
        if !self.config.faults.is_empty()
            && let Some(injection) = self.config.faults.decide(
                &self.config.name,
                &request.request_id,
                &request.payload,
                epoch_ms(),
            )
        {
            match injection.fault {
                Fault::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                fault => {
                    return self
                        .injected(&request.request_id, injection.rule, fault)
                        .await;
                }
            }
        }
        let request_id = request.request_id.clone();
        let payload = bytes::Bytes::from(request.payload);
        // Phase 1: an environment takes the invocation from `/next` (after its init, if cold).
        // A warm environment that ends before it takes it (its runtime exited after its last
        // answer, as `lambda_runtime` does when the Runtime API refuses a response) never saw
        // the event: as on Lambda, the invocation goes to another environment.
        let mut replaced = 0;
        let (environment, done_rx, cold) = loop {
            let environment = match self.acquire() {
                Ok(environment) => environment,
                Err(outcome) => {
                    if outcome == Outcome::Throttled {
                        lock(&self.stats).throttles += 1;
                    }
                    return outcome;
                }
            };
            if replaced == 0 {
                lock(&self.stats).invocations += 1;
            }
            let (done_tx, done_rx) = oneshot::channel();
            lock(&self.in_flight).insert(request_id.clone(), (environment.id, done_tx));
            let (picked_tx, picked_rx) = oneshot::channel();
            let n = self.sequence.fetch_add(1, Ordering::Relaxed);
            let pending = Pending {
                request_id: request_id.clone(),
                payload: payload.clone(),
                function_arn: self.arn.clone(),
                trace_id: self.trace_id(n),
                picked: picked_tx,
            };
            let cold = !environment.ready.load(Ordering::SeqCst);
            let ended = match self.hand_over(&environment, pending, picked_rx, cold).await {
                Ok(()) => break (environment, done_rx, cold),
                Err(ended) => ended,
            };
            if ended.unseen && !cold && replaced < MAX_REPLACED {
                replaced += 1;
                lock(&self.in_flight).remove(&request_id);
                self.remove(&environment);
                self.platform_log(
                    environment.id,
                    Some(&request_id),
                    format!(
                        "environment {} ended before it took the invocation; trying another",
                        environment.id
                    ),
                );
                continue;
            }
            return self.fail(&environment, &request_id, &ended.error_type, &ended.message);
        };
        let started = Instant::now();
        // Phase 2: the function runs until it answers, exits, or times out.
        let mut exited = environment.exited.clone();
        let outcome = tokio::select! {
            done = done_rx => match done {
                Ok(Completion::Response(body)) => Outcome::Success(body),
                Ok(Completion::Error { error_type, body }) => {
                    self.platform_log(environment.id, Some(&request_id), format!("RequestId: {request_id} Error: {}", String::from_utf8_lossy(&body)));
                    lock(&self.stats).errors += 1;
                    let message = riffle_core::invocation::error_document(&body)
                        .map_or_else(|| String::from_utf8_lossy(&body).into_owned(), |(_, message)| message);
                    Outcome::function_error(error_type, message)
                }
                Err(_) => return self.fail(&environment, &request_id, "Runtime.ExitError", "the environment is gone"),
            },
            _ = exited.wait_for(Option::is_some) => {
                lock(&self.stats).duration.observe(started.elapsed());
                let status = environment.exited.borrow().clone().unwrap_or_default();
                return self.fail(&environment, &request_id, "Runtime.ExitError", &format!("Runtime exited with error: {status}"));
            }
            () = tokio::time::sleep(self.config.timeout) => {
                lock(&self.stats).duration.observe(started.elapsed());
                let message = format!("Task timed out after {:.2} seconds", self.config.timeout.as_secs_f64());
                return self.fail(&environment, &request_id, "Sandbox.Timedout", &message);
            }
        };
        let duration = started.elapsed();
        lock(&self.stats).duration.observe(duration);
        self.logs_caught_up(&environment).await;
        let init = if cold {
            *lock(&environment.init_duration)
        } else {
            None
        };
        self.platform_log(
            environment.id,
            Some(&request_id),
            format!("END RequestId: {request_id}"),
        );
        let millis = duration.as_secs_f64() * 1000.0;
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {millis:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB",
            millis.ceil() as u64,
            self.config.memory_mb
        );
        if let Some(init) = init {
            report.push_str(&format!(
                "\tInit Duration: {:.2} ms",
                init.as_secs_f64() * 1000.0
            ));
        }
        self.platform_log(environment.id, Some(&request_id), report);
        self.release(&environment);
        outcome
    }
}

/// A function run locally from its binary; cheap to clone (clones share the environments).
/// As a `tower::Service<InvokeRequest>` it is the mapping's invoker.
#[derive(Clone)]
pub struct LocalFunction {
    shared: Arc<Shared>,
    server: Arc<ServerHandle>,
}

struct ServerHandle {
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for LocalFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFunction")
            .field("name", &self.shared.config.name)
            .field("runtime_api", &self.runtime_api())
            .finish_non_exhaustive()
    }
}

impl LocalFunction {
    /// Serves the Runtime API for `config` on a free loopback port. Environments start on the
    /// first invocations.
    pub async fn start(mut config: FunctionConfig) -> std::io::Result<Self> {
        // Environments run in the binary's directory (LAMBDA_TASK_ROOT), so a relative path
        // must be made absolute first; a missing binary fails its invocations, not the start.
        if let Ok(absolute) = std::fs::canonicalize(&config.binary) {
            config.binary = absolute;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let binary = config.binary.clone();
        let shared = Arc::new(Shared {
            arn: config.arn(),
            config,
            runtime_api: Mutex::new(Some(address)),
            pool: Mutex::new(Pool {
                environments: HashMap::new(),
                idle: Vec::new(),
                next_id: 0,
                binary,
                generation: 0,
            }),
            in_flight: Mutex::default(),
            logs: Logs::default(),
            stats: Mutex::default(),
            sequence: AtomicU64::new(0),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = crate::api::router(Arc::clone(&shared));
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "the Runtime API server stopped");
            }
        });
        Ok(Self {
            shared,
            server: Arc::new(ServerHandle {
                stop: Mutex::new(Some(stop)),
            }),
        })
    }

    /// Where the Runtime API listens.
    pub fn runtime_api(&self) -> SocketAddr {
        lock(&self.shared.runtime_api).expect("bound at start")
    }

    /// The function's configuration (`binary` is the one it started with; see
    /// [`LocalFunction::binary`]).
    pub fn config(&self) -> &FunctionConfig {
        &self.shared.config
    }

    /// Its logs.
    pub fn logs(&self) -> &Logs {
        &self.shared.logs
    }

    /// Its counters.
    pub fn stats(&self) -> FunctionStats {
        let concurrent_executions = lock(&self.shared.in_flight).len();
        FunctionStats {
            concurrent_executions,
            ..lock(&self.shared.stats).clone()
        }
    }

    /// Invokes the function with `request` and waits for the outcome.
    pub async fn invoke(&self, request: InvokeRequest) -> Outcome {
        Arc::clone(&self.shared).invoke(request).await
    }

    /// Stops every environment and the Runtime API server.
    pub async fn shutdown(&self) {
        let environments: Vec<Arc<Environment>> = {
            let mut pool = lock(&self.shared.pool);
            pool.idle.clear();
            pool.environments.drain().map(|(_, e)| e).collect()
        };
        for environment in &environments {
            environment.kill();
        }
        for environment in environments {
            let mut exited = environment.exited.clone();
            let _ = exited.wait_for(Option::is_some).await;
        }
        lock(&self.shared.stats).environments = 0;
        if let Some(stop) = lock(&self.server.stop).take() {
            let _ = stop.send(());
        }
    }
}

impl tower::Service<InvokeRequest> for LocalFunction {
    type Response = Outcome;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InvokeRequest) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move { Ok(shared.invoke(request).await) })
    }
}
