//! A delivery stream's configuration as the client gave it: the S3 destination members of
//! CreateDeliveryStream (`ExtendedS3DestinationConfiguration` or the legacy
//! `S3DestinationConfiguration`) and of UpdateDestination (`ExtendedS3DestinationUpdate`,
//! `S3DestinationUpdate`), one typed shape for all four, decoded from the request and stored as
//! is, so DescribeDeliveryStream can answer them back and a `RawDelivery` can be rebuilt.
//!
//! Invariants: every member is optional here (the model checker has already refused a request
//! missing `RoleARN` or `BucketARN` at creation); [`S3Config::merged`] is Firehose's
//! UpdateDestination rule (members given replace, members absent are kept, nested structures
//! merge member by member); nothing here is validated except by
//! `riffle_core::firehose::settings`, which the service runs on every configuration it stores.

use serde::{Deserialize, Serialize};

use riffle_core::firehose::settings::{RawDelivery, RawProcessor, RawS3Destination};

/// `BufferingHints`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BufferingHints {
    /// `SizeInMBs`.
    #[serde(rename = "SizeInMBs", default)]
    pub size_in_mbs: Option<u32>,
    /// `IntervalInSeconds`.
    #[serde(default)]
    pub interval_in_seconds: Option<u32>,
}

/// `KMSEncryptionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsEncryptionConfig {
    /// `AWSKMSKeyARN`.
    #[serde(rename = "AWSKMSKeyARN", default)]
    pub key_arn: String,
}

/// `EncryptionConfiguration` (of the objects written; Riffle writes them unencrypted and
/// reports what was configured).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    /// `NoEncryptionConfig` (`NoEncryption`).
    #[serde(default)]
    pub no_encryption_config: Option<String>,
    /// `KMSEncryptionConfig`.
    #[serde(rename = "KMSEncryptionConfig", default)]
    pub kms_encryption_config: Option<KmsEncryptionConfig>,
}

/// `CloudWatchLoggingOptions` (reported back; Riffle's journal is its log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLoggingOptions {
    /// `Enabled`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `LogGroupName`.
    #[serde(default)]
    pub log_group_name: Option<String>,
    /// `LogStreamName`.
    #[serde(default)]
    pub log_stream_name: Option<String>,
}

/// One `ProcessorParameter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorParameter {
    /// `ParameterName`.
    pub parameter_name: String,
    /// `ParameterValue`.
    pub parameter_value: String,
}

/// One `Processor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Processor {
    /// `Type` (Riffle runs `Lambda`).
    #[serde(rename = "Type")]
    pub kind: String,
    /// `Parameters`.
    #[serde(default)]
    pub parameters: Option<Vec<ProcessorParameter>>,
}

/// `ProcessingConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingConfiguration {
    /// `Enabled`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `Processors`.
    #[serde(default)]
    pub processors: Option<Vec<Processor>>,
}

impl ProcessingConfiguration {
    /// The Lambda processor, when processing is enabled (Firehose's default when the
    /// configuration lists processors without `Enabled`).
    pub fn lambda(&self) -> Option<&Processor> {
        if self.enabled == Some(false) {
            return None;
        }
        self.processors
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|p| p.kind == "Lambda")
    }
}

/// An S3 destination as configured: the members Riffle stores of
/// `ExtendedS3DestinationConfiguration`, `S3DestinationConfiguration` and their updates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Config {
    /// `RoleARN`.
    #[serde(rename = "RoleARN", default)]
    pub role_arn: Option<String>,
    /// `BucketARN`.
    #[serde(rename = "BucketARN", default)]
    pub bucket_arn: Option<String>,
    /// `Prefix`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `ErrorOutputPrefix`.
    #[serde(default)]
    pub error_output_prefix: Option<String>,
    /// `BufferingHints`.
    #[serde(default)]
    pub buffering_hints: Option<BufferingHints>,
    /// `CompressionFormat`.
    #[serde(default)]
    pub compression_format: Option<String>,
    /// `EncryptionConfiguration`.
    #[serde(default)]
    pub encryption_configuration: Option<EncryptionConfiguration>,
    /// `CloudWatchLoggingOptions`.
    #[serde(default)]
    pub cloud_watch_logging_options: Option<CloudWatchLoggingOptions>,
    /// `ProcessingConfiguration` (extended only).
    #[serde(default)]
    pub processing_configuration: Option<ProcessingConfiguration>,
    /// `S3BackupMode` (extended only): `Disabled` or `Enabled`.
    #[serde(default)]
    pub s3_backup_mode: Option<String>,
    /// `S3BackupConfiguration` (or, in an update, `S3BackupUpdate`).
    #[serde(default, alias = "S3BackupUpdate")]
    pub s3_backup_configuration: Option<Box<S3Config>>,
    /// `FileExtension` (extended only).
    #[serde(default)]
    pub file_extension: Option<String>,
    /// `CustomTimeZone` (extended only).
    #[serde(default)]
    pub custom_time_zone: Option<String>,
}

