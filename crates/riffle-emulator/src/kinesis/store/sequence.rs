//! Sequence numbers of stored records: assigning each appended record its stream-wide
//! sequence index, formatting a record's or a shard's sequence numbers in AWS's layout
//! ([`SequenceParts`]), and finding the record a sequence index names.
//!
//! Invariant: within a stream, every record's sequence index is above every earlier record's,
//! and appending is the only place indexes are assigned (replaying the log assigns the same).

use super::{Millis, NewRecord, Record, Shard, Stream};
use crate::kinesis::keys::{ENDING_SEQ_IX, SequenceParts};
use crate::kinesis::store::Appended;

/// How far before its creation a shard's sequence numbers date it: AWS's encode a creation time
/// 2 to 7 seconds before the CreateStream call (kinesalite's AWS-recorded createStream test).
const CREATION_LEAD_MS: Millis = 4_000;

impl Shard {
    /// The shard creation time its sequence numbers encode, in seconds.
    pub(crate) fn sequence_created_secs(&self) -> u64 {
        self.created_ms.saturating_sub(CREATION_LEAD_MS) / 1000
    }

    /// The counter of the first stored record whose sequence index is `seq_ix` or more (above
    /// it when `after`); the tip (`last_counter + 1`) when there is none.
    pub(crate) fn counter_of(&self, seq_ix: u64, after: bool) -> u64 {
        let index = self
            .records
            .partition_point(|r| r.seq_ix < seq_ix || (after && r.seq_ix == seq_ix));
        self.records
            .get(index)
            .map_or(self.last_counter + 1, |r| r.counter)
    }
}

impl Stream {
    /// The sequence number of the record with `counter` on `shard`; counter 0 is the shard's
    /// `StartingSequenceNumber`. For a trimmed record, a number just below the oldest stored
    /// one (or above every record so far when none is stored), so reading after it loses
    /// nothing.
    pub(crate) fn sequence_number(&self, shard: u32, counter: u64) -> String {
        let shard = &self.shards[shard as usize];
        let start = Self::starting_parts(shard);
        let parts = match shard.records.get(shard.index_of(counter)) {
            _ if counter == 0 => start,
            Some(r) if r.counter == counter => SequenceParts {
                seq_ix: r.seq_ix,
                record_secs: r.arrival_ms / 1000,
                ..start
            },
            Some(oldest) => SequenceParts {
                seq_ix: oldest.seq_ix - 1,
                record_secs: oldest.arrival_ms / 1000,
                ..start
            },
            None => SequenceParts {
                seq_ix: self.last_seq_ix,
                ..start
            },
        };
        parts.encode()
    }

    /// A shard's `StartingSequenceNumber`: index 0 at its creation time.
    fn starting_parts(shard: &Shard) -> SequenceParts {
        SequenceParts {
            shard_created_secs: shard.sequence_created_secs(),
            shard: shard.ordinal,
            seq_ix: 0,
            record_secs: shard.sequence_created_secs(),
        }
    }

    /// A shard's `SequenceNumberRange`: its starting number and, once resharding closed it,
    /// its ending number (the largest index, at the closing time), as AWS writes them.
    pub(crate) fn sequence_range(&self, ordinal: u32) -> (String, Option<String>) {
        let shard = &self.shards[ordinal as usize];
        let start = Self::starting_parts(shard);
        let end = shard.closed_ms.map(|closed| {
            SequenceParts {
                seq_ix: ENDING_SEQ_IX,
                record_secs: closed / 1000,
                ..start
            }
            .encode()
        });
        (start.encode(), end)
    }
}

