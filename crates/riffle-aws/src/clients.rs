//! The one place SDK clients are set up: Kinesis, SQS, S3 and Lambda clients for an endpoint and a
//! region, over plain HTTP (no TLS stack), with placeholder credentials.
//!
//! Invariants: the Lambda client never retries (retrying is the mapping's decision); the SQS
//! client never wraps bodies in stalled-stream protection (its requests and answers are small
//! JSON documents from a local endpoint, and the throughput checks guard nothing there).

use std::time::Duration;

/// A Kinesis client, for code that holds one without linking the SDK itself.
pub type KinesisClient = aws_sdk_kinesis::Client;
/// An SQS client.
pub type SqsClient = aws_sdk_sqs::Client;
/// A Lambda client.
pub type LambdaClient = aws_sdk_lambda::Client;
/// An S3 client.
pub type S3Client = aws_sdk_s3::Client;

/// How clients reach their endpoint. [`Clients::new`] gives riffle's defaults; the builder
/// methods change what a caller needs otherwise (the benchmark: no retries, timeouts).
#[derive(Debug, Clone)]
pub struct Clients {
    endpoint: String,
    region: String,
    access_key: &'static str,
    provider: &'static str,
    retries: bool,
    stalled_stream_protection: bool,
    timeouts: Option<(Duration, Duration)>,
}

/// Builds `$sdk`'s client from `$options`, with `$sdk`'s own spelling of every type (the three
/// SDK crates have identical builders but no common trait).
macro_rules! build_client {
    ($sdk:ident, $options:expr, retries: $retries:expr, stalled: $stalled:expr $(, then: $then:expr)?) => {{
        use $sdk::config::retry::RetryConfig;
        use $sdk::config::timeout::TimeoutConfig;
        use $sdk::config::{BehaviorVersion, Credentials, Region, StalledStreamProtectionConfig};
        let options: &Clients = $options;
        let mut config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&options.endpoint)
            .region(Region::new(options.region.clone()))
            .credentials_provider(Credentials::new(
                options.access_key,
                options.access_key,
                None,
                None,
                options.provider,
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http());
        if !$retries {
            config = config.retry_config(RetryConfig::disabled());
        }
        if !$stalled {
            config = config.stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        }
        if let Some((connect, operation)) = options.timeouts {
            config = config.timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(connect)
                    .operation_timeout(operation)
                    .build(),
            );
        }
        $(config = $then(config);)?
        $sdk::Client::from_conf(config.build())
    }};
}

impl Clients {
    /// Clients of `endpoint` in `region`: the SDK's standard retries (Kinesis and SQS), its
    /// stalled-stream protection (Kinesis), no timeouts of their own, credentials `riffle`.
    pub fn new(endpoint: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            region: region.into(),
            access_key: "riffle",
            provider: "riffle",
            retries: true,
            stalled_stream_protection: true,
            timeouts: None,
        }
    }

    /// Placeholder credentials `access_key` (also the secret), from a provider named `provider`.
    pub fn credentials(mut self, access_key: &'static str, provider: &'static str) -> Self {
        self.access_key = access_key;
        self.provider = provider;
        self
    }

    /// No SDK retries for any client: every failure is seen.
    pub fn without_retries(mut self) -> Self {
        self.retries = false;
        self
    }

    /// No stalled-stream protection for any client.
    pub fn without_stalled_stream_protection(mut self) -> Self {
        self.stalled_stream_protection = false;
        self
    }

    /// A connect timeout and an operation timeout.
    pub fn timeouts(mut self, connect: Duration, operation: Duration) -> Self {
        self.timeouts = Some((connect, operation));
        self
    }

    /// A Kinesis client.
    pub fn kinesis(&self) -> aws_sdk_kinesis::Client {
        build_client!(aws_sdk_kinesis, self, retries: self.retries, stalled: self.stalled_stream_protection)
    }

    /// An SQS client (never with stalled-stream protection).
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        build_client!(aws_sdk_sqs, self, retries: self.retries, stalled: false)
    }

    /// An S3 client: path-style addresses (`endpoint/bucket/key`, which a local endpoint serves
    /// without DNS), checksums only where S3 requires them (so bodies are sent as they are, not
    /// in `aws-chunked` frames), never with stalled-stream protection.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        build_client!(aws_sdk_s3, self, retries: self.retries, stalled: false, then: |config: aws_sdk_s3::config::Builder| {
            config
                .force_path_style(true)
                .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        })
    }

    /// A Lambda client (never with SDK retries).
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        build_client!(aws_sdk_lambda, self, retries: false, stalled: self.stalled_stream_protection)
    }
}

/// Kinesis and SQS clients of `endpoint` (such as the embedded emulator) with riffle's defaults.
pub fn clients(endpoint: &str, region: &str) -> (aws_sdk_kinesis::Client, aws_sdk_sqs::Client) {
    let clients = Clients::new(endpoint, region);
    (clients.kinesis(), clients.sqs())
}

/// A Lambda client for a local endpoint (`sam local start-lambda`, `cargo lambda watch`): plain
/// HTTP, placeholder credentials, no SDK retries. For real AWS, build the client from your AWS
/// configuration (with retries disabled) and pass it to [`crate::LambdaInvoker::new`].
pub fn lambda_client(endpoint: &str, region: &str) -> aws_sdk_lambda::Client {
    Clients::new(endpoint, region).lambda()
}
