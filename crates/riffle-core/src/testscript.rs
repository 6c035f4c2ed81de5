//! What the machines' scenario scripts share (goldenscript, in the spirit of toydb's test
//! scripts): the function's scripted answers and how outcomes print. Each machine has its own
//! runner (`kinesis/shard/tests/scripts.rs`, `sqs/poller/tests/scripts.rs`) and its scripts
//! next to it (`testscripts/`); every effect prints as `+MS effect`, milliseconds since T0, so a
//! semantics change is a text diff. `UPDATE_GOLDENFILES=1 cargo test -p riffle-core` rewrites
//! the transcripts for review; a script added needs its runner's file touched (the test per
//! file is generated when the runner compiles).

use std::error::Error;

use crate::invocation::Outcome;

/// The outcome a script names: `ok`, `error`, `throttle`, `service_error`, or `fail` with the
/// items (sequence numbers or message ids) reported in `batchItemFailures`.
pub(crate) fn outcome(kind: &str, items: &[String]) -> Result<Outcome, Box<dyn Error>> {
    Ok(match kind {
        "ok" => Outcome::Success(Vec::new()),
        "error" => Outcome::function_error("Error", "scripted"),
        "throttle" => Outcome::Throttled,
        "service_error" => Outcome::ServiceError("scripted".into()),
        "fail" if !items.is_empty() => {
            let items: Vec<String> = items
                .iter()
                .map(|item| format!(r#"{{"itemIdentifier":"{item}"}}"#))
                .collect();
            let body = format!(r#"{{"batchItemFailures":[{}]}}"#, items.join(","));
            Outcome::Success(body.into_bytes())
        }
        "fail" => return Err("fail needs the failed items".into()),
        other => return Err(format!("unknown answer {other}").into()),
    })
}

/// An outcome as a transcript shows it.
pub(crate) fn show_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success(body) if body.is_empty() => "ok".to_owned(),
        Outcome::Success(body) => format!("ok {}", String::from_utf8_lossy(body)),
        Outcome::FunctionError { error_type, .. } => format!("function error {error_type}"),
        Outcome::Throttled => "throttled".to_owned(),
        Outcome::ServiceError(text) => format!("service error {text}"),
    }
}

/// `"3"` → [3], `"1..4"` → [1, 2, 3, 4].
pub(crate) fn parse_range(text: &str) -> Result<Vec<u64>, Box<dyn Error>> {
    Ok(match text.split_once("..") {
        Some((first, last)) => (first.parse()?..=last.parse()?).collect(),
        None => vec![text.parse()?],
    })
}

/// `[1, 2, 3]` → `1..3` (with `prefix` before each number); anything else as a list.
pub(crate) fn show_range(numbers: &[u64], prefix: &str) -> String {
    match (numbers.first(), numbers.last()) {
        (Some(first), Some(last)) if numbers.windows(2).all(|w| w[1] == w[0] + 1) => {
            if first == last {
                format!("{prefix}{first}")
            } else {
                format!("{prefix}{first}..{prefix}{last}")
            }
        }
        _ => numbers
            .iter()
            .map(|n| format!("{prefix}{n}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Runs the script at `path` with `runner`, failing the test on a parse error or a mismatch.
pub(crate) fn run(runner: &mut impl goldenscript::Runner, path: &std::path::Path) {
    goldenscript::run(runner, path).expect("the script runs and its transcript matches")
}
