//! The control API `riffle local` serves on the emulator's port (through
//! `riffle_emulator::Config::extra_routes`), or on `--control-port` when it uses another endpoint:
//!
//! - `GET /_riffle/mappings`: every mapping with its kind, function, source, state and counters;
//! - `GET /_riffle/mappings/{id}/journal[?shard=S]`: the mapping's decision journal, oldest
//!   first, one JSON object per entry (`riffle explain` prints it);
//! - `POST /2015-03-31/functions/{name}/invocations`: Lambda's Invoke API, answered as AWS
//!   answers, so `aws lambda invoke --endpoint-url …`, aws-sdk-lambda and `riffle redrive` can
//!   invoke the template's functions.
//!
//! Invariants: the runtime's journal types become JSON here, and only here (the engine crates
//! know nothing of this API); until every function and mapping has started, every route answers
//! 503 rather than a partial view; an invocation through the API is the same invocation a
//! mapping makes (the function's `LocalFunction`, its timeout and reserved concurrency).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use riffle_core::invocation::Outcome;
use riffle_core::kinesis::shard::Decision;
use riffle_core::sqs::poller;
use riffle_core::time::{Millis, iso8601_millis};
use riffle_lambda::LocalFunction;
use riffle_runtime::{
    InvokeRequest, JournalEvent, JournalKind, Metrics, QueueJournalEvent, QueueMetrics,
};
use riffle_template::{Application, MappingConfig, SourceKind};
use serde_json::{Map, Value, json};

use super::run::Running;

/// Lambda's synchronous payload limit, as `LocalFunction` enforces it.
const MAX_PAYLOAD_BYTES: usize = riffle_lambda::function::MAX_REQUEST_BYTES;

/// The control API's state: empty until `riffle local` has started everything.
#[derive(Clone, Default)]
pub(crate) struct Control {
    ready: Arc<OnceLock<Ready>>,
    request_ids: Arc<AtomicU64>,
}

struct Ready {
    running: Arc<Running>,
    mappings: Vec<MappingInfo>,
}

/// What the template says about a mapping.
#[derive(Debug, Clone)]
struct MappingInfo {
    id: String,
    kind: SourceKind,
    function: String,
    event_source_arn: String,
    enabled: bool,
}

