//! Renders the collected JSON results as markdown tables and splices them into
//! `docs/benchmarks.md` between marker comments, leaving the hand-written text alone.
//!
//! The doc has one generated section per benchmark: Kinesis (this module), SQS ([`sqs`]), the
//! Kinesis mapping engine ([`esm`]), the SQS mapping ([`esm_sqs`]), S3 ([`s3`]), Firehose
//! ([`firehose`]) and the Runtime API host ([`lambda`]). A result belongs to a section by its
//! `case` (`sqs-…`, `s3-…`, `firehose-…`, `lambda-…`, `esm-sqs-…`,
//! `esm-…`, anything else is Kinesis); only
//! sections with results are rewritten, so running a subset of the benchmark leaves the others'
//! last results in place.

mod esm;
mod esm_sqs;
mod firehose;
mod lambda;
mod s3;
mod sqs;

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// Opening marker of the generated Kinesis section.
const START: &str = "<!-- bench:results:start -->";
/// Closing marker of the generated Kinesis section.
const END: &str = "<!-- bench:results:end -->";

/// The generated sections: name (as used in `--context name/KEY=VALUE`), markers, renderer.
const SECTIONS: [Section; 7] = [
    Section {
        name: "kinesis",
        start: START,
        end: END,
        render: render_kinesis,
    },
    Section {
        name: "sqs",
        start: "<!-- bench:sqs:start -->",
        end: "<!-- bench:sqs:end -->",
        render: sqs::render,
    },
    Section {
        name: "esm",
        start: "<!-- bench:esm:start -->",
        end: "<!-- bench:esm:end -->",
        render: esm::render,
    },
    Section {
        name: "esm-sqs",
        start: "<!-- bench:esm-sqs:start -->",
        end: "<!-- bench:esm-sqs:end -->",
        render: esm_sqs::render,
    },
    Section {
        name: "s3",
        start: "<!-- bench:s3:start -->",
        end: "<!-- bench:s3:end -->",
        render: s3::render,
    },
    Section {
        name: "firehose",
        start: "<!-- bench:firehose:start -->",
        end: "<!-- bench:firehose:end -->",
        render: firehose::render,
    },
    Section {
        name: "lambda",
        start: "<!-- bench:lambda:start -->",
        end: "<!-- bench:lambda:end -->",
        render: lambda::render,
    },
];

/// One generated section of the doc.
struct Section {
    name: &'static str,
    start: &'static str,
    end: &'static str,
    render: fn(&[Value]) -> String,
}

/// The section a result belongs to, by its case.
fn section_of(result: &Value) -> &'static str {
    let case = result["case"].as_str().unwrap_or_default();
    if case.starts_with("sqs-") {
        "sqs"
    } else if case.starts_with("s3-") {
        "s3"
    } else if case.starts_with("firehose-") {
        "firehose"
    } else if case.starts_with("lambda-") {
        "lambda"
    } else if case.starts_with("esm-sqs-") {
        "esm-sqs"
    } else if case.starts_with("esm-") {
        "esm"
    } else {
        "kinesis"
    }
}

/// The emulators in table order: result key and display name. Riffle comes first; the ratios
/// divide its number by each peer's.
const EMULATORS: [(&str, &str); 3] = [
    ("riffle", "Riffle"),
    ("kinesalite", "kinesalite"),
    ("ferrokinesis", "ferrokinesis"),
];

/// Options of the `report` subcommand.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// JSON lines written by the workloads, each tagged with `emulator` and `case`.
    #[arg(long)]
    results: PathBuf,
    /// Markdown file whose section between the result markers is replaced.
    #[arg(long)]
    doc: PathBuf,
    /// `Key=value` facts about the run (date, machine, versions), listed above the tables of
    /// every rewritten section; `section/Key=value` (kinesis, sqs, esm, esm-sqs) lists it in one
    /// only.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
}

