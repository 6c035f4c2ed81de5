//! The Runtime API host: warm invocation overhead and cold starts of a real `lambda_runtime`
//! binary (`lambda-probe`, built from tests/probe) run by `riffle_lambda::LocalFunction`.
//!
//! Warm: one environment, invoked back to back with a 1 KiB event by a function that returns
//! `null`; each sample is the whole round trip the engine pays (dispatch, `/next`, the runtime
//! client, the handler, `/response`, completion). Cold: a fresh `LocalFunction` per sample; the
//! host's own measure (process spawn → first `/next`) and the first invocation's round trip.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use riffle_core::invocation::Outcome;
use riffle_lambda::{FunctionConfig, LocalFunction};
use riffle_runtime::InvokeRequest;
use serde_json::{Value, json};

use crate::stats::{median, millis, percentile, round3};

/// Options of `riffle-bench lambda`.
#[derive(Debug, clap::Args)]
pub(crate) struct LambdaArgs {
    /// The function binary (a `lambda_runtime` bootstrap that answers `{"action": "noop"}`).
    #[arg(long)]
    binary: PathBuf,
    /// Warm invocations measured (after the warm-up).
    #[arg(long, default_value_t = 5000)]
    invocations: usize,
    /// Warm-up invocations left out.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Bytes of the event.
    #[arg(long, default_value_t = 1024)]
    event_bytes: usize,
    /// Cold starts measured.
    #[arg(long, default_value_t = 20)]
    cold_starts: usize,
}

fn event(bytes: usize) -> String {
    let skeleton = json!({"action": "noop", "pad": ""}).to_string();
    let pad = "x".repeat(bytes.saturating_sub(skeleton.len()));
    json!({"action": "noop", "pad": pad}).to_string()
}

fn request(n: usize, payload: &str) -> InvokeRequest {
    InvokeRequest {
        function_arn: String::new(),
        request_id: format!("00000000-0000-4000-8000-{n:012x}"),
        payload: payload.to_owned(),
        deadline_ms: 0,
    }
}

fn summary(samples: &mut [Duration]) -> Value {
    samples.sort_unstable();
    json!({
        "count": samples.len(),
        "p50_ms": round3(millis(percentile(samples, 50.0))),
        "p90_ms": round3(millis(percentile(samples, 90.0))),
        "p99_ms": round3(millis(percentile(samples, 99.0))),
        "max_ms": round3(millis(samples.last().copied().unwrap_or_default())),
        "mean_ms": round3(millis(samples.iter().sum::<Duration>() / samples.len().max(1) as u32)),
    })
}

/// Runs the workload and returns its JSON result line.
pub(crate) async fn run(args: LambdaArgs) -> anyhow::Result<Value> {
    let payload = event(args.event_bytes);
    let config = FunctionConfig::new("bench-noop", &args.binary);
    let function = LocalFunction::start(config.clone()).await?;
    for n in 0..args.warmup {
        let outcome = function.invoke(request(n, &payload)).await;
        anyhow::ensure!(
            matches!(outcome, Outcome::Success(_)),
            "warm-up failed: {outcome:?}"
        );
    }
    let mut warm = Vec::with_capacity(args.invocations);
    let started = Instant::now();
    for n in 0..args.invocations {
        let begin = Instant::now();
        let outcome = function.invoke(request(args.warmup + n, &payload)).await;
        warm.push(begin.elapsed());
        anyhow::ensure!(
            matches!(outcome, Outcome::Success(_)),
            "invocation failed: {outcome:?}"
        );
    }
    let elapsed = started.elapsed();
    let environments = function.stats().environments_started;
    function.shutdown().await;

    let mut spawn_to_next = Vec::new();
    let mut first_invocation = Vec::new();
    for n in 0..args.cold_starts {
        let function = LocalFunction::start(config.clone()).await?;
        let begin = Instant::now();
        let outcome = function.invoke(request(n, &payload)).await;
        first_invocation.push(begin.elapsed());
        anyhow::ensure!(
            matches!(outcome, Outcome::Success(_)),
            "cold invocation failed: {outcome:?}"
        );
        spawn_to_next.extend(function.stats().cold_starts);
        function.shutdown().await;
    }
    let warm = summary(&mut warm);
    let spawn = summary(&mut spawn_to_next);
    let first = summary(&mut first_invocation);
    Ok(json!({
        "workload": "lambda",
        "binary": args.binary.display().to_string(),
        "event_bytes": payload.len(),
        "warm_invocations": args.invocations,
        "warm_p50_ms": warm["p50_ms"],
        "warm_p90_ms": warm["p90_ms"],
        "warm_p99_ms": warm["p99_ms"],
        "warm_max_ms": warm["max_ms"],
        "warm_mean_ms": warm["mean_ms"],
        "warm_invocations_per_sec": round3(args.invocations as f64 / elapsed.as_secs_f64()),
        "warm_environments": environments,
        "cold_starts": args.cold_starts,
        "cold_spawn_to_next_p50_ms": spawn["p50_ms"],
        "cold_spawn_to_next_p90_ms": spawn["p90_ms"],
        "cold_first_invocation_p50_ms": first["p50_ms"],
        "cold_first_invocation_p90_ms": first["p90_ms"],
        "cold_first_invocation_median_ms": round3(millis(median(&first_invocation))),
    }))
}
