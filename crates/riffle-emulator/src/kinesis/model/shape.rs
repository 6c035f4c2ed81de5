//! The types of the input-shape table (`table.rs`, written from AWS's model) and its look-ups.

use super::table::{OPERATIONS, SHAPES};

/// What a shape holds; indexes refer to the table.
#[derive(Debug)]
pub(super) enum Kind {
    String,
    Blob,
    Boolean,
    Integer,
    #[allow(
        dead_code,
        reason = "no Kinesis input has a long member today; the model may add one"
    )]
    Long,
    Timestamp,
    /// A list of the shape at this index.
    List(u16),
    /// A map from the key shape to the value shape.
    Map(u16, u16),
    /// A structure's members, in the model's order.
    Structure(&'static [Member]),
}

/// One member of a structure.
#[derive(Debug)]
pub(super) struct Member {
    /// The wire name (`StreamName`).
    pub(super) name: &'static str,
    /// Its shape's index.
    pub(super) shape: u16,
    /// Whether the model requires it.
    pub(super) required: bool,
}

/// A shape and its constraints (length for strings, blobs, lists and maps; value for numbers).
#[derive(Debug)]
pub(super) struct Shape {
    pub(super) kind: Kind,
    pub(super) min: Option<i64>,
    pub(super) max: Option<i64>,
    /// A Java regular expression the whole value must match.
    pub(super) pattern: Option<&'static str>,
    /// The allowed values, in the order AWS lists them (empty: any).
    pub(super) enumeration: &'static [&'static str],
}

/// The input shape of the operation of this name, if the model gives it one.
pub(super) fn input(operation: &str) -> Option<&'static Shape> {
    let i = OPERATIONS
        .binary_search_by(|(name, _)| (*name).cmp(operation))
        .ok()?;
    OPERATIONS[i].1.map(shape)
}

/// The shape at an index of the table.
pub(super) fn shape(index: u16) -> &'static Shape {
    &SHAPES[usize::from(index)]
}
