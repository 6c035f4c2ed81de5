//! CBOR items for tests to compare with: a decoder independent of the emulator's codec (read
//! with minicbor, definite or indefinite lengths, chunked strings), and an encoder helper to
//! build bodies the way the AWS SDKs for Java write them. Shared by the codec's unit tests
//! (`src/cbor/tests.rs`) and the end-to-end test (`tests/cbor.rs`), so the two read alike.

use minicbor::Encoder;
use minicbor::data::Type;

/// A decoded CBOR item.
#[derive(Debug, PartialEq)]
pub(crate) enum Item {
    Int(i128),
    Float(f64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(String, Item)>),
    Tag(u64, Box<Item>),
    Bool(bool),
    Null,
}

impl Item {
    /// The value of `key` in a map (panics if this is not a map or has no `key`).
    pub(crate) fn get(&self, key: &str) -> &Item {
        let Item::Map(entries) = self else {
            panic!("{self:?} is not a map")
        };
        &entries
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key} in {self:?}"))
            .1
    }

    /// The text of a text item.
    #[allow(dead_code)] // the unit tests compare whole items
    pub(crate) fn text(&self) -> &str {
        match self {
            Item::Text(text) => text,
            other => panic!("{other:?} is not text"),
        }
    }

    /// The items of an array.
    #[allow(dead_code)] // the unit tests compare whole items
    pub(crate) fn items(&self) -> &[Item] {
        match self {
            Item::Array(items) => items,
            other => panic!("{other:?} is not an array"),
        }
    }
}

/// The one item `bytes` hold (panics if anything follows it).
pub(crate) fn item(bytes: &[u8]) -> Item {
    let mut d = minicbor::Decoder::new(bytes);
    let item = read(&mut d);
    assert_eq!(d.position(), bytes.len(), "bytes after the item");
    item
}

fn read(d: &mut minicbor::Decoder<'_>) -> Item {
    let more = |d: &mut minicbor::Decoder<'_>, len: Option<u64>, i: usize| match len {
        Some(n) => (i as u64) < n,
        None if d.datatype().unwrap() == Type::Break => {
            d.set_position(d.position() + 1);
            false
        }
        None => true,
    };
    match d.datatype().unwrap() {
        Type::Bool => Item::Bool(d.bool().unwrap()),
        Type::Null => {
            d.null().unwrap();
            Item::Null
        }
        Type::F16 => Item::Float(f64::from(d.f16().unwrap())),
        Type::F32 => Item::Float(f64::from(d.f32().unwrap())),
        Type::F64 => Item::Float(d.f64().unwrap()),
        Type::Bytes | Type::BytesIndef => Item::Bytes(
            d.bytes_iter()
                .unwrap()
                .flat_map(|c| c.unwrap().to_vec())
                .collect(),
        ),
        Type::String | Type::StringIndef => {
            Item::Text(d.str_iter().unwrap().map(|c| c.unwrap()).collect())
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().unwrap();
            let mut items = Vec::new();
            while more(d, len, items.len()) {
                items.push(read(d));
            }
            Item::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().unwrap();
            let mut entries = Vec::new();
            while more(d, len, entries.len()) {
                let Item::Text(key) = read(d) else {
                    panic!("a key that is not text")
                };
                entries.push((key, read(d)));
            }
            Item::Map(entries)
        }
        Type::Tag => {
            let tag = d.tag().unwrap().as_u64();
            Item::Tag(tag, Box::new(read(d)))
        }
        _ => Item::Int(i128::from(d.int().unwrap())),
    }
}

/// The bytes `build` encodes.
pub(crate) fn cbor(build: impl FnOnce(&mut Encoder<Vec<u8>>)) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    build(&mut e);
    e.into_writer()
}
