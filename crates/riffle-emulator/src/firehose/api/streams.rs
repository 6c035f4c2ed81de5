//! Delivery stream lifecycle: CreateDeliveryStream, DescribeDeliveryStream,
//! ListDeliveryStreams, DeleteDeliveryStream and UpdateDestination, and the rules a
//! configuration must pass before it is stored.
//!
//! Invariant: a configuration is stored only if riffle-core's `DeliverySettings::new` accepts
//! the `RawDelivery` built from it, so every stored stream can be delivered.

use std::collections::BTreeMap;

use riffle_core::firehose::settings::DeliverySettings;
use serde_json::{Value, json};

use super::request::{
    CreateDeliveryStreamInput, DescribeDeliveryStreamInput, ExtendedS3, ListDeliveryStreamsInput,
    StreamNamed, UpdateDestinationInput, to_body,
};
use super::{Firehose, Reply};
use crate::error::{ApiError, ApiResult};
use crate::firehose::store::{
    DestinationKind, FirehoseStore, Mutation, S3Config, StreamConfig, StreamStatus,
    concurrent_modification,
};

/// The one destination a Riffle delivery stream has.
pub(super) const DESTINATION_ID: &str = "destinationId-000000000001";

impl Firehose {
    pub(super) fn create_delivery_stream(
        &self,
        input: CreateDeliveryStreamInput,
    ) -> ApiResult<Reply> {
        refuse_other_destinations(&input.other, "DestinationConfiguration")?;
        let source = match input.delivery_stream_type.as_deref() {
            None | Some("DirectPut") => {
                if input.kinesis_stream_source_configuration.is_some() {
                    return Err(ApiError::invalid_argument(
                        "KinesisStreamSourceConfiguration is only valid for a delivery stream \
                         of type KinesisStreamAsSource.",
                    ));
                }
                None
            }
            Some("KinesisStreamAsSource") => {
                let Some(source) = input.kinesis_stream_source_configuration else {
                    return Err(ApiError::invalid_argument(
                        "KinesisStreamSourceConfiguration is required for a delivery stream \
                         of type KinesisStreamAsSource.",
                    ));
                };
                if input
                    .delivery_stream_encryption_configuration_input
                    .is_some()
                {
                    return Err(ApiError::invalid_argument(
                        "DeliveryStreamEncryptionConfigurationInput is not supported for a \
                         delivery stream of type KinesisStreamAsSource: the source stream's \
                         encryption applies.",
                    ));
                }
                Some(source)
            }
            Some(other) => {
                return Err(ApiError::invalid_argument(format!(
                    "Riffle reads delivery streams from PutRecord(Batch) (DirectPut) or a \
                     Kinesis stream (KinesisStreamAsSource) only: DeliveryStreamType {other} is \
                     not supported."
                )));
            }
        };
        let (kind, destination) = match (
            input.extended_s3_destination_configuration,
            input.s3_destination_configuration,
        ) {
            (Some(extended), None) => (DestinationKind::ExtendedS3, extended_config(extended)?),
            (None, Some(plain)) => (DestinationKind::S3, plain),
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "Only one destination configuration is allowed: give \
                     ExtendedS3DestinationConfiguration or S3DestinationConfiguration, not both.",
                ));
            }
            (None, None) => {
                return Err(ApiError::invalid_argument(
                    "A destination configuration is required: Riffle delivers to Amazon S3 \
                     (ExtendedS3DestinationConfiguration).",
                ));
            }
        };
        let config = StreamConfig {
            source,
            encryption: input.delivery_stream_encryption_configuration_input,
            kind,
            destination,
        };
        let mut tags = BTreeMap::new();
        for tag in input.tags.unwrap_or_default() {
            tags.insert(tag.key, tag.value.unwrap_or_default());
        }
        let (mut store, now) = self.lock_now();
        let name = input.delivery_stream_name;
        check_config(&store, &name, &config, 1)?;
        let arn = store.arn(&name);
        let durable_at = self.commit(&mut store, now, Mutation::Create { name, config, tags })?;
        Ok(Reply {
            body: to_body(&json!({ "DeliveryStreamARN": arn })),
            durable_at,
        })
    }

    pub(super) fn describe_delivery_stream(
        &self,
        input: DescribeDeliveryStreamInput,
    ) -> ApiResult<Reply> {
        let (store, now) = self.lock_now();
        let stream = store.stream(&input.delivery_stream_name)?;
        let description = super::describe::description(
            &store,
            stream,
            now,
            input.exclusive_start_destination_id.as_deref(),
        );
        Ok(Reply {
            body: to_body(&json!({ "DeliveryStreamDescription": description })),
            durable_at: None,
        })
    }

    pub(super) fn list_delivery_streams(
        &self,
        input: ListDeliveryStreamsInput,
    ) -> ApiResult<Reply> {
        let store = self.lock();
        let limit = input.limit.unwrap_or(10);
        let after = input.exclusive_start_delivery_stream_name;
        let names: Vec<&String> = store
            .streams
            .values()
            .filter(|s| {
                input
                    .delivery_stream_type
                    .as_deref()
                    .is_none_or(|t| s.config.stream_type() == t)
            })
            .map(|s| &s.name)
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let more = names.len() > limit;
        let page: Vec<&String> = names.into_iter().take(limit).collect();
        Ok(Reply {
            body: to_body(&json!({
                "DeliveryStreamNames": page,
                "HasMoreDeliveryStreams": more,
            })),
            durable_at: None,
        })
    }

    pub(super) fn delete_delivery_stream(&self, input: StreamNamed) -> ApiResult<Reply> {
        let (store, now) = self.lock_now();
        let name = input.delivery_stream_name;
        let stream = store.stream(&name)?;
        if store.status(stream, now) == StreamStatus::Creating {
            return Err(not_active(&store, &name, StreamStatus::Creating));
        }
        drop(store);
        self.commit_reply(Mutation::Delete { name }, b"{}".to_vec())
    }

    pub(super) fn update_destination(&self, input: UpdateDestinationInput) -> ApiResult<Reply> {
        refuse_other_destinations(&input.other, "DestinationUpdate")?;
        let update = match (
            input.extended_s3_destination_update,
            input.s3_destination_update,
        ) {
            (Some(extended), None) => extended_config(extended)?,
            (None, Some(plain)) => plain,
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "Only one destination update is allowed: give ExtendedS3DestinationUpdate \
                     or S3DestinationUpdate, not both.",
                ));
            }
            (None, None) => {
                return Err(ApiError::invalid_argument(
                    "A destination update is required: Riffle delivers to Amazon S3 \
                     (ExtendedS3DestinationUpdate).",
                ));
            }
        };
        let name = input.delivery_stream_name;
        let (mut store, now) = self.lock_now();
        let stream = store.stream(&name)?;
        let status = store.status(stream, now);
        if status != StreamStatus::Active {
            return Err(not_active(&store, &name, status));
        }
        // The model's pattern ([0-9]+) leaves only a number too large for any version.
        let given: u64 = input
            .current_delivery_stream_version_id
            .parse()
            .unwrap_or(u64::MAX);
        if given != stream.version {
            return Err(concurrent_modification(&name, stream.version, given));
        }
        if input.destination_id != DESTINATION_ID {
            return Err(ApiError::invalid_argument(format!(
                "Destination {} not found for Firehose {name}: its destination is \
                 {DESTINATION_ID}.",
                input.destination_id
            )));
        }
        let mut config = stream.config.clone();
        config.destination = config.destination.merged(&update);
        check_config(&store, &name, &config, stream.version + 1)?;
        let mutation = Mutation::UpdateDestination {
            name,
            version: given,
            destination: config.destination,
        };
        let durable_at = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: b"{}".to_vec(),
            durable_at,
        })
    }
}

