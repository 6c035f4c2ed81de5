//! The closed set of Firehose operations, parsed once from `X-Amz-Target` (see
//! [`crate::action`]).

crate::action::actions! {
    /// One operation of the Firehose API, named as after `Firehose_20150804.` in `X-Amz-Target`.
    unknown = |other| format!("Operation {other} is not supported by this Firehose endpoint.");
    /// Creates a delivery stream (DirectPut or KinesisStreamAsSource) to S3.
    CreateDeliveryStream,
    /// A delivery stream's description.
    DescribeDeliveryStream,
    /// Delivery stream names, paged.
    ListDeliveryStreams,
    /// Deletes a delivery stream and the records it has not delivered.
    DeleteDeliveryStream,
    /// Accepts one record.
    PutRecord,
    /// Accepts up to 500 records.
    PutRecordBatch,
    /// Changes the S3 destination, guarded by the version.
    UpdateDestination,
    /// Adds or overwrites tags.
    TagDeliveryStream,
    /// Removes tags.
    UntagDeliveryStream,
    /// A delivery stream's tags, paged.
    ListTagsForDeliveryStream,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn every_action_parses_from_its_own_name_and_nothing_else_does() {
        for &action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().unwrap(), action);
        }
        assert_eq!(Action::ALL.len(), 10);
        let err = "StartDeliveryStreamEncryption"
            .parse::<Action>()
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownOperationException);
        assert_eq!(
            err.message,
            "Operation StartDeliveryStreamEncryption is not supported by this Firehose endpoint."
        );
        assert!("putrecord".parse::<Action>().is_err(), "names are exact");
    }
}
