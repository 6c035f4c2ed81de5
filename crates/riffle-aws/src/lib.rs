//! The AWS side of the engine: a [`StreamSource`](riffle_runtime::StreamSource) over
//! `aws-sdk-kinesis` ([`KinesisSource`], polling or through an enhanced fan-out consumer), a
//! [`FailureDestination`](riffle_runtime::FailureDestination) for SQS queues and S3 buckets
//! ([`Destinations`], over `aws-sdk-sqs` and `aws-sdk-s3`), a
//! [`riffle_runtime::QueueSource`] ([`SqsQueueSource`]) over `aws-sdk-sqs`, for the embedded
//! emulator and real endpoints alike; and [`LambdaInvoker`], the Invoke API over
//! `aws-sdk-lambda` for functions that run elsewhere (AWS, `sam local start-lambda`,
//! `cargo lambda watch`).

pub mod clients;
pub mod destination;
pub mod fanout;
pub mod invoke;
pub mod objects;
pub mod queue;
pub mod stream;
pub mod tools;

pub use clients::{
    Clients, KinesisClient, LambdaClient, S3Client, SqsClient, clients, lambda_client,
};
pub use destination::{Destinations, S3Destination, SqsDestination};
pub use invoke::LambdaInvoker;
pub use objects::S3Objects;
pub use queue::{QueueFacts, SqsQueueSource, queue_facts, queue_url};
pub use stream::{KinesisShardReader, KinesisSource};
