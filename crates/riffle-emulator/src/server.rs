//! The HTTP face of the emulator: routing on `X-Amz-Target` (and S3's REST requests, which
//! carry none), AWS's error encoding, the health
//! endpoint and the queue peek (`/_riffle/…`), an embedder's extra routes (`Config::extra_routes`), start-up and clean shutdown.
//!
//! Invariants: requests are routed by the `X-Amz-Target` header, never by path (only an
//! embedder's extra routes, matched first, are routed by path); a request without one that is
//! not `POST /` is S3's, routed before its body is read so an object streams to its file and is
//! not held to the JSON APIs' size limit; signatures are
//! accepted and ignored; a body over the size limit is refused before it is parsed; HTTP/1.1
//! and HTTP/2 (prior knowledge) share the port; shutdown stops accepting, ends open
//! SubscribeToShard streams, finishes in-flight requests, then flushes the log and writes a
//! snapshot.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cbor;
use crate::clock::{Clock, SystemClock};
use crate::error::{ApiError, ErrorCode};
use crate::firehose::Firehose;
use crate::firehose::store::{self as firehose_store, FirehoseStore};
use crate::kinesis::Kinesis;
use crate::kinesis::store::{KinesisStore, StoreSettings};
use crate::persist::{self, OpenError, State as Persisted, StateRef, Wal};
use crate::sqs::store::{self as sqs_store, SqsStore};
use crate::sqs::{RequestContext, Sqs};

