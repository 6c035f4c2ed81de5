//! SQS mapping configuration with AWS's rules.
//!
//! Invariant: a configuration AWS would refuse is refused with AWS's message (BatchSize over 10
//! without a batching window, a visibility timeout shorter than the function timeout,
//! stream-only properties), every problem at once.

use serde::Deserialize;
use serde_json::Value;

use crate::config::{Collector, ConfigErrors, RawFilterCriteria};
use crate::filter::filter_patterns;
use crate::time::Millis;

/// SQS mapping properties with AWS's names. Properties that only apply to streams are accepted
/// by the parser so they can be refused by name with AWS's error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawSqsMapping {
    /// Queue ARN.
    pub event_source_arn: Option<String>,
    /// Function name or ARN.
    pub function_name: Option<String>,
    /// Whether the mapping polls.
    pub enabled: Option<bool>,
    /// 1–10 000 (FIFO 1–10), default 10.
    pub batch_size: Option<i64>,
    /// 0–300 s, default 0; not for FIFO queues.
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `[]` or `["ReportBatchItemFailures"]`.
    pub function_response_types: Option<Vec<String>>,
    /// Filters on `body` and metadata.
    pub filter_criteria: Option<RawFilterCriteria>,
    /// `{ MaximumConcurrency: 2–1000 }`.
    pub scaling_config: Option<RawScalingConfig>,
    /// Stream-only: refused.
    pub starting_position: Option<Value>,
    /// Stream-only: refused.
    pub starting_position_timestamp: Option<Value>,
    /// Stream-only: refused.
    pub parallelization_factor: Option<Value>,
    /// Stream-only: refused.
    pub bisect_batch_on_function_error: Option<Value>,
    /// Stream-only: refused.
    pub maximum_retry_attempts: Option<Value>,
    /// Stream-only: refused.
    pub maximum_record_age_in_seconds: Option<Value>,
    /// Stream-only: refused.
    pub tumbling_window_in_seconds: Option<Value>,
    /// Not for SQS mappings: refused.
    pub destination_config: Option<Value>,
}

/// `ScalingConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawScalingConfig {
    /// 2–1000.
    pub maximum_concurrency: Option<i64>,
}

/// What validation needs to know about the queue and the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqsFacts {
    /// Whether the queue is a FIFO queue.
    pub fifo: bool,
    /// The queue's VisibilityTimeout, seconds.
    pub visibility_timeout_seconds: u64,
    /// The function's Timeout, seconds.
    pub function_timeout_seconds: u64,
}

/// A validated SQS mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsMappingConfig {
    /// Queue ARN.
    pub event_source_arn: String,
    /// Function name or ARN.
    pub function_name: String,
    /// Whether the mapping polls.
    pub enabled: bool,
    /// Most messages per batch.
    pub batch_size: usize,
    /// Batching window.
    pub batching_window_ms: Millis,
    /// Whether the function reports failed messages.
    pub report_batch_item_failures: bool,
    /// Filter patterns (JSON objects), ORed.
    pub filter_patterns: Vec<Value>,
    /// Most concurrent batches, if capped.
    pub maximum_concurrency: Option<u32>,
}

impl RawSqsMapping {
    /// Validates the mapping as CreateEventSourceMapping would for a queue described by `facts`.
    pub fn validate(&self, facts: SqsFacts) -> Result<SqsMappingConfig, ConfigErrors> {
        let mut c = Collector(Vec::new());
        let stream_only: [(&'static str, bool); 8] = [
            ("StartingPosition", self.starting_position.is_some()),
            (
                "StartingPositionTimestamp",
                self.starting_position_timestamp.is_some(),
            ),
            (
                "ParallelizationFactor",
                self.parallelization_factor.is_some(),
            ),
            (
                "BisectBatchOnFunctionError",
                self.bisect_batch_on_function_error.is_some(),
            ),
            (
                "MaximumRetryAttempts",
                self.maximum_retry_attempts.is_some(),
            ),
            (
                "MaximumRecordAgeInSeconds",
                self.maximum_record_age_in_seconds.is_some(),
            ),
            (
                "TumblingWindowInSeconds",
                self.tumbling_window_in_seconds.is_some(),
            ),
            ("DestinationConfig", self.destination_config.is_some()),
        ];
        for (property, present) in stream_only {
            if present {
                c.invalid(
                    property,
                    if property == "DestinationConfig" {
                        "Unsupported DestinationConfig parameter for given event source mapping type.".to_owned()
                    } else {
                        format!(
                            "Unsupported {property} parameter for given event source mapping type."
                        )
                    },
                );
            }
        }
        let batch_size = self.batch_size.unwrap_or(10);
        let max_batch = if facts.fifo { 10 } else { 10_000 };
        if !(1..=max_batch).contains(&batch_size) {
            let rule = if batch_size < 1 {
                "have value greater than or equal to 1".to_owned()
            } else {
                format!("have value less than or equal to {max_batch}")
            };
            c.constraint("BatchSize", batch_size, &rule);
        }
        let window = self.maximum_batching_window_in_seconds.unwrap_or(0);
        if !(0..=300).contains(&window) {
            let rule = if window < 0 {
                "have value greater than or equal to 0".to_owned()
            } else {
                "have value less than or equal to 300".to_owned()
            };
            c.constraint("MaximumBatchingWindowInSeconds", window, &rule);
        }
        let concurrency = self
            .scaling_config
            .as_ref()
            .and_then(|s| s.maximum_concurrency);
        if let Some(value) = concurrency.filter(|c| !(2..=1000).contains(c)) {
            let rule = if value < 2 {
                "have value greater than or equal to 2".to_owned()
            } else {
                "have value less than or equal to 1000".to_owned()
            };
            c.constraint("ScalingConfig", value, &rule);
        }
        if batch_size > 10 && window < 1 {
            c.invalid(
                "MaximumBatchingWindowInSeconds",
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
            );
        }
        if facts.fifo && window > 0 {
            c.invalid(
                "MaximumBatchingWindowInSeconds",
                "MaximumBatchingWindowInSeconds is not supported for FIFO queues.",
            );
        }
        if facts.visibility_timeout_seconds < facts.function_timeout_seconds {
            c.invalid(
                "EventSourceArn",
                format!(
                    "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                    facts.visibility_timeout_seconds, facts.function_timeout_seconds
                ),
            );
        }
        let mut report_batch_item_failures = false;
        for response_type in self.function_response_types.iter().flatten() {
            if response_type == "ReportBatchItemFailures" {
                report_batch_item_failures = true;
            } else {
                c.invalid(
                    "FunctionResponseTypes",
                    format!("Unsupported FunctionResponseType: {response_type}"),
                );
            }
        }
        if self.event_source_arn.is_none() {
            c.invalid("EventSourceArn", "EventSourceArn is required.");
        }
        if self.function_name.is_none() {
            c.invalid("FunctionName", "FunctionName is required.");
        }
        let filter_patterns = filter_patterns(self.filter_criteria.as_ref(), &mut c.0);
        if !c.0.is_empty() {
            return Err(ConfigErrors(c.0));
        }
        Ok(SqsMappingConfig {
            event_source_arn: self.event_source_arn.clone().unwrap_or_default(),
            function_name: self.function_name.clone().unwrap_or_default(),
            enabled: self.enabled.unwrap_or(true),
            batch_size: batch_size as usize,
            batching_window_ms: window as Millis * 1000,
            report_batch_item_failures,
            filter_patterns,
            maximum_concurrency: concurrency.map(|c| c as u32),
        })
    }
}

#[cfg(test)]
mod tests;
