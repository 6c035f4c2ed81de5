//! Long-poll wake-ups: per queue, the ReceiveMessage calls waiting for messages.
//!
//! Invariant: a waiter registers ([`Arrivals::of`], then `Notified::enable`) before it looks at
//! the queue, so a [`Arrivals::wake`] between its look and its wait is kept for it; waiters are
//! woken one at a time, and each passes the wake-up on while messages remain, so a send wakes
//! as many long polls as its messages can serve and none of another queue.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::clock::{Clock, Millis};

/// The wake-ups of the long polls of every queue.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    queues: Mutex<HashMap<String, Arc<Notify>>>,
    /// How many long polls wait right now, so tests can wait for them instead of sleeping.
    #[cfg(test)]
    waiting: tokio::sync::watch::Sender<usize>,
}

impl Arrivals {
    /// The wake-up of long polls on queue `name`.
    pub(crate) fn of(&self, name: &str) -> Arc<Notify> {
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(queues.entry(name.to_owned()).or_default())
    }

    /// Messages may have become receivable on queue `name`: wakes one of its long polls (or
    /// the next to wait, if none waits now).
    pub(crate) fn wake(&self, name: &str) {
        let queues = self
            .queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(arrival) = queues.get(name) {
            arrival.notify_one();
        }
    }

    /// Waits for `arrival` (registered before the queue was looked at) or until `wake_at` on
    /// `clock`, whichever comes first.
    pub(crate) async fn wait(
        &self,
        arrival: Pin<&mut Notified<'_>>,
        clock: &dyn Clock,
        wake_at: Millis,
    ) {
        #[cfg(test)]
        self.waiting.send_modify(|n| *n += 1);
        tokio::select! {
            () = arrival => {}
            () = clock.sleep_until(wake_at) => {}
        }
        #[cfg(test)]
        self.waiting.send_modify(|n| *n -= 1);
    }

    /// Resolves once exactly `count` long polls wait.
    #[cfg(test)]
    pub(crate) async fn until_waiting(&self, count: usize) {
        let mut waiting = self.waiting.subscribe();
        waiting
            .wait_for(|n| *n == count)
            .await
            .expect("the sender lives as long as self");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::sqs::api::testing::{call, service};

    /// Long polls are woken one at a time: each takes what it asked for and wakes the next
    /// while messages remain, so every waiter of the queue is served at once and none of
    /// another queue is woken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_send_wakes_as_many_long_polls_as_its_messages_serve() {
        let sqs = Arc::new(service());
        let mut urls = Vec::new();
        for name in ["a", "b"] {
            let created = call(&sqs, "CreateQueue", json!({ "QueueName": name })).await;
            urls.push(created["QueueUrl"].as_str().unwrap().to_owned());
        }
        let mut polls = Vec::new();
        for url in [&urls[0], &urls[0], &urls[0], &urls[1]] {
            let (sqs, url) = (Arc::clone(&sqs), url.clone());
            polls.push(tokio::spawn(async move {
                let body = json!({
                    "QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 20,
                });
                call(&sqs, "ReceiveMessage", body).await
            }));
        }
        // The manual clock never moves: a long poll returns only when woken. Send once all
        // four have looked at their (empty) queue and wait.
        tokio::time::timeout(Duration::from_secs(5), sqs.arrivals.until_waiting(4))
            .await
            .expect("all four long polls wait");
        let batch: Vec<Value> = (0..3)
            .map(|i| json!({ "Id": format!("e{i}"), "MessageBody": format!("m{i}") }))
            .collect();
        call(
            &sqs,
            "SendMessageBatch",
            json!({ "QueueUrl": urls[0], "Entries": batch }),
        )
        .await;
        let other = polls.pop().unwrap();
        let mut bodies = Vec::new();
        for poll in polls {
            let answer = tokio::time::timeout(Duration::from_secs(5), poll)
                .await
                .expect("every long poll of the queue is served")
                .unwrap();
            bodies.push(answer["Messages"][0]["Body"].as_str().unwrap().to_owned());
        }
        bodies.sort();
        assert_eq!(bodies, ["m0", "m1", "m2"]);
        assert!(
            !other.is_finished(),
            "the other queue's long poll still waits"
        );
        other.abort();
    }
}
