//! Running the `riffle` binary as a user does, and the files it is given: its output read back,
//! scratch directories, the probe function installed as a `bootstrap`.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::riffle_binary;

/// Runs `riffle ARGS` against `endpoint` without blocking the runtime the emulator serves on,
/// to its end (bounded).
pub(crate) async fn riffle(endpoint: &str, args: &[&str]) -> Output {
    let run = tokio::process::Command::new(riffle_binary())
        .args(args)
        .env("RIFFLE_ENDPOINT_URL", endpoint)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("riffle finishes within a minute")
        .expect("riffle runs")
}

/// `riffle ARGS` (against `endpoint` if given) started with `stdin`, its stdout and stderr
/// piped, killed if dropped.
pub(crate) fn spawn(args: &[&str], endpoint: Option<&str>, stdin: Stdio) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(riffle_binary());
    command.args(args);
    if let Some(endpoint) = endpoint {
        command.env("RIFFLE_ENDPOINT_URL", endpoint);
    }
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.kill_on_drop(true).spawn().expect("riffle runs")
}

/// Waits (bounded) for `child` to end; what it wrote.
pub(crate) async fn finish(child: tokio::process::Child) -> Output {
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("riffle finishes within a minute")
        .unwrap()
}

/// `riffle ARGS` against `endpoint`, with `stdin` as its standard input, to its end (bounded).
pub(crate) async fn riffle_with(endpoint: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args, Some(endpoint), Stdio::piped());
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    finish(child).await
}

/// The standard output of a run that must have succeeded.
pub(crate) fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "riffle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The run failed, and its standard error says `text`.
#[track_caller]
pub(crate) fn assert_fails_saying(output: &Output, text: &str) {
    assert!(!output.status.success());
    assert!(stderr(output).contains(text), "{}", stderr(output));
}

/// The standard error of a run, whatever its end.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A new directory `riffle-{name}-{pid}-{nanos}` under the system temp dir.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("riffle-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Installs the probe function as `dir/probe/bootstrap`, where a template's `CodeUri: probe`
/// finds it.
pub(crate) fn install_probe(dir: &Path) {
    std::fs::create_dir_all(dir.join("probe")).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_lambda-probe"),
        dir.join("probe").join("bootstrap"),
    )
    .unwrap();
}

/// A SAM template of `resources`, each one resource's YAML indented by two spaces (as
/// [`stream_resource`], [`queue_resource`] and [`probe_function`] write them).
pub(crate) fn sam_template(resources: &[String]) -> String {
    let head = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n";
    format!("{head}Resources:\n{}", resources.concat())
}

/// Resource `logical`: the Kinesis stream `name` with one shard.
pub(crate) fn stream_resource(logical: &str, name: &str) -> String {
    format!(
        "  {logical}:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Name: {name}\n      \
         ShardCount: 1\n"
    )
}

/// Resource `logical`: the SQS queue `name`.
pub(crate) fn queue_resource(logical: &str, name: &str) -> String {
    format!("  {logical}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {name}\n")
}

/// Resource `logical`: function `name`, the probe [`install_probe`] installs, with a 10 s
/// timeout; `properties` (YAML indented by six spaces: Environment, Events, …) follow.
pub(crate) fn probe_function(logical: &str, name: &str, properties: &str) -> String {
    format!(
        "  {logical}:\n    Type: AWS::Serverless::Function\n    Properties:\n      \
         FunctionName: {name}\n      CodeUri: probe/\n      Handler: bootstrap\n      \
         Runtime: provided.al2023\n      Timeout: 10\n{properties}"
    )
}

/// Entry `name` of a function's `Events`: a Kinesis source reading stream `stream` (a logical
/// id) from TRIM_HORIZON in batches of 10; `more` (indented by twelve spaces) adds to its
/// Properties.
pub(crate) fn kinesis_event(name: &str, stream: &str, more: &str) -> String {
    format!(
        "        {name}:\n          Type: Kinesis\n          Properties:\n            \
         Stream: !GetAtt {stream}.Arn\n            StartingPosition: TRIM_HORIZON\n            \
         BatchSize: 10\n{more}"
    )
}

/// Starts `riffle emulator` on a free port with data directory `dir`, its stderr going to
/// `stderr`; returns it and the endpoint its ready line names.
pub(crate) fn spawn_emulator(dir: &Path, stderr: Stdio) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut command = std::process::Command::new(riffle_binary());
    command
        .args(["emulator", "--port", "0", "--data-dir"])
        .arg(dir);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let endpoint = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "ready line: {line}"
    );
    (child, endpoint)
}

/// Polls `GET {endpoint}{path}` of riffle local's control API (every 100 ms, for at most a
/// minute) until `check` accepts its answer; `check` says why not (what the failure shows).
pub(crate) async fn poll_control<T>(
    endpoint: &str,
    path: &str,
    what: &str,
    check: impl Fn(serde_json::Value) -> Result<T, String>,
) -> T {
    let limit = Duration::from_secs(60);
    let deadline = std::time::Instant::now() + limit;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        ticker.tick().await;
        let (status, answer) = super::http_get(endpoint, path).await;
        assert_eq!(status, 200, "{answer}");
        match check(answer) {
            Ok(found) => return found,
            Err(shown) => assert!(
                std::time::Instant::now() < deadline,
                "no {what} within {limit:?}: {shown}"
            ),
        }
    }
}

/// What [`start_local`] started: the process (killed when dropped), its JSON events, the events
/// seen so far, and the endpoint its ready event names.
pub(crate) type StartedLocal = (
    std::process::Child,
    crate::local::KillOnDrop,
    std::sync::mpsc::Receiver<serde_json::Value>,
    Vec<serde_json::Value>,
    String,
);

/// Starts `riffle local` (JSON logs, a status line every `status_every` seconds) on a free port
/// in `dir`, where it writes `template` and installs the probe, and waits (bounded) until it is
/// ready.
pub(crate) fn start_local(dir: &Path, template: &str, status_every: &str) -> StartedLocal {
    install_probe(dir);
    std::fs::write(dir.join("template.yaml"), template).unwrap();
    let mut command = std::process::Command::new(riffle_binary());
    command
        .current_dir(dir)
        .args(["local", "--port", "0", "--log-format", "json"])
        .args(["--status-every", status_every]);
    let (child, guard, events) = crate::local::spawn_json(command);
    let mut seen = Vec::new();
    let ready = crate::local::wait_ready(&events, &mut seen, Duration::from_secs(120));
    let endpoint = ready["endpoint"].as_str().unwrap().to_owned();
    (child, guard, events, seen, endpoint)
}