/// Largest request body accepted: a 5 MiB PutRecords in base64 with JSON overhead fits.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Which AWS limits the emulator enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Limits {
    /// None of the per-shard throughput limits (the default: local runs go as fast as they can).
    #[default]
    Off,
    /// AWS's per-shard read and write limits.
    Aws,
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind.
    pub bind: IpAddr,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Directory for durable state; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Throughput limits.
    pub limits: Limits,
    /// Region in ARNs.
    pub region: String,
    /// Account id in ARNs and messages.
    pub account_id: String,
    /// Open shards allowed in the account.
    pub shard_limit: u32,
    /// How long new streams stay `CREATING` (and deletions `DELETING`, reshards `UPDATING`).
    pub status_delay: Duration,
    /// The clock all time is read from.
    pub clock: Arc<dyn Clock>,
    /// Routes an embedder serves on the emulator's port, tried before the `X-Amz-Target`
    /// dispatch (which answers every other request). `riffle local` serves its control API
    /// here. They must not have a fallback, nor a route at `/_riffle/health` or
    /// `/_riffle/queues/{name}/messages` (axum panics on both when the routers are merged).
    pub extra_routes: Router,
    /// Injected throttles (`riffle fault --stream|--queue`), shared with whoever adds them.
    pub throttles: crate::throttle::Throttles,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            data_dir: None,
            limits: Limits::Off,
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            shard_limit: 500,
            status_delay: Duration::ZERO,
            clock: Arc::new(SystemClock),
            extra_routes: Router::new(),
            throttles: crate::throttle::Throttles::default(),
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound (the cause is the error's source, not repeated in its
    /// message, so a chain of causes names it once).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The data directory could not be opened.
    #[error(transparent)]
    DataDir(#[from] OpenError),
    /// The S3 object store could not be opened.
    #[error("cannot open the S3 object store in {path}")]
    S3 {
        /// Its directory (a temporary one without a data directory).
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The services behind the router.
#[derive(Debug)]
pub struct Services {
    /// Kinesis (shared with its enhanced fan-out subscriptions).
    pub kinesis: Arc<Kinesis>,
    /// SQS.
    pub sqs: Sqs,
    /// Firehose (shared with the delivery glue).
    pub firehose: Arc<Firehose>,
    /// DynamoDB.
    pub dynamodb: crate::dynamodb::DynamoDb,
    /// S3.
    pub s3: crate::s3::S3,
    wal: Option<Arc<Wal>>,
    request_ids: AtomicU64,
    id_prefix: u64,
    endpoint: String,
    throttles: crate::throttle::Throttles,
    clock: Arc<dyn Clock>,
    account_id: String,
}

impl Services {
    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        let p = self.id_prefix;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (p >> 32) as u32,
            (p >> 16) as u16,
            (p & 0xfff) as u16,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    services: Arc<Services>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    ticker: JoinHandle<()>,
}

impl Emulator {
    /// Binds, recovers durable state if a data directory is given, and starts serving.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let mut settings = StoreSettings::new(&config.region, &config.account_id);
        settings.enforce_throughput = config.limits == Limits::Aws;
        settings.shard_limit = config.shard_limit;
        let delay = config.status_delay.as_millis() as u64;
        (
            settings.create_delay_ms,
            settings.delete_delay_ms,
            settings.update_delay_ms,
        ) = (delay, delay, delay);
        let sqs_settings = sqs_store::StoreSettings {
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        };
        let mut firehose_settings =
            firehose_store::StoreSettings::new(&config.region, &config.account_id);
        firehose_settings.create_delay_ms = delay;
        let mut dynamodb_settings =
            crate::dynamodb::store::StoreSettings::new(&config.region, &config.account_id);
        dynamodb_settings.create_delay_ms = delay;
        let fresh_dynamodb = dynamodb_settings.clone();
        let fresh_settings = settings.clone();
        let fresh_sqs = sqs_settings.clone();
        let fresh_firehose = firehose_settings.clone();
        let fresh = move || Persisted {
            kinesis: KinesisStore::new(fresh_settings, random_key()),
            sqs: SqsStore::new(fresh_sqs),
            firehose: FirehoseStore::new(fresh_firehose, random_key()),
            dynamodb: crate::dynamodb::store::DynamoStore::new(fresh_dynamodb.clone()),
        };
        let (state, wal) = match &config.data_dir {
            Some(dir) => {
                let dir = dir.clone();
                let (state, wal) = tokio::task::spawn_blocking(move || {
                    let (mut state, wal) = persist::open(&dir, fresh)?;
                    // Command-line settings win over those stored with the data. The snapshot
                    // this run's log starts from says so, so replaying it after a crash applies
                    // each mutation with the status delays it was made under (a resharding's
                    // end, and so where later writes land, depends on them).
                    state.kinesis.settings = settings;
                    state.sqs.settings = sqs_settings;
                    state.firehose.settings = firehose_settings;
                    state.dynamodb.settings = dynamodb_settings;
                    persist::write_snapshot(
                        &dir,
                        &StateRef {
                            kinesis: &state.kinesis,
                            sqs: &state.sqs,
                            firehose: &state.firehose,
                            dynamodb: &state.dynamodb,
                        },
                    )?;
                    Ok::<_, OpenError>((state, wal))
                })
                .await
                .expect("opening the data directory does not panic")?;
                (state, Some(wal))
            }
            None => (fresh(), None),
        };
        let s3_dir = config.data_dir.as_ref().map(|d| d.join("s3"));
        let s3 = {
            let (clock, region, account) = (
                Arc::clone(&config.clock),
                config.region.clone(),
                config.account_id.clone(),
            );
            let dir = s3_dir.clone();
            tokio::task::spawn_blocking(move || {
                crate::s3::S3::open(dir.as_deref(), clock, &region, &account)
            })
            .await
            .expect("opening the S3 store does not panic")
            .map_err(|source| StartError::S3 {
                path: s3_dir.map_or_else(
                    || "a temporary directory".to_owned(),
                    |d| d.display().to_string(),
                ),
                source,
            })?
        };
        let key = state.kinesis.token_key;
        let endpoint = format!("http://{addr}");
        let services = Arc::new(Services {
            kinesis: Arc::new(Kinesis::new(
                state.kinesis,
                Arc::clone(&config.clock),
                wal.clone(),
            )),
            sqs: Sqs::new(state.sqs, key, Arc::clone(&config.clock), wal.clone()),
            firehose: Arc::new(Firehose::new(
                state.firehose,
                Arc::clone(&config.clock),
                wal.clone(),
            )),
            dynamodb: crate::dynamodb::DynamoDb::new(
                state.dynamodb,
                Arc::clone(&config.clock),
                wal.clone(),
            ),
            s3,
            wal,
            request_ids: AtomicU64::new(1),
            id_prefix: u64::from_le_bytes(random_key()[..8].try_into().expect("8 bytes")),
            endpoint,
            throttles: config.throttles.clone(),
            clock: Arc::clone(&config.clock),
            account_id: config.account_id.clone(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(Arc::clone(&services)).merge(config.extra_routes);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let ticking = Arc::clone(&services);
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                ticking.kinesis.tick();
                ticking.sqs.tick();
                ticking.firehose.tick();
            }
        });
        Ok(Self {
            addr,
            services,
            stop: Some(stop),
            server,
            ticker,
        })
    }

    /// The endpoint URL clients should use, `http://127.0.0.1:<port>`.
    pub fn endpoint_url(&self) -> String {
        self.services.endpoint.clone()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Kinesis service, for direct inspection in tests.
    pub fn kinesis(&self) -> &Kinesis {
        &self.services.kinesis
    }

    /// The SQS service, for direct inspection in tests.
    pub fn sqs(&self) -> &Sqs {
        &self.services.sqs
    }

    /// The Firehose service: the delivery glue's handle on delivery streams and their records.
    pub fn firehose(&self) -> &Arc<Firehose> {
        &self.services.firehose
    }

    /// The S3 service, for direct inspection in tests.
    pub fn s3(&self) -> &crate::s3::S3 {
        &self.services.s3
    }

    /// Stops accepting requests, finishes those in flight, and persists state.
    pub async fn shutdown(mut self) -> Result<(), OpenError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Open SubscribeToShard streams would hold graceful shutdown for up to five minutes.
        self.services.kinesis.close_subscriptions();
        let _ = (&mut self.server).await;
        self.ticker.abort();
        if let Some(wal) = &self.services.wal {
            let kinesis = self.services.kinesis.lock();
            let sqs = self.services.sqs.lock();
            let firehose = self.services.firehose.lock();
            let dynamodb = self.services.dynamodb.lock();
            wal.close(&StateRef {
                kinesis: &kinesis,
                sqs: &sqs,
                firehose: &firehose,
                dynamodb: &dynamodb,
            })?;
        }
        Ok(())
    }
}

fn random_key() -> [u8; 16] {
    let mut key = [0u8; 16];
    if getrandom::fill(&mut key).is_err() {
        // Fall back to the clock; tokens only need to be hard to forge by accident.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        key = nanos.to_le_bytes();
    }
    key
}

/// The router: `GET /_riffle/health`, `GET /_riffle/queues/{name}/messages` (a queue read
/// without receiving), S3's requests, and every other request dispatched on `X-Amz-Target`
/// (`Emulator::start` merges [`Config::extra_routes`] into it).
pub fn router(services: Arc<Services>) -> Router {
    Router::new()
        .route("/_riffle/health", get(health))
        .route("/_riffle/queues/{name}/messages", get(queue_messages))
        .fallback(dispatch)
        .with_state(services)
}

async fn health(State(services): State<Arc<Services>>) -> Response {
    let body = serde_json::json!({
        "status": "ready",
        "services": { "kinesis": "running", "sqs": "running", "firehose": "running", "s3": "running", "dynamodb": "running" },
        "endpoint": services.endpoint,
        "persistent": services.wal.is_some(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `GET /_riffle/queues/{name}/messages[?limit=N]`: the queue's messages with their state, read
/// without receiving (no receive count changes, nothing moves to a dead-letter queue); 404 for
/// an unknown queue, naming the queues there are.
async fn queue_messages(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    uri: Uri,
) -> Response {
    let json = |status: StatusCode, body: String| {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let mut limit = None;
    for pair in uri.query().unwrap_or_default().split('&') {
        if let Some(value) = pair.strip_prefix("limit=") {
            match value.parse::<usize>() {
                Ok(n) => limit = Some(n),
                Err(_) => {
                    let message = format!("limit must be a number of messages, not {value:?}");
                    return json(
                        StatusCode::BAD_REQUEST,
                        serde_json::json!({ "error": "InvalidLimit", "message": message })
                            .to_string(),
                    );
                }
            }
        }
    }
    match services.sqs.peek(&name, limit).await {
        Ok(messages) => match serde_json::to_string(&messages) {
            Ok(body) => json(StatusCode::OK, body),
            Err(e) => json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": "InternalFailure", "message": e.to_string() })
                    .to_string(),
            ),
        },
        Err(e) if e.code == ErrorCode::QueueDoesNotExist => {
            let known: Vec<String> = services.sqs.lock().queues().keys().cloned().collect();
            let message = if known.is_empty() {
                format!("no queue {name}: the emulator has no queues")
            } else {
                format!("no queue {name}; its queues are: {}", known.join(", "))
            };
            json(
                StatusCode::NOT_FOUND,
                serde_json::json!({ "error": "QueueDoesNotExist", "message": message, "known": known })
                    .to_string(),
            )
        }
        Err(e) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "error": e.code.as_str(), "message": e.message }).to_string(),
        ),
    }
}

/// The error of a request an injected throttle refuses, if one does (`body` is JSON: a CBOR
/// request is read into JSON first).
fn throttled(services: &Services, service: &str, operation: &str, body: &[u8]) -> Option<ApiError> {
    use crate::throttle::ThrottleTarget;
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |key: &str| request.get(key).and_then(|v| v.as_str());
    let stream = || {
        text("StreamName").map(str::to_owned).or_else(|| {
            let arn = text("StreamARN")?;
            let name = arn.split_once(":stream/")?.1;
            Some(name.split('/').next().unwrap_or(name).to_owned())
        })
    };
    let target = match (service, operation) {
        ("Kinesis_20131202", "PutRecord" | "PutRecords") => ThrottleTarget::StreamWrites(stream()?),
        ("Kinesis_20131202", "GetRecords") => {
            ThrottleTarget::StreamReads(services.kinesis.iterator_stream(text("ShardIterator")?)?)
        }
        ("AmazonSQS", "ReceiveMessage") => {
            ThrottleTarget::QueueReceives(text("QueueUrl")?.rsplit('/').next()?.to_owned())
        }
        _ => return None,
    };
    if !services
        .throttles
        .refuses(&target, services.clock.now_millis())
    {
        return None;
    }
    let account = &services.account_id;
    Some(match &target {
        ThrottleTarget::StreamReads(name) | ThrottleTarget::StreamWrites(name) => ApiError::new(
            ErrorCode::ProvisionedThroughputExceededException,
            format!("Rate exceeded for stream {name} under account {account}."),
        ),
        ThrottleTarget::QueueReceives(_) => {
            ApiError::new(ErrorCode::ThrottlingException, "Rate exceeded")
        }
    })
}

async fn dispatch(
    State(services): State<Arc<Services>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = services.request_id();
    let json_api =
        headers.contains_key("x-amz-target") || (method == Method::POST && uri.path() == "/");
    if !json_api {
        return services
            .s3
            .handle(method, &uri, &headers, body, &request_id)
            .await;
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (service, operation) = target.split_once('.').unwrap_or((target, ""));
    let content_type = match service {
        "Kinesis_20131202" | "Firehose_20150804" => "application/x-amz-json-1.1",
        _ => "application/x-amz-json-1.0",
    };
    let body = to_bytes(body, MAX_BODY_BYTES).await;
    let in_cbor = cbor::answers_in_cbor(
        service,
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        body.as_ref().is_ok_and(|b| b.is_empty()),
    );
    let throttled = match &body {
        Ok(bytes) if !services.throttles.is_empty() => {
            if in_cbor {
                cbor::request_json(operation, bytes)
                    .and_then(|json| throttled(&services, service, operation, &json))
            } else {
                throttled(&services, service, operation, bytes)
            }
        }
        _ => None,
    };
    let result = match body {
        _ if throttled.is_some() => Err(throttled.expect("checked")),
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestEntityTooLarge,
            format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
        )),
        Ok(bytes) => match service {
            "Kinesis_20131202" => match operation.parse() {
                Ok(crate::kinesis::Action::SubscribeToShard) => {
                    let started = if in_cbor {
                        cbor::subscribe(&services.kinesis, &bytes)
                    } else {
                        services.kinesis.subscribe_to_shard(&bytes)
                    };
                    match started {
                        Ok(events) => return event_stream(events, &request_id),
                        Err(error) => Err(error),
                    }
                }
                Ok(action) if in_cbor => cbor::call(&services.kinesis, action, &bytes).await,
                Ok(action) => services.kinesis.call(action, &bytes).await,
                Err(unknown) => Err(unknown),
            },
            "AmazonSQS" => match operation.parse() {
                Ok(action) => {
                    let context = request_context(&services, &uri, &headers);
                    services.sqs.call(action, &bytes, &context).await
                }
                Err(unknown) => Err(unknown),
            },
            "Firehose_20150804" => match operation.parse() {
                Ok(action) => services.firehose.call(action, &bytes).await,
                Err(unknown) => Err(unknown),
            },
            "DynamoDB_20120810" => match operation.parse() {
                Ok(action) => services.dynamodb.call(action, &bytes).await,
                Err(unknown) => Err(unknown),
            },
            _ => Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                if target.is_empty() {
                    "Missing X-Amz-Target header".to_owned()
                } else {
                    format!("Unknown operation {target}")
                },
            )),
        },
    };
    let (status, body, error) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(error) => {
            if error.code == ErrorCode::InternalFailure {
                tracing::error!(%target, message = %error.message, "internal failure");
            } else {
                tracing::debug!(%target, code = %error.code, message = %error.message, "request refused");
            }
            let type_name = match service {
                "AmazonSQS" => format!("com.amazonaws.sqs#{}", error.code.as_str()),
                // DynamoDB qualifies its own errors; Coral's framework errors keep Coral's.
                "DynamoDB_20120810" => match error.code {
                    ErrorCode::SerializationException | ErrorCode::UnknownOperationException => {
                        format!("com.amazon.coral.service#{}", error.code.as_str())
                    }
                    ErrorCode::ValidationException => {
                        format!("com.amazon.coral.validate#{}", error.code.as_str())
                    }
                    code => format!("com.amazonaws.dynamodb.v20120810#{}", code.as_str()),
                },
                _ => error.code.as_str().to_owned(),
            };
            let body = if in_cbor {
                cbor::error_body(&type_name, error.code, &error.message)
            } else {
                // Kinesis spells the member `Message` in a SerializationException (Coral's).
                let key = match (service, error.code) {
                    ("AmazonSQS", _) => "message",
                    (_, ErrorCode::SerializationException) => "Message",
                    _ => "message",
                };
                // AWS's InternalFailure for some requests carries no message at all.
                let body = if error.message.is_empty() {
                    serde_json::json!({ "__type": type_name })
                } else {
                    serde_json::json!({ "__type": type_name, key: error.message })
                };
                body.to_string().into_bytes()
            };
            let status =
                StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, body, Some(error.code))
        }
    };
    let content_type = if in_cbor {
        cbor::CONTENT_TYPE
    } else {
        content_type
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if service != "AmazonSQS" {
        // Kinesis's opaque second request id: 72 bytes, base64 (kinesalite's recording).
        let id2 = base64::engine::general_purpose::STANDARD.encode(request_id.repeat(2));
        if let Ok(id2) = HeaderValue::from_str(&id2) {
            headers.insert("x-amz-id-2", id2);
        }
    }
    if let Some(code) = error {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code.as_str()));
        if service == "AmazonSQS" {
            let fault = if code.status() >= 500 {
                "Receiver"
            } else {
                "Sender"
            };
            if let Ok(value) = HeaderValue::from_str(&format!("{};{fault}", code.sqs_query_code()))
            {
                headers.insert("x-amzn-query-error", value);
            }
        }
    }
    response
}

/// A SubscribeToShard answer: 200 and the subscription's frames as they come (chunked over
/// HTTP/1.1, DATA frames over HTTP/2).
fn event_stream(events: crate::kinesis::api::EventStream, request_id: &str) -> Response {
    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// What SQS needs from the HTTP request: the host clients address (for queue URLs), the path
/// (a queue URL used as the path) and the caller's access key (for `SenderId`).
fn request_context(services: &Services, uri: &Uri, headers: &HeaderMap) -> RequestContext {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| services.endpoint.trim_start_matches("http://").to_owned());
    let access_key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').next())
        .map(str::to_owned);
    RequestContext {
        host,
        path: uri.path().to_owned(),
        access_key,
    }
}
