//! The codec on bodies built with minicbor the way the AWS SDKs for Java write them.

use minicbor::Encoder;
use minicbor::data::Tag;
use serde_json::{Value, json};

use super::decode::{NotARequest, to_json};
use super::encode::from_json;
use super::shape::{At, at, operation};
use super::{answers_in_cbor, error_body};
use crate::error::ErrorCode;

#[path = "../../tests/support/cbor_item.rs"]
mod cbor_item;
use cbor_item::{Item, cbor, item};

fn input(op: &str) -> At {
    at(operation(op).unwrap().input)
}

fn output(op: &str) -> At {
    at(operation(op).unwrap().output)
}

fn json_of(body: &[u8], shape: At) -> Value {
    serde_json::from_slice(&to_json(body, shape).unwrap()).unwrap()
}

#[test]
fn a_put_record_reads_its_data_byte_string_as_base64() {
    let body = cbor(|e| {
        e.map(3).unwrap();
        e.str("StreamName").unwrap().str("s").unwrap();
        e.str("PartitionKey").unwrap().str("k").unwrap();
        e.str("Data").unwrap().bytes(&[0, 1, 0xfe, 0xff]).unwrap();
    });
    assert_eq!(
        json_of(&body, input("PutRecord")),
        json!({"StreamName": "s", "PartitionKey": "k", "Data": "AAH+/w=="})
    );
}

#[test]
fn an_indefinite_map_array_and_chunked_strings_read_as_their_definite_forms() {
    // Jackson's CBORGenerator (the SDKs for Java) writes objects and arrays with indefinite
    // lengths, and may write long strings and binary in chunks.
    let body = cbor(|e| {
        e.begin_map().unwrap();
        e.str("Records").unwrap().begin_array().unwrap();
        e.begin_map().unwrap();
        e.str("Data").unwrap();
        e.begin_bytes()
            .unwrap()
            .bytes(b"he")
            .unwrap()
            .bytes(b"llo")
            .unwrap();
        e.end().unwrap();
        e.begin_str()
            .unwrap()
            .str("Partition")
            .unwrap()
            .str("Key")
            .unwrap();
        e.end().unwrap();
        e.begin_str()
            .unwrap()
            .str("p")
            .unwrap()
            .str("\u{e9}\"")
            .unwrap();
        e.end().unwrap();
        e.end().unwrap(); // the record
        e.end().unwrap(); // Records
        e.str("StreamName").unwrap().str("s").unwrap();
        e.end().unwrap();
    });
    assert_eq!(
        json_of(&body, input("PutRecords")),
        json!({"Records": [{"Data": "aGVsbG8=", "PartitionKey": "p\u{e9}\""}], "StreamName": "s"})
    );
}

#[test]
fn a_tag_1_timestamp_is_epoch_milliseconds_integer_or_float() {
    let iterator = |value: &dyn Fn(&mut Encoder<Vec<u8>>)| {
        let body = cbor(|e| {
            e.map(2).unwrap();
            e.str("ShardIteratorType")
                .unwrap()
                .str("AT_TIMESTAMP")
                .unwrap();
            e.str("Timestamp").unwrap();
            value(e);
        });
        to_json(&body, input("GetShardIterator")).unwrap()
    };
    let expect = |ts: &str| {
        format!("{{\"ShardIteratorType\":\"AT_TIMESTAMP\",\"Timestamp\":{ts}}}").into_bytes()
    };
    // What the SDKs for Java write: tag 1, then `toEpochMilli()` as an integer.
    assert_eq!(
        iterator(&|e| {
            e.tag(Tag::new(1)).unwrap().u64(1_545_084_650_987).unwrap();
        }),
        expect("1545084650.987")
    );
    assert_eq!(
        iterator(&|e| {
            e.tag(Tag::new(1))
                .unwrap()
                .f64(1_545_084_650_987.5)
                .unwrap();
        }),
        expect("1545084650.9875")
    );
    // An untagged number in a timestamp member is milliseconds too; a negative one is before 1970.
    assert_eq!(
        iterator(&|e| {
            e.u32(1_500).unwrap();
        }),
        expect("1.500")
    );
    assert_eq!(
        iterator(&|e| {
            e.tag(Tag::new(1)).unwrap().i64(-1_500).unwrap();
        }),
        expect("-1.500")
    );
    assert_eq!(
        iterator(&|e| {
            e.tag(Tag::new(1)).unwrap().f32(1500.0).unwrap();
        }),
        expect("1.5")
    );
}

