//! The `riffle local` lifecycle: template → endpoint → resources → builds → functions →
//! mappings → status until a signal → orderly stop.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use riffle_core::sqs::config::SqsFacts;
use riffle_core::sqs::poller::PollerSettings;
use riffle_emulator::Config;
use riffle_lambda::{FunctionConfig, LocalFunction};
use riffle_runtime::{
    Checkpoints, FileCheckpoints, KinesisMapping, KinesisMappingOptions, MappingController,
    MemoryCheckpoints, SqsMapping, SqsMappingOptions, SystemClock,
};
use riffle_template::{MappingConfig, SourceKind};

use super::control::Control;
use super::status::{LogFormat, Status};
use super::{TemplateArgs, build, resources, watch};

/// Options of `riffle local`.
#[derive(Debug, clap::Args)]
pub(crate) struct LocalArgs {
    #[command(flatten)]
    pub(crate) template: TemplateArgs,
    /// Port of the embedded emulator (0 picks a free one).
    #[arg(long, default_value_t = 4566, env = "RIFFLE_PORT")]
    pub(crate) port: u16,
    /// Address the embedded emulator binds.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,
    /// Keep streams, queues, records and checkpoints here; the next start resumes from them.
    #[arg(long, env = "RIFFLE_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Use this endpoint (another emulator, or AWS) instead of starting the embedded one.
    #[arg(long)]
    pub(crate) endpoint_url: Option<String>,
    /// With `--endpoint-url`: the port of the control API (`riffle explain`, the Invoke API),
    /// which otherwise shares the embedded emulator's port (0 picks a free one).
    #[arg(long, default_value_t = 4567, env = "RIFFLE_CONTROL_PORT")]
    pub(crate) control_port: u16,
    /// `text` for people, `json` (one object per line) for machines.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) log_format: LogFormat,
    /// Seconds between status reports when the output is JSON or not a terminal; on a terminal
    /// the status table is redrawn every second. 0: no status at all.
    #[arg(long, default_value_t = 5)]
    pub(crate) status_every: u64,
    /// Cargo profile the functions are built with (`dev` builds faster, `release` runs as
    /// deployed).
    #[arg(long, default_value = "release")]
    pub(crate) build_profile: String,
    /// Seconds in-flight invocations may take to finish on shutdown (Ctrl-C); after that
    /// riffle stops anyway.
    #[arg(long, default_value_t = 30)]
    pub(crate) shutdown_timeout: u64,
    /// Rebuild a function when its sources change and swap it in without stopping its
    /// mappings; apply template edits that can change while running, report the others.
    #[arg(long)]
    pub(crate) watch: bool,
}

/// A running Kinesis mapping.
pub(crate) type KinesisController = MappingController<
    KinesisMapping<riffle_aws::KinesisSource, LocalFunction, riffle_aws::Destinations, Checkpoints>,
>;

/// A running SQS mapping.
pub(crate) type QueueController =
    MappingController<SqsMapping<riffle_aws::SqsQueueSource, LocalFunction>>;

/// Everything `riffle local` runs.
pub(crate) struct Running {
    pub(crate) functions: BTreeMap<String, LocalFunction>,
    pub(crate) kinesis: Vec<(String, Arc<KinesisController>)>,
    pub(crate) queues: Vec<(String, Arc<QueueController>)>,
    /// The embedded emulator's delivery streams (none with `--endpoint-url`).
    pub(crate) deliveries: Option<crate::deliveries::Deliveries>,
}

