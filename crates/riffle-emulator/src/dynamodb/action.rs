//! The closed set of DynamoDB operations this endpoint serves, parsed once from `X-Amz-Target`
//! (see [`crate::action`]).

crate::action::actions! {
    /// One operation of the DynamoDB API, named as after `DynamoDB_20120810.` in
    /// `X-Amz-Target`.
    unknown = |other| format!("Operation {other} is not supported by this DynamoDB endpoint.");
    /// Creates a table.
    CreateTable,
    /// A table's description.
    DescribeTable,
    /// Table names, paged.
    ListTables,
    /// Deletes a table and its items.
    DeleteTable,
    /// Stores an item, replacing any with its key.
    PutItem,
    /// Reads an item by key.
    GetItem,
    /// Removes an item by key.
    DeleteItem,
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
        assert_eq!(Action::ALL.len(), 7);
        let err = "Query".parse::<Action>().unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownOperationException);
        assert_eq!(
            err.message,
            "Operation Query is not supported by this DynamoDB endpoint."
        );
    }
}
