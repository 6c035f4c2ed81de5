//! The mapping engine section: absolute numbers against the targets (there is no peer).

use std::fmt::Write as _;

use serde_json::Value;

use super::{cores, fmt_value, number, run_cells, table_row};

/// End-to-end records/s the engine must reach.
const THROUGHPUT_TARGET: f64 = 100_000.0;
/// p99 put→invoke may exceed the idle poll interval by at most this (ms).
const LATENCY_SLACK_MS: f64 = 10.0;
/// AWS's documented typical put→invoke latency through an enhanced fan-out consumer (ms); the
/// issue asks for far lower.
const FANOUT_AWS_MS: f64 = 70.0;
/// The idle poll interval of a mapping that polls by default (ms).
const DEFAULT_IDLE_POLL_MS: f64 = 200.0;
/// A point scales linearly if it reaches this share of (1-lane rate × lanes).
const LINEAR_SHARE: f64 = 0.8;

/// The throughput cases, in table order: case, description.
const THROUGHPUT: [(&str, &str); 4] = [
    ("esm-live-pf1", "live, ParallelizationFactor 1"),
    ("esm-live-pf10", "live, ParallelizationFactor 10"),
    ("esm-backlog-pf1", "backlog, ParallelizationFactor 1"),
    ("esm-backlog-pf10", "backlog, ParallelizationFactor 10"),
];

/// Results of `esm` cases, in run order.
fn of_case<'a>(results: &'a [Value], case: &str) -> Vec<&'a Value> {
    results.iter().filter(|r| r["case"] == case).collect()
}

/// Whether a latency run read through an enhanced fan-out consumer (not by polling).
fn through_consumer(r: &Value) -> bool {
    r["read"] == "consumer"
}

/// The latency results: polling runs, largest idle poll first, then runs through a consumer.
fn latencies(results: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = results
        .iter()
        .filter(|r| r["workload"] == "esm-latency")
        .collect();
    out.sort_by(|a, b| {
        let ip = |r: &Value| r["idle_poll_ms"].as_f64().unwrap_or(0.0);
        through_consumer(a)
            .cmp(&through_consumer(b))
            .then(ip(b).total_cmp(&ip(a)))
    });
    out
}

/// One scaling series: its case name and its points, fewest lanes first.
fn series(results: &[Value]) -> Vec<(String, Vec<&Value>)> {
    let mut out: Vec<(String, Vec<&Value>)> = Vec::new();
    for r in results.iter().filter(|r| r["workload"] == "esm-scale") {
        let case = r["case"].as_str().unwrap_or_default().to_owned();
        match out.iter_mut().find(|(c, _)| *c == case) {
            Some((_, points)) => points.push(r),
            None => out.push((case, vec![r])),
        }
    }
    for (_, points) in &mut out {
        points.sort_by_key(|r| r["lanes"].as_u64().unwrap_or(0));
    }
    out
}

/// The records/s of a series' one-lane point (the base of "linear").
fn one_lane(points: &[&Value]) -> Option<f64> {
    points
        .iter()
        .find(|r| r["lanes"].as_u64() == Some(1))
        .and_then(|r| r["records_per_sec"].as_f64())
}

/// Whether every point of a series reaches [`LINEAR_SHARE`] of linear growth from one lane.
fn linear(points: &[&Value]) -> Option<bool> {
    let base = one_lane(points)?;
    Some(points.iter().all(|r| {
        let lanes = r["lanes"].as_f64().unwrap_or(0.0);
        r["records_per_sec"].as_f64().unwrap_or(0.0) >= LINEAR_SHARE * base * lanes
    }))
}

fn met(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "n/a",
    }
}

