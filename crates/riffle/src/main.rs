//! The `riffle` command: the embedded emulator, `riffle local` (the SAM template, run locally),
//! and tools around them (`put`, `tail`, `dlq`, `generate-event`, and `explain` and `redrive`,
//! which use `riffle local`'s control API).
//!
//! This binary only parses arguments and wires library pieces together; it holds no engine or
//! emulator logic.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use riffle_emulator::{Config, Emulator, Limits};

mod deliveries;
mod local;
mod tools;

use tools::output::out;

/// mimalloc instead of glibc malloc: the engine allocates many small, short-lived strings per
/// record, and glibc's arenas spent a third of its CPU on them (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run AWS Lambda event source mappings on your machine, against an embedded Kinesis and SQS
/// emulator.
#[derive(Debug, Parser)]
#[command(name = "riffle", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Kinesis Data Streams, SQS, Firehose and S3 APIs on a local port, delivering
    /// each delivery stream to its bucket.
    Emulator(EmulatorArgs),
    /// Put one record (text, standard input or a file), or every line of a JSON Lines file,
    /// into a stream.
    Put(tools::put::PutArgs),
    /// Print a stream's records as they arrive, from every shard.
    Tail(tools::tail::TailArgs),
    /// Show what an on-failure queue holds, summarising Lambda's invocation records.
    ///
    /// On Riffle's emulator it reads without receiving (no receive count changes). Any other
    /// endpoint can only be read by receiving: each message is then received once, which
    /// counts toward the queue's maxReceiveCount, and a warning says so.
    Dlq(tools::dlq::DlqArgs),
    /// Print a mapping's decision journal from a running `riffle local`: why each batch was
    /// retried, split or dropped.
    Explain(tools::explain::ExplainArgs),
    /// Re-invoke the function with the exact records of each on-failure record in a queue, and
    /// delete the failure records the function now processes.
    Redrive(tools::redrive::RedriveArgs),
    /// Inject failures into a running `riffle local`'s functions without touching their
    /// handlers: fail, time out, throttle or delay chosen invocations.
    Fault(tools::fault::FaultArgs),
    /// Run the SAM template's streams, queues, functions and event source mappings locally.
    Local(local::run::LocalArgs),
    /// Check the SAM template as `riffle local` would, and start nothing.
    Validate(local::ValidateArgs),
    /// Print a realistic Kinesis or SQS event, exactly as the engine sends it.
    #[command(subcommand)]
    GenerateEvent(tools::generate::GenerateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LimitsArg {
    /// Enforce no throughput limits.
    Off,
    /// Enforce AWS's per-shard read and write limits.
    Aws,
}

#[derive(Debug, clap::Args)]
struct EmulatorArgs {
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 4566, env = "RIFFLE_PORT")]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1", env = "RIFFLE_BIND")]
    bind: IpAddr,
    /// Keep streams and records in this directory; they survive restarts and kill -9.
    #[arg(long, env = "RIFFLE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Which AWS limits to enforce.
    #[arg(long, value_enum, default_value = "off")]
    limits: LimitsArg,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION")]
    region: String,
    /// Account id used in ARNs.
    #[arg(long, default_value = "000000000000")]
    account_id: String,
    /// Open shards allowed in the account (AWS: 500 in the large regions, 200 elsewhere).
    #[arg(long, default_value_t = 500)]
    shard_limit: u32,
    /// Milliseconds a stream stays CREATING, UPDATING or DELETING before the change completes.
    #[arg(long, default_value_t = 0)]
    status_delay_ms: u64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RIFFLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("riffle: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Emulator(args) => run_emulator(args).await,
            Command::Local(args) => local::run_local(args).await,
            Command::Validate(args) => local::validate(&args),
            Command::Put(args) => tools::put::run(args).await,
            Command::Tail(args) => tools::tail::run(args).await,
            Command::Dlq(args) => tools::dlq::run(args).await,
            Command::Explain(args) => tools::explain::run(args).await,
            Command::Redrive(args) => tools::redrive::run(args).await,
            Command::Fault(args) => tools::fault::run(args).await,
            Command::GenerateEvent(args) => out!("{}", tools::generate::event(&args)),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `riffle … | head -1`: the reader has what it wanted.
        Err(e) if tools::output::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("riffle: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    let (region, data_dir) = (args.region.clone(), args.data_dir.clone());
    let config = Config {
        bind: args.bind,
        port: args.port,
        data_dir: args.data_dir,
        limits: match args.limits {
            LimitsArg::Off => Limits::Off,
            LimitsArg::Aws => Limits::Aws,
        },
        region: args.region,
        account_id: args.account_id,
        shard_limit: args.shard_limit,
        status_delay: Duration::from_millis(args.status_delay_ms),
        ..Config::default()
    };
    let emulator = start_emulator(config, "--port <PORT> (or RIFFLE_PORT)")
        .await
        .context("starting the emulator")?;
    let deliveries = deliveries::Deliveries::start(deliveries::Wiring {
        firehose: std::sync::Arc::clone(emulator.firehose()),
        clients: riffle_aws::Clients::new(emulator.endpoint_url(), &region),
        processor: None,
        checkpoints: data_dir.map(|d| d.join("firehose-checkpoints")),
        clock: std::sync::Arc::new(riffle_runtime::SystemClock),
        function_timeout: Duration::from_secs(60),
    })
    .await;
    let shutdown = shutdown_signal();
    // A closed stdout does not stop a server: it keeps serving.
    let _ = out!("riffle emulator ready at {}", emulator.endpoint_url());
    shutdown.await;
    // Buffered records reach their buckets before the emulator stops.
    deliveries.stop().await;
    tracing::info!("shutting down");
    emulator
        .shutdown()
        .await
        .context("persisting state on shutdown")?;
    Ok(())
}

/// Starts the emulator; if it cannot listen, the error says so for people: a port in use names
/// its address, the likely holder and how to choose another port (`how`: the flag, such as
/// `--port <PORT>`).
pub(crate) async fn start_emulator(config: Config, how: &str) -> anyhow::Result<Emulator> {
    Emulator::start(config).await.map_err(|error| match error {
        riffle_emulator::StartError::Bind { addr, source } => listen_error(addr, &source, how),
        other => anyhow::Error::new(other),
    })
}

/// A listener that could not be bound on `addr`; `how` says how to choose another port.
pub(crate) fn listen_error(
    addr: std::net::SocketAddr,
    error: &std::io::Error,
    how: &str,
) -> anyhow::Error {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {addr}: another process is already listening there (perhaps \
             another `riffle local` or `riffle emulator`; `ss -ltnp` or `lsof -i :{port}` \
             shows which). Stop it, or choose another port with {how}; port 0 picks a free one.",
            port = addr.port(),
        ),
        _ => anyhow::anyhow!(
            "cannot listen on {addr}: {error}. Choose another address or port with {how}."
        ),
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal sent right after a "ready" line printed after the call
/// is caught rather than killing the process.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
