//! The Runtime API host driving a real `lambda_runtime` binary (`lambda-probe`): success,
//! returned errors, panics, exits, timeouts, init failures, concurrency, oversized responses,
//! the environment a function sees, and its logs.

use std::time::Duration;

use riffle_core::invocation::Outcome;
use riffle_lambda::{FunctionConfig, LocalFunction, LogSource};
use riffle_runtime::InvokeRequest;
use serde_json::{Value, json};

fn probe(name: &str) -> FunctionConfig {
    let mut config = FunctionConfig::new(name, env!("CARGO_BIN_EXE_lambda-probe"));
    config.timeout = Duration::from_secs(2);
    config
}

/// Invocation `n` of `function` with `event`.
async fn call(function: &LocalFunction, n: u32, event: Value) -> Outcome {
    function.invoke(request(n, event)).await
}

/// The probe started as function `name`.
async fn started(name: &str) -> LocalFunction {
    LocalFunction::start(probe(name)).await.unwrap()
}

fn request(n: u32, event: Value) -> InvokeRequest {
    InvokeRequest {
        function_arn: String::new(),
        request_id: format!("00000000-0000-4000-8000-{n:012}"),
        payload: event.to_string(),
        deadline_ms: 0,
    }
}

fn body(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Success(body) => serde_json::from_slice(body).expect("JSON response"),
        other => panic!("expected success, got {other:?}"),
    }
}

fn error_type(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::FunctionError { error_type, .. } => error_type,
        other => panic!("expected a function error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_relative_binary_path_works_and_a_missing_binary_is_an_invalid_entrypoint() {
    let absolute = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lambda-probe"));
    let cwd = std::env::current_dir().unwrap();
    let relative = absolute
        .strip_prefix(&cwd)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|_| {
            // Walk up from the working directory to the binary.
            let depth = cwd.components().count() - 1;
            let mut path = std::path::PathBuf::new();
            for _ in 0..depth {
                path.push("..");
            }
            path.join(absolute.strip_prefix("/").unwrap())
        });
    assert!(relative.is_relative());
    let function = LocalFunction::start(FunctionConfig::new("relative", &relative))
        .await
        .unwrap();
    body(&function.invoke(request(1, json!({"action": "noop"}))).await);
    function.shutdown().await;
    let missing = LocalFunction::start(FunctionConfig::new("missing", "/nonexistent/bootstrap"))
        .await
        .unwrap();
    let outcome = missing.invoke(request(2, json!({}))).await;
    assert_eq!(error_type(&outcome), "Runtime.InvalidEntrypoint");
    missing.shutdown().await;
}

#[tokio::test]
async fn a_warm_environment_answers_successive_invocations() {
    let function = started("echo").await;
    let first = call(&function, 1, json!({"action": "echo", "n": 1})).await;
    let second = call(&function, 2, json!({"action": "echo", "n": 2})).await;
    assert_eq!(body(&first)["echo"]["n"], 1);
    assert_eq!(body(&second)["echo"]["n"], 2);
    assert_eq!(
        body(&first)["pid"],
        body(&second)["pid"],
        "the same process, reused warm"
    );
    let stats = function.stats();
    assert_eq!(stats.environments_started, 1);
    assert_eq!(stats.cold_starts.len(), 1, "one cold start, measured");
    assert!(stats.cold_starts[0] > Duration::ZERO);
    assert_eq!(stats.invocations, 2);
    assert_eq!(stats.duration.count, 2, "both durations counted");
    assert!(stats.duration.sum_ms > 0.0);
    assert_eq!(
        stats.concurrent_executions, 0,
        "nothing runs once both answered"
    );
    function.shutdown().await;
}

/// The process group of process `pid` (field 5 of `/proc/{pid}/stat`).
#[cfg(target_os = "linux")]
fn process_group(pid: &str) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(2).unwrap().to_owned()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_environment_runs_in_its_own_process_group_so_ctrl_c_does_not_reach_it() {
    let function = started("group").await;
    let answer = function.invoke(request(1, json!({"action": "echo"}))).await;
    let pid = body(&answer)["pid"].to_string();
    assert_eq!(
        process_group(&pid),
        pid,
        "the environment leads a group of its own"
    );
    assert_ne!(process_group("self"), pid);
    function.shutdown().await;
}