/// The engine section: summary against the targets, then the scaling table and every run.
pub(super) fn render(results: &[Value]) -> String {
    let mut out = String::from("| Metric | Result | Target | Met |\n| --- | ---: | --- | --- |\n");
    for (case, what) in THROUGHPUT {
        let Some(rate) = number(results, "riffle", case, "records_per_sec") else {
            continue;
        };
        let first = of_case(results, case).into_iter().next();
        let setup = first.map_or_else(String::new, |r| {
            format!(
                "{} shards, BatchSize {}, {} records",
                fmt_value(r["shards"].as_f64(), 0),
                fmt_value(r["batch_size"].as_f64(), 0),
                fmt_value(r["records_expected"].as_f64(), 0),
            )
        });
        writeln!(
            out,
            "| End to end, {what}; {setup} (records/s) | {} | ≥ {} | {} |",
            fmt_value(Some(rate), 0),
            fmt_value(Some(THROUGHPUT_TARGET), 0),
            met(Some(rate >= THROUGHPUT_TARGET)),
        )
        .expect("writing to a String");
    }
    for r in latencies(results) {
        let rate = fmt_value(r["target_rate"].as_f64(), 0);
        let p99 = r["p99_ms"].as_f64();
        let complete = r["complete"] == true;
        let (how, limit, why) = if through_consumer(r) {
            (
                "through a consumer (SubscribeToShard)".to_owned(),
                FANOUT_AWS_MS,
                "AWS's typical fan-out latency".to_owned(),
            )
        } else {
            let idle = r["idle_poll_ms"].as_f64().unwrap_or(0.0);
            (
                format!("idle poll {idle} ms"),
                idle + LATENCY_SLACK_MS,
                format!("idle poll + {LATENCY_SLACK_MS}"),
            )
        };
        writeln!(
            out,
            "| Put→invoke p50 at {rate} records/s, {how} (ms) | {} |  |  |\n\
             | Put→invoke p99 at {rate} records/s, {how} (ms) | {} | ≤ {limit} ms ({why}) | {} |",
            fmt_value(r["p50_ms"].as_f64(), 1),
            fmt_value(p99, 1),
            met(p99.map(|p| p <= limit && complete)),
        )
        .expect("writing to a String");
    }
    if let Some(ratio) = fanout_speedup(results) {
        writeln!(
            out,
            "| Put→invoke p50, polling at the default {DEFAULT_IDLE_POLL_MS} ms ÷ through a \
             consumer | {ratio:.1}× | > 1× | {} |",
            met(Some(ratio > 1.0)),
        )
        .expect("writing to a String");
    }
    for (case, points) in series(results) {
        let lanes: Vec<String> = points
            .iter()
            .map(|r| fmt_value(r["lanes"].as_f64(), 0))
            .collect();
        let worst = one_lane(&points).and_then(|base| {
            points
                .iter()
                .filter_map(|r| {
                    let lanes = r["lanes"].as_f64()?;
                    Some(r["records_per_sec"].as_f64()? / (base * lanes))
                })
                .min_by(f64::total_cmp)
        });
        writeln!(
            out,
            "| Scaling, {} series, shards × PF = {}; lowest share of linear | {} | each ≥ {:.0} % \
             of linear | {} |",
            case.trim_start_matches("esm-scale-"),
            lanes.join(", "),
            worst.map_or_else(|| "—".to_owned(), |w| format!("{:.0} %", w * 100.0)),
            LINEAR_SHARE * 100.0,
            met(linear(&points)),
        )
        .expect("writing to a String");
    }
    out.push('\n');
    out.push_str(&scaling(results));
    out.push_str(&throughput_details(results));
    out.push_str(&latency_details(results));
    out
}

fn scaling(results: &[Value]) -> String {
    let all = series(results);
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Scaling with a handler that sleeps per invocation (records/s between 20 % and 80 % of \
         the backlog handled; linear = the series' 1-lane rate × lanes; ideal = lanes × BatchSize \
         ÷ sleep):\n\n\
         | Series | Shards | PF | Shards × PF | Backlog | Records/s | Whole drain (records/s) \
         | × 1 lane | Share of linear | Share of ideal | Invocations | Mean batch \
         | Engine + client CPU (cores) | Emulator CPU (cores) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: \
         | ---: |\n",
    );
    for (case, points) in all {
        let base = one_lane(&points);
        for r in points {
            let rate = r["records_per_sec"].as_f64();
            let lanes = r["lanes"].as_f64();
            let times = rate.zip(base).map(|(r, b)| r / b);
            let share = times.zip(lanes).map(|(t, l)| t / l * 100.0);
            let cells = [
                case.trim_start_matches("esm-scale-").to_owned(),
                fmt_value(r["shards"].as_f64(), 0),
                fmt_value(r["parallelization_factor"].as_f64(), 0),
                fmt_value(lanes, 0),
                fmt_value(r["records_expected"].as_f64(), 0),
                fmt_value(rate, 0),
                fmt_value(r["drain_records_per_sec"].as_f64(), 0),
                times.map_or_else(|| "—".to_owned(), |t| format!("{t:.1}×")),
                share.map_or_else(|| "—".to_owned(), |s| format!("{s:.0} %")),
                r["efficiency"]
                    .as_f64()
                    .map_or_else(|| "—".to_owned(), |e| format!("{:.0} %", e * 100.0)),
            ];
            table_row(&mut out, cells.into_iter().chain(batch_and_cpu_cells(r)));
        }
    }
    out.push('\n');
    out
}

