//! `riffle dlq`: shows what an on-failure queue (or any queue) holds without consuming it: each
//! Lambda invocation record summarised — why, which shard, which sequence range, how many
//! invocations — and any other message as it is.
//!
//! Invariant: on Riffle's emulator, reading changes nothing: the messages come from its peek
//! route (`GET /_riffle/queues/{name}/messages`), never from ReceiveMessage, so no receive count
//! goes up and nothing reaches a dead-letter queue because it was looked at. Any other endpoint
//! has no such route: there each message is received at most once (one pass, hidden while the
//! pass runs, handed back at the end), and a warning says that this receive counts toward the
//! queue's maxReceiveCount.

use std::collections::BTreeSet;

use riffle_aws::SqsClient;
use riffle_aws::tools::sqs;
use riffle_core::kinesis::event::FailureRecord;
use riffle_core::time::iso8601_millis;
use riffle_emulator::sqs::peek::QueueMessages;
use serde_json::Value;

use super::output::out;
use super::{Endpoint, control};

/// How long the receive-once pass (on endpoints without the peek route) keeps the messages it
/// read hidden, so that the pass sees each message once; they are handed back when it ends.
const PASS_HOLD_SECONDS: i32 = 60;

/// Options of `riffle dlq`.
#[derive(Debug, clap::Args)]
pub(crate) struct DlqArgs {
    /// Queue name, URL or ARN.
    #[arg(long)]
    queue: String,
    /// Print each message body as it is, one per line.
    #[arg(long)]
    json: bool,
    /// Show at most this many messages.
    #[arg(long, default_value_t = 100)]
    max: usize,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// A Lambda invocation record, as the tools read it (`riffle dlq` summarises it, `riffle
/// redrive` re-invokes its records).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InvocationRecord {
    /// A Kinesis mapping's on-failure record, read into riffle-core's own type.
    Kinesis(Box<FailureRecord>),
    /// Another invocation record (one without `KinesisBatchInfo`): only its
    /// `requestContext.condition` is read.
    Other {
        /// `requestContext.condition` (`?` when it has none).
        condition: String,
    },
}

/// The invocation record in `body`, or `None` if it is not one (no `requestContext`).
pub(crate) fn parse(body: &str) -> Option<InvocationRecord> {
    if let Ok(record) = serde_json::from_str::<FailureRecord>(body) {
        return Some(InvocationRecord::Kinesis(Box::new(record)));
    }
    let record: Value = serde_json::from_str(body).ok()?;
    let context = record.get("requestContext")?.as_object()?;
    let condition = context.get("condition").and_then(Value::as_str);
    Some(InvocationRecord::Other {
        condition: condition.unwrap_or("?").to_owned(),
    })
}

/// One line about an on-failure invocation record of a Kinesis mapping, or `None` if `body` is
/// not one.
pub(crate) fn describe(body: &str) -> Option<String> {
    let InvocationRecord::Kinesis(record) = parse(body)? else {
        return None;
    };
    Some(format!(
        "{}: {} record(s) of {} {}..{} ({}), {} invocation(s), function error {}, at {}",
        record.condition.as_str(),
        record.batch_size,
        record.shard_id,
        record.start_sequence_number,
        record.end_sequence_number,
        record.stream_arn,
        record.approximate_invoke_count,
        record
            .response
            .as_ref()
            .and_then(|r| r.function_error.as_deref())
            .unwrap_or("none"),
        iso8601_millis(record.timestamp_ms),
    ))
}

/// The URL of `queue`: a name, URL or ARN.
pub(crate) async fn queue_url(client: &SqsClient, queue: &str) -> anyhow::Result<String> {
    sqs::queue_url(client, queue)
        .await
        .map_err(|e| anyhow::anyhow!("finding queue {queue}: {e}"))
}

/// One message to show.
struct Shown {
    id: String,
    body: String,
}

