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
//! without hiding or deleting anything.

use std::cmp::Ordering;
use std::collections::HashSet;

use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use bytes::Bytes;
use riffle_core::invocation::ENVELOPE_BYTES;
use riffle_core::kinesis::event::{EventSource, kinesis_event_with_capacity, record_json_len};
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use serde_json::Value;

use super::dlq::{self, InvocationRecord, KinesisBatchInfo};
use super::output::out;
use super::{Endpoint, sdk_error};

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

struct Tools {
    kinesis: aws_sdk_kinesis::Client,
    lambda: aws_sdk_lambda::Client,
    region: String,
}

pub(crate) async fn run(args: RedriveArgs) -> anyhow::Result<()> {
    let (kinesis, sqs) = args.endpoint.clients();
    let lambda_endpoint = args
        .lambda_endpoint_url
        .clone()
        .unwrap_or_else(|| args.endpoint.endpoint_url.clone());
    let tools = Tools {
        kinesis,
        lambda: riffle_aws::lambda_client(&lambda_endpoint, &args.endpoint.region),
        region: args.endpoint.region.clone(),
    };
    let url = dlq::queue_url(&sqs, &args.queue).await?;
    // Every record read stays hidden while this runs (so it is read once, and no other
    // consumer takes it meanwhile); the kept ones, and in a dry run all of them, are handed back
    // at the end. SQS has no peek: each record's receive count still goes up by one.
    let visibility = HOLD_SECONDS;
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let (mut deleted, mut quiet_rounds) = (0usize, 0);
    // Set when stdout is closed (`| head`): stop taking messages, but still hand back the kept
    // ones before ending.
    let mut stopped = None;
    while seen.len() < args.max && quiet_rounds < 3 && stopped.is_none() {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages((args.max - seen.len()).clamp(1, 10) as i32)
            .visibility_timeout(visibility)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ReceiveMessage on {url}: {}", sdk_error(&e)))?;
        let mut new = 0;
        for message in out.messages() {
            let id = message.message_id().unwrap_or_default().to_owned();
            if stopped.is_some() {
                // Received in this round but never looked at: hand it back too.
                kept.extend(message.receipt_handle().map(str::to_owned));
                continue;
            }
            if !seen.insert(id.clone()) {
                continue;
            }
            new += 1;
            let body = message.body().unwrap_or_default();
            let verdict = redrive(&tools, body, &args).await;
            let line = match verdict {
                Verdict::Would(what) => {
                    kept.extend(message.receipt_handle().map(str::to_owned));
                    format!("{id}  would {what}")
                }
                Verdict::Keep(why) => {
                    kept.extend(message.receipt_handle().map(str::to_owned));
                    format!("{id}  kept: {why}")
                }
                Verdict::Delete(what) => {
                    let receipt = message.receipt_handle().unwrap_or_default();
                    match sqs
                        .delete_message()
                        .queue_url(&url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                    {
                        Ok(_) => {
                            deleted += 1;
                            format!("{id}  {what}; failure record deleted")
                        }
                        Err(e) => {
                            kept.push(receipt.to_owned());
                            format!(
                                "{id}  {what}, but deleting the failure record failed ({}); it stays in the queue",
                                sdk_error(&e)
                            )
                        }
                    }
                }
            };
            if let Err(e) = out!("{line}") {
                stopped = Some(e);
            }
        }
        quiet_rounds = if new == 0 { quiet_rounds + 1 } else { 0 };
    }
    // Kept messages were hidden while we worked; hand them back now.
    for receipt in &kept {
        if let Err(e) = sqs
            .change_message_visibility()
            .queue_url(&url)
            .receipt_handle(receipt)
            .visibility_timeout(0)
            .send()
            .await
        {
            eprintln!(
                "riffle: a kept message stays hidden until its visibility timeout ({HOLD_SECONDS} s): {}",
                sdk_error(&e)
            );
        }
    }
    if let Some(closed) = stopped {
        return Err(closed);
    }
    match (seen.len(), args.dry_run, kept.len()) {
        (0, _, _) => out!("{} is empty: nothing to redrive", args.queue)?,
        (n, true, _) => out!("dry run: {n} message(s) read, nothing invoked or deleted")?,
        (_, false, 0) => out!("{deleted} failure record(s) redriven and deleted")?,
        (_, false, k) => anyhow::bail!(
            "{deleted} failure record(s) redriven and deleted, {k} kept in {} (see above)",
            args.queue
        ),
    }
    Ok(())
}

/// Decides and does what one message calls for (everything but the delete).
async fn redrive(tools: &Tools, body: &str, args: &RedriveArgs) -> Verdict {
    let Some(record) = dlq::parse(body) else {
        return Verdict::Keep("not a Lambda invocation record".to_owned());
    };
    let Some(info) = &record.kinesis else {
        return Verdict::Keep(format!(
            "{} record without KinesisBatchInfo: only Kinesis failure records can be redriven \
             (an SQS mapping's failed messages go to its queue's dead-letter queue, which SQS \
             redrives itself)",
            record.condition
        ));
    };
    let function = match (&args.function, record.function_arn.as_str()) {
        (Some(function), _) => function.clone(),
        (None, "?") => {
            return Verdict::Keep(
                "the record names no function (requestContext.functionArn); pass --function"
                    .to_owned(),
            );
        }
        (None, arn) => arn.to_owned(),
    };
    let records = match fetch(&tools.kinesis, info, args.whole_range).await {
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
            info.start_sequence_number, info.end_sequence_number
        )
    };
    let what = format!(
        "invoke {function} with {} record(s) of {}: {which}",
        records.len(),
        info.shard_id,
    );
    if args.dry_run {
        return Verdict::Would(what);
    }
    let payload = event(&record, info, &records, &tools.region);
    match invoke(&tools.lambda, &function, payload).await {
        Ok(()) => Verdict::Delete(format!("{what}: succeeded")),
        Err(why) => Verdict::Keep(format!("{what}: {why}")),
    }
}