/// The cells a mapping run's row ends with: invocations, mean batch, then the engine's and
/// the emulator's CPU.
fn batch_and_cpu_cells(r: &Value) -> [String; 4] {
    [
        fmt_value(r["invocations"].as_f64(), 0),
        fmt_value(r["mean_batch"].as_f64(), 1),
        cores(r, "client_cpu_ms"),
        cores(r, "server_cpu_ms"),
    ]
}

fn throughput_details(results: &[Value]) -> String {
    let mut out = String::from(
        "End-to-end throughput, every run (the summary takes the median; live: timed from the \
         first PutRecords call, backlog: from the mapping's start, both to the handler's last \
         record):\n\n\
         | Case | Records handled | Missing / duplicates | Put (records/s) | First invoke (ms) \
         | Wall (s) | Records/s | Invocations | Mean batch | Engine + client CPU (cores) \
         | Emulator CPU (cores) |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (case, _) in THROUGHPUT {
        for (run, r) in of_case(results, case).into_iter().enumerate() {
            let head = [format!("{case} #{}", run + 1)];
            let cells = run_cells(r, "put_records_per_sec", "records_per_sec");
            table_row(
                &mut out,
                head.into_iter().chain(cells).chain(batch_and_cpu_cells(r)),
            );
        }
    }
    out.push('\n');
    out
}

/// p50 of polling at the default idle poll over p50 through a consumer, both from this run.
fn fanout_speedup(results: &[Value]) -> Option<f64> {
    let all = latencies(results);
    let p50 = |r: &&Value| r["p50_ms"].as_f64();
    let consumer = all.iter().find(|r| through_consumer(r)).and_then(p50)?;
    let polling = all
        .iter()
        .find(|r| !through_consumer(r) && r["idle_poll_ms"].as_f64() == Some(DEFAULT_IDLE_POLL_MS))
        .and_then(p50)?;
    (consumer > 0.0).then(|| polling / consumer)
}

