//! DescribeDeliveryStream's `DeliveryStreamDescription`: the stored configuration answered back
//! with Firehose's defaults filled in, in the shape aws-sdk-firehose and boto3 parse.
//!
//! Invariant: every member the output model requires is present (`RoleARN`, `BucketARN`,
//! `BufferingHints`, `CompressionFormat`, `EncryptionConfiguration` of each destination
//! description; name, ARN, status, type, version, destinations of the stream).

use riffle_core::firehose::settings::{DEFAULT_BUFFER_MB, DEFAULT_BUFFER_SECONDS};
use serde_json::{Value, json};

use super::request::seconds;
use super::streams::DESTINATION_ID;
use crate::clock::Millis;
use crate::firehose::store::{DeliveryStream, FirehoseStore, S3Config};

/// The description of `stream` at `now`; its one destination is listed unless
/// `exclusive_start` is at or after it.
pub(super) fn description(
    store: &FirehoseStore,
    stream: &DeliveryStream,
    now: Millis,
    exclusive_start: Option<&str>,
) -> Value {
    let config = &stream.config;
    let destinations: Vec<Value> = if exclusive_start.is_some_and(|id| id >= DESTINATION_ID) {
        Vec::new()
    } else {
        vec![json!({
            "DestinationId": DESTINATION_ID,
            "ExtendedS3DestinationDescription": extended(&config.destination),
            "S3DestinationDescription": plain(&config.destination),
        })]
    };
    let encryption = match &config.encryption {
        Some(sse) => {
            let mut value = json!({ "KeyType": sse.key_type, "Status": "ENABLED" });
            if let Some(arn) = &sse.key_arn {
                value["KeyARN"] = json!(arn);
            }
            value
        }
        None => json!({ "Status": "DISABLED" }),
    };
    let mut description = json!({
        "DeliveryStreamName": stream.name,
        "DeliveryStreamARN": store.arn(&stream.name),
        "DeliveryStreamStatus": store.status(stream, now).as_str(),
        "DeliveryStreamEncryptionConfiguration": encryption,
        "DeliveryStreamType": config.stream_type(),
        "VersionId": stream.version.to_string(),
        "CreateTimestamp": seconds(stream.created_ms),
        "Destinations": destinations,
        "HasMoreDestinations": false,
    });
    if let Some(updated) = stream.updated_ms {
        description["LastUpdateTimestamp"] = json!(seconds(updated));
    }
    if let Some(source) = &config.source {
        description["Source"] = json!({
            "KinesisStreamSourceDescription": {
                "KinesisStreamARN": source.stream_arn,
                "RoleARN": source.role_arn,
                "DeliveryStartTimestamp": seconds(stream.created_ms),
            }
        });
    }
    description
}

/// `S3DestinationDescription`: the members a legacy S3 destination has.
fn plain(config: &S3Config) -> Value {
    let hints = config.buffering_hints.clone().unwrap_or_default();
    let mut value = json!({
        "RoleARN": config.role_arn.clone().unwrap_or_default(),
        "BucketARN": config.bucket_arn.clone().unwrap_or_default(),
        "BufferingHints": {
            "SizeInMBs": hints.size_in_mbs.unwrap_or(DEFAULT_BUFFER_MB),
            "IntervalInSeconds": hints.interval_in_seconds.unwrap_or(DEFAULT_BUFFER_SECONDS),
        },
        "CompressionFormat": config.compression_format.as_deref().unwrap_or("UNCOMPRESSED"),
        "EncryptionConfiguration": encryption(config),
        "CloudWatchLoggingOptions": logging(config),
    });
    if let Some(prefix) = &config.prefix {
        value["Prefix"] = json!(prefix);
    }
    if let Some(prefix) = &config.error_output_prefix {
        value["ErrorOutputPrefix"] = json!(prefix);
    }
    value
}

/// `ExtendedS3DestinationDescription`: the plain members and the extended ones.
fn extended(config: &S3Config) -> Value {
    let mut value = plain(config);
    value["S3BackupMode"] = json!(config.s3_backup_mode.as_deref().unwrap_or("Disabled"));
    if let Some(processing) = &config.processing_configuration {
        let processors: Vec<Value> = processing
            .processors
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let parameters: Vec<Value> = p
                    .parameters
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|p| {
                        json!({
                            "ParameterName": p.parameter_name,
                            "ParameterValue": p.parameter_value,
                        })
                    })
                    .collect();
                json!({ "Type": p.kind, "Parameters": parameters })
            })
            .collect();
        value["ProcessingConfiguration"] = json!({
            "Enabled": processing.enabled.unwrap_or(!processors.is_empty()),
            "Processors": processors,
        });
    }
    if let Some(backup) = &config.s3_backup_configuration {
        value["S3BackupDescription"] = plain(backup);
    }
    if let Some(extension) = &config.file_extension {
        value["FileExtension"] = json!(extension);
    }
    if let Some(zone) = &config.custom_time_zone {
        value["CustomTimeZone"] = json!(zone);
    }
    value
}

fn encryption(config: &S3Config) -> Value {
    match config
        .encryption_configuration
        .as_ref()
        .and_then(|e| e.kms_encryption_config.as_ref())
    {
        Some(kms) => json!({ "KMSEncryptionConfig": { "AWSKMSKeyARN": kms.key_arn } }),
        None => json!({ "NoEncryptionConfig": "NoEncryption" }),
    }
}

fn logging(config: &S3Config) -> Value {
    let options = config
        .cloud_watch_logging_options
        .clone()
        .unwrap_or_default();
    let mut value = json!({ "Enabled": options.enabled.unwrap_or(false) });
    if let Some(group) = options.log_group_name {
        value["LogGroupName"] = json!(group);
    }
    if let Some(stream) = options.log_stream_name {
        value["LogStreamName"] = json!(stream);
    }
    value
}
