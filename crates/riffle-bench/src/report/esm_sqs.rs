//! The SQS mapping section: messages/s from SendMessageBatch to a no-op handler, against the
//! issue's absolute target (there is no peer).

use std::fmt::Write as _;

use serde_json::Value;

use super::{cores, fmt_value, number, run_cells, runs, table_row};

/// End-to-end messages/s a standard queue must reach.
const STANDARD_TARGET: f64 = 50_000.0;

/// The cases, in table order: case, description, target in messages/s.
const CASES: [(&str, &str, Option<f64>); 5] = [
    (
        "esm-sqs-standard",
        "standard queue, live, BatchSize 10, window 0",
        Some(STANDARD_TARGET),
    ),
    (
        "esm-sqs-standard-backlog",
        "standard queue, backlog, BatchSize 10, window 0",
        Some(STANDARD_TARGET),
    ),
    (
        "esm-sqs-standard-b100",
        "standard queue, live, BatchSize 100, window 1 s",
        None,
    ),
    ("esm-sqs-fifo", "FIFO queue, live, BatchSize 10", None),
    (
        "esm-sqs-fifo-backlog",
        "FIFO queue, backlog, BatchSize 10",
        None,
    ),
];

/// The section: the summary against the target, then every run.
pub(super) fn render(results: &[Value]) -> String {
    let mut out = String::from("| Metric | Result | Target | Met |\n| --- | ---: | --- | --- |\n");
    for (case, what, target) in CASES {
        let Some(rate) = number(results, "riffle", case, "messages_per_sec") else {
            continue;
        };
        let first = runs(results, "riffle", case).into_iter().next();
        let amount = first.map_or_else(String::new, |r| {
            let groups = r["groups"].as_f64().map_or_else(String::new, |g| {
                format!(", {} groups", fmt_value(Some(g), 0))
            });
            format!(
                "; {} messages{groups}",
                fmt_value(r["records_expected"].as_f64(), 0)
            )
        });
        let (target_text, met) = match target {
            Some(t) => (
                format!("≥ {}", fmt_value(Some(t), 0)),
                if rate >= t { "yes" } else { "**no**" },
            ),
            None => (String::new(), ""),
        };
        writeln!(
            out,
            "| End to end, {what}{amount} (messages/s) | {} | {target_text} | {met} |",
            fmt_value(Some(rate), 0),
        )
        .expect("writing to a String");
    }
    out.push('\n');
    out.push_str(&details(results));
    out
}

fn details(results: &[Value]) -> String {
    let mut out = String::from(
        "Every run (the summary takes the median; live: timed from the first SendMessageBatch \
         call, backlog: from the mapping's start, both to the handler's last message; \
         \"all deleted\" is when the mapping's last DeleteMessageBatch returned):\n\n\
         | Case | Messages handled | Missing / duplicates | Send (messages/s) \
         | First invoke (ms) | Wall (s) | Messages/s | All deleted (s) | Invocations \
         | Mean batch | Receives (empty) | Peak pollers | Engine + client CPU (cores) \
         | Emulator CPU (cores) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: \
         | ---: | ---: |\n",
    );
    for (case, _, _) in CASES {
        for (run, r) in runs(results, "riffle", case).into_iter().enumerate() {
            let head = [format!("{case} #{}", run + 1)];
            let tail = [
                fmt_value(r["deleted_elapsed_ms"].as_f64().map(|ms| ms / 1000.0), 2),
                fmt_value(r["invocations"].as_f64(), 0),
                fmt_value(r["mean_batch"].as_f64(), 1),
                format!(
                    "{} ({})",
                    fmt_value(r["mapping"]["receives"].as_f64(), 0),
                    fmt_value(r["mapping"]["empty_receives"].as_f64(), 0)
                ),
                fmt_value(r["peak_pollers"].as_f64(), 0),
                cores(r, "client_cpu_ms"),
                cores(r, "server_cpu_ms"),
            ];
            let cells = run_cells(r, "send_messages_per_sec", "messages_per_sec");
            table_row(&mut out, head.into_iter().chain(cells).chain(tail));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(case: &str, rate: f64) -> Value {
        json!({"emulator": "riffle", "case": case, "workload": "esm-sqs-throughput",
               "records_expected": 200_000, "messages_per_sec": rate, "records_handled": 200_000,
               "mapping": {"receives": 20_000, "empty_receives": 12}})
    }

    #[test]
    fn summary_checks_the_standard_target_and_lists_every_run() {
        let results = vec![
            run("esm-sqs-standard", 40_000.0),
            run("esm-sqs-standard", 60_000.0),
            run("esm-sqs-standard", 55_000.0),
            run("esm-sqs-fifo", 9_000.0),
        ];
        let text = render(&results);
        assert!(
            text.contains(
                "| End to end, standard queue, live, BatchSize 10, window 0; 200,000 messages \
                 (messages/s) | 55,000 | ≥ 50,000 | yes |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| End to end, FIFO queue, live, BatchSize 10; 200,000 messages (messages/s) | 9,000 |  |  |"),
            "{text}"
        );
        assert_eq!(text.matches("| esm-sqs-standard #").count(), 3, "{text}");
        assert!(text.contains("| 20,000 (12) |"), "{text}");
    }
}
