//! The Lambda transformation's wire formats: the KinesisFirehoseEvent Firehose invokes the
//! function with, and how its response is judged.
//!
//! Invariant: a response is accepted only if it returns every recordId of the event exactly
//! once, each with `Ok`, `Dropped` or `ProcessingFailed` and (for `Ok`) base64 data; anything
//! else fails the whole invocation with the code Firehose reports for it, and the invocation
//! is retried like any other invocation error (Firehose's failure model: a malformed response
//! is a `Lambda.*` invocation error, never a partial acceptance).

use std::collections::HashMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::invocation::{MAX_PAYLOAD_BYTES, Outcome};
use crate::time::Millis;

/// `kinesisRecordMetadata` of a record read from a Kinesis stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata {
    /// Shard id.
    pub shard_id: String,
    /// Partition key.
    pub partition_key: String,
    /// Arrival in the stream (epoch ms).
    pub approximate_arrival_timestamp: Millis,
    /// Sequence number.
    pub sequence_number: String,
    /// Subsequence number (0: not a KPL aggregate).
    pub subsequence_number: u64,
}

/// One record of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// `recordId`.
    pub record_id: String,
    /// Arrival at Firehose (epoch ms).
    pub approximate_arrival_timestamp: Millis,
    /// Base64 data.
    pub data: String,
    /// For a Kinesis source.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kinesis_record_metadata: Option<KinesisRecordMetadata>,
}

/// The KinesisFirehoseEvent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    /// A UUID per invocation.
    pub invocation_id: String,
    /// The delivery stream's ARN.
    pub delivery_stream_arn: String,
    /// The source stream's ARN (Kinesis source only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_kinesis_stream_arn: Option<String>,
    /// Region.
    pub region: String,
    /// Records.
    pub records: Vec<EventRecord>,
}

/// Bytes a record adds to an event: its JSON and a separating comma.
pub fn record_bytes(record: &EventRecord) -> usize {
    serde_json::to_string(record).map_or(0, |s| s.len()) + 1
}

/// What the function said about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordResult {
    /// Transformed to these bytes.
    Ok(Vec<u8>),
    /// Dropped on purpose.
    Dropped,
    /// The function could not transform it.
    ProcessingFailed,
}

/// Why an invocation failed: Firehose's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationError {
    /// `Lambda.FunctionError`, `Lambda.MissingRecordId`, ….
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl InvocationError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
struct Response {
    records: Vec<ResponseRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseRecord {
    record_id: Option<String>,
    result: Option<String>,
    data: Option<String>,
}

/// Judges how an invocation of `record_ids` ended: the result of each record, in event order,
/// or why the invocation failed as a whole.
pub fn judge(
    record_ids: &[String],
    outcome: &Outcome,
) -> Result<Vec<RecordResult>, InvocationError> {
    let body = match outcome {
        Outcome::Success(body) => body,
        Outcome::FunctionError { error_message, .. } => {
            return Err(InvocationError::new(
                "Lambda.FunctionError",
                format!(
                    "The Lambda function was successfully invoked but it returned an error \
                     result. {error_message}"
                )
                .trim_end()
                .to_owned(),
            ));
        }
        Outcome::Throttled => {
            return Err(InvocationError::new(
                "Lambda.InvokeLimitExceeded",
                "The Lambda concurrent execution limit is exceeded.",
            ));
        }
        Outcome::ServiceError(message) => {
            return Err(InvocationError::new(
                "Lambda.ServiceException",
                message.clone(),
            ));
        }
    };
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(InvocationError::new(
            "Lambda.FunctionError",
            format!("The response is larger than {MAX_PAYLOAD_BYTES} bytes."),
        ));
    }
    let json = || {
        InvocationError::new(
            "Lambda.JsonProcessingException",
            "There was an error parsing returned records from the Lambda function. Ensure that \
             the returned records follow the status model required by Firehose.",
        )
    };
    let response: Response = serde_json::from_slice(body).map_err(|_| json())?;
    let index: HashMap<&str, usize> = record_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut results: Vec<Option<RecordResult>> = vec![None; record_ids.len()];
    for record in response.records {
        let id = record.record_id.ok_or_else(json)?;
        let at = *index.get(id.as_str()).ok_or_else(|| {
            InvocationError::new(
                "Lambda.MissingRecordId",
                format!("The record id {id} was not in the invocation."),
            )
        })?;
        if results[at].is_some() {
            return Err(InvocationError::new(
                "Lambda.DuplicatedRecordId",
                "Multiple records were returned with the same record ID. Ensure that the Lambda \
                 function returns unique record IDs for each record.",
            ));
        }
        results[at] = Some(match record.result.as_deref() {
            Some("Ok") => RecordResult::Ok(
                base64::engine::general_purpose::STANDARD
                    .decode(record.data.unwrap_or_default())
                    .map_err(|_| json())?,
            ),
            Some("Dropped") => RecordResult::Dropped,
            Some("ProcessingFailed") => RecordResult::ProcessingFailed,
            _ => return Err(json()),
        });
    }
    results
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            InvocationError::new(
                "Lambda.MissingRecordId",
                "One or more record IDs were not returned. Ensure that the Lambda function returns \
             all received record IDs.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    fn judge_json(body: &str) -> Result<Vec<RecordResult>, &'static str> {
        judge(&ids(), &Outcome::Success(body.as_bytes().to_vec())).map_err(|e| e.code)
    }

