//! The values of kinesis_structured's scenarios: what each operation's members hold when they
//! are plausible (the API model's names, the emulator's stream names, shard ids and sequence
//! numbers, base64 data, hash keys at the edges of the key space), sometimes wrong in type or
//! range, and the pools of values earlier answers handed out that later requests send back.

use arbitrary::{Result, Unstructured};
use riffle_fuzz::START_MS;
/// Kinds of values the service hands out that later requests can send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pool {
    Iterator,
    Token,
    Sequence,
    ShardId,
    HashKey,
}

impl Pool {
    pub(crate) const ALL: [Pool; 5] = [
        Pool::Iterator,
        Pool::Token,
        Pool::Sequence,
        Pool::ShardId,
        Pool::HashKey,
    ];

    pub(crate) fn of_member(member: &str) -> Option<Pool> {
        Some(match member {
            "ShardIterator" | "NextShardIterator" => Pool::Iterator,
            "NextToken" => Pool::Token,
            "SequenceNumber" | "StartingSequenceNumber" | "EndingSequenceNumber" => Pool::Sequence,
            "ShardId" | "ParentShardId" | "AdjacentParentShardId" => Pool::ShardId,
            "StartingHashKey" | "EndingHashKey" => Pool::HashKey,
            _ => return None,
        })
    }
}

/// A string: literal, or the `index`th value of a pool (resolved when the step runs).
#[derive(Debug)]
pub(crate) enum Text {
    Lit(String),
    Captured {
        pool: Pool,
        index: u8,
        tamper: Option<u8>,
    },
}

/// A JSON value whose strings may refer to captured values.
#[derive(Debug)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Arr(Vec<Val>),
    Obj(Vec<(String, Val)>),
}

/// What a member should hold when it is given a plausible value.
#[derive(Debug, Clone, Copy)]
enum Kind {
    StreamName,
    StreamArn,
    Int(i64, i64),
    ShardId,
    IteratorType,
    Sequence,
    Timestamp,
    Iterator,
    Token,
    Data,
    PartitionKey,
    HashKey,
    Records,
    Tags,
    TagKeys,
    ModeDetails,
    ShardFilter,
    Enum(&'static [&'static str]),
    TagKey,
}

/// How often a member is present.
#[derive(Debug, Clone, Copy)]
enum Presence {
    /// Usually present.
    Usual,
    /// Present about a third of the time.
    Rare,
}

use Kind as K;
use Presence::{Rare, Usual};

