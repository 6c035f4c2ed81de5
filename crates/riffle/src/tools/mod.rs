//! Everyday tools around a running emulator (or any endpoint): put records, tail a stream, read
//! an on-failure queue, and print realistic events. They talk to the endpoint through the same
//! SDK clients as the engine. Everything they print goes through `output` (a closed pipe ends
//! them quietly). `explain` and `redrive` also need `riffle local`: its control API
//! (the decision journal, `control.rs` is its client) and its Lambda Invoke API.

pub(crate) mod control;
pub(crate) mod dlq;
pub(crate) mod explain;
pub(crate) mod fault;
pub(crate) mod generate;
pub(crate) mod output;
pub(crate) mod put;
pub(crate) mod redrive;
pub(crate) mod tail;

/// Where the tools connect.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Endpoint {
    /// Endpoint of the emulator (or any Kinesis/SQS endpoint).
    #[arg(
        long,
        default_value = "http://127.0.0.1:4566",
        env = "RIFFLE_ENDPOINT_URL"
    )]
    pub(crate) endpoint_url: String,
    /// Region.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION")]
    pub(crate) region: String,
}

impl Endpoint {
    pub(crate) fn clients(&self) -> riffle_aws::Clients {
        riffle_aws::Clients::new(&self.endpoint_url, &self.region)
    }
}
