//! Kinesis's input shapes (`table.rs`, written from botocore's model by
//! `scripts/input_shapes.py`, with the few places AWS's recorded answers differ) for the
//! generic request checker in [`crate::model`], which `Kinesis::execute` runs before any
//! handler decodes.

mod table;
#[cfg(test)]
mod tests;

use crate::error::ApiResult;
use crate::model::Model;

/// Every Kinesis operation's input shape.
static MODEL: Model = Model {
    operations: table::OPERATIONS,
    shapes: table::SHAPES,
};

/// Checks `body` (JSON) against the input shape of the Kinesis `operation`.
pub(crate) fn check(operation: &str, body: &[u8]) -> ApiResult<()> {
    crate::model::check(&MODEL, operation, body)
}
