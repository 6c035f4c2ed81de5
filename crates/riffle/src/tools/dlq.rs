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

/// One line about an on-failure invocation record, or `None` if `body` is not one.
pub(crate) fn describe(body: &str) -> Option<String> {
    let record: Value = serde_json::from_str(body).ok()?;
    let info = record.get("KinesisBatchInfo")?;
    let context = &record["requestContext"];
    let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    Some(format!(
        "{}: {} record(s) of {} {}..{} ({}), {} invocation(s), function error {}, at {}",
        text(&context["condition"]),
        info["batchSize"],
        text(&info["shardId"]),
        text(&info["startSequenceNumber"]),
        text(&info["endSequenceNumber"]),
        text(&info["streamArn"]),
        context["approximateInvokeCount"],
        record["responseContext"]["functionError"]
            .as_str()
            .unwrap_or("none"),
        text(&record["timestamp"]),
    ))
}

pub(crate) async fn run(args: DlqArgs) -> anyhow::Result<()> {
    let (_, sqs) = args.endpoint.clients();
    let url = if args.queue.starts_with("http://") || args.queue.starts_with("https://") {
        args.queue.clone()
    } else if args.queue.starts_with("arn:") {
        riffle_aws::queue_url(&sqs, &args.queue)
            .await
            .map_err(|e| anyhow::anyhow!("finding queue {}: {e}", args.queue))?
    } else {
        sqs.get_queue_url()
            .queue_name(&args.queue)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("finding queue {}: {e}", args.queue))?
            .queue_url
            .unwrap_or_default()
    };
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
    }
}
