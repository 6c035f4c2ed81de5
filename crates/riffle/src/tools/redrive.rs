//! `riffle redrive`: reads Lambda's on-failure invocation records from a queue, fetches the
//! exact records each one names (`KinesisBatchInfo`: shard, first and last sequence number)
//! from the stream, sends the function the Kinesis event the engine would send for them
//! (riffle-core's own writer), through the Lambda Invoke API (`riffle local` serves it), and
//! deletes the failure record once the function succeeded.
//!
//! Invariants: a failure record is deleted only after an invocation that succeeded with no
//! `batchItemFailures`; every other case keeps it (and hands it back to the queue at the end)
//! and says why. Nothing is invoked unless the stream still holds exactly the batch's records
//! (first and last sequence number, and as many records as the batch had). `--dry-run` reads
//! without hiding or deleting anything. [`pass`] is all of it over one queue, shared with the
//! dashboard's redrive button.

use std::collections::HashSet;

use bytes::Bytes;
use riffle_aws::tools::kinesis::{self, Position, StreamRef};
use riffle_aws::tools::lambda::{self, InvokeError};
use riffle_aws::tools::sqs;
use riffle_aws::{KinesisClient, LambdaClient, SqsClient};
use riffle_core::invocation::ENVELOPE_BYTES;
use riffle_core::kinesis::event::{
    EventSource, FailureRecord, kinesis_event_with_capacity, record_json_len,
};
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use serde_json::Value;

use super::Endpoint;
use super::dlq::{self, InvocationRecord};
use super::output::out;

/// How long a failure record stays hidden from other consumers while it is redriven; one kept
/// is handed back (made visible) when the command ends, so this matters only if it is killed.
const HOLD_SECONDS: i32 = 300;

/// Options of `riffle redrive`.
#[derive(Debug, clap::Args)]
pub(crate) struct RedriveArgs {
    /// The on-failure queue: name, URL or ARN.
    #[arg(long)]
    queue: String,
    /// Invoke this function (name, logical id or ARN) instead of the one each record names.
    #[arg(long)]
    function: Option<String>,
    /// Print what would be invoked; invoke nothing, delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Redrive at most this many failure records.
    #[arg(long, default_value_t = 100)]
    max: usize,
    /// Redrive every record in the sequence range even when it holds more records than the
    /// failed batch (records of other ParallelizationFactor lanes, or filtered out).
    #[arg(long)]
    whole_range: bool,
    /// Where the Lambda Invoke API is (default: the endpoint; with `riffle local
    /// --endpoint-url`, its control port, http://127.0.0.1:4567).
    #[arg(long, env = "RIFFLE_LAMBDA_ENDPOINT_URL")]
    lambda_endpoint_url: Option<String>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Redriven; delete the failure record.
    Delete(String),
    /// Keep the message, for this reason.
    Keep(String),
    /// `--dry-run`: what would happen.
    Would(String),
}

/// What a redrive works with: the clients, and how it redrives (`riffle redrive`'s options, or
/// the dashboard's redrive button).
pub(crate) struct Tools {
    pub(crate) kinesis: KinesisClient,
    pub(crate) lambda: LambdaClient,
    pub(crate) region: String,
    /// Invoke this function instead of the one each record names.
    pub(crate) function: Option<String>,
    /// Invoke nothing, delete nothing.
    pub(crate) dry_run: bool,
    /// Redrive the whole sequence range even when it holds more records than the batch had.
    pub(crate) whole_range: bool,
}

/// How one pass over a queue ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Messages read.
    pub(crate) seen: usize,
    /// Failure records redriven and deleted.
    pub(crate) deleted: usize,
    /// Messages kept (handed back).
    pub(crate) kept: usize,
}

