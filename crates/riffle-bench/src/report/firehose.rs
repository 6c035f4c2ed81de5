//! The Firehose section: PutRecordBatch → S3 objects, Riffle (delivery wired in riffle-bench)
//! beside moto_server where moto can run the case (no processor), Riffle alone with a
//! transformation.
//!
//! The issue that asked for it sets no target, so the section shows numbers and the ratio
//! without holding them to one; every run's loss counts are shown beside its rate.

use std::fmt::Write as _;

use serde_json::Value;

use super::{cores, fmt_ratio, fmt_value, number, runs};

/// One row: Riffle's case, and moto's case beside it (moto runs no transformation).
struct Row {
    what: &'static str,
    case: &'static str,
    peer: Option<&'static str>,
}

const ROWS: [Row; 3] = [
    Row {
        what: "PutRecordBatch → S3, no processor",
        case: "firehose-direct",
        peer: Some("firehose-direct"),
    },
    Row {
        what: "PutRecordBatch → S3, no processor, moto's amount",
        case: "firehose-direct-matched",
        peer: Some("firehose-direct"),
    },
    Row {
        what: "PutRecordBatch → Lambda transformation → S3",
        case: "firehose-transform",
        peer: None,
    },
];

/// The summary (records/s and MiB/s, medians, with the ratio to moto), then every run.
pub(super) fn render(results: &[Value]) -> String {
    let mut out = String::from(
        "| Workload | Riffle records/s | moto records/s | Riffle ÷ moto | Riffle MiB/s | moto MiB/s |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in &ROWS {
        let riffle_of = |field| number(results, "riffle", row.case, field);
        let moto_of = |field| {
            row.peer
                .and_then(|peer| number(results, "moto", peer, field))
        };
        let (riffle, moto) = (riffle_of("records_per_sec"), moto_of("records_per_sec"));
        if riffle.is_none() && moto.is_none() {
            continue;
        }
        let ratio = match (riffle, moto) {
            (Some(r), Some(m)) if m > 0.0 => Some(r / m),
            _ => None,
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.what,
            fmt_value(riffle, 0),
            fmt_value(moto, 0),
            fmt_ratio(ratio),
            fmt_value(riffle_of("mib_per_sec"), 1),
            fmt_value(moto_of("mib_per_sec"), 1),
        )
        .expect("writing to a String");
    }
    out.push_str(
        "\nEvery run (the summary takes the median; after the clock stops every object is read \
         back and cut into records, so a lost, duplicated or mangled record is counted here):\n\n\
         | Emulator | Case | Records in S3 | Missing | Duplicates | Malformed | Objects \
         | Invocations | Put (s) | Wall (s) | Records/s | Emulator CPU (cores) | Client CPU (cores) |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (key, name) in [("riffle", "Riffle"), ("moto", "moto")] {
        for row in ROWS
            .iter()
            .filter(|row| key == "riffle" || row.peer == Some(row.case))
        {
            for (run, r) in runs(results, key, row.case).into_iter().enumerate() {
                let count = |field: &str| fmt_value(r[field].as_f64(), 0);
                let secs = |field: &str| fmt_value(r[field].as_f64().map(|ms| ms / 1000.0), 2);
                writeln!(
                    out,
                    "| {name} | {} #{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    row.case,
                    run + 1,
                    count("records_ok"),
                    count("missing"),
                    count("duplicates"),
                    count("malformed"),
                    count("objects"),
                    count("invocations"),
                    secs("put_ms"),
                    secs("elapsed_ms"),
                    count("records_per_sec"),
                    cores(r, "server_cpu_ms"),
                    cores(r, "client_cpu_ms"),
                )
                .expect("writing to a String");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ratio_to_moto_and_every_runs_losses() {
        let results = vec![
            json!({"emulator": "riffle", "case": "firehose-direct", "records_ok": 1000, "missing": 0, "records_per_sec": 50000.0, "mib_per_sec": 48.8}),
            json!({"emulator": "moto", "case": "firehose-direct", "records_ok": 990, "missing": 10, "records_per_sec": 5000.0, "mib_per_sec": 4.9}),
            json!({"emulator": "riffle", "case": "firehose-transform", "records_ok": 1000, "missing": 0, "records_per_sec": 20000.0}),
        ];
        let text = render(&results);
        assert!(
            text.contains(
                "| PutRecordBatch → S3, no processor | 50,000 | 5,000 | 10.0× | 48.8 | 4.9 |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| PutRecordBatch → Lambda transformation → S3 | 20,000 | — | — |"),
            "{text}"
        );
        assert!(
            text.contains("| moto | firehose-direct #1 | 990 | 10 |"),
            "{text}"
        );
    }
}
