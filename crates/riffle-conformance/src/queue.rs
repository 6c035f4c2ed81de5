//! The queue source suite: what the pollers of an SQS mapping rely on from a `QueueSource`.
//!
//! A fixture has two empty queues created at [`T0`](crate::T0) on a manual clock, a standard
//! one and a FIFO one, each with a 30 s visibility timeout and a redrive policy that moves a
//! message to its dead-letter queue once it has been received [`MAX_RECEIVES`] times.

use std::collections::BTreeSet;
use std::time::Duration;

use riffle_clock::ManualClock;
use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::{EntryFailure, ReceiptEntry, ReceiveRequest};
use riffle_runtime::QueueSource;

/// maxReceiveCount of both queues' redrive policies.
pub const MAX_RECEIVES: u32 = 3;

/// The queues' visibility timeout.
pub const VISIBILITY_MS: u64 = 30_000;

/// Which of the fixture's queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The standard queue.
    Standard,
    /// The FIFO queue (content-based deduplication, so bodies must differ).
    Fifo,
}

/// One value for each kind of queue: what a fixture keeps for its standard and its FIFO queue.
#[derive(Debug, Clone)]
pub struct PerKind<T> {
    /// The standard queue's.
    pub standard: T,
    /// The FIFO queue's.
    pub fifo: T,
}

impl<T> PerKind<T> {
    /// The value for the queue of `kind`.
    pub fn of(&self, kind: Kind) -> &T {
        match kind {
            Kind::Standard => &self.standard,
            Kind::Fifo => &self.fifo,
        }
    }
}

/// Two queues under test and the means to change them.
pub trait QueueFixture {
    /// The implementation under test.
    type Source: QueueSource;

    /// The queue of `kind`, as a mapping polls it.
    fn source(&self, kind: Kind) -> &Self::Source;

    /// The clock the queues read time from.
    fn clock(&self) -> &ManualClock;

    /// Sends `body` (to message group `group` on the FIFO queue); returns the message id.
    async fn send(&self, kind: Kind, body: &str, group: Option<&str>) -> String;

    /// Bodies in the dead-letter queue of `kind`'s queue.
    async fn dead_letters(&self, kind: Kind) -> Vec<String>;
}

/// Runs the suite's checks as tests, each on a fresh fixture from `$make()` (an async fn).
#[macro_export]
macro_rules! queue_source_suite {
    ($make:expr) => {
        $crate::__checks!($make; queue:
            a_received_message_carries_its_id_body_digest_and_attributes,
            a_fifo_message_carries_its_group_and_sequence_number,
            a_received_message_stays_hidden_for_the_visibility_timeout,
            the_receive_s_visibility_timeout_wins_over_the_queue_s,
            a_deleted_message_is_not_received_again,
            a_delete_with_a_stale_receipt_handle_succeeds_and_deletes_nothing,
            a_released_message_is_visible_at_once,
            a_release_with_a_stale_receipt_handle_fails_for_that_entry,
            a_receive_returns_at_most_its_maximum,
            a_long_poll_returns_a_message_sent_while_it_waits,
            a_long_poll_on_an_empty_queue_ends_at_its_wait_time,
            a_fifo_group_is_handed_out_in_order_and_held_while_in_flight,
            a_message_out_of_receives_moves_to_the_dead_letter_queue,
        );
    };
}

fn request(max_messages: usize) -> ReceiveRequest {
    ReceiveRequest {
        max_messages,
        wait_seconds: 0,
        visibility_timeout_seconds: None,
    }
}

async fn receive<F: QueueFixture>(fixture: &F, kind: Kind, max: usize) -> Vec<QueueMessage> {
    fixture
        .source(kind)
        .receive(request(max))
        .await
        .expect("receive")
}

fn attribute<'a>(message: &'a QueueMessage, name: &str) -> Option<&'a str> {
    message
        .attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn receive_count(message: &QueueMessage) -> &str {
    attribute(message, "ApproximateReceiveCount").expect("ApproximateReceiveCount")
}

