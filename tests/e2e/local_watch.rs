//! `riffle local --watch` on a real function crate: a Kinesis function that logs `marker A
//! <sequence number>` per record is edited to say `marker B` while records flow; it is rebuilt
//! and swapped in (the `function_reloaded` event says so and how long the build took), and every
//! record is seen exactly once, A before the edit and B after. A broken edit shows rustc's
//! diagnostic and the B binary keeps serving; a template edit changing BatchSize is applied to
//! the running mapping and a new resource is reported as needing a restart; an invalid template
//! is reported with its errors and changes nothing.
//!
//! The function's crate is a temporary one with the same dependencies as `functions/*` and the
//! workspace's Cargo.lock, built into the workspace's target directory (CARGO_TARGET_DIR), so
//! the compiled dependencies are reused and each build compiles only the function.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::local::{spawn_json, wait_for, wait_ready};
use crate::support::cli::{kinesis_event, queue_resource, sam_template, stream_resource, temp_dir};
use crate::support::{client, kinesis, riffle_binary};

/// How long a build may take on a loaded machine.
const BUILD: Duration = Duration::from_secs(300);

const MANIFEST: &str = r#"[package]
name = "watch-marker"
version = "0.1.0"
edition = "2024"
publish = false

[[bin]]
name = "watch-marker"
path = "src/main.rs"

