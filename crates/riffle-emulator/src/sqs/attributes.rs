//! Queue attributes: their defaults, which names exist, and the validation of the settable
//! ones (ranges, booleans, FIFO-only names, redrive and redrive-allow policies).
//!
//! Invariant: [`validate_attributes`] accepts exactly the attributes SQS lets a caller set on
//! this kind of queue and returns them unchanged; anything else is SQS's error for it, worded
//! as SQS words it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::api::request::bad_value;
use super::message::MAX_MESSAGE_BYTES;
use super::store::SqsStore;
use crate::error::{ApiError, ApiResult, ErrorCode};

const READ_ONLY_ATTRIBUTES: [&str; 6] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

pub(crate) fn is_known_attribute(name: &str) -> bool {
    default_attributes(true).contains_key(name)
        || READ_ONLY_ATTRIBUTES.contains(&name)
        || matches!(
            name,
            "Policy"
                | "RedrivePolicy"
                | "RedriveAllowPolicy"
                | "KmsMasterKeyId"
                | "KmsDataKeyReusePeriodSeconds"
        )
}

pub(crate) fn default_attributes(fifo: bool) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if fifo {
        for (k, v) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            map.insert(k.to_owned(), v.to_owned());
        }
    }
    map
}

/// Validates settable attributes; returns them normalized.
pub(crate) fn validate_attributes(
    store: &SqsStore,
    given: &BTreeMap<String, String>,
    fifo: bool,
    creating: bool,
    queue_name: &str,
) -> ApiResult<BTreeMap<String, String>> {
    let bad = |name: &str| {
        ApiError::new(
            ErrorCode::InvalidAttributeValue,
            format!("Invalid value for the parameter {name}."),
        )
    };
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let range = |min: u64, max: u64| -> ApiResult<()> {
            match value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(bad(name)),
            }
        };
        let boolean = || {
            if value == "true" || value == "false" {
                Ok(())
            } else {
                Err(bad(name))
            }
        };
        let fifo_only = || {
            if fifo {
                Ok(())
            } else {
                Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ))
            }
        };
        match name.as_str() {
            "DelaySeconds" => range(0, 900)?,
            "MaximumMessageSize" => range(1024, MAX_MESSAGE_BYTES as u64)?,
            "MessageRetentionPeriod" => range(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => range(0, 20)?,
            "VisibilityTimeout" => range(0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => range(60, 86_400)?,
            "SqsManagedSseEnabled" => boolean()?,
            "KmsMasterKeyId" => {}
            "Policy" => {
                if !value.is_empty() && serde_json::from_str::<Value>(value).is_err() {
                    return Err(bad(name));
                }
            }
            "FifoQueue" => {
                if !creating {
                    return Err(ApiError::new(
                        ErrorCode::InvalidAttributeValue,
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type \
                         is not supported.",
                    ));
                }
            }
            "ContentBasedDeduplication" => {
                fifo_only()?;
                boolean()?;
            }
            "DeduplicationScope" => {
                fifo_only()?;
                if value != "messageGroup" && value != "queue" {
                    return Err(bad(name));
                }
            }
            "FifoThroughputLimit" => {
                fifo_only()?;
                if value != "perQueue" && value != "perMessageGroupId" {
                    return Err(bad(name));
                }
            }
            "RedrivePolicy" => {
                if !value.is_empty() {
                    validate_redrive_policy(store, value, fifo, queue_name)?;
                }
            }
            "RedriveAllowPolicy" => {
                if !value.is_empty() {
                    validate_redrive_allow_policy(value)?;
                }
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {other}."),
                ));
            }
        }
        out.insert(name.clone(), value.clone());
    }
    Ok(out)
}

fn validate_redrive_policy(
    store: &SqsStore,
    value: &str,
    fifo: bool,
    queue_name: &str,
) -> ApiResult<()> {
    let bad = |reason: &str| bad_value("RedrivePolicy", value, reason);
    let policy: Value =
        serde_json::from_str(value).map_err(|_| bad("Redrive policy is not a valid JSON map."))?;
    let target = policy
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        })?;
    let max = match policy.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: maxReceiveCount."))?;
    if !(1..=1000).contains(&max) {
        return Err(bad(
            "Invalid value for maxReceiveCount: must be an integer from 1 to 1000.",
        ));
    }
    let target_name = store
        .name_from_arn(target)
        .ok_or_else(|| bad("Dead-letter target does not exist."))?;
    let dlq = store
        .queues()
        .get(target_name)
        .ok_or_else(|| bad("Dead-letter target does not exist."))?;
    if dlq.fifo() != fifo {
        return Err(bad(if fifo {
            "Dead-letter queue of a FIFO queue must be a FIFO queue."
        } else {
            "Dead-letter queue of a standard queue must be a standard queue."
        }));
    }
    if let Some(allow) = dlq.attributes.get("RedriveAllowPolicy")
        && let Ok(allow) = serde_json::from_str::<Value>(allow)
    {
        let source_arn = store.queue_arn(queue_name);
        let permitted = match allow.get("redrivePermission").and_then(Value::as_str) {
            Some("denyAll") => false,
            Some("byQueue") => allow
                .get("sourceQueueArns")
                .and_then(Value::as_array)
                .is_some_and(|arns| arns.iter().any(|a| a.as_str() == Some(&source_arn))),
            _ => true,
        };
        if !permitted {
            return Err(bad(
                "Dead-letter target owner doesn't allow this source queue to use it as dead-letter queue.",
            ));
        }
    }
    Ok(())
}

fn validate_redrive_allow_policy(value: &str) -> ApiResult<()> {
    let bad = |reason: &str| bad_value("RedriveAllowPolicy", value, reason);
    let policy: Value =
        serde_json::from_str(value).map_err(|_| bad("Amazon SQS can't parse the policy."))?;
    match policy.get("redrivePermission").and_then(Value::as_str) {
        Some("allowAll" | "denyAll") => Ok(()),
        Some("byQueue") => match policy.get("sourceQueueArns").and_then(Value::as_array) {
            Some(arns) if (1..=10).contains(&arns.len()) => Ok(()),
            _ => Err(bad(
                "You must specify 1 to 10 source queue ARNs when redrivePermission is byQueue.",
            )),
        },
        _ => Err(bad(
            "redrivePermission must be allowAll, denyAll or byQueue.",
        )),
    }
}