#[test]
fn numbers_outside_timestamps_and_other_tags_are_kept() {
    let body = cbor(|e| {
        e.tag(Tag::new(55799)).unwrap(); // "self-described CBOR"
        e.map(4).unwrap();
        e.str("StreamName").unwrap().str("s").unwrap();
        e.str("ShardCount").unwrap().u8(3).unwrap();
        e.str("Limit").unwrap().i32(-2).unwrap();
        e.str("Flag").unwrap().bool(true).unwrap();
    });
    assert_eq!(
        json_of(&body, input("CreateStream")),
        json!({"StreamName": "s", "ShardCount": 3, "Limit": -2, "Flag": true})
    );
    let with_null = cbor(|e| {
        e.map(2).unwrap();
        e.str("A").unwrap().null().unwrap();
        e.str("B").unwrap().undefined().unwrap();
    });
    assert_eq!(json_of(&with_null, None), json!({"A": null, "B": null}));
}

#[test]
fn a_list_shards_filter_timestamp_is_converted_inside_its_structure() {
    let body = cbor(|e| {
        e.map(2).unwrap();
        e.str("StreamCreationTimestamp").unwrap();
        e.tag(Tag::new(1)).unwrap().u64(2_000).unwrap();
        e.str("ShardFilter").unwrap().map(2).unwrap();
        e.str("Type").unwrap().str("AT_TIMESTAMP").unwrap();
        e.str("Timestamp").unwrap();
        e.tag(Tag::new(1)).unwrap().u64(3_000).unwrap();
    });
    assert_eq!(
        to_json(&body, input("ListShards")).unwrap(),
        br#"{"StreamCreationTimestamp":2.000,"ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":3.000}}"#
    );
}

#[test]
fn bodies_that_are_not_one_map_are_refused() {
    let refused = |body: &[u8]| to_json(body, None).unwrap_err();
    let array = cbor(|e| {
        e.array(0).unwrap();
    });
    assert_eq!(
        refused(&array),
        NotARequest("the body is not a CBOR map".into())
    );
    let trailing = [&[0xa0u8][..], &[0x01]].concat();
    assert_eq!(
        refused(&trailing),
        NotARequest("1 bytes after the request's map".into())
    );
    let int_key = cbor(|e| {
        e.map(1).unwrap().u8(1).unwrap().u8(2).unwrap();
    });
    assert!(
        refused(&int_key).0.contains("not text"),
        "{:?}",
        refused(&int_key)
    );
    // Truncated: a map of two with one entry, an unterminated indefinite map, a short string.
    refused(&[0xa2, 0x61, b'a', 0x01]);
    refused(&[0xbf, 0x61, b'a', 0x01]);
    refused(&[0xa1, 0x65, b'a']);
    // Not UTF-8, a NaN, a lone break, a simple value.
    refused(&[0xa1, 0x61, 0xff, 0x01]);
    let nan = cbor(|e| {
        e.map(1).unwrap().str("a").unwrap().f64(f64::NAN).unwrap();
    });
    assert!(refused(&nan).0.contains("not a JSON number"));
    refused(&[0xa1, 0x61, b'a', 0xff]);
    refused(&[0xa1, 0x61, b'a', 0xe0]);
    refused(&[]);
}

#[test]
fn nesting_deeper_than_any_request_is_refused_without_recursing_far() {
    let mut body = vec![0xa1, 0x61, b'a'];
    body.extend(std::iter::repeat_n(0x81, 10_000)); // arrays of one
    body.push(0x00);
    assert!(
        to_json(&body, None)
            .unwrap_err()
            .0
            .contains("nested deeper")
    );
}

#[test]
fn get_records_answers_with_byte_strings_and_tag_1_milliseconds() {
    let answer = br#"{"Records":[{"SequenceNumber":"1","ApproximateArrivalTimestamp":1545084650.987,"Data":"AAH+/w==","PartitionKey":"k\n\u00e9"}],"NextShardIterator":"it","MillisBehindLatest":0}"#;
    let written = item(&from_json(answer, output("GetRecords")).unwrap());
    let Item::Array(records) = written.get("Records") else {
        panic!("Records is not an array")
    };
    assert_eq!(records[0].get("Data"), &Item::Bytes(vec![0, 1, 0xfe, 0xff]));
    assert_eq!(
        records[0].get("ApproximateArrivalTimestamp"),
        &Item::Tag(1, Box::new(Item::Int(1_545_084_650_987)))
    );
    assert_eq!(
        records[0].get("PartitionKey"),
        &Item::Text("k\n\u{e9}".into())
    );
    assert_eq!(records[0].get("SequenceNumber"), &Item::Text("1".into()));
    assert_eq!(written.get("MillisBehindLatest"), &Item::Int(0));
}

