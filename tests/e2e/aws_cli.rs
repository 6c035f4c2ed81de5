//! The real AWS CLI (v1, from PyPI) against an in-process emulator: an independent client, with
//! its own serializers, parsers and blob handling, driving the wire protocol end to end.
//!
//! `RIFFLE_AWS_CLI` must name the `aws` executable (`make test` installs it into `target/venv`
//! and sets it); these tests fail, never skip, when it is missing. The CLI runs on a blocking
//! thread so the emulator, on the test's runtime, keeps serving.
//!
//! What the CLI does with blobs (checked against its `--debug` output): AWS CLI v1 treats the
//! text of a blob argument (`put-record --data`, `Data` inside `put-records --records`) as raw
//! bytes, UTF-8 encoded, and base64-encodes them itself; `fileb://` sends a file's bytes; blobs in
//! responses (`get-records` `Data`) are printed as base64.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use riffle_emulator::{Config, Emulator};
use serde_json::Value;

mod firehose;
mod s3;
mod sqs;

/// How long one CLI invocation may take before the test kills it and fails.
const CLI_DEADLINE: Duration = Duration::from_secs(60);

/// The largest hash key, 2^128 - 1, as the API prints it.
const MAX_HASH_KEY: &str = "340282366920938463463374607431768211455";

/// What one CLI invocation did.
#[derive(Debug)]
struct Run {
    args: Vec<String>,
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The parsed stdout of a successful run (`Value::Null` for commands that print nothing).
    fn json(self) -> Value {
        assert!(
            self.success,
            "`aws {}` failed (exit {:?}):\n{}",
            self.args.join(" "),
            self.code,
            self.stderr
        );
        if self.stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`aws {}` printed no JSON ({e}):\n{}",
                self.args.join(" "),
                self.stdout
            )
        })
    }

    /// The stderr of a failed run.
    fn failure(self) -> String {
        assert!(
            !self.success,
            "`aws {}` should have failed but printed:\n{}",
            self.args.join(" "),
            self.stdout
        );
        self.stderr
    }
}

/// The AWS CLI, pointed at one emulator.
#[derive(Debug, Clone)]
struct Cli {
    exe: PathBuf,
    endpoint: String,
    /// Extra global options this CLI needs (v2 must be told that blob arguments are raw text).
    extra: Vec<&'static str>,
}

