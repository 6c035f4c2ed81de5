//! Creating the template's buckets, streams, stream consumers and queues on the endpoint,
//! idempotently:
//! a resource that already exists (a data directory from an earlier run) is kept, and its
//! settings brought to the template's where the API allows.
//!
//! Invariant: a queue is created after its dead-letter queue, a consumer after its stream, and
//! a stream or consumer is used only once it is ACTIVE.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::bail;
use riffle_aws::tools::kinesis::{self, CreateStreamError};
use riffle_aws::tools::sqs::{self, CreateQueueError};
use riffle_aws::{KinesisClient, S3Client, SqsClient};
use riffle_template::{Application, Queue, Stream};

/// The consumer ARNs the endpoint gave, by the template's ARN of each (see
/// [`riffle_template::StreamConsumer::arn`]).
pub(crate) type ConsumerArns = BTreeMap<String, String>;

/// Creates every bucket, stream, stream consumer and queue of `app`.
pub(crate) async fn create(
    app: &Application,
    kinesis: &KinesisClient,
    queues: &SqsClient,
    s3: &S3Client,
) -> anyhow::Result<ConsumerArns> {
    for bucket in &app.buckets {
        riffle_aws::tools::s3::create_bucket(s3, &bucket.name)
            .await
            .map_err(|e| anyhow::anyhow!("bucket {}: {e}", bucket.logical_id))?;
    }
    for stream in &app.streams {
        create_stream(kinesis, stream).await?;
    }
    let mut consumers = ConsumerArns::new();
    for consumer in &app.consumers {
        let (name, id) = (&consumer.name, &consumer.logical_id);
        let arn = kinesis::register_consumer(kinesis, &consumer.stream_arn, name)
            .await
            .map_err(|e| anyhow::anyhow!("stream consumer {id}: {e}"))?;
        eprintln!("riffle: stream consumer {name} is {arn}");
        consumers.insert(consumer.arn.clone(), arn);
    }
    // Dead-letter queues first: a redrive policy names an existing queue.
    let mut created: BTreeSet<&str> = BTreeSet::new();
    let mut remaining: Vec<&Queue> = app.queues.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        let mut next = Vec::new();
        for queue in remaining {
            let ready = queue.redrive_policy.as_ref().is_none_or(|p| {
                created.contains(p.dead_letter_target_arn.as_str())
                    || !app.queues.iter().any(|q| q.arn == p.dead_letter_target_arn)
            });
            if ready {
                create_queue(queues, queue).await?;
                created.insert(&queue.arn);
            } else {
                next.push(queue);
            }
        }
        if next.len() == before {
            bail!("the queues' redrive policies form a cycle");
        }
        remaining = next;
    }
    Ok(consumers)
}

async fn create_stream(kinesis: &KinesisClient, stream: &Stream) -> anyhow::Result<()> {
    let shard_count = match stream.mode {
        riffle_template::StreamMode::Provisioned { shard_count } => Some(shard_count),
        riffle_template::StreamMode::OnDemand => None,
    };
    let name = &stream.name;
    match kinesis::create_stream(kinesis, name, shard_count, stream.retention_period_hours).await {
        Ok(kinesis::Created::Created) => eprintln!("riffle: created stream {name}"),
        Ok(kinesis::Created::Existed) => eprintln!("riffle: stream {name} exists; keeping it"),
        Err(CreateStreamError::Create(e)) => {
            bail!("creating stream {name} ({}): {e}", stream.logical_id)
        }
        Err(CreateStreamError::Describe(e)) => bail!("describing {name}: {e}"),
        Err(CreateStreamError::Retention(e)) => bail!("retention of {name}: {e}"),
        Err(CreateStreamError::NotActive) => {
            bail!("stream {name} did not become ACTIVE within a minute")
        }
    }
    Ok(())
}