fn advance(fixture: &impl QueueFixture, ms: u64) {
    fixture.clock().advance(Duration::from_millis(ms));
}

async fn delete<F: QueueFixture>(
    fixture: &F,
    kind: Kind,
    entries: Vec<ReceiptEntry>,
) -> Vec<EntryFailure> {
    fixture.source(kind).delete(entries).await.expect("delete")
}

async fn release<F: QueueFixture>(
    fixture: &F,
    kind: Kind,
    entries: Vec<ReceiptEntry>,
) -> Vec<EntryFailure> {
    fixture
        .source(kind)
        .release(entries)
        .await
        .expect("release")
}

/// Sends `body` to the standard queue and receives it twice (the second time after its
/// visibility timeout); returns its id and the now stale entry of the first receive.
async fn received_twice<F: QueueFixture>(fixture: &F, body: &str) -> (String, Vec<ReceiptEntry>) {
    let id = fixture.send(Kind::Standard, body, None).await;
    let first = receive(fixture, Kind::Standard, 10).await;
    advance(fixture, VISIBILITY_MS);
    assert_eq!(receive(fixture, Kind::Standard, 10).await.len(), 1);
    (id, first.iter().map(ReceiptEntry::from).collect())
}

/// A message comes back with the id its send returned, its body and MD5, and Lambda's system
/// attributes in Lambda's order.
pub async fn a_received_message_carries_its_id_body_digest_and_attributes<F: QueueFixture>(
    fixture: &F,
) {
    let id = fixture.send(Kind::Standard, "hello", None).await;
    let messages = receive(fixture, Kind::Standard, 10).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.message_id, id);
    assert_eq!(message.body, "hello");
    assert_eq!(message.md5_of_body, riffle_core::digest::md5_hex(b"hello"));
    let names: Vec<&str> = message.attributes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp"
        ]
    );
    assert_eq!(receive_count(message), "1");
    let t0 = crate::T0.to_string();
    assert_eq!(attribute(message, "SentTimestamp"), Some(t0.as_str()));
    assert_eq!(
        attribute(message, "ApproximateFirstReceiveTimestamp"),
        Some(t0.as_str())
    );
    assert!(message.message_attributes.is_empty());
    assert_eq!(message.md5_of_message_attributes, None);
}

/// A FIFO message also carries its sequence number, group and deduplication id, where Lambda
/// writes them; sequence numbers grow in send order.
pub async fn a_fifo_message_carries_its_group_and_sequence_number<F: QueueFixture>(fixture: &F) {
    fixture.send(Kind::Fifo, "first", Some("g")).await;
    fixture.send(Kind::Fifo, "second", Some("g")).await;
    let messages = receive(fixture, Kind::Fifo, 10).await;
    assert_eq!(messages.len(), 2);
    let names: Vec<&str> = messages[0]
        .attributes
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SequenceNumber",
            "MessageGroupId",
            "SenderId",
            "MessageDeduplicationId",
            "ApproximateFirstReceiveTimestamp"
        ]
    );
    assert_eq!(attribute(&messages[0], "MessageGroupId"), Some("g"));
    let sequence = |m: &QueueMessage| -> u128 {
        attribute(m, "SequenceNumber")
            .expect("SequenceNumber")
            .parse()
            .expect("a number")
    };
    assert!(sequence(&messages[0]) < sequence(&messages[1]));
}

