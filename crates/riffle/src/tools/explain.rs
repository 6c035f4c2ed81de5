//! `riffle explain`: prints a mapping's decision journal from a running `riffle local`, so a
//! user learns why a record was retried, split or dropped — one line per entry (time, shard or
//! poller, lane, what happened, sequence range), or the control API's JSON objects, one per
//! line, with `--format json`.
//!
//! Invariant: the text is written from the control API's JSON alone (`GET
//! /_riffle/mappings/{id}/journal`), so both formats say the same thing; an entry kind this
//! version does not know is still printed, with its fields.

use riffle_core::firehose::delivery::Decision as FirehoseDecision;
use riffle_core::kinesis::shard;
use riffle_core::sequence::SequenceNumber;
use riffle_core::sqs::poller::{Decision, Settled};
use riffle_core::time::iso8601_millis;
use riffle_runtime::{JournalKind, KinesisJournalEvent, SqsJournalEvent};
use serde_json::Value;

use super::Endpoint;
use super::control::{encode, get_json};
use super::output::out;

/// How entries are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One aligned line per entry.
    Text,
    /// The journal's JSON objects, one per line.
    Json,
}

/// Options of `riffle explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// The mapping: its logical id in the template (`riffle local` lists them when it starts),
    /// or a delivery stream's name.
    #[arg(long)]
    mapping: String,
    /// Only this shard's entries (Kinesis mappings).
    #[arg(long)]
    shard: Option<String>,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    endpoint: Endpoint,
}

pub(crate) async fn run(args: ExplainArgs) -> anyhow::Result<()> {
    let mut path = format!("/_riffle/mappings/{}/journal", encode(&args.mapping));
    if let Some(shard) = &args.shard {
        path.push_str(&format!("?shard={}", encode(shard)));
    }
    let entries = match get_json(&args.endpoint.endpoint_url, &path).await {
        Ok(Value::Array(entries)) => entries,
        Ok(other) => anyhow::bail!("the journal is not a list: {other}"),
        Err(error) => anyhow::bail!("{error}"),
    };
    if entries.is_empty() && args.format == Format::Text {
        out!(
            "{}{}: no journal entries yet (nothing polled or decided)",
            args.mapping,
            args.shard
                .as_deref()
                .map(|s| format!(" shard {s}"))
                .unwrap_or_default()
        )?;
    }
    for entry in &entries {
        match args.format {
            Format::Json => out!("{entry}")?,
            Format::Text => out!("{}", line(entry))?,
        }
    }
    Ok(())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "?".to_owned(),
        other => other.to_string(),
    }
}

/// One journal entry as a line: time, shard (or poller), lane, what happened, sequence range.
/// An entry is read into the runtime's own type (Kinesis or SQS); one of a kind this version
/// does not know is printed with its fields.
pub(crate) fn line(entry: &Value) -> String {
    if let Some(stream) = entry["delivery_stream"].as_str()
        && let Ok(decision) = serde_json::from_value::<FirehoseDecision>(entry.clone())
    {
        let where_ = format!("delivery {stream}");
        return columns(
            &text(&entry["time"]),
            &where_,
            "-",
            &firehose_what(&decision),
            "-",
        );
    }
    if entry.get("shard").is_some()
        && let Ok(event) = serde_json::from_value::<KinesisJournalEvent>(entry.clone())
    {
        return kinesis_line(&event);
    }
    if entry.get("poller").is_some()
        && let Ok(event) = serde_json::from_value::<SqsJournalEvent>(entry.clone())
    {
        return queue_line(&event);
    }
    let where_ = match (&entry["shard"], &entry["poller"]) {
        (Value::String(shard), _) => shard.clone(),
        (_, Value::Number(poller)) => format!("poller {poller}"),
        _ => "-".to_owned(),
    };
    let lane = match &entry["lane"] {
        Value::Number(lane) => format!("lane {lane}"),
        _ => "-".to_owned(),
    };
    let range = match (
        entry["first_sequence_number"].as_str(),
        entry["last_sequence_number"].as_str(),
    ) {
        (Some(first), Some(last)) if first == last => first.to_owned(),
        (Some(first), Some(last)) => format!("{first}..{last}"),
        _ => match (
            entry["sequence_number"].as_str(),
            entry["resume_at"].as_str(),
            entry["first_message_id"].as_str(),
        ) {
            (Some(sequence_number), _, _) => sequence_number.to_owned(),
            (_, Some(resume_at), _) => format!("{resume_at}.."),
            (_, _, Some(message_id)) => format!("first message {message_id}"),
            _ => "-".to_owned(),
        },
    };
    columns(&text(&entry["time"]), &where_, &lane, &what(entry), &range)
}

