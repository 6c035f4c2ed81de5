//! The records Firehose writes under the error prefix when a transformation fails: one JSON
//! document per line, in AWS's format.
//!
//! Invariant: one line per failed source record, carrying the record's original bytes
//! (`rawData`), so a processing-failed object holds everything needed to replay it.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// Error code of a record the function returned as `ProcessingFailed`.
pub const PROCESSING_FAILED_CODE: &str = "Lambda.ProcessingFailed";

/// One processing-failed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingFailedRecord {
    /// Invocation attempts made for the record.
    pub attempts_made: u32,
    /// When Firehose received the record (epoch ms).
    pub arrival_timestamp: Millis,
    /// `Lambda.FunctionError`, `Lambda.ProcessingFailed`, ….
    pub error_code: String,
    /// Why.
    pub error_message: String,
    /// When Firehose stopped trying (epoch ms).
    pub attempt_ending_timestamp: Millis,
    /// The source record's data, base64.
    pub raw_data: String,
    /// The function's ARN (with its qualifier).
    pub lambda_arn: String,
}

impl ProcessingFailedRecord {
    /// The record for `data`.
    pub fn new(
        data: &[u8],
        arrival: Millis,
        attempts: u32,
        (code, message): (&str, &str),
        now: Millis,
        lambda_arn: &str,
    ) -> Self {
        Self {
            attempts_made: attempts,
            arrival_timestamp: arrival,
            error_code: code.to_owned(),
            error_message: message.to_owned(),
            attempt_ending_timestamp: now,
            raw_data: base64::engine::general_purpose::STANDARD.encode(data),
            lambda_arn: qualified(lambda_arn),
        }
    }

    /// The record as one line (ending in `\n`).
    pub fn line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("plain fields serialize");
        line.push('\n');
        line
    }

    /// Reads the lines of a processing-failed object back.
    pub fn parse_lines(body: &[u8]) -> Result<Vec<Self>, serde_json::Error> {
        body.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect()
    }

    /// The source record's bytes.
    pub fn data(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.raw_data)
            .unwrap_or_default()
    }
}

/// A function ARN with a qualifier: an unqualified one gets `:$LATEST`, as Firehose's records
/// show it.
pub fn qualified(lambda_arn: &str) -> String {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    if lambda_arn.starts_with("arn:") && lambda_arn.split(':').count() == 7 {
        format!("{lambda_arn}:$LATEST")
    } else {
        lambda_arn.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_awss() {
        let record = ProcessingFailedRecord::new(
            b"sample data",
            1_510_254_469_499,
            4,
            (
                "Lambda.FunctionError",
                "The Lambda function was successfully invoked but it returned an error result.",
            ),
            1_510_254_905_567,
            "arn:aws:lambda:us-east-1:123456789012:function:MyFunction",
        );
        assert_eq!(
            record.line(),
            "{\"attemptsMade\":4,\"arrivalTimestamp\":1510254469499,\"errorCode\":\"Lambda.FunctionError\",\
             \"errorMessage\":\"The Lambda function was successfully invoked but it returned an error result.\",\
             \"attemptEndingTimestamp\":1510254905567,\"rawData\":\"c2FtcGxlIGRhdGE=\",\
             \"lambdaArn\":\"arn:aws:lambda:us-east-1:123456789012:function:MyFunction:$LATEST\"}\n"
        );
        let body = format!("{}{}", record.line(), record.line());
        let back = ProcessingFailedRecord::parse_lines(body.as_bytes()).unwrap();
        assert_eq!(back, vec![record.clone(), record]);
        assert_eq!(back[0].data(), b"sample data");
        assert_eq!(
            qualified("arn:aws:lambda:us-east-1:1:function:f:prod"),
            "arn:aws:lambda:us-east-1:1:function:f:prod"
        );
    }
}