pub(crate) async fn run(args: RedriveArgs) -> anyhow::Result<()> {
    let clients = args.endpoint.clients();
    let queues = clients.sqs();
    let lambda_endpoint = args
        .lambda_endpoint_url
        .clone()
        .unwrap_or_else(|| args.endpoint.endpoint_url.clone());
    let tools = Tools {
        kinesis: clients.kinesis(),
        lambda: riffle_aws::lambda_client(&lambda_endpoint, &args.endpoint.region),
        region: args.endpoint.region.clone(),
        function: args.function.clone(),
        dry_run: args.dry_run,
        whole_range: args.whole_range,
    };
    let url = dlq::queue_url(&queues, &args.queue).await?;
    let pass = pass(&tools, &queues, &url, args.max, |line| out!("{line}")).await?;
    match (pass.seen, args.dry_run, pass.kept) {
        (0, _, _) => out!("{} is empty: nothing to redrive", args.queue)?,
        (n, true, _) => out!("dry run: {n} message(s) read, nothing invoked or deleted")?,
        (_, false, 0) => out!("{} failure record(s) redriven and deleted", pass.deleted)?,
        (_, false, k) => anyhow::bail!(
            "{} failure record(s) redriven and deleted, {k} kept in {} (see above)",
            pass.deleted,
            args.queue
        ),
    }
    Ok(())
}