/// Appends a batch of records, each to the open shard its hash key falls in (the stream must
/// accept writes). Sequence indexes are taken from the stream's counter shard by shard, in
/// ordinal order, so a shard's records in one batch have consecutive indexes, as AWS's have.
pub(super) fn append_batch(
    stream: &mut Stream,
    now: Millis,
    records: Vec<NewRecord>,
    lsn: u64,
) -> Vec<Appended> {
    let shards: Vec<usize> = records
        .iter()
        .map(|r| stream.shard_for_hash(r.hash_key()))
        .collect();
    let mut seq_ixs = vec![0; records.len()];
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| shards[i]);
    for i in order {
        stream.last_seq_ix += 1;
        seq_ixs[i] = stream.last_seq_ix;
    }
    records
        .into_iter()
        .zip(shards)
        .zip(seq_ixs)
        .map(|((record, index), seq_ix)| {
            append(&mut stream.shards[index], now, record, seq_ix, lsn)
        })
        .collect()
}

/// Appends one record with sequence index `seq_ix` to `shard`.
fn append(shard: &mut Shard, now: Millis, record: NewRecord, seq_ix: u64, lsn: u64) -> Appended {
    shard.last_counter += 1;
    let counter = shard.last_counter;
    // Arrival times never go backwards within a shard, even if the clock does.
    let arrival_ms = shard.records.back().map_or(now, |r| r.arrival_ms.max(now));
    shard.records.push_back(Record {
        counter,
        seq_ix,
        arrival_ms,
        partition_key: record.partition_key,
        data: record.data,
        lsn,
    });
    Appended {
        shard: shard.ordinal,
        counter,
        sequence: SequenceParts {
            shard_created_secs: shard.sequence_created_secs(),
            shard: shard.ordinal,
            seq_ix,
            record_secs: arrival_ms / 1000,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{KinesisStore, Mutation, StoreSettings, StreamMode};
    use super::*;

    const T0: Millis = 1_700_000_000_000;

    /// A two-shard stream `s` fed the same mutations; replaying them must number alike.
    fn fed() -> KinesisStore {
        let mut store = KinesisStore::new(StoreSettings::new("us-east-1", "000000000000"), [1; 16]);
        let create = Mutation::CreateStream {
            name: "s".into(),
            shard_count: 2,
            mode: StreamMode::Provisioned,
            tags: BTreeMap::new(),
        };
        store.apply(T0, create, 0).unwrap();
        let record = |hash: u128| NewRecord {
            partition_key: "k".into(),
            explicit_hash_key: Some(hash),
            data: "x".into(),
        };
        for i in 0..3 {
            let batch = Mutation::PutRecords {
                stream: "s".into(),
                records: vec![record(u128::MAX), record(0), record(u128::MAX), record(1)],
            };
            store.apply(T0 + i * 1000, batch, 0).unwrap();
        }
        store
    }

    #[test]
    fn a_batch_numbers_each_shard_consecutively_and_replay_numbers_alike() {
        let store = fed();
        let indexes = |shard: usize| -> Vec<u64> {
            store.streams["s"].shards[shard]
                .records
                .iter()
                .map(|r| r.seq_ix)
                .collect()
        };
        // Shard 0 takes its two records of each batch first, then shard 1.
        assert_eq!(indexes(0), [1, 2, 5, 6, 9, 10]);
        assert_eq!(indexes(1), [3, 4, 7, 8, 11, 12]);
        let again = fed();
        let stream = &store.streams["s"];
        assert_eq!(
            stream.sequence_number(1, 6),
            again.streams["s"].sequence_number(1, 6)
        );
    }

    #[test]
    fn sequence_indexes_find_their_records() {
        let store = fed();
        let shard = &store.streams["s"].shards[1];
        assert_eq!(
            shard.counter_of(0, false),
            1,
            "the start is before the first record"
        );
        assert_eq!(shard.counter_of(7, false), 3);
        assert_eq!(shard.counter_of(7, true), 4);
        assert_eq!(
            shard.counter_of(5, false),
            3,
            "another shard's index: the next record"
        );
        assert_eq!(shard.counter_of(12, true), 7, "past the newest is the tip");
    }
}
