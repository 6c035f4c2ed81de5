//! SQS semantics on the injected clock: visibility, delays, long polling, redrive, FIFO,
//! retention, stale receipt handles.

use std::time::Duration;

use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use crate::support;
use crate::support::sqs;

/// A queue `q` with VisibilityTimeout `visibility`, holding message `x`, received once: the
/// queue's URL and what that receive returned.
async fn received_once(
    client: &aws_sdk_sqs::Client,
    visibility: &str,
) -> (String, Vec<aws_sdk_sqs::types::Message>) {
    let url = sqs::queue_with(
        client,
        "q",
        QueueAttributeName::VisibilityTimeout,
        visibility,
    )
    .await;
    sqs::send(client, &url, "x").await;
    let first = sqs::receive(client, &url, 1).await;
    (url, first)
}

#[tokio::test]
async fn a_received_message_is_invisible_until_its_timeout_passes() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let (url, first) = received_once(&client, "30").await;
    assert_eq!(first.len(), 1);
    assert_eq!(sqs::in_flight(&client, &url).await, "1");
    clock.advance(Duration::from_secs(29));
    assert!(sqs::receive(&client, &url, 1).await.is_empty());
    clock.advance(Duration::from_secs(1));
    let second = sqs::receive(&client, &url, 1).await;
    assert_eq!(second[0].message_id(), first[0].message_id());
    let attributes = second[0].attributes().unwrap();
    assert_eq!(
        attributes[&MessageSystemAttributeName::ApproximateReceiveCount],
        "2"
    );
    assert_eq!(
        attributes[&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp],
        (support::T0).to_string()
    );
    assert_ne!(
        second[0].receipt_handle(),
        first[0].receipt_handle(),
        "a new handle per receive"
    );
}

#[tokio::test]
async fn a_stale_receipt_handle_deletes_nothing() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let (url, first) = received_once(&client, "10").await;
    clock.advance(Duration::from_secs(10));
    let second = sqs::receive(&client, &url, 1).await;
    sqs::delete(&client, &url, first[0].receipt_handle().unwrap()).await;
    assert_eq!(sqs::in_flight(&client, &url).await, "1");
    sqs::delete(&client, &url, second[0].receipt_handle().unwrap()).await;
    assert_eq!(sqs::in_flight(&client, &url).await, "0");
}

#[tokio::test]
async fn delays_hold_messages_per_queue_and_per_message() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue_with(&client, "q", QueueAttributeName::DelaySeconds, "5").await;
    sqs::send(&client, &url, "queue delay").await;
    client
        .send_message()
        .queue_url(&url)
        .message_body("own delay")
        .delay_seconds(20)
        .send()
        .await
        .unwrap();
    assert_eq!(sqs::delayed(&client, &url).await, "2");
    assert!(sqs::receive(&client, &url, 10).await.is_empty());
    clock.advance(Duration::from_secs(5));
    let ready = sqs::receive(&client, &url, 10).await;
    assert_eq!(sqs::bodies(&ready), ["queue delay"]);
    clock.advance(Duration::from_secs(15));
    let later = sqs::receive(&client, &url, 10).await;
    assert_eq!(sqs::bodies(&later), ["own delay"]);
}

#[tokio::test]
async fn long_polling_returns_as_soon_as_a_message_arrives() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let poller = sqs::long_poll(&client, &url, Some(20), &clock).await;
    // The manual clock never moves: only the arrival can end this poll.
    sqs::send(&client, &url, "arrived").await;
    let out = tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .expect("woke on arrival")
        .unwrap();
    assert_eq!(out.messages()[0].body(), Some("arrived"));
}

#[tokio::test]
async fn long_polling_ends_empty_when_the_wait_time_passes() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let attribute = QueueAttributeName::ReceiveMessageWaitTimeSeconds;
    let url = sqs::queue_with(&client, "q", attribute, "20").await;
    let poller = sqs::long_poll(&client, &url, None, &clock).await;
    assert!(
        !poller.is_finished(),
        "the queue's ReceiveMessageWaitTimeSeconds applies"
    );
    clock.advance(Duration::from_secs(20));
    let out = tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .expect("woke at the deadline")
        .unwrap();
    assert!(out.messages().is_empty());
}

#[tokio::test]
async fn long_polling_wakes_when_an_in_flight_message_becomes_visible() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue_with(&client, "q", QueueAttributeName::VisibilityTimeout, "5").await;
    sqs::send(&client, &url, "x").await;
    sqs::receive(&client, &url, 1).await;
    let poller = sqs::long_poll(&client, &url, Some(20), &clock).await;
    clock.advance(Duration::from_secs(5));
    let out = tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .expect("woke at visibility")
        .unwrap();
    assert_eq!(out.messages().len(), 1);
}

