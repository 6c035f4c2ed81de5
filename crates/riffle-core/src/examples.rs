//! The example inputs of the event samples (the Kinesis one is the ESM spec's): one Kinesis
//! record and its source, one SQS message, written once for the tests of every crate that
//! builds or reads the events.
//!
//! Invariant: these are the values the byte-for-byte event tests expect; a test that needs
//! other values changes a copy.

use crate::kinesis::event::EventSource;
use crate::record::StreamRecord;
use crate::sequence::SequenceNumber;
use crate::sqs::event::{EventAttribute, QueueMessage};

/// A record of shard 3 of stream `orders`, with partition key `user-42` and body
/// `{"order": 7}`.
pub fn kinesis_record() -> StreamRecord {
    StreamRecord {
        sequence_number: SequenceNumber::parse(
            "49655502019283746571650018761293848571958377116573155330",
        )
        .unwrap(),
        partition_key: "user-42".into(),
        data: bytes::Bytes::from_static(b"{\"order\": 7}"),
        arrival_ms: 1_732_550_400_123,
    }
}

/// Shard 3 of stream `orders` in `eu-west-1`, read for function role `my-fn-role`.
pub fn kinesis_source() -> EventSource {
    EventSource {
        stream_arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/orders".into(),
        region: "eu-west-1".into(),
        invoke_identity_arn: "arn:aws:iam::111122223333:role/my-fn-role".into(),
        shard_id: "shardId-000000000003".into(),
    }
}

/// A first receive of a message with body `{"order": 7}` and a string attribute `Author`.
pub fn sqs_message() -> QueueMessage {
    QueueMessage {
        message_id: "c2a4f1de-7b0e-4b57-9a4e-1f2e3d4c5b6a".into(),
        receipt_handle: "AQEB".into(),
        body: "{\"order\": 7}".into(),
        md5_of_body: "e4e68fb7bd0e697a0ae8f1bb342846b3".into(),
        attributes: vec![
            ("ApproximateReceiveCount".into(), "1".into()),
            ("SentTimestamp".into(), "1732550400123".into()),
        ],
        message_attributes: vec![(
            "Author".into(),
            EventAttribute {
                data_type: "String".into(),
                string_value: Some("Ada".into()),
                binary_value: None,
            },
        )],
        md5_of_message_attributes: Some("d25a6aea97eb8f585bfa92d314504a92".into()),
    }
}
