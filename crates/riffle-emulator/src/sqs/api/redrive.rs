//! ListDeadLetterSourceQueues: the queues whose RedrivePolicy targets a queue.
//!
//! Invariant: the answer is in name order and pages with a sealed token that only this action
//! accepts.

use serde::Deserialize;
use serde_json::json;

use super::request::{body_of, check_max_results};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::sqs::Action;

impl Sqs {
    pub(super) fn list_dead_letter_sources(
        &self,
        input: ListDeadLetterSourcesInput,
        context: &RequestContext,
    ) -> Answer {
        check_max_results(input.max_results)?;
        let store = self.lock();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let arn = store.queue_arn(&name);
        let sources = store
            .queues()
            .values()
            .filter(|q| q.redrive().is_some_and(|(target, _)| target == arn))
            .map(|q| &q.name);
        let paging = (input.max_results, input.next_token.as_deref());
        let action = Action::ListDeadLetterSourceQueues;
        let (urls, next) = self.page(&store, context, action, paging, sources)?;
        let mut out = json!({ "queueUrls": urls });
        if let Some(token) = next {
            out["NextToken"] = json!(token);
        }
        Ok(Reply {
            body: body_of(&out),
            durable_at: None,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListDeadLetterSourcesInput {
    queue_url: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[cfg(test)]
mod tests;
