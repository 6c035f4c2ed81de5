//! Shared helpers: start an emulator, build an SDK client for it, read error codes.

use std::sync::Arc;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use riffle_emulator::{Config, Emulator, ManualClock};

pub(crate) mod cli;
pub(crate) mod kinesis;
pub(crate) mod sqs;

/// 2023-11-14T22:13:20Z: where manual clocks start.
pub(crate) const T0: u64 = 1_700_000_000_000;

/// A client of SDK crate `$sdk` for `$endpoint`, as a user would configure it: endpoint URL,
/// region, dummy credentials, plain HTTP, no retries (so every error surfaces).
macro_rules! sdk_client {
    ($sdk:ident, $endpoint:expr) => {{
        use $sdk::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
        let credentials = Credentials::new("AKIDTEST", "SECRETTEST", None, None, "test");
        let config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url($endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// A Kinesis SDK client for `endpoint` (see [`sdk_client`]).
pub(crate) fn client(endpoint: &str) -> Client {
    sdk_client!(aws_sdk_kinesis, endpoint)
}

/// An SQS SDK client for `endpoint`, configured like [`client`].
pub(crate) fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    sdk_client!(aws_sdk_sqs, endpoint)
}

/// A Firehose SDK client for `endpoint`, configured like [`client`].
pub(crate) fn firehose_client(endpoint: &str) -> aws_sdk_firehose::Client {
    sdk_client!(aws_sdk_firehose, endpoint)
}

/// An emulator with a manual clock, and an SQS client for it.
pub(crate) async fn start_sqs_manual() -> (Emulator, aws_sdk_sqs::Client, ManualClock) {
    let (emulator, _, clock) = start_manual().await;
    let client = sqs_client(&emulator.endpoint_url());
    (emulator, client, clock)
}

/// An emulator with the system clock, and an SQS client for it.
pub(crate) async fn start_sqs() -> (Emulator, aws_sdk_sqs::Client) {
    let (emulator, _) = start().await;
    let client = sqs_client(&emulator.endpoint_url());
    (emulator, client)
}

/// An emulator on a free port with the system clock, and a client for it.
pub(crate) async fn start() -> (Emulator, Client) {
    start_with(Config::default()).await
}

/// An emulator with `config` (port forced to 0), and a client for it.
pub(crate) async fn start_with(config: Config) -> (Emulator, Client) {
    let emulator = Emulator::start(Config { port: 0, ..config })
        .await
        .expect("emulator starts");
    let client = client(&emulator.endpoint_url());
    (emulator, client)
}

/// An emulator whose clock only moves when the test says, and a client for it.
pub(crate) async fn start_manual() -> (Emulator, Client, ManualClock) {
    let clock = ManualClock::new(T0);
    let (emulator, client) = start_with(Config {
        clock: Arc::new(clock.clone()),
        ..Config::default()
    })
    .await;
    (emulator, client, clock)
}

/// The service error of an SDK call that must have failed, to match on its kind.
macro_rules! service_error {
    ($out:expr) => {
        $out.unwrap_err().into_service_error()
    };
}
pub(crate) use service_error;

/// The AWS error code of a failed SDK call.
pub(crate) fn code<T, E: ProvideErrorMetadata>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => "<succeeded>".to_owned(),
        Err(e) => e.code().unwrap_or("<no code>").to_owned(),
    }
}

/// The AWS error message of a failed SDK call.
pub(crate) fn message<T, E: ProvideErrorMetadata>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => String::new(),
        Err(e) => e.message().unwrap_or_default().to_owned(),
    }
}

/// Creates stream `name` with `shards` shards.
pub(crate) async fn create_stream(client: &Client, name: &str, shards: i32) {
    kinesis::try_create(client, name, shards)
        .await
        .expect("created");
}

/// The shard ids of `stream`, open and closed.
pub(crate) async fn shard_ids(client: &Client, stream: &str) -> Vec<String> {
    let out = kinesis::list_shards(client, stream).await;
    out.shards()
        .iter()
        .map(|s| s.shard_id().to_owned())
        .collect()
}

/// The `riffle` binary next to this test binary (`cargo build -p riffle`, which `make test` runs
/// first), or `RIFFLE_BIN`.
pub(crate) fn riffle_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("RIFFLE_BIN") {
        return std::path::PathBuf::from(path);
    }
    // target/<profile>/deps/e2e-<hash> → target/<profile>/riffle
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("riffle");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build -p riffle`, which `make test` does) or set \
         RIFFLE_BIN",
        path.display()
    );
    path
}

/// `GET {endpoint}{path}` over plain HTTP/1.1: the status and the body as JSON (`Null` if it
/// is not JSON), for Riffle's own `/_riffle/…` routes.
pub(crate) async fn http_get(endpoint: &str, path: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = status_of(head);
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// The status code of an HTTP/1.1 response whose head (or status line) is `head`.
pub(crate) fn status_of(head: &str) -> u16 {
    let status_line = head.lines().next().expect("a status line");
    status_line.split(' ').nth(1).unwrap().parse().unwrap()
}