/// What a row is held to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Riffle ÷ kinesalite and Riffle ÷ ferrokinesis must reach these ratios.
    Ratios(f64, f64),
    /// Riffle's value must stay below this (in the row's unit).
    Below(f64),
}

/// One row of the summary table.
struct Row {
    label: &'static str,
    case: &'static str,
    field: &'static str,
    /// Multiplies the raw JSON value into the row's unit.
    scale: f64,
    decimals: usize,
    target: Target,
    target_text: &'static str,
}

/// What PutRecords rows are held to, and how the table says it.
const PUT_TARGET: (Target, &str) = (
    Target::Ratios(20.0, 3.0),
    "≥ 20× kinesalite, ≥ 3× ferrokinesis",
);

/// What GetRecords drain rows are held to, and how the table says it.
const DRAIN_TARGET: (Target, &str) = (
    Target::Ratios(10.0, 1.5),
    "≥ 10× kinesalite, ≥ 1.5× ferrokinesis",
);

impl Row {
    /// A rate row of `case`: `field` as it is, no decimals, held to `target`.
    const fn rate(
        label: &'static str,
        case: &'static str,
        field: &'static str,
        (target, target_text): (Target, &'static str),
    ) -> Self {
        Self {
            label,
            case,
            field,
            scale: 1.0,
            decimals: 0,
            target,
            target_text,
        }
    }

    /// A row of the latency case: `field` in ms with two decimals, held to `target`.
    const fn latency(
        label: &'static str,
        field: &'static str,
        (target, target_text): (Target, &'static str),
    ) -> Self {
        Self {
            label,
            case: "latency",
            field,
            scale: 1.0,
            decimals: 2,
            target,
            target_text,
        }
    }
}

/// No target: the row is shown, never failed.
const SHOWN: (Target, &str) = (Target::Below(f64::INFINITY), "");

const ROWS: [Row; 9] = [
    Row::rate(
        "PutRecords, 100 B records (records/s)",
        "put-100",
        "records_per_sec",
        PUT_TARGET,
    ),
    Row::rate(
        "PutRecords, 1 KiB records (records/s)",
        "put-1024",
        "records_per_sec",
        PUT_TARGET,
    ),
    Row::rate(
        "GetRecords drain, 100 B records (records/s)",
        "drain-100",
        "records_per_sec",
        DRAIN_TARGET,
    ),
    Row::rate(
        "GetRecords drain, 1 KiB records (records/s)",
        "drain-1024",
        "records_per_sec",
        DRAIN_TARGET,
    ),
    Row::latency(
        "Put→read latency p50 at 200 records/s (ms)",
        "p50_ms",
        SHOWN,
    ),
    Row::latency(
        "Put→read latency p99 at 200 records/s (ms)",
        "p99_ms",
        (Target::Below(5.0), "< 5 ms"),
    ),
    Row::latency(
        "Put→read latency max at 200 records/s (ms)",
        "max_ms",
        SHOWN,
    ),
    Row {
        label: "Start-up to first ListStreams, median (ms)",
        case: "startup",
        field: "ready_median_ms",
        scale: 1.0,
        decimals: 1,
        target: Target::Below(100.0),
        target_text: "< 100 ms",
    },
    Row {
        label: "Idle memory after one CreateStream, VmRSS (MB)",
        case: "startup",
        field: "rss_idle_kib",
        scale: 1024.0 / 1e6,
        decimals: 1,
        target: Target::Below(30.0),
        target_text: "< 30 MB",
    },
];

/// A derived field: records moved per second of the emulator's CPU time. It does not depend on
/// how many cores the emulator got, so other load on the machine disturbs it far less than
/// records/s; it leaves out the client's cost and the emulator's use of several cores.
const PER_CPU_SECOND: &str = "records_per_emulator_cpu_sec";

const EFFICIENCY_ROWS: [Row; 4] = [
    Row::rate(
        "PutRecords, 100 B records (records per emulator CPU-second)",
        "put-100",
        PER_CPU_SECOND,
        PUT_TARGET,
    ),
    Row::rate(
        "PutRecords, 1 KiB records (records per emulator CPU-second)",
        "put-1024",
        PER_CPU_SECOND,
        PUT_TARGET,
    ),
    Row::rate(
        "GetRecords drain, 100 B records (records per emulator CPU-second)",
        "drain-100",
        PER_CPU_SECOND,
        DRAIN_TARGET,
    ),
    Row::rate(
        "GetRecords drain, 1 KiB records (records per emulator CPU-second)",
        "drain-1024",
        PER_CPU_SECOND,
        DRAIN_TARGET,
    ),
];

/// Renders the results and rewrites the doc's generated sections that have results.
pub(crate) fn run(args: &ReportArgs) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("reading {}", args.results.display()))?;
    let results = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .context("parsing the results file")?;
    let mut doc = std::fs::read_to_string(&args.doc)
        .with_context(|| format!("reading {}", args.doc.display()))?;
    let mut rewritten = Vec::new();
    for section in &SECTIONS {
        let mine: Vec<Value> = results
            .iter()
            .filter(|r| section_of(r) == section.name)
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut text = facts(&args.context, section.name);
        text.push_str(&(section.render)(&mine));
        doc = splice(&doc, section.start, section.end, &text)?;
        rewritten.push(section.name);
    }
    std::fs::write(&args.doc, doc).with_context(|| format!("writing {}", args.doc.display()))?;
    Ok(serde_json::json!({
        "workload": "report",
        "doc": args.doc,
        "results": results.len(),
        "sections": rewritten,
    }))
}

