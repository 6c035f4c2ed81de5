//! Kinesis over CBOR end to end: the emulator over HTTP, with bodies built and read with
//! minicbor the way the AWS SDKs for Java write and read them (byte strings for Data, tag 1 with
//! epoch milliseconds for timestamps, indefinite-length maps and arrays).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use minicbor::data::Tag;
use riffle_emulator::throttle::{ThrottleTarget, Throttles};
use riffle_emulator::{Config, Emulator, ManualClock};

#[path = "support/cbor_item.rs"]
mod cbor_item;
use cbor_item::{Item, cbor, item};

const CBOR: &str = "application/x-amz-cbor-1.1";
/// 2026-01-02T03:04:05.678Z, the emulator's (manual) time.
const NOW_MS: u64 = 1_767_323_045_678;

struct Answer {
    status: u16,
    content_type: String,
    error_type: Option<String>,
    body: Item,
}

struct Kinesis {
    emulator: Emulator,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Kinesis {
    async fn start() -> Self {
        Self::start_with(Throttles::default()).await
    }

    /// An emulator checking `throttles` (`riffle fault --stream`).
    async fn start_with(throttles: Throttles) -> Self {
        let config = Config {
            clock: Arc::new(ManualClock::new(NOW_MS)),
            throttles,
            ..Config::default()
        };
        Self {
            emulator: Emulator::start(config).await.expect("the emulator starts"),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// POSTs `body` to `Kinesis_20131202.<operation>` with `content_type` (none if `None`).
    async fn post(&self, operation: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
        let mut request = axum::http::Request::post(self.emulator.endpoint_url())
            .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
            .header("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.client.request(request),
        )
        .await
        .expect("an answer within 30 s")
        .expect("the emulator answers");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header("content-type").unwrap_or_default();
        let error_type = header("x-amzn-errortype");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            // An operation without output answers an empty body.
            Item::Null
        } else if content_type == CBOR {
            item(&bytes)
        } else {
            Item::Text(String::from_utf8_lossy(&bytes).into_owned())
        };
        Answer {
            status,
            content_type,
            error_type,
            body,
        }
    }

    async fn call(&self, operation: &str, body: Vec<u8>) -> Item {
        let answer = self.post(operation, Some(CBOR), body).await;
        assert_eq!(answer.status, 200, "{operation}: {:?}", answer.body);
        assert_eq!(answer.content_type, CBOR);
        answer.body
    }

    /// GetRecords from `iterator`.
    async fn get_records(&self, iterator: &str) -> Item {
        let body = cbor(|e| {
            e.map(1).unwrap();
            e.str("ShardIterator").unwrap().str(iterator).unwrap();
        });
        self.call("GetRecords", body).await
    }
}

/// A GetShardIterator request for `shard_id` of the stream `orders`, with a tag 1 `Timestamp`
/// in epoch milliseconds if one is given.
fn iterator_request(shard_id: &str, kind: &str, timestamp_ms: Option<u64>) -> Vec<u8> {
    cbor(|e| {
        e.map(if timestamp_ms.is_some() { 4 } else { 3 }).unwrap();
        e.str("StreamName").unwrap().str("orders").unwrap();
        e.str("ShardId").unwrap().str(shard_id).unwrap();
        e.str("ShardIteratorType").unwrap().str(kind).unwrap();
        if let Some(ms) = timestamp_ms {
            e.str("Timestamp")
                .unwrap()
                .tag(Tag::new(1))
                .unwrap()
                .u64(ms)
                .unwrap();
        }
    })
}

#[tokio::test]
async fn a_java_style_client_writes_binary_records_and_reads_them_back() {
    let kinesis = Kinesis::start().await;
    let created = kinesis
        .call(
            "CreateStream",
            cbor(|e| {
                // Jackson writes maps with an indefinite length.
                e.begin_map().unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("ShardCount").unwrap().u8(1).unwrap();
                e.end().unwrap();
            }),
        )
        .await;
    assert_eq!(created, Item::Null, "CreateStream has no output");

    let described = kinesis
        .call(
            "DescribeStream",
            cbor(|e| {
                e.map(1)
                    .unwrap()
                    .str("StreamName")
                    .unwrap()
                    .str("orders")
                    .unwrap();
            }),
        )
        .await;
    let description = described.get("StreamDescription");
    assert_eq!(description.get("StreamName").text(), "orders");
    assert_eq!(
        description.get("StreamCreationTimestamp"),
        &Item::Tag(1, Box::new(Item::Int(i128::from(NOW_MS))))
    );
    let shard_id = description.get("Shards").items()[0]
        .get("ShardId")
        .text()
        .to_owned();

    // Data that is not UTF-8 (nor base64), as a byte string.
    let data: Vec<u8> = (0..=255u8).rev().collect();
    let put = kinesis
        .call(
            "PutRecord",
            cbor(|e| {
                e.map(3).unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("Data").unwrap().bytes(&data).unwrap();
                e.str("PartitionKey").unwrap().str("k").unwrap();
            }),
        )
        .await;
    assert_eq!(put.get("ShardId").text(), shard_id);
    let first_sequence = put.get("SequenceNumber").text().to_owned();

    let batch = kinesis
        .call(
            "PutRecords",
            cbor(|e| {
                e.begin_map().unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("Records").unwrap().begin_array().unwrap();
                for data in [&b"\x00"[..], &[]] {
                    e.begin_map().unwrap();
                    e.str("Data").unwrap().bytes(data).unwrap();
                    e.str("PartitionKey").unwrap().str("k").unwrap();
                    e.end().unwrap();
                }
                e.end().unwrap().end().unwrap();
            }),
        )
        .await;
    assert_eq!(batch.get("FailedRecordCount"), &Item::Int(0));
    assert_eq!(batch.get("Records").items().len(), 2);

    let iterator = kinesis
        .call(
            "GetShardIterator",
            iterator_request(&shard_id, "TRIM_HORIZON", None),
        )
        .await;
    let iterator = iterator.get("ShardIterator").text().to_owned();
    let got = kinesis.get_records(&iterator).await;
    let records = got.get("Records").items();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].get("Data"), &Item::Bytes(data));
    assert_eq!(records[0].get("SequenceNumber").text(), first_sequence);
    assert_eq!(records[1].get("Data"), &Item::Bytes(vec![0]));
    assert_eq!(records[2].get("Data"), &Item::Bytes(vec![]));
    for record in records {
        assert_eq!(
            record.get("ApproximateArrivalTimestamp"),
            &Item::Tag(1, Box::new(Item::Int(i128::from(NOW_MS))))
        );
        assert_eq!(record.get("PartitionKey").text(), "k");
    }
    assert!(matches!(got.get("MillisBehindLatest"), Item::Int(_)));
    assert!(matches!(got.get("NextShardIterator"), Item::Text(_)));

