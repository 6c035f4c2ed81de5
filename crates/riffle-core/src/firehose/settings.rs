//! A delivery stream's settings from plain values (what CreateDeliveryStream or the template
//! carries), with Firehose's ranges and defaults.
//!
//! Invariant: a [`DeliverySettings`] only exists for values Firehose accepts: buffering hints
//! within 1–128 MiB / 0–900 s, processor parameters within their ranges, prefixes that pass
//! [`crate::firehose::prefix::validate`]; every default is Firehose's.

use crate::destination::s3_bucket;
use crate::firehose::compression::Compression;
use crate::firehose::prefix::{self, PrefixPair};
use crate::time::Millis;

/// One MiB.
pub const MIB: usize = 1024 * 1024;
/// Destination buffering size default (MiB).
pub const DEFAULT_BUFFER_MB: u32 = 5;
/// Destination buffering interval default (seconds).
pub const DEFAULT_BUFFER_SECONDS: u32 = 300;
/// Lambda processor: default buffer size (MiB).
pub const DEFAULT_PROCESSOR_BUFFER_MB: f64 = 1.0;
/// Lambda processor: default buffer interval (seconds).
pub const DEFAULT_PROCESSOR_SECONDS: u32 = 60;
/// Lambda processor: default NumberOfRetries.
pub const DEFAULT_RETRIES: u32 = 3;

/// Where and how one S3 destination (the main one or the backup) writes, as plain values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawS3Destination {
    /// `BucketARN`.
    pub bucket_arn: String,
    /// `Prefix`.
    pub prefix: Option<String>,
    /// `ErrorOutputPrefix`.
    pub error_output_prefix: Option<String>,
    /// `BufferingHints.SizeInMBs` (1–128, default 5).
    pub buffer_size_mb: Option<u32>,
    /// `BufferingHints.IntervalInSeconds` (0–900, default 300).
    pub buffer_interval_seconds: Option<u32>,
    /// `CompressionFormat` (default `UNCOMPRESSED`).
    pub compression: Option<String>,
}

/// A Lambda processor as plain values: its `ProcessorParameters`, names and string values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawProcessor {
    /// `(ParameterName, ParameterValue)` pairs: `LambdaArn`, `NumberOfRetries`,
    /// `BufferSizeInMBs`, `BufferIntervalInSeconds`, `RoleArn`.
    pub parameters: Vec<(String, String)>,
}

/// A delivery stream as plain values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawDelivery {
    /// DeliveryStreamName.
    pub stream_name: String,
    /// DeliveryStreamARN.
    pub stream_arn: String,
    /// VersionId (1 at creation, +1 per UpdateDestination).
    pub version: u64,
    /// Region (the event's `region`).
    pub region: String,
    /// The Kinesis stream read, for `KinesisStreamAsSource`.
    pub source_stream_arn: Option<String>,
    /// The destination.
    pub destination: RawS3Destination,
    /// An enabled Lambda processor.
    pub processor: Option<RawProcessor>,
    /// `S3BackupConfiguration` when `S3BackupMode` is `Enabled`.
    pub backup: Option<RawS3Destination>,
}

/// Validated buffering hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffering {
    /// Deliver when this many bytes are buffered.
    pub size_bytes: usize,
    /// …or when the oldest buffered data is this old.
    pub interval_ms: Millis,
}

/// One validated S3 destination.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Settings {
    /// The bucket's name.
    pub bucket: String,
    /// Prefix and ErrorOutputPrefix, parsed.
    pub prefixes: PrefixPair,
    /// Buffering hints.
    pub buffering: Buffering,
    /// Object compression.
    pub compression: Compression,
}

/// A validated Lambda processor.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorSettings {
    /// `LambdaArn`, as configured.
    pub lambda_arn: String,
    /// Invocation retries after the first attempt.
    pub retries: u32,
    /// Invoke when this many source bytes are buffered.
    pub buffer_bytes: usize,
    /// …or when the oldest is this old.
    pub interval_ms: Millis,
}

/// A delivery stream's validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySettings {
    /// DeliveryStreamName.
    pub stream_name: String,
    /// DeliveryStreamARN.
    pub stream_arn: String,
    /// VersionId.
    pub version: u64,
    /// Region.
    pub region: String,
    /// The Kinesis source stream's ARN.
    pub source_stream_arn: Option<String>,
    /// The destination.
    pub destination: S3Settings,
    /// The transformation.
    pub processor: Option<ProcessorSettings>,
    /// The backup of source records.
    pub backup: Option<S3Settings>,
}

impl DeliverySettings {
    /// Validates `raw`; `Err` carries Firehose's InvalidArgumentException message.
    pub fn new(raw: &RawDelivery) -> Result<Self, String> {
        Ok(Self {
            stream_name: raw.stream_name.clone(),
            stream_arn: raw.stream_arn.clone(),
            version: raw.version.max(1),
            region: raw.region.clone(),
            source_stream_arn: raw.source_stream_arn.clone(),
            destination: s3_settings(&raw.destination)?,
            processor: raw.processor.as_ref().map(processor).transpose()?,
            backup: raw.backup.as_ref().map(s3_settings).transpose()?,
        })
    }
}

