//! DynamoDB's input shapes (`table.rs`, written from botocore's model by
//! `scripts/input_shapes.py --service dynamodb`; its `AttributeValue` refers to itself, so its
//! shapes are numbered when first met) for the generic request checker in [`crate::model`],
//! which `DynamoDb::call` runs before any handler decodes. DynamoDB is a Coral service like
//! Kinesis, so its `ValidationException`s are worded the same way.

mod table;

use crate::error::ApiResult;
use crate::model::Model;

/// Every DynamoDB operation's input shape.
static MODEL: Model = Model {
    operations: table::OPERATIONS,
    shapes: table::SHAPES,
};

/// Checks `body` (JSON) against the input shape of the DynamoDB `operation`.
pub(crate) fn check(operation: &str, body: &[u8]) -> ApiResult<()> {
    crate::model::check(&MODEL, operation, body)
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::error::ErrorCode;

    #[test]
    fn a_malformed_create_table_is_refused_with_every_violation_in_corals_words() {
        let err = check(
            "CreateTable",
            br#"{"TableName":"a!","KeySchema":[],"BillingMode":"FREE"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationException);
        assert_eq!(
            err.message,
            "2 validation errors detected: Value '[]' at 'keySchema' failed to satisfy \
             constraint: Member must have length greater than or equal to 1; Value 'FREE' at \
             'billingMode' failed to satisfy constraint: Member must satisfy enum value set: \
             [PROVISIONED, PAY_PER_REQUEST]"
        );
    }

    #[test]
    fn nested_attribute_values_are_walked_through_the_recursive_shape() {
        let ok = br#"{"TableName":"t","Item":{"id":{"M":{"a":{"L":[{"S":"x"},{"N":"1"}]}}}}}"#;
        assert!(check("PutItem", ok).is_ok());
        let bad = br#"{"TableName":"t","Item":{"id":{"M":{"a":{"L":[{"BOOL":"yes"}]}}}}}"#;
        assert_eq!(
            check("PutItem", bad).unwrap_err().code,
            ErrorCode::SerializationException
        );
    }
}