    // AT_TIMESTAMP with tag 1 milliseconds: the emulator's own time, so every record is at it.
    let at_time = kinesis
        .call(
            "GetShardIterator",
            iterator_request(&shard_id, "AT_TIMESTAMP", Some(NOW_MS)),
        )
        .await;
    let iterator = at_time.get("ShardIterator").text().to_owned();
    let got = kinesis.get_records(&iterator).await;
    assert_eq!(got.get("Records").items().len(), 3);

    // One millisecond later than now is refused in AWS's words, which name milliseconds.
    let future = kinesis
        .post(
            "GetShardIterator",
            Some(CBOR),
            iterator_request(&shard_id, "AT_TIMESTAMP", Some(NOW_MS + 1)),
        )
        .await;
    assert_eq!(future.status, 400);
    assert!(
        future
            .body
            .get("message")
            .text()
            .contains(&format!("timestampInMillis: {}", NOW_MS + 1)),
        "{:?}",
        future.body
    );

    let listed = kinesis
        .call(
            "ListStreams",
            cbor(|e| {
                e.map(0).unwrap();
            }),
        )
        .await;
    let summary = &listed.get("StreamSummaries").items()[0];
    assert_eq!(
        summary.get("StreamCreationTimestamp"),
        &Item::Tag(1, Box::new(Item::Int(i128::from(NOW_MS))))
    );
    kinesis.emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn errors_are_cbor_maps_with_the_type_the_header_names() {
    let kinesis = Kinesis::start().await;
    let missing = kinesis
        .post(
            "DescribeStream",
            Some(CBOR),
            cbor(|e| {
                e.map(1)
                    .unwrap()
                    .str("StreamName")
                    .unwrap()
                    .str("nope")
                    .unwrap();
            }),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.content_type, CBOR);
    assert_eq!(
        missing.error_type.as_deref(),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        missing.body,
        Item::Map(vec![
            (
                "__type".into(),
                Item::Text("ResourceNotFoundException".into())
            ),
            (
                "message".into(),
                Item::Text("Stream nope under account 000000000000 not found.".into())
            ),
        ])
    );

    // A validation error keeps AWS's message.
    let invalid = kinesis
        .post(
            "CreateStream",
            Some(CBOR),
            cbor(|e| {
                e.map(2).unwrap();
                e.str("StreamName").unwrap().str("s").unwrap();
                e.str("ShardCount").unwrap().i8(-1).unwrap();
            }),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.body.get("__type").text(), "ValidationException");
    assert!(invalid.body.get("message").text().contains("shardCount"));

    // Not CBOR, an empty body (with or without a content type), an unknown operation: the type
    // alone, as AWS answers them.
    let bare = |answer: &Answer, type_name: &str| {
        assert_eq!(answer.status, 400);
        assert_eq!(answer.content_type, CBOR);
        assert_eq!(
            answer.body,
            Item::Map(vec![("__type".into(), Item::Text(type_name.into()))])
        );
        assert_eq!(answer.error_type.as_deref(), Some(type_name));
    };
    let garbage = kinesis
        .post("ListStreams", Some(CBOR), b"{}".to_vec())
        .await;
    bare(&garbage, "SerializationException");
    let empty = kinesis.post("ListStreams", Some(CBOR), Vec::new()).await;
    bare(&empty, "SerializationException");
    let no_type = kinesis.post("ListStreams", None, Vec::new()).await;
    bare(&no_type, "SerializationException");
    let unknown = kinesis
        .post(
            "FrobnicateStream",
            Some(CBOR),
            cbor(|e| {
                e.map(0).unwrap();
            }),
        )
        .await;
    bare(&unknown, "UnknownOperationException");

    // JSON is still JSON.
    let json = kinesis
        .post(
            "ListStreams",
            Some("application/x-amz-json-1.1"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.content_type, "application/x-amz-json-1.1");
    assert!(
        json.body.text().contains("\"StreamNames\":[]"),
        "{:?}",
        json.body
    );
    kinesis.emulator.shutdown().await.unwrap();
}

/// The frames of a SubscribeToShard answer, read as they come.
struct Frames {
    body: http_body_util::combinators::UnsyncBoxBody<Bytes, String>,
    buffer: bytes::BytesMut,
    decoder: aws_smithy_eventstream::frame::MessageFrameDecoder,
}

/// One decoded frame: its headers that matter and its payload as a CBOR item.
#[derive(Debug)]
struct Frame {
    message_type: String,
    /// `:event-type` or `:exception-type`.
    kind: String,
    content_type: String,
    payload: Item,
}

impl Frames {
    async fn next(&mut self) -> Frame {
        use aws_smithy_eventstream::frame::DecodedFrame;
        loop {
            match self.decoder.decode_frame(&mut self.buffer).unwrap() {
                DecodedFrame::Complete(message) => {
                    let header = |name: &str| {
                        message
                            .headers()
                            .iter()
                            .find(|h| h.name().as_str() == name)
                            .and_then(|h| h.value().as_string().ok())
                            .map(|s| s.as_str().to_owned())
                    };
                    let message_type = header(":message-type").expect(":message-type");
                    let kind = header(":event-type")
                        .or_else(|| header(":exception-type"))
                        .expect("an event or exception type");
                    return Frame {
                        message_type,
                        kind,
                        content_type: header(":content-type").unwrap_or_default(),
                        payload: item(message.payload()),
                    };
                }
                DecodedFrame::Incomplete => {
                    let frame =
                        tokio::time::timeout(std::time::Duration::from_secs(30), self.body.frame())
                            .await
                            .expect("a frame within 30 s")
                            .expect("the stream goes on")
                            .unwrap();
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

impl Kinesis {
    /// SubscribeToShard in CBOR: the frames of a 200 answer, or the (CBOR) error answer.
    async fn subscribe(&self, body: Vec<u8>) -> Result<Frames, Answer> {
        let request = axum::http::Request::post(self.emulator.endpoint_url())
            .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
            .header("content-type", CBOR)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        if status != 200 {
            let error_type = response
                .headers()
                .get("x-amzn-errortype")
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            return Err(Answer {
                status,
                content_type,
                error_type,
                body: item(&bytes),
            });
        }
        assert_eq!(content_type, "application/vnd.amazon.eventstream");
        Ok(Frames {
            body: response
                .into_body()
                .map_err(|e| e.to_string())
                .boxed_unsync(),
            buffer: bytes::BytesMut::new(),
            decoder: aws_smithy_eventstream::frame::MessageFrameDecoder::new(),
        })
    }
}

/// A SubscribeToShard request: `consumer` on shard 0 from AT_TIMESTAMP `timestamp_ms` (tag 1).
fn subscribe_request(consumer: &str, timestamp_ms: u64) -> Vec<u8> {
    cbor(|e| {
        e.begin_map().unwrap();
        e.str("ConsumerARN").unwrap().str(consumer).unwrap();
        e.str("ShardId")
            .unwrap()
            .str("shardId-000000000000")
            .unwrap();
        e.str("StartingPosition").unwrap().begin_map().unwrap();
        e.str("Type").unwrap().str("AT_TIMESTAMP").unwrap();
        e.str("Timestamp").unwrap().tag(Tag::new(1)).unwrap();
        e.u64(timestamp_ms).unwrap();
        e.end().unwrap().end().unwrap();
    })
}

#[tokio::test]
async fn a_java_style_client_subscribes_to_a_shard_and_reads_cbor_events() {
    let kinesis = Kinesis::start().await;
    kinesis
        .call(
            "CreateStream",
            cbor(|e| {
                e.map(2).unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("ShardCount").unwrap().u8(1).unwrap();
            }),
        )
        .await;
    let data: Vec<u8> = (0..=255u8).rev().collect();
    for data in [&data[..], &[]] {
        kinesis
            .call(
                "PutRecord",
                cbor(|e| {
                    e.map(3).unwrap();
                    e.str("StreamName").unwrap().str("orders").unwrap();
                    e.str("Data").unwrap().bytes(data).unwrap();
                    e.str("PartitionKey").unwrap().str("k").unwrap();
                }),
            )
            .await;
    }
    let registered = kinesis
        .call(
            "RegisterStreamConsumer",
            cbor(|e| {
                e.map(2).unwrap();
                e.str("StreamARN")
                    .unwrap()
                    .str("arn:aws:kinesis:us-east-1:000000000000:stream/orders")
                    .unwrap();
                e.str("ConsumerName").unwrap().str("java").unwrap();
            }),
        )
        .await;
    let consumer = registered
        .get("Consumer")
        .get("ConsumerARN")
        .text()
        .to_owned();

    // A refusal before the first frame is an ordinary CBOR error answer.
    let unknown = format!("{}x", &consumer[..consumer.rfind(':').unwrap()]);
    let refused = kinesis
        .subscribe(subscribe_request(&format!("{unknown}:1"), NOW_MS))
        .await
        .err()
        .expect("an unknown consumer is refused");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.content_type, CBOR);
    assert_eq!(
        refused.body.get("__type").text(),
        "ResourceNotFoundException"
    );

    // AT_TIMESTAMP with tag 1 milliseconds (the emulator's now): both records.
    let mut frames = kinesis
        .subscribe(subscribe_request(&consumer, NOW_MS))
        .await
        .unwrap_or_else(|a| panic!("subscribed: {:?}", a.body));
    let initial = frames.next().await;
    assert_eq!(
        (initial.message_type.as_str(), initial.kind.as_str()),
        ("event", "initial-response")
    );
    assert_eq!(initial.content_type, CBOR);
    assert_eq!(initial.payload, Item::Map(vec![]));

    let event = frames.next().await;
    assert_eq!(event.kind, "SubscribeToShardEvent");
    assert_eq!(event.content_type, CBOR);
    let records = event.payload.get("Records").items();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].get("Data"), &Item::Bytes(data));
    assert_eq!(records[1].get("Data"), &Item::Bytes(vec![]));
    for record in records {
        assert_eq!(
            record.get("ApproximateArrivalTimestamp"),
            &Item::Tag(1, Box::new(Item::Int(i128::from(NOW_MS))))
        );
        assert_eq!(record.get("PartitionKey").text(), "k");
    }
    assert_eq!(
        event.payload.get("ContinuationSequenceNumber").text(),
        records[1].get("SequenceNumber").text()
    );
    assert_eq!(event.payload.get("MillisBehindLatest"), &Item::Int(0));

    // Deregistering the consumer ends the subscription with a CBOR exception frame.
    kinesis
        .call(
            "DeregisterStreamConsumer",
            cbor(|e| {
                e.map(1).unwrap();
                e.str("ConsumerARN").unwrap().str(&consumer).unwrap();
            }),
        )
        .await;
    let end = frames.next().await;
    assert_eq!(end.message_type, "exception");
    assert_eq!(end.kind, "ResourceNotFoundException");
    assert_eq!(end.content_type, CBOR);
    assert!(
        end.payload.get("message").text().contains("java"),
        "{:?}",
        end.payload
    );
    kinesis.emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn account_settings_timestamps_are_tagged_milliseconds() {
    let kinesis = Kinesis::start().await;
    let updated = kinesis
        .call(
            "UpdateAccountSettings",
            cbor(|e| {
                e.map(1).unwrap();
                e.str("MinimumThroughputBillingCommitment").unwrap();
                e.map(1).unwrap();
                e.str("Status").unwrap().str("ENABLED").unwrap();
            }),
        )
        .await;
    let commitment = updated.get("MinimumThroughputBillingCommitment");
    assert_eq!(commitment.get("Status").text(), "ENABLED");
    let tagged = |ms: u64| Item::Tag(1, Box::new(Item::Int(i128::from(ms))));
    assert_eq!(commitment.get("StartedAt"), &tagged(NOW_MS));
    assert_eq!(
        commitment.get("EarliestAllowedEndAt"),
        &tagged(NOW_MS + 86_400_000)
    );
    let described = kinesis
        .call(
            "DescribeAccountSettings",
            cbor(|e| {
                e.map(0).unwrap();
            }),
        )
        .await;
    assert_eq!(described, updated);
    kinesis.emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn injected_throttles_refuse_cbor_requests_as_they_refuse_json_ones() {
    let throttles = Throttles::default();
    let kinesis = Kinesis::start_with(throttles.clone()).await;
    let create = cbor(|e| {
        e.map(2).unwrap();
        e.str("StreamName").unwrap().str("orders").unwrap();
        e.str("ShardCount").unwrap().u8(1).unwrap();
    });
    kinesis.call("CreateStream", create).await;
    let put = || {
        cbor(|e| {
            e.map(3).unwrap();
            e.str("StreamName").unwrap().str("orders").unwrap();
            e.str("Data").unwrap().bytes(b"x").unwrap();
            e.str("PartitionKey").unwrap().str("k").unwrap();
        })
    };
    let id = throttles.add(ThrottleTarget::StreamWrites("orders".into()), None);

    let refused = kinesis.post("PutRecord", Some(CBOR), put()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.content_type, CBOR);
    assert_eq!(
        refused.error_type.as_deref(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        refused.body.get("message").text(),
        "Rate exceeded for stream orders under account 000000000000."
    );
    assert_eq!(throttles.list()[0].refused, 1);
    // Nothing was written: the throttle answered before the action ran.
    let iterator = kinesis
        .call(
            "GetShardIterator",
            iterator_request("shardId-000000000000", "TRIM_HORIZON", None),
        )
        .await;
    let read = kinesis
        .get_records(iterator.get("ShardIterator").text())
        .await;
    assert!(read.get("Records").items().is_empty());

    assert!(throttles.remove(id));
    kinesis.call("PutRecord", put()).await;
    kinesis.emulator.shutdown().await.unwrap();
}
