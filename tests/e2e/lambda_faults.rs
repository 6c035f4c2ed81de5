//! Injected faults on the Runtime API host, with the real `lambda-probe`: each kind of fault
//! ends the invocation as Lambda would end it for real (and is counted so), a delay runs the
//! function late, and a rule for another function or a spent rule changes nothing.

use std::time::{Duration, Instant};

use riffle_core::fault::{FaultSet, FaultSpec};
use riffle_core::invocation::Outcome;
use riffle_lambda::{FunctionConfig, LocalFunction};
use riffle_runtime::InvokeRequest;
use serde_json::json;

fn request(n: u32) -> InvokeRequest {
    InvokeRequest {
        function_arn: String::new(),
        request_id: format!("00000000-0000-4000-8000-{n:012}"),
        payload: json!({"action": "echo"}).to_string(),
        deadline_ms: 0,
    }
}

fn rule(fault: &str, next: u64) -> riffle_core::fault::FaultRule {
    FaultSpec {
        function: "faulty".into(),
        fault: fault.into(),
        next: Some(next),
        delay_ms: (fault == "delay").then_some(300),
        ..FaultSpec::default()
    }
    .rule(0)
    .unwrap()
}

/// The error type and message of a function error, or a panic naming `what` was expected.
fn function_error(outcome: Outcome, what: &str) -> (String, String) {
    match outcome {
        Outcome::FunctionError {
            error_type,
            error_message,
            ..
        } => (error_type, error_message),
        other => panic!("expected {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn each_injected_fault_ends_the_invocation_as_lambda_would() {
    let faults = FaultSet::new();
    let mut config = FunctionConfig::new("faulty", env!("CARGO_BIN_EXE_lambda-probe"));
    config.timeout = Duration::from_secs(1);
    config.faults = faults.clone();
    let function = LocalFunction::start(config).await.unwrap();

    faults.add(rule("throttle", 1));
    assert_eq!(function.invoke(request(1)).await, Outcome::Throttled);

    faults.add(rule("fail", 1));
    let (error_type, error_message) =
        function_error(function.invoke(request(2)).await, "the injected error");
    assert_eq!(error_type, "Riffle.InjectedFault");
    assert_eq!(error_message, "injected by riffle fault 2");

    faults.add(rule("timeout", 1));
    let started = Instant::now();
    let (error_type, error_message) =
        function_error(function.invoke(request(3)).await, "the injected timeout");
    assert_eq!(error_type, "Sandbox.Timedout");
    assert!(
        error_message.starts_with("Task timed out after 1.00 seconds"),
        "{error_message}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));

    faults.add(rule("delay", 1));
    let started = Instant::now();
    assert!(matches!(
        function.invoke(request(4)).await,
        Outcome::Success(_)
    ));
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Every rule is spent: the function answers for itself; it never saw the three it did not run.
    assert!(matches!(
        function.invoke(request(5)).await,
        Outcome::Success(_)
    ));
    let stats = function.stats();
    assert_eq!(stats.throttles, 1);
    assert_eq!(stats.errors, 2);
    assert_eq!(stats.environments_started, 1);
    let logs: Vec<String> = function
        .logs()
        .lines()
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("Riffle.InjectedFault: injected by riffle fault 2")),
        "{logs:#?}"
    );
    assert!(faults.rules().iter().all(|r| r.fired == 1));

    // A rule for another function changes nothing here.
    let mut other = rule("throttle", 1);
    other.function = "someone-else".into();
    faults.add(other);
    assert!(matches!(
        function.invoke(request(6)).await,
        Outcome::Success(_)
    ));
    function.shutdown().await;
}
