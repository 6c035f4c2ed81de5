//! Scenario scripts for the SQS poller machine (see `crate::testscript`): each file under
//! `sqs/poller/testscripts/` starts a poller and answers each effect it asks for (receives,
//! invocations, deletes, releases, time), printing what the machine does next.
//!
//! Commands (each prints the effects the input produced, as `+MS effect`):
//! - `poller [batch_size=N] [window=S] [item_failures=true] [fifo=true]`: a new poller at T0 on
//!   a queue with a 30 s visibility timeout (function timeout 3 s); starts it.
//! - `stay`: the scaler keeps the poller (answer to `retire?`).
//! - `receive N [group=G]`: the pending receive returns N new messages (`m-1`, `m-2`, … in
//!   send order; on a FIFO queue in group G); `receive 0` is an empty receive.
//! - `receive_error TEXT`: the pending receive failed.
//! - `invoke ok|error|throttle|service_error`, `invoke fail ID [ID…]`: the invocation's outcome.
//! - `delete`: the pending DeleteMessageBatch succeeded; `delete_failed ID [ID…]`: those
//!   entries failed on SQS's side; `delete_error TEXT`: the call failed.
//! - `release`: the pending ChangeMessageVisibilityBatch returned.
//! - `advance MS`: time passes; the poller ticks.
//! - `stop`: shutdown is asked for.

use std::error::Error;
use std::fmt::Write as _;

use super::*;
use crate::testscript;

#[derive(goldenscript::Command)]
enum Command {
    Poller {
        #[arg(key)]
        batch_size: Option<i64>,
        #[arg(key)]
        window: Option<i64>,
        #[arg(key)]
        item_failures: Option<bool>,
        #[arg(key)]
        fifo: Option<bool>,
    },
    Stay,
    Receive {
        count: usize,
        #[arg(key)]
        group: Option<String>,
    },
    ReceiveError(String),
    Invoke {
        kind: String,
        #[arg(optional)]
        ids: Vec<String>,
    },
    Delete,
    DeleteFailed(Vec<String>),
    DeleteError(String),
    Release,
    Advance(Millis),
    Stop,
}

struct Runner {
    settings: PollerSettings,
    poller: Poller,
    now: Millis,
    sent: usize,
}

impl Default for Runner {
    fn default() -> Self {
        Self {
            settings: settings(10, 0, false),
            poller: Poller::new(),
            now: T0,
            sent: 0,
        }
    }
}

fn show_ids(entries: &[ReceiptEntry]) -> String {
    let ids: Vec<&str> = entries.iter().map(|e| e.message_id.as_str()).collect();
    ids.join(",")
}

fn show_effect(effect: &Effect) -> String {
    match effect {
        Effect::Journal(decision) => format!("journal {decision:?}"),
        Effect::Scale(signal) => format!("scale {signal:?}"),
        Effect::Deleted(n) => format!("deleted {n}"),
        Effect::Receive(request) => {
            let mut text = format!(
                "receive max={} wait={}s",
                request.max_messages, request.wait_seconds
            );
            if let Some(visibility) = request.visibility_timeout_seconds {
                let _ = write!(text, " visibility={visibility}s");
            }
            text
        }
        Effect::Invoke { payload } => {
            let ids: Vec<u64> = payload_ids(payload)
                .iter()
                .filter_map(|id| id.strip_prefix("m-")?.parse().ok())
                .collect();
            format!("invoke {}", testscript::show_range(&ids, "m-"))
        }
        Effect::Delete(entries) => format!("delete {}", show_ids(entries)),
        Effect::Release(entries) => format!("release {}", show_ids(entries)),
        Effect::Wake { at } => format!("wake at +{}", at - T0),
        Effect::Retire => "retire?".to_owned(),
        Effect::Stopped => "stopped".to_owned(),
    }
}

/// The message ids of an SQS event.
fn payload_ids(payload: &str) -> Vec<String> {
    let event: serde_json::Value = serde_json::from_str(payload).expect("an SQS event");
    event["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| r["messageId"].as_str().expect("messageId").to_owned())
        .collect()
}

impl testscript::Script for Runner {
    type Command = Command;

    fn perform(&mut self, command: &Command, text: &mut String) -> Result<(), Box<dyn Error>> {
        let mut out = Vec::new();
        let settings = &self.settings;
        let now = self.now;
        match command {
            Command::Poller {
                batch_size,
                window,
                item_failures,
                fifo,
            } => {
                let mut settings = super::settings(
                    batch_size.unwrap_or(10),
                    window.unwrap_or(0),
                    item_failures.unwrap_or(false),
                );
                settings.fifo = fifo.unwrap_or(false);
                *self = Self {
                    settings,
                    ..Self::default()
                };
                self.poller.start(&self.settings, T0, &mut out);
            }
            Command::Stay => self.poller.stayed(settings, now, &mut out),
            Command::Receive { count, group } => {
                let messages = (1..=*count)
                    .map(|i| {
                        let mut message = message(self.sent + i, "{}");
                        if let Some(group) = group {
                            message
                                .attributes
                                .push(("MessageGroupId".into(), group.clone()));
                        }
                        message
                    })
                    .collect();
                self.sent += count;
                self.poller.received(settings, Ok(messages), now, &mut out);
            }
            Command::ReceiveError(error) => {
                self.poller
                    .received(settings, Err(error.clone()), now, &mut out);
            }
            Command::Invoke { kind, ids } => {
                let outcome = testscript::outcome(kind, ids)?;
                self.poller
                    .invocation_finished(settings, &outcome, now, &mut out);
            }
            Command::Delete => self.poller.deleted(settings, Ok(Vec::new()), now, &mut out),
            Command::DeleteFailed(failed) => {
                let failures = failed
                    .iter()
                    .map(|id| EntryFailure {
                        message_id: id.clone(),
                        code: "InternalError".into(),
                        sender_fault: false,
                    })
                    .collect();
                self.poller.deleted(settings, Ok(failures), now, &mut out);
            }
            Command::DeleteError(error) => {
                self.poller
                    .deleted(settings, Err(error.clone()), now, &mut out);
            }
            Command::Release => self
                .poller
                .released(settings, Ok(Vec::new()), now, &mut out),
            Command::Advance(ms) => {
                self.now += ms;
                self.poller.tick(&self.settings, self.now, &mut out);
            }
            Command::Stop => self.poller.stop(),
        }
        for effect in &out {
            writeln!(text, "+{} {}", self.now - T0, show_effect(effect))?;
        }
        Ok(())
    }
}

test_each_file::test_each_path! { in "crates/riffle-core/src/sqs/poller/testscripts" as script => run_script }

fn run_script(path: &std::path::Path) {
    testscript::run(Runner::default(), path);
}
