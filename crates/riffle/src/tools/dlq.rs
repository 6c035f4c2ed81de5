//! `riffle dlq`: shows what an on-failure queue (or any queue) holds without consuming it: each
//! Lambda invocation record summarised — why, which shard, which sequence range, how many
//! invocations — and any other message as it is.
//!
//! Invariant: reading never hides or deletes a message (receives use a visibility timeout of 0).

use std::collections::BTreeSet;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::Value;

use super::Endpoint;

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
pub(crate) struct InvocationRecord {
    /// `requestContext.condition` (`RetryAttemptsExhausted`, …).
    pub(crate) condition: String,
    /// `requestContext.functionArn`.
    pub(crate) function_arn: String,
    /// `requestContext.approximateInvokeCount`.
    pub(crate) invoke_count: Value,
    /// `responseContext.functionError`, if any.
    pub(crate) function_error: Option<String>,
    /// `timestamp`.
    pub(crate) timestamp: String,
    /// `KinesisBatchInfo`, for a Kinesis mapping's record.
    pub(crate) kinesis: Option<KinesisBatchInfo>,
}

/// `KinesisBatchInfo`: which records of which shard a failure record stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KinesisBatchInfo {
    pub(crate) shard_id: String,
    pub(crate) start_sequence_number: String,
    pub(crate) end_sequence_number: String,
    /// Records in the batch.
    pub(crate) batch_size: u64,
    pub(crate) stream_arn: String,
}

/// The invocation record in `body`, or `None` if it is not one (no `requestContext`).
pub(crate) fn parse(body: &str) -> Option<InvocationRecord> {
    let record: Value = serde_json::from_str(body).ok()?;
    let context = record.get("requestContext")?.as_object()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("?").to_owned();
    let kinesis = record.get("KinesisBatchInfo").map(|info| KinesisBatchInfo {
        shard_id: text(info.get("shardId")),
        start_sequence_number: text(info.get("startSequenceNumber")),
        end_sequence_number: text(info.get("endSequenceNumber")),
        batch_size: info["batchSize"].as_u64().unwrap_or(0),
        stream_arn: text(info.get("streamArn")),
    });
    Some(InvocationRecord {
        condition: text(context.get("condition")),
        function_arn: text(context.get("functionArn")),
        invoke_count: context
            .get("approximateInvokeCount")
            .cloned()
            .unwrap_or(Value::Null),
        function_error: record["responseContext"]["functionError"]
            .as_str()
            .map(str::to_owned),
        timestamp: text(record.get("timestamp")),
        kinesis,
    })
}

/// One line about an on-failure invocation record of a Kinesis mapping, or `None` if `body` is
/// not one.
pub(crate) fn describe(body: &str) -> Option<String> {
    let record = parse(body)?;
    let info = record.kinesis.as_ref()?;
    Some(format!(
        "{}: {} record(s) of {} {}..{} ({}), {} invocation(s), function error {}, at {}",
        record.condition,
        info.batch_size,
        info.shard_id,
        info.start_sequence_number,
        info.end_sequence_number,
        info.stream_arn,
        record.invoke_count,
        record.function_error.as_deref().unwrap_or("none"),
        record.timestamp,
    ))
}

/// The URL of `queue`: a name, URL or ARN.
pub(crate) async fn queue_url(sqs: &aws_sdk_sqs::Client, queue: &str) -> anyhow::Result<String> {
    if queue.starts_with("http://") || queue.starts_with("https://") {
        Ok(queue.to_owned())
    } else if queue.starts_with("arn:") {
        riffle_aws::queue_url(sqs, queue)
            .await
            .map_err(|e| anyhow::anyhow!("finding queue {queue}: {e}"))
    } else {
        Ok(sqs
            .get_queue_url()
            .queue_name(queue)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("finding queue {queue}: {}", super::sdk_error(&e)))?
            .queue_url
            .unwrap_or_default())
    }
}

pub(crate) async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let (_, sqs) = args.endpoint.clients();
    let url = queue_url(&sqs, &args.queue).await?;
    let mut seen = BTreeSet::new();
    let mut quiet_rounds = 0;
    while seen.len() < args.max && quiet_rounds < 3 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ReceiveMessage on {url}: {e}"))?;
        let mut new = 0;
        for message in out.messages() {
            let id = message.message_id().unwrap_or_default().to_owned();
            if !seen.insert(id.clone()) || seen.len() > args.max {
                continue;
            }
            new += 1;
            let body = message.body().unwrap_or_default();
            if args.json {
                println!("{body}");
            } else {
                match describe(body) {
                    Some(line) => println!("{id}  {line}"),
                    None => println!("{id}  {body}"),
                }
            }
        }
        quiet_rounds = if new == 0 { quiet_rounds + 1 } else { 0 };
    }
    if seen.is_empty() && !args.json {
        println!("{} is empty", args.queue);
    }
    Ok(())
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
        let parsed = super::parse(body).unwrap();
        assert_eq!(parsed.function_arn, "f");
        assert_eq!(
            parsed.kinesis.unwrap().end_sequence_number,
            "2",
            "redrive reads the range from here"
        );
    }
}