impl S3Config {
    /// This configuration with `update`'s members laid over it (UpdateDestination's merge).
    pub fn merged(&self, update: &S3Config) -> S3Config {
        fn pick<T: Clone>(new: &Option<T>, old: &Option<T>) -> Option<T> {
            new.clone().or_else(|| old.clone())
        }
        let hints = match (&update.buffering_hints, &self.buffering_hints) {
            (Some(new), Some(old)) => Some(BufferingHints {
                size_in_mbs: new.size_in_mbs.or(old.size_in_mbs),
                interval_in_seconds: new.interval_in_seconds.or(old.interval_in_seconds),
            }),
            (new, old) => pick(new, old),
        };
        let backup = match (
            &update.s3_backup_configuration,
            &self.s3_backup_configuration,
        ) {
            (Some(new), Some(old)) => Some(Box::new(old.merged(new))),
            (new, old) => pick(new, old),
        };
        S3Config {
            role_arn: pick(&update.role_arn, &self.role_arn),
            bucket_arn: pick(&update.bucket_arn, &self.bucket_arn),
            prefix: pick(&update.prefix, &self.prefix),
            error_output_prefix: pick(&update.error_output_prefix, &self.error_output_prefix),
            buffering_hints: hints,
            compression_format: pick(&update.compression_format, &self.compression_format),
            encryption_configuration: pick(
                &update.encryption_configuration,
                &self.encryption_configuration,
            ),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            s3_backup_mode: pick(&update.s3_backup_mode, &self.s3_backup_mode),
            s3_backup_configuration: backup,
            file_extension: pick(&update.file_extension, &self.file_extension),
            custom_time_zone: pick(&update.custom_time_zone, &self.custom_time_zone),
        }
    }

    /// Whether source records are backed up (`S3BackupMode` `Enabled`).
    pub fn backs_up(&self) -> bool {
        self.s3_backup_mode.as_deref() == Some("Enabled")
    }

    /// The plain values riffle-core validates and delivers with.
    pub fn raw(&self) -> RawS3Destination {
        let hints = self.buffering_hints.clone().unwrap_or_default();
        RawS3Destination {
            bucket_arn: self.bucket_arn.clone().unwrap_or_default(),
            prefix: self.prefix.clone(),
            error_output_prefix: self.error_output_prefix.clone(),
            buffer_size_mb: hints.size_in_mbs,
            buffer_interval_seconds: hints.interval_in_seconds,
            compression: self.compression_format.clone(),
        }
    }
}

/// Which member of CreateDeliveryStream configured the destination (DescribeDeliveryStream
/// answers both descriptions either way, as Firehose does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DestinationKind {
    /// `ExtendedS3DestinationConfiguration`.
    ExtendedS3,
    /// The legacy `S3DestinationConfiguration`.
    S3,
}

/// `KinesisStreamSourceConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KinesisSource {
    /// `KinesisStreamARN`.
    #[serde(rename = "KinesisStreamARN")]
    pub stream_arn: String,
    /// `RoleARN`.
    #[serde(rename = "RoleARN")]
    pub role_arn: String,
}

/// `DeliveryStreamEncryptionConfigurationInput` (server-side encryption of a DirectPut
/// stream's records; reported back as `ENABLED`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEncryption {
    /// `KeyType`.
    #[serde(rename = "KeyType")]
    pub key_type: String,
    /// `KeyARN`.
    #[serde(rename = "KeyARN", default)]
    pub key_arn: Option<String>,
}

