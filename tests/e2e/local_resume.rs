//! `riffle local --data-dir` resumes where it stopped: run it on a Kinesis template (the
//! `lambda-probe` function, which logs every event it receives), put records and wait until
//! they are processed, stop it with Ctrl-C, put more records while it is down (through
//! `riffle emulator` on the same emulator directory), start it again, and check that exactly the
//! new records are delivered.
//!
//! What the checkpoint semantics give: a clean stop lets invocations in flight finish and saves
//! every shard's checkpoint at the last record processed, so the second run delivers each new
//! record exactly once and no old one again (at-least-once would allow old ones again only after
//! a crash, for batches in flight at the time).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::local::{KillOnDrop, spawn_json, wait_for, wait_ready};
use crate::support::cli::{install_probe, spawn_emulator};
use crate::support::kinesis;
use crate::support::{client, riffle_binary};

const MAPPING: &str = "ProbeFunctionStream";

/// The template: one two-shard stream read from TRIM_HORIZON by the probe.
const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Events:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: resume-events
      ShardCount: 2
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe
      Handler: bootstrap
      Runtime: provided.al2023
      Timeout: 10
      Environment:
        Variables:
          PROBE_LOG_EVENTS: "1"
      Events:
        Stream:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Events.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
"#;

/// [`TEMPLATE`] with the stream read through an enhanced fan-out consumer the template
/// declares (`riffle local` registers it; after the restart it is found registered).
fn fan_out_template() -> String {
    let consumer = "  Fan:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      StreamARN: !GetAtt Events.Arn
      ConsumerName: resume-fan
  ProbeFunction:";
    TEMPLATE.replacen("  ProbeFunction:", consumer, 1).replace(
        "Stream: !GetAtt Events.Arn",
        "Stream: !GetAtt Fan.ConsumerARN",
    )
}

/// A fresh directory under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, template: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("riffle-resume-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        install_probe(&path);
        std::fs::write(path.join("template.yaml"), template).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `riffle local` with its JSON events.
struct Local {
    child: Child,
    guard: KillOnDrop,
    events: mpsc::Receiver<Value>,
    seen: Vec<Value>,
    endpoint: String,
}

impl Local {
    fn start(dir: &Path) -> Self {
        let mut command = Command::new(riffle_binary());
        command
            .current_dir(dir)
            .args(["local", "--port", "0", "--log-format", "json"]);
        command.args(["--status-every", "1", "--data-dir", "data"]);
        let (child, guard, events) = spawn_json(command);
        let mut seen = Vec::new();
        let ready = wait_ready(&events, &mut seen, Duration::from_secs(120));
        let endpoint = ready["endpoint"].as_str().unwrap().to_owned();
        Self {
            child,
            guard,
            events,
            seen,
            endpoint,
        }
    }

    /// Waits until the probe has received every record of `wanted`; returns the sequence
    /// numbers of every record it received so far, in order, with repeats.
    fn wait_delivered(&mut self, wanted: &BTreeSet<String>) -> Vec<String> {
        let mut delivered = delivered_of(&self.seen);
        while !wanted.iter().all(|s| delivered.iter().any(|(_, d)| d == s)) {
            let missing = wanted
                .iter()
                .filter(|s| !delivered.iter().any(|(_, d)| d == *s))
                .count();
            wait_for(
                &self.events,
                &mut self.seen,
                Duration::from_secs(60),
                &format!("{missing} record(s) delivered"),
                |e| e["event"] == "log",
            );
            delivered = delivered_of(&self.seen);
        }
        delivered.into_iter().map(|(_, s)| s).collect()
    }

    /// Ctrl-C; waits for the orderly stop.
    fn interrupt(mut self) -> Vec<Value> {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        wait_for(
            &self.events,
            &mut self.seen,
            Duration::from_secs(60),
            "the stopped event",
            |e| e["event"] == "stopped",
        );
        let status = self.child.wait().unwrap();
        std::mem::forget(self.guard);
        assert!(status.success(), "riffle local exits cleanly: {status}");
        self.seen
    }
}

