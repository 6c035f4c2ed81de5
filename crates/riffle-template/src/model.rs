//! What a template declares that Riffle runs: the typed application.
//!
//! Invariant: an [`Application`] exists only for a template without errors; every name, ARN
//! and URL in it is resolved to its local value, and every mapping's properties have passed
//! riffle-core's validation (its validated configuration is carried alongside).

use riffle_core::kinesis::config::KinesisMappingConfig;
use riffle_core::sqs::config::SqsMappingConfig;

use crate::error::{Diagnostic, Location};

/// A template read successfully: the application and the warnings about what it ignores.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// What to create and run.
    pub application: Application,
    /// Settings accepted but without effect locally (IAM policies, tracing, …).
    pub warnings: Vec<Diagnostic>,
}

/// The streams, queues, functions and event source mappings of a template, in template order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Application {
    /// `AWS::Kinesis::Stream` resources.
    pub streams: Vec<Stream>,
    /// `AWS::Kinesis::StreamConsumer` resources (enhanced fan-out consumers).
    pub consumers: Vec<StreamConsumer>,
    /// `AWS::SQS::Queue` resources.
    pub queues: Vec<Queue>,
    /// `AWS::S3::Bucket` resources.
    pub buckets: Vec<Bucket>,
    /// `AWS::KinesisFirehose::DeliveryStream` resources.
    pub delivery_streams: Vec<DeliveryStream>,
    /// `AWS::Serverless::Function` resources.
    pub functions: Vec<Function>,
    /// Kinesis and SQS events of functions, and `AWS::Lambda::EventSourceMapping` resources.
    pub mappings: Vec<Mapping>,
    /// `Outputs` whose values resolve locally.
    pub outputs: Vec<Output>,
}

/// A Kinesis data stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Logical id in the template.
    pub logical_id: String,
    /// `Name`, or the default name (see [`crate::Options::stack_name`]).
    pub name: String,
    /// `arn:{partition}:kinesis:{region}:{account}:stream/{name}`.
    pub arn: String,
    /// Capacity mode and shard count.
    pub mode: StreamMode,
    /// `RetentionPeriodHours`, default 24.
    pub retention_period_hours: u32,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// An enhanced fan-out consumer of a stream: a mapping whose `Stream` is its ARN reads the
/// stream with SubscribeToShard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConsumer {
    /// Logical id in the template.
    pub logical_id: String,
    /// `ConsumerName`.
    pub name: String,
    /// `{stream_arn}/consumer/{name}:{creation}`: the ARN in the template's mappings. The
    /// emulator gives the registered consumer an ARN of its own creation time; `riffle local`
    /// maps one to the other.
    pub arn: String,
    /// `StreamARN`.
    pub stream_arn: String,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// `StreamModeDetails.StreamMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMode {
    /// `PROVISIONED` (the default) with `ShardCount` shards (1 when absent, as CloudFormation's
    /// resource handler does).
    Provisioned {
        /// `ShardCount`.
        shard_count: u32,
    },
    /// `ON_DEMAND`: the emulator picks the shard count.
    OnDemand,
}

/// An SQS queue. Attributes the template leaves unset are `None`: SQS's defaults apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Logical id in the template.
    pub logical_id: String,
    /// `QueueName`, or the default name (ending in `.fifo` for FIFO queues).
    pub name: String,
    /// `arn:{partition}:sqs:{region}:{account}:{name}`.
    pub arn: String,
    /// `{queue_url_base}/{account}/{name}`.
    pub url: String,
    /// `FifoQueue`.
    pub fifo: bool,
    /// `ContentBasedDeduplication` (FIFO only).
    pub content_based_deduplication: bool,
    /// `VisibilityTimeout`, seconds (SQS default 30).
    pub visibility_timeout_seconds: Option<u32>,
    /// `MessageRetentionPeriod`, seconds (SQS default 345 600).
    pub message_retention_period_seconds: Option<u32>,
    /// `DelaySeconds` (SQS default 0).
    pub delay_seconds: Option<u32>,
    /// `ReceiveMessageWaitTimeSeconds` (SQS default 0).
    pub receive_message_wait_time_seconds: Option<u32>,
    /// `MaximumMessageSize`, bytes (SQS default and maximum 1 048 576).
    pub maximum_message_size: Option<u32>,
    /// `RedrivePolicy`.
    pub redrive_policy: Option<RedrivePolicy>,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// SQS's default visibility timeout, seconds.
