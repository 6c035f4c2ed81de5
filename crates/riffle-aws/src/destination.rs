//! Failure records sent to SQS queues named by ARN, through the SDK.

use std::collections::HashMap;
use std::sync::Mutex;

use riffle_runtime::FailureDestination;

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
    async fn send(&self, arn: &str, body: String) -> Result<(), String> {
        let url = self.url(arn).await?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
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