/// (shard, sequence number) of every record the probe logged, in log order.
fn delivered_of(seen: &[Value]) -> Vec<(String, String)> {
    seen.iter()
        .filter(|e| e["event"] == "log" && e["function"] == "ProbeFunction")
        .filter_map(|e| e["line"].as_str()?.strip_prefix("event "))
        .flat_map(|json| {
            let event: Value = serde_json::from_str(json).expect("the probe logs JSON events");
            event["Records"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    let shard = r["eventID"]
                        .as_str()
                        .and_then(|id| id.split(':').next())
                        .unwrap_or_default()
                        .to_owned();
                    let seq = r["kinesis"]["sequenceNumber"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    (shard, seq)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Puts `count` records over several partition keys (so both shards get some); returns their
/// sequence numbers by shard.
async fn put(endpoint: &str, prefix: &str, count: usize) -> BTreeMap<String, Vec<String>> {
    let kinesis = client(endpoint);
    let mut by_shard: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in 0..count {
        let out = kinesis::put(
            &kinesis,
            "resume-events",
            format!("key-{n}"),
            format!("{prefix}-{n}"),
        )
        .await;
        by_shard
            .entry(out.shard_id().to_owned())
            .or_default()
            .push(out.sequence_number().to_owned());
    }
    by_shard
}

fn all(by_shard: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    by_shard.values().flatten().cloned().collect()
}

/// The checkpoints file of the mapping.
/// Each shard's saved checkpoint is at the last of its sequence numbers in `by_shard`.
fn assert_checkpointed_at_last(dir: &Path, by_shard: &BTreeMap<String, Vec<String>>) {
    let saved = checkpoints(dir);
    for (shard, sequence_numbers) in by_shard {
        assert_eq!(
            saved[shard]["At"].as_str(),
            sequence_numbers.last().map(String::as_str),
            "checkpoint of {shard}: {saved}"
        );
    }
}

fn checkpoints(dir: &Path) -> Value {
    let path = dir
        .join("data")
        .join("checkpoints")
        .join(format!("{MAPPING}.checkpoints.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Starts `riffle emulator` on `dir` and a free port; returns it and its endpoint.
fn emulator(dir: &Path) -> (Child, KillOnDrop, String) {
    let (child, endpoint) = spawn_emulator(dir, Stdio::inherit());
    let guard = KillOnDrop(child.id());
    (child, guard, endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn riffle_local_resumes_from_its_checkpoints_after_a_restart() {
    resumes_after_a_restart(Scratch::new("polling", TEMPLATE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn riffle_local_resumes_through_a_stream_consumer_after_a_restart() {
    let template = fan_out_template();
    assert!(template.contains("Fan.ConsumerARN"), "{template}");
    resumes_after_a_restart(Scratch::new("fan-out", &template)).await;
}

/// Runs `riffle local` on the scratch directory's template, stops it, puts records while it is
/// down, and starts it again: exactly the new records are delivered, each once.
async fn resumes_after_a_restart(scratch: Scratch) {
    let dir = scratch.0.as_path();

    // First run: everything put is delivered, once.
    let mut first = Local::start(dir);
    let old = put(&first.endpoint, "old", 12).await;
    assert_eq!(old.len(), 2, "the keys spread over both shards: {old:?}");
    let delivered = first.wait_delivered(&all(&old));
    assert_eq!(delivered.len(), 12, "each record once: {delivered:?}");
    // The status reports each shard's position and checkpoint at its last record.
    let status = wait_for(
        &first.events,
        &mut first.seen,
        Duration::from_secs(30),
        "a status with both checkpoints",
        |e| {
            e["event"] == "status"
                && e["mapping"] == MAPPING
                && old.iter().all(|(shard, seqs)| {
                    e["shards"][shard]["checkpoint"].as_str() == seqs.last().map(String::as_str)
                })
        },
    );
    for (shard, seqs) in &old {
        let shard_status = &status["shards"][shard];
        assert_eq!(
            shard_status["position"].as_str(),
            seqs.last().map(String::as_str),
            "{status}"
        );
        assert_eq!(shard_status["in_flight"], 0, "{status}");
        assert_eq!(shard_status["buffered"], 0, "{status}");
        assert_eq!(shard_status["errors"], 0, "{status}");
        assert!(shard_status["invocations"].as_u64() >= Some(1), "{status}");
        assert_eq!(shard_status["state"], "polling", "{status}");
    }
    first.interrupt();
    // The clean stop saved each shard's checkpoint at its last record.
    assert_checkpointed_at_last(dir, &old);

    // While riffle local is down, records arrive through the emulator on the same directory.
    let (mut stopped_emulator, guard, endpoint) = emulator(&dir.join("data").join("emulator"));
    let new = put(&endpoint, "new", 12).await;
    let interrupted = Command::new("kill")
        .args(["-INT", &stopped_emulator.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert!(stopped_emulator.wait().unwrap().success());
    std::mem::forget(guard);

    // Second run: exactly the new records, each once. Within a shard records are delivered in
    // order, so an old record delivered again would have come before the last new one.
    let mut second = Local::start(dir);
    let delivered = second.wait_delivered(&all(&new));
    let seen = second.interrupt();
    let mut by_shard: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (shard, seq) in delivered_of(&seen) {
        by_shard.entry(shard).or_default().push(seq);
    }
    assert_eq!(by_shard, new, "only the new records, in order, once");
    assert_eq!(delivered.len(), 12);
    assert_checkpointed_at_last(dir, &new);
}