/// Orders sequence numbers (decimal, without leading zeros) by value.
fn compare(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Reads the batch's records from the stream: from `startSequenceNumber` through
/// `endSequenceNumber`, refusing a batch the stream no longer holds whole.
async fn fetch(
    kinesis: &aws_sdk_kinesis::Client,
    info: &KinesisBatchInfo,
    whole_range: bool,
) -> Result<Vec<StreamRecord>, String> {
    let (start, end) = (&info.start_sequence_number, &info.end_sequence_number);
    let where_ = format!("{} of {}", info.shard_id, info.stream_arn);
    let iterator = kinesis
        .get_shard_iterator()
        .stream_arn(&info.stream_arn)
        .shard_id(&info.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(start)
        .send()
        .await
        .map_err(|e| format!("cannot read {where_} at {start}: {}", sdk_error(&e)))?;
    let mut iterator = iterator.shard_iterator;
    let mut records = Vec::new();
    let mut empty_reads = 0;
    'reading: while let Some(current) = iterator.take() {
        let out = kinesis
            .get_records()
            .shard_iterator(current)
            .limit(10_000)
            .send()
            .await
            .map_err(|e| format!("reading {where_}: {}", sdk_error(&e)))?;
        for record in out.records() {
            let sequence_number = record.sequence_number();
            if compare(sequence_number, end) == Ordering::Greater {
                break 'reading;
            }
            let Some(parsed) = SequenceNumber::parse(sequence_number) else {
                return Err(format!(
                    "{where_} returned an invalid sequence number {sequence_number}"
                ));
            };
            records.push(StreamRecord {
                sequence_number: parsed,
                partition_key: record.partition_key().unwrap_or_default().to_owned(),
                data: Bytes::copy_from_slice(record.data().as_ref()),
                arrival_ms: record
                    .approximate_arrival_timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .map_or(0, |ms| ms.max(0) as u64),
            });
            if sequence_number == end {
                break 'reading;
            }
        }
        let caught_up = out.millis_behind_latest() == Some(0);
        empty_reads = if out.records().is_empty() {
            empty_reads + 1
        } else {
            0
        };
        if (out.records().is_empty() && caught_up) || empty_reads > 100 {
            break;
        }
        iterator = out.next_shard_iterator;
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
    let count = records.len() as u64;
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
fn event(
    record: &InvocationRecord,
    info: &KinesisBatchInfo,
    records: &[StreamRecord],
    default_region: &str,
) -> String {
    let arn_part = |arn: &str, n: usize| {
        arn.split(':')
            .nth(n)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    };
    let account = arn_part(&record.function_arn, 4).unwrap_or_else(|| "000000000000".to_owned());
    let source = EventSource {
        stream_arn: info.stream_arn.clone(),
        region: arn_part(&info.stream_arn, 3).unwrap_or_else(|| default_region.to_owned()),
        // The role riffle local's mappings invoke with (MappingOptions).
        invoke_identity_arn: format!("arn:aws:iam::{account}:role/riffle-local"),
        shard_id: info.shard_id.clone(),
    };
    let capacity = ENVELOPE_BYTES
        + records
            .iter()
            .map(|r| record_json_len(&source, r) + 1)
            .sum::<usize>();
    kinesis_event_with_capacity(&source, records, capacity)
}

/// Invokes `function` with `payload`; `Ok` only for a success without `batchItemFailures`.
async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    payload: String,
) -> Result<(), String> {
    let out = lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(service) => format!(
                "the invoke failed: {}: {}",
                service.code().unwrap_or("error"),
                service.message().unwrap_or_default()
            ),
            None => format!(
                "the invoke failed: {e} (is riffle local running? the Invoke API is on its \
                 emulator's port, or on --control-port with --endpoint-url: pass \
                 --lambda-endpoint-url)"
            ),
        })?;
    let body = out.payload.map(Blob::into_inner).unwrap_or_default();
    let response: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
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
        assert_eq!(compare("9", "10"), Ordering::Less);
        assert_eq!(compare("49", "49"), Ordering::Equal);
        assert_eq!(compare("51", "49"), Ordering::Greater);
    }

    #[test]
    fn the_event_is_the_engines() {
        let body = r#"{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:eu-west-1:123456789012:function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":2},"version":"1.0","timestamp":"2025-11-25T16:35:01.512Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"2","batchSize":2,"streamArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}}"#;
        let record = dlq::parse(body).unwrap();
        let info = record.kinesis.clone().unwrap();
        let records: Vec<StreamRecord> = ["1", "2"]
            .iter()
            .map(|s| StreamRecord {
                sequence_number: SequenceNumber::parse(s).unwrap(),
                partition_key: "k".into(),
                data: Bytes::from_static(b"hi"),
                arrival_ms: 1_700_000_000_000,
            })
            .collect();
        let event = event(&record, &info, &records, "us-east-1");
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