/// What a delivery stream's decision says, as a sentence.
fn firehose_what(decision: &FirehoseDecision) -> String {
    match decision {
        FirehoseDecision::Invoked {
            invocation_id,
            records,
            attempt,
        } => format!(
            "invoked the transformation with {} (attempt {attempt}, invocation {invocation_id})",
            count(*records as u64, "record")
        ),
        FirehoseDecision::InvocationFailed {
            code,
            message,
            retrying,
            ..
        } => format!(
            "the transformation failed: {code}: {message}; {}",
            if *retrying {
                "invoking again"
            } else {
                "retries exhausted, its records go to processing-failed"
            }
        ),
        FirehoseDecision::Transformed {
            ok,
            dropped,
            failed,
            ..
        } => format!("transformed: {ok} Ok, {dropped} Dropped, {failed} ProcessingFailed"),
        FirehoseDecision::Written {
            key,
            object,
            records,
        } => format!(
            "wrote {} ({object:?}) to {key}",
            count(*records as u64, "record")
        ),
        FirehoseDecision::WriteFailed {
            key,
            error,
            retry_in_ms,
        } => format!("writing {key} failed: {error}; retrying in {retry_in_ms} ms"),
    }
}

/// The line's columns, aligned.
fn columns(time: &str, where_: &str, lane: &str, what: &str, range: &str) -> String {
    format!("{time:<24}  {where_:<20}  {lane:<7}  {what}  {range}")
}

/// `n` things, `one` being the singular.
fn count(n: u64, one: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        _ => format!("{n} {one}s"),
    }
}

/// One Kinesis entry as a line.
fn kinesis_line(event: &KinesisJournalEvent) -> String {
    let lane = match &event.kind {
        JournalKind::Invoked { lane, .. } => Some(*lane),
        JournalKind::Decision(decision) => match decision {
            shard::Decision::Succeeded { lane, .. }
            | shard::Decision::PartiallyFailed { lane, .. }
            | shard::Decision::Failed { lane, .. }
            | shard::Decision::Bisected { lane, .. }
            | shard::Decision::RetryScheduled { lane, .. }
            | shard::Decision::WindowStateDropped { lane }
            | shard::Decision::Discarded { lane, .. }
            | shard::Decision::DeliveryFailed { lane, .. } => Some(*lane),
            shard::Decision::Filtered { .. } => None,
        },
        _ => None,
    };
    let range = |(first, last): &(SequenceNumber, SequenceNumber)| {
        if first == last {
            first.to_string()
        } else {
            format!("{first}..{last}")
        }
    };
    let range = match &event.kind {
        JournalKind::Invoked {
            range: Some(sequence_range),
            ..
        }
        | JournalKind::Decision(shard::Decision::Discarded {
            range: sequence_range,
            ..
        }) => range(sequence_range),
        JournalKind::Checkpointed { sequence_number } => sequence_number.to_string(),
        JournalKind::Decision(shard::Decision::PartiallyFailed { resume_at, .. }) => {
            format!("{resume_at}..")
        }
        _ => "-".to_owned(),
    };
    columns(
        &iso8601_millis(event.at),
        &event.shard_id,
        &lane.map_or_else(|| "-".to_owned(), |lane| format!("lane {lane}")),
        &kinesis_what(&event.kind),
        &range,
    )
}

