//! Failure records delivered through the SDK: to SQS queues ([`SqsDestination`]), to S3 buckets
//! ([`S3Destination`]), or to either by the ARN's service ([`Destinations`]).
//!
//! Invariant: a delivery is reported done only once the service acknowledged it (SendMessage
//! or PutObject answered), so the mapping checkpoints past discarded records only then.

use std::collections::HashMap;
use std::sync::Mutex;

use riffle_core::destination::{DestinationKind, s3_bucket};
use riffle_runtime::firehose::PutObject;
use riffle_runtime::{FailureDestination, FailureMessage};

/// Sends failure records to SQS queues named by ARN.
#[derive(Debug)]
pub struct SqsDestination {
    client: aws_sdk_sqs::Client,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsDestination {
    /// A destination sending with `client`.
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self {
            client,
            urls: Mutex::new(HashMap::new()),
        }
    }

    async fn url(&self, arn: &str) -> Result<String, String> {
        if let Some(url) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            return Ok(url.clone());
        }
        let mut parts = arn.split(':');
        let (account, name) = (parts.nth(4), parts.next());
        let (Some(account), Some(name)) = (account, name) else {
            return Err(format!("{arn} is not an SQS queue ARN"));
        };
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "resolving {arn}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        let url = out.queue_url().unwrap_or_default().to_owned();
        self.urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(arn.to_owned(), url.clone());
        Ok(url)
    }
}

impl FailureDestination for SqsDestination {
    async fn send(&self, message: FailureMessage) -> Result<(), String> {
        let arn = &message.destination;
        let url = self.url(arn).await?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(message.body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "sending to {arn}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })
    }
}

/// Writes failure records as objects into S3 buckets named by ARN, under AWS's key layout.
#[derive(Debug, Clone)]
pub struct S3Destination {
    client: aws_sdk_s3::Client,
}

impl S3Destination {
    /// A destination writing with `client` (path-style, as [`crate::Clients::s3`] builds it).
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

impl FailureDestination for S3Destination {
    async fn send(&self, message: FailureMessage) -> Result<(), String> {
        let arn = &message.destination;
        let bucket = s3_bucket(arn).ok_or_else(|| format!("{arn} is not an S3 bucket ARN"))?;
        let object = PutObject {
            bucket: bucket.to_owned(),
            key: message.object_key,
            body: message.body.into_bytes(),
            content_encoding: None,
        };
        crate::objects::put_object(&self.client, object, "application/json").await
    }
}

/// Every destination kind Riffle delivers to, chosen by the ARN's service.
#[derive(Debug)]
pub struct Destinations {
    sqs: SqsDestination,
    s3: S3Destination,
}

impl Destinations {
    /// Queues through `sqs`, buckets through `s3`.
    pub fn new(sqs: aws_sdk_sqs::Client, s3: aws_sdk_s3::Client) -> Self {
        Self {
            sqs: SqsDestination::new(sqs),
            s3: S3Destination::new(s3),
        }
    }
}

impl FailureDestination for Destinations {
    async fn send(&self, message: FailureMessage) -> Result<(), String> {
        match DestinationKind::of(&message.destination) {
            Some(DestinationKind::Sqs) => self.sqs.send(message).await,
            Some(DestinationKind::S3) => self.s3.send(message).await,
            None => Err(format!(
                "{} is neither an SQS queue nor an S3 bucket",
                message.destination
            )),
        }
    }
}