async fn create_queue(client: &SqsClient, queue: &Queue) -> anyhow::Result<()> {
    let name = &queue.name;
    match sqs::create_queue(client, name, queue.create_queue_attributes()).await {
        Ok(sqs::Created::Created) => eprintln!("riffle: created queue {name}"),
        // It existed with other settings, now the template's (FifoQueue cannot change, and a
        // FIFO name already fixes it).
        Ok(sqs::Created::Updated) => eprintln!("riffle: queue {name} exists; settings updated"),
        Err(CreateQueueError::Find(e)) => bail!("finding queue {name}: {e}"),
        Err(CreateQueueError::Update(e)) => bail!("updating queue {name}: {e}"),
        Err(CreateQueueError::Create(e)) => {
            bail!("creating queue {name} ({}): {e}", queue.logical_id)
        }
    }
    Ok(())
}

/// Creates the template's delivery streams in the embedded emulator, in process (only the
/// embedded emulator runs deliveries); one that exists (a data directory from an earlier run)
/// is kept as it is.
pub(crate) async fn create_delivery_streams(
    app: &Application,
    firehose: &riffle_emulator::firehose::Firehose,
    account_id: &str,
) -> anyhow::Result<()> {
    use riffle_emulator::ErrorCode;
    use riffle_emulator::firehose::Action;
    let role = format!("arn:aws:iam::{account_id}:role/riffle-local");
    for stream in &app.delivery_streams {
        let body = create_delivery_stream_request(stream, &role);
        let name = &stream.name;
        match firehose
            .call(Action::CreateDeliveryStream, body.to_string().as_bytes())
            .await
        {
            Ok(_) => eprintln!("riffle: created delivery stream {name}"),
            Err(e) if e.code == ErrorCode::ResourceInUseException => {
                eprintln!("riffle: delivery stream {name} exists; keeping it");
            }
            Err(e) => bail!(
                "creating delivery stream {name} ({}): {}: {}",
                stream.logical_id,
                e.code,
                e.message
            ),
        }
    }
    Ok(())
}

/// CreateDeliveryStream's request for a template's delivery stream.
fn create_delivery_stream_request(
    stream: &riffle_template::DeliveryStream,
    role: &str,
) -> serde_json::Value {
    let mut request = serde_json::json!({
        "DeliveryStreamName": stream.name,
        "DeliveryStreamType": if stream.source_stream_arn.is_some() { "KinesisStreamAsSource" } else { "DirectPut" },
        "ExtendedS3DestinationConfiguration": s3_configuration(&stream.destination, role, true),
    });
    if let Some(arn) = &stream.source_stream_arn {
        request["KinesisStreamSourceConfiguration"] =
            serde_json::json!({ "KinesisStreamARN": arn, "RoleARN": role });
    }
    request
}

fn s3_configuration(
    destination: &riffle_template::S3Delivery,
    role: &str,
    extended: bool,
) -> serde_json::Value {
    let mut config = serde_json::json!({ "RoleARN": role, "BucketARN": destination.bucket_arn });
    let set = |config: &mut serde_json::Value, key: &str, value: &Option<String>| {
        if let Some(value) = value {
            config[key] = serde_json::Value::String(value.clone());
        }
    };
    set(&mut config, "Prefix", &destination.prefix);
    set(
        &mut config,
        "ErrorOutputPrefix",
        &destination.error_output_prefix,
    );
    set(&mut config, "CompressionFormat", &destination.compression);
    let mut hints = serde_json::Map::new();
    if let Some(size) = destination.buffer_size_mb {
        hints.insert("SizeInMBs".into(), size.into());
    }
    if let Some(seconds) = destination.buffer_interval_seconds {
        hints.insert("IntervalInSeconds".into(), seconds.into());
    }
    if !hints.is_empty() {
        config["BufferingHints"] = serde_json::Value::Object(hints);
    }
    if !extended {
        return config;
    }
    if let Some(transformation) = &destination.transformation {
        let parameters: Vec<serde_json::Value> = transformation
            .parameters
            .iter()
            .map(|(name, value)| serde_json::json!({ "ParameterName": name, "ParameterValue": value }))
            .collect();
        config["ProcessingConfiguration"] = serde_json::json!({
            "Enabled": true,
            "Processors": [{ "Type": "Lambda", "Parameters": parameters }],
        });
    }
    if let Some(backup) = &destination.backup {
        config["S3BackupMode"] = "Enabled".into();
        config["S3BackupConfiguration"] = s3_configuration(backup, role, false);
    }
    config
}
