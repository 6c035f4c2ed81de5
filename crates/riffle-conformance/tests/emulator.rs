//! The suites against `riffle-aws`'s SDK adapters (`KinesisSource`, `SqsQueueSource`) on the
//! embedded emulator, on a manual clock. Set-up goes through the SDK, as a user's would.

use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;
use riffle_aws::{KinesisSource, SqsQueueSource};
use riffle_clock::ManualClock;
use riffle_conformance::T0;
use riffle_conformance::queue::{Kind, MAX_RECEIVES, PerKind, QueueFixture, VISIBILITY_MS};
use riffle_conformance::stream::{SHARDS, StreamFixture};
use riffle_core::sequence::SequenceNumber;
use riffle_emulator::{Config, Emulator};

async fn emulator() -> (Emulator, ManualClock) {
    let clock = ManualClock::new(T0);
    let emulator = Emulator::start(Config {
        clock: Arc::new(clock.clone()),
        ..Config::default()
    })
    .await
    .expect("the emulator starts");
    (emulator, clock)
}

struct Stream {
    _emulator: Emulator,
    client: aws_sdk_kinesis::Client,
    source: KinesisSource,
    clock: ManualClock,
}

const STREAM: &str = "conformance";

impl Stream {
    async fn shards(&self) -> Vec<aws_sdk_kinesis::types::Shard> {
        let listed = self.client.list_shards().stream_name(STREAM).send().await;
        listed.expect("ListShards").shards.unwrap_or_default()
    }

    /// The hash key range of `shard_id`, as numbers.
    async fn range(&self, shard_id: &str) -> (u128, u128) {
        let shards = self.shards().await;
        let shard = shards
            .iter()
            .find(|s| s.shard_id == shard_id)
            .unwrap_or_else(|| panic!("{shard_id} is listed"));
        let range = shard.hash_key_range().expect("a hash key range");
        let parse = |key: &str| key.parse::<u128>().expect("a hash key");
        (
            parse(range.starting_hash_key()),
            parse(range.ending_hash_key()),
        )
    }
}

impl StreamFixture for Stream {
    type Source = KinesisSource;

    fn source(&self) -> &KinesisSource {
        &self.source
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }

    async fn put(&self, shard_id: &str, partition_key: &str, data: &[u8]) -> SequenceNumber {
        let (start, _) = self.range(shard_id).await;
        let put = self
            .client
            .put_record()
            .stream_name(STREAM)
            .partition_key(partition_key)
            .explicit_hash_key(start.to_string())
            .data(aws_sdk_kinesis::primitives::Blob::new(data))
            .send()
            .await
            .expect("PutRecord");
        assert_eq!(
            put.shard_id, shard_id,
            "the explicit hash key chose the shard"
        );
        SequenceNumber::parse_owned(put.sequence_number).expect("a sequence number")
    }

    async fn split(&self, shard_id: &str) -> [String; 2] {
        let (start, end) = self.range(shard_id).await;
        self.client
            .split_shard()
            .stream_name(STREAM)
            .shard_to_split(shard_id)
            .new_starting_hash_key((start + (end - start) / 2 + 1).to_string())
            .send()
            .await
            .expect("SplitShard");
        let children: Vec<String> = self
            .shards()
            .await
            .into_iter()
            .filter(|s| s.parent_shard_id() == Some(shard_id))
            .map(|s| s.shard_id)
            .collect();
        children.try_into().expect("two children")
    }
}

async fn stream() -> Stream {
    let (emulator, clock) = emulator().await;
    let (client, _) = riffle_aws::clients(&emulator.endpoint_url(), "us-east-1");
    client
        .create_stream()
        .stream_name(STREAM)
        .shard_count(SHARDS as i32)
        .send()
        .await
        .expect("CreateStream");
    let summary = client
        .describe_stream_summary()
        .stream_name(STREAM)
        .send()
        .await
        .expect("DescribeStreamSummary");
    let arn = summary
        .stream_description_summary()
        .expect("a summary")
        .stream_arn()
        .to_owned();
    Stream {
        source: KinesisSource::new(client.clone(), arn),
        client,
        _emulator: emulator,
        clock,
    }
}

mod stream_source {
    riffle_conformance::stream_source_suite!(super::stream);
}

struct Queues {
    _emulator: Emulator,
    client: aws_sdk_sqs::Client,
    sources: PerKind<SqsQueueSource>,
    /// The dead-letter queues' URLs.
    dlqs: PerKind<String>,
    clock: ManualClock,
}

impl QueueFixture for Queues {
    type Source = SqsQueueSource;

    fn source(&self, kind: Kind) -> &SqsQueueSource {
        self.sources.of(kind)
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }

    async fn send(&self, kind: Kind, body: &str, group: Option<&str>) -> String {
        let sent = self
            .client
            .send_message()
            .queue_url(self.source(kind).queue_url())
            .message_body(body)
            .set_message_group_id(group.map(str::to_owned))
            .send()
            .await
            .expect("SendMessage");
        sent.message_id.expect("a message id")
    }

    async fn dead_letters(&self, kind: Kind) -> Vec<String> {
        let url = self.dlqs.of(kind);
        let received = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        let messages = received.messages.unwrap_or_default();
        messages.into_iter().filter_map(|m| m.body).collect()
    }
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> String {
    let mut request = client.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        request = request.attributes(attribute.clone(), value);
    }
    request
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a URL")
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes");
    attributes.attributes.unwrap_or_default()[&QueueAttributeName::QueueArn].clone()
}

async fn queues() -> Queues {
    let (emulator, clock) = emulator().await;
    let (_, client) = riffle_aws::clients(&emulator.endpoint_url(), "us-east-1");
    let fifo = [
        (QueueAttributeName::FifoQueue, "true".to_owned()),
        (
            QueueAttributeName::ContentBasedDeduplication,
            "true".to_owned(),
        ),
    ];
    let standard_dlq = create_queue(&client, "conformance-dlq", &[]).await;
    let fifo_dlq = create_queue(&client, "conformance-dlq.fifo", &fifo).await;
    let main = |dlq_arn: String| {
        vec![
            (
                QueueAttributeName::VisibilityTimeout,
                (VISIBILITY_MS / 1000).to_string(),
            ),
            (
                QueueAttributeName::RedrivePolicy,
                format!(
                    r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_RECEIVES}"}}"#
                ),
            ),
        ]
    };
    let standard_attributes = main(queue_arn(&client, &standard_dlq).await);
    let mut fifo_attributes = main(queue_arn(&client, &fifo_dlq).await);
    fifo_attributes.extend(fifo);
    let standard = create_queue(&client, "conformance", &standard_attributes).await;
    let fifo = create_queue(&client, "conformance.fifo", &fifo_attributes).await;
    Queues {
        sources: PerKind {
            standard: SqsQueueSource::new(client.clone(), standard),
            fifo: SqsQueueSource::new(client.clone(), fifo),
        },
        client,
        dlqs: PerKind {
            standard: standard_dlq,
            fifo: fifo_dlq,
        },
        _emulator: emulator,
        clock,
    }
}

mod queue_source {
    riffle_conformance::queue_source_suite!(super::queues);
}