/// What happened to a Kinesis mapping, in words.
fn kinesis_what(kind: &JournalKind) -> String {
    let records = |n: usize| count(n as u64, "record");
    match kind {
        JournalKind::ShardStarted { from } => format!("started reading at {from}"),
        JournalKind::FaultInjected {
            rule,
            fault,
            request_id,
        } => format!("injected fault: {fault} (riffle fault {rule}, request {request_id})"),
        JournalKind::Polled {
            records: n,
            millis_behind,
        } => format!("read {}, {millis_behind} ms behind the tip", records(*n)),
        JournalKind::PollFailed { error } => format!("reading failed, will read again: {error}"),
        JournalKind::CheckpointFailed { error } => {
            format!("the checkpoint store failed, will try again: {error}")
        }
        JournalKind::Invoked {
            records: n,
            previous_invocations: 0,
            ..
        } => format!("invoked the function with {}", records(*n)),
        JournalKind::Invoked {
            records: n,
            previous_invocations,
            ..
        } => format!(
            "invoked again with {} (invocation {} of this batch)",
            records(*n),
            previous_invocations + 1
        ),
        JournalKind::Checkpointed { .. } => "checkpoint saved".to_owned(),
        JournalKind::Delivered { destination } => format!("failure record sent to {destination}"),
        JournalKind::DeliveryError { error } => {
            format!("sending the failure record failed: {error}")
        }
        JournalKind::ShardFinished => "every record of the shard is done".to_owned(),
        JournalKind::Decision(decision) => match decision {
            shard::Decision::Succeeded { records: n, .. } => {
                format!("succeeded: {} done", records(*n))
            }
            shard::Decision::PartiallyFailed { succeeded, .. } => format!(
                "reported batchItemFailures: {} done, the rest is retried from the first failed item",
                records(*succeeded)
            ),
            shard::Decision::Failed {
                reason, attempts, ..
            } => format!("failed with {reason} (failed attempt {attempts})"),
            shard::Decision::Bisected { left, right, .. } => format!(
                "split the failed batch in two: {left} + {right} records, the first half first"
            ),
            shard::Decision::RetryScheduled { at, reason, .. } => {
                format!("will retry at {} after {reason}", iso8601_millis(*at))
            }
            shard::Decision::Filtered { records: n } => {
                format!("{} matched no filter and were skipped", records(*n))
            }
            shard::Decision::WindowStateDropped { .. } => {
                "the tumbling window's final invocation kept failing: its state was dropped"
                    .to_owned()
            }
            shard::Decision::Discarded {
                condition,
                records: n,
                delivered: true,
                ..
            } => format!(
                "gave up ({}): {} sent to the on-failure destination",
                condition.as_str(),
                records(*n)
            ),
            shard::Decision::Discarded {
                condition,
                records: n,
                ..
            } => format!(
                "gave up ({}): {} dropped (no on-failure destination)",
                condition.as_str(),
                records(*n)
            ),
            shard::Decision::DeliveryFailed { retry_at, .. } => format!(
                "sending the failure record failed; sending again at {}",
                iso8601_millis(*retry_at)
            ),
        },
    }
}

/// One SQS entry as a line.
fn queue_line(event: &SqsJournalEvent) -> String {
    let range = match &event.kind {
        Decision::Invoked {
            first_message_id, ..
        } => format!("first message {first_message_id}"),
        _ => "-".to_owned(),
    };
    columns(
        &iso8601_millis(event.at),
        &format!("poller {}", event.poller),
        "-",
        &queue_what(&event.kind),
        &range,
    )
}

