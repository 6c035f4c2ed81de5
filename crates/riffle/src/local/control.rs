//! The control API `riffle local` serves on the emulator's port (through
//! `riffle_emulator::Config::extra_routes`), or on `--control-port` when it uses another endpoint:
//!
//! - `GET /_riffle/mappings`: every mapping with its kind, function, source, state and counters;
//! - `GET /_riffle/mappings/{id}/journal[?shard=S]`: the mapping's decision journal, oldest
//!   first, one JSON object per entry (`riffle explain` prints it);
//! - `GET /_riffle/metrics`: the same counters and each function's, in the OpenMetrics (or
//!   Prometheus) text format, for a scraper ([`metrics`]);
//! - `POST|GET|DELETE /_riffle/faults`, `DELETE /_riffle/faults/{id}`: fault rules for the
//!   functions (`riffle fault`, [`faults`]);
//! - `POST /2015-03-31/functions/{name}/invocations`: Lambda's Invoke API, served by
//!   [`riffle_lambda::invoke_api`] over the template's functions;
//! - `GET /_riffle/`: the web dashboard, and its JSON under `/_riffle/api/` ([`dashboard`]).
//!
//! This module owns the routes and their errors; [`views`] owns the JSON of journals and
//! counters, [`metrics`] their text for scrapers, [`dashboard`] the page. Invariant: until every
//! function and mapping has started, every route but the dashboard's static files answers 503
//! rather than a partial view.

mod dashboard;
mod faults;
mod metrics;
mod views;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use riffle_lambda::invoke_api::{InvokeApi, query_pairs};
use riffle_template::{Application, SourceKind};
use serde_json::{Value, json};

use self::views::{journal_json, kinesis_counters, queue_counters, queue_journal_json};
use super::run::Running;

/// The control API's state: empty until `riffle local` has started everything.
#[derive(Clone, Default)]
pub(crate) struct Control {
    ready: Arc<OnceLock<Ready>>,
    invoke: InvokeApi,
    faults: riffle_core::fault::FaultSet,
    /// The embedded emulator's throttles (none with `--endpoint-url`).
    throttles: Arc<OnceLock<riffle_emulator::throttle::Throttles>>,
    /// Where [`Control::serve`] listens (with `--endpoint-url`), for the dashboard's redrives.
    served_at: Arc<OnceLock<SocketAddr>>,
}

struct Ready {
    running: Arc<Running>,
    mappings: Vec<MappingInfo>,
    dashboard: dashboard::Setup,
}

/// What the template says about a mapping.
#[derive(Debug, Clone)]
struct MappingInfo {
    id: String,
    kind: SourceKind,
    function: String,
    event_source_arn: String,
}

impl Control {
    /// The routes, for `Config::extra_routes` or a listener of their own.
    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/_riffle/mappings", get(mappings))
            .route("/_riffle/mappings/{id}/journal", get(journal))
            .route("/_riffle/metrics", get(metrics))
            .route(
                "/_riffle/faults",
                get(faults::list).post(faults::add).delete(faults::clear),
            )
            .route("/_riffle/faults/{id}", delete(faults::remove))
            .merge(dashboard::routes())
            .with_state(self.clone())
            .merge(self.invoke.router())
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
        let _ = self.served_at.set(addr);
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
            })
            .collect();
        for (id, controller) in &running.kinesis {
            if let Some(mapping) = app.mappings.iter().find(|m| m.logical_id == *id)
                && let Some(function) = app.function(&mapping.function)
            {
                faults::journal_injections(
                    &self.faults,
                    function.name.clone(),
                    &mapping.event_source_arn,
                    Arc::clone(controller),
                );
            }
        }
        self.invoke.ready(running.functions.clone());
        let dashboard = self.dashboard_setup(&running, app);
        let _ = self.ready.set(Ready {
            running,
            mappings,
            dashboard,
        });
        dashboard::series::start(self.clone());
    }

    /// The dashboard's view of the run: the endpoint and region the functions were given (or,
    /// without functions, the base of the template's queue URLs), and the template's resources.
    fn dashboard_setup(&self, running: &Running, app: &Application) -> dashboard::Setup {
        let config = running.functions.values().next().map(|f| f.config());
        let endpoint = config
            .and_then(|c| c.endpoint_url.clone())
            .or_else(|| {
                let url = &app.queues.first()?.url;
                Some(url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/"))
            })
            .unwrap_or_else(|| "http://127.0.0.1:4566".to_owned());
        let region = config.map_or_else(|| "us-east-1".to_owned(), |c| c.region.clone());
        let lambda = self
            .served_at
            .get()
            .map_or_else(|| endpoint.clone(), |addr| format!("http://{addr}"));
        dashboard::Setup::new(app, &endpoint, &lambda, &region)
    }

    /// The throttles the embedded emulator checks (for its `Config::throttles`).
    pub(crate) fn emulator_throttles(&self) -> riffle_emulator::throttle::Throttles {
        self.throttles.get_or_init(Default::default).clone()
    }

    /// The fault rules every function of the run checks.
    /// The invoker of whichever function a request names (a delivery stream's
    /// transformation), bound to the functions once [`Control::ready`] registers them.
    pub(crate) fn invoker(&self) -> riffle_lambda::router::FunctionRouter {
        self.invoke.invoker()
    }

    pub(crate) fn faults(&self) -> &riffle_core::fault::FaultSet {
        &self.faults
    }

    fn get(&self) -> Option<&Ready> {
        self.ready.get()
    }
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
            Some((_, controller)) => (
                controller.state().as_str(),
                queue_counters(controller.mapping().metrics()),
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

// ---------------------------------------------------------------------------------------------
// Metrics

async fn metrics(State(control): State<Control>, headers: HeaderMap) -> Response {
    let Some(ready) = control.get() else {
        return starting();
    };
    let format = metrics::Format::from_accept(
        headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok()),
    );
    let text = metrics::render(snapshot(ready), format);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.content_type())],
        text,
    )
        .into_response()
}

