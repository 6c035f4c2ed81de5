//! The S3 section: Riffle's S3 beside moto_server's, same client, same run, as ratios.
//!
//! The issue that asked for it sets no target, so the section shows the ratios without holding
//! them to one.

use std::fmt::Write as _;

use serde_json::Value;

use super::{PER_CPU_SECOND, cores, fmt_ratio, fmt_value, number, runs};

/// One row: a case both emulators ran.
struct Row {
    what: &'static str,
    case: &'static str,
}

const ROWS: [Row; 4] = [
    Row {
        what: "PutObject, 64 KiB objects, 4 writers",
        case: "s3-put-64k",
    },
    Row {
        what: "GetObject, 64 KiB objects, 4 readers",
        case: "s3-get-64k",
    },
    Row {
        what: "PutObject, 1 MiB objects, 4 writers",
        case: "s3-put-1m",
    },
    Row {
        what: "GetObject, 1 MiB objects, 4 readers",
        case: "s3-get-1m",
    },
];

/// The S3 section: objects/s and MiB/s with ratios, the same per emulator CPU-second, then
/// every run.
pub(super) fn render(results: &[Value]) -> String {
    let mut out = table(results, "objects_per_sec", "objects/s");
    out.push('\n');
    out.push_str(&table(results, "mib_per_sec", "MiB/s"));
    out.push_str(
        "\nThe same per second of the emulator's own CPU time (objects divided by the \
         emulator's user + system CPU over the measurement):\n\n",
    );
    out.push_str(&table(
        results,
        PER_CPU_SECOND,
        "objects per emulator CPU-second",
    ));
    out.push('\n');
    out.push_str(&details(results));
    out
}

fn table(results: &[Value], field: &str, unit: &str) -> String {
    let mut out = String::from(
        "| Metric | Riffle | moto | Riffle ÷ moto |\n\
         | --- | ---: | ---: | ---: |\n",
    );
    for row in &ROWS {
        let riffle = number(results, "riffle", row.case, field);
        let moto = number(results, "moto", row.case, field);
        if riffle.is_none() && moto.is_none() {
            continue;
        }
        let ratio = match (riffle, moto) {
            (Some(r), Some(m)) if m > 0.0 => Some(r / m),
            _ => None,
        };
        let decimals = if field == "mib_per_sec" { 1 } else { 0 };
        writeln!(
            out,
            "| {} ({unit}) | {} | {} | {} |",
            row.what,
            fmt_value(riffle, decimals),
            fmt_value(moto, decimals),
            fmt_ratio(ratio),
        )
        .expect("writing to a String");
    }
    out
}

fn details(results: &[Value]) -> String {
    let mut out = String::from(
        "Every run (the summary takes the median; a put counts the objects S3 acknowledged and \
         checks each ETag against the body's MD5, a get checks every body byte for byte):\n\n\
         | Emulator | Case | Objects | Failed | ETag / body mismatches | Wall (s) | Objects/s \
         | MiB/s | Emulator CPU (cores) | Client CPU (cores) |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (key, name) in [("riffle", "Riffle"), ("moto", "moto")] {
        for row in &ROWS {
            for (run, r) in runs(results, key, row.case).into_iter().enumerate() {
                let mismatches = r
                    .get("etag_mismatches")
                    .or_else(|| r.get("body_mismatches"));
                writeln!(
                    out,
                    "| {name} | {} #{} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    row.case,
                    run + 1,
                    fmt_value(r["objects_ok"].as_f64(), 0),
                    fmt_value(r["failed"].as_f64(), 0),
                    fmt_value(mismatches.and_then(Value::as_f64), 0),
                    fmt_value(r["elapsed_ms"].as_f64().map(|ms| ms / 1000.0), 2),
                    fmt_value(r["objects_per_sec"].as_f64(), 0),
                    fmt_value(r["mib_per_sec"].as_f64(), 1),
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
    fn ratios_of_both_emulators_per_workload() {
        let results = vec![
            json!({"emulator": "riffle", "case": "s3-put-64k", "objects_ok": 2000, "objects_per_sec": 4000.0, "mib_per_sec": 250.0, "server_cpu_ms": 1000}),
            json!({"emulator": "moto", "case": "s3-put-64k", "objects_ok": 2000, "objects_per_sec": 400.0, "mib_per_sec": 25.0, "server_cpu_ms": 4000}),
            json!({"emulator": "moto", "case": "s3-get-64k", "objects_ok": 1990, "failed": 10, "body_mismatches": 0, "objects_per_sec": 500.0}),
        ];
        let text = render(&results);
        assert!(
            text.contains(
                "| PutObject, 64 KiB objects, 4 writers (objects/s) | 4,000 | 400 | 10.0× |"
            ),
            "{text}"
        );
        assert!(text.contains("(MiB/s) | 250.0 | 25.0 | 10.0× |"), "{text}");
        assert!(
            text.contains("(objects per emulator CPU-second) | 2,000 | 500 | 4.00× |"),
            "{text}"
        );
        assert!(
            text.contains("| GetObject, 64 KiB objects, 4 readers (objects/s) | — | 500 | — |"),
            "{text}"
        );
        assert!(
            text.contains("| moto | s3-get-64k #1 | 1,990 | 10 | 0 |"),
            "{text}"
        );
        assert!(!text.contains("1 MiB objects"), "no rows without results");
    }
}
