//! `riffle generate-event`: prints a realistic event, exactly as the engine would send it (the
//! same writers build it), like `sam local generate-event`.

use riffle_core::digest::md5_hex;
use riffle_core::kinesis::event::{EventSource, kinesis_event};
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::sqs::event::{QueueMessage, sqs_event};

/// Which event.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum GenerateArgs {
    /// A Kinesis event with one record per `--data`.
    Kinesis {
        /// Record data (repeat for more records).
        #[arg(
            long,
            default_value = "{\"orderId\":\"o-1\",\"amount_cents\":1250,\"currency\":\"EUR\"}"
        )]
        data: Vec<String>,
        /// Partition key of every record.
        #[arg(long, default_value = "o-1")]
        partition_key: String,
        /// Stream ARN.
        #[arg(
            long,
            default_value = "arn:aws:kinesis:us-east-1:000000000000:stream/order-events"
        )]
        stream_arn: String,
        /// Shard id.
        #[arg(long, default_value = "shardId-000000000000")]
        shard_id: String,
    },
    /// An SQS event with one message per `--body`.
    Sqs {
        /// Message body (repeat for more messages).
        #[arg(long, default_value = "{\"job\":1}")]
        body: Vec<String>,
        /// Queue ARN.
        #[arg(long, default_value = "arn:aws:sqs:us-east-1:000000000000:jobs")]
        queue_arn: String,
    },
}

/// 2024-11-25T16:00:00Z.
const EPOCH_MS: u64 = 1_732_550_400_000;

fn region(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("us-east-1").to_owned()
}

/// The event JSON for `args`, pretty-printed.
pub(crate) fn event(args: &GenerateArgs) -> String {
    let compact = match args {
        GenerateArgs::Kinesis {
            data,
            partition_key,
            stream_arn,
            shard_id,
        } => {
            let account = stream_arn.split(':').nth(4).unwrap_or("000000000000");
            let source = EventSource {
                stream_arn: stream_arn.clone(),
                region: region(stream_arn),
                invoke_identity_arn: format!("arn:aws:iam::{account}:role/lambda-role"),
                shard_id: shard_id.clone(),
            };
            let records: Vec<StreamRecord> = data
                .iter()
                .enumerate()
                .map(|(i, d)| StreamRecord {
                    sequence_number: SequenceNumber::parse(&format!(
                        "4965550201928374657165001876{:028}",
                        i + 1
                    ))
                    .expect("digits"),
                    partition_key: partition_key.clone(),
                    data: bytes::Bytes::from(d.clone().into_bytes()),
                    arrival_ms: EPOCH_MS + i as u64,
                })
                .collect();
            kinesis_event(&source, &records)
        }
        GenerateArgs::Sqs { body, queue_arn } => {
            let messages: Vec<QueueMessage> = body
                .iter()
                .enumerate()
                .map(|(i, b)| QueueMessage {
                    message_id: format!("7f9c1a2e-0000-4000-8000-{:012x}", i + 1),
                    receipt_handle: format!("AQEB{:032x}", i + 1),
                    body: b.clone(),
                    md5_of_body: md5_hex(b.as_bytes()),
                    attributes: vec![
                        ("ApproximateReceiveCount".into(), "1".into()),
                        ("SentTimestamp".into(), (EPOCH_MS + i as u64).to_string()),
                        ("SenderId".into(), "AIDAIENQZJOLO23YVJ4VO".into()),
                        (
                            "ApproximateFirstReceiveTimestamp".into(),
                            (EPOCH_MS + i as u64 + 10).to_string(),
                        ),
                    ],
                    message_attributes: Vec::new(),
                    md5_of_message_attributes: None,
                })
                .collect();
            sqs_event(queue_arn, &region(queue_arn), &messages)
        }
    };
    indent(&compact)
}

/// Pretty-prints compact JSON keeping its field order and number text (a `serde_json::Value`
/// would sort the fields and could reformat numbers).
fn indent(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let empty = matches!(chars.peek(), Some('}' | ']'));
                if empty {
                    out.push(chars.next().unwrap_or(' '));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_events_are_what_handlers_read() {
        let kinesis = event(&GenerateArgs::Kinesis {
            data: vec!["a".into(), "b".into()],
            partition_key: "k".into(),
            stream_arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/s".into(),
            shard_id: "shardId-000000000001".into(),
        });
        let value: serde_json::Value = serde_json::from_str(&kinesis).unwrap();
        assert_eq!(value["Records"].as_array().unwrap().len(), 2);
        assert_eq!(value["Records"][0]["awsRegion"], "eu-west-1");
        assert!(value["Records"][0]["kinesis"]["approximateArrivalTimestamp"].is_number());
        let sqs = event(&GenerateArgs::Sqs {
            body: vec!["hello".into()],
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:jobs".into(),
        });
        let value: serde_json::Value = serde_json::from_str(&sqs).unwrap();
        assert_eq!(
            value["Records"][0]["md5OfBody"],
            "5d41402abc4b2a76b9719d911017c592"
        );
        assert!(value["Records"][0]["md5OfMessageAttributes"].is_null());
        assert!(sqs.contains("\"messageAttributes\": {}"), "{sqs}");
    }

    #[test]
    fn pretty_printing_keeps_order_and_strings() {
        let compact = r#"{"b":1.500,"a":["x,{y}",{"c":"q\"}"}],"e":{}}"#;
        let pretty = indent(compact);
        let reread: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            reread,
            serde_json::from_str::<serde_json::Value>(compact).unwrap()
        );
        assert!(pretty.find("\"b\"").unwrap() < pretty.find("\"a\"").unwrap());
        assert!(pretty.contains("1.500"));
    }
}