const ITERATOR_TYPES: &[&str] = &[
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "AT_TIMESTAMP",
];
const FILTER_TYPES: &[&str] = &[
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

/// The members of each operation's request, as the API model names them.
fn schema(operation: &str) -> &'static [(&'static str, Kind, Presence)] {
    const NAME: (&str, Kind, Presence) = ("StreamName", K::StreamName, Usual);
    const ARN: (&str, Kind, Presence) = ("StreamARN", K::StreamArn, Rare);
    match operation {
        "CreateStream" => &[
            NAME,
            ("ShardCount", K::Int(1, 4), Usual),
            ("StreamModeDetails", K::ModeDetails, Rare),
            ("Tags", K::Tags, Rare),
        ],
        "DeleteStream" | "DescribeStreamSummary" => &[NAME, ARN],
        "DescribeStream" => &[
            NAME,
            ARN,
            ("Limit", K::Int(1, 4), Rare),
            ("ExclusiveStartShardId", K::ShardId, Rare),
        ],
        "ListStreams" => &[
            ("Limit", K::Int(1, 3), Rare),
            ("ExclusiveStartStreamName", K::StreamName, Rare),
            ("NextToken", K::Token, Rare),
        ],
        "ListShards" => &[
            NAME,
            ARN,
            ("NextToken", K::Token, Rare),
            ("ExclusiveStartShardId", K::ShardId, Rare),
            ("MaxResults", K::Int(1, 4), Rare),
            ("ShardFilter", K::ShardFilter, Rare),
        ],
        "PutRecord" => &[
            NAME,
            ARN,
            ("Data", K::Data, Usual),
            ("PartitionKey", K::PartitionKey, Usual),
            ("ExplicitHashKey", K::HashKey, Rare),
            ("SequenceNumberForOrdering", K::Sequence, Rare),
        ],
        "PutRecords" => &[NAME, ARN, ("Records", K::Records, Usual)],
        "GetShardIterator" => &[
            NAME,
            ARN,
            ("ShardId", K::ShardId, Usual),
            ("ShardIteratorType", K::IteratorType, Usual),
            ("StartingSequenceNumber", K::Sequence, Rare),
            ("Timestamp", K::Timestamp, Rare),
        ],
        "GetRecords" => &[
            ("ShardIterator", K::Iterator, Usual),
            ("Limit", K::Int(1, 4), Rare),
            ARN,
        ],
        "IncreaseStreamRetentionPeriod" | "DecreaseStreamRetentionPeriod" => {
            &[NAME, ARN, ("RetentionPeriodHours", K::Int(24, 8760), Usual)]
        }
        "SplitShard" => &[
            NAME,
            ARN,
            ("ShardToSplit", K::ShardId, Usual),
            ("NewStartingHashKey", K::HashKey, Usual),
        ],
        "MergeShards" => &[
            NAME,
            ARN,
            ("ShardToMerge", K::ShardId, Usual),
            ("AdjacentShardToMerge", K::ShardId, Usual),
        ],
        "UpdateShardCount" => &[
            NAME,
            ARN,
            ("TargetShardCount", K::Int(1, 8), Usual),
            ("ScalingType", K::Enum(&["UNIFORM_SCALING"]), Usual),
        ],
        "AddTagsToStream" => &[NAME, ARN, ("Tags", K::Tags, Usual)],
        "RemoveTagsFromStream" => &[NAME, ARN, ("TagKeys", K::TagKeys, Usual)],
        "ListTagsForStream" => &[
            NAME,
            ARN,
            ("ExclusiveStartTagKey", K::TagKey, Rare),
            ("Limit", K::Int(1, 3), Rare),
        ],
        _ => &[],
    }
}

/// Every member name of the API, for stray members and nested objects.
const MEMBERS: &[&str] = &[
    "StreamName",
    "StreamARN",
    "ShardCount",
    "StreamModeDetails",
    "StreamMode",
    "Tags",
    "Limit",
    "ExclusiveStartShardId",
    "ExclusiveStartStreamName",
    "NextToken",
    "MaxResults",
    "ShardFilter",
    "Type",
    "ShardId",
    "Timestamp",
    "Data",
    "PartitionKey",
    "ExplicitHashKey",
    "SequenceNumberForOrdering",
    "Records",
    "ShardIteratorType",
    "StartingSequenceNumber",
    "ShardIterator",
    "RetentionPeriodHours",
    "ShardToSplit",
    "NewStartingHashKey",
    "ShardToMerge",
    "AdjacentShardToMerge",
    "TargetShardCount",
    "ScalingType",
    "TagKeys",
    "ExclusiveStartTagKey",
];

fn lit(s: impl Into<String>) -> Val {
    Val::Str(Text::Lit(s.into()))
}

fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

/// A short arbitrary string (possibly empty, possibly not ASCII).
fn short_string(u: &mut Unstructured<'_>) -> Result<String> {
    let len = u.int_in_range(0..=12)?;
    let mut s = String::new();
    for _ in 0..len {
        s.push(u.arbitrary::<char>()?);
    }
    Ok(s)
}

fn captured(u: &mut Unstructured<'_>, pool: Pool) -> Result<Val> {
    let index = u.arbitrary()?;
    let tamper = if u.ratio(1, 8)? {
        Some(u.arbitrary()?)
    } else {
        None
    };
    Ok(Val::Str(Text::Captured {
        pool,
        index,
        tamper,
    }))
}