/// Everything a delivery stream was configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConfig {
    /// The Kinesis stream read (`KinesisStreamAsSource`), or `None` for `DirectPut`.
    pub source: Option<KinesisSource>,
    /// Server-side encryption, if asked for.
    pub encryption: Option<StreamEncryption>,
    /// Which member configured the destination.
    pub kind: DestinationKind,
    /// The destination.
    pub destination: S3Config,
}

impl StreamConfig {
    /// `DeliveryStreamType`.
    pub fn stream_type(&self) -> &'static str {
        if self.source.is_some() {
            "KinesisStreamAsSource"
        } else {
            "DirectPut"
        }
    }

    /// The plain values riffle-core validates and delivers with, for the stream `name`.
    pub fn raw(&self, name: &str, arn: &str, version: u64, region: &str) -> RawDelivery {
        let destination = &self.destination;
        let processor = destination
            .processing_configuration
            .as_ref()
            .and_then(ProcessingConfiguration::lambda)
            .map(|lambda| RawProcessor {
                parameters: lambda
                    .parameters
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|p| (p.parameter_name.clone(), p.parameter_value.clone()))
                    .collect(),
            });
        let backup = destination
            .backs_up()
            .then_some(destination.s3_backup_configuration.as_deref())
            .flatten()
            .map(S3Config::raw);
        RawDelivery {
            stream_name: name.to_owned(),
            stream_arn: arn.to_owned(),
            version,
            region: region.to_owned(),
            source_stream_arn: self.source.as_ref().map(|s| s.stream_arn.clone()),
            destination: destination.raw(),
            processor,
            backup,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> S3Config {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_update_replaces_what_it_gives_and_keeps_the_rest() {
        let current = config(
            r#"{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::a",
                "Prefix":"logs/","BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},
                "S3BackupMode":"Enabled","S3BackupConfiguration":{"BucketARN":"arn:aws:s3:::b","Prefix":"raw/"}}"#,
        );
        let update = config(
            r#"{"BucketARN":"arn:aws:s3:::c","BufferingHints":{"IntervalInSeconds":0},
                "S3BackupUpdate":{"Prefix":"source/"}}"#,
        );
        let merged = current.merged(&update);
        assert_eq!(merged.bucket_arn.as_deref(), Some("arn:aws:s3:::c"));
        assert_eq!(merged.prefix.as_deref(), Some("logs/"));
        assert_eq!(
            merged.buffering_hints,
            Some(BufferingHints {
                size_in_mbs: Some(64),
                interval_in_seconds: Some(0)
            })
        );
        let backup = merged.s3_backup_configuration.unwrap();
        assert_eq!(backup.bucket_arn.as_deref(), Some("arn:aws:s3:::b"));
        assert_eq!(backup.prefix.as_deref(), Some("source/"));
    }

    #[test]
    fn the_raw_delivery_carries_the_lambda_processor_and_an_enabled_backup_only() {
        let destination = config(
            r#"{"BucketARN":"arn:aws:s3:::a","CompressionFormat":"GZIP",
                "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda",
                  "Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"}]}]},
                "S3BackupMode":"Disabled","S3BackupConfiguration":{"BucketARN":"arn:aws:s3:::b"}}"#,
        );
        let mut stream = StreamConfig {
            source: Some(KinesisSource {
                stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
                role_arn: "arn:aws:iam::000000000000:role/r".into(),
            }),
            encryption: None,
            kind: DestinationKind::ExtendedS3,
            destination,
        };
        let raw = stream.raw("d", "arn", 2, "us-east-1");
        assert_eq!(raw.destination.compression.as_deref(), Some("GZIP"));
        assert_eq!(
            raw.processor.unwrap().parameters,
            [(
                "LambdaArn".to_owned(),
                "arn:aws:lambda:us-east-1:000000000000:function:f".to_owned()
            )]
        );
        assert_eq!(raw.backup, None, "S3BackupMode Disabled");
        assert_eq!(
            raw.source_stream_arn.as_deref(),
            Some("arn:aws:kinesis:us-east-1:000000000000:stream/s")
        );
        stream.destination.s3_backup_mode = Some("Enabled".into());
        stream
            .destination
            .processing_configuration
            .as_mut()
            .unwrap()
            .enabled = Some(false);
        let raw = stream.raw("d", "arn", 2, "us-east-1");
        assert_eq!(raw.backup.unwrap().bucket_arn, "arn:aws:s3:::b");
        assert_eq!(raw.processor, None, "processing disabled");
    }
}
