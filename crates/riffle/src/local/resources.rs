//! Creating the template's streams and queues on the endpoint, idempotently: a resource that
//! already exists (a data directory from an earlier run) is kept, and its settings brought to
//! the template's where the API allows.
//!
//! Invariant: a queue is created after its dead-letter queue, and a stream is used only once it
//! is ACTIVE.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails, StreamStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use riffle_template::{Application, Queue, Stream};

/// Creates every stream and queue of `app`.
pub(crate) async fn create(
    app: &Application,
    kinesis: &aws_sdk_kinesis::Client,
    sqs: &aws_sdk_sqs::Client,
) -> anyhow::Result<()> {
    for stream in &app.streams {
        create_stream(kinesis, stream).await?;
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
                create_queue(sqs, queue).await?;
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
    Ok(())
}

async fn create_stream(kinesis: &aws_sdk_kinesis::Client, stream: &Stream) -> anyhow::Result<()> {
    let mut request = kinesis.create_stream().stream_name(&stream.name);
    request = match stream.mode {
        riffle_template::StreamMode::Provisioned { shard_count } => {
            request.shard_count(shard_count as i32).stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::Provisioned)
                    .build()?,
            )
        }
        riffle_template::StreamMode::OnDemand => request.stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()?,
        ),
    };
    match request.send().await {
        Ok(_) => eprintln!("riffle: created stream {}", stream.name),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            eprintln!("riffle: stream {} exists; keeping it", stream.name);
        }
        Err(e) => bail!(
            "creating stream {} ({}): {}",
            stream.name,
            stream.logical_id,
            crate::tools::sdk_error(&e)
        ),
    }
    // Wait until it is ACTIVE (the emulator may be configured with status delays).
    for _ in 0..600 {
        let summary = kinesis
            .describe_stream_summary()
            .stream_name(&stream.name)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "describing {}: {}",
                    stream.name,
                    crate::tools::sdk_error(&e)
                )
            })?;
        let description = summary
            .stream_description_summary
            .context("DescribeStreamSummary without a description")?;
        if description.stream_status == StreamStatus::Active {
            if description.retention_period_hours < stream.retention_period_hours as i32 {
                kinesis
                    .increase_stream_retention_period()
                    .stream_name(&stream.name)
                    .retention_period_hours(stream.retention_period_hours as i32)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "retention of {}: {}",
                            stream.name,
                            crate::tools::sdk_error(&e)
                        )
                    })?;
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "stream {} did not become ACTIVE within a minute",
        stream.name
    )
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, queue: &Queue) -> anyhow::Result<()> {
    let attributes: Vec<(QueueAttributeName, String)> = queue
        .create_queue_attributes()
        .into_iter()
        .map(|(name, value)| (QueueAttributeName::from(name), value))
        .collect();
    let mut request = sqs.create_queue().queue_name(&queue.name);
    for (name, value) in &attributes {
        request = request.attributes(name.clone(), value.clone());
    }
    match request.send().await {
        Ok(_) => eprintln!("riffle: created queue {}", queue.name),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            // It exists with other settings: bring them to the template's (FifoQueue cannot
            // change, and a FIFO name already fixes it).
            let url = sqs
                .get_queue_url()
                .queue_name(&queue.name)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("finding queue {}: {e}", queue.name))?
                .queue_url
                .unwrap_or_default();
            let mut update = sqs.set_queue_attributes().queue_url(url);
            for (name, value) in attributes {
                if name != QueueAttributeName::FifoQueue {
                    update = update.attributes(name, value);
                }
            }
            update
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("updating queue {}: {e}", queue.name))?;
            eprintln!("riffle: queue {} exists; settings updated", queue.name);
        }
        Err(e) => bail!("creating queue {} ({}): {e}", queue.name, queue.logical_id),
    }
    Ok(())
}
