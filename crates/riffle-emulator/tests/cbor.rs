//! Kinesis over CBOR end to end: the emulator over HTTP, with bodies built and read with
//! minicbor the way the AWS SDKs for Java write and read them (byte strings for Data, tag 1 with
//! epoch milliseconds for timestamps, indefinite-length maps and arrays).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use minicbor::Encoder;
use minicbor::data::{Tag, Type};
use riffle_emulator::{Config, Emulator, ManualClock};

const CBOR: &str = "application/x-amz-cbor-1.1";
/// 2026-01-02T03:04:05.678Z, the emulator's (manual) time.
const NOW_MS: u64 = 1_767_323_045_678;

/// A decoded CBOR item.
#[derive(Debug, PartialEq)]
enum Item {
    Int(i128),
    Float(f64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(String, Item)>),
    Tag(u64, Box<Item>),
    Bool(bool),
    Null,
}

impl Item {
    fn get(&self, key: &str) -> &Item {
        let Item::Map(entries) = self else {
            panic!("{self:?} is not a map")
        };
        &entries
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key} in {self:?}"))
            .1
    }

    fn text(&self) -> &str {
        match self {
            Item::Text(text) => text,
            other => panic!("{other:?} is not text"),
        }
    }

    fn items(&self) -> &[Item] {
        match self {
            Item::Array(items) => items,
            other => panic!("{other:?} is not an array"),
        }
    }
}

fn read(d: &mut minicbor::Decoder<'_>) -> Item {
    let more = |d: &mut minicbor::Decoder<'_>, len: Option<u64>, i: usize| match len {
        Some(n) => (i as u64) < n,
        None if d.datatype().unwrap() == Type::Break => {
            d.set_position(d.position() + 1);
            false
        }
        None => true,
    };
    match d.datatype().unwrap() {
        Type::Bool => Item::Bool(d.bool().unwrap()),
        Type::Null => {
            d.null().unwrap();
            Item::Null
        }
        Type::F16 | Type::F32 | Type::F64 => Item::Float(d.f64().unwrap_or_default()),
        Type::Bytes | Type::BytesIndef => Item::Bytes(
            d.bytes_iter()
                .unwrap()
                .flat_map(|c| c.unwrap().to_vec())
                .collect(),
        ),
        Type::String | Type::StringIndef => {
            Item::Text(d.str_iter().unwrap().map(|c| c.unwrap()).collect())
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().unwrap();
            let mut items = Vec::new();
            while more(d, len, items.len()) {
                items.push(read(d));
            }
            Item::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().unwrap();
            let mut entries = Vec::new();
            while more(d, len, entries.len()) {
                let Item::Text(key) = read(d) else {
                    panic!("a key that is not text")
                };
                entries.push((key, read(d)));
            }
            Item::Map(entries)
        }
        Type::Tag => {
            let tag = d.tag().unwrap().as_u64();
            Item::Tag(tag, Box::new(read(d)))
        }
        _ => Item::Int(i128::from(d.int().unwrap())),
    }
}

fn cbor(build: impl FnOnce(&mut Encoder<Vec<u8>>)) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    build(&mut e);
    e.into_writer()
}

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
        let config = Config {
            clock: Arc::new(ManualClock::new(NOW_MS)),
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
        let body = if content_type == CBOR {
            let mut d = minicbor::Decoder::new(&bytes);
            let item = read(&mut d);
            assert_eq!(d.position(), bytes.len(), "bytes after the answer");
            item
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
    assert_eq!(created, Item::Map(vec![]));

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
            cbor(|e| {
                e.map(3).unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("ShardId").unwrap().str(&shard_id).unwrap();
                e.str("ShardIteratorType")
                    .unwrap()
                    .str("TRIM_HORIZON")
                    .unwrap();
            }),
        )
        .await;
    let iterator = iterator.get("ShardIterator").text().to_owned();

    let got = kinesis
        .call(
            "GetRecords",
            cbor(|e| {
                e.map(1)
                    .unwrap()
                    .str("ShardIterator")
                    .unwrap()
                    .str(&iterator)
                    .unwrap();
            }),
        )
        .await;
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
            cbor(|e| {
                e.map(4).unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("ShardId").unwrap().str(&shard_id).unwrap();
                e.str("ShardIteratorType")
                    .unwrap()
                    .str("AT_TIMESTAMP")
                    .unwrap();
                e.str("Timestamp")
                    .unwrap()
                    .tag(Tag::new(1))
                    .unwrap()
                    .u64(NOW_MS)
                    .unwrap();
            }),
        )
        .await;
    let iterator = at_time.get("ShardIterator").text().to_owned();
    let got = kinesis
        .call(
            "GetRecords",
            cbor(|e| {
                e.map(1)
                    .unwrap()
                    .str("ShardIterator")
                    .unwrap()
                    .str(&iterator)
                    .unwrap();
            }),
        )
        .await;
    assert_eq!(got.get("Records").items().len(), 3);

    // One millisecond later than now is refused in AWS's words, which name milliseconds.
    let future = kinesis
        .post(
            "GetShardIterator",
            Some(CBOR),
            cbor(|e| {
                e.map(4).unwrap();
                e.str("StreamName").unwrap().str("orders").unwrap();
                e.str("ShardId").unwrap().str(&shard_id).unwrap();
                e.str("ShardIteratorType")
                    .unwrap()
                    .str("AT_TIMESTAMP")
                    .unwrap();
                e.str("Timestamp")
                    .unwrap()
                    .tag(Tag::new(1))
                    .unwrap()
                    .u64(NOW_MS + 1)
                    .unwrap();
            }),
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