#[tokio::test]
async fn redrive_moves_a_message_to_the_dead_letter_queue_after_max_receives() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let dlq = sqs::queue(&client, "dlq", &[]).await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2}"#;
    let url = sqs::queue(
        &client,
        "q",
        &[
            (QueueAttributeName::RedrivePolicy, policy),
            (QueueAttributeName::VisibilityTimeout, "1"),
        ],
    )
    .await;
    let attribute = sqs::string_attribute("v");
    client
        .send_message()
        .queue_url(&url)
        .message_body("poison")
        .message_attributes("k", attribute)
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(sqs::receive(&client, &url, 1).await.len(), 1);
        clock.advance(Duration::from_secs(1));
    }
    assert!(
        sqs::receive(&client, &url, 1).await.is_empty(),
        "the third receive moves it instead"
    );
    let moved = sqs::Receive::all_attributes().receive(&client, &dlq).await;
    let message = &moved.messages()[0];
    assert_eq!(message.body(), Some("poison"));
    assert_eq!(
        message.message_attributes().unwrap()["k"].string_value(),
        Some("v")
    );
    assert_eq!(
        message.attributes().unwrap()[&MessageSystemAttributeName::DeadLetterQueueSourceArn],
        "arn:aws:sqs:us-east-1:000000000000:q"
    );
}

#[tokio::test]
async fn redrive_allow_policy_can_refuse_a_source() {
    let (_emulator, client) = support::start_sqs().await;
    sqs::queue(
        &client,
        "dlq",
        &[(
            QueueAttributeName::RedriveAllowPolicy,
            r#"{"redrivePermission":"denyAll"}"#,
        )],
    )
    .await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2}"#;
    let out = sqs::try_queue(&client, "q", &[(QueueAttributeName::RedrivePolicy, policy)]).await;
    assert_eq!(support::code(&out), "InvalidParameterValue");
}

#[tokio::test]
async fn retention_trims_old_messages() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let attribute = QueueAttributeName::MessageRetentionPeriod;
    let url = sqs::queue_with(&client, "q", attribute, "60").await;
    sqs::send(&client, &url, "old").await;
    clock.advance(Duration::from_secs(30));
    sqs::send(&client, &url, "new").await;
    clock.advance(Duration::from_secs(30));
    let left = sqs::receive(&client, &url, 10).await;
    assert_eq!(sqs::bodies(&left), ["new"]);
}

#[tokio::test]
async fn fifo_groups_deliver_in_order_one_batch_in_flight_at_a_time() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue_with(&client, "q.fifo", QueueAttributeName::FifoQueue, "true").await;
    let entries: Vec<SendMessageBatchRequestEntry> =
        [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")]
            .iter()
            .enumerate()
            .map(|(i, (group, body))| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("e{i}"))
                    .message_body(*body)
                    .message_group_id(*group)
                    .message_deduplication_id(format!("d{i}"))
                    .build()
                    .unwrap()
            })
            .collect();
    let sent = sqs::send_batch(&client, &url, entries).await.unwrap();
    let sequence_numbers: Vec<&str> = sent
        .successful()
        .iter()
        .filter_map(|s| s.sequence_number())
        .collect();
    assert!(sequence_numbers.windows(2).all(|w| w[0] < w[1]));
    let first = sqs::receive(&client, &url, 1).await;
    assert_eq!(first[0].body(), Some("a1"));
    // Group a is in flight, so its later message waits; group b is free.
    let second = sqs::receive(&client, &url, 10).await;
    let bodies = sqs::bodies(&second);
    assert_eq!(bodies, ["b1", "b2"]);
    assert!(sqs::receive(&client, &url, 10).await.is_empty());
    sqs::delete(&client, &url, first[0].receipt_handle().unwrap()).await;
    let third = sqs::receive(&client, &url, 10).await;
    assert_eq!(sqs::bodies(&third), ["a2"]);
}

#[tokio::test]
async fn fifo_deduplicates_within_five_minutes() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue(
        &client,
        "q.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
        ],
    )
    .await;
    let send = || {
        client
            .send_message()
            .queue_url(&url)
            .message_body("same")
            .message_group_id("g")
            .send()
    };
    let first = send().await.unwrap();
    let duplicate = send().await.unwrap();
    assert_eq!(first.message_id(), duplicate.message_id());
    assert_eq!(first.sequence_number(), duplicate.sequence_number());
    let got = sqs::receive(&client, &url, 10).await;
    assert_eq!(got.len(), 1);
    let dedup_id =
        &got[0].attributes().unwrap()[&MessageSystemAttributeName::MessageDeduplicationId];
    // Content-based deduplication uses the SHA-256 of the body.
    assert_eq!(
        dedup_id,
        "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"
    );
    clock.advance(Duration::from_secs(300));
    let later = send().await.unwrap();
    assert_ne!(
        later.message_id(),
        first.message_id(),
        "the window has passed"
    );
}

#[tokio::test]
async fn fifo_requires_a_group_and_a_deduplication_id() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue_with(&client, "q.fifo", QueueAttributeName::FifoQueue, "true").await;
    let no = sqs::SendCase::default;
    let cases = [
        (
            "a message group id is required",
            sqs::SendCase {
                deduplication_id: Some("d"),
                ..no()
            },
            "MissingParameter",
        ),
        (
            "a deduplication id is required without content-based deduplication",
            sqs::SendCase {
                group_id: Some("g"),
                ..no()
            },
            "InvalidParameterValue",
        ),
        (
            "per-message delay is not for FIFO",
            sqs::SendCase {
                group_id: Some("g"),
                deduplication_id: Some("d"),
                delay: Some(1),
                ..no()
            },
            "InvalidParameterValue",
        ),
    ];
    for (case, send, expected) in cases {
        let out = send.send(&client, &url).await;
        assert_eq!(support::code(&out), expected, "{case}");
    }
}