pub(crate) async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let sqs = args.endpoint.clients().sqs();
    let url = queue_url(&sqs, &args.queue).await?;
    let (messages, total) = match peek(&args.endpoint.endpoint_url, &url, args.max).await? {
        Some(peeked) => (
            peeked
                .messages
                .into_iter()
                .map(|m| Shown {
                    id: m.message_id,
                    body: m.body,
                })
                .collect(),
            peeked.total,
        ),
        None => {
            eprintln!(
                "riffle dlq: warning: {} is not Riffle's emulator, which SQS has no way to read \
                 without receiving: each message shown is received once, and that receive \
                 counts toward the queue's maxReceiveCount (a message at its limit moves to the \
                 dead-letter queue on its next receive)",
                args.endpoint.endpoint_url
            );
            let messages = receive_once(&sqs, &url, args.max).await?;
            let total = messages.len();
            (messages, total)
        }
    };
    for message in messages.iter().take(args.max) {
        let (id, body) = (&message.id, &message.body);
        if args.json {
            out!("{body}")?;
        } else {
            match describe(body) {
                Some(line) => out!("{id}  {line}")?,
                None => out!("{id}  {body}")?,
            }
        }
    }
    if messages.is_empty() && !args.json {
        out!("{} is empty", args.queue)?;
    } else if total > messages.len() && !args.json {
        out!(
            "… the first {} of {total} messages (--max shows more)",
            messages.len()
        )?;
    }
    Ok(())
}

/// The first `max` messages of the queue at `url` from the emulator's peek route (and how many
/// it holds), or `None` if `endpoint` is not Riffle's emulator (the route is not there). Shared
/// by `riffle dlq` and the dashboard: both read queues only this way on the emulator.
pub(crate) async fn peek(
    endpoint: &str,
    url: &str,
    max: usize,
) -> anyhow::Result<Option<QueueMessages>> {
    let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or(url);
    let path = format!(
        "/_riffle/queues/{}/messages?limit={max}",
        control::encode(name)
    );
    if !endpoint.starts_with("http://") {
        // The emulator serves plain HTTP only (AWS's endpoints are https://).
        return Ok(None);
    }
    let (status, body) = control::get(endpoint, &path)
        .await
        .map_err(|why| anyhow::anyhow!("cannot reach {endpoint}: {why}"))?;
    match status {
        200 => Ok(serde_json::from_slice::<QueueMessages>(&body).ok()),
        404 => match serde_json::from_slice::<Value>(&body) {
            Ok(refusal) if refusal["error"] == "QueueDoesNotExist" => anyhow::bail!(
                "{}",
                refusal["message"]
                    .as_str()
                    .unwrap_or("the queue does not exist")
            ),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// One pass of receives over the queue at `url`: each message received at most once (kept
/// hidden during the pass so the next receive moves on; a repeated message id ends it), then
/// every message handed back (visibility 0).
async fn receive_once(client: &SqsClient, url: &str, max: usize) -> anyhow::Result<Vec<Shown>> {
    let mut seen = BTreeSet::new();
    let mut shown = Vec::new();
    let mut receipts = Vec::new();
    let outcome = async {
        'pass: while shown.len() < max {
            let messages = sqs::receive(client, url, max - shown.len(), PASS_HOLD_SECONDS, 1)
                .await
                .map_err(|e| anyhow::anyhow!("ReceiveMessage on {url}: {e}"))?;
            if messages.is_empty() {
                break;
            }
            for message in messages {
                receipts.extend(message.receipt_handle);
                if !seen.insert(message.message_id.clone()) {
                    break 'pass;
                }
                shown.push(Shown {
                    id: message.message_id,
                    body: message.body,
                });
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    // Hand everything back, also after an error.
    for chunk in receipts.chunks(10) {
        if let Err(e) = sqs::hand_back_batch(client, url, chunk).await {
            eprintln!(
                "riffle dlq: some messages stay hidden until their visibility timeout \
                 ({PASS_HOLD_SECONDS} s): {e}"
            );
        }
    }
    outcome.map(|()| shown)
}

#[cfg(test)]
mod tests {
    #[test]
    fn invocation_records_are_summarised() {
        let body = r#"{"requestContext":{"requestId":"r","functionArn":"f","condition":"RetryAttemptsExhausted","approximateInvokeCount":4},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"2","approximateArrivalOfFirstRecord":"2025-11-25T16:34:58.101Z","approximateArrivalOfLastRecord":"2025-11-25T16:34:58.907Z","batchSize":2,"streamArn":"arn:aws:kinesis:us-east-1:000000000000:stream/orders"}}"#;
        assert_eq!(
            super::describe(body).unwrap(),
            "RetryAttemptsExhausted: 2 record(s) of shardId-000000000000 1..2 (arn:aws:kinesis:us-east-1:000000000000:stream/orders), 4 invocation(s), function error Unhandled, at 2025-11-25T16:35:01.512Z"
        );
        assert_eq!(super::describe("hello"), None);
        let Some(super::InvocationRecord::Kinesis(parsed)) = super::parse(body) else {
            panic!("a Kinesis failure record");
        };
        assert_eq!(parsed.function_arn, "f");
        assert_eq!(
            parsed.end_sequence_number, "2",
            "redrive reads the range from here"
        );
    }
}
