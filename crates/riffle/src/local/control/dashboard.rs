//! The web dashboard `riffle local` serves at `/_riffle/`: one HTML page, one script and one
//! stylesheet, embedded in the binary (no build step, nothing fetched from elsewhere), and the
//! JSON endpoints under `/_riffle/api/` the page polls:
//!
//! - `GET /_riffle/api/overview`: every mapping with its state and counters, each Kinesis
//!   shard's status, the functions, streams and queues;
//! - `GET /_riffle/api/series`: the last ten minutes of per-second samples ([`series`]);
//! - `GET /_riffle/api/destinations`, `POST /_riffle/api/redrive`: the on-failure and
//!   dead-letter queues, peeked, and their redrive ([`destinations`]);
//! - `POST /_riffle/api/put`: PutRecord to a stream or SendMessage to a queue;
//! - `GET /_riffle/api/logs?function=F[&request_id=R]`: a function's captured log lines.
//!
//! The journal comes from the control API's own `GET /_riffle/mappings/{id}/journal`.
//! Invariant: the dashboard only reads what the status table and the control API read; the
//! page asks nothing while its tab is hidden, so an unwatched dashboard costs the sampler only.

mod destinations;
pub(super) mod series;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use riffle_lambda::invoke_api::query_pairs;
use riffle_runtime::ShardStatus;
use riffle_template::{Application, SourceKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::{Control, Ready, control_error, json_response, mapping_json, starting};

const INDEX_HTML: &str = include_str!("dashboard/assets/index.html");
const SCRIPT: &str = include_str!("dashboard/assets/dashboard.js");
const STYLE: &str = include_str!("dashboard/assets/dashboard.css");

/// What the dashboard knows of the run beyond the running mappings: where the emulator is, the
/// template's streams and queues, and the sampled counters.
pub(super) struct Setup {
    /// The AWS endpoint (the embedded emulator, or `--endpoint-url`).
    endpoint: String,
    /// Where the Lambda Invoke API is (for redrives).
    lambda_endpoint: String,
    region: String,
    kinesis: riffle_aws::KinesisClient,
    sqs: riffle_aws::SqsClient,
    streams: Vec<String>,
    queues: Vec<QueueView>,
    destinations: Vec<destinations::Destination>,
    pub(super) series: series::Series,
}

/// A queue of the template, as the put form lists it.
#[derive(Debug, Clone, Serialize)]
struct QueueView {
    name: String,
    url: String,
    fifo: bool,
}

impl Setup {
    /// Reads what the dashboard needs from the template; `endpoint` is where AWS's APIs are,
    /// `lambda_endpoint` the Invoke API.
    pub(super) fn new(
        app: &Application,
        endpoint: &str,
        lambda_endpoint: &str,
        region: &str,
    ) -> Self {
        let (kinesis, sqs) = riffle_aws::clients(endpoint, region);
        Self {
            endpoint: endpoint.to_owned(),
            lambda_endpoint: lambda_endpoint.to_owned(),
            region: region.to_owned(),
            kinesis,
            sqs,
            streams: app.streams.iter().map(|s| s.name.clone()).collect(),
            queues: app
                .queues
                .iter()
                .map(|q| QueueView {
                    name: q.name.clone(),
                    url: q.url.clone(),
                    fifo: q.fifo,
                })
                .collect(),
            destinations: destinations::of(app),
            series: series::Series::default(),
        }
    }
}

/// The dashboard's routes, merged into the control API's.
pub(super) fn routes() -> Router<Control> {
    Router::new()
        .route(
            "/_riffle/",
            get(|| asset("text/html; charset=utf-8", INDEX_HTML)),
        )
        .route(
            "/_riffle/dashboard.js",
            get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/_riffle/dashboard.css",
            get(|| asset("text/css; charset=utf-8", STYLE)),
        )
        .route("/_riffle/api/overview", get(overview))
        .route("/_riffle/api/series", get(series_route))
        .route("/_riffle/api/destinations", get(destinations::list))
        .route("/_riffle/api/redrive", post(destinations::redrive))
        .route("/_riffle/api/put", post(put))
        .route("/_riffle/api/logs", get(logs))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The run and the dashboard's view of it, once everything started.
fn ready(control: &Control) -> Option<(&Ready, &Setup)> {
    control.get().map(|ready| (ready, &ready.dashboard))
}

fn ok<T: Serialize>(value: &T) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(value).unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------
// Overview

/// `GET /_riffle/api/overview`.
#[derive(Debug, Serialize)]
struct Overview<'a> {
    /// Milliseconds since the epoch, when it was read.
    at: u64,
    endpoint: &'a str,
    mappings: Vec<MappingView>,
    functions: Vec<FunctionView>,
    streams: &'a [String],
    queues: &'a [QueueView],
}

/// A mapping as `GET /_riffle/mappings` shows it, and each Kinesis shard's status.
#[derive(Debug, Serialize)]
struct MappingView {
    #[serde(flatten)]
    mapping: Value,
    /// Kinesis: each shard read so far (the status table's columns).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    shards: BTreeMap<String, ShardStatus>,
}

#[derive(Debug, Serialize)]
struct FunctionView {
    logical_id: String,
    name: String,
    invocations: u64,
    errors: u64,
    throttles: u64,
    concurrent_executions: usize,
}

async fn overview(State(control): State<Control>) -> Response {
    let Some((ready, setup)) = ready(&control) else {
        return starting();
    };
    let running = &ready.running;
    let mappings = ready
        .mappings
        .iter()
        .map(|info| MappingView {
            mapping: mapping_json(info, running),
            shards: match info.kind {
                SourceKind::Kinesis => running
                    .kinesis
                    .iter()
                    .find(|(id, _)| *id == info.id)
                    .map(|(_, c)| c.mapping().metrics().shards())
                    .unwrap_or_default(),
                SourceKind::Sqs => BTreeMap::new(),
            },
        })
        .collect();
    let functions = running
        .functions
        .iter()
        .map(|(logical_id, function)| {
            let stats = function.stats();
            FunctionView {
                logical_id: logical_id.clone(),
                name: function.config().name.clone(),
                invocations: stats.invocations,
                errors: stats.errors,
                throttles: stats.throttles,
                concurrent_executions: stats.concurrent_executions,
            }
        })
        .collect();
    ok(&Overview {
        at: series::now_ms(),
        endpoint: &setup.endpoint,
        mappings,
        functions,
        streams: &setup.streams,
        queues: &setup.queues,
    })
}

async fn series_route(State(control): State<Control>) -> Response {
    match ready(&control) {
        Some((_, setup)) => ok(&setup.series.samples()),
        None => starting(),
    }
}

// ---------------------------------------------------------------------------------------------
// Putting records

/// `POST /_riffle/api/put`: a record for `stream`, or a message for `queue`.
#[derive(Debug, Deserialize)]
struct PutRequest {
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    partition_key: Option<String>,
    /// The record's data or the message's body.
    data: String,
    /// FIFO queues: the MessageGroupId.
    #[serde(default)]
    group_id: Option<String>,
}

/// What was put.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum PutAnswer {
    Record {
        shard_id: String,
        sequence_number: String,
    },
    Message {
        message_id: String,
    },
}