impl Cli {
    /// The CLI named by `RIFFLE_AWS_CLI`; panics with instructions if it is unset or won't run.
    fn from_env() -> Self {
        let Some(exe) = std::env::var_os("RIFFLE_AWS_CLI").filter(|v| !v.is_empty()) else {
            panic!(
                "RIFFLE_AWS_CLI is not set. The AWS CLI smoke test needs the path of an `aws` \
                 executable (AWS CLI v1): run `make test`, which installs it into target/venv \
                 and sets the variable, or run `make target/venv/bin/aws` and set \
                 RIFFLE_AWS_CLI=$PWD/target/venv/bin/aws"
            );
        };
        let exe = PathBuf::from(exe);
        let output = Command::new(&exe)
            .arg("--version")
            .stdin(Stdio::null())
            .output();
        let output = output.unwrap_or_else(|e| {
            panic!("RIFFLE_AWS_CLI={} cannot be run: {e}", exe.display());
        });
        // v1 prints its version on stdout (older releases on stderr).
        let version = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success() && version.contains("aws-cli/"),
            "RIFFLE_AWS_CLI={} is not a working AWS CLI: `--version` exited {:?} and printed:\n\
             {version}",
            exe.display(),
            output.status.code()
        );
        let extra = if version.contains("aws-cli/2.") {
            vec!["--cli-binary-format", "raw-in-base64-out"]
        } else {
            vec![]
        };
        Self {
            exe,
            endpoint: String::new(),
            extra,
        }
    }

    fn at(&self, endpoint: String) -> Self {
        Self {
            endpoint,
            ..self.clone()
        }
    }

    /// Runs `aws kinesis <args>` against the emulator, on a blocking thread. The future borrows
    /// nothing, so it can be awaited after the arguments are gone.
    fn kinesis(&self, args: &[&str]) -> impl Future<Output = Run> + use<> {
        self.service("kinesis", args)
    }

    /// Runs `aws sqs <args>` against the emulator, like [`Cli::kinesis`].
    fn sqs(&self, args: &[&str]) -> impl Future<Output = Run> + use<> {
        self.service("sqs", args)
    }

    /// Runs `aws s3 <args>` (the high-level commands) against the emulator.
    fn s3(&self, args: &[&str]) -> impl Future<Output = Run> + use<> {
        self.service("s3", args)
    }

    /// Runs `aws s3api <args>` against the emulator.
    fn s3api(&self, args: &[&str]) -> impl Future<Output = Run> + use<> {
        self.service("s3api", args)
    }

    /// Runs `aws firehose <args>` against the emulator, like [`Cli::kinesis`].
    fn firehose(&self, args: &[&str]) -> impl Future<Output = Run> + use<> {
        self.service("firehose", args)
    }

    /// `aws kinesis create-stream --stream-name NAME --shard-count SHARDS`.
    fn create_stream(&self, name: &str, shards: &str) -> impl Future<Output = Run> + use<> {
        self.kinesis(&[
            "create-stream",
            "--stream-name",
            name,
            "--shard-count",
            shards,
        ])
    }

    /// `aws kinesis put-record --stream-name STREAM --partition-key KEY --data DATA`.
    fn put_record(&self, stream: &str, key: &str, data: &str) -> impl Future<Output = Run> + use<> {
        self.kinesis(&[
            "put-record",
            "--stream-name",
            stream,
            "--partition-key",
            key,
            "--data",
            data,
        ])
    }

    /// `aws kinesis ARGS`, which must succeed; its JSON output.
    async fn kinesis_json(&self, args: &[&str]) -> Value {
        self.kinesis(args).await.json()
    }

    /// `aws firehose ARGS`, which must succeed; its JSON output.
    async fn firehose_json(&self, args: &[&str]) -> Value {
        self.firehose(args).await.json()
    }

    /// `aws sqs ARGS`, which must succeed; its JSON output.
    async fn sqs_json(&self, args: &[&str]) -> Value {
        self.sqs(args).await.json()
    }

    fn service(&self, service: &'static str, args: &[&str]) -> impl Future<Output = Run> + use<> {
        let cli = self.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        async move {
            tokio::task::spawn_blocking(move || cli.run_blocking(service, args))
                .await
                .expect("the CLI runner does not panic")
        }
    }

    fn run_blocking(&self, service: &str, args: Vec<String>) -> Run {
        let mut command = Command::new(&self.exe);
        // Nothing from the developer's AWS setup may leak in (profiles, endpoints, tokens).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        command
            .env("AWS_ACCESS_KEY_ID", "AKIDRIFFLETEST")
            .env("AWS_SECRET_ACCESS_KEY", "riffle-test-secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .args(["--cli-read-timeout", "10", "--cli-connect-timeout", "10"])
            .args(&self.extra)
            .arg(service)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.exe.display()));
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut pipe) = pipe {
                    let mut bytes = Vec::new();
                    let _ = pipe.read_to_end(&mut bytes);
                    text = String::from_utf8_lossy(&bytes).into_owned();
                }
                text
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting on the CLI") {
                break status;
            }
            if started.elapsed() > CLI_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`aws {service} {}` did not finish within {CLI_DEADLINE:?}",
                    args.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            args,
            success: status.success(),
            code: status.code(),
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        }
    }
}

/// An emulator on a free port, and the CLI pointed at it. The CLI is checked first, so a missing
/// CLI fails before anything starts.
async fn start() -> (Emulator, Cli) {
    let cli = Cli::from_env();
    let emulator = Emulator::start(Config {
        port: 0,
        ..Config::default()
    })
    .await
    .expect("emulator starts");
    let cli = cli.at(emulator.endpoint_url());
    (emulator, cli)
}

/// Decodes standard base64 (with padding), as the CLI prints blobs.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits: Vec<u32> = text
        .trim_end_matches('=')
        .bytes()
        .map(|b| {
            ALPHABET
                .iter()
                .position(|a| *a == b)
                .unwrap_or_else(|| panic!("{text:?} is not base64")) as u32
        })
        .collect();
    assert!(
        text.len().is_multiple_of(4),
        "{text:?} is not padded base64"
    );
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Whether sequence number `a` comes before `b` (they are decimal strings of up to 128 digits).
fn before(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// The string at `pointer` in each item of the array `value[array]`.
fn strings_of<'a>(value: &'a Value, array: &str, pointer: &str) -> Vec<&'a str> {
    let items = value[array]
        .as_array()
        .unwrap_or_else(|| panic!("no {array} in {value:#}"));
    items.iter().map(|item| str_of(item, pointer)).collect()
}

fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
}

/// Reads a shard from TRIM_HORIZON, two records per call, following NextShardIterator until a
/// call returns nothing; returns the records and the last response.
async fn read_shard(cli: &Cli, stream: &str, shard: &str) -> (Vec<Value>, Value) {
    let iterator = cli
        .kinesis_json(&[
            "get-shard-iterator",
            "--stream-name",
            stream,
            "--shard-id",
            shard,
            "--shard-iterator-type",
            "TRIM_HORIZON",
        ])
        .await;
    let mut iterator = str_of(&iterator, "/ShardIterator").to_owned();
    let mut records = Vec::new();
    for _ in 0..10 {
        let page = cli
            .kinesis_json(&["get-records", "--shard-iterator", &iterator, "--limit", "2"])
            .await;
        let batch = page["Records"].as_array().expect("Records").clone();
        let done = batch.is_empty() || page.get("NextShardIterator").is_none_or(Value::is_null);
        records.extend(batch);
        if done {
            return (records, page);
        }
        iterator = str_of(&page, "/NextShardIterator").to_owned();
    }
    panic!("{shard} of {stream} still had records after 10 pages");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_round_trips_records_byte_for_byte() {
    let (emulator, cli) = start().await;
    let stream = "riffle-cli";

    let created = cli.create_stream(stream, "2");
    assert_eq!(
        created.await.json(),
        Value::Null,
        "create-stream prints nothing"
    );
    cli.kinesis_json(&["wait", "stream-exists", "--stream-name", stream])
        .await;
    let summary = cli
        .kinesis_json(&["describe-stream-summary", "--stream-name", stream])
        .await;
    assert_eq!(
        str_of(&summary, "/StreamDescriptionSummary/StreamStatus"),
        "ACTIVE"
    );
    assert_eq!(
        str_of(&summary, "/StreamDescriptionSummary/StreamName"),
        stream
    );
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 2);

    // Sequence number -> (partition key, bytes) of every acknowledged write.
    let mut written: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();

    // Text given to --data is sent as its UTF-8 bytes (the CLI base64-encodes it).
    for (key, text) in [
        ("alpha", "hello world"),
        ("beta", "héllo wörld ☃ \"quoted\" \\ /"),
    ] {
        let put = cli.put_record(stream, key, text).await.json();
        assert!(str_of(&put, "/ShardId").starts_with("shardId-"), "{put:#}");
        written.insert(
            str_of(&put, "/SequenceNumber").to_owned(),
            (key.into(), text.into()),
        );
    }

    // fileb:// sends a file's raw bytes: every byte value, including invalid UTF-8.
    let binary: Vec<u8> = (0..=255u8).rev().chain([0, 0xff, b'\n', 0xc3]).collect();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("riffle-aws-cli-{}.bin", std::process::id()));
    std::fs::write(&path, &binary).expect("write the binary payload");
    let file_arg = format!("fileb://{}", path.display());
    let put = cli.put_record(stream, "gamma", &file_arg).await.json();
    let _ = std::fs::remove_file(&path);
    written.insert(
        str_of(&put, "/SequenceNumber").to_owned(),
        ("gamma".into(), binary),
    );

    let batch = r#"[
        {"Data": "first of batch", "PartitionKey": "delta"},
        {"Data": "", "PartitionKey": "epsilon"},
        {"Data": "to the last shard", "PartitionKey": "zeta",
         "ExplicitHashKey": "340282366920938463463374607431768211455"},
        {"Data": "to the first shard", "PartitionKey": "eta", "ExplicitHashKey": "0"}
    ]"#;
    let put = cli
        .kinesis_json(&["put-records", "--stream-name", stream, "--records", batch])
        .await;
    assert_eq!(put["FailedRecordCount"], 0, "{put:#}");
    let results = put["Records"].as_array().expect("Records");
    let sent: Vec<Value> = serde_json::from_str(batch).expect("batch JSON");
    assert_eq!(results.len(), sent.len(), "one result per entry: {put:#}");
    for (result, entry) in results.iter().zip(&sent) {
        written.insert(
            str_of(result, "/SequenceNumber").to_owned(),
            (
                str_of(entry, "/PartitionKey").into(),
                str_of(entry, "/Data").into(),
            ),
        );
    }
    assert_eq!(
        str_of(&results[2], "/ShardId"),
        "shardId-000000000001",
        "{put:#}"
    );
    assert_eq!(
        str_of(&results[3], "/ShardId"),
        "shardId-000000000000",
        "{put:#}"
    );

    // The two shards tile the hash key space.
    let shards = cli
        .kinesis_json(&["list-shards", "--stream-name", stream])
        .await;
    let shards = shards["Shards"].as_array().expect("Shards").clone();
    let ids: Vec<&str> = shards.iter().map(|s| str_of(s, "/ShardId")).collect();
    assert_eq!(ids, ["shardId-000000000000", "shardId-000000000001"]);
    assert_eq!(str_of(&shards[0], "/HashKeyRange/StartingHashKey"), "0");
    assert_eq!(
        str_of(&shards[1], "/HashKeyRange/EndingHashKey"),
        MAX_HASH_KEY
    );
    let end0: u128 = str_of(&shards[0], "/HashKeyRange/EndingHashKey")
        .parse()
        .expect("u128");
    let start1: u128 = str_of(&shards[1], "/HashKeyRange/StartingHashKey")
        .parse()
        .expect("u128");
    assert_eq!(
        end0 + 1,
        start1,
        "shards leave a gap or overlap: {shards:#?}"
    );

    // Reading both shards back returns exactly what was written, byte for byte, in order.
    let mut read: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
    let mut first_shard = Vec::new();
    for id in &ids {
        let (records, last) = read_shard(&cli, stream, id).await;
        assert_eq!(last["MillisBehindLatest"], 0, "{last:#}");
        let sequence: Vec<&str> = records
            .iter()
            .map(|r| str_of(r, "/SequenceNumber"))
            .collect();
        assert!(
            sequence.windows(2).all(|w| before(w[0], w[1])),
            "{id} out of order: {sequence:?}"
        );
        for record in &records {
            assert!(record["ApproximateArrivalTimestamp"].is_f64(), "{record:#}");
            read.insert(
                str_of(record, "/SequenceNumber").to_owned(),
                (
                    str_of(record, "/PartitionKey").into(),
                    base64_decode(str_of(record, "/Data")),
                ),
            );
        }
        if first_shard.is_empty() {
            first_shard = sequence.iter().map(|s| (*s).to_owned()).collect();
        }
    }
    assert_eq!(read, written, "records read back differ from those written");

    // AFTER_SEQUENCE_NUMBER resumes right after a given record.
    assert!(
        first_shard.len() >= 2,
        "the first shard got too few records: {first_shard:?}"
    );
    let iterator = cli
        .kinesis(&[
            "get-shard-iterator",
            "--stream-name",
            stream,
            "--shard-id",
            ids[0],
            "--shard-iterator-type",
            "AFTER_SEQUENCE_NUMBER",
            "--starting-sequence-number",
            &first_shard[0],
        ])
        .await
        .json();
    let page = cli
        .kinesis_json(&[
            "get-records",
            "--shard-iterator",
            str_of(&iterator, "/ShardIterator"),
        ])
        .await;
    let after = strings_of(&page, "Records", "/SequenceNumber");
    assert_eq!(
        after,
        first_shard[1..],
        "AFTER_SEQUENCE_NUMBER skipped or repeated records"
    );

    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_tags_and_splits_a_shard_with_lineage() {
    let (emulator, cli) = start().await;
    let stream = "riffle-cli-split";
    cli.create_stream(stream, "1").await.json();

    let tagged = cli.kinesis(&[
        "add-tags-to-stream",
        "--stream-name",
        stream,
        "--tags",
        "team=riffle,env=test",
    ]);
    assert_eq!(tagged.await.json(), Value::Null);
    let tags = cli
        .kinesis_json(&["list-tags-for-stream", "--stream-name", stream])
        .await;
    let pairs: BTreeSet<(&str, &str)> = tags["Tags"]
        .as_array()
        .expect("Tags")
        .iter()
        .map(|t| (str_of(t, "/Key"), str_of(t, "/Value")))
        .collect();
    assert_eq!(
        pairs,
        BTreeSet::from([("env", "test"), ("team", "riffle")]),
        "{tags:#}"
    );
    assert_eq!(tags["HasMoreTags"], false);
    cli.kinesis_json(&[
        "remove-tags-from-stream",
        "--stream-name",
        stream,
        "--tag-keys",
        "env",
    ])
    .await;
    let tags = cli
        .kinesis_json(&["list-tags-for-stream", "--stream-name", stream])
        .await;
    assert_eq!(
        tags["Tags"],
        serde_json::json!([{ "Key": "team", "Value": "riffle" }])
    );

    let put = cli.put_record(stream, "k", "before split").await.json();
    assert_eq!(str_of(&put, "/ShardId"), "shardId-000000000000");

    let middle = "170141183460469231731687303715884105728"; // 2^127
    let split = cli.kinesis(&[
        "split-shard",
        "--stream-name",
        stream,
        "--shard-to-split",
        "shardId-000000000000",
        "--new-starting-hash-key",
        middle,
    ]);
    assert_eq!(split.await.json(), Value::Null);
    cli.kinesis_json(&["wait", "stream-exists", "--stream-name", stream])
        .await;

    // The closed parent is still listed (its records are within retention), then its children.
    let listed = cli
        .kinesis_json(&["list-shards", "--stream-name", stream])
        .await;
    let shards = listed["Shards"].as_array().expect("Shards");
    let ids: Vec<&str> = shards.iter().map(|s| str_of(s, "/ShardId")).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    let parent = &shards[0];
    assert!(parent.get("ParentShardId").is_none(), "{parent:#}");
    assert!(
        parent["SequenceNumberRange"]
            .get("EndingSequenceNumber")
            .is_some(),
        "a split parent is closed: {parent:#}"
    );
    for (child, (start, end)) in shards[1..].iter().zip([
        ("0", "170141183460469231731687303715884105727"),
        (middle, MAX_HASH_KEY),
    ]) {
        assert_eq!(
            str_of(child, "/ParentShardId"),
            "shardId-000000000000",
            "{child:#}"
        );
        assert!(child.get("AdjacentParentShardId").is_none(), "{child:#}");
        assert_eq!(
            str_of(child, "/HashKeyRange/StartingHashKey"),
            start,
            "{child:#}"
        );
        assert_eq!(
            str_of(child, "/HashKeyRange/EndingHashKey"),
            end,
            "{child:#}"
        );
        assert!(
            child["SequenceNumberRange"]
                .get("EndingSequenceNumber")
                .is_none(),
            "{child:#}"
        );
    }
    let open = cli
        .kinesis_json(&[
            "list-shards",
            "--stream-name",
            stream,
            "--shard-filter",
            "Type=AT_LATEST",
        ])
        .await;
    let open = strings_of(&open, "Shards", "/ShardId");
    assert_eq!(open, ["shardId-000000000001", "shardId-000000000002"]);
    let summary = cli
        .kinesis_json(&["describe-stream-summary", "--stream-name", stream])
        .await;
    assert_eq!(
        summary["StreamDescriptionSummary"]["OpenShardCount"], 2,
        "{summary:#}"
    );

    // Reading the parent to its end yields its record, then the children instead of an iterator.
    let (records, last) = read_shard(&cli, stream, "shardId-000000000000").await;
    assert_eq!(records.len(), 1);
    assert_eq!(base64_decode(str_of(&records[0], "/Data")), b"before split");
    assert!(
        last.get("NextShardIterator").is_none_or(Value::is_null),
        "{last:#}"
    );
    let children = strings_of(&last, "ChildShards", "/ShardId");
    assert_eq!(
        children,
        ["shardId-000000000001", "shardId-000000000002"],
        "{last:#}"
    );

    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_errors_exit_non_zero_with_aws_error_codes() {
    let (emulator, cli) = start().await;

    let stderr = cli
        .kinesis(&["describe-stream-summary", "--stream-name", "no-such-stream"])
        .await
        .failure();
    assert!(
        stderr.contains("ResourceNotFoundException") && stderr.contains("DescribeStreamSummary"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no-such-stream"),
        "the message names the stream: {stderr}"
    );

    let stderr = cli.create_stream("bad name!", "1").await.failure();
    assert!(stderr.contains("ValidationException"), "{stderr}");

    cli.create_stream("taken", "1").await.json();
    let stderr = cli.create_stream("taken", "1").await.failure();
    assert!(stderr.contains("ResourceInUseException"), "{stderr}");

    let stderr = cli.put_record("no-such-stream", "k", "x").await.failure();
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");

    emulator.shutdown().await.expect("clean shutdown");
}
