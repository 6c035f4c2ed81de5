//! The status's rows and lines: the live table (a row per mapping and shard, aligned, a last
//! error on a line of its own), the text status lines and the JSON status objects, from the
//! runtime's counters read into [`KinesisView`] and [`QueueView`].

use std::collections::BTreeMap;

use riffle_runtime::{KinesisMetrics, ShardStatus};
use serde_json::{Value, json};

use super::terminal::display_width;

/// The rows of the live table: a header, each Kinesis mapping and its shards, then the SQS
/// mappings under their own header.
/// The live table: a row per mapping and per shard, the counts people look at first on the left
/// (a narrow terminal cuts the right), and a row's last error on a line of its own below it.
pub(crate) fn table(kinesis: &[KinesisView], queues: &[QueueView]) -> Vec<String> {
    let mut lines = Vec::new();
    if !kinesis.is_empty() {
        let mut rows = vec![
            [
                "KINESIS MAPPING / SHARD",
                "STATE",
                "AGE",
                "IN FLIGHT",
                "INVOKED",
                "ERRORS",
                "THROTTLES",
                "RETRIES",
                "BISECTS",
                "TO DEST",
                "FILTERED",
                "BUFFERED",
                "POSITION",
                "CHECKPOINT",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        let mut errors = vec![None];
        for mapping in kinesis {
            // The mapping's age: its oldest open shard's; "caught up" when every open shard is.
            let open = || mapping.shards.iter().filter(|s| !s.status.finished);
            let age = open().filter_map(|s| s.status.iterator_age_ms).max();
            let age = if open().next().is_some() && open().all(|s| s.status.caught_up) {
                CAUGHT_UP.to_owned()
            } else {
                age.map(duration).unwrap_or_default()
            };
            let total = |count: fn(&ShardStatus) -> u64| {
                mapping
                    .shards
                    .iter()
                    .map(|s| count(&s.status))
                    .sum::<u64>()
                    .to_string()
            };
            rows.push(vec![
                mapping.id.clone(),
                mapping.state.clone(),
                age,
                total(|s| s.in_flight),
                mapping.invocations.to_string(),
                mapping.errors.to_string(),
                mapping.throttles.to_string(),
                mapping.retries.to_string(),
                mapping.bisects.to_string(),
                mapping.sent_to_destination.to_string(),
                mapping.filtered.to_string(),
                total(|s| s.buffered),
            ]);
            // The mapping's last error is its latest shard's, shown under that shard.
            errors.push(None);
            for shard in &mapping.shards {
                let status = &shard.status;
                rows.push(vec![
                    format!("  {}", shard.id),
                    shard.state.to_owned(),
                    age_cell(status),
                    status.in_flight.to_string(),
                    status.invocations.to_string(),
                    status.errors.to_string(),
                    status.throttles.to_string(),
                    status.retries.to_string(),
                    status.bisects.to_string(),
                    status.sent_to_destination.to_string(),
                    status.filtered.to_string(),
                    status.buffered.to_string(),
                    status
                        .position
                        .as_ref()
                        .map(|p| short(p.as_str()))
                        .unwrap_or_default(),
                    status
                        .checkpoint
                        .as_ref()
                        .map(|c| short(c.as_str()))
                        .unwrap_or_default(),
                ]);
                errors.push(status.last_error.as_ref().map(|(_, e)| e.clone()));
            }
        }
        lines.extend(with_errors(
            align(&rows, &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
            errors,
        ));
    }
    if !queues.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let mut rows = vec![
            [
                "SQS MAPPING",
                "STATE",
                "POLLERS",
                "IN FLIGHT",
                "RECEIVED",
                "DELETED",
                "FAILED",
                "THROTTLES",
                "FILTERED",
                "OLDEST",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        let mut errors = vec![None];
        for queue in queues {
            rows.push(vec![
                queue.id.clone(),
                queue.state.to_owned(),
                if queue.state == "stopped" {
                    "0".to_owned()
                } else {
                    format!("{}/{}", queue.pollers, queue.target_pollers)
                },
                queue.in_flight.to_string(),
                queue.received.to_string(),
                queue.deleted.to_string(),
                queue.failed.to_string(),
                queue.throttles.to_string(),
                queue.filtered.to_string(),
                if queue.received == 0 {
                    String::new()
                } else {
                    duration(queue.oldest_message_age_ms)
                },
            ]);
            errors.push(queue.last_error.clone());
        }
        lines.extend(with_errors(align(&rows, &[2, 3, 4, 5, 6, 7, 8, 9]), errors));
    }
    if lines.is_empty() {
        lines.push("no mappings".to_owned());
    }
    lines
}

/// What the AGE column says of a shard whose last read found nothing behind the tip.
const CAUGHT_UP: &str = "caught up";

/// A shard's AGE: the iterator age of its last batch, or "caught up" (age 0) once a read found
/// nothing more and everything read is done.
fn age_cell(status: &ShardStatus) -> String {
    if status.caught_up {
        CAUGHT_UP.to_owned()
    } else {
        status.iterator_age_ms.map(duration).unwrap_or_default()
    }
}

/// `lines`, each followed by its error (one line, indented) when it has one.
fn with_errors(lines: Vec<String>, errors: Vec<Option<String>>) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for (line, error) in lines.into_iter().zip(errors) {
        out.push(line);
        if let Some(error) = error {
            out.push(format!(
                "    last error: {}",
                error.replace(['\n', '\r'], " ")
            ));
        }
    }
    out
}

pub(crate) fn align(rows: &[Vec<String>], right: &[usize]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| display_width(cell))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    // Padded by display width: `format!` pads by characters.
                    let pad = " ".repeat(widths[c].saturating_sub(display_width(cell)));
                    if right.contains(&c) {
                        format!("{pad}{cell}")
                    } else {
                        format!("{cell}{pad}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// A sequence number, shortened to its last digits (where records of a shard differ).
fn short(sequence_number: &str) -> String {
    const KEEP: usize = 10;
    let digits = sequence_number.chars().count();
    if digits <= KEEP {
        return sequence_number.to_owned();
    }
    let tail: String = sequence_number.chars().skip(digits - KEEP).collect();
    format!("…{tail}")
}

/// Milliseconds for people: `850ms`, `4.2s`, `3m07s`, `2h05m`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1_000.0),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms / 1_000 % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

// ---------------------------------------------------------------------------------------------
// What the status shows, read from the mappings.

/// A Kinesis mapping as the status shows it.
pub(crate) struct KinesisView {
    id: String,
    state: String,
    polled: u64,
    invocations: u64,
    invoked_records: u64,
    errors: u64,
    throttles: u64,
    retries: u64,
    bisects: u64,
    sent_to_destination: u64,
    dropped: u64,
    filtered: u64,
    last_error: Option<String>,
    shards: Vec<ShardView>,
}

/// One shard of a Kinesis mapping.
pub(crate) struct ShardView {
    id: String,
    state: &'static str,
    status: ShardStatus,
}

impl KinesisView {
    pub(crate) fn new(id: &str, state: &str, metrics: &KinesisMetrics) -> Self {
        let disabled = matches!(state, "Disabled" | "Disabling");
        let shards = metrics
            .shards()
            .into_iter()
            .map(|(shard, status)| {
                let shard_state = if status.finished {
                    "finished"
                } else if disabled && status.in_flight == 0 {
                    "stopped"
                } else if status.in_flight > 0 {
                    "invoking"
                } else if status.retry_pending {
                    "retrying"
                } else if status.read_failing {
                    "read error"
                } else if status.buffered > 0 {
                    "batching"
                } else {
                    "polling"
                };
                ShardView {
                    id: shard,
                    state: shard_state,
                    status,
                }
            })
            .collect();
        Self {
            id: id.to_owned(),
            state: state.to_owned(),
            polled: KinesisMetrics::get(&metrics.polled),
            invocations: KinesisMetrics::get(&metrics.invocations),
            invoked_records: KinesisMetrics::get(&metrics.invoked_records),
            errors: KinesisMetrics::get(&metrics.errors),
            throttles: KinesisMetrics::get(&metrics.throttles),
            retries: KinesisMetrics::get(&metrics.retries),
            bisects: KinesisMetrics::get(&metrics.bisects),
            sent_to_destination: KinesisMetrics::get(&metrics.sent_to_destination),
            dropped: KinesisMetrics::get(&metrics.dropped),
            filtered: KinesisMetrics::get(&metrics.filtered),
            last_error: metrics.last_error().map(|(_, shard, error)| {
                if shard.is_empty() {
                    error
                } else {
                    format!("{shard}: {error}")
                }
            }),
            shards,
        }
    }

    pub(crate) fn line(&self) -> String {
        let shards: Vec<String> = self
            .shards
            .iter()
            .map(|view| {
                let mut text = format!("{} {}", view.id, view.state);
                let s = &view.status;
                if let Some(position) = &s.position {
                    text.push_str(&format!(" at {}", short(position.as_str())));
                }
                if let Some(checkpoint) = &s.checkpoint {
                    text.push_str(&format!(" checkpoint {}", short(checkpoint.as_str())));
                }
                if s.caught_up {
                    text.push_str(" caught up");
                } else if let Some(age) = s.iterator_age_ms {
                    text.push_str(&format!(" age {age} ms"));
                }
                if s.buffered > 0 || s.in_flight > 0 {
                    text.push_str(&format!(
                        " buffered {} in flight {}",
                        s.buffered, s.in_flight
                    ));
                }
                text
            })
            .collect();
        format!(
            "{} [{}] polled {} invoked {}× ({} records) errors {} throttles {} retries {} bisects {} to destination {} dropped {} filtered {}{}{}",
            self.id,
            self.state,
            self.polled,
            self.invocations,
            self.invoked_records,
            self.errors,
            self.throttles,
            self.retries,
            self.bisects,
            self.sent_to_destination,
            self.dropped,
            self.filtered,
            if shards.is_empty() {
                String::new()
            } else {
                format!("; {}", shards.join(", "))
            },
            self.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default(),
        )
    }

    pub(crate) fn json(&self) -> Value {
        let ages: BTreeMap<&str, u64> = self
            .shards
            .iter()
            .filter_map(|s| Some((s.id.as_str(), s.status.iterator_age_ms?)))
            .collect();
        let shards: serde_json::Map<String, Value> = self
            .shards
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    json!({
                        "state": s.state,
                        "position": s.status.position,
                        "checkpoint": s.status.checkpoint,
                        "iterator_age_ms": s.status.iterator_age_ms,
                        "caught_up": s.status.caught_up,
                        "buffered": s.status.buffered,
                        "in_flight": s.status.in_flight,
                        "invocations": s.status.invocations,
                        "errors": s.status.errors,
                        "throttles": s.status.throttles,
                        "retries": s.status.retries,
                        "bisects": s.status.bisects,
                        "sent_to_destination": s.status.sent_to_destination,
                        "dropped": s.status.dropped,
                        "filtered": s.status.filtered,
                        "last_error": s.status.last_error.as_ref().map(|(_, e)| e),
                    }),
                )
            })
            .collect();
        json!({
            "event": "status",
            "mapping": self.id,
            "state": self.state,
            "polled": self.polled,
            "invocations": self.invocations,
            "invoked_records": self.invoked_records,
            "errors": self.errors,
            "throttles": self.throttles,
            "retries": self.retries,
            "bisects": self.bisects,
            "sent_to_destination": self.sent_to_destination,
            "dropped": self.dropped,
            "filtered": self.filtered,
            "iterator_age_ms": ages,
            "last_error": self.last_error,
            "shards": shards,
        })
    }
}

/// An SQS mapping as the status shows it.
pub(crate) struct QueueView {
    id: String,
    state: &'static str,
    pollers: usize,
    target_pollers: usize,
    in_flight: usize,
    received: u64,
    invocations: u64,
    invoked_messages: u64,
    deleted: u64,
    failed: u64,
    filtered: u64,
    errors: u64,
    throttles: u64,
    oldest_message_age_ms: u64,
    last_error: Option<String>,
}

impl QueueView {
    pub(crate) fn new(
        id: &str,
        state: &'static str,
        metrics: &riffle_runtime::SqsMetrics,
        target_pollers: usize,
    ) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        Self {
            id: id.to_owned(),
            state,
            pollers: metrics.pollers.load(Relaxed),
            target_pollers,
            in_flight: metrics.in_flight.load(Relaxed),
            received: metrics.polled.load(Relaxed),
            invocations: metrics.invocations.load(Relaxed),
            invoked_messages: metrics.invoked_messages.load(Relaxed),
            deleted: metrics.deleted.load(Relaxed),
            failed: metrics.failed.load(Relaxed),
            filtered: metrics.filtered.load(Relaxed),
            errors: metrics.errors.load(Relaxed),
            throttles: metrics.throttles.load(Relaxed),
            oldest_message_age_ms: metrics.oldest_message_age_ms.load(Relaxed),
            last_error: metrics.last_error().map(|(_, error)| error),
        }
    }

    pub(crate) fn line(&self) -> String {
        format!(
            "{} [SQS {}] pollers {} received {} invoked {}× ({} messages) deleted {} failed {} filtered {} errors {} throttles {}; in flight {}; oldest message {} ms{}",
            self.id,
            self.state,
            self.pollers,
            self.received,
            self.invocations,
            self.invoked_messages,
            self.deleted,
            self.failed,
            self.filtered,
            self.errors,
            self.throttles,
            self.in_flight,
            self.oldest_message_age_ms,
            self.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default(),
        )
    }

    pub(crate) fn json(&self) -> Value {
        json!({
            "event": "status",
            "mapping": self.id,
            "state": self.state,
            "pollers": self.pollers,
            "target_pollers": self.target_pollers,
            "in_flight": self.in_flight,
            "received": self.received,
            "invocations": self.invocations,
            "invoked_messages": self.invoked_messages,
            "deleted": self.deleted,
            "failed": self.failed,
            "filtered": self.filtered,
            "errors": self.errors,
            "throttles": self.throttles,
            "oldest_message_age_ms": self.oldest_message_age_ms,
            "last_error": self.last_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_and_shortens_sequence_numbers() {
        let mapping = KinesisView {
            id: "Orders".into(),
            state: "Enabled".into(),
            polled: 12,
            invocations: 4,
            invoked_records: 12,
            errors: 1,
            throttles: 7,
            retries: 1,
            bisects: 0,
            sent_to_destination: 0,
            dropped: 0,
            filtered: 0,
            last_error: Some("shardId-000000000000: Function.Error".into()),
            shards: vec![ShardView {
                id: "shardId-000000000000".into(),
                state: "polling",
                status: ShardStatus {
                    position: Some(
                        riffle_core::sequence::SequenceNumber::parse(
                            "49590338271490256608559692538361571095921575989136588898",
                        )
                        .unwrap(),
                    ),
                    checkpoint: Some(
                        riffle_core::sequence::SequenceNumber::parse(
                            "49590338271490256608559692538361571095921575989136588898",
                        )
                        .unwrap(),
                    ),
                    iterator_age_ms: Some(1_500),
                    in_flight: 1,
                    invocations: 4,
                    errors: 1,
                    throttles: 7,
                    retries: 1,
                    last_error: Some((1, "Function.Error".into())),
                    ..ShardStatus::default()
                },
            }],
        };
        let queue = QueueView {
            id: "Failures".into(),
            state: "polling",
            pollers: 5,
            target_pollers: 5,
            in_flight: 0,
            received: 0,
            invocations: 0,
            invoked_messages: 0,
            deleted: 0,
            failed: 0,
            filtered: 0,
            errors: 0,
            throttles: 3,
            oldest_message_age_ms: 0,
            last_error: None,
        };
        let lines = table(&[mapping], &[queue]);
        assert_eq!(lines.len(), 7, "{lines:#?}");
        assert!(lines[0].starts_with("KINESIS MAPPING / SHARD  STATE"));
        assert!(
            lines[2].ends_with("…9136588898  …9136588898"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("1.5s"), "{}", lines[2]);
        assert_eq!(
            lines[3], "    last error: Function.Error",
            "the error on a line of its own, under its shard"
        );
        // Columns line up: STATE starts at the same place in every row.
        let at = lines[0].find("STATE").unwrap();
        assert_eq!(&lines[1][at..at + 7], "Enabled");
        assert_eq!(&lines[2][at..at + 7], "polling");
        // Counts are right-aligned under their headers.
        let end_of = |line: &str, header: &str| line.find(header).unwrap() + header.len();
        let errors_end = end_of(&lines[0], "ERRORS");
        assert_eq!(&lines[2][errors_end - 1..errors_end], "1");
        // Throttled invocations have a column of their own, per mapping and per shard.
        let throttles_end = end_of(&lines[0], "THROTTLES");
        assert_eq!(&lines[1][throttles_end - 1..throttles_end], "7");
        assert_eq!(&lines[2][throttles_end - 1..throttles_end], "7");
        assert_eq!(lines[4], "");
        assert!(lines[5].starts_with("SQS MAPPING  STATE    POLLERS"));
        assert!(lines[6].starts_with("Failures"), "{}", lines[6]);
        let throttles_end = end_of(&lines[5], "THROTTLES");
        assert_eq!(&lines[6][throttles_end - 1..throttles_end], "3");
    }

    fn kinesis_view(shards: Vec<(&str, ShardStatus)>) -> KinesisView {
        KinesisView {
            id: "Orders".into(),
            state: "Enabled".into(),
            polled: 0,
            invocations: 0,
            invoked_records: 0,
            errors: 0,
            throttles: 0,
            retries: 0,
            bisects: 0,
            sent_to_destination: 0,
            dropped: 0,
            filtered: 0,
            last_error: None,
            shards: shards
                .into_iter()
                .map(|(id, status)| ShardView {
                    id: id.into(),
                    state: "polling",
                    status,
                })
                .collect(),
        }
    }

    #[test]
    fn a_caught_up_shard_shows_caught_up_not_its_last_batchs_age() {
        let caught_up = ShardStatus {
            iterator_age_ms: Some(0),
            caught_up: true,
            ..ShardStatus::default()
        };
        let behind = ShardStatus {
            iterator_age_ms: Some(4_200),
            ..ShardStatus::default()
        };
        let lines = table(
            &[kinesis_view(vec![
                ("shardId-000000000000", caught_up.clone()),
                ("shardId-000000000001", behind),
            ])],
            &[],
        );
        // AGE is right-aligned: read each row up to the header's end.
        let age = lines[0].find("AGE").unwrap() + "AGE".len();
        assert!(lines[1][..age].ends_with(" 4.2s"), "{lines:#?}");
        assert!(lines[2][..age].ends_with(" caught up"), "{lines:#?}");
        assert!(lines[3][..age].ends_with(" 4.2s"), "{lines:#?}");
        // Every open shard caught up: so is the mapping.
        let finished = ShardStatus {
            iterator_age_ms: Some(9_000),
            finished: true,
            ..ShardStatus::default()
        };
        let view = kinesis_view(vec![
            ("shardId-000000000000", finished),
            ("shardId-000000000001", caught_up),
        ]);
        let lines = table(std::slice::from_ref(&view), &[]);
        let age = lines[0].find("AGE").unwrap() + "AGE".len();
        assert!(lines[1][..age].ends_with(" caught up"), "{lines:#?}");
        assert!(
            view.line()
                .contains("shardId-000000000001 polling caught up")
        );
        assert_eq!(
            view.json()["shards"]["shardId-000000000001"]["caught_up"],
            true
        );
    }

    #[test]
    fn columns_align_by_display_width() {
        let lines = align(
            &[
                vec!["ID".into(), "STATE".into()],
                vec!["注文".into(), "ok".into()],
                vec!["a\u{1b}[1mb\u{1b}[0m".into(), "ok".into()],
            ],
            &[],
        );
        assert_eq!(
            lines,
            ["ID    STATE", "注文  ok", "a\u{1b}[1mb\u{1b}[0m    ok"]
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_200), "4.2s");
        assert_eq!(duration(187_000), "3m07s");
        assert_eq!(duration(7_500_000), "2h05m");
    }
}