[dependencies]
aws_lambda_events = { version = "1.2", default-features = false, features = ["kinesis", "sqs", "streams"] }
lambda_runtime = { version = "1.5", default-features = false, features = ["tracing"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["rt-multi-thread", "net", "sync", "time", "macros", "signal", "fs", "io-util", "process"] }
tracing = "0.1"

[workspace]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
"#;

/// The function: one line `marker {marker} {sequence number}` per record.
fn main_rs(marker: &str) -> String {
    format!(
        r#"use aws_lambda_events::event::kinesis::KinesisEvent;
use lambda_runtime::{{Error, LambdaEvent, run, service_fn}};

async fn handler(event: LambdaEvent<KinesisEvent>) -> Result<(), Error> {{
    for record in event.payload.records {{
        println!("marker {marker} {{}}", record.kinesis.sequence_number);
    }}
    Ok(())
}}

#[tokio::main]
async fn main() -> Result<(), Error> {{
    run(service_fn(handler)).await
}}
"#
    )
}

/// The template: the stream, read by the marker function in batches of `batch_size`, and
/// `extra` resources.
fn template(batch_size: u32, extra: &[String]) -> String {
    let events = format!(
        "      Events:\n{}",
        kinesis_event("Records", "Stream", "")
            .replace("BatchSize: 10", &format!("BatchSize: {batch_size}"))
    );
    let function = format!(
        "  Marker:\n    Type: AWS::Serverless::Function\n    Metadata:\n      \
         BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: watch-marker\n    \
         Properties:\n      FunctionName: marker\n      CodeUri: marker/\n      \
         Handler: bootstrap\n      Runtime: provided.al2023\n      Timeout: 10\n{events}"
    );
    let mut resources = vec![stream_resource("Stream", "watch-stream"), function];
    resources.extend_from_slice(extra);
    sam_template(&resources)
}

/// Writes `text` to `path` through a temporary file and a rename, as editors save.
fn save(path: &Path, text: &str) {
    let temporary = path.with_extension("riffle-tmp~");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// The marker lines seen so far: sequence number → markers it was logged with.
fn markers(seen: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in seen.iter().filter(|e| e["event"] == "log") {
        let line = event["line"].as_str().unwrap_or_default();
        if let Some(rest) = line.strip_prefix("marker ")
            && let Some((marker, sequence)) = rest.split_once(' ')
        {
            found
                .entry(sequence.to_owned())
                .or_default()
                .push(marker.to_owned());
        }
    }
    found
}

/// Puts `n` records; their sequence numbers.
async fn put(kinesis_client: &aws_sdk_kinesis::Client, n: usize) -> Vec<String> {
    let mut sequences = Vec::new();
    for i in 0..n {
        let put = kinesis::put(kinesis_client, "watch-stream", "k", format!("record {i}")).await;
        sequences.push(put.sequence_number().to_owned());
    }
    sequences
}

/// Waits (bounded) until every one of `sequences` was logged with `marker`.
fn wait_marked(
    events: &mpsc::Receiver<Value>,
    seen: &mut Vec<Value>,
    sequences: &[String],
    marker: &str,
) {
    let limit = Duration::from_secs(60);
    let deadline = Instant::now() + limit;
    loop {
        let found = markers(seen);
        if sequences
            .iter()
            .all(|s| found.get(s).is_some_and(|m| m.iter().any(|m| m == marker)))
        {
            return;
        }
        match events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(event) => seen.push(event),
            Err(_) => panic!(
                "{sequences:?} not all logged with marker {marker} within {limit:?}: {found:?}"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_function_is_rebuilt_and_swapped_in_without_losing_or_repeating_a_record() {
    let dir = temp_dir("watch");
    let crate_dir = dir.join("marker");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    std::fs::write(crate_dir.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .unwrap();
    let source = crate_dir.join("src").join("main.rs");
    std::fs::write(&source, main_rs("A")).unwrap();
    std::fs::write(dir.join("template.yaml"), template(10, &[])).unwrap();
    let target_dir = riffle_binary()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();

    let mut command = std::process::Command::new(riffle_binary());
    command
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "local",
            "--port",
            "0",
            "--log-format",
            "json",
            "--status-every",
            "0",
        ])
        .args(["--watch", "--build-profile", "dev"]);
    let (_child, _guard, events) = spawn_json(command);
    let mut seen = Vec::new();
    let ready = wait_ready(&events, &mut seen, BUILD);
    let endpoint = ready["endpoint"].as_str().unwrap().to_owned();
    let kinesis_client = client(&endpoint);

    let first = put(&kinesis_client, 3).await;
    wait_marked(&events, &mut seen, &first, "A");

    save(&source, &main_rs("B"));
    let reloaded = wait_for(&events, &mut seen, BUILD, "the reload", |e| {
        e["event"] == "function_reloaded"
    });
    assert_eq!(reloaded["function"], "Marker");
    assert!(reloaded["build_ms"].as_u64().is_some(), "{reloaded}");
    let second = put(&kinesis_client, 3).await;
    wait_marked(&events, &mut seen, &second, "B");

    // A broken edit: rustc's diagnostic is shown and B keeps serving.
    save(
        &source,
        &format!(
            "{}\nfn broken() -> u32 {{ \"not a number\" }}\n",
            main_rs("C")
        ),
    );
    let failed = wait_for(&events, &mut seen, BUILD, "the failed build", |e| {
        e["event"] == "function_build_failed"
    });
    let output = failed["output"].as_str().unwrap();
    assert!(
        output.contains("error[E0308]: mismatched types"),
        "{output}"
    );
    assert!(
        output.contains("src/main.rs"),
        "rustc's rendering, located: {output}"
    );
    let third = put(&kinesis_client, 2).await;
    wait_marked(&events, &mut seen, &third, "B");

    // A template edit: BatchSize applies to the running mapping, a new queue needs a restart.
    save(
        &dir.join("template.yaml"),
        &template(5, &[queue_resource("Extra", "watch-extra")]),
    );
    let applied = wait_for(
        &events,
        &mut seen,
        Duration::from_secs(60),
        "the template",
        |e| e["event"] == "template_reloaded",
    );
    assert_eq!(
        applied["applied"],
        serde_json::json!(["MarkerRecords: BatchSize"])
    );
    assert_eq!(
        applied["needs_restart"],
        serde_json::json!(["Extra (added)"])
    );
    // An invalid template is reported and changes nothing.
    save(
        &dir.join("template.yaml"),
        &template(0, &[queue_resource("Extra", "watch-extra")]),
    );
    let invalid = wait_for(
        &events,
        &mut seen,
        Duration::from_secs(60),
        "the errors",
        |e| e["event"] == "template_invalid",
    );
    let errors = invalid["errors"].as_str().unwrap();
    assert!(errors.contains("BatchSize"), "{errors}");
    let fourth = put(&kinesis_client, 2).await;
    wait_marked(&events, &mut seen, &fourth, "B");

    let found = markers(&seen);
    let expected = |sequences: &[String], marker: &str| {
        for sequence in sequences {
            assert_eq!(
                found.get(sequence),
                Some(&vec![marker.to_owned()]),
                "record {sequence} delivered once, to the {marker} binary"
            );
        }
    };
    expected(&first, "A");
    expected(&second, "B");
    expected(&third, "B");
    expected(&fourth, "B");
    assert_eq!(found.len(), 10, "no other record: {found:?}");
}
