//! The closed set of Kinesis operations, parsed once from `X-Amz-Target` (see
//! [`crate::action`]).

crate::action::actions! {
    /// One operation of the Kinesis API, named as after `Kinesis_20131202.` in `X-Amz-Target`.
    unknown = |other| format!("Operation {other} is not supported by this Kinesis endpoint.");
    CreateStream,
    DeleteStream,
    DescribeStream,
    DescribeStreamSummary,
    ListStreams,
    ListShards,
    PutRecord,
    PutRecords,
    GetShardIterator,
    GetRecords,
    IncreaseStreamRetentionPeriod,
    DecreaseStreamRetentionPeriod,
    SplitShard,
    MergeShards,
    UpdateShardCount,
    AddTagsToStream,
    RemoveTagsFromStream,
    ListTagsForStream,
    DescribeLimits,
    RegisterStreamConsumer,
    DescribeStreamConsumer,
    ListStreamConsumers,
    DeregisterStreamConsumer,
    TagResource,
    UntagResource,
    ListTagsForResource,
    PutResourcePolicy,
    GetResourcePolicy,
    DeleteResourcePolicy,
    UpdateStreamMode,
    DescribeAccountSettings,
    UpdateAccountSettings,
    /// Served as an event stream by `Kinesis::subscribe_to_shard`, not through `Kinesis::call`.
    SubscribeToShard,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn every_action_parses_from_its_own_name() {
        for &action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().unwrap(), action);
        }
        assert!(Action::ALL.contains(&Action::RegisterStreamConsumer));
    }

    #[test]
    fn an_unknown_operation_is_refused_in_awss_words() {
        let err = "FrobnicateStream".parse::<Action>().unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownOperationException);
        assert_eq!(
            err.message,
            "Operation FrobnicateStream is not supported by this Kinesis endpoint."
        );
        // Names are case-sensitive, as AWS's are.
        assert!("createstream".parse::<Action>().is_err());
    }
}