pub const DEFAULT_VISIBILITY_TIMEOUT_SECONDS: u32 = 30;

/// A queue's `RedrivePolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    /// `deadLetterTargetArn`.
    pub dead_letter_target_arn: String,
    /// `maxReceiveCount`.
    pub max_receive_count: u32,
}

impl Queue {
    /// The visibility timeout in effect: the template's, or SQS's default of 30 s.
    pub fn visibility_timeout(&self) -> u32 {
        self.visibility_timeout_seconds
            .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT_SECONDS)
    }

    /// The attributes to pass to `CreateQueue`, as SQS names and writes them (`RedrivePolicy`
    /// as its JSON string); only those the template sets.
    pub fn create_queue_attributes(&self) -> Vec<(&'static str, String)> {
        let mut attributes = Vec::new();
        if self.fifo {
            attributes.push(("FifoQueue", "true".to_owned()));
        }
        if self.content_based_deduplication {
            attributes.push(("ContentBasedDeduplication", "true".to_owned()));
        }
        let numbers = [
            ("VisibilityTimeout", self.visibility_timeout_seconds),
            (
                "MessageRetentionPeriod",
                self.message_retention_period_seconds,
            ),
            ("DelaySeconds", self.delay_seconds),
            (
                "ReceiveMessageWaitTimeSeconds",
                self.receive_message_wait_time_seconds,
            ),
            ("MaximumMessageSize", self.maximum_message_size),
        ];
        for (name, value) in numbers {
            if let Some(value) = value {
                attributes.push((name, value.to_string()));
            }
        }
        if let Some(policy) = &self.redrive_policy {
            attributes.push((
                "RedrivePolicy",
                serde_json::json!({
                    "deadLetterTargetArn": policy.dead_letter_target_arn,
                    "maxReceiveCount": policy.max_receive_count,
                })
                .to_string(),
            ));
        }
        attributes
    }
}

/// An S3 bucket, created empty on the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Logical id in the template.
    pub logical_id: String,
    /// `BucketName`, or the default name (lower case).
    pub name: String,
    /// `arn:{partition}:s3:::{name}`.
    pub arn: String,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// A Firehose delivery stream to S3. Settings the template leaves unset are `None`: Firehose's
/// defaults apply (the emulator's CreateDeliveryStream fills them in, as AWS does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStream {
    /// Logical id in the template.
    pub logical_id: String,
    /// `DeliveryStreamName`, or the default name.
    pub name: String,
    /// `arn:{partition}:firehose:{region}:{account}:deliverystream/{name}`.
    pub arn: String,
    /// `KinesisStreamSourceConfiguration.KinesisStreamARN` of a `KinesisStreamAsSource`
    /// stream; `None` for `DirectPut`.
    pub source_stream_arn: Option<String>,
    /// `ExtendedS3DestinationConfiguration` (or the older `S3DestinationConfiguration`).
    pub destination: S3Delivery,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// Where and how a delivery stream writes to S3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Delivery {
    /// `BucketARN`.
    pub bucket_arn: String,
    /// `Prefix`.
    pub prefix: Option<String>,
    /// `ErrorOutputPrefix`.
    pub error_output_prefix: Option<String>,
    /// `BufferingHints.IntervalInSeconds` (0–900; Firehose's default 300).
    pub buffer_interval_seconds: Option<u32>,
    /// `BufferingHints.SizeInMBs` (1–128; Firehose's default 5).
    pub buffer_size_mb: Option<u32>,
    /// `CompressionFormat` (`UNCOMPRESSED`, `GZIP`, `ZIP`, `Snappy`, `HADOOP_SNAPPY`).
    pub compression: Option<String>,
    /// The Lambda processor of an enabled `ProcessingConfiguration`.
    pub transformation: Option<Transformation>,
    /// `S3BackupConfiguration` when `S3BackupMode` is `Enabled`: where the source records go.
    pub backup: Option<Box<S3Delivery>>,
}

