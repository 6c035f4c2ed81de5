use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

#[test]
fn retention_moves_only_in_the_direction_the_operation_names_within_awss_bounds() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::DecreaseStreamRetentionPeriod,
            r#"{"StreamName":"s","RetentionPeriodHours":12}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is \
         too short."
    );
    assert_eq!(
        f.refused(
            Action::IncreaseStreamRetentionPeriod,
            r#"{"StreamName":"s"}"#,
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy \
         constraint: Member must not be null"
    );
    f.ok(
        Action::IncreaseStreamRetentionPeriod,
        r#"{"StreamName":"s","RetentionPeriodHours":48}"#,
    );
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    assert_eq!(
        summary["StreamDescriptionSummary"]["RetentionPeriodHours"],
        48
    );
    assert_eq!(
        f.refused(
            Action::IncreaseStreamRetentionPeriod,
            r#"{"StreamName":"s","RetentionPeriodHours":30}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Requested retention period (30 hours) for stream s can not be shorter than existing \
         retention period (48 hours). Use DecreaseRetentionPeriod API."
    );
}
