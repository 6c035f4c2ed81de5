//! Everyday tools around a running emulator (or any endpoint): put records, tail a stream, read
//! an on-failure queue, and print realistic events. They talk to the endpoint through the same
//! SDK clients as the engine. Everything they print goes through `output` (a closed pipe ends
//! them quietly). `explain` and `redrive` also need `riffle local`: its control API
//! (the decision journal, `control.rs` is its client) and its Lambda Invoke API.

pub(crate) mod control;
pub(crate) mod dlq;
pub(crate) mod explain;
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
    pub(crate) fn clients(&self) -> (aws_sdk_kinesis::Client, aws_sdk_sqs::Client) {
        riffle_aws::clients(&self.endpoint_url, &self.region)
    }
}

/// The text of an SDK error, with its code when the service sent one.
pub(crate) fn sdk_error<E>(error: &aws_sdk_kinesis::error::SdkError<E>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error,
{
    match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or_default()
        ),
        None => format!("{error}"),
    }
}