/// The context facts that apply to `section`, as a list followed by a blank line.
fn facts(context: &[String], section: &str) -> String {
    let mut out = String::new();
    for fact in context {
        let (key, value) = match fact.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (fact.as_str(), None),
        };
        let key = match key.split_once('/') {
            Some((scope, key)) if scope == section => key,
            Some(_) => continue,
            None => key,
        };
        match value {
            Some(value) => writeln!(out, "- {key}: {value}"),
            None => writeln!(out, "- {key}"),
        }
        .expect("writing to a String");
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Replaces whatever stands between the markers `start` and `end` with `section`.
fn splice(doc: &str, start: &str, end: &str, section: &str) -> anyhow::Result<String> {
    let (Some(from), Some(to)) = (doc.find(start), doc.find(end)) else {
        bail!("the doc lacks the markers {start} and {end}");
    };
    if to < from {
        bail!("the doc's marker {end} comes before {start}");
    }
    let head = &doc[..from + start.len()];
    let tail = &doc[to..];
    Ok(format!("{head}\n{section}{tail}"))
}

/// Every result of one emulator and case, in run order (a case may be repeated).
fn runs<'a>(results: &'a [Value], emulator: &str, case: &str) -> Vec<&'a Value> {
    results
        .iter()
        .filter(|r| r["emulator"] == emulator && r["case"] == case)
        .collect()
}

/// `field` of one result, or the derived [`PER_CPU_SECOND`].
fn field_value(result: &Value, field: &str) -> Option<f64> {
    if field == PER_CPU_SECOND {
        let records = [
            "records_ok",
            "records",
            "messages_ok",
            "messages",
            "objects_ok",
        ]
        .iter()
        .find_map(|f| result.get(*f))?
        .as_f64()?;
        let cpu_ms = result
            .get("server_cpu_ms")?
            .as_f64()
            .filter(|&ms| ms > 0.0)?;
        return Some(records / (cpu_ms / 1000.0));
    }
    result.get(field)?.as_f64()
}

/// The median of `field` over the repeated runs of one emulator and case.
fn number(results: &[Value], emulator: &str, case: &str, field: &str) -> Option<f64> {
    let mut values: Vec<f64> = runs(results, emulator, case)
        .iter()
        .filter_map(|r| field_value(r, field))
        .filter(|v| v.is_finite())
        .collect();
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[mid]),
        _ => Some((values[mid - 1] + values[mid]) / 2.0),
    }
}

