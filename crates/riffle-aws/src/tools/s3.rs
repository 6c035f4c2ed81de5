//! S3 requests of the tools: creating a bucket idempotently.
//!
//! Invariant: a bucket that already exists and is ours (a data directory from an earlier run)
//! is kept with its objects; creating it again is not an error.

use aws_sdk_s3::Client;

use super::sdk_error;

/// What [`create_bucket`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The bucket was created.
    Created,
    /// It existed already (ours), and is kept as it is.
    Existed,
}

/// Creates bucket `name`, or keeps it if it is already ours; the error is the service's
/// `Code: message`.
pub async fn create_bucket(client: &Client, name: &str) -> Result<Created, String> {
    let mut request = client.create_bucket().bucket(name);
    // Outside us-east-1, S3 requires the bucket's region as its location constraint.
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_owned())
        && region != "us-east-1"
    {
        request = request.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(Created::Created),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
        {
            Ok(Created::Existed)
        }
        Err(error) => Err(sdk_error(&error)),
    }
}
