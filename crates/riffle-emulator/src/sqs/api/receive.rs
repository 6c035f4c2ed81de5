//! ReceiveMessage: validate, then receive at once or long-poll until a message becomes
//! receivable or the wait ends.
//!
//! Invariant: each round looks at the queue after registering for wake-ups
//! ([`crate::sqs::long_poll`]), so a message sent between the look and the wait is never
//! missed; an empty round sleeps on the injected clock until the next message becomes visible
//! or the wait ends, never polling.

use serde::Deserialize;

use super::request::bad_value;
use super::{Answer, Reply, RequestContext, Sqs};
use crate::error::{ApiError, ErrorCode};
use crate::sqs::attributes::is_known_attribute;
use crate::sqs::receipt;
use crate::sqs::reply::{self, SystemAttributes};
use crate::sqs::store::Mutation;

impl Sqs {
    pub(super) async fn receive_message(
        &self,
        input: ReceiveInput,
        context: &RequestContext,
    ) -> Answer {
        let max = input.max_number_of_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(bad_value(
                "MaxNumberOfMessages",
                max,
                "Must be between 1 and 10, if provided.",
            ));
        }
        if let Some(v) = input.visibility_timeout
            && !(0..=43_200).contains(&v)
        {
            return Err(bad_value(
                "VisibilityTimeout",
                v,
                "Must be >= 0 and <= 43200, if provided.",
            ));
        }
        if let Some(w) = input.wait_time_seconds
            && !(0..=20).contains(&w)
        {
            return Err(bad_value(
                "WaitTimeSeconds",
                w,
                "Must be >= 0 and <= 20, if provided.",
            ));
        }
        let mut system = SystemAttributes::default();
        for name in input
            .attribute_names
            .iter()
            .chain(&input.message_system_attribute_names)
            .flatten()
        {
            if name == "All" {
                system.extend(SystemAttributes::ALL);
            } else if !system.insert(name) && !is_known_attribute(name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
        }
        let attribute_filter = input.message_attribute_names.unwrap_or_default();
        let (name, wait_ms, visibility_ms) = {
            let store = self.lock();
            let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
            let queue = store.queue(&name)?;
            let wait = input
                .wait_time_seconds
                .map_or(queue.receive_wait_seconds(), |w| w as u64);
            let visibility = input
                .visibility_timeout
                .map_or(queue.visibility_timeout_seconds(), |v| v as u64);
            (name, wait * 1000, visibility * 1000)
        };
        let deadline = self.clock.now_millis() + wait_ms;
        let arrivals = self.arrivals.of(&name);
        loop {
            let arrival = arrivals.notified();
            tokio::pin!(arrival);
            arrival.as_mut().enable();
            let mut body = Vec::new();
            let (durable_at, wake_at, now) = {
                let (mut store, now) = self.lock_now();
                store.queue_at(&name, now)?;
                let plan = store.plan_receive(&name, now, max as usize, visibility_ms)?;
                let Mutation::Receive {
                    received, moved, ..
                } = &plan
                else {
                    unreachable!("plan_receive plans a receive")
                };
                let seqs: Vec<u64> = received.iter().map(|(seq, _)| *seq).collect();
                let mut targets: Vec<String> = moved.iter().map(|(_, t)| t.clone()).collect();
                targets.dedup();
                let durable_at = if seqs.is_empty() && targets.is_empty() {
                    None
                } else {
                    self.commit(&mut store, now, plan)
                };
                for target in &targets {
                    self.arrivals.wake(target);
                }
                let queue = store.queue(&name)?;
                let messages = seqs.iter().filter_map(|seq| queue.messages.get(seq));
                let mut any = false;
                for (i, message) in messages.enumerate() {
                    body.extend_from_slice(if i == 0 { b"{\"Messages\":[" } else { b"," });
                    let handle = receipt::handle(&self.sealer, queue, message);
                    reply::received(&mut body, message, &handle, system, &attribute_filter);
                    any = true;
                }
                if any {
                    body.extend_from_slice(b"]}");
                    if queue.has_visible() {
                        // Pass the wake-up on: another long poll may take the rest.
                        arrivals.notify_one();
                    }
                }
                // Only an empty receive needs to know when to wake.
                let wake_at = if any {
                    None
                } else {
                    queue.next_visible_at(now)
                };
                (durable_at, wake_at, now)
            };
            if !body.is_empty() || now >= deadline {
                if body.is_empty() {
                    body.extend_from_slice(b"{}");
                }
                return Ok(Reply { body, durable_at });
            }
            let wake = wake_at.map_or(deadline, |t| t.min(deadline));
            self.arrivals
                .wait(arrival.as_mut(), &*self.clock, wake)
                .await;
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ReceiveInput {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
    #[serde(rename = "ReceiveRequestAttemptId")]
    _receive_request_attempt_id: Option<String>,
}

#[cfg(test)]
mod tests;