/// Any JSON value, nesting at most `depth` deep.
fn any_val(u: &mut Unstructured<'_>, depth: u32) -> Result<Val> {
    let top = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Val::Null,
        1 => Val::Bool(u.arbitrary()?),
        2 => Val::Int(interesting_int(u)?),
        3 => Val::Float(u.arbitrary()?),
        4 => lit(short_string(u)?),
        5 => {
            let pool = *pick(u, &Pool::ALL)?;
            captured(u, pool)?
        }
        6 => {
            let n = u.int_in_range(0..=3)?;
            Val::Arr(
                (0..n)
                    .map(|_| any_val(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=3)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                let key = if u.ratio(3, 4)? {
                    (*pick(u, MEMBERS)?).to_owned()
                } else {
                    short_string(u)?
                };
                members.push((key, any_val(u, depth - 1)?));
            }
            Val::Obj(members)
        }
    })
}

fn interesting_int(u: &mut Unstructured<'_>) -> Result<i64> {
    const EDGES: [i64; 12] = [
        0,
        -1,
        1,
        23,
        24,
        8760,
        8761,
        10_000,
        10_001,
        100_001,
        i64::MAX,
        i64::MIN,
    ];
    if u.ratio(1, 2)? {
        Ok(*pick(u, &EDGES)?)
    } else {
        u.arbitrary()
    }
}

fn int_in(u: &mut Unstructured<'_>, lo: i64, hi: i64) -> Result<Val> {
    Ok(Val::Int(if u.ratio(7, 8)? {
        u.int_in_range(lo..=hi)?
    } else {
        interesting_int(u)?
    }))
}

fn stream_name(u: &mut Unstructured<'_>) -> Result<Val> {
    Ok(match u.int_in_range(0..=9)? {
        0..=4 => lit("s"),
        5 => lit("t"),
        6 => lit("u"),
        7 => lit(*pick(u, &["", "bad name", "s/", "ß", "missing"])?),
        8 => lit("a".repeat(*pick(u, &[128, 129])?)),
        _ => lit(short_string(u)?),
    })
}

fn stream_arn(u: &mut Unstructured<'_>) -> Result<Val> {
    let name = match stream_name(u)? {
        Val::Str(Text::Lit(name)) => name,
        _ => "s".to_owned(),
    };
    Ok(lit(match u.int_in_range(0..=5)? {
        0..=2 => format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}"),
        3 => format!("arn:aws:kinesis:eu-west-1:000000000000:stream/{name}"),
        4 => format!("arn:aws:kinesis:us-east-1:123456789012:stream/{name}"),
        _ => format!("arn:{}:stream/{name}", short_string(u)?),
    }))
}

fn shard_id(u: &mut Unstructured<'_>) -> Result<Val> {
    Ok(match u.int_in_range(0..=7)? {
        0..=3 => {
            let ordinal = if u.ratio(3, 4)? {
                u.int_in_range(0..=3)?
            } else {
                u.int_in_range(4..=9)?
            };
            lit(format!("shardId-{ordinal:012}"))
        }
        4 => captured(u, Pool::ShardId)?,
        5 => lit(u.int_in_range(0u32..=9)?.to_string()),
        6 => lit(format!(
            "shardId-{:012}",
            u.arbitrary::<u64>()? % 1_000_000_000_000
        )),
        _ => lit(short_string(u)?),
    })
}

/// A sequence number: one handed out earlier, one in the emulator's layout (AWS's), or not one.
fn sequence(u: &mut Unstructured<'_>) -> Result<Val> {
    Ok(match u.int_in_range(0..=5)? {
        0 | 1 => captured(u, Pool::Sequence)?,
        2..=4 => {
            // Mostly the seeded stream's creation second, which the emulator checks.
            let secs = match u.int_in_range(0..=3)? {
                0 | 1 => START_MS / 1000,
                2 => START_MS / 1000 + u.int_in_range(1..=2)?,
                _ => u.arbitrary::<u64>()? % 10_000_000_000,
            };
            let shard = if u.ratio(3, 4)? {
                u.int_in_range(0u32..=3)?
            } else {
                u.arbitrary()?
            };
            // The index is below 2^63 in the layout; past it the number is one AWS never
            // hands out.
            let seq_ix = match u.int_in_range(0..=3)? {
                0 => i64::MAX as u64,
                1 => i64::MAX as u64 - u.int_in_range(0..=2)?,
                2 => u.int_in_range(0..=12)?,
                _ => u.arbitrary::<u64>()? >> 1,
            };
            let record_secs = secs + u.int_in_range(0..=2)?;
            lit(riffle_emulator::kinesis::sequence_number(
                secs,
                shard,
                seq_ix,
                record_secs,
            ))
        }
        _ => lit(*pick(
            u,
            &["0", "1", "01", "-1", "12345678901234567890123456789"],
        )?),
    })
}

