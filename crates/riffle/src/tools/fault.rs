//! `riffle fault`: injects failures into a running `riffle local`'s functions without touching
//! their handlers — add a rule (fail, time out, throttle or delay a share of invocations, the
//! next N, or those holding matching records, for a time or until cleared), list the rules,
//! clear one or all; and, on `riffle local`'s own emulator, throttle a stream's reads or writes
//! or a queue's receives.
//!
//! Invariant: it only speaks the control API (`/_riffle/faults`, through `control.rs`); the
//! rule's checks (one selection, share between 0 and 1, …) are the server's, written once in
//! riffle-core's `FaultSpec`.

use std::time::Duration;

use axum::http::Method;
use riffle_core::fault::FaultSpec;
use riffle_emulator::throttle::ThrottleSpec;
use serde_json::Value;

use super::Endpoint;
use super::control::{encode, get_json, send_json};
use super::output::out;

/// Options of `riffle fault`.
#[derive(Debug, clap::Args)]
pub(crate) struct FaultArgs {
    #[command(subcommand)]
    command: FaultCommand,
}

#[derive(Debug, clap::Subcommand)]
enum FaultCommand {
    /// Add a rule; prints its id.
    Add(AddArgs),
    /// List the rules, with how often each fired.
    List {
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Remove one rule, or every rule.
    Clear {
        /// The rule's id (`riffle fault list`); every rule without it.
        id: Option<String>,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("fault").required(true).args(["fail", "timeout", "throttle", "delay_ms"])))]
#[command(group(clap::ArgGroup::new("selection").args(["share", "next", "matching"])))]
#[command(group(clap::ArgGroup::new("target").required(true).args(["function", "stream", "queue"])))]
struct AddArgs {
    /// The function: its logical id in the template, or its FunctionName.
    #[arg(long)]
    function: Option<String>,
    /// Throttle this stream's reads or writes (with --throttle and --reads or --writes):
    /// ProvisionedThroughputExceededException.
    #[arg(long, requires = "throttle", conflicts_with_all = ["selection", "fail", "timeout", "delay_ms"])]
    stream: Option<String>,
    /// With --stream: GetRecords.
    #[arg(long, requires = "stream", conflicts_with = "writes")]
    reads: bool,
    /// With --stream: PutRecord and PutRecords.
    #[arg(long, requires = "stream")]
    writes: bool,
    /// Throttle this queue's receives (with --throttle): ThrottlingException.
    #[arg(long, requires = "throttle", conflicts_with_all = ["selection", "fail", "timeout", "delay_ms"])]
    queue: Option<String>,
    /// Fail the invocation with an unhandled error (errorType Riffle.InjectedFault, or
    /// --error-type).
    #[arg(long)]
    fail: bool,
    /// The errorType of --fail.
    #[arg(long, requires = "fail")]
    error_type: Option<String>,
    /// Let the invocation run into the function's Timeout (Sandbox.Timedout).
    #[arg(long)]
    timeout: bool,
    /// Throttle the invocation (TooManyRequestsException); the mapping retries it.
    #[arg(long)]
    throttle: bool,
    /// Delay the invocation by this many milliseconds, then run it.
    #[arg(long, value_name = "MS")]
    delay_ms: Option<u64>,
    /// Only this share of invocations (0–1), chosen reproducibly from --seed.
    #[arg(long)]
    share: Option<f64>,
    /// The seed of --share.
    #[arg(long, requires = "share")]
    seed: Option<u64>,
    /// Only the next N invocations.
    #[arg(long, value_name = "N")]
    next: Option<u64>,
    /// Only invocations holding a record whose data (decoded) contains this text.
    #[arg(long, value_name = "PATTERN")]
    matching: Option<String>,
    /// Read --matching as a regular expression.
    #[arg(long, requires = "matching")]
    regex: bool,
    /// Only for this long (`30s`, `5m`, `500ms`); until cleared without it.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    for_: Option<Duration>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// `500ms`, `30s`, `5m`, `1h` (a bare number is seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 30s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!(
            "{text:?} is not a duration like 500ms, 30s, 5m or 1h"
        )),
    }
}

