//! The types of the shape table (`model.rs`, written from AWS's model) and its look-ups.
//!
//! Invariant: a shape is `None` (plain) unless the model puts a blob or a timestamp somewhere
//! below it; plain values are copied between JSON and CBOR as they are.

use super::model::{OPERATIONS, SHAPES};

/// A shape that holds a blob or a timestamp (indexes refer to the table).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// Bytes: a CBOR byte string, base64 text in JSON.
    Blob,
    /// A point in time: CBOR tag 1 with epoch milliseconds, epoch seconds in JSON.
    Timestamp,
    /// A list of the shape at this index.
    List(u16),
    /// A map (string keys) whose values are the shape at this index.
    #[allow(
        dead_code,
        reason = "Kinesis's model has no map of blobs or timestamps today"
    )]
    Map(u16),
    /// A structure's members that lead to a blob or a timestamp, by wire name.
    Structure(&'static [(&'static str, u16)]),
}

/// One operation of the model: the shapes of its input and output, if they matter.
#[derive(Debug)]
pub(super) struct Operation {
    /// The operation name, as after the service prefix in `X-Amz-Target`.
    pub(super) name: &'static str,
    /// The input shape, if it holds a blob or a timestamp.
    pub(super) input: Option<u16>,
    /// The output shape, if it holds a blob or a timestamp.
    pub(super) output: Option<u16>,
}

/// Where in the model a value is: `None` for a plain value.
pub(super) type At = Option<&'static Shape>;

/// The operation of this name, if the model has it.
pub(super) fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .binary_search_by(|op| op.name.cmp(name))
        .ok()
        .map(|i| &OPERATIONS[i])
}

/// The shape at an index of the table.
pub(super) fn at(index: Option<u16>) -> At {
    index.and_then(|i| SHAPES.get(usize::from(i)))
}

/// The shape of an element, if `shape` is a list.
pub(super) fn element(shape: At) -> At {
    match shape {
        Some(Shape::List(inner)) => at(Some(*inner)),
        _ => None,
    }
}

/// The shape of the value under `key`, if `shape` is a structure (a member) or a map.
pub(super) fn member(shape: At, key: &str) -> At {
    match shape {
        Some(Shape::Structure(members)) => members
            .iter()
            .find(|(name, _)| *name == key)
            .and_then(|(_, index)| at(Some(*index))),
        Some(Shape::Map(value)) => at(Some(*value)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinesis::Action;

    #[test]
    fn every_emulated_operation_is_in_the_model() {
        for action in Action::ALL {
            assert!(
                operation(action.as_str()).is_some(),
                "{} is not in the Kinesis model",
                action.as_str()
            );
        }
    }

    #[test]
    fn the_table_is_sorted_and_its_indexes_resolve() {
        assert!(OPERATIONS.windows(2).all(|w| w[0].name < w[1].name));
        let resolves = |i: u16| usize::from(i) < SHAPES.len();
        for op in OPERATIONS {
            assert!(op.input.into_iter().chain(op.output).all(resolves));
        }
        for shape in SHAPES {
            match shape {
                Shape::List(i) | Shape::Map(i) => assert!(resolves(*i)),
                Shape::Structure(members) => assert!(members.iter().all(|(_, i)| resolves(*i))),
                Shape::Blob | Shape::Timestamp => {}
            }
        }
    }

    #[test]
    fn records_hold_their_data_as_a_blob_and_their_arrival_as_a_timestamp() {
        let get_records = at(operation("GetRecords").unwrap().output);
        let record = element(member(get_records, "Records"));
        assert_eq!(member(record, "Data"), Some(&Shape::Blob));
        assert_eq!(
            member(record, "ApproximateArrivalTimestamp"),
            Some(&Shape::Timestamp)
        );
        assert_eq!(member(record, "PartitionKey"), None);
        let put_record = at(operation("PutRecord").unwrap().input);
        assert_eq!(member(put_record, "Data"), Some(&Shape::Blob));
        let describe = at(operation("DescribeStream").unwrap().output);
        assert_eq!(
            member(
                member(describe, "StreamDescription"),
                "StreamCreationTimestamp"
            ),
            Some(&Shape::Timestamp)
        );
        assert!(operation("CreateStream").unwrap().input.is_none());
    }

    /// Runs `scripts/cbor_shapes.py --check` where a Python with botocore is found (the project
    /// venv under the target directory, or `python3`): the table must be what the model gives.
    #[test]
    fn the_table_is_what_the_model_gives() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let script = manifest.join("scripts/cbor_shapes.py");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| manifest.join("../../target"));
        let candidates = [
            target.join("venv/bin/python"),
            target.join("cbor-venv/bin/python"),
            "python3".into(),
        ];
        for python in candidates {
            let has_botocore = std::process::Command::new(&python)
                .args(["-c", "import botocore"])
                .output()
                .is_ok_and(|o| o.status.success());
            if !has_botocore {
                continue;
            }
            let out = std::process::Command::new(&python)
                .arg(&script)
                .arg("--check")
                .output()
                .expect("the script runs");
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            println!("{said}");
            return;
        }
        println!("no Python with botocore found: the table was not compared with the model");
    }
}