impl Control {
    /// The routes, for `Config::extra_routes` or a listener of their own.
    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/_riffle/mappings", get(mappings))
            .route("/_riffle/mappings/{id}/journal", get(journal))
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(self.clone())
    }

    /// Serves the routes on `bind:port` (for `riffle local --endpoint-url`); returns the
    /// address and the server task.
    pub(crate) async fn serve(
        &self,
        bind: IpAddr,
        port: u16,
    ) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        let addr = SocketAddr::new(bind, port);
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            crate::listen_error(addr, &e, "--control-port <PORT> (or RIFFLE_CONTROL_PORT)")
                .context("the control API")
        })?;
        let addr = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the control API server stopped");
            }
        });
        Ok((addr, task))
    }

    /// Everything runs: the routes answer from now on.
    pub(crate) fn ready(&self, running: Arc<Running>, app: &Application) {
        let mappings = app
            .mappings
            .iter()
            .map(|m| MappingInfo {
                id: m.logical_id.clone(),
                kind: m.kind,
                function: m.function_name.clone(),
                event_source_arn: m.event_source_arn.clone(),
                enabled: match &m.config {
                    MappingConfig::Kinesis(config) => config.enabled,
                    MappingConfig::Sqs(config) => config.enabled,
                },
            })
            .collect();
        let _ = self.ready.set(Ready { running, mappings });
    }

    fn get(&self) -> Option<&Ready> {
        self.ready.get()
    }

    /// A request id in Lambda's format (a version 4 UUID), unique within this run.
    fn request_id(&self) -> String {
        use std::hash::BuildHasher as _;
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        let random = std::collections::hash_map::RandomState::new().hash_one((n, now_ms()));
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            (random >> 32) as u32,
            (random >> 16) as u16,
            random & 0xfff,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// The query string's parameters, percent-decoded (`+` is a space).
fn query_pairs(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The answer until every function and mapping has started.
fn starting() -> Response {
    control_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Starting",
        "riffle local is still starting its functions and mappings; try again shortly",
        None,
    )
}

/// The control routes' error: `{"error", "message"}` (and the known mappings, when one was not
/// found).
fn control_error(
    status: StatusCode,
    error: &str,
    message: &str,
    known: Option<&[String]>,
) -> Response {
    let mut body = json!({ "error": error, "message": message });
    if let Some(known) = known {
        body["known"] = json!(known);
    }
    json_response(status, &body)
}

// ---------------------------------------------------------------------------------------------
// Mappings and journals

async fn mappings(State(control): State<Control>) -> Response {
    let Some(ready) = control.get() else {
        return starting();
    };
    let list: Vec<Value> = ready
        .mappings
        .iter()
        .map(|info| mapping_json(info, &ready.running))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

fn mapping_json(info: &MappingInfo, running: &Running) -> Value {
    let (state, counters) = match info.kind {
        SourceKind::Kinesis => match running.kinesis.iter().find(|(id, _)| *id == info.id) {
            Some((_, controller)) => (
                controller.state().as_str(),
                kinesis_counters(controller.mapping().metrics()),
            ),
            None => ("Unknown", Value::Null),
        },
        SourceKind::Sqs => match running.queues.iter().find(|(id, _)| *id == info.id) {
            Some((_, mapping)) => (
                if info.enabled { "Enabled" } else { "Disabled" },
                queue_counters(mapping.metrics()),
            ),
            None => ("Unknown", Value::Null),
        },
    };
    json!({
        "id": info.id,
        "kind": kind_name(info.kind),
        "function": info.function,
        "event_source_arn": info.event_source_arn,
        "state": state,
        "counters": counters,
    })
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Kinesis => "kinesis",
        SourceKind::Sqs => "sqs",
    }
}

/// A Kinesis mapping's counters.
pub(crate) fn kinesis_counters(m: &Metrics) -> Value {
    let get = Metrics::get;
    json!({
        "polled": get(&m.polled),
        "invocations": get(&m.invocations),
        "invoked_records": get(&m.invoked_records),
        "errors": get(&m.errors),
        "retries": get(&m.retries),
        "bisects": get(&m.bisects),
        "sent_to_destination": get(&m.sent_to_destination),
        "dropped": get(&m.dropped),
        "filtered": get(&m.filtered),
        "iterator_age_ms": m.iterator_ages(),
    })
}

/// An SQS mapping's counters.
pub(crate) fn queue_counters(m: &QueueMetrics) -> Value {
    let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
    json!({
        "received": get(&m.polled),
        "invocations": get(&m.invocations),
        "invoked_messages": get(&m.invoked_messages),
        "deleted": get(&m.deleted),
        "failed": get(&m.failed),
        "filtered": get(&m.filtered),
        "errors": get(&m.errors),
        "throttles": get(&m.throttles),
        "pollers": m.pollers.load(Ordering::Relaxed),
        "in_flight": m.in_flight.load(Ordering::Relaxed),
        "oldest_message_age_ms": get(&m.oldest_message_age_ms),
        "last_error": m.last_error().map(|(_, error)| error),
    })
}

async fn journal(
    State(control): State<Control>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query_pairs(query.as_deref());
    let Some(ready) = control.get() else {
        return starting();
    };
    let shard = query.get("shard").map(String::as_str);
    if let Some((_, controller)) = ready.running.kinesis.iter().find(|(m, _)| *m == id) {
        // A shard the mapping has never read is most likely a typo: say which ones it has.
        let known: Vec<String> = controller
            .mapping()
            .metrics()
            .shards()
            .into_keys()
            .collect();
        if let Some(shard) = shard
            && !known.iter().any(|k| k == shard)
        {
            return control_error(
                StatusCode::NOT_FOUND,
                "UnknownShard",
                &format!(
                    "mapping {id} has read no shard {shard}; its shards are: {}",
                    if known.is_empty() {
                        "none yet".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
                Some(&known),
            );
        }
        let entries: Vec<Value> = controller
            .mapping()
            .journal()
            .entries(shard)
            .iter()
            .map(journal_json)
            .collect();
        return json_response(StatusCode::OK, &Value::Array(entries));
    }
    if let Some((_, mapping)) = ready.running.queues.iter().find(|(m, _)| *m == id) {
        if let Some(shard) = shard {
            return control_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!(
                    "mapping {id} reads an SQS queue, which has no shards (asked for shard {shard}); \
                     leave out ?shard="
                ),
                None,
            );
        }
        let entries: Vec<Value> = mapping.journal().iter().map(queue_journal_json).collect();
        return json_response(StatusCode::OK, &Value::Array(entries));
    }
    let known: Vec<String> = ready.mappings.iter().map(|m| m.id.clone()).collect();
    control_error(
        StatusCode::NOT_FOUND,
        "UnknownMapping",
        &format!(
            "riffle local runs no mapping {id}; its mappings are: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ),
        Some(&known),
    )
}

fn entry(at: Millis, kind: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("at".into(), json!(at));
    object.insert("time".into(), json!(iso8601_millis(at)));
    object.insert("kind".into(), json!(kind));
    object
}

fn range(object: &mut Map<String, Value>, first: &str, last: &str) {
    object.insert("first_sequence_number".into(), json!(first));
    object.insert("last_sequence_number".into(), json!(last));
}

/// One Kinesis journal entry: `at` (epoch ms), `time` (ISO 8601), `shard`, `kind` (snake case)
/// and the kind's fields; a lane's entries carry `lane`, ranges `first_sequence_number` and
/// `last_sequence_number`, and times the engine scheduled both as ms and as ISO text.
pub(crate) fn journal_json(event: &JournalEvent) -> Value {
    let at = event.at;
    let mut o = match &event.kind {
        JournalKind::ShardStarted { from } => {
            let mut o = entry(at, "shard_started");
            o.insert("from".into(), json!(from));
            o
        }
        JournalKind::Polled {
            records,
            millis_behind,
        } => {
            let mut o = entry(at, "polled");
            o.insert("records".into(), json!(records));
            o.insert("millis_behind".into(), json!(millis_behind));
            o
        }
        JournalKind::PollFailed { error } => {
            let mut o = entry(at, "poll_failed");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::CheckpointFailed { error } => {
            let mut o = entry(at, "checkpoint_failed");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::Invoked {
            lane,
            records,
            range: sequence_range,
            previous_invocations,
        } => {
            let mut o = entry(at, "invoked");
            o.insert("lane".into(), json!(lane));
            o.insert("records".into(), json!(records));
            if let Some((first, last)) = sequence_range {
                range(&mut o, first, last);
            }
            o.insert("previous_invocations".into(), json!(previous_invocations));
            o
        }
        JournalKind::Decision(decision) => decision_json(at, decision),
        JournalKind::Checkpointed { sequence_number } => {
            let mut o = entry(at, "checkpointed");
            o.insert("sequence_number".into(), json!(sequence_number));
            o
        }
        JournalKind::Delivered { destination } => {
            let mut o = entry(at, "delivered");
            o.insert("destination".into(), json!(destination));
            o
        }
        JournalKind::DeliveryError { error } => {
            let mut o = entry(at, "delivery_error");
            o.insert("error".into(), json!(error));
            o
        }
        JournalKind::ShardFinished => entry(at, "shard_finished"),
    };
    o.insert("shard".into(), json!(event.shard_id));
    Value::Object(o)
}

fn decision_json(at: Millis, decision: &Decision) -> Map<String, Value> {
    let lane_entry = |kind: &str, lane: usize| {
        let mut o = entry(at, kind);
        o.insert("lane".into(), json!(lane));
        o
    };
    match decision {
        Decision::Succeeded { lane, records } => {
            let mut o = lane_entry("succeeded", *lane);
            o.insert("records".into(), json!(records));
            o
        }
        Decision::PartiallyFailed {
            lane,
            resume_at,
            succeeded,
        } => {
            let mut o = lane_entry("partially_failed", *lane);
            o.insert("resume_at".into(), json!(resume_at.as_str()));
            o.insert("succeeded".into(), json!(succeeded));
            o
        }
        Decision::Failed {
            lane,
            reason,
            attempts,
        } => {
            let mut o = lane_entry("failed", *lane);
            o.insert("reason".into(), json!(reason));
            o.insert("attempts".into(), json!(attempts));
            o
        }
        Decision::Bisected { lane, left, right } => {
            let mut o = lane_entry("bisected", *lane);
            o.insert("left".into(), json!(left));
            o.insert("right".into(), json!(right));
            o
        }
        Decision::RetryScheduled {
            lane,
            at: retry_at,
            reason,
        } => {
            let mut o = lane_entry("retry_scheduled", *lane);
            o.insert("retry_at".into(), json!(retry_at));
            o.insert("retry_time".into(), json!(iso8601_millis(*retry_at)));
            o.insert("reason".into(), json!(reason));
            o
        }
        Decision::Filtered { records } => {
            let mut o = entry(at, "filtered");
            o.insert("records".into(), json!(records));
            o
        }
        Decision::WindowStateDropped { lane } => lane_entry("window_state_dropped", *lane),
        Decision::Discarded {
            lane,
            condition,
            range: (first, last),
            records,
            delivered,
        } => {
            let mut o = lane_entry("discarded", *lane);
            o.insert("condition".into(), json!(condition.as_str()));
            range(&mut o, first.as_str(), last.as_str());
            o.insert("records".into(), json!(records));
            o.insert("delivered".into(), json!(delivered));
            o
        }
        Decision::DeliveryFailed { lane, retry_at } => {
            let mut o = lane_entry("delivery_failed", *lane);
            o.insert("retry_at".into(), json!(retry_at));
            o.insert("retry_time".into(), json!(iso8601_millis(*retry_at)));
            o
        }
    }
}

/// One SQS journal entry: `at`, `time`, `poller` (SQS mappings have pollers, not shards),
/// `kind` and its fields.
pub(crate) fn queue_journal_json(event: &QueueJournalEvent) -> Value {
    let at = event.at;
    let mut o = match &event.kind {
        poller::Decision::Received { messages } => {
            let mut o = entry(at, "received");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::SourceFailed { call, error } => {
            let mut o = entry(at, "source_failed");
            o.insert("call".into(), json!(call));
            o.insert("error".into(), json!(error));
            o
        }
        poller::Decision::Filtered { messages } => {
            let mut o = entry(at, "filtered");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::Invoked {
            messages,
            first_message_id,
            throttles,
        } => {
            let mut o = entry(at, "invoked");
            o.insert("messages".into(), json!(messages));
            o.insert("first_message_id".into(), json!(first_message_id));
            o.insert("throttles".into(), json!(throttles));
            o
        }
        poller::Decision::Throttled { retry_in_ms } => {
            let mut o = entry(at, "throttled");
            o.insert("retry_in_ms".into(), json!(retry_in_ms));
            o
        }
        poller::Decision::Settled {
            settled,
            deleted,
            returned,
        } => {
            let mut o = entry(at, "settled");
            let (outcome, detail) = match settled {
                poller::Settled::Success => ("success", None),
                poller::Settled::PartialFailure(ids) => {
                    o.insert("failed_message_ids".into(), json!(ids));
                    ("partial_failure", None)
                }
                poller::Settled::InvalidResponse(reason) => ("invalid_response", Some(reason)),
                poller::Settled::FunctionError(reason) => ("function_error", Some(reason)),
                poller::Settled::GaveUp(reason) => ("gave_up", Some(reason)),
            };
            o.insert("outcome".into(), json!(outcome));
            if let Some(reason) = detail {
                o.insert("reason".into(), json!(reason));
            }
            o.insert("deleted".into(), json!(deleted));
            o.insert("returned".into(), json!(returned));
            o
        }
        poller::Decision::DeleteFailed { failures } => {
            let mut o = entry(at, "delete_failed");
            let failures: Vec<Value> = failures
                .iter()
                .map(|f| {
                    json!({
                        "message_id": f.message_id,
                        "code": f.code,
                        "sender_fault": f.sender_fault,
                    })
                })
                .collect();
            o.insert("failures".into(), json!(failures));
            o
        }
        poller::Decision::Released { messages } => {
            let mut o = entry(at, "released");
            o.insert("messages".into(), json!(messages));
            o
        }
        poller::Decision::Scaled { pollers } => {
            let mut o = entry(at, "scaled");
            o.insert("pollers".into(), json!(pollers));
            o
        }
    };
    o.insert("poller".into(), json!(event.poller));
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------
// The Invoke API

/// An error as Lambda's REST API sends it: the type in `x-amzn-ErrorType` (which the SDKs read)
/// and a `{"Type", "Message"}` body.
fn lambda_error(status: StatusCode, error_type: &str, message: &str, request_id: &str) -> Response {
    let body = json!({ "Type": "User", "Message": message, "message": message });
    let mut response = json_response(status, &body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// Finds the function `name` names: its name, its logical id, or its ARN (full or partial,
/// `123456789012:function:name`), optionally with the `$LATEST` qualifier. Local functions have
/// no other versions or aliases.
fn find_function<'a>(
    running: &'a Running,
    name: &str,
    qualifier: Option<&str>,
) -> Result<&'a LocalFunction, String> {
    let (base, suffix) = match name.rsplit_once(":function:") {
        Some((_, rest)) => match rest.split_once(':') {
            Some((base, qualifier)) => (base, Some(qualifier)),
            None => (rest, None),
        },
        None => match name.split_once(':') {
            Some((base, qualifier)) => (base, Some(qualifier)),
            None => (name, None),
        },
    };
    let function = running
        .functions
        .get(base)
        .or_else(|| running.functions.values().find(|f| f.config().name == base))
        .ok_or_else(|| {
            format!(
                "Function not found: {name} (riffle local runs: {})",
                running
                    .functions
                    .values()
                    .map(|f| f.config().name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    for qualifier in [suffix, qualifier].into_iter().flatten() {
        if qualifier != "$LATEST" {
            return Err(format!(
                "Function not found: {}:{qualifier} (riffle local runs $LATEST only)",
                function.config().arn()
            ));
        }
    }
    Ok(function)
}

async fn invoke(
    State(control): State<Control>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = query_pairs(query.as_deref());
    let request_id = control.request_id();
    let ready = match control.get() {
        Some(ready) => ready,
        None => {
            return lambda_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                "riffle local is still starting its functions; try again shortly",
                &request_id,
            );
        }
    };
    let function = match find_function(
        &ready.running,
        &name,
        query.get("Qualifier").map(String::as_str),
    ) {
        Ok(function) => function.clone(),
        Err(message) => {
            return lambda_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &message,
                &request_id,
            );
        }
    };
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    if !matches!(invocation_type, "RequestResponse" | "Event" | "DryRun") {
        return lambda_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!(
                "1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            ),
            &request_id,
        );
    }
    let payload = match to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return lambda_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                &format!(
                    "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
                ),
                &request_id,
            );
        }
    };
    let payload = if payload.iter().all(u8::is_ascii_whitespace) {
        "{}".to_owned()
    } else {
        match std::str::from_utf8(&payload)
            .ok()
            .filter(|text| serde_json::from_str::<Value>(text).is_ok())
        {
            Some(text) => text.to_owned(),
            None => {
                return lambda_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload is not valid UTF-8 JSON",
                    &request_id,
                );
            }
        }
    };
    let timeout = function.config().timeout;
    let request = InvokeRequest {
        function_arn: function.config().arn(),
        request_id: request_id.clone(),
        payload,
        deadline_ms: now_ms() + timeout.as_millis() as Millis,
    };
    match invocation_type {
        "DryRun" => return with_request_id(StatusCode::NO_CONTENT.into_response(), &request_id),
        "Event" => {
            tokio::spawn(async move {
                let _ = function.invoke(request).await;
            });
            return with_request_id(StatusCode::ACCEPTED.into_response(), &request_id);
        }
        _ => {}
    }
    let outcome = function.invoke(request).await;
    let mut response = invoke_response(outcome, &request_id);
    let tail = headers
        .get("x-amz-log-type")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"Tail"));
    if tail && let Ok(value) = HeaderValue::from_str(&log_tail(&function, &request_id)) {
        response.headers_mut().insert("x-amz-log-result", value);
    }
    response
}

/// `X-Amz-Log-Result` for `LogType: Tail`: the invocation's log lines (with Lambda's START, END
/// and REPORT), their last 4 KB, base64-encoded.
fn log_tail(function: &LocalFunction, request_id: &str) -> String {
    use base64::Engine as _;
    let mut text = String::new();
    for line in function.logs().for_request(request_id) {
        text.push_str(&line.line);
        text.push('\n');
    }
    let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&text[start..])
}

/// How much of an invocation's log `LogType: Tail` returns, as Lambda does.
const LOG_TAIL_BYTES: usize = 4 * 1024;

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// AWS's answer to a RequestResponse invoke that ended in `outcome`.
fn invoke_response(outcome: Outcome, request_id: &str) -> Response {
    let mut response = match outcome {
        Outcome::Success(body) => (StatusCode::OK, body).into_response(),
        Outcome::FunctionError {
            error_type,
            error_message,
            ..
        } => {
            let message = if error_type == "Sandbox.Timedout" {
                format!("{request_id} {error_message}")
            } else {
                error_message
            };
            let body = json!({ "errorType": error_type, "errorMessage": message });
            let mut response = (StatusCode::OK, body.to_string()).into_response();
            response.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            response
        }
        Outcome::Throttled => {
            let body = json!({
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                "Type": "User",
                "message": "Rate Exceeded.",
            });
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &body);
            response.headers_mut().insert(
                "x-amzn-errortype",
                HeaderValue::from_static("TooManyRequestsException"),
            );
            response
        }
        Outcome::ServiceError(message) => {
            match message.strip_prefix("RequestTooLargeException: ") {
                Some(message) => lambda_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    message,
                    request_id,
                ),
                None => lambda_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServiceException",
                    &message,
                    request_id,
                ),
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    with_request_id(response, request_id)
}

#[cfg(test)]
mod tests {
    use riffle_core::kinesis::event::FailureCondition;
    use riffle_core::sequence::SequenceNumber;

    use super::*;

    fn kinesis(kind: JournalKind) -> Value {
        journal_json(&JournalEvent {
            at: 1_700_000_000_123,
            shard_id: "shardId-000000000000".into(),
            kind,
        })
    }

    #[test]
    fn kinesis_entries_carry_time_shard_kind_and_fields() {
        assert_eq!(
            kinesis(JournalKind::Invoked {
                lane: 1,
                records: 2,
                range: Some(("49".into(), "51".into())),
                previous_invocations: 1,
            }),
            json!({
                "at": 1_700_000_000_123u64,
                "time": "2023-11-14T22:13:20.123Z",
                "kind": "invoked",
                "shard": "shardId-000000000000",
                "lane": 1,
                "records": 2,
                "first_sequence_number": "49",
                "last_sequence_number": "51",
                "previous_invocations": 1,
            })
        );
        let discarded = kinesis(JournalKind::Decision(Decision::Discarded {
            lane: 0,
            condition: FailureCondition::RetryAttemptsExhausted,
            range: (
                SequenceNumber::parse("49").unwrap(),
                SequenceNumber::parse("51").unwrap(),
            ),
            records: 2,
            delivered: true,
        }));
        assert_eq!(discarded["kind"], "discarded");
        assert_eq!(discarded["condition"], "RetryAttemptsExhausted");
        assert_eq!(discarded["first_sequence_number"], "49");
        assert_eq!(discarded["last_sequence_number"], "51");
        assert_eq!(discarded["delivered"], true);
        let retry = kinesis(JournalKind::Decision(Decision::RetryScheduled {
            lane: 0,
            at: 1_700_000_001_000,
            reason: "OrderRejected".into(),
        }));
        assert_eq!(retry["kind"], "retry_scheduled");
        assert_eq!(retry["retry_at"], 1_700_000_001_000u64);
        assert_eq!(retry["retry_time"], "2023-11-14T22:13:21.000Z");
        assert_eq!(
            retry["at"], 1_700_000_000_123u64,
            "the entry's own time is kept"
        );
        assert_eq!(
            kinesis(JournalKind::ShardFinished),
            json!({
                "at": 1_700_000_000_123u64,
                "time": "2023-11-14T22:13:20.123Z",
                "kind": "shard_finished",
                "shard": "shardId-000000000000",
            })
        );
    }

    #[test]
    fn queue_entries_name_their_poller_and_outcome() {
        let settled = queue_journal_json(&QueueJournalEvent {
            at: 1_700_000_000_000,
            poller: 3,
            kind: poller::Decision::Settled {
                settled: poller::Settled::PartialFailure(vec!["m-2".into()]),
                deleted: 1,
                returned: 1,
            },
        });
        assert_eq!(
            settled,
            json!({
                "at": 1_700_000_000_000u64,
                "time": "2023-11-14T22:13:20.000Z",
                "kind": "settled",
                "poller": 3,
                "outcome": "partial_failure",
                "failed_message_ids": ["m-2"],
                "deleted": 1,
                "returned": 1,
            })
        );
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        let query = query_pairs(Some(
            "shard=shardId-000000000001&Qualifier=%24LATEST&x=a+b%2",
        ));
        assert_eq!(query["shard"], "shardId-000000000001");
        assert_eq!(query["Qualifier"], "$LATEST");
        assert_eq!(query["x"], "a b%2");
        assert!(query_pairs(None).is_empty());
    }

    async fn response_json(response: Response) -> Value {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn function_errors_are_answered_as_aws_does() {
        let response = invoke_response(
            Outcome::function_error("OrderRejected", "order 7 has no items"),
            "r-1",
        );
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-amz-function-error"], "Unhandled");
        assert_eq!(response.headers()["x-amzn-requestid"], "r-1");
        let body = response_json(response).await;
        assert_eq!(
            body,
            json!({"errorType": "OrderRejected", "errorMessage": "order 7 has no items"}),
            "the function's own error document"
        );
        let throttled = invoke_response(Outcome::Throttled, "r-2");
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            throttled.headers()["x-amzn-errortype"],
            "TooManyRequestsException"
        );
    }
}