pub(crate) async fn run_local(args: LocalArgs) -> anyhow::Result<()> {
    // Validate before anything starts, and warn then (once: the second read below finds the
    // same warnings).
    let provisional = args
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", args.port));
    super::print_warnings(&super::read_template(&args.template, &provisional)?);

    let control = Control::default();
    let emulator = match &args.endpoint_url {
        Some(_) => None,
        None => {
            let config = Config {
                bind: args.bind,
                port: args.port,
                data_dir: args.data_dir.as_ref().map(|d| d.join("emulator")),
                region: args.template.region.clone(),
                account_id: args.template.account_id.clone(),
                extra_routes: control.router(),
                throttles: control.emulator_throttles(),
                ..Config::default()
            };
            Some(
                crate::start_emulator(config, "--port <PORT> (or RIFFLE_PORT)")
                    .await
                    .context("starting the emulator")?,
            )
        }
    };
    let endpoint = match (&args.endpoint_url, &emulator) {
        (Some(url), _) => url.clone(),
        (None, Some(emulator)) => emulator.endpoint_url(),
        (None, None) => unreachable!("an emulator runs without --endpoint-url"),
    };
    let control_server = serve_control(&args, &control).await?;
    // Names and URLs now resolve against the real endpoint (its port may have been 0).
    let template = super::read_template(&args.template, &endpoint)?;
    let app = template.application;
    let started_app = args.watch.then(|| app.clone());
    let (kinesis, sqs) = riffle_aws::clients(&endpoint, &args.template.region);
    let s3 = riffle_aws::Clients::new(&endpoint, &args.template.region).s3();
    let consumer_arns = resources::create(&app, &kinesis, &sqs, &s3).await?;
    match &emulator {
        Some(emulator) => {
            resources::create_delivery_streams(
                &app,
                emulator.firehose(),
                &args.template.account_id,
            )
            .await?;
        }
        None if !app.delivery_streams.is_empty() => eprintln!(
            "riffle: with --endpoint-url, the template's delivery streams are left to that \
             endpoint: only the embedded emulator runs them"
        ),
        None => {}
    }

    let binaries = build::build_functions(
        &app.functions,
        &super::template_dir(&args.template.template),
        &args.build_profile,
    )
    .await?;
    let mut running = Running {
        functions: BTreeMap::new(),
        kinesis: Vec::new(),
        queues: Vec::new(),
        deliveries: None,
    };
    for function in &app.functions {
        let mut config = FunctionConfig::new(&function.name, &binaries[&function.logical_id]);
        config.handler = function.handler.clone();
        config.timeout = Duration::from_secs(u64::from(function.timeout_seconds));
        config.memory_mb = function.memory_size_mb;
        config.environment = function.environment.clone();
        config.reserved_concurrency = function.reserved_concurrent_executions.map(|n| n as usize);
        config.faults = control.faults().clone();
        config.region = args.template.region.clone();
        config.account_id = args.template.account_id.clone();
        config.endpoint_url = Some(endpoint.clone());
        let local = LocalFunction::start(config)
            .await
            .with_context(|| format!("starting the Runtime API of {}", function.logical_id))?;
        running.functions.insert(function.logical_id.clone(), local);
    }

    for mapping in &app.mappings {
        let function = app.function(&mapping.function).with_context(|| {
            format!(
                "mapping {}: no function {}",
                mapping.logical_id, mapping.function
            )
        })?;
        let invoker = running.functions[&function.logical_id].clone();
        let timeout = Duration::from_secs(u64::from(function.timeout_seconds));
        match (&mapping.config, mapping.kind) {
            (MappingConfig::Kinesis(config), SourceKind::Kinesis) => {
                let mut options = KinesisMappingOptions::local(
                    &mapping.logical_id,
                    &function.arn,
                    &args.template.region,
                );
                options.function_timeout = timeout;
                let checkpoints = match &args.data_dir {
                    Some(dir) => Checkpoints::File(FileCheckpoints::new(
                        dir.join("checkpoints"),
                        &mapping.logical_id,
                    )),
                    None => Checkpoints::Memory(MemoryCheckpoints::default()),
                };
                let mapping_runtime = KinesisMapping::new(
                    config.clone(),
                    options,
                    riffle_aws::KinesisSource::for_event_source(
                        kinesis.clone(),
                        consumer_arns
                            .get(&mapping.event_source_arn)
                            .unwrap_or(&mapping.event_source_arn),
                    ),
                    invoker,
                    riffle_aws::Destinations::new(sqs.clone(), s3.clone()),
                    checkpoints,
                    Arc::new(SystemClock),
                );
                let controller = MappingController::create(mapping_runtime).await;
                running
                    .kinesis
                    .push((mapping.logical_id.clone(), Arc::new(controller)));
            }
            (MappingConfig::Sqs(config), SourceKind::Sqs) => {
                let source =
                    riffle_aws::SqsQueueSource::for_arn(sqs.clone(), &mapping.event_source_arn)
                        .await
                        .map_err(|e| anyhow::anyhow!("mapping {}: {e}", mapping.logical_id))?;
                let facts = riffle_aws::queue_facts(&sqs, source.queue_url())
                    .await
                    .map_err(|e| anyhow::anyhow!("mapping {}: {e}", mapping.logical_id))?;
                let sqs_facts: SqsFacts = facts.sqs_facts(timeout.as_secs());
                // Reserved concurrency limits the function's environments (LocalFunction
                // throttles beyond it), never the pollers: AWS's do not account for it.
                let settings = PollerSettings::new(config, &args.template.region, sqs_facts)
                    .map_err(|e| anyhow::anyhow!("mapping {}: {e}", mapping.logical_id))?;
                let queue_mapping = SqsMapping::new(
                    settings,
                    SqsMappingOptions::new(&mapping.logical_id, &function.arn, timeout),
                    source,
                    invoker,
                    Arc::new(SystemClock),
                );
                let controller = MappingController::new(queue_mapping, config.enabled).await;
                running
                    .queues
                    .push((mapping.logical_id.clone(), Arc::new(controller)));
            }
            _ => anyhow::bail!(
                "mapping {}: its configuration does not match its source",
                mapping.logical_id
            ),
        }
    }

    if let Some(emulator) = &emulator {
        let timeout = app
            .delivery_streams
            .iter()
            .filter_map(|d| d.destination.transformation.as_ref())
            .filter_map(|t| {
                app.functions
                    .iter()
                    .find(|f| f.logical_id == t.function_logical_id)
            })
            .map(|f| f.timeout_seconds)
            .max()
            .unwrap_or(60);
        running.deliveries = Some(
            crate::deliveries::Deliveries::start(crate::deliveries::Wiring {
                firehose: Arc::clone(emulator.firehose()),
                clients: riffle_aws::Clients::new(&endpoint, &args.template.region),
                processor: Some(control.invoker()),
                checkpoints: args
                    .data_dir
                    .as_ref()
                    .map(|d| d.join("firehose-checkpoints")),
                clock: Arc::new(SystemClock),
                function_timeout: Duration::from_secs(u64::from(timeout)),
            })
            .await,
        );
    }

    let running = Arc::new(running);
    // Listen for the stop signal before saying ready: a signal right after "ready" stops.
    let shutdown = crate::shutdown_signal();
    control.ready(Arc::clone(&running), &app);
    let status = Status::new(args.log_format);
    // Watching starts before "ready": a save after it is seen.
    let watch = match started_app {
        Some(app) => Some(
            watch::start(watch::Setup {
                template: args.template.clone(),
                endpoint: endpoint.clone(),
                profile: args.build_profile.clone(),
                app,
                running: Arc::clone(&running),
                status: status.clone(),
            })
            .await?,
        ),
        None => None,
    };
    // The dashboard is served with the control API: on the emulator's port, or on its own.
    let dashboard = match &control_server {
        Some((addr, _)) => format!("http://{addr}/_riffle/"),
        None => format!("{}/_riffle/", endpoint.trim_end_matches('/')),
    };
    status.ready(&endpoint, &dashboard, &app);
    let reporter = status.start(Arc::clone(&running), Duration::from_secs(args.status_every));
    shutdown.await;
    if let Some(watch) = watch {
        watch.stop();
    }
    status.stopping();
    let deadline = Duration::from_secs(args.shutdown_timeout);
    // Every queue mapping is told to stop at once; they finish their batches while the Kinesis
    // mappings stop.
    let queue_stops: Vec<_> = running
        .queues
        .iter()
        .map(|(_, controller)| {
            let controller = Arc::clone(controller);
            tokio::spawn(async move { controller.set_enabled(false).await })
        })
        .collect();
    let stop_all = async {
        // Disabling stops polling, waits for invocations in flight and saves checkpoints.
        for (id, controller) in &running.kinesis {
            if let Err(error) = controller.set_enabled(false).await {
                eprintln!("riffle: stopping mapping {id}: {error}");
            }
        }
        for stopping in queue_stops {
            let _ = stopping.await;
        }
        // Delivery streams drain their buffers (a transformation still needs its function).
        if let Some(deliveries) = &running.deliveries {
            deliveries.stop().await;
        }
    };
    if tokio::time::timeout(deadline, stop_all).await.is_err() {
        eprintln!("riffle: invocations still running after {deadline:?}; stopping anyway");
    }
    for task in reporter {
        task.abort();
    }
    for function in running.functions.values() {
        function.shutdown().await;
    }
    if let Some((_, server)) = control_server {
        server.abort();
    }
    if let Some(emulator) = emulator {
        emulator
            .shutdown()
            .await
            .context("persisting the emulator's state")?;
    }
    status.stopped();
    Ok(())
}

/// With `--endpoint-url` there is no embedded emulator to share a port with: the control API
/// gets a listener of its own on `--control-port`.
/// Returns its address and server task.
async fn serve_control(
    args: &LocalArgs,
    control: &Control,
) -> anyhow::Result<Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>> {
    if args.endpoint_url.is_none() {
        return Ok(None);
    }
    let (addr, server) = control.serve(args.bind, args.control_port).await?;
    eprintln!(
        "riffle: control API (riffle explain, riffle redrive, the Invoke API) at http://{addr}"
    );
    Ok(Some((addr, server)))
}
