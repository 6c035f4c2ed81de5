//! The dashboard's queues of failures: each Kinesis mapping's on-failure queue and each queue's
//! dead-letter queue, with the records they hold, and their redrive.
//!
//! Invariants: listing never changes a queue: messages come from the emulator's peek route
//! (`tools::dlq::peek`, as `riffle dlq` reads them), and where there is none (`--endpoint-url`)
//! the panel says so instead of receiving. A redrive of an on-failure queue is `riffle
//! redrive`'s own pass (`tools::redrive::pass`); a dead-letter queue's moves each message back
//! to its source queue and deletes it from the dead-letter queue only once it was sent.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use riffle_template::{Application, MappingConfig};
use serde::{Deserialize, Serialize};

use super::super::{Control, control_error, starting};
use super::{invalid, ok, ready};
use crate::tools::{dlq, redrive};

/// How many messages of each queue the panel shows.
const SHOWN: usize = 50;

/// How long a dead-letter message stays hidden while it is moved back.
const MOVE_HOLD_SECONDS: i32 = 60;

/// A queue failures go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Destination {
    /// The queue's name.
    queue: String,
    url: String,
    /// `on_failure` (a Kinesis mapping's destination) or `dead_letter` (a queue's
    /// RedrivePolicy target).
    role: Role,
    /// The mapping (on-failure) or the source queue's name (dead-letter).
    of: String,
    /// Dead-letter: the source queue's URL, where a redrive moves messages back.
    #[serde(skip)]
    source_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    OnFailure,
    DeadLetter,
}

/// The template's on-failure and dead-letter queues.
pub(super) fn of(app: &Application) -> Vec<Destination> {
    let mut found = Vec::new();
    for mapping in &app.mappings {
        if let MappingConfig::Kinesis(config) = &mapping.config
            && let Some(arn) = &config.on_failure_destination
            && let Some(queue) = app.queue_by_arn(arn)
        {
            found.push(Destination {
                queue: queue.name.clone(),
                url: queue.url.clone(),
                role: Role::OnFailure,
                of: mapping.logical_id.clone(),
                source_url: None,
            });
        }
    }
    for source in &app.queues {
        if let Some(policy) = &source.redrive_policy
            && let Some(queue) = app.queue_by_arn(&policy.dead_letter_target_arn)
        {
            found.push(Destination {
                queue: queue.name.clone(),
                url: queue.url.clone(),
                role: Role::DeadLetter,
                of: source.name.clone(),
                source_url: Some(source.url.clone()),
            });
        }
    }
    found
}

/// One queue in `GET /_riffle/api/destinations`.
#[derive(Debug, Serialize)]
struct DestinationView<'a> {
    #[serde(flatten)]
    destination: &'a Destination,
    /// The messages could be read without receiving them (Riffle's emulator).
    peekable: bool,
    /// How many messages the queue holds.
    total: usize,
    /// The first [`SHOWN`].
    messages: Vec<MessageView>,
    /// Why the queue could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct MessageView {
    message_id: String,
    receive_count: u32,
    sent_timestamp: u64,
    /// `riffle dlq`'s one line about a Kinesis failure record.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    body: String,
}

pub(super) async fn list(State(control): State<Control>) -> Response {
    let Some((_, setup)) = ready(&control) else {
        return starting();
    };
    let mut views = Vec::new();
    for destination in &setup.destinations {
        let mut view = DestinationView {
            destination,
            peekable: false,
            total: 0,
            messages: Vec::new(),
            error: None,
        };
        match dlq::peek(&setup.endpoint, &destination.url, SHOWN).await {
            Ok(Some(peeked)) => {
                view.peekable = true;
                view.total = peeked.total;
                view.messages = peeked
                    .messages
                    .into_iter()
                    .map(|m| MessageView {
                        summary: dlq::describe(&m.body),
                        message_id: m.message_id,
                        receive_count: m.receive_count,
                        sent_timestamp: m.sent_timestamp,
                        body: m.body,
                    })
                    .collect();
            }
            Ok(None) => {
                view.error = Some(format!(
                    "{} is not Riffle's emulator: SQS cannot show a queue without receiving \
                     from it, so the dashboard does not (riffle dlq can)",
                    setup.endpoint
                ));
            }
            Err(e) => view.error = Some(e.to_string()),
        }
        views.push(view);
    }
    ok(&views)
}

/// `POST /_riffle/api/redrive`.
#[derive(Debug, Deserialize)]
struct RedriveRequest {
    /// The queue's name.
    queue: String,
}