async fn put(State(control): State<Control>, body: axum::body::Bytes) -> Response {
    let Some((_, setup)) = ready(&control) else {
        return starting();
    };
    let request: PutRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return invalid(&format!("the request is not a put: {e}")),
    };
    let answer = match (&request.stream, &request.queue) {
        (Some(stream), None) => {
            let key = request
                .partition_key
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "dashboard".to_owned());
            riffle_aws::tools::kinesis::put_record(
                &setup.kinesis,
                stream,
                key,
                request.data.into_bytes(),
            )
            .await
            .map(|(shard_id, sequence_number)| PutAnswer::Record {
                shard_id,
                sequence_number,
            })
        }
        (None, Some(queue)) => {
            let url = setup
                .queues
                .iter()
                .find(|q| q.name == *queue || q.url == *queue)
                .map_or_else(|| queue.clone(), |q| q.url.clone());
            let group = request.group_id.as_deref().filter(|g| !g.is_empty());
            riffle_aws::tools::sqs::send(&setup.sqs, &url, &request.data, group)
                .await
                .map(|message_id| PutAnswer::Message { message_id })
        }
        _ => return invalid("name either a stream or a queue"),
    };
    match answer {
        Ok(answer) => ok(&answer),
        Err(message) => control_error(StatusCode::BAD_REQUEST, "PutFailed", &message, None),
    }
}

fn invalid(message: &str) -> Response {
    control_error(StatusCode::BAD_REQUEST, "InvalidParameter", message, None)
}

// ---------------------------------------------------------------------------------------------
// Logs

/// One captured line of a function, as the logs panel shows it.
#[derive(Debug, Serialize)]
struct LogView {
    at: u64,
    environment: u64,
    request_id: Option<String>,
    /// `stdout`, `stderr` or `platform`.
    source: &'static str,
    line: String,
}

/// How many lines the logs route answers at most (the newest).
const MAX_LOG_LINES: usize = 500;

async fn logs(State(control): State<Control>, RawQuery(query): RawQuery) -> Response {
    let Some((ready, _)) = ready(&control) else {
        return starting();
    };
    let query = query_pairs(query.as_deref());
    let Some(name) = query.get("function") else {
        return invalid("say which function: ?function=NAME");
    };
    let function = ready
        .running
        .functions
        .iter()
        .find(|(id, f)| *id == name || f.config().name == *name);
    let Some((_, function)) = function else {
        let known: Vec<String> = ready.running.functions.keys().cloned().collect();
        return control_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {name}"),
            Some(&known),
        );
    };
    let lines = match query.get("request_id").filter(|r| !r.is_empty()) {
        Some(request_id) => function.logs().for_request(request_id),
        None => function.logs().lines(),
    };
    let skip = lines.len().saturating_sub(MAX_LOG_LINES);
    let views: Vec<LogView> = lines
        .into_iter()
        .skip(skip)
        .map(|l| LogView {
            at: l.at,
            environment: l.environment,
            request_id: l.request_id,
            source: match l.source {
                riffle_lambda::LogSource::Stdout => "stdout",
                riffle_lambda::LogSource::Stderr => "stderr",
                riffle_lambda::LogSource::Platform => "platform",
            },
            line: l.line,
        })
        .collect();
    ok(&views)
}