/// What a poller of an SQS mapping decided, in words.
fn queue_what(decision: &Decision) -> String {
    let messages = |n: usize| count(n as u64, "message");
    match decision {
        Decision::Invoked {
            messages: n,
            throttles,
            ..
        } => format!(
            "invoked the function with {}{}",
            messages(*n),
            match throttles {
                0 => String::new(),
                n => format!(" (after {n} throttled attempt(s))"),
            }
        ),
        Decision::Filtered { messages: n } => {
            format!("{} matched no filter and were deleted", messages(*n))
        }
        Decision::Received { messages: n } => format!("received {}", messages(*n)),
        Decision::SourceFailed { call, error } => format!("{call} failed: {error}"),
        Decision::Throttled { retry_in_ms } => {
            format!("throttled; invoking again in {retry_in_ms} ms")
        }
        Decision::Settled {
            settled,
            deleted,
            returned,
        } => {
            let back = format!(
                "{} return to the queue after the visibility timeout (then its redrive policy applies)",
                messages(*returned)
            );
            match settled {
                Settled::Success => format!("succeeded: {} deleted", messages(*deleted)),
                Settled::PartialFailure(ids) => {
                    format!("reported {} failed: {deleted} deleted, {back}", ids.len())
                }
                Settled::FunctionError(reason) => format!("failed with {reason}: {back}"),
                Settled::InvalidResponse(reason) => {
                    format!("invalid response ({reason}): {back}")
                }
                Settled::GaveUp(reason) => format!("gave up ({reason}): {back}"),
            }
        }
        Decision::DeleteFailed { failures } => {
            let codes: Vec<&str> = failures.iter().map(|f| f.code.as_str()).collect();
            format!(
                "deleting {} message(s) failed ({}); they will be received again",
                codes.len(),
                codes.join(", ")
            )
        }
        Decision::Released { messages: n } => format!("handed back {} on stop", messages(*n)),
        Decision::Scaled { pollers } => format!("pollers scaled to {pollers}"),
    }
}

/// An entry of a kind this version does not know: its kind and fields.
fn what(e: &Value) -> String {
    let kind = e["kind"].as_str().unwrap_or("?");
    let fields: Vec<String> = e
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "at" | "time" | "kind" | "shard" | "poller" | "lane"
                    )
                })
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect()
        })
        .unwrap_or_default();
    format!("{kind} {}", fields.join(" "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::line;

    #[test]
    fn kinesis_entries_read_as_sentences() {
        let base = |kind: &str| {
            json!({"at": 1_700_000_000_123u64, "time": "2023-11-14T22:13:20.123Z",
                   "shard": "shardId-000000000000", "kind": kind})
        };
        let mut invoked = base("invoked");
        invoked["lane"] = json!(0);
        invoked["records"] = json!(2);
        invoked["first_sequence_number"] = json!("49");
        invoked["last_sequence_number"] = json!("51");
        invoked["previous_invocations"] = json!(1);
        assert_eq!(
            line(&invoked),
            "2023-11-14T22:13:20.123Z  shardId-000000000000  lane 0   invoked again with 2 records (invocation 2 of this batch)  49..51"
        );
        let mut failed = base("failed");
        failed["lane"] = json!(0);
        failed["reason"] = json!("OrderRejected");
        failed["attempts"] = json!(2);
        assert!(line(&failed).contains("failed with OrderRejected (failed attempt 2)  -"));
        let mut discarded = base("discarded");
        discarded["lane"] = json!(0);
        discarded["condition"] = json!("RetryAttemptsExhausted");
        discarded["records"] = json!(1);
        discarded["delivered"] = json!(true);
        discarded["first_sequence_number"] = json!("49");
        discarded["last_sequence_number"] = json!("49");
        assert!(line(&discarded).ends_with(
            "gave up (RetryAttemptsExhausted): 1 record sent to the on-failure destination  49"
        ));
        let mut bisected = base("bisected");
        bisected["lane"] = json!(1);
        bisected["left"] = json!(2);
        bisected["right"] = json!(3);
        assert!(line(&bisected).contains("lane 1   split the failed batch in two: 2 + 3 records"));
        let mut future = base("something_new");
        future["detail"] = json!("x");
        assert!(line(&future).contains("something_new detail=x"));
    }

    #[test]
    fn queue_entries_name_the_poller() {
        let settled = json!({"at": 1u64, "time": "1970-01-01T00:00:00.001Z", "poller": 2,
            "kind": "settled", "outcome": "function_error", "reason": "OrderRejected",
            "deleted": 0, "returned": 3});
        assert_eq!(
            line(&settled),
            "1970-01-01T00:00:00.001Z  poller 2              -        failed with OrderRejected: 3 messages return to the queue after the visibility timeout (then its redrive policy applies)  -"
        );
    }
}