#[tokio::test]
async fn the_function_sees_lambdas_environment_and_invocation_headers() {
    let mut config = probe("env-probe");
    config.memory_mb = 512;
    config.endpoint_url = Some("http://127.0.0.1:4566".into());
    config.environment = vec![
        ("TABLE".into(), "orders".into()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), "cannot-override".into()),
    ];
    let function = LocalFunction::start(config).await.unwrap();
    let names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_REGION",
        "_HANDLER",
        "LAMBDA_TASK_ROOT",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "TABLE",
        "HOME",
    ];
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let outcome = call(&function, 7, json!({"action": "env", "names": names})).await;
    let seen = body(&outcome);
    let env = &seen["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env-probe");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/env-probe");
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("/[$LATEST]")
    );
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert!(!env["LAMBDA_TASK_ROOT"].as_str().unwrap().is_empty());
    assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
    assert!(env["AWS_ACCESS_KEY_ID"].is_string());
    assert_eq!(env["TABLE"], "orders", "the function's own variables");
    assert!(
        env["HOME"].is_null(),
        "nothing leaks from the host environment"
    );
    assert_eq!(seen["request_id"], "00000000-0000-4000-8000-000000000007");
    assert_eq!(
        seen["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:env-probe"
    );
    assert!(seen["trace_id"].as_str().unwrap().starts_with("Root=1-"));
    let deadline = seen["deadline"].as_u64().unwrap();
    assert!(
        deadline >= before + 2_000 && deadline <= before + 5_000,
        "deadline = now + timeout"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn returned_errors_and_panics_are_function_errors_and_keep_the_environment() {
    let function = started("errors").await;
    let failed = call(&function, 1, json!({"action": "error"})).await;
    assert_eq!(error_type(&failed), "OrderRejected");
    let panicked = call(&function, 2, json!({"action": "panic"})).await;
    assert!(!error_type(&panicked).is_empty());
    let after = function.invoke(request(3, json!({"action": "echo"}))).await;
    body(&after);
    assert_eq!(
        function.stats().environments_started,
        1,
        "lambda_runtime reports both; the process stays"
    );
    assert_eq!(function.stats().errors, 2);
    function.shutdown().await;
}

#[tokio::test]
async fn an_exit_mid_invocation_is_runtime_exit_error_and_the_environment_is_replaced() {
    let function = started("exits").await;
    let first = function.invoke(request(1, json!({"action": "echo"}))).await;
    let exited = function.invoke(request(2, json!({"action": "exit"}))).await;
    assert_eq!(error_type(&exited), "Runtime.ExitError");
    let next = function.invoke(request(3, json!({"action": "echo"}))).await;
    assert_ne!(
        body(&first)["pid"],
        body(&next)["pid"],
        "a fresh environment"
    );
    assert_eq!(function.stats().environments_started, 2);
    function.shutdown().await;
}

#[tokio::test]
async fn a_timeout_is_sandbox_timedout_and_the_environment_is_killed() {
    let mut config = probe("slow");
    config.timeout = Duration::from_millis(500);
    let function = LocalFunction::start(config).await.unwrap();
    let warm = function.invoke(request(1, json!({"action": "echo"}))).await;
    let started = std::time::Instant::now();
    let timed_out = call(&function, 2, json!({"action": "sleep", "ms": 30_000})).await;
    assert_eq!(error_type(&timed_out), "Sandbox.Timedout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the invoker does not wait for the sleep"
    );
    let stats = function.stats();
    assert_eq!(
        stats.duration.count, 2,
        "the timed-out invocation has a duration too"
    );
    assert!(stats.duration.sum_ms >= 500.0, "{:?}", stats.duration);
    let next = function.invoke(request(3, json!({"action": "echo"}))).await;
    assert_ne!(
        body(&warm)["pid"],
        body(&next)["pid"],
        "the timed-out environment was replaced"
    );
    let logs = function
        .logs()
        .for_request("00000000-0000-4000-8000-000000000002");
    assert!(
        logs.iter()
            .any(|l| l.line.contains("Task timed out after 0.50 seconds")),
        "{logs:?}"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn an_init_failure_fails_the_invocation_and_the_next_one_tries_a_fresh_environment() {
    let mut config = probe("broken-init");
    config.environment = vec![("PROBE_INIT".into(), "exit".into())];
    let function = LocalFunction::start(config).await.unwrap();
    for n in 1..=2 {
        let outcome = function.invoke(request(n, json!({"action": "echo"}))).await;
        assert_eq!(error_type(&outcome), "Runtime.ExitError");
    }
    let stats = function.stats();
    assert_eq!(
        stats.environments_started, 2,
        "init is retried with a new environment"
    );
    assert!(
        stats.cold_starts.is_empty(),
        "no environment ever reached /next"
    );
    assert!(
        function
            .logs()
            .lines()
            .iter()
            .any(|l| l.source == LogSource::Stderr && l.line.contains("failing its initialisation")),
        "the init's output is captured"
    );
    function.shutdown().await;
}

#[tokio::test]
async fn concurrent_invocations_get_their_own_environments_and_reuse_them() {
    let function = started("parallel").await;
    let round = |base: u32| {
        let calls = (0..4)
            .map(|i| {
                let function = function.clone();
                async move {
                    function
                        .invoke(request(base + i, json!({"action": "sleep", "ms": 300})))
                        .await
                }
            })
            .collect();
        futures_join(calls)
    };
    // While the four sleep, all four are under way (ConcurrentExecutions): watched, bounded,
    // until the round is done; each invocation is in flight from its start to its answer.
    let first = tokio::spawn(round(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut most = 0;
    while !first.is_finished() && std::time::Instant::now() < deadline {
        most = most.max(function.stats().concurrent_executions);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = first.await.unwrap();
    assert_eq!(most, 4, "four invocations under way at once");
    assert_eq!(function.stats().concurrent_executions, 0);
    let mut pids: Vec<u64> = first
        .iter()
        .map(|o| body(o)["pid"].as_u64().unwrap())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 4, "four environments ran at once");
    let second = round(20).await;
    assert!(second.iter().all(|o| matches!(o, Outcome::Success(_))));
    assert_eq!(
        function.stats().environments_started,
        4,
        "the second round ran warm"
    );
    function.shutdown().await;
}

/// Runs the invocations concurrently and returns their outcomes in order.
async fn futures_join<F: std::future::Future<Output = Outcome> + Send + 'static>(
    calls: Vec<F>,
) -> Vec<Outcome> {
    let handles: Vec<_> = calls.into_iter().map(tokio::spawn).collect();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}

#[tokio::test]
async fn reserved_concurrency_throttles_beyond_its_environments() {
    let mut config = probe("reserved");
    config.reserved_concurrency = Some(2);
    let function = LocalFunction::start(config).await.unwrap();
    let calls = (0..3)
        .map(|i| {
            let function = function.clone();
            async move { call(&function, i, json!({"action": "sleep", "ms": 500})).await }
        })
        .collect();
    let outcomes = futures_join(calls).await;
    let throttled = outcomes
        .iter()
        .filter(|o| **o == Outcome::Throttled)
        .count();
    let succeeded = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Success(_)))
        .count();
    assert_eq!((throttled, succeeded), (1, 2));
    assert_eq!(function.stats().throttles, 1);
    function.shutdown().await;
}

#[tokio::test]
async fn a_response_over_six_mb_is_a_function_error() {
    let function = started("big").await;
    let too_big = call(&function, 1, json!({"action": "big", "bytes": 7_000_000})).await;
    assert_eq!(error_type(&too_big), "Function.ResponseSizeTooLarge");
    let fits = call(&function, 2, json!({"action": "big", "bytes": 5_000_000})).await;
    assert_eq!(body(&fits).as_str().unwrap().len(), 5_000_000);
    let oversized_request = function
        .invoke(request(
            3,
            json!({"action": "echo", "pad": "y".repeat(7_000_000)}),
        ))
        .await;
    assert!(
        matches!(&oversized_request, Outcome::ServiceError(e) if e.starts_with("RequestTooLargeException")),
        "{oversized_request:?}"
    );
    function.shutdown().await;
}

// Several workers, as in `riffle local`: the pipe readers and the answer race on other threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_captured_per_request_id_with_lambdas_report_lines() {
    let function = started("logs").await;
    let id = "00000000-0000-4000-8000-000000000005";
    let next = "00000000-0000-4000-8000-000000000006";
    // Many lines, written just before the answer: when the invocation returns, every one is
    // already in the log with its own request id, before END and REPORT, and none spills into
    // the next invocation.
    body(&call(&function, 5, json!({"action": "log", "lines": 300})).await);
    body(&call(&function, 6, json!({"action": "log", "lines": 300})).await);
    let lines = function.logs().for_request(id);
    let hellos = lines
        .iter()
        .filter(|l| l.line.starts_with("hello on"))
        .count();
    assert_eq!(hellos, 600, "every line of request 5 carries its id");
    let end = lines
        .iter()
        .position(|l| l.line.starts_with("END RequestId"))
        .expect("an END line");
    assert!(
        lines[..end]
            .iter()
            .filter(|l| l.line.starts_with("hello on"))
            .count()
            == 600,
        "the function's lines come before END"
    );
    assert!(
        function
            .logs()
            .for_request(next)
            .iter()
            .filter(|l| l.line.starts_with("hello on"))
            .all(|l| l.line.ends_with(next)),
        "no line of request 5 is attributed to request 6"
    );
    let texts: Vec<(LogSource, &str)> = lines.iter().map(|l| (l.source, l.line.as_str())).collect();
    assert!(
        texts.contains(&(LogSource::Stdout, &*format!("hello on stdout from {id}"))),
        "{texts:?}"
    );
    assert!(
        texts.contains(&(LogSource::Stderr, &*format!("hello on stderr from {id}"))),
        "{texts:?}"
    );
    assert_eq!(
        texts[0],
        (
            LogSource::Platform,
            &*format!("START RequestId: {id} Version: $LATEST")
        )
    );
    let report = lines
        .iter()
        .find(|l| l.line.starts_with("REPORT"))
        .expect("a REPORT line");
    assert!(
        report.line.contains("Init Duration"),
        "the cold start is reported: {}",
        report.line
    );
    function.shutdown().await;
}

/// Waits (bounded) until `logs` shows a line starting with `line`.
async fn logged(logs: &mut tokio::sync::broadcast::Receiver<riffle_lambda::LogLine>, line: &str) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !logs.recv().await.unwrap().line.starts_with(line) {}
    })
    .await
    .unwrap_or_else(|_| panic!("no log line {line:?} within 10 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_binary_serves_the_next_invocations_while_a_running_one_finishes_on_the_old() {
    let function = started("reload").await;
    let mut logs = function.logs().subscribe();
    // Environment 0 runs a long invocation; environment 1 answers one and waits, idle.
    let busy = {
        let function = function.clone();
        tokio::spawn(
            async move { call(&function, 1, json!({"action": "sleep", "ms": 1500})).await },
        )
    };
    logged(
        &mut logs,
        "START RequestId: 00000000-0000-4000-8000-000000000001 Version: $LATEST",
    )
    .await;
    let idle_pid = body(&call(&function, 2, json!({"action": "echo"})).await)["pid"].clone();
    assert_eq!(function.stats().environments, 2);

    let dir = crate::support::cli::temp_dir("reload");
    std::fs::copy(env!("CARGO_BIN_EXE_lambda-probe"), dir.join("bootstrap")).unwrap();
    function.replace_binary(dir.join("bootstrap"));
    assert_eq!(
        function.stats().environments,
        1,
        "the idle environment is stopped at once, the busy one keeps running"
    );
    logged(&mut logs, "environment 1 ended").await;

    let root = |outcome: &Outcome| body(outcome)["env"]["LAMBDA_TASK_ROOT"].clone();
    let task_root = json!({"action": "env", "names": ["LAMBDA_TASK_ROOT"]});
    let new_root = json!(dir.canonicalize().unwrap().display().to_string());
    assert_eq!(root(&call(&function, 3, task_root.clone()).await), new_root);
    let slept = busy.await.unwrap();
    assert_eq!(
        body(&slept)["slept"],
        1500,
        "the old binary finished its invocation"
    );
    assert_eq!(
        function.stats().environments,
        1,
        "the old environment is retired once its invocation ends, not reused"
    );
    let fresh = body(&call(&function, 4, json!({"action": "echo"})).await)["pid"].clone();
    assert_ne!(fresh, idle_pid);
    assert_eq!(root(&call(&function, 5, task_root).await), new_root);
    let stats = function.stats();
    assert_eq!(
        stats.environments_started, 3,
        "one new environment, reused warm"
    );
    assert_eq!(stats.errors, 0);
    function.shutdown().await;
}

#[tokio::test]
async fn the_function_router_invokes_the_function_each_request_names() {
    use tower::ServiceExt as _;
    let api = riffle_lambda::invoke_api::InvokeApi::default();
    let router = api.invoker();
    let named = |function_arn: &str| InvokeRequest {
        function_arn: function_arn.to_owned(),
        ..request(
            1,
            json!({"action": "env", "names": ["AWS_LAMBDA_FUNCTION_NAME"]}),
        )
    };
    let early = router.clone().oneshot(named("upper")).await.unwrap();
    assert!(
        matches!(&early, Outcome::ServiceError(m) if m.contains("not started")),
        "{early:?}"
    );

    let (upper, lower) = (started("upper").await, started("lower").await);
    api.ready(
        [("Upper", upper.clone()), ("Lower", lower.clone())]
            .into_iter()
            .map(|(id, f)| (id.to_owned(), f))
            .collect(),
    );
    let name_of = |outcome: &Outcome| body(outcome)["env"]["AWS_LAMBDA_FUNCTION_NAME"].clone();
    for (arn, expected) in [
        (
            "arn:aws:lambda:us-east-1:000000000000:function:lower:$LATEST",
            "lower",
        ),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:upper",
            "upper",
        ),
        ("Lower", "lower"),
    ] {
        let outcome = router.clone().oneshot(named(arn)).await.unwrap();
        assert_eq!(name_of(&outcome), expected, "{arn}");
    }
    let missing = router
        .clone()
        .oneshot(named("function:nope"))
        .await
        .unwrap();
    assert!(
        matches!(&missing, Outcome::ServiceError(m) if m.starts_with("ResourceNotFoundException")),
        "{missing:?}"
    );
    let versioned = router
        .oneshot(named(
            "arn:aws:lambda:us-east-1:000000000000:function:upper:7",
        ))
        .await
        .unwrap();
    assert!(
        matches!(versioned, Outcome::ServiceError(_)),
        "{versioned:?}"
    );
    upper.shutdown().await;
    lower.shutdown().await;
}