fn timestamp(u: &mut Unstructured<'_>) -> Result<Val> {
    let base = (START_MS / 1000) as f64;
    Ok(match u.int_in_range(0..=4)? {
        0..=2 => Val::Float(base + f64::from(u.int_in_range(-5i32..=5)?) * 0.5),
        3 => Val::Int(interesting_int(u)?),
        _ => Val::Float(u.arbitrary()?),
    })
}

fn data(u: &mut Unstructured<'_>) -> Result<Val> {
    use base64::Engine as _;
    Ok(match u.int_in_range(0..=9)? {
        0..=6 => {
            let len = u.int_in_range(0..=16)?;
            let bytes = u.bytes(len)?;
            lit(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        7 => {
            let len = *pick(u, &[1024 * 1024, 1024 * 1024 + 1])?;
            lit(base64::engine::general_purpose::STANDARD.encode(vec![b'x'; len]))
        }
        8 => lit(*pick(
            u,
            &["A", "A=", "====", "aGVsbG8", "aGVsbG8=\n", "-_-_"],
        )?),
        _ => lit(short_string(u)?),
    })
}

fn partition_key(u: &mut Unstructured<'_>) -> Result<Val> {
    Ok(match u.int_in_range(0..=5)? {
        0..=3 => lit(short_string(u)?),
        4 => lit(*pick(u, &["a", "b", "c", "d"])?),
        _ => lit("k".repeat(*pick(u, &[256, 257])?)),
    })
}

fn hash_key(u: &mut Unstructured<'_>) -> Result<Val> {
    Ok(match u.int_in_range(0..=6)? {
        0 | 1 => lit(u.arbitrary::<u128>()?.to_string()),
        2 => captured(u, Pool::HashKey)?,
        3 => {
            let edges = [
                0,
                1,
                1 << 127,
                (1 << 127) - 1,
                (1 << 127) + 1,
                u128::MAX,
                u128::MAX - 1,
            ];
            lit(pick(u, &edges)?.to_string())
        }
        4 => lit(*pick(
            u,
            &[
                "340282366920938463463374607431768211456",
                "01",
                "-1",
                "",
                " 1",
            ],
        )?),
        _ => lit(short_string(u)?),
    })
}

fn records(u: &mut Unstructured<'_>) -> Result<Val> {
    let n = match u.int_in_range(0..=15)? {
        0 => 0,
        1 => 501,
        _ => u.int_in_range(1..=6)?,
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i >= 8 {
            // Large batches: cheap, valid entries.
            out.push(Val::Obj(vec![
                ("Data".to_owned(), lit("AA==")),
                ("PartitionKey".to_owned(), lit(i.to_string())),
            ]));
            continue;
        }
        let schema: &[(&str, Kind, Presence)] = &[
            ("Data", K::Data, Usual),
            ("PartitionKey", K::PartitionKey, Usual),
            ("ExplicitHashKey", K::HashKey, Rare),
        ];
        out.push(object(u, schema, 0)?);
    }
    Ok(Val::Arr(out))
}

fn tag_key(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=4)? {
        0..=2 => (*pick(u, &["team", "env", "owner", "a", "z"])?).to_owned(),
        3 => "t".repeat(*pick(u, &[0, 128, 129])?),
        _ => short_string(u)?,
    })
}

