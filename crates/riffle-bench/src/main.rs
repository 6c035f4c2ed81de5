//! `riffle-bench`: the load generator behind `make bench`.
//!
//! Every emulator workload talks to an emulator through the official AWS SDK for Rust over plain
//! HTTP, so Riffle and its peers (kinesalite and ferrokinesis for Kinesis, moto for SQS and S3) are
//! measured with the same client. The `esm` workloads run Riffle's event source mapping engine
//! end to end against the emulator with an in-process handler. Each invocation prints exactly
//! one JSON object on stdout; `bench/run.sh` collects them into `docs/benchmarks.md`.

mod esm;
mod kinesis;
mod lambda;
mod latency;
mod process;
mod report;
mod s3;
mod sqs;
mod stats;
mod throughput;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc instead of glibc malloc: the engine allocates many small, short-lived strings per
/// record, and glibc's arenas spent a third of its CPU on them (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmark Kinesis and SQS endpoints with the official AWS SDK, and Riffle's mapping engine.
#[derive(Debug, Parser)]
#[command(name = "riffle-bench", about)]
struct Cli {
    /// Worker threads of the client's async runtime.
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Wait until the endpoint answers ListStreams (or ListQueues with --service sqs).
    Wait(WaitArgs),
    /// PutRecords throughput: concurrent producers sending fixed-size batches.
    Put(throughput::PutArgs),
    /// GetRecords throughput: read every shard of a stream from TRIM_HORIZON to the end.
    Drain(throughput::DrainArgs),
    /// Put→read latency: PutRecord at a fixed rate while consumers poll GetRecords.
    Latency(latency::LatencyArgs),
    /// SendMessageBatch throughput: concurrent producers sending 10-message batches.
    SqsSend(sqs::SendArgs),
    /// ReceiveMessage + DeleteMessageBatch throughput: concurrent consumers draining a queue.
    SqsDrain(sqs::DrainArgs),
    /// PutObject throughput: concurrent writers putting fixed-size objects.
    S3Put(s3::PutArgs),
    /// GetObject throughput: concurrent readers getting every object s3-put wrote.
    S3Get(s3::ObjectArgs),
    /// The event source mapping engine end to end: emulator → mapping → in-process handler.
    Esm(esm::EsmArgs),
    /// Warm invocation round trips and cold starts of a real function behind the Runtime API host.
    Lambda(lambda::LambdaArgs),
    /// Start-up time and idle memory of an emulator command (`{port}` is replaced).
    Startup(process::StartupArgs),
    /// Render collected results into the generated sections of docs/benchmarks.md.
    Report(report::ReportArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Service {
    /// Kinesis Data Streams (ListStreams).
    Kinesis,
    /// SQS (ListQueues).
    Sqs,
    /// S3 (ListBuckets).
    S3,
}

#[derive(Debug, clap::Args)]
struct WaitArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:4566.
    #[arg(long)]
    endpoint: String,
    /// Which API to ask.
    #[arg(long, value_enum, default_value = "kinesis")]
    service: Service,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Wait(args) => {
                let timeout = Duration::from_secs(args.timeout_secs);
                let waited = match args.service {
                    Service::Kinesis => {
                        kinesis::wait_ready(&kinesis::client(&args.endpoint), timeout).await?
                    }
                    Service::Sqs => sqs::wait_ready(&sqs::client(&args.endpoint), timeout).await?,
                    Service::S3 => s3::wait_ready(&s3::client(&args.endpoint), timeout).await?,
                };
                Ok(serde_json::json!({
                    "workload": "wait",
                    "endpoint": args.endpoint,
                    "waited_ms": stats::millis(waited),
                }))
            }
            Command::Put(args) => throughput::put(args).await,
            Command::Drain(args) => throughput::drain(args).await,
            Command::Latency(args) => latency::run(args).await,
            Command::SqsSend(args) => sqs::send(args).await,
            Command::SqsDrain(args) => sqs::drain(args).await,
            Command::S3Put(args) => s3::put(args).await,
            Command::S3Get(args) => s3::get(args).await,
            Command::Esm(args) => esm::run(args).await,
            Command::Lambda(args) => lambda::run(args).await,
            Command::Startup(args) => process::startup(args).await,
            Command::Report(args) => report::run(&args),
        }
    })?;
    println!("{result}");
    Ok(())
}