/// One S3 destination's settings.
pub fn s3_settings(raw: &RawS3Destination) -> Result<S3Settings, String> {
    let bucket = s3_bucket(&raw.bucket_arn)
        .ok_or_else(|| format!("BucketARN {} is not a valid S3 bucket ARN.", raw.bucket_arn))?;
    let size = raw.buffer_size_mb.unwrap_or(DEFAULT_BUFFER_MB);
    if !(1..=128).contains(&size) {
        return Err(format!(
            "BufferingHints.SizeInMBs must be between 1 and 128, got {size}."
        ));
    }
    let interval = raw
        .buffer_interval_seconds
        .unwrap_or(DEFAULT_BUFFER_SECONDS);
    if interval > 900 {
        return Err(format!(
            "BufferingHints.IntervalInSeconds must be between 0 and 900, got {interval}."
        ));
    }
    let compression = match raw.compression.as_deref() {
        None => Compression::Uncompressed,
        Some(name) => Compression::parse(name)
            .ok_or_else(|| format!("CompressionFormat {name} is not supported."))?,
    };
    Ok(S3Settings {
        bucket: bucket.to_owned(),
        prefixes: prefix::validate(raw.prefix.as_deref(), raw.error_output_prefix.as_deref())?,
        buffering: Buffering {
            size_bytes: size as usize * MIB,
            interval_ms: Millis::from(interval) * 1000,
        },
        compression,
    })
}

fn processor(raw: &RawProcessor) -> Result<ProcessorSettings, String> {
    let mut settings = ProcessorSettings {
        lambda_arn: String::new(),
        retries: DEFAULT_RETRIES,
        buffer_bytes: (DEFAULT_PROCESSOR_BUFFER_MB * MIB as f64) as usize,
        interval_ms: Millis::from(DEFAULT_PROCESSOR_SECONDS) * 1000,
    };
    let invalid = |name: &str, value: &str, range: &str| {
        format!("Processor parameter {name} has an invalid value {value}: it must be {range}.")
    };
    for (name, value) in &raw.parameters {
        match name.as_str() {
            "LambdaArn" => settings.lambda_arn = value.clone(),
            "RoleArn" => {}
            "NumberOfRetries" => {
                settings.retries = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= 300)
                    .ok_or_else(|| invalid(name, value, "an integer between 0 and 300"))?;
            }
            "BufferIntervalInSeconds" => {
                let seconds: u32 = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= 900)
                    .ok_or_else(|| invalid(name, value, "an integer between 0 and 900"))?;
                settings.interval_ms = Millis::from(seconds) * 1000;
            }
            "BufferSizeInMBs" => {
                let mb: f64 = value
                    .parse()
                    .ok()
                    .filter(|mb| (0.2..=3.0).contains(mb))
                    .ok_or_else(|| invalid(name, value, "a number between 0.2 and 3"))?;
                settings.buffer_bytes = (mb * MIB as f64) as usize;
            }
            other => return Err(format!("Processor parameter {other} is not supported.")),
        }
    }
    if settings.lambda_arn.is_empty() {
        return Err("Processor parameter LambdaArn is required for a Lambda processor.".into());
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawDelivery {
        RawDelivery {
            stream_name: "logs".into(),
            stream_arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs".into(),
            version: 1,
            region: "us-east-1".into(),
            destination: RawS3Destination {
                bucket_arn: "arn:aws:s3:::archive".into(),
                ..RawS3Destination::default()
            },
            ..RawDelivery::default()
        }
    }

    fn lambda(extra: &[(&str, &str)]) -> RawProcessor {
        let mut parameters = vec![(
            "LambdaArn".into(),
            "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        )];
        parameters.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        RawProcessor { parameters }
    }

    #[test]
    fn defaults_are_firehoses() {
        let mut raw = raw();
        raw.processor = Some(lambda(&[]));
        let settings = DeliverySettings::new(&raw).unwrap();
        assert_eq!(settings.destination.bucket, "archive");
        assert_eq!(
            settings.destination.buffering,
            Buffering {
                size_bytes: 5 * MIB,
                interval_ms: 300_000
            }
        );
        assert_eq!(settings.destination.compression, Compression::Uncompressed);
        let processor = settings.processor.unwrap();
        assert_eq!(
            (
                processor.retries,
                processor.buffer_bytes,
                processor.interval_ms
            ),
            (3, MIB, 60_000)
        );
    }

    #[test]
    fn ranges_are_checked() {
        for (size, interval, ok) in [
            (1, 0, true),
            (128, 900, true),
            (0, 60, false),
            (129, 60, false),
            (5, 901, false),
        ] {
            let mut raw = raw();
            raw.destination.buffer_size_mb = Some(size);
            raw.destination.buffer_interval_seconds = Some(interval);
            assert_eq!(
                DeliverySettings::new(&raw).is_ok(),
                ok,
                "{size} MiB {interval} s"
            );
        }
        for (name, value, ok) in [
            ("BufferSizeInMBs", "0.2", true),
            ("BufferSizeInMBs", "3", true),
            ("BufferSizeInMBs", "0.1", false),
            ("BufferSizeInMBs", "3.5", false),
            ("BufferIntervalInSeconds", "0", true),
            ("BufferIntervalInSeconds", "901", false),
            ("NumberOfRetries", "300", true),
            ("NumberOfRetries", "301", false),
            ("NumberOfRetries", "-1", false),
            ("Unknown", "1", false),
        ] {
            let mut raw = raw();
            raw.processor = Some(lambda(&[(name, value)]));
            assert_eq!(DeliverySettings::new(&raw).is_ok(), ok, "{name}={value}");
        }
        let mut raw = raw();
        raw.processor = Some(RawProcessor::default());
        assert!(
            DeliverySettings::new(&raw)
                .unwrap_err()
                .contains("LambdaArn")
        );
        raw.processor = None;
        raw.destination.compression = Some("LZ4".into());
        assert!(DeliverySettings::new(&raw).is_err());
    }
}