/// The generated Kinesis section: the summary with ratios and targets, then details.
fn render_kinesis(results: &[Value]) -> String {
    let mut out = summary(results, &ROWS);
    out.push_str(
        "\nThe same workloads per second of the emulator's own CPU time (records divided by the \
         emulator's user + system CPU over the measurement). Unlike records/s this barely moves \
         when other work takes cores away, but it leaves out the client's cost and the \
         emulator's ability to use both cores:\n\n",
    );
    out.push_str(&summary(results, &EFFICIENCY_ROWS));
    out.push('\n');
    out.push_str(&details(results));
    out
}

/// Busy time over wall time of a result's `field` (`server_cpu_ms` or `client_cpu_ms`), in
/// cores; "—" when unknown.
fn cores(result: &Value, field: &str) -> String {
    match (result[field].as_f64(), result["cpu_window_ms"].as_f64()) {
        (Some(cpu), Some(window)) if window > 0.0 => fmt_value(Some(cpu / window), 2),
        _ => "—".to_owned(),
    }
}

/// Writes one Markdown table row of `cells`.
fn table_row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().collect();
    writeln!(out, "| {} |", cells.join(" | ")).expect("writing to a String");
}

/// The cells an ESM throughput run's row starts with, after its name: records handled,
/// missing / duplicates, the producers' rate (`put_field`), the first invoke, the wall time,
/// and the mapping's rate (`rate_field`).
fn run_cells(r: &Value, put_field: &str, rate_field: &str) -> [String; 6] {
    [
        fmt_value(r["records_handled"].as_f64(), 0),
        format!(
            "{} / {}",
            fmt_value(r["records_missing"].as_f64(), 0),
            fmt_value(r["duplicates"].as_f64(), 0)
        ),
        fmt_value(r[put_field].as_f64(), 0),
        fmt_value(r["first_invoke_ms"].as_f64(), 0),
        fmt_value(r["elapsed_ms"].as_f64().map(|ms| ms / 1000.0), 2),
        fmt_value(r[rate_field].as_f64(), 0),
    ]
}