/// A received message is hidden until the visibility timeout passes, then comes back with its
/// receive count raised and its first receive time kept.
pub async fn a_received_message_stays_hidden_for_the_visibility_timeout<F: QueueFixture>(
    fixture: &F,
) {
    fixture.send(Kind::Standard, "hidden", None).await;
    assert_eq!(receive(fixture, Kind::Standard, 10).await.len(), 1);
    assert!(receive(fixture, Kind::Standard, 10).await.is_empty());
    advance(fixture, VISIBILITY_MS - 1);
    assert!(receive(fixture, Kind::Standard, 10).await.is_empty());
    advance(fixture, 1);
    let again = receive(fixture, Kind::Standard, 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(receive_count(&again[0]), "2");
    let t0 = crate::T0.to_string();
    assert_eq!(
        attribute(&again[0], "ApproximateFirstReceiveTimestamp"),
        Some(t0.as_str())
    );
}

/// A receive's own VisibilityTimeout replaces the queue's for the messages it returns.
pub async fn the_receive_s_visibility_timeout_wins_over_the_queue_s<F: QueueFixture>(fixture: &F) {
    fixture.send(Kind::Standard, "short", None).await;
    let short = ReceiveRequest {
        visibility_timeout_seconds: Some(5),
        ..request(10)
    };
    let source = fixture.source(Kind::Standard);
    assert_eq!(source.receive(short).await.expect("receive").len(), 1);
    advance(fixture, 4_999);
    assert!(receive(fixture, Kind::Standard, 10).await.is_empty());
    advance(fixture, 1);
    assert_eq!(receive(fixture, Kind::Standard, 10).await.len(), 1);
}

/// A delete with the current receipt handle succeeds and the message is gone for good.
pub async fn a_deleted_message_is_not_received_again<F: QueueFixture>(fixture: &F) {
    fixture.send(Kind::Standard, "done", None).await;
    let messages = receive(fixture, Kind::Standard, 10).await;
    let entries: Vec<ReceiptEntry> = messages.iter().map(ReceiptEntry::from).collect();
    let failed = delete(fixture, Kind::Standard, entries).await;
    assert!(failed.is_empty(), "{failed:?}");
    advance(fixture, 2 * VISIBILITY_MS);
    assert!(receive(fixture, Kind::Standard, 10).await.is_empty());
}

/// A delete with the handle of an earlier receive succeeds without deleting, as SQS documents
/// ("the request succeeds, but the message might not be deleted").
pub async fn a_delete_with_a_stale_receipt_handle_succeeds_and_deletes_nothing<F: QueueFixture>(
    fixture: &F,
) {
    let (_, stale) = received_twice(fixture, "twice").await;
    let failed = delete(fixture, Kind::Standard, stale).await;
    assert!(failed.is_empty(), "{failed:?}");
    advance(fixture, VISIBILITY_MS);
    let third = receive(fixture, Kind::Standard, 10).await;
    assert_eq!(third.len(), 1, "the message is still there");
    assert_eq!(receive_count(&third[0]), "3");
}

/// Releasing (visibility 0) makes a message receivable at once.
pub async fn a_released_message_is_visible_at_once<F: QueueFixture>(fixture: &F) {
    let id = fixture.send(Kind::Standard, "again", None).await;
    let messages = receive(fixture, Kind::Standard, 10).await;
    let entries: Vec<ReceiptEntry> = messages.iter().map(ReceiptEntry::from).collect();
    let failed = release(fixture, Kind::Standard, entries).await;
    assert!(failed.is_empty(), "{failed:?}");
    let again = receive(fixture, Kind::Standard, 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, id);
    assert_eq!(receive_count(&again[0]), "2");
}

/// Releasing with the handle of an earlier receive fails for that entry (SQS: "The receipt
/// handle has expired") and leaves the message hidden.
pub async fn a_release_with_a_stale_receipt_handle_fails_for_that_entry<F: QueueFixture>(
    fixture: &F,
) {
    let (id, stale) = received_twice(fixture, "stale").await;
    let failed = release(fixture, Kind::Standard, stale).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].message_id, id);
    assert!(failed[0].sender_fault);
    assert!(
        receive(fixture, Kind::Standard, 10).await.is_empty(),
        "still hidden"
    );
}

/// A receive returns at most MaxNumberOfMessages, and receives together return each message
/// once.
pub async fn a_receive_returns_at_most_its_maximum<F: QueueFixture>(fixture: &F) {
    for i in 0..15 {
        fixture
            .send(Kind::Standard, &format!("message {i}"), None)
            .await;
    }
    let mut seen = BTreeSet::new();
    for _ in 0..10 {
        let messages = receive(fixture, Kind::Standard, 10).await;
        assert!(messages.len() <= 10);
        for message in messages {
            assert!(seen.insert(message.body), "received twice while hidden");
        }
        if seen.len() == 15 {
            break;
        }
    }
    assert_eq!(seen.len(), 15);
}

