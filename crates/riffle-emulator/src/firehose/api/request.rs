//! The operations' inputs as serde decodes them (the model checker has already refused any
//! member of the wrong type or out of its bounds), and what the answers share: the JSON body
//! and Firehose's timestamps.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::firehose::store::{KinesisSource, S3Config, StreamEncryption};

/// A response body.
pub(super) fn to_body(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

/// A timestamp as Firehose's JSON carries it: epoch seconds with a fraction.
pub(super) fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// One `Tag`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub(super) key: String,
    #[serde(default)]
    pub(super) value: Option<String>,
}

/// A member Riffle reads only to see whether it switches on a feature it does not have.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Feature {
    #[serde(default)]
    pub(super) enabled: Option<bool>,
}

/// `ExtendedS3DestinationConfiguration` (or an update of one): the stored members, and those
/// Riffle refuses when enabled.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ExtendedS3 {
    #[serde(flatten)]
    pub(super) config: S3Config,
    #[serde(default)]
    pub(super) data_format_conversion_configuration: Option<Feature>,
    #[serde(default)]
    pub(super) dynamic_partitioning_configuration: Option<Feature>,
}

/// CreateDeliveryStream's input. The destination members Riffle does not deliver to are kept
/// as JSON only to name them in the refusal.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateDeliveryStreamInput {
    pub(super) delivery_stream_name: String,
    #[serde(default)]
    pub(super) delivery_stream_type: Option<String>,
    #[serde(default)]
    pub(super) kinesis_stream_source_configuration: Option<KinesisSource>,
    #[serde(default)]
    pub(super) delivery_stream_encryption_configuration_input: Option<StreamEncryption>,
    #[serde(default)]
    pub(super) s3_destination_configuration: Option<S3Config>,
    #[serde(default)]
    pub(super) extended_s3_destination_configuration: Option<ExtendedS3>,
    #[serde(default)]
    pub(super) tags: Option<Vec<Tag>>,
    #[serde(flatten)]
    pub(super) other: serde_json::Map<String, Value>,
}

/// DescribeDeliveryStream's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DescribeDeliveryStreamInput {
    pub(super) delivery_stream_name: String,
    #[serde(default)]
    pub(super) exclusive_start_destination_id: Option<String>,
}

/// ListDeliveryStreams' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListDeliveryStreamsInput {
    #[serde(default)]
    pub(super) limit: Option<usize>,
    #[serde(default)]
    pub(super) delivery_stream_type: Option<String>,
    #[serde(default)]
    pub(super) exclusive_start_delivery_stream_name: Option<String>,
}

/// DeleteDeliveryStream's input (`AllowForceDelete` changes nothing here: Riffle has no
/// encryption key to fail on).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StreamNamed {
    pub(super) delivery_stream_name: String,
}

/// `Record`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RecordInput {
    pub(super) data: String,
}

/// PutRecord's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutRecordInput {
    pub(super) delivery_stream_name: String,
    pub(super) record: RecordInput,
}

/// PutRecordBatch's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutRecordBatchInput {
    pub(super) delivery_stream_name: String,
    pub(super) records: Vec<RecordInput>,
}

/// UpdateDestination's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateDestinationInput {
    pub(super) delivery_stream_name: String,
    pub(super) current_delivery_stream_version_id: String,
    pub(super) destination_id: String,
    #[serde(default)]
    pub(super) s3_destination_update: Option<S3Config>,
    #[serde(default)]
    pub(super) extended_s3_destination_update: Option<ExtendedS3>,
    #[serde(flatten)]
    pub(super) other: serde_json::Map<String, Value>,
}

/// TagDeliveryStream's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagInput {
    pub(super) delivery_stream_name: String,
    pub(super) tags: Vec<Tag>,
}

/// UntagDeliveryStream's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagInput {
    pub(super) delivery_stream_name: String,
    pub(super) tag_keys: Vec<String>,
}

/// ListTagsForDeliveryStream's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListTagsInput {
    pub(super) delivery_stream_name: String,
    #[serde(default)]
    pub(super) exclusive_start_tag_key: Option<String>,
    #[serde(default)]
    pub(super) limit: Option<usize>,
}