    #[test]
    fn every_record_comes_back_once() {
        assert_eq!(
            judge_json(
                r#"{"records":[{"recordId":"c","result":"ProcessingFailed","data":""},
                  {"recordId":"a","result":"Ok","data":"aGk="},{"recordId":"b","result":"Dropped"}]}"#
            ),
            Ok(vec![
                RecordResult::Ok(b"hi".to_vec()),
                RecordResult::Dropped,
                RecordResult::ProcessingFailed
            ])
        );
        let ok = |id: &str| format!(r#"{{"recordId":"{id}","result":"Ok","data":""}}"#);
        let body = |ids: &[&str]| {
            format!(
                r#"{{"records":[{}]}}"#,
                ids.iter().map(|i| ok(i)).collect::<Vec<_>>().join(",")
            )
        };
        assert_eq!(
            judge_json(&body(&["a", "b"])),
            Err("Lambda.MissingRecordId")
        );
        assert_eq!(
            judge_json(&body(&["a", "b", "c", "d"])),
            Err("Lambda.MissingRecordId")
        );
        assert_eq!(
            judge_json(&body(&["a", "b", "b", "c"])),
            Err("Lambda.DuplicatedRecordId")
        );
        assert_eq!(
            judge_json(r#"{"records":[{"recordId":"a","result":"Fine"}]}"#),
            Err("Lambda.JsonProcessingException")
        );
        assert_eq!(
            judge_json(r#"{"records":[{"recordId":"a","result":"Ok","data":"!!"}]}"#),
            Err("Lambda.JsonProcessingException")
        );
        assert_eq!(
            judge_json("not json"),
            Err("Lambda.JsonProcessingException")
        );
        assert_eq!(judge_json("{}"), Err("Lambda.JsonProcessingException"));
        assert_eq!(
            judge(&ids(), &Outcome::function_error("Boom", "bad"))
                .unwrap_err()
                .code,
            "Lambda.FunctionError"
        );
        assert_eq!(
            judge(&ids(), &Outcome::Throttled).unwrap_err().code,
            "Lambda.InvokeLimitExceeded"
        );
    }

    #[test]
    fn the_event_is_firehoses() {
        let event = FirehoseEvent {
            invocation_id: "i".into(),
            delivery_stream_arn: "arn:aws:firehose:us-east-1:0:deliverystream/d".into(),
            source_kinesis_stream_arn: None,
            region: "us-east-1".into(),
            records: vec![EventRecord {
                record_id: "r".into(),
                approximate_arrival_timestamp: 5,
                data: "aGk=".into(),
                kinesis_record_metadata: None,
            }],
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:us-east-1:0:deliverystream/d","region":"us-east-1","records":[{"recordId":"r","approximateArrivalTimestamp":5,"data":"aGk="}]}"#
        );
        assert_eq!(record_bytes(&event.records[0]), 63, "its JSON and a comma");
    }
}