impl AddArgs {
    /// The JSON rule `POST /_riffle/faults` takes.
    fn body(&self) -> anyhow::Result<Value> {
        if self.stream.is_none() && self.queue.is_none() {
            return Ok(serde_json::to_value(self.spec())?);
        }
        let on = match (&self.stream, self.reads, self.writes) {
            (Some(_), true, _) => Some("reads".to_owned()),
            (Some(_), _, true) => Some("writes".to_owned()),
            (Some(_), false, false) => anyhow::bail!("--stream needs --reads or --writes"),
            (None, _, _) => None,
        };
        Ok(serde_json::to_value(ThrottleSpec {
            stream: self.stream.clone(),
            queue: self.queue.clone(),
            fault: "throttle".to_owned(),
            on,
            for_ms: self.for_.map(|d| d.as_millis() as u64),
            until_ms: None,
        })?)
    }

    fn spec(&self) -> FaultSpec {
        let fault = if self.fail {
            "fail"
        } else if self.timeout {
            "timeout"
        } else if self.throttle {
            "throttle"
        } else {
            "delay"
        };
        FaultSpec {
            function: self.function.clone().unwrap_or_default(),
            fault: fault.to_owned(),
            error_type: self.error_type.clone(),
            delay_ms: self.delay_ms,
            share: self.share,
            seed: self.seed,
            next: self.next,
            matching: self.matching.clone(),
            regex: self.regex,
            for_ms: self.for_.map(|d| d.as_millis() as u64),
            until_ms: None,
        }
    }
}

/// One rule in words.
fn describe(rule: &Value) -> String {
    let text = |key: &str| rule[key].as_str().unwrap_or("?").to_owned();
    let state = if rule["active"].as_bool() == Some(true) {
        "active"
    } else {
        "done"
    };
    let until = match rule["until_ms"].as_u64() {
        Some(ms) => format!(" until {}", riffle_core::time::iso8601_millis(ms)),
        None => String::new(),
    };
    if rule.get("refused").is_some() {
        return format!(
            "{}  {}{until}  [{state}, refused {}]",
            text("id"),
            text("description"),
            rule["refused"]
        );
    }
    let selection = if let Some(n) = rule["next"].as_u64() {
        format!("the next {n} invocations")
    } else if let Some(share) = rule["share"].as_f64() {
        format!("{share} of invocations (seed {})", rule["seed"])
    } else if let Some(pattern) = rule["matching"].as_str() {
        let how = if rule["regex"].as_bool() == Some(true) {
            "matching"
        } else {
            "containing"
        };
        format!("invocations with a record {how} {pattern:?}")
    } else {
        "every invocation".to_owned()
    };
    format!(
        "{}  {}  {}: {selection}{until}  [{state}, fired {} of {} seen]",
        text("id"),
        text("function"),
        text("description"),
        rule["fired"],
        rule["seen"],
    )
}

pub(crate) async fn run(args: FaultArgs) -> anyhow::Result<()> {
    match args.command {
        FaultCommand::Add(add) => {
            let body = add.body()?;
            let rule = send_json(
                Method::POST,
                &add.endpoint.endpoint_url,
                "/_riffle/faults",
                Some(&body),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            out!("{}", describe(&rule))?;
        }
        FaultCommand::List { endpoint } => {
            let rules = match get_json(&endpoint.endpoint_url, "/_riffle/faults").await {
                Ok(Value::Array(rules)) => rules,
                Ok(other) => anyhow::bail!("the fault rules are not a list: {other}"),
                Err(error) => anyhow::bail!("{error}"),
            };
            if rules.is_empty() {
                out!("no fault rules")?;
            }
            for rule in &rules {
                out!("{}", describe(rule))?;
            }
        }
        FaultCommand::Clear { id, endpoint } => {
            let path = match &id {
                Some(id) => format!("/_riffle/faults/{}", encode(id)),
                None => "/_riffle/faults".to_owned(),
            };
            let answer = send_json(Method::DELETE, &endpoint.endpoint_url, &path, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match id {
                Some(id) => out!("removed fault rule {id}")?,
                None => out!("removed {} fault rules", answer["removed"])?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }
}
