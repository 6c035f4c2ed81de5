//! `riffle put`: one record from the command line, or a JSONL file (one record per line) with a
//! progress bar, in PutRecords batches that retry the entries Kinesis refused.
//!
//! Invariant: every line of the file is put exactly once or reported as failed; the command
//! exits non-zero if any record could not be put.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Endpoint, sdk_error};

/// Options of `riffle put`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["data", "file"])))]
pub(crate) struct PutArgs {
    /// Stream name.
    #[arg(long)]
    stream: String,
    /// Partition key (default: the `--key-field` of each JSON line, else the line number).
    #[arg(long)]
    partition_key: Option<String>,
    /// With --file: take each record's partition key from this field of its JSON line.
    #[arg(long)]
    key_field: Option<String>,
    /// One record's data.
    #[arg(long)]
    data: Option<String>,
    /// A file with one record per line (JSON Lines); empty lines are skipped.
    #[arg(long)]
    file: Option<PathBuf>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Records per PutRecords call (Kinesis's maximum).
const BATCH: usize = 500;
/// Attempts per record before it is reported as failed.
const ATTEMPTS: u32 = 8;

pub(crate) async fn run(args: PutArgs) -> anyhow::Result<()> {
    let (kinesis, _) = args.endpoint.clients();
    if let Some(data) = &args.data {
        let key = args
            .partition_key
            .clone()
            .unwrap_or_else(|| "riffle".to_owned());
        let out = kinesis
            .put_record()
            .stream_name(&args.stream)
            .partition_key(key)
            .data(Blob::new(data.as_bytes()))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("PutRecord to {}: {}", args.stream, sdk_error(&e)))?;
        println!("{} {}", out.shard_id, out.sequence_number);
        return Ok(());
    }
    let path = args.file.as_ref().expect("clap requires --data or --file");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let entry = |(number, line): &(usize, &str)| -> anyhow::Result<PutRecordsRequestEntry> {
        let key = match (&args.partition_key, &args.key_field) {
            (Some(key), _) => key.clone(),
            (None, Some(field)) => {
                let value: serde_json::Value = serde_json::from_str(line).with_context(|| {
                    format!(
                        "{}:{}: not JSON, so it has no field {field}",
                        path.display(),
                        number + 1
                    )
                })?;
                match &value[field] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => anyhow::bail!(
                        "{}:{}: no field {field} for the partition key",
                        path.display(),
                        number + 1
                    ),
                    other => other.to_string(),
                }
            }
            (None, None) => (number + 1).to_string(),
        };
        Ok(PutRecordsRequestEntry::builder()
            .partition_key(key)
            .data(Blob::new(line.as_bytes()))
            .build()?)
    };
    let entries = lines
        .iter()
        .map(entry)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bar = ProgressBar::new(entries.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut failed = 0usize;
    for chunk in entries.chunks(BATCH) {
        let mut pending: Vec<PutRecordsRequestEntry> = chunk.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let out = kinesis
                .put_records()
                .stream_name(&args.stream)
                .set_records(Some(pending.clone()))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("PutRecords to {}: {}", args.stream, sdk_error(&e)))?;
            let mut retry = Vec::new();
            for (entry, result) in pending.into_iter().zip(out.records()) {
                if result.error_code().is_some() {
                    retry.push(entry);
                } else {
                    bar.inc(1);
                }
            }
            if !retry.is_empty() && attempt >= ATTEMPTS {
                failed += retry.len();
                bar.println(format!(
                    "{} record(s) refused {ATTEMPTS} times; giving up on them",
                    retry.len()
                ));
                break;
            }
            if !retry.is_empty() {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
            }
            pending = retry;
        }
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let put = entries.len() - failed;
    println!(
        "put {put} record(s) to {} in {elapsed:.2} s ({:.0} records/s)",
        args.stream,
        put as f64 / elapsed.max(1e-9)
    );
    anyhow::ensure!(failed == 0, "{failed} record(s) could not be put");
    Ok(())
}
