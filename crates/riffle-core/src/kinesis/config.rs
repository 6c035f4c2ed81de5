//! Kinesis mapping configuration: raw properties with AWS's names, validated into a
//! [`KinesisMappingConfig`].
//!
//! Invariant: validation reports every invalid property at once, worded as AWS words it; a
//! [`KinesisMappingConfig`] that exists is valid.

use serde::Deserialize;

use crate::config::{Collector, ConfigErrors, RawDestinationConfig, RawFilterCriteria};
use crate::destination::DestinationKind;
use crate::filter::filter_patterns;
use crate::time::Millis;

/// Kinesis mapping properties exactly as CloudFormation, SAM and CreateEventSourceMapping name
/// them. Unknown properties are an error, so a misspelling is caught rather than ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RawKinesisMapping {
    /// Stream ARN.
    pub event_source_arn: Option<String>,
    /// Function name or ARN.
    pub function_name: Option<String>,
    /// Whether the mapping polls.
    pub enabled: Option<bool>,
    /// 1–10 000, default 100.
    pub batch_size: Option<i64>,
    /// 0–300 s, default 0.
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`; required.
    pub starting_position: Option<String>,
    /// Unix seconds, with `AT_TIMESTAMP` only.
    pub starting_position_timestamp: Option<f64>,
    /// 1–10, default 1.
    pub parallelization_factor: Option<i64>,
    /// Default false.
    pub bisect_batch_on_function_error: Option<bool>,
    /// −1–10 000, default −1 (retry until the record expires).
    pub maximum_retry_attempts: Option<i64>,
    /// −1 or 60–604 800, default −1 (never discard by age).
    pub maximum_record_age_in_seconds: Option<i64>,
    /// 0–900, default 0 (no windows).
    pub tumbling_window_in_seconds: Option<i64>,
    /// `{ OnFailure: { Destination: arn } }`.
    pub destination_config: Option<RawDestinationConfig>,
    /// `[]` or `["ReportBatchItemFailures"]`.
    pub function_response_types: Option<Vec<String>>,
    /// `{ Filters: [ { Pattern: "…" } ] }`.
    pub filter_criteria: Option<RawFilterCriteria>,
}

/// Where a mapping starts reading a shard it has no checkpoint for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest record still in the shard.
    TrimHorizon,
    /// Only records written after the mapping starts.
    Latest,
    /// Records that arrived at or after this time (epoch ms).
    AtTimestamp(Millis),
}

/// A validated Kinesis mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct KinesisMappingConfig {
    /// Stream ARN.
    pub event_source_arn: String,
    /// Function name or ARN.
    pub function_name: String,
    /// Whether the mapping polls.
    pub enabled: bool,
    /// Most records per batch.
    pub batch_size: usize,
    /// How long to gather records after the previous invocation finished.
    pub batching_window_ms: Millis,
    /// Where to start without a checkpoint.
    pub starting_position: StartingPosition,
    /// Concurrent batches per shard.
    pub parallelization_factor: usize,
    /// Whether a failed batch is split in two.
    pub bisect_on_function_error: bool,
    /// Retries after the first invocation; `None` retries until the records expire.
    pub maximum_retry_attempts: Option<u32>,
    /// Records older than this are discarded; `None` never discards by age.
    pub maximum_record_age_ms: Option<Millis>,
    /// Tumbling window length; `None` when windows are off.
    pub tumbling_window_ms: Option<Millis>,
    /// SQS queue ARN that receives failure records.
    pub on_failure_destination: Option<String>,
    /// Whether the function reports failed items.
    pub report_batch_item_failures: bool,
    /// Filter patterns (JSON objects), ORed.
    pub filter_patterns: Vec<serde_json::Value>,
}

impl RawKinesisMapping {
    /// Validates the mapping as CreateEventSourceMapping would at `now` (epoch ms).
    pub fn validate(&self, now: Millis) -> Result<KinesisMappingConfig, ConfigErrors> {
        let mut c = Collector(Vec::new());
        let event_source_arn = self.event_source_arn.clone().unwrap_or_default();
        if self.event_source_arn.is_none() {
            c.missing("EventSourceArn");
        } else if !is_kinesis_stream_arn(&event_source_arn)
            || (event_source_arn.contains("/consumer/")
                && consumer_name(&event_source_arn).is_none())
        {
            c.invalid(
                "EventSourceArn",
                format!("Unsupported event source arn for a Kinesis mapping: {event_source_arn}"),
            );
        }
        let function_name = self.function_name.clone().unwrap_or_default();
        if self.function_name.is_none() {
            c.missing("FunctionName");
        } else if function_name.is_empty() || function_name.len() > 256 {
            c.constraint(
                "FunctionName",
                &function_name,
                "have length between 1 and 256",
            );
        }
        let batch_size = c.range("BatchSize", self.batch_size, 1, 10_000, 100);
        let window = c.range(
            "MaximumBatchingWindowInSeconds",
            self.maximum_batching_window_in_seconds,
            0,
            300,
            0,
        );
        let factor = c.range(
            "ParallelizationFactor",
            self.parallelization_factor,
            1,
            10,
            1,
        );
        let retries = c.range(
            "MaximumRetryAttempts",
            self.maximum_retry_attempts,
            -1,
            10_000,
            -1,
        );
        let age = c.range(
            "MaximumRecordAgeInSeconds",
            self.maximum_record_age_in_seconds,
            -1,
            604_800,
            -1,
        );
        if (0..60).contains(&age) {
            c.invalid(
                "MaximumRecordAgeInSeconds",
                format!(
                    "Invalid value {age} for MaximumRecordAgeInSeconds: it must be -1 (no \
                     limit) or between 60 and 604800 seconds."
                ),
            );
        }
        let tumbling = c.range(
            "TumblingWindowInSeconds",
            self.tumbling_window_in_seconds,
            0,
            900,
            0,
        );
        let starting_position = match self.starting_position.as_deref() {
            None => {
                c.missing("StartingPosition");
                StartingPosition::Latest
            }
            Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some("LATEST") => StartingPosition::Latest,
            Some("AT_TIMESTAMP") => match self.starting_position_timestamp {
                None => {
                    c.invalid(
                        "StartingPositionTimestamp",
                        "StartingPositionTimestamp must be provided when StartingPosition is \
                         AT_TIMESTAMP.",
                    );
                    StartingPosition::AtTimestamp(0)
                }
                Some(seconds) => {
                    let at = (seconds * 1000.0).max(0.0) as Millis;
                    if at > now {
                        c.invalid(
                            "StartingPositionTimestamp",
                            "StartingPositionTimestamp cannot be in the future.",
                        );
                    }
                    StartingPosition::AtTimestamp(at)
                }
            },
            Some(other) => {
                c.constraint(
                    "StartingPosition",
                    other,
                    "satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
                );
                StartingPosition::Latest
            }
        };
        if self.starting_position_timestamp.is_some()
            && self.starting_position.as_deref() != Some("AT_TIMESTAMP")
        {
            c.invalid(
                "StartingPositionTimestamp",
                "StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP.",
            );
        }
        let mut report_batch_item_failures = false;
        for response_type in self.function_response_types.iter().flatten() {
            if response_type == "ReportBatchItemFailures" {
                report_batch_item_failures = true;
            } else {
                c.constraint(
                    "FunctionResponseTypes",
                    format!("[{response_type}]"),
                    "satisfy constraint: [Member must satisfy enum value set: \
                     [ReportBatchItemFailures]]",
                );
            }
        }
        if self
            .function_response_types
            .as_ref()
            .is_some_and(|t| t.len() > 1)
        {
            c.constraint(
                "FunctionResponseTypes",
                "[…]",
                "have length less than or equal to 1",
            );
        }
        let mut on_failure_destination = None;
        if let Some(config) = &self.destination_config {
            if config
                .on_success
                .as_ref()
                .is_some_and(|d| d.destination.is_some())
            {
                c.invalid(
                    "DestinationConfig",
                    "Unsupported DestinationConfig parameter for given event source mapping type.",
                );
            }
            if let Some(arn) = config
                .on_failure
                .as_ref()
                .and_then(|d| d.destination.clone())
            {
                if arn.len() > 350 {
                    c.constraint(
                        "DestinationConfig",
                        &arn,
                        "have length less than or equal to 350",
                    );
                } else if DestinationKind::of(&arn).is_some() {
                    on_failure_destination = Some(arn);
                } else if arn_service(&arn) == Some("sns") {
                    c.invalid(
                        "DestinationConfig",
                        format!(
                            "On-failure destination {arn}: Riffle delivers failure records to SQS \
                             queues and S3 buckets; SNS topics are not supported yet."
                        ),
                    );
                } else {
                    c.invalid(
                        "DestinationConfig",
                        format!("The provided destination config DestinationConfig.OnFailure.Destination {arn} is invalid."),
                    );
                }
            }
        }
        let filter_patterns = filter_patterns(self.filter_criteria.as_ref(), &mut c.0);
        if !c.0.is_empty() {
            return Err(ConfigErrors(c.0));
        }
        Ok(KinesisMappingConfig {
            event_source_arn,
            function_name,
            enabled: self.enabled.unwrap_or(true),
            batch_size: batch_size as usize,
            batching_window_ms: window as Millis * 1000,
            starting_position,
            parallelization_factor: factor as usize,
            bisect_on_function_error: self.bisect_batch_on_function_error.unwrap_or(false),
            maximum_retry_attempts: (retries >= 0).then_some(retries as u32),
            maximum_record_age_ms: (age >= 0).then(|| age as Millis * 1000),
            tumbling_window_ms: (tumbling > 0).then(|| tumbling as Millis * 1000),
            on_failure_destination,
            report_batch_item_failures,
            filter_patterns,
        })
    }
}

fn arn_service(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn" && parts.next()?.starts_with("aws")).then_some(())?;
    parts.next()
}

fn is_kinesis_stream_arn(arn: &str) -> bool {
    arn_service(arn) == Some("kinesis")
        && arn
            .split(':')
            .nth(5)
            .is_some_and(|r| r.starts_with("stream/"))
}

/// The stream of a Kinesis stream consumer ARN
/// (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATION`), which names an
/// enhanced fan-out consumer; `None` for any other ARN.
pub fn consumer_stream_arn(arn: &str) -> Option<&str> {
    if arn_service(arn) != Some("kinesis") {
        return None;
    }
    let at = arn.find("/consumer/")?;
    let stream = &arn[..at];
    is_kinesis_stream_arn(stream).then_some(stream)
}