fn summary(results: &[Value], rows: &[Row]) -> String {
    let mut out = String::from(
        "| Metric | Riffle | kinesalite | ferrokinesis | Riffle ÷ kinesalite \
         | Riffle ÷ ferrokinesis | Target | Met |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n",
    );
    for row in rows {
        let values: Vec<Option<f64>> = EMULATORS
            .iter()
            .map(|(e, _)| number(results, e, row.case, row.field).map(|v| v * row.scale))
            .collect();
        let ratio = |peer: Option<f64>| match (values[0], peer) {
            (Some(r), Some(p)) if p > 0.0 => Some(r / p),
            _ => None,
        };
        let (vs_kinesalite, vs_ferro) = (ratio(values[1]), ratio(values[2]));
        let met = match row.target {
            Target::Ratios(k, f) => match (vs_kinesalite, vs_ferro) {
                (Some(a), Some(b)) => Some(a >= k && b >= f),
                _ => None,
            },
            Target::Below(limit) if limit.is_finite() => values[0].map(|v| v < limit),
            Target::Below(_) => None,
        };
        let cells: Vec<String> = values.iter().map(|v| fmt_value(*v, row.decimals)).collect();
        let met = match (met, row.target_text.is_empty()) {
            (_, true) => String::new(),
            (Some(true), false) => "yes".to_owned(),
            (Some(false), false) => "**no**".to_owned(),
            (None, false) => "n/a".to_owned(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            cells[0],
            cells[1],
            cells[2],
            fmt_ratio(vs_kinesalite),
            fmt_ratio(vs_ferro),
            row.target_text,
            met
        )
        .expect("writing to a String");
    }
    out
}

fn details(results: &[Value]) -> String {
    let mut out = String::from(
        "Throughput details, every run (the summary takes the median of the runs; CPU is busy \
         time divided by wall time, 1.0 = one core, and the machine has two):\n\n\
         | Emulator | Case | Records | Failed / missing | Wall (s) | Emulator CPU (cores) \
         | Client CPU (cores) |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (key, name) in EMULATORS {
        for case in ["put-100", "put-1024", "drain-100", "drain-1024"] {
            for (run, r) in runs(results, key, case).into_iter().enumerate() {
                let records = r
                    .get("records_ok")
                    .or_else(|| r.get("records"))
                    .and_then(Value::as_f64);
                let lost = r
                    .get("failed_record_count")
                    .or_else(|| r.get("missing"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let wall_ms = r["elapsed_ms"].as_f64();
                writeln!(
                    out,
                    "| {name} | {case} #{} | {} | {} | {} | {} | {} |",
                    run + 1,
                    fmt_value(records, 0),
                    fmt_value(Some(lost), 0),
                    fmt_value(wall_ms.map(|ms| ms / 1000.0), 2),
                    cores(r, "server_cpu_ms"),
                    cores(r, "client_cpu_ms"),
                )
                .expect("writing to a String");
            }
        }
    }
    out.push_str(
        "\nLatency details:\n\n\
         | Emulator | Sent | Arrived | Put rate achieved (/s) | GetRecords calls | Mean (ms) \
         | p50 (ms) | p99 (ms) | Max (ms) | Emulator CPU (cores) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (key, name) in EMULATORS {
        for r in runs(results, key, "latency") {
            let cores = cores(r, "server_cpu_ms");
            writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {cores} |",
                fmt_value(r["records_sent"].as_f64(), 0),
                fmt_value(r["records_arrived"].as_f64(), 0),
                fmt_value(r["achieved_rate"].as_f64(), 1),
                fmt_value(r["get_records_calls"].as_f64(), 0),
                fmt_value(r["mean_ms"].as_f64(), 2),
                fmt_value(r["p50_ms"].as_f64(), 2),
                fmt_value(r["p99_ms"].as_f64(), 2),
                fmt_value(r["max_ms"].as_f64(), 2),
            )
            .expect("writing to a String");
        }
    }
    out.push_str(
        "\nStart-up details:\n\n\
         | Emulator | Ready times of each start (ms) | VmRSS when ready (MB) \
         | VmRSS idle after CreateStream (MB) |\n\
         | --- | --- | ---: | ---: |\n",
    );
    for (key, name) in EMULATORS {
        for r in runs(results, key, "startup") {
            let runs: Vec<String> = r["ready_ms"]
                .as_array()
                .map(|a| a.iter().map(|v| fmt_value(v.as_f64(), 1)).collect())
                .unwrap_or_default();
            let mb = |field: &str| fmt_value(r[field].as_f64().map(|kib| kib * 1024.0 / 1e6), 1);
            writeln!(
                out,
                "| {name} | {} | {} | {} |",
                runs.join(", "),
                mb("rss_ready_kib"),
                mb("rss_idle_kib")
            )
            .expect("writing to a String");
        }
    }
    out
}

/// A number with thousands separators and `decimals` decimals; "—" when missing.
fn fmt_value(value: Option<f64>, decimals: usize) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return "—".to_owned();
    };
    let text = format!("{v:.decimals$}");
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn fmt_ratio(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r >= 10.0 => format!("{r:.1}×"),
        Some(r) => format!("{r:.2}×"),
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_numbers() {
        assert_eq!(fmt_value(Some(1_234_567.4), 0), "1,234,567");
        assert_eq!(fmt_value(Some(999.0), 0), "999");
        assert_eq!(fmt_value(Some(-1234.567), 2), "-1,234.57");
        assert_eq!(fmt_value(None, 1), "—");
        assert_eq!(fmt_ratio(Some(25.04)), "25.0×");
        assert_eq!(fmt_ratio(Some(1.5)), "1.50×");
    }

    #[test]
    fn splices_between_markers() {
        let doc = format!("intro\n{START}\nold\n{END}\noutro\n");
        let new = splice(&doc, START, END, "new\n").unwrap();
        assert_eq!(new, format!("intro\n{START}\nnew\n{END}\noutro\n"));
        assert!(splice("no markers", START, END, "x").is_err());
    }

    #[test]
    fn facts_are_scoped_to_sections() {
        let context = [
            "Date=today".to_owned(),
            "sqs/Peer=moto".to_owned(),
            "kinesis/Amount=many".to_owned(),
            "Note".to_owned(),
        ];
        assert_eq!(
            facts(&context, "sqs"),
            "- Date: today\n- Peer: moto\n- Note\n\n"
        );
        assert_eq!(
            facts(&context, "kinesis"),
            "- Date: today\n- Amount: many\n- Note\n\n"
        );
        assert_eq!(facts(&[], "esm"), "");
    }

    #[test]
    fn results_go_to_their_sections() {
        let section = |case: &str| section_of(&json!({ "case": case }));
        assert_eq!(section("put-100"), "kinesis");
        assert_eq!(section("startup"), "kinesis");
        assert_eq!(section("sqs-send"), "sqs");
        assert_eq!(section("esm-live-pf1"), "esm");
        assert_eq!(section("esm-sqs-fifo"), "esm-sqs");
        assert_eq!(section("firehose-direct"), "firehose");
    }

    #[test]
    fn summary_computes_ratios_and_targets() {
        let results = vec![
            json!({"emulator": "riffle", "case": "put-100", "records_per_sec": 400_000.0}),
            json!({"emulator": "kinesalite", "case": "put-100", "records_per_sec": 10_000.0}),
            json!({"emulator": "ferrokinesis", "case": "put-100", "records_per_sec": 200_000.0}),
            json!({"emulator": "riffle", "case": "latency", "p99_ms": 7.5}),
            json!({"emulator": "riffle", "case": "startup", "ready_median_ms": 9.0}),
            json!({"emulator": "riffle", "case": "startup", "ready_median_ms": 4.0}),
            json!({"emulator": "riffle", "case": "startup", "ready_median_ms": 5.0}),
        ];
        let table = summary(&results, &ROWS);
        let put = table
            .lines()
            .find(|l| l.contains("100 B records (records/s)") && l.contains("Put"));
        let put = put.unwrap();
        assert!(
            put.contains("| 400,000 | 10,000 | 200,000 | 40.0× | 2.00× |"),
            "{put}"
        );
        assert!(put.ends_with("| **no** |"), "{put}");
        let p99 = table.lines().find(|l| l.contains("p99")).unwrap();
        assert!(
            p99.contains("| 7.50 | — | — |") && p99.ends_with("| **no** |"),
            "{p99}"
        );
        let ready = table.lines().find(|l| l.contains("Start-up")).unwrap();
        assert!(
            ready.contains("| 5.0 |") && ready.ends_with("| yes |"),
            "{ready}"
        );
        assert!(details(&results).contains("Riffle | put-100 #1 | — |"));
    }

    #[test]
    fn efficiency_divides_records_by_emulator_cpu() {
        let results = vec![
            json!({"emulator": "riffle", "case": "drain-100", "records": 300_000, "server_cpu_ms": 750}),
            json!({"emulator": "kinesalite", "case": "drain-100", "records": 50_000, "server_cpu_ms": 2_500}),
            json!({"emulator": "ferrokinesis", "case": "drain-100", "records": 300_000, "server_cpu_ms": 1_500}),
        ];
        let table = summary(&results, &EFFICIENCY_ROWS);
        let row = table.lines().find(|l| l.contains("drain, 100 B")).unwrap();
        assert!(
            row.contains("| 400,000 | 20,000 | 200,000 | 20.0× | 2.00× |"),
            "{row}"
        );
        assert!(row.ends_with("| yes |"), "{row}");
    }
}