/// Every mapping's and function's counters now, read where the status table reads them.
fn snapshot(ready: &Ready) -> metrics::Snapshot {
    let running = &ready.running;
    let mut snapshot = metrics::Snapshot::default();
    for info in &ready.mappings {
        let source = metrics::source_name(&info.event_source_arn);
        match info.kind {
            SourceKind::Kinesis => {
                if let Some((_, controller)) = running.kinesis.iter().find(|(id, _)| *id == info.id)
                {
                    let metrics = controller.mapping().metrics();
                    snapshot.kinesis.push(metrics::KinesisMapping {
                        id: info.id.clone(),
                        function: info.function.clone(),
                        stream: source,
                        counters: metrics.counters(),
                        shards: metrics.shards(),
                    });
                }
            }
            SourceKind::Sqs => {
                if let Some((_, controller)) = running.queues.iter().find(|(id, _)| *id == info.id)
                {
                    snapshot.queues.push(metrics::QueueMapping {
                        id: info.id.clone(),
                        function: info.function.clone(),
                        queue: source,
                        counters: controller.mapping().metrics().counters(),
                    });
                }
            }
        }
    }
    snapshot.functions = running
        .functions
        .values()
        .map(|function| metrics::Function {
            name: function.config().name.clone(),
            stats: function.stats(),
        })
        .collect();
    snapshot.deliveries = running
        .deliveries
        .iter()
        .flat_map(|d| d.views())
        .map(|view| metrics::Delivery {
            bucket: view.settings.destination.bucket.clone(),
            counters: view.status.counters,
            buffered_bytes: view.status.buffered_bytes as u64,
            name: view.name,
        })
        .collect();
    snapshot
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Kinesis => "kinesis",
        SourceKind::Sqs => "sqs",
    }
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
    if let Some((_, controller)) = ready.running.queues.iter().find(|(m, _)| *m == id) {
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
        let entries: Vec<Value> = controller
            .mapping()
            .journal()
            .iter()
            .map(queue_journal_json)
            .collect();
        return json_response(StatusCode::OK, &Value::Array(entries));
    }
    let deliveries = ready
        .running
        .deliveries
        .as_ref()
        .map(|d| d.views())
        .unwrap_or_default();
    if let Some(view) = deliveries.iter().find(|v| v.name == id) {
        // A delivery stream's journal: its machine's decisions, oldest first.
        let entries: Vec<Value> = view
            .status
            .decisions
            .iter()
            .map(|(at, decision)| {
                let mut entry = json!({
                    "time": riffle_core::time::iso8601_millis(*at),
                    "delivery_stream": id,
                });
                if let (Value::Object(entry), Ok(Value::Object(fields))) =
                    (&mut entry, serde_json::to_value(decision))
                {
                    entry.extend(fields);
                }
                entry
            })
            .collect();
        return json_response(StatusCode::OK, &Value::Array(entries));
    }
    let known: Vec<String> = ready
        .mappings
        .iter()
        .map(|m| m.id.clone())
        .chain(deliveries.into_iter().map(|v| v.name))
        .collect();
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