/// The name of the consumer a Kinesis stream consumer ARN names (`CONSUMER` in
/// `…:stream/NAME/consumer/CONSUMER:CREATION`); `None` for any other ARN.
pub fn consumer_name(arn: &str) -> Option<&str> {
    consumer_stream_arn(arn)?;
    let rest = &arn[arn.find("/consumer/")? + "/consumer/".len()..];
    let (name, created) = rest.rsplit_once(':')?;
    (!name.is_empty() && !name.contains('/') && !created.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigErrorKind, RawDestination, RawFilter};

    fn raw() -> RawKinesisMapping {
        RawKinesisMapping {
            event_source_arn: Some("arn:aws:kinesis:us-east-1:000000000000:stream/s".into()),
            function_name: Some("f".into()),
            starting_position: Some("TRIM_HORIZON".into()),
            ..RawKinesisMapping::default()
        }
    }

    #[test]
    fn stream_consumer_arns_are_accepted_and_read_through_their_consumer() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/fan:1700000000";
        let mut consumer = raw();
        consumer.event_source_arn = Some(arn.into());
        let config = consumer.validate(0).unwrap();
        assert_eq!(config.event_source_arn, arn);
        assert_eq!(
            consumer_stream_arn(arn),
            Some("arn:aws:kinesis:us-east-1:000000000000:stream/s")
        );
        assert_eq!(consumer_name(arn), Some("fan"));
        assert_eq!(
            consumer_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
            None,
            "a stream ARN is not a consumer"
        );
        assert_eq!(
            consumer_name("arn:aws:kinesis:us-east-1:000000000000:stream/s"),
            None
        );
    }

    #[test]
    fn a_malformed_consumer_arn_is_refused() {
        for arn in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/fan",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/:17",
        ] {
            let mut consumer = raw();
            consumer.event_source_arn = Some(arn.into());
            let errors = consumer.validate(0).unwrap_err();
            assert_eq!(errors.0[0].property, "EventSourceArn", "{arn}");
            assert_eq!(consumer_name(arn), None, "{arn}");
        }
    }

    #[test]
    fn queues_and_buckets_are_destinations_and_topics_are_refused_by_name() {
        let with = |arn: &str| {
            let mut config = raw();
            config.destination_config = Some(RawDestinationConfig {
                on_failure: Some(RawDestination {
                    destination: Some(arn.into()),
                }),
                on_success: None,
            });
            config.validate(0)
        };
        for arn in [
            "arn:aws:sqs:us-east-1:000000000000:dlq",
            "arn:aws:s3:::failed-batches",
        ] {
            let config = with(arn).unwrap();
            assert_eq!(config.on_failure_destination.as_deref(), Some(arn));
        }
        let sns = with("arn:aws:sns:us-east-1:000000000000:t").unwrap_err();
        assert!(
            sns.0[0]
                .message
                .contains("SNS topics are not supported yet"),
            "{sns:?}"
        );
        let object = with("arn:aws:s3:::failed-batches/key").unwrap_err();
        assert_eq!(
            object.0[0].message,
            "The provided destination config DestinationConfig.OnFailure.Destination \
             arn:aws:s3:::failed-batches/key is invalid."
        );
    }

    #[test]
    fn defaults_are_aws_defaults() {
        let config = raw().validate(0).unwrap();
        assert_eq!(config.batch_size, 100);
        assert_eq!(config.batching_window_ms, 0);
        assert_eq!(config.parallelization_factor, 1);
        assert_eq!(config.maximum_retry_attempts, None);
        assert_eq!(config.maximum_record_age_ms, None);
        assert_eq!(config.tumbling_window_ms, None);
        assert!(config.enabled);
        assert!(!config.bisect_on_function_error);
        assert!(!config.report_batch_item_failures);
    }

    #[test]
    fn every_out_of_range_property_is_reported_at_once() {
        let mut bad = raw();
        bad.batch_size = Some(10_001);
        bad.parallelization_factor = Some(11);
        bad.maximum_retry_attempts = Some(-2);
        bad.tumbling_window_in_seconds = Some(901);
        bad.maximum_batching_window_in_seconds = Some(301);
        bad.maximum_record_age_in_seconds = Some(30);
        bad.starting_position = Some("BOGUS".into());
        let errors = bad.validate(0).unwrap_err();
        let properties: Vec<&str> = errors.0.iter().map(|e| e.property).collect();
        assert_eq!(
            properties,
            [
                "BatchSize",
                "MaximumBatchingWindowInSeconds",
                "ParallelizationFactor",
                "MaximumRetryAttempts",
                "MaximumRecordAgeInSeconds",
                "TumblingWindowInSeconds",
                "StartingPosition"
            ]
        );
        let text = errors.to_string();
        assert!(text.starts_with("6 validation errors detected: "), "{text}");
        assert!(text.contains(
            "Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have \
             value less than or equal to 10"
        ));
        assert!(text.contains("between 60 and 604800"));
    }

    #[test]
    fn record_age_accepts_minus_one_and_sixty_upwards() {
        for (age, ok) in [
            (-1, true),
            (0, false),
            (59, false),
            (60, true),
            (604_800, true),
            (604_801, false),
        ] {
            let mut config = raw();
            config.maximum_record_age_in_seconds = Some(age);
            assert_eq!(config.validate(0).is_ok(), ok, "age {age}");
        }
    }

    #[test]
    fn starting_position_is_required_and_timestamps_cannot_be_in_the_future() {
        let mut config = raw();
        config.starting_position = None;
        assert_eq!(
            config.validate(0).unwrap_err().0[0].property,
            "StartingPosition"
        );
        config.starting_position = Some("AT_TIMESTAMP".into());
        config.starting_position_timestamp = Some(2000.0);
        assert!(config.validate(1_000_000).is_err());
        assert_eq!(
            config.validate(2_000_000).unwrap().starting_position,
            StartingPosition::AtTimestamp(2_000_000)
        );
    }

    #[test]
    fn misspelled_properties_are_rejected_by_name() {
        let json = r#"{"EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/s","FunctionName":"f","StartingPosition":"LATEST","BisectBatchOnFunctionErrorX":true}"#;
        let err = serde_json::from_str::<RawKinesisMapping>(json).unwrap_err();
        assert!(
            err.to_string().contains("BisectBatchOnFunctionErrorX"),
            "{err}"
        );
    }

    #[test]
    fn filters_must_be_json_objects_and_at_most_five() {
        let mut config = raw();
        let filter = |p: &str| RawFilter {
            pattern: Some(p.into()),
        };
        config.filter_criteria = Some(RawFilterCriteria {
            filters: Some(vec![filter("not json")]),
        });
        assert_eq!(
            config.validate(0).unwrap_err().0[0].message,
            "Invalid filter pattern definition."
        );
        config.filter_criteria = Some(RawFilterCriteria {
            filters: Some(vec![filter(r#"{"data":{"a":[1]}}"#); 6]),
        });
        assert!(config.validate(0).is_err());
        config.filter_criteria = Some(RawFilterCriteria {
            filters: Some(vec![filter(r#"{"data":{"a":[1]}}"#); 5]),
        });
        assert_eq!(config.validate(0).unwrap().filter_patterns.len(), 5);
        let long = format!(r#"{{"data":{{"a":["{}"]}}}}"#, "x".repeat(4096));
        config.filter_criteria = Some(RawFilterCriteria {
            filters: Some(vec![filter(&long)]),
        });
        let errors = config.validate(0).unwrap_err().0;
        assert_eq!(errors[0].kind, ConfigErrorKind::Validation);
        assert!(errors[0].message.ends_with("less than or equal to 4096"));
    }

    #[test]
    fn only_sqs_on_failure_destinations_and_no_on_success() {
        let mut config = raw();
        let destination = |arn: &str| RawDestination {
            destination: Some(arn.into()),
        };
        config.destination_config = Some(RawDestinationConfig {
            on_failure: Some(destination("arn:aws:sqs:us-east-1:000000000000:dlq")),
            on_success: None,
        });
        assert!(config.validate(0).unwrap().on_failure_destination.is_some());
        config.destination_config = Some(RawDestinationConfig {
            on_failure: None,
            on_success: Some(destination("arn:aws:sqs:us-east-1:000000000000:dlq")),
        });
        assert!(config.validate(0).is_err());
    }
}
