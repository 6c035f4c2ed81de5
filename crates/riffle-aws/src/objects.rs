//! S3 PutObject over `aws-sdk-s3`, written once: for Kinesis failure records
//! ([`crate::S3Destination`]) and as a Firehose delivery stream's object store ([`S3Objects`]).
//!
//! Invariant: the error a failed write reports names the object and carries the SDK's whole
//! chain of causes, so the journal says why it is retried.

use riffle_runtime::firehose::{ObjectSink, PutObject};

/// Puts `body` at `s3://bucket/key`.
pub(crate) async fn put_object(
    client: &aws_sdk_s3::Client,
    object: PutObject,
    content_type: &str,
) -> Result<(), String> {
    let PutObject {
        bucket,
        key,
        body,
        content_encoding,
    } = object;
    client
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type(content_type)
        .set_content_encoding(content_encoding.map(str::to_owned))
        .body(body.into())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "writing s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })
}

/// A delivery stream's objects, written through the SDK (to the embedded emulator or AWS).
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    /// Writes with `client` (path-style, as [`crate::Clients::s3`] builds it).
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

impl ObjectSink for S3Objects {
    async fn put(&self, object: PutObject) -> Result<(), String> {
        put_object(&self.client, object, "application/octet-stream").await
    }
}
