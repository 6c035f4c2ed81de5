//! The checker against AWS's recorded answers (kinesalite's suite).

use super::check;
use crate::error::ErrorCode;

fn refused(op: &str, body: &str) -> (ErrorCode, String) {
    let err = check(op, body.as_bytes()).expect_err(body);
    (err.code, err.message)
}

fn serialization(op: &str, body: &str) -> String {
    let (code, message) = refused(op, body);
    assert_eq!(code, ErrorCode::SerializationException, "{body}");
    message
}

fn validation(op: &str, body: &str) -> Vec<String> {
    let (code, message) = refused(op, body);
    assert_eq!(code, ErrorCode::ValidationException, "{body}");
    let (count, rest) = message.split_once(" detected: ").expect("a count");
    let mut list: Vec<String> = rest.split("; ").map(str::to_owned).collect();
    let n: usize = count.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(n, list.len(), "{message}");
    list.sort();
    list
}

#[test]
fn wrong_types_in_corals_words() {
    let cases = [
        (
            r#"{"StreamName":true}"#,
            "class java.lang.Boolean can not be converted to an String",
        ),
        (
            r#"{"StreamName":23}"#,
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        ),
        (
            r#"{"StreamName":[]}"#,
            "Start of list found where not expected",
        ),
        (
            r#"{"StreamName":{}}"#,
            "Start of structure or map found where not expected.",
        ),
        (
            r#"{"ShardCount":"23"}"#,
            "class java.lang.String can not be converted to an Integer",
        ),
        (
            r#"{"ShardCount":true}"#,
            "class java.lang.Boolean can not be converted to an Integer",
        ),
        (r#"{"StreamModeDetails":"23"}"#, "Expected null"),
        (r#"{"Tags":23}"#, "Expected map or null"),
        (
            r#"{"Tags":{"a":true}}"#,
            "class java.lang.Boolean can not be converted to an String",
        ),
    ];
    for (body, message) in cases {
        assert_eq!(serialization("CreateStream", body), message, "{body}");
    }
    assert_eq!(
        serialization("PutRecord", r#"{"Data":"23456"}"#),
        "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"
    );
    assert_eq!(
        serialization("PutRecord", r#"{"Data":"=+/="}"#),
        "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"
    );
    assert_eq!(
        serialization("PutRecord", r#"{"Data":"+/+="}"#),
        "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"
    );
    assert_eq!(
        serialization("PutRecords", r#"{"Records":[{"Data":true}]}"#),
        "class java.lang.Boolean can not be converted to a Blob"
    );
    assert_eq!(
        serialization("EnableEnhancedMonitoring", r#"{"ShardLevelMetrics":[{}]}"#),
        "Start of structure or map found where not expected."
    );
    assert_eq!(
        serialization("GetShardIterator", r#"{"Timestamp":"23"}"#),
        "class java.lang.String can not be converted to milliseconds since epoch"
    );
    assert_eq!(
        serialization("EnableEnhancedMonitoring", r#"{"ShardLevelMetrics":true}"#),
        "Expected list or null"
    );
}

#[test]
fn every_violation_is_listed_once() {
    assert_eq!(
        validation("PutRecord", "{}"),
        [
            "Value null at 'data' failed to satisfy constraint: Member must not be null",
            "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null",
            "Value null at 'streamName' failed to satisfy constraint: Member must not be null",
        ]
    );
    let list = validation(
        "PutRecord",
        r#"{"StreamName":"","PartitionKey":"","Data":"","ExplicitHashKey":"","SequenceNumberForOrdering":""}"#,
    );
    assert_eq!(list.len(), 5, "{list:?}");
    assert!(list.contains(
        &"Value '' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})".to_owned()
    ));
}

#[test]
fn blobs_numbers_enums_and_nested_members() {
    let data = "A".repeat(1_398_104); // 1048578 bytes
    let list = validation(
        "PutRecords",
        &format!(r#"{{"StreamName":"s","Records":[{{"PartitionKey":"","Data":"{data}"}}]}}"#),
    );
    assert_eq!(
        list,
        [
            "Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1",
            "Value 'java.nio.HeapByteBuffer[pos=0 lim=1048578 cap=1048578]' at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
        ]
    );
    assert_eq!(
        validation("CreateStream", r#"{"StreamName":"s","ShardCount":0}"#),
        [
            "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ]
    );
    assert_eq!(
        validation(
            "GetShardIterator",
            r#"{"StreamName":"s","ShardId":"a","ShardIteratorType":"x"}"#
        ),
        [
            "Value 'x' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
        ]
    );
    assert_eq!(
        validation(
            "RemoveTagsFromStream",
            r#"{"StreamName":"s","TagKeys":["a",""]}"#
        ),
        [
            "Value '[a, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
        ]
    );
    assert_eq!(
        validation("AddTagsToStream", r#"{"StreamName":"s","Tags":{}}"#),
        [
            "Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ]
    );
}

#[test]
fn a_valid_request_and_a_stream_arn_pass() {
    assert!(
        check(
            "PutRecord",
            br#"{"StreamName":"s","PartitionKey":"k","Data":"AAAA"}"#
        )
        .is_ok()
    );
    assert!(
        check(
            "DescribeStream",
            br#"{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}"#
        )
        .is_ok()
    );
    assert!(check("ListShards", b"").is_ok());
    assert!(
        check("PutRecord", b"{").is_ok(),
        "not JSON: the handler's decoder answers"
    );
}

#[test]
fn at_most_ten_violations_are_listed_in_model_order() {
    let records = vec![r#"{"PartitionKey":"","Data":""}"#; 501].join(",");
    let list = validation(
        "PutRecords",
        &format!(r#"{{"StreamName":"","Records":[{records}]}}"#),
    );
    assert_eq!(list.len(), 10);
    assert!(list.iter().all(|m| !m.contains("'streamName'")), "{list:?}");
    assert!(
        list.iter()
            .any(|m| m.ends_with("Member must have length less than or equal to 500"))
    );
}

#[test]
fn recorded_bounds_the_model_lacks_are_listed_with_the_other_violations() {
    let name = "a".repeat(129);
    let body = format!(r#"{{"StreamName":"{name}","ShardCount":100000000000}}"#);
    assert_eq!(
        validation("CreateStream", &body),
        [
            "Value '2147483647' at 'shardCount' failed to satisfy constraint: Member must have \
             value less than or equal to 100000"
                .to_owned(),
            format!(
                "Value '{name}' at 'streamName' failed to satisfy constraint: Member must have \
                 length less than or equal to 128"
            ),
        ]
    );
    let body = r#"{"StreamName":"","RetentionPeriodHours":-1}"#;
    assert_eq!(
        validation("DecreaseStreamRetentionPeriod", body),
        [
            "Value '' at 'streamName' failed to satisfy constraint: Member must have length \
             greater than or equal to 1",
            "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: [a-zA-Z0-9_.-]+",
            "Value '-1' at 'retentionPeriodHours' failed to satisfy constraint: Member must have \
             value greater than or equal to 1",
        ]
    );
}

proptest::proptest! {
    /// The SIMD fast path and Java's byte-by-byte checks agree on any text of base64's
    /// alphabet, padding and a stray character, valid or not.
    #[test]
    fn base64_fast_path_agrees_with_javas_checks(
        text in "([A-Za-z0-9+/]{4}){0,2}([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/=!]{0,5})"
    ) {
        proptest::prop_assert_eq!(
            crate::model::base64(&text),
            crate::model::java_base64(text.as_bytes())
        );
    }

    /// A blob's length in a violation is its decoded length, worked out without decoding.
    #[test]
    fn blob_lengths_are_decoded_lengths(data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        proptest::prop_assert_eq!(crate::model::blob_len(&text), data.len());
    }
}