/// One redrive pass over the queue at `url` (at most `max` messages), each outcome handed to
/// `report` as a line; an error from `report` (stdout closed) stops taking messages, and is
/// returned once the kept ones are handed back.
pub(crate) async fn pass(
    tools: &Tools,
    queues: &SqsClient,
    url: &str,
    max: usize,
    mut report: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<Pass> {
    // Every record read stays hidden while this runs (so it is read once, and no other
    // consumer takes it meanwhile); the kept ones, and in a dry run all of them, are handed back
    // at the end. SQS has no peek: each record's receive count still goes up by one.
    let visibility = HOLD_SECONDS;
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let (mut deleted, mut quiet_rounds) = (0usize, 0);
    // Set when the report fails (`| head`): stop taking messages, but still hand back the kept
    // ones before ending.
    let mut stopped = None;
    while seen.len() < max && quiet_rounds < 3 && stopped.is_none() {
        let messages = sqs::receive(queues, url, max - seen.len(), visibility, 0)
            .await
            .map_err(|e| anyhow::anyhow!("ReceiveMessage on {url}: {e}"))?;
        let mut new = 0;
        for message in messages {
            let id = message.message_id;
            if stopped.is_some() {
                // Received in this round but never looked at: hand it back too.
                kept.extend(message.receipt_handle);
                continue;
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            new += 1;
            let verdict = redrive(tools, &message.body).await;
            let line = match verdict {
                Verdict::Would(what) => {
                    kept.extend(message.receipt_handle);
                    format!("{id}  would {what}")
                }
                Verdict::Keep(why) => {
                    kept.extend(message.receipt_handle);
                    format!("{id}  kept: {why}")
                }
                Verdict::Delete(what) => {
                    let receipt = message.receipt_handle.unwrap_or_default();
                    match sqs::delete(queues, url, &receipt).await {
                        Ok(_) => {
                            deleted += 1;
                            format!("{id}  {what}; failure record deleted")
                        }
                        Err(e) => {
                            kept.push(receipt);
                            format!(
                                "{id}  {what}, but deleting the failure record failed ({e}); it stays in the queue"
                            )
                        }
                    }
                }
            };
            if let Err(e) = report(&line) {
                stopped = Some(e);
            }
        }
        quiet_rounds = if new == 0 { quiet_rounds + 1 } else { 0 };
    }
    // Kept messages were hidden while we worked; hand them back now.
    for receipt in &kept {
        if let Err(e) = sqs::hand_back(queues, url, receipt).await {
            eprintln!(
                "riffle: a kept message stays hidden until its visibility timeout ({HOLD_SECONDS} s): {e}"
            );
        }
    }
    if let Some(closed) = stopped {
        return Err(closed);
    }
    Ok(Pass {
        seen: seen.len(),
        deleted,
        kept: kept.len(),
    })
}

/// Decides and does what one message calls for (everything but the delete).
async fn redrive(tools: &Tools, body: &str) -> Verdict {
    let Some(record) = dlq::parse(body) else {
        return Verdict::Keep("not a Lambda invocation record".to_owned());
    };
    let record = match record {
        InvocationRecord::Kinesis(record) => record,
        InvocationRecord::Other { condition } => {
            return Verdict::Keep(format!(
                "{condition} record without KinesisBatchInfo: only Kinesis failure records can be \
                 redriven (an SQS mapping's failed messages go to its queue's dead-letter queue, \
                 which SQS redrives itself)"
            ));
        }
    };
    let function = match (&tools.function, record.function_arn.as_str()) {
        (Some(function), _) => function.clone(),
        (None, "" | "?") => {
            return Verdict::Keep(
                "the record names no function (requestContext.functionArn); pass --function"
                    .to_owned(),
            );
        }
        (None, arn) => arn.to_owned(),
    };
    let records = match fetch(&tools.kinesis, &record, tools.whole_range).await {
        Ok(records) => records,
        Err(why) => return Verdict::Keep(why),
    };
    // The exact records, or their range when there are many.
    let which = if records.len() <= 10 {
        records
            .iter()
            .map(|r| r.sequence_number.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format!(
            "{}..{}",
            record.start_sequence_number, record.end_sequence_number
        )
    };
    let what = format!(
        "invoke {function} with {} record(s) of {}: {which}",
        records.len(),
        record.shard_id,
    );
    if tools.dry_run {
        return Verdict::Would(what);
    }
    let payload = event(&record, &records, &tools.region);
    match invoke(&tools.lambda, &function, payload).await {
        Ok(()) => Verdict::Delete(format!("{what}: succeeded")),
        Err(why) => Verdict::Keep(format!("{what}: {why}")),
    }
}

/// Reads the batch's records from the stream: from `startSequenceNumber` through
/// `endSequenceNumber`, refusing a batch the stream no longer holds whole.
async fn fetch(
    client: &KinesisClient,
    info: &FailureRecord,
    whole_range: bool,
) -> Result<Vec<StreamRecord>, String> {
    let (start, end) = (&info.start_sequence_number, &info.end_sequence_number);
    let where_ = format!("{} of {}", info.shard_id, info.stream_arn);
    let Some(last_wanted) = SequenceNumber::parse(end) else {
        return Err(format!(
            "the failure record's endSequenceNumber {end} is not a sequence number; nothing \
             redriven"
        ));
    };
    let mut iterator = kinesis::shard_iterator(
        client,
        StreamRef::Arn(&info.stream_arn),
        &info.shard_id,
        Position::At(start),
    )
    .await
    .map_err(|e| format!("cannot read {where_} at {start}: {e}"))?;
    let mut records = Vec::new();
    let mut empty_reads = 0;
    'reading: while let Some(current) = iterator.take() {
        let out = kinesis::get_records(client, current, Some(10_000))
            .await
            .map_err(|e| format!("reading {where_}: {e}"))?;
        let read = out.records.len();
        for record in out.records {
            let Some(parsed) = SequenceNumber::parse(&record.sequence_number) else {
                return Err(format!(
                    "{where_} returned an invalid sequence number {}",
                    record.sequence_number
                ));
            };
            if parsed > last_wanted {
                break 'reading;
            }
            let last = parsed == last_wanted;
            records.push(StreamRecord {
                sequence_number: parsed,
                partition_key: record.partition_key.unwrap_or_default(),
                data: Bytes::from(record.data),
                arrival_ms: record.arrival_ms.map_or(0, |ms| ms.max(0) as u64),
            });
            if last {
                break 'reading;
            }
        }
        let caught_up = out.millis_behind == Some(0);
        empty_reads = if read == 0 { empty_reads + 1 } else { 0 };
        if (read == 0 && caught_up) || empty_reads > 100 {
            break;
        }
        iterator = out.next_iterator;
    }
    let kept = "nothing redriven";
    match records.first() {
        None => {
            return Err(format!(
                "{where_} no longer holds {start}..{end} (trimmed after the stream's retention \
                 period, or the stream was re-created); {kept}"
            ));
        }
        Some(first) if first.sequence_number.as_str() != start => {
            return Err(format!(
                "the batch's first record {start} is no longer in {where_} (trimmed after the \
                 stream's retention period); {kept}"
            ));
        }
        _ => {}
    }
    if records.last().map(|r| r.sequence_number.as_str()) != Some(end.as_str()) {
        return Err(format!(
            "{where_} holds no record {end}, the batch's last; {kept}"
        ));
    }
    let count = records.len();
    if info.batch_size > 0 && count != info.batch_size && !(whole_range && count > info.batch_size)
    {
        return Err(format!(
            "{start}..{end} holds {count} record(s) but the failed batch had {} (records of other \
             ParallelizationFactor lanes, or filtered out, lie in between); {kept} — pass \
             --whole-range to redrive all {count}",
            info.batch_size
        ));
    }
    Ok(records)
}

/// The Kinesis event the engine sends for `records` (riffle-core's writer).
fn event(record: &FailureRecord, records: &[StreamRecord], default_region: &str) -> String {
    let arn_part = |arn: &str, n: usize| {
        arn.split(':')
            .nth(n)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    };
    let account = arn_part(&record.function_arn, 4).unwrap_or_else(|| "000000000000".to_owned());
    let source = EventSource {
        stream_arn: record.stream_arn.clone(),
        region: arn_part(&record.stream_arn, 3).unwrap_or_else(|| default_region.to_owned()),
        // The role riffle local's mappings invoke with (KinesisMappingOptions).
        invoke_identity_arn: format!("arn:aws:iam::{account}:role/riffle-local"),
        shard_id: record.shard_id.clone(),
    };
    let capacity = ENVELOPE_BYTES
        + records
            .iter()
            .map(|r| record_json_len(&source, r) + 1)
            .sum::<usize>();
    kinesis_event_with_capacity(&source, records, capacity)
}

/// Invokes `function` with `payload`; `Ok` only for a success without `batchItemFailures`.
async fn invoke(client: &LambdaClient, function: &str, payload: String) -> Result<(), String> {
    let out = lambda::invoke(client, function, payload)
        .await
        .map_err(|e| match e {
            InvokeError::Service { code, message } => {
                format!("the invoke failed: {code}: {message}")
            }
            InvokeError::Unreachable(e) => format!(
                "the invoke failed: {e} (is riffle local running? the Invoke API is on its \
                 emulator's port, or on --control-port with --endpoint-url: pass \
                 --lambda-endpoint-url)"
            ),
        })?;
    let response: Value = serde_json::from_slice(&out.payload).unwrap_or(Value::Null);
    if let Some(error) = out.function_error {
        return Err(format!(
            "function error ({error}): {}",
            response["errorType"].as_str().unwrap_or("no errorType")
        ));
    }
    match response["batchItemFailures"].as_array() {
        Some(failures) if !failures.is_empty() => {
            let ids: Vec<String> = failures
                .iter()
                .map(|f| f["itemIdentifier"].as_str().unwrap_or("?").to_owned())
                .collect();
            Err(format!(
                "the function reported batchItemFailures for {}",
                ids.join(", ")
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_by_value() {
        let n = |s| SequenceNumber::parse(s).unwrap();
        assert!(n("9") < n("10"));
        assert_eq!(n("49"), n("49"));
        assert!(n("51") > n("49"));
    }

    #[test]
    fn the_event_is_the_engines() {
        let body = r#"{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:eu-west-1:123456789012:function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":2},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"2","approximateArrivalOfFirstRecord":"2025-11-25T16:34:58.101Z","approximateArrivalOfLastRecord":"2025-11-25T16:34:58.907Z","batchSize":2,"streamArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}}"#;
        let Some(InvocationRecord::Kinesis(record)) = dlq::parse(body) else {
            panic!("a Kinesis failure record");
        };
        let info = (*record).clone();
        let records: Vec<StreamRecord> = ["1", "2"]
            .iter()
            .map(|s| StreamRecord {
                sequence_number: SequenceNumber::parse(s).unwrap(),
                partition_key: "k".into(),
                data: Bytes::from_static(b"hi"),
                arrival_ms: 1_700_000_000_000,
            })
            .collect();
        let event = event(&record, &records, "us-east-1");
        let source = EventSource {
            stream_arn: info.stream_arn.clone(),
            region: "eu-west-1".into(),
            invoke_identity_arn: "arn:aws:iam::123456789012:role/riffle-local".into(),
            shard_id: info.shard_id.clone(),
        };
        assert_eq!(
            event,
            riffle_core::kinesis::event::kinesis_event(&source, &records)
        );
        let value: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(value["Records"].as_array().unwrap().len(), 2);
    }
}
