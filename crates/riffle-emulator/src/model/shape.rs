//! The types of a service's input-shape table (its `table.rs`, written from AWS's model by
//! `scripts/input_shapes.py`) and its look-ups.

/// What a shape holds; indexes refer to the table.
#[derive(Debug)]
pub(crate) enum Kind {
    String,
    Blob,
    Boolean,
    Integer,
    #[allow(
        dead_code,
        reason = "no input of Kinesis or Firehose has a long member today; a model may add one"
    )]
    Long,
    /// A floating-point number (Firehose's `Proportion`).
    Double,
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
pub(crate) struct Member {
    /// The wire name (`StreamName`).
    pub(crate) name: &'static str,
    /// Its shape's index.
    pub(crate) shape: u16,
    /// Whether the model requires it.
    pub(crate) required: bool,
}

/// A shape and its constraints (length for strings, blobs, lists and maps; value for numbers).
#[derive(Debug)]
pub(crate) struct Shape {
    pub(crate) kind: Kind,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
    /// A Java regular expression the whole value must match.
    pub(crate) pattern: Option<&'static str>,
    /// The allowed values, in the order AWS lists them (empty: any).
    pub(crate) enumeration: &'static [&'static str],
}

/// One service's input shapes: every operation of its model, sorted by name, with the index of
/// its input shape, and the shapes, each after those it refers to.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) operations: &'static [(&'static str, Option<u16>)],
    pub(crate) shapes: &'static [Shape],
}

impl Model {
    /// The input shape of the operation of this name, if the model gives it one.
    pub(crate) fn input(&self, operation: &str) -> Option<&Shape> {
        let i = self
            .operations
            .binary_search_by(|(name, _)| (*name).cmp(operation))
            .ok()?;
        self.operations[i].1.map(|index| self.shape(index))
    }

    /// The shape at an index of the table.
    pub(crate) fn shape(&self, index: u16) -> &Shape {
        &self.shapes[usize::from(index)]
    }
}