/// A long poll returns a message sent while it waits, without time passing.
pub async fn a_long_poll_returns_a_message_sent_while_it_waits<F: QueueFixture>(fixture: &F) {
    let long_poll = ReceiveRequest {
        wait_seconds: 20,
        ..request(10)
    };
    let source = fixture.source(Kind::Standard);
    let waiting = async {
        crate::sleeper_at(fixture.clock(), crate::T0 + 20_000).await;
        fixture.send(Kind::Standard, "awaited", None).await
    };
    let (received, _) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(source.receive(long_poll), waiting)
    })
    .await
    .expect("the long poll woke on the arrival");
    let received = received.expect("receive");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, "awaited");
}

/// A long poll on an empty queue returns nothing once its wait time has passed on the clock.
pub async fn a_long_poll_on_an_empty_queue_ends_at_its_wait_time<F: QueueFixture>(fixture: &F) {
    let long_poll = ReceiveRequest {
        wait_seconds: 2,
        ..request(10)
    };
    let source = fixture.source(Kind::Standard);
    let time_passes = async {
        crate::sleeper_at(fixture.clock(), crate::T0 + 2_000).await;
        advance(fixture, 2_000);
    };
    let (received, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(source.receive(long_poll), time_passes)
    })
    .await
    .expect("the long poll ended when its wait time passed");
    assert!(received.expect("receive").is_empty());
}

/// A FIFO queue hands out a group's messages in send order, and nothing more of a group while
/// one of its messages is in flight; other groups go on.
pub async fn a_fifo_group_is_handed_out_in_order_and_held_while_in_flight<F: QueueFixture>(
    fixture: &F,
) {
    fixture.send(Kind::Fifo, "a1", Some("a")).await;
    fixture.send(Kind::Fifo, "a2", Some("a")).await;
    fixture.send(Kind::Fifo, "b1", Some("b")).await;
    let first = receive(fixture, Kind::Fifo, 1).await;
    assert_eq!(bodies(&first), ["a1"]);
    let second = receive(fixture, Kind::Fifo, 10).await;
    assert_eq!(
        bodies(&second),
        ["b1"],
        "group a is held while a1 is in flight"
    );
    assert!(receive(fixture, Kind::Fifo, 10).await.is_empty());
    let source = fixture.source(Kind::Fifo);
    let entries: Vec<ReceiptEntry> = first.iter().map(ReceiptEntry::from).collect();
    assert!(source.delete(entries).await.expect("delete").is_empty());
    assert_eq!(bodies(&receive(fixture, Kind::Fifo, 10).await), ["a2"]);
}

fn bodies(messages: &[QueueMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}

/// A message received maxReceiveCount times moves to the dead-letter queue when it would be
/// received once more, on both kinds of queue.
pub async fn a_message_out_of_receives_moves_to_the_dead_letter_queue<F: QueueFixture>(
    fixture: &F,
) {
    for kind in [Kind::Standard, Kind::Fifo] {
        let group = (kind == Kind::Fifo).then_some("g");
        fixture.send(kind, "poison", group).await;
        for count in 1..=MAX_RECEIVES {
            let messages = receive(fixture, kind, 10).await;
            assert_eq!(messages.len(), 1, "{kind:?}: receive {count}");
            assert_eq!(receive_count(&messages[0]), count.to_string());
            let entries: Vec<ReceiptEntry> = messages.iter().map(ReceiptEntry::from).collect();
            release(fixture, kind, entries).await;
        }
        assert!(receive(fixture, kind, 10).await.is_empty(), "{kind:?}");
        assert_eq!(fixture.dead_letters(kind).await, ["poison"], "{kind:?}");
    }
}