/// ResourceInUseException: the stream is `status`, and the operation needs it `ACTIVE`.
pub(super) fn not_active(store: &FirehoseStore, name: &str, status: StreamStatus) -> ApiError {
    ApiError::in_use(format!(
        "Firehose {name} under account {} is not ACTIVE: it is {}.",
        store.settings.account_id,
        status.as_str()
    ))
}

/// Refuses any destination member of `other` (the members the input does not name) whose
/// name ends in `suffix`: Riffle delivers to S3 only.
fn refuse_other_destinations(
    other: &serde_json::Map<String, Value>,
    suffix: &str,
) -> ApiResult<()> {
    let given = other
        .iter()
        .find(|(key, value)| key.ends_with(suffix) && !value.is_null());
    match given {
        Some((key, _)) => Err(ApiError::invalid_argument(format!(
            "Riffle delivers to Amazon S3 only: {key} is not supported; use \
             ExtendedS3Destination{}.",
            suffix.trim_start_matches("Destination")
        ))),
        None => Ok(()),
    }
}

/// The stored members of an extended destination, refusing the features Riffle lacks.
fn extended_config(extended: ExtendedS3) -> ApiResult<S3Config> {
    let enabled =
        |f: &Option<super::request::Feature>| f.as_ref().is_some_and(|f| f.enabled == Some(true));
    if enabled(&extended.data_format_conversion_configuration) {
        return Err(ApiError::invalid_argument(
            "DataFormatConversionConfiguration is not supported by Riffle: records are \
             delivered as they are (after the Lambda transformation, if any).",
        ));
    }
    if enabled(&extended.dynamic_partitioning_configuration) {
        return Err(ApiError::invalid_argument(
            "DynamicPartitioningConfiguration is not supported by Riffle: use a Prefix with \
             !{timestamp:...} expressions.",
        ));
    }
    let config = extended.config;
    let processors = config
        .processing_configuration
        .as_ref()
        .filter(|p| p.enabled != Some(false))
        .and_then(|p| p.processors.as_deref())
        .unwrap_or_default();
    if let Some(other) = processors.iter().find(|p| p.kind != "Lambda") {
        return Err(ApiError::invalid_argument(format!(
            "Processor type {} is not supported by Riffle: it runs Lambda processors only.",
            other.kind
        )));
    }
    if processors.len() > 1 {
        return Err(ApiError::invalid_argument(
            "Only one Lambda processor is allowed in ProcessingConfiguration.",
        ));
    }
    Ok(config)
}

/// Firehose's InvalidArgumentException for a configuration riffle-core cannot deliver with.
fn check_config(
    store: &FirehoseStore,
    name: &str,
    config: &StreamConfig,
    version: u64,
) -> ApiResult<()> {
    let destination = &config.destination;
    if destination.backs_up() && destination.s3_backup_configuration.is_none() {
        return Err(ApiError::invalid_argument(
            "S3BackupConfiguration is required when S3BackupMode is Enabled.",
        ));
    }
    let raw = config.raw(name, &store.arn(name), version, &store.settings.region);
    DeliverySettings::new(&raw)
        .map(|_| ())
        .map_err(ApiError::invalid_argument)
}
