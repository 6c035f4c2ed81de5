//! The SQS section: Riffle's SQS emulator beside moto_server, same client, same run.
//!
//! moto gets fewer messages than Riffle. Both slow down as the queue fills (see
//! docs/benchmarks.md), so besides "each at its own amount" the section also compares both at
//! moto's amount: Riffle runs that amount too, as the `-matched` cases.

use std::fmt::Write as _;

use serde_json::Value;

use super::{PER_CPU_SECOND, cores, fmt_ratio, fmt_value, number, runs};

/// Riffle ÷ moto must reach this.
const TARGET_RATIO: f64 = 20.0;

/// One row: Riffle's case and moto's case of the same workload.
struct Row {
    what: &'static str,
    riffle_case: &'static str,
    moto_case: &'static str,
}

const ROWS: [Row; 4] = [
    Row {
        what: "SendMessageBatch, 10 × 100 B per call, 4 producers",
        riffle_case: "sqs-send",
        moto_case: "sqs-send",
    },
    Row {
        what: "ReceiveMessage (10) + DeleteMessageBatch, 4 consumers",
        riffle_case: "sqs-drain",
        moto_case: "sqs-drain",
    },
    Row {
        what: "SendMessageBatch, 10 × 100 B per call, 4 producers",
        riffle_case: "sqs-send-matched",
        moto_case: "sqs-send",
    },
    Row {
        what: "ReceiveMessage (10) + DeleteMessageBatch, 4 consumers",
        riffle_case: "sqs-drain-matched",
        moto_case: "sqs-drain",
    },
];

/// Messages one case moved (what it was asked to send, or expected to drain), from its first run.
fn amount(results: &[Value], emulator: &str, case: &str) -> Option<f64> {
    let first = runs(results, emulator, case).into_iter().next()?;
    first
        .get("messages_sent")
        .or_else(|| first.get("expected"))?
        .as_f64()
}

/// The SQS section: summary with ratios, the same per emulator CPU-second, then every run.
pub(super) fn render(results: &[Value]) -> String {
    let mut out = table(results, &ROWS, "messages_per_sec", "messages/s");
    out.push_str(
        "\nThe same per second of the emulator's own CPU time (messages divided by the \
         emulator's user + system CPU over the measurement), which other load on the machine \
         disturbs far less; only for each emulator's own amount, since Riffle's matched runs \
         last a few CPU ticks (10 ms each):\n\n",
    );
    out.push_str(&table(
        results,
        &ROWS[..2],
        PER_CPU_SECOND,
        "messages per emulator CPU-second",
    ));
    out.push('\n');
    out.push_str(&details(results));
    out
}

fn table(results: &[Value], rows: &[Row], field: &str, unit: &str) -> String {
    let mut out = String::from(
        "| Metric | Riffle | moto | Riffle ÷ moto | Target | Met |\n\
         | --- | ---: | ---: | ---: | --- | --- |\n",
    );
    for row in rows {
        let riffle = number(results, "riffle", row.riffle_case, field);
        let moto = number(results, "moto", row.moto_case, field);
        if riffle.is_none() && moto.is_none() {
            continue;
        }
        let ratio = match (riffle, moto) {
            (Some(r), Some(m)) if m > 0.0 => Some(r / m),
            _ => None,
        };
        let met = match ratio {
            Some(r) if r >= TARGET_RATIO => "yes",
            Some(_) => "**no**",
            None => "n/a",
        };
        let riffle_amount = amount(results, "riffle", row.riffle_case);
        let moto_amount = amount(results, "moto", row.moto_case);
        let amounts = if riffle_amount == moto_amount {
            format!("both {} messages", fmt_value(riffle_amount, 0))
        } else {
            format!(
                "Riffle {} messages, moto {}",
                fmt_value(riffle_amount, 0),
                fmt_value(moto_amount, 0)
            )
        };
        writeln!(
            out,
            "| {}; {amounts} ({unit}) | {} | {} | {} | ≥ {TARGET_RATIO}× moto | {met} |",
            row.what,
            fmt_value(riffle, 0),
            fmt_value(moto, 0),
            fmt_ratio(ratio),
        )
        .expect("writing to a String");
    }
    out
}

fn details(results: &[Value]) -> String {
    let mut out = String::from(
        "Every run (the summary takes the median; a send counts the entries the emulator \
         reported successful, a drain the distinct messages it received and deleted; MD5 \
         mismatches compare each MD5OfMessageBody with the body):\n\n\
         | Emulator | Case | Messages | Failed / missing | Duplicates received | MD5 mismatches \
         | Calls | Wall (s) | Messages/s | Emulator CPU (cores) | Client CPU (cores) |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let cases = [
        "sqs-send-matched",
        "sqs-drain-matched",
        "sqs-send",
        "sqs-drain",
    ];
    for (key, name) in [("riffle", "Riffle"), ("moto", "moto")] {
        for case in cases {
            for (run, r) in runs(results, key, case).into_iter().enumerate() {
                let messages = r.get("messages_ok").or_else(|| r.get("messages"));
                let lost = r.get("failed").or_else(|| r.get("missing"));
                let calls = match (r["calls"].as_f64(), r["receive_calls"].as_f64()) {
                    (Some(calls), _) => fmt_value(Some(calls), 0),
                    (None, Some(receives)) => format!(
                        "{} + {}",
                        fmt_value(Some(receives), 0),
                        fmt_value(r["delete_calls"].as_f64(), 0)
                    ),
                    _ => "—".to_owned(),
                };
                writeln!(
                    out,
                    "| {name} | {case} #{} | {} | {} | {} | {} | {calls} | {} | {} | {} | {} |",
                    run + 1,
                    fmt_value(messages.and_then(Value::as_f64), 0),
                    fmt_value(lost.and_then(Value::as_f64), 0),
                    fmt_value(r["duplicates"].as_f64(), 0),
                    fmt_value(r["md5_mismatches"].as_f64(), 0),
                    fmt_value(r["elapsed_ms"].as_f64().map(|ms| ms / 1000.0), 2),
                    fmt_value(r["messages_per_sec"].as_f64(), 0),
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
    fn ratios_of_each_amount_and_of_the_matched_amount() {
        let results = vec![
            json!({"emulator": "riffle", "case": "sqs-send", "messages_sent": 50_000, "messages_ok": 50_000, "messages_per_sec": 20_000.0, "server_cpu_ms": 2_000}),
            json!({"emulator": "riffle", "case": "sqs-send-matched", "messages_sent": 500, "messages_ok": 500, "messages_per_sec": 30_000.0}),
            json!({"emulator": "moto", "case": "sqs-send", "messages_sent": 500, "messages_ok": 500, "messages_per_sec": 100.0, "server_cpu_ms": 5_000}),
        ];
        let text = render(&results);
        assert!(
            text.contains("Riffle 50,000 messages, moto 500 (messages/s) | 20,000 | 100 | 200.0× | ≥ 20× moto | yes |"),
            "{text}"
        );
        assert!(
            text.contains("both 500 messages (messages/s) | 30,000 | 100 | 300.0×"),
            "{text}"
        );
        assert!(
            text.contains("(messages per emulator CPU-second) | 25,000 | 100 | 250.0×"),
            "{text}"
        );
        assert!(
            !text.contains("DeleteMessageBatch, 4 consumers; "),
            "no drain rows without drain results"
        );
        assert!(text.contains("| moto | sqs-send #1 | 500 |"), "{text}");
    }
}