fn tags(u: &mut Unstructured<'_>) -> Result<Val> {
    let n = match u.int_in_range(0..=15)? {
        0 => 0,
        1 => 51,
        _ => u.int_in_range(1..=4)?,
    };
    let mut members = Vec::with_capacity(n);
    for i in 0..n {
        let key = if n > 8 { format!("k{i}") } else { tag_key(u)? };
        let value = if u.ratio(1, 8)? {
            lit("v".repeat(*pick(u, &[256, 257])?))
        } else if u.ratio(1, 16)? {
            any_val(u, 1)?
        } else {
            lit(short_string(u)?)
        };
        members.push((key, value));
    }
    Ok(Val::Obj(members))
}

/// A plausible value of `kind`.
fn plausible(u: &mut Unstructured<'_>, kind: Kind) -> Result<Val> {
    match kind {
        K::StreamName => stream_name(u),
        K::StreamArn => stream_arn(u),
        K::Int(lo, hi) => int_in(u, lo, hi),
        K::ShardId => shard_id(u),
        K::IteratorType => Ok(lit(*pick(u, ITERATOR_TYPES)?)),
        K::Sequence => sequence(u),
        K::Timestamp => timestamp(u),
        K::Iterator => {
            if u.ratio(7, 8)? {
                captured(u, Pool::Iterator)
            } else {
                Ok(lit(short_string(u)?))
            }
        }
        K::Token => captured(u, Pool::Token),
        K::Data => data(u),
        K::PartitionKey => partition_key(u),
        K::HashKey => hash_key(u),
        K::Records => records(u),
        K::Tags => tags(u),
        K::TagKeys => {
            let n = match u.int_in_range(0..=15)? {
                0 => 0,
                1 => 51,
                _ => u.int_in_range(1..=3)?,
            };
            Ok(Val::Arr(
                (0..n).map(|_| tag_key(u).map(lit)).collect::<Result<_>>()?,
            ))
        }
        K::TagKey => tag_key(u).map(lit),
        K::ModeDetails => {
            let schema: &[(&str, Kind, Presence)] = &[(
                "StreamMode",
                K::Enum(&["PROVISIONED", "ON_DEMAND", "provisioned"]),
                Usual,
            )];
            object(u, schema, 0)
        }
        K::ShardFilter => {
            let schema: &[(&str, Kind, Presence)] = &[
                ("Type", K::Enum(FILTER_TYPES), Usual),
                ("ShardId", K::ShardId, Rare),
                ("Timestamp", K::Timestamp, Rare),
            ];
            object(u, schema, 0)
        }
        K::Enum(values) => Ok(if u.ratio(15, 16)? {
            lit(*pick(u, values)?)
        } else {
            lit(short_string(u)?)
        }),
    }
}

/// An object with the members of `schema`, each absent, plausible or of any type, plus up to
/// `stray` members of any name.
fn object(
    u: &mut Unstructured<'_>,
    schema: &[(&'static str, Kind, Presence)],
    stray: u32,
) -> Result<Val> {
    let mut members = Vec::new();
    for &(name, kind, presence) in schema {
        let present = match presence {
            Usual => u.ratio(7, 8)?,
            Rare => u.ratio(1, 3)?,
        };
        if !present {
            continue;
        }
        let value = if u.ratio(1, 12)? {
            any_val(u, 2)?
        } else {
            plausible(u, kind)?
        };
        members.push((name.to_owned(), value));
    }
    for _ in 0..u.int_in_range(0..=stray)? {
        let name = if u.ratio(3, 4)? {
            (*pick(u, MEMBERS)?).to_owned()
        } else {
            short_string(u)?
        };
        members.push((name, any_val(u, 2)?));
    }
    Ok(Val::Obj(members))
}

/// A request body for `operation`: its members, mostly plausible, and up to two stray ones.
pub(crate) fn request_body(u: &mut Unstructured<'_>, operation: &str) -> Result<Val> {
    object(u, schema(operation), 2)
}