fn latency_details(results: &[Value]) -> String {
    let all = latencies(results);
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Put→invoke latency (MaximumBatchingWindowInSeconds 0, one shard, one PutRecord per \
         record; from just before PutRecord to the handler's start):\n\n\
         | Read | Idle poll (ms) | Sent | Measured | Put rate (/s) | Invocations | Mean batch \
         | Mean (ms) | p50 (ms) | p90 (ms) | p99 (ms) | Max (ms) | Engine + client CPU (cores) \
         | Emulator CPU (cores) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: \
         | ---: | ---: |\n",
    );
    for r in all {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if through_consumer(r) {
                "consumer"
            } else {
                "polling"
            },
            fmt_value(r["idle_poll_ms"].as_f64(), 0),
            fmt_value(r["records_sent"].as_f64(), 0),
            fmt_value(r["measured"].as_f64(), 0),
            fmt_value(r["achieved_rate"].as_f64(), 1),
            fmt_value(r["invocations"].as_f64(), 0),
            fmt_value(r["mean_batch"].as_f64(), 1),
            fmt_value(r["mean_ms"].as_f64(), 1),
            fmt_value(r["p50_ms"].as_f64(), 1),
            fmt_value(r["p90_ms"].as_f64(), 1),
            fmt_value(r["p99_ms"].as_f64(), 1),
            fmt_value(r["max_ms"].as_f64(), 1),
            cores(r, "client_cpu_ms"),
            cores(r, "server_cpu_ms"),
        )
        .expect("writing to a String");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn point(case: &str, shards: u64, pf: u64, rate: f64) -> Value {
        json!({"emulator": "riffle", "case": case, "workload": "esm-scale", "shards": shards,
               "parallelization_factor": pf, "lanes": shards * pf, "records_per_sec": rate})
    }

    #[test]
    fn summary_checks_the_targets() {
        let results = vec![
            json!({"emulator": "riffle", "case": "esm-live-pf1", "workload": "esm-throughput",
                   "shards": 4, "batch_size": 1000, "records_expected": 300_000, "records_per_sec": 120_000.0}),
            json!({"emulator": "riffle", "case": "esm-live-pf10", "workload": "esm-throughput",
                   "records_per_sec": 60_000.0}),
            json!({"emulator": "riffle", "case": "esm-latency-200", "workload": "esm-latency",
                   "idle_poll_ms": 200, "target_rate": 200, "p50_ms": 100.0, "p99_ms": 205.0, "complete": true}),
            json!({"emulator": "riffle", "case": "esm-latency-10", "workload": "esm-latency",
                   "idle_poll_ms": 10, "target_rate": 200, "p50_ms": 6.0, "p99_ms": 25.0, "complete": true}),
            point("esm-scale-shards", 4, 1, 3_500.0),
            point("esm-scale-shards", 1, 1, 900.0),
            point("esm-scale-shards", 16, 1, 9_000.0),
        ];
        let text = render(&results);
        assert!(
            text.contains("| End to end, live, ParallelizationFactor 1; 4 shards, BatchSize 1,000, 300,000 records (records/s) | 120,000 | ≥ 100,000 | yes |"),
            "{text}"
        );
        assert!(
            text.contains("ParallelizationFactor 10;  (records/s) | 60,000 | ≥ 100,000 | **no** |")
                || text.contains("| 60,000 | ≥ 100,000 | **no** |"),
            "{text}"
        );
        let p99 = |idle: &str| {
            text.lines()
                .find(|l| l.contains("p99") && l.contains(&format!("idle poll {idle} ms")))
                .unwrap()
                .to_owned()
        };
        assert!(p99("200").ends_with("| yes |"), "{text}");
        assert!(p99("10").ends_with("| **no** |"), "{text}");
        assert!(
            text.find("idle poll 200 ms").unwrap() < text.find("idle poll 10 ms").unwrap(),
            "largest idle poll first"
        );
        let scaling = text
            .lines()
            .find(|l| l.starts_with("| Scaling, shards series"))
            .unwrap();
        assert!(scaling.contains("= 1, 4, 16;"), "{scaling}");
        assert!(
            scaling.contains("| 62 % |") && scaling.ends_with("| **no** |"),
            "{scaling}"
        );
        assert!(
            text.contains("| shards | 4 | 1 | 4 | — | 3,500 | — | 3.9× | 97 % |"),
            "{text}"
        );
    }

    #[test]
    fn a_consumer_run_is_judged_against_awss_fan_out_latency_and_compared_with_polling() {
        let results = vec![
            json!({"emulator": "riffle", "case": "esm-latency-consumer", "workload": "esm-latency",
                   "read": "consumer", "idle_poll_ms": 200, "target_rate": 200, "p50_ms": 2.0,
                   "p99_ms": 80.0, "complete": true}),
            json!({"emulator": "riffle", "case": "esm-latency-200", "workload": "esm-latency",
                   "read": "polling", "idle_poll_ms": 200, "target_rate": 200, "p50_ms": 100.0,
                   "p99_ms": 205.0, "complete": true}),
        ];
        let text = render(&results);
        let consumer_p99 = text
            .lines()
            .find(|l| l.contains("p99") && l.contains("through a consumer"))
            .unwrap();
        assert!(
            consumer_p99.contains("| 80.0 | ≤ 70 ms (AWS's typical fan-out latency) | **no** |"),
            "{consumer_p99}"
        );
        assert!(
            text.contains(
                "polling at the default 200 ms ÷ through a consumer | 50.0× | > 1× | yes |"
            ),
            "{text}"
        );
        assert!(
            text.find("idle poll 200 ms").unwrap() < text.find("through a consumer").unwrap(),
            "polling runs first"
        );
        assert!(
            text.contains("| consumer | 200 |"),
            "the detail table names how it read"
        );
    }
}