/// What a redrive did.
#[derive(Debug, Default, Serialize)]
struct RedriveAnswer {
    /// Messages read.
    seen: usize,
    /// Redriven (or moved back) and deleted.
    redriven: usize,
    /// Kept in the queue.
    kept: usize,
    /// One line per message, as `riffle redrive` prints them.
    lines: Vec<String>,
}

pub(super) async fn redrive(State(control): State<Control>, body: axum::body::Bytes) -> Response {
    let Some((_, setup)) = ready(&control) else {
        return starting();
    };
    let request: RedriveRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return invalid(&format!("the request is not a redrive: {e}")),
    };
    let Some(destination) = setup.destinations.iter().find(|d| d.queue == request.queue) else {
        let known: Vec<String> = setup.destinations.iter().map(|d| d.queue.clone()).collect();
        return control_error(
            StatusCode::NOT_FOUND,
            "UnknownQueue",
            &format!(
                "{} is no on-failure or dead-letter queue of the template",
                request.queue
            ),
            Some(&known),
        );
    };
    let mut answer = RedriveAnswer::default();
    let outcome = match &destination.source_url {
        None => {
            let tools = redrive::Tools {
                kinesis: setup.kinesis.clone(),
                lambda: riffle_aws::lambda_client(&setup.lambda_endpoint, &setup.region),
                region: setup.region.clone(),
                function: None,
                dry_run: false,
                whole_range: false,
            };
            let lines = &mut answer.lines;
            redrive::pass(&tools, &setup.sqs, &destination.url, SHOWN, |line| {
                lines.push(line.to_owned());
                Ok(())
            })
            .await
            .map(|pass| (pass.seen, pass.deleted, pass.kept))
        }
        Some(source) => move_back(&setup.sqs, &destination.url, source, &mut answer.lines).await,
    };
    match outcome {
        Ok((seen, redriven, kept)) => {
            answer.seen = seen;
            answer.redriven = redriven;
            answer.kept = kept;
            ok(&answer)
        }
        Err(e) => control_error(
            StatusCode::BAD_GATEWAY,
            "RedriveFailed",
            &e.to_string(),
            None,
        ),
    }
}

/// Moves up to [`SHOWN`] messages of the dead-letter queue at `url` back to `source`, as SQS's
/// dead-letter queue redrive does: sent to the source first, deleted here only then.
async fn move_back(
    client: &riffle_aws::SqsClient,
    url: &str,
    source: &str,
    lines: &mut Vec<String>,
) -> anyhow::Result<(usize, usize, usize)> {
    use riffle_aws::tools::sqs;
    let (mut seen, mut moved) = (0, 0);
    while seen < SHOWN {
        let messages = sqs::receive(client, url, SHOWN - seen, MOVE_HOLD_SECONDS, 0)
            .await
            .map_err(|e| anyhow::anyhow!("ReceiveMessage on {url}: {e}"))?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            seen += 1;
            let id = message.message_id;
            let receipt = message.receipt_handle.unwrap_or_default();
            match sqs::send(client, source, &message.body, None).await {
                Ok(new_id) => match sqs::delete(client, url, &receipt).await {
                    Ok(()) => {
                        moved += 1;
                        lines.push(format!("{id}  moved back to {source} as {new_id}"));
                    }
                    Err(e) => lines.push(format!(
                        "{id}  sent back to {source} as {new_id}, but deleting it here failed \
                         ({e}): it is in both queues"
                    )),
                },
                Err(e) => {
                    let _ = sqs::hand_back(client, url, &receipt).await;
                    lines.push(format!("{id}  kept: SendMessage to {source} failed: {e}"));
                }
            }
        }
    }
    Ok((seen, moved, seen - moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_failure_and_dead_letter_queues_come_from_the_template() {
        let template = include_str!("testdata/failure-queues.yaml");
        let options = riffle_template::Options::new("template.yaml", 1_700_000_000_000);
        let app = riffle_template::read(template, &options)
            .unwrap()
            .application;
        let found = of(&app);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            (found[0].queue.as_str(), found[0].role, found[0].of.as_str()),
            ("orders-failures", Role::OnFailure, "FnOrders")
        );
        assert_eq!(found[0].source_url, None);
        assert_eq!(
            (found[1].queue.as_str(), found[1].role, found[1].of.as_str()),
            ("jobs-dlq", Role::DeadLetter, "jobs")
        );
        assert!(found[1].source_url.as_deref().unwrap().ends_with("/jobs"));
    }
}