#[test]
fn describe_stream_answers_its_creation_time_as_tag_1_milliseconds() {
    let answer = br#"{"StreamDescription":{"StreamName":"s","StreamCreationTimestamp":1545084650,"Shards":[],"HasMoreShards":false,"RetentionPeriodHours":24,"EnhancedMonitoring":[{"ShardLevelMetrics":[]}],"Ratio":0.5,"Nothing":null}}"#;
    let written = item(&from_json(answer, output("DescribeStream")).unwrap());
    let description = written.get("StreamDescription");
    assert_eq!(
        description.get("StreamCreationTimestamp"),
        &Item::Tag(1, Box::new(Item::Int(1_545_084_650_000)))
    );
    assert_eq!(description.get("Shards"), &Item::Array(vec![]));
    assert_eq!(description.get("HasMoreShards"), &Item::Bool(false));
    assert_eq!(description.get("RetentionPeriodHours"), &Item::Int(24));
    assert_eq!(description.get("Ratio"), &Item::Float(0.5));
    assert_eq!(description.get("Nothing"), &Item::Null);
}

#[test]
fn a_request_round_trips_through_json_and_back() {
    // CBOR → JSON (the handler's view) → CBOR gives the same record back.
    let body = cbor(|e| {
        e.map(2).unwrap();
        e.str("Data").unwrap().bytes(&[7; 300]).unwrap();
        e.str("PartitionKey").unwrap().str("k").unwrap();
    });
    let json = to_json(&body, input("PutRecord")).unwrap();
    let again = item(&from_json(&json, input("PutRecord")).unwrap());
    assert_eq!(again.get("Data"), &Item::Bytes(vec![7; 300]));
    assert_eq!(again.get("PartitionKey"), &Item::Text("k".into()));
    // A timestamp too: milliseconds in, seconds for the handler, the same milliseconds out.
    let body = cbor(|e| {
        e.map(1).unwrap().str("Timestamp").unwrap();
        e.tag(Tag::new(1)).unwrap().u64(1_700_000_000_123).unwrap();
    });
    let json = to_json(&body, input("GetShardIterator")).unwrap();
    let again = item(&from_json(&json, input("GetShardIterator")).unwrap());
    assert_eq!(
        again.get("Timestamp"),
        &Item::Tag(1, Box::new(Item::Int(1_700_000_000_123)))
    );
}

#[test]
fn an_answer_that_is_not_json_or_has_a_bad_blob_is_an_error() {
    assert!(from_json(b"{\"a\":", None).is_err());
    assert!(from_json(b"{} x", None).is_err());
    assert!(
        from_json(
            br#"{"Records":[{"Data":"not base64!"}]}"#,
            output("GetRecords")
        )
        .is_err()
    );
}

#[test]
fn errors_are_a_map_of_type_and_message() {
    let body = item(&error_body(
        "ResourceNotFoundException",
        ErrorCode::ResourceNotFoundException,
        "Stream s under account 000000000000 not found.",
    ));
    assert_eq!(
        body,
        Item::Map(vec![
            (
                "__type".into(),
                Item::Text("ResourceNotFoundException".into())
            ),
            (
                "message".into(),
                Item::Text("Stream s under account 000000000000 not found.".into())
            ),
        ])
    );
    // AWS answers these with the type alone.
    for (name, code, message) in [
        (
            "UnknownOperationException",
            ErrorCode::UnknownOperationException,
            "Unknown operation x",
        ),
        (
            "SerializationException",
            ErrorCode::SerializationException,
            "",
        ),
    ] {
        assert_eq!(
            item(&error_body(name, code, message)),
            Item::Map(vec![("__type".into(), Item::Text(name.into()))])
        );
    }
}

#[test]
fn cbor_is_answered_when_asked_for_and_by_default_for_an_empty_body() {
    let k = "Kinesis_20131202";
    assert!(answers_in_cbor(
        k,
        Some("application/x-amz-cbor-1.1"),
        false
    ));
    assert!(answers_in_cbor(
        k,
        Some(" application/x-amz-cbor-1.1 ; x"),
        false
    ));
    assert!(!answers_in_cbor(
        k,
        Some("application/x-amz-json-1.1"),
        false
    ));
    assert!(!answers_in_cbor(
        k,
        Some("application/x-amz-json-1.1"),
        true
    ));
    assert!(!answers_in_cbor(k, None, false));
    // No body: AWS answers in CBOR unless the request said AWS JSON 1.1.
    assert!(answers_in_cbor(k, None, true));
    assert!(answers_in_cbor(k, Some("application/json"), true));
    assert!(answers_in_cbor(
        "",
        Some("application/x-amz-json-1.0"),
        true
    ));
    // SQS has no CBOR.
    assert!(!answers_in_cbor(
        "AmazonSQS",
        Some("application/x-amz-cbor-1.1"),
        false
    ));
    assert!(!answers_in_cbor("AmazonSQS", None, true));
    // Nor has Firehose: its SDKs speak AWS JSON 1.1 only.
    assert!(!answers_in_cbor("Firehose_20150804", None, true));
}
