//! `riffle put`: one record from the command line, standard input (`--data -`) or a file
//! (`--data @FILE`), or a JSONL file (one record per line) with a progress bar, in PutRecords
//! batches that retry the entries Kinesis refused.
//!
//! Invariants: every line of the file is checked (record size, partition key) before anything
//! is sent, and a file with a bad line is refused whole, every bad line listed, nothing put;
//! otherwise every line is put exactly once or reported as failed, and the command exits
//! non-zero if any record could not be put. Batches stay within PutRecords' limits (500
//! records, 5 MiB of data and partition keys).

use std::io::Read as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use riffle_aws::tools::kinesis::{PutEntry, put_record, put_records};
use riffle_emulator::kinesis::api::{MAX_PUT_RECORDS_BYTES, MAX_RECORD_BYTES};

use super::Endpoint;
use super::output::out;

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
    /// One record's data: the text itself, `-` for everything on standard input, or `@FILE`
    /// for the file's bytes (one record, newlines included; data that starts with `@` can
    /// come from a file or standard input). At most 1 MiB.
    #[arg(long, value_name = "DATA|-|@FILE", allow_hyphen_values = true)]
    data: Option<String>,
    /// A file with one record per line (JSON Lines); empty lines are skipped. Every line is
    /// checked first: if any is over the 1 MiB record limit (or lacks its --key-field), every
    /// such line is listed with its number and size and nothing is put, so that once the file
    /// is fixed, running again puts each line exactly once.
    #[arg(long)]
    file: Option<PathBuf>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Records per PutRecords call (Kinesis's maximum).
const BATCH: usize = 500;
/// Attempts per record before it is reported as failed.
const ATTEMPTS: u32 = 8;

/// The data `--data` names: the text, standard input (`-`) or a file's bytes (`@FILE`), and
/// what to call it in messages.
fn data_of(arg: &str) -> anyhow::Result<(Vec<u8>, String)> {
    if arg == "-" {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("reading standard input")?;
        Ok((data, "standard input".to_owned()))
    } else if let Some(path) = arg.strip_prefix('@') {
        let data = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        Ok((data, path.to_owned()))
    } else {
        Ok((arg.as_bytes().to_vec(), "--data".to_owned()))
    }
}

/// Why `len` bytes of data cannot be one record, if they cannot.
fn too_large(len: usize) -> Option<String> {
    (len > MAX_RECORD_BYTES).then(|| {
        format!(
            "{len} bytes, over the {MAX_RECORD_BYTES}-byte (1 MiB) limit of a Kinesis record's \
             data"
        )
    })
}

pub(crate) async fn run(args: PutArgs) -> anyhow::Result<()> {
    let kinesis = args.endpoint.clients().kinesis();
    if let Some(data) = &args.data {
        let (data, source) = data_of(data)?;
        if let Some(why) = too_large(data.len()) {
            anyhow::bail!("{source}: {why}; nothing put");
        }
        let key = args
            .partition_key
            .clone()
            .unwrap_or_else(|| "riffle".to_owned());
        let (shard_id, sequence_number) = put_record(&kinesis, &args.stream, key, data)
            .await
            .map_err(|e| anyhow::anyhow!("PutRecord to {}: {e}", args.stream))?;
        return out!("{shard_id} {sequence_number}");
    }
    let path = args.file.as_ref().expect("clap requires --data or --file");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    // The partition key of a line, or why it has none.
    let key_of = |number: usize, line: &str| -> Result<String, String> {
        match (&args.partition_key, &args.key_field) {
            (Some(key), _) => Ok(key.clone()),
            (None, Some(field)) => {
                let value: serde_json::Value = serde_json::from_str(line)
                    .map_err(|_| format!("not JSON, so it has no field {field}"))?;
                match &value[field] {
                    serde_json::Value::String(s) => Ok(s.clone()),
                    serde_json::Value::Null => {
                        Err(format!("no field {field} for the partition key"))
                    }
                    other => Ok(other.to_string()),
                }
            }
            (None, None) => Ok((number + 1).to_string()),
        }
    };
    let mut entries = Vec::with_capacity(lines.len());
    let mut problems = Vec::new();
    for &(number, line) in &lines {
        let key = key_of(number, line);
        let size = too_large(line.len());
        match (key, size) {
            (Ok(key), None) => entries.push(PutEntry {
                partition_key: key,
                data: line.as_bytes().to_vec(),
            }),
            (key, size) => {
                let why: Vec<String> = size.into_iter().chain(key.err()).collect();
                problems.push(format!("  line {}: {}", number + 1, why.join("; ")));
            }
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "{}: {} of {} line(s) cannot be put, so nothing was put (fix them and run again):\n{}",
            path.display(),
            problems.len(),
            lines.len(),
            problems.join("\n")
        );
    }
    let bar = ProgressBar::new(entries.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut failed = 0usize;
    for chunk in batches(&entries) {
        let mut pending: Vec<PutEntry> = chunk.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let refused = put_records(&kinesis, &args.stream, &pending)
                .await
                .map_err(|e| anyhow::anyhow!("PutRecords to {}: {e}", args.stream))?;
            let mut retry = Vec::new();
            for (entry, refused) in pending.into_iter().zip(refused) {
                if refused {
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
    out!(
        "put {put} record(s) to {} in {elapsed:.2} s ({:.0} records/s)",
        args.stream,
        put as f64 / elapsed.max(1e-9)
    )?;
    anyhow::ensure!(failed == 0, "{failed} record(s) could not be put");
    Ok(())
}

/// `entries` cut into PutRecords requests: at most [`BATCH`] records and
/// [`MAX_PUT_RECORDS_BYTES`] of data and partition keys each (every entry fits alone, as each
/// was checked against the record limit).
fn batches(entries: &[PutEntry]) -> Vec<&[PutEntry]> {
    let size = PutEntry::size;
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        if i > start && (i - start == BATCH || bytes + size(entry) > MAX_PUT_RECORDS_BYTES) {
            out.push(&entries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size(entry);
    }
    if start < entries.len() {
        out.push(&entries[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(len: usize) -> PutEntry {
        PutEntry {
            partition_key: "k".into(),
            data: vec![b'x'; len],
        }
    }

    #[test]
    fn batches_stay_within_put_records_limits() {
        let small: Vec<_> = (0..1_201).map(|_| entry(10)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [500, 500, 201]);
        let large: Vec<_> = (0..6).map(|_| entry(MAX_RECORD_BYTES)).collect();
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [4, 2], "5 MiB of data and keys per request");
        assert!(batches(&[]).is_empty());
    }
}