/// A delivery stream's Lambda transformation: the function and its processor parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformation {
    /// The `LambdaArn` parameter, as written (it may carry a `:$LATEST` qualifier).
    pub function_arn: String,
    /// The template function it names.
    pub function_logical_id: String,
    /// Every parameter (`LambdaArn`, `NumberOfRetries`, `BufferSizeInMBs`,
    /// `BufferIntervalInSeconds`, `RoleArn`) as `(ParameterName, ParameterValue)`, in order.
    pub parameters: Vec<(String, String)>,
}

/// A function Riffle builds and runs behind its local Runtime API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Logical id in the template.
    pub logical_id: String,
    /// `FunctionName`, or the default name.
    pub name: String,
    /// `arn:{partition}:lambda:{region}:{account}:function:{name}`.
    pub arn: String,
    /// `CodeUri`: the directory of the Cargo package (relative to the template).
    pub code_uri: String,
    /// `Handler` (`_HANDLER`).
    pub handler: String,
    /// `Runtime`: a `provided` runtime.
    pub runtime: String,
    /// `Architectures[0]` (`x86_64` by default). Locally the binary is built for the host.
    pub architecture: String,
    /// `Timeout`, seconds (default 3).
    pub timeout_seconds: u32,
    /// `MemorySize`, MB (default 128).
    pub memory_size_mb: u32,
    /// `Environment.Variables`, Globals' first, in template order.
    pub environment: Vec<(String, String)>,
    /// `ReservedConcurrentExecutions`.
    pub reserved_concurrent_executions: Option<u32>,
    /// `Metadata: BuildMethod: rust-cargolambda`; `None` when the template has no build
    /// metadata (then `CodeUri` must hold a built `bootstrap`).
    pub build: Option<CargoLambdaBuild>,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// `Metadata: BuildMethod: rust-cargolambda` and its `BuildProperties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoLambdaBuild {
    /// `BuildProperties.Binary`: the binary target to build; `None` for the package's only
    /// binary.
    pub binary: Option<String>,
}

/// Which service a mapping reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A Kinesis data stream.
    Kinesis,
    /// An SQS queue.
    Sqs,
}

/// An event source mapping: a function's `Kinesis` or `SQS` event, or an
/// `AWS::Lambda::EventSourceMapping` resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// The logical id of the mapping: `{Function}{Event}` for a function's event (the id SAM
    /// gives the `AWS::Lambda::EventSourceMapping` it generates), the resource's otherwise.
    pub logical_id: String,
    /// The logical id of the function it invokes.
    pub function: String,
    /// The function's name (`FunctionName` in `properties`).
    pub function_name: String,
    /// The stream or queue ARN (`EventSourceArn` in `properties`).
    pub event_source_arn: String,
    /// Kinesis or SQS.
    pub kind: SourceKind,
    /// The mapping's properties with AWS's names, as `CreateEventSourceMapping` takes them:
    /// `EventSourceArn` and `FunctionName` included, SAM's `Stream`/`Queue` renamed, SAM's
    /// `DestinationConfig.OnFailure.Type` removed, numbers and booleans given as strings
    /// converted. Deserializes into `riffle_core::kinesis::config::RawKinesisMapping` or
    /// `riffle_core::sqs::config::RawSqsMapping`.
    pub properties: serde_json::Value,
    /// The validated configuration.
    pub config: MappingConfig,
    /// Where the event or resource is declared.
    pub location: Option<Location>,
}

/// A mapping's validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingConfig {
    /// A Kinesis mapping, validated at [`crate::Options::now_ms`].
    Kinesis(KinesisMappingConfig),
    /// An SQS mapping, validated against its queue and function.
    Sqs(SqsMappingConfig),
}

/// One entry of `Outputs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The output's logical id.
    pub name: String,
    /// Its value (a list is joined with commas).
    pub value: String,
}

impl Application {
    /// The function with this logical id.
    pub fn function(&self, logical_id: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }

    /// The stream with this ARN.
    pub fn stream_by_arn(&self, arn: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.arn == arn)
    }

    /// The stream consumer with this ARN.
    pub fn consumer_by_arn(&self, arn: &str) -> Option<&StreamConsumer> {
        self.consumers.iter().find(|c| c.arn == arn)
    }

    /// The bucket with this ARN.
    pub fn bucket_by_arn(&self, arn: &str) -> Option<&Bucket> {
        self.buckets.iter().find(|b| b.arn == arn)
    }

    /// The queue with this ARN.
    pub fn queue_by_arn(&self, arn: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.arn == arn)
    }
}
