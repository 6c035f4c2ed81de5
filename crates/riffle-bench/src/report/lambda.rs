//! The Runtime API host section: warm invocation round trips and cold starts of a real
//! `lambda_runtime` binary, against the absolute target (there is no peer).

use std::fmt::Write as _;

use serde_json::Value;

use super::{fmt_value, number};

/// Warm round trip p99 the host must stay under, in ms.
const WARM_P99_TARGET_MS: f64 = 1.0;

/// The section's table.
pub(super) fn render(results: &[Value]) -> String {
    let case = "lambda-warm";
    let get = |field: &str| number(results, "riffle", case, field);
    let mut out = String::from("| Metric | Result | Target | Met |\n| --- | ---: | --- | --- |\n");
    let rows: [(&str, &str, Option<f64>); 9] = [
        ("Warm round trip p50 (ms)", "warm_p50_ms", None),
        ("Warm round trip p90 (ms)", "warm_p90_ms", None),
        (
            "Warm round trip p99 (ms)",
            "warm_p99_ms",
            Some(WARM_P99_TARGET_MS),
        ),
        ("Warm round trip max (ms)", "warm_max_ms", None),
        (
            "Warm invocations/s, one environment, back to back",
            "warm_invocations_per_sec",
            None,
        ),
        (
            "Cold start: process spawn → first /next, p50 (ms)",
            "cold_spawn_to_next_p50_ms",
            None,
        ),
        (
            "Cold start: process spawn → first /next, p90 (ms)",
            "cold_spawn_to_next_p90_ms",
            None,
        ),
        (
            "Cold invocation round trip (spawn included), p50 (ms)",
            "cold_first_invocation_p50_ms",
            None,
        ),
        (
            "Cold invocation round trip (spawn included), p90 (ms)",
            "cold_first_invocation_p90_ms",
            None,
        ),
    ];
    for (label, field, target) in rows {
        let value = get(field);
        let (target_text, met) = match (target, value) {
            (Some(t), Some(v)) => (
                format!("< {} ms", fmt_value(Some(t), 0)),
                if v < t { "yes" } else { "**no**" },
            ),
            _ => (String::new(), ""),
        };
        let decimals = if field.ends_with("per_sec") { 0 } else { 3 };
        let _ = writeln!(
            out,
            "| {label} | {} | {target_text} | {met} |",
            fmt_value(value, decimals)
        );
    }
    if let Some(first) = super::runs(results, "riffle", case).first() {
        let _ = writeln!(
            out,
            "\n{} warm invocations of a {}-byte event after a warm-up, over {} environment(s); {} cold starts, each a fresh `LocalFunction`.",
            fmt_value(first["warm_invocations"].as_f64(), 0),
            fmt_value(first["event_bytes"].as_f64(), 0),
            fmt_value(first["warm_environments"].as_f64(), 0),
            fmt_value(first["cold_starts"].as_f64(), 0),
        );
    }
    out
}
