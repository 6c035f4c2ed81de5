//! Firehose's input shapes (`table.rs`, written from botocore's model by
//! `scripts/input_shapes.py --service firehose`) for the generic request checker in
//! [`crate::model`], which `Firehose::call` runs before any handler decodes. Firehose is a Coral
//! service like Kinesis, so its `ValidationException`s are worded the same way.

mod table;

use crate::error::ApiResult;
use crate::model::Model;

/// Every Firehose operation's input shape.
static MODEL: Model = Model {
    operations: table::OPERATIONS,
    shapes: table::SHAPES,
};

/// Checks `body` (JSON) against the input shape of the Firehose `operation`.
pub(crate) fn check(operation: &str, body: &[u8]) -> ApiResult<()> {
    crate::model::check(&MODEL, operation, body)
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::error::ErrorCode;

    #[test]
    fn a_malformed_request_is_refused_with_every_violation_in_corals_words() {
        let err = check(
            "CreateDeliveryStream",
            br#"{"DeliveryStreamName":"bad name!","DeliveryStreamType":"Nope"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationException);
        assert_eq!(
            err.message,
            "2 validation errors detected: Value 'bad name!' at 'deliveryStreamName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             [a-zA-Z0-9_.-]+; Value 'Nope' at 'deliveryStreamType' failed to satisfy \
             constraint: Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, \
             MSKAsSource, DatabaseAsSource]"
        );
    }

    #[test]
    fn a_record_over_1000_kib_is_refused_with_the_models_bound() {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 1_024_001]);
        let body = format!(
            r#"{{"DeliveryStreamName":"s","Records":[{{"Data":"AA=="}},{{"Data":"{data}"}}]}}"#
        );
        let err = check("PutRecordBatch", body.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationException);
        assert!(
            err.message
                .starts_with("1 validation error detected: Value")
                && err.message.ends_with(
                    "at 'records.2.member.data' failed to satisfy constraint: Member must have \
                     length less than or equal to 1024000"
                ),
            "{}",
            err.message
        );
        let ok = r#"{"DeliveryStreamName":"s","Records":[{"Data":"AA=="}]}"#;
        assert!(check("PutRecordBatch", ok.as_bytes()).is_ok());
    }

    #[test]
    fn a_member_of_the_wrong_type_is_a_serialization_exception() {
        let err = check("ListDeliveryStreams", br#"{"Limit":"ten"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::SerializationException);
    }
}
