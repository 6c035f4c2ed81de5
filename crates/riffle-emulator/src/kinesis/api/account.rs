//! DescribeAccountSettings and UpdateAccountSettings: the account's minimum throughput billing
//! commitment (the store keeps its state and transitions, `store/account.rs`).
//!
//! Invariant: the request is validated by the model-driven checker (`kinesis/model`) before it
//! gets here, so `MinimumThroughputBillingCommitment.Status` is present and `ENABLED` or
//! `DISABLED`; UpdateAccountSettings answers the settings as they are after the change, as AWS
//! documents ("will return immediately with your account's updated settings").

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::request::{seconds, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult};
use crate::kinesis::store::{AccountMutation, CommitmentView, KinesisStore, Mutation};

impl Kinesis {
    pub(super) fn describe_account_settings(&self) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        Ok(Reply::now(settings_body(&self.lock(), now)))
    }

    pub(super) fn update_account_settings(
        &self,
        input: UpdateAccountSettingsInput,
    ) -> ApiResult<Reply> {
        let enabled = match input
            .minimum_throughput_billing_commitment
            .and_then(|c| c.status)
            .as_deref()
        {
            Some("ENABLED") => true,
            Some("DISABLED") => false,
            // The model-driven checker refuses anything else first.
            _ => {
                return Err(ApiError::internal(
                    "MinimumThroughputBillingCommitment.Status passed the checker unset",
                ));
            }
        };
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mutation =
            Mutation::Account(AccountMutation::MinimumThroughputBillingCommitment { enabled });
        let (_, durable_at) = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: settings_body(&store, now),
            durable_at,
        })
    }
}

/// `{"MinimumThroughputBillingCommitment": {...}}` at `now`, timestamps in epoch seconds and
/// only those that apply.
fn settings_body(store: &KinesisStore, now: Millis) -> Vec<u8> {
    let view: CommitmentView = store.account.commitment(now);
    let mut commitment = Map::new();
    commitment.insert("Status".into(), json!(view.status.as_str()));
    let times = [
        ("StartedAt", view.started_ms),
        ("EndedAt", view.ended_ms),
        ("EarliestAllowedEndAt", view.earliest_allowed_end_ms),
    ];
    for (key, ms) in times {
        if let Some(ms) = ms {
            commitment.insert(key.into(), json!(seconds(ms)));
        }
    }
    to_body(&json!({ "MinimumThroughputBillingCommitment": Value::Object(commitment) }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateAccountSettingsInput {
    minimum_throughput_billing_commitment: Option<CommitmentInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CommitmentInput {
    status: Option<String>,
}
