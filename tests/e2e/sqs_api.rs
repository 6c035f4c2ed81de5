//! Every SQS operation's happy path through aws-sdk-sqs.

use std::collections::HashMap;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use crate::support;
use crate::support::sqs;

#[tokio::test]
async fn queue_lifecycle_create_get_list_delete() {
    let (emulator, client) = support::start_sqs().await;
    let created = sqs::try_queue(&client, "orders", &[]).await.unwrap();
    let url = created.queue_url().unwrap().to_owned();
    let addr = emulator.local_addr();
    assert_eq!(url, format!("http://{addr}/000000000000/orders"));
    let again = sqs::try_queue(&client, "orders", &[]).await.unwrap();
    assert_eq!(
        again.queue_url(),
        Some(url.as_str()),
        "CreateQueue is idempotent"
    );
    let got = sqs::url_of(&client, "orders").await;
    assert_eq!(got.queue_url(), Some(url.as_str()));
    sqs::queue(&client, "other", &[]).await;
    let listed = client.list_queues().send().await.unwrap();
    assert_eq!(listed.queue_urls().len(), 2);
    let prefixed = client
        .list_queues()
        .queue_name_prefix("ord")
        .send()
        .await
        .unwrap();
    assert_eq!(prefixed.queue_urls(), std::slice::from_ref(&url));
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let gone = client.get_queue_url().queue_name("orders").send().await;
    assert!(crate::support::service_error!(gone).is_queue_does_not_exist());
}

#[tokio::test]
async fn list_queues_paginates_when_max_results_is_given() {
    let (_emulator, client) = support::start_sqs().await;
    for name in ["a", "b", "c"] {
        client.create_queue().queue_name(name).send().await.unwrap();
    }
    let first = client.list_queues().max_results(2).send().await.unwrap();
    assert_eq!(first.queue_urls().len(), 2);
    let request = client.list_queues().max_results(2);
    let rest = request
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.queue_urls().len(), 1);
    assert!(rest.queue_urls()[0].ends_with("/c"));
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn attributes_have_aws_defaults_and_can_be_set() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue_with(&client, "q", QueueAttributeName::VisibilityTimeout, "45").await;
    let attributes = sqs::attributes(&client, &url, QueueAttributeName::All).await;
    for (name, expected) in [
        (QueueAttributeName::VisibilityTimeout, "45"),
        (QueueAttributeName::DelaySeconds, "0"),
        (QueueAttributeName::MaximumMessageSize, "1048576"),
        (QueueAttributeName::MessageRetentionPeriod, "345600"),
        (QueueAttributeName::ReceiveMessageWaitTimeSeconds, "0"),
        (
            QueueAttributeName::QueueArn,
            "arn:aws:sqs:us-east-1:000000000000:q",
        ),
        (QueueAttributeName::ApproximateNumberOfMessages, "0"),
    ] {
        assert_eq!(attributes[&name], expected, "{name}");
    }
    let request = client.set_queue_attributes().queue_url(&url);
    request
        .attributes(QueueAttributeName::DelaySeconds, "5")
        .send()
        .await
        .unwrap();
    let one = sqs::attributes(&client, &url, QueueAttributeName::DelaySeconds).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[&QueueAttributeName::DelaySeconds], "5");
}

#[tokio::test]
async fn send_receive_delete_round_trips_body_and_attributes() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let sent = client
        .send_message()
        .queue_url(&url)
        .message_body("hello ✓")
        .message_attributes("kind", sqs::string_attribute("greeting"))
        .message_attributes("raw", sqs::binary_attribute(vec![0u8, 255]))
        .send()
        .await
        .unwrap();
    // MD5 of "hello ✓" (UTF-8).
    assert_eq!(
        sent.md5_of_message_body(),
        Some("3eab6315c76c9d32094bb53bac85a397")
    );
    assert!(sent.md5_of_message_attributes().is_some());
    let received = sqs::Receive::all_attributes().receive(&client, &url).await;
    let message = &received.messages()[0];
    assert_eq!(message.body(), Some("hello ✓"));
    assert_eq!(message.message_id(), sent.message_id());
    assert_eq!(message.md5_of_body(), sent.md5_of_message_body());
    assert_eq!(
        message.md5_of_message_attributes(),
        sent.md5_of_message_attributes()
    );
    let attributes = message.message_attributes().unwrap();
    assert_eq!(attributes["kind"].string_value(), Some("greeting"));
    assert_eq!(
        attributes["raw"].binary_value().unwrap().as_ref(),
        &[0u8, 255]
    );
    let system = message.attributes().unwrap();
    assert_eq!(
        system[&MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    assert_eq!(system[&MessageSystemAttributeName::SenderId], "AKIDTEST");
    assert!(system.contains_key(&MessageSystemAttributeName::SentTimestamp));
    assert!(system.contains_key(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp));
    sqs::delete(&client, &url, message.receipt_handle().unwrap()).await;
    let attrs = sqs::attributes(&client, &url, QueueAttributeName::All).await;
    assert_eq!(attrs[&QueueAttributeName::ApproximateNumberOfMessages], "0");
    assert_eq!(
        attrs[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "0"
    );
}

#[tokio::test]
async fn message_attribute_names_filter_by_name_and_prefix() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let text = |v: &str| sqs::string_attribute(v);
    client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("trace.id", text("1"))
        .message_attributes("trace.span", text("2"))
        .message_attributes("other", text("3"))
        .send()
        .await
        .unwrap();
    let received = sqs::Receive::default()
        .attributes("trace.*")
        .receive(&client, &url)
        .await;
    let names: Vec<&String> = received.messages()[0]
        .message_attributes()
        .unwrap()
        .keys()
        .collect();
    let mut names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["trace.id", "trace.span"]);
}

#[tokio::test]
async fn batches_send_delete_and_change_visibility_per_entry() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let entries: Vec<SendMessageBatchRequestEntry> = (0..10)
        .map(|i| sqs::batch_entry(format!("m{i}"), format!("body {i}")))
        .collect();
    let sent = sqs::send_batch(&client, &url, entries).await.unwrap();
    assert_eq!(sent.successful().len(), 10);
    assert!(sent.failed().is_empty());
    let received = sqs::receive_ten(&client, &url).await;
    assert_eq!(received.messages().len(), 10);
    let bodies: Vec<&str> = received
        .messages()
        .iter()
        .filter_map(|m| m.body())
        .collect();
    assert_eq!(bodies[0], "body 0");
    let handles: HashMap<usize, String> = received
        .messages()
        .iter()
        .enumerate()
        .map(|(i, m)| (i, m.receipt_handle().unwrap().to_owned()))
        .collect();
    let visibility = client
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("a")
                .receipt_handle(&handles[&0])
                .visibility_timeout(0)
                .build()
                .unwrap(),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("b")
                .receipt_handle("garbage")
                .visibility_timeout(0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(visibility.successful().len(), 1);
    assert_eq!(visibility.failed()[0].id(), "b");
    assert_eq!(visibility.failed()[0].code(), "ReceiptHandleIsInvalid");
    let deletes: Vec<DeleteMessageBatchRequestEntry> = (1..10)
        .map(|i| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(&handles[&i])
                .build()
                .unwrap()
        })
        .collect();
    let request = client.delete_message_batch().queue_url(&url);
    let deleted = request.set_entries(Some(deletes)).send().await.unwrap();
    assert_eq!(deleted.successful().len(), 9);
    let again = sqs::receive_ten(&client, &url).await;
    let bodies = sqs::bodies(again.messages());
    assert_eq!(
        bodies,
        ["body 0"],
        "only the message made visible again remains"
    );
}

#[tokio::test]
async fn tags_are_set_listed_and_removed() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue_tagged(&client, "q", "team", "a").await;
    let request = client.tag_queue().queue_url(&url);
    request.tags("env", "dev").send().await.unwrap();
    assert_eq!(tags_of(&client, &url).await.len(), 2);
    let request = client.untag_queue().queue_url(&url);
    request.tag_keys("team").send().await.unwrap();
    assert_eq!(
        tags_of(&client, &url).await.keys().collect::<Vec<_>>(),
        ["env"]
    );
}

/// The queue's tags, as ListQueueTags returns them.
async fn tags_of(client: &aws_sdk_sqs::Client, url: &str) -> HashMap<String, String> {
    let listed = client
        .list_queue_tags()
        .queue_url(url)
        .send()
        .await
        .unwrap();
    listed.tags().cloned().unwrap_or_default()
}

#[tokio::test]
async fn purge_removes_every_message_once_a_minute() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue(&client, "q", &[]).await;
    sqs::send(&client, &url, "x").await;
    client.purge_queue().queue_url(&url).send().await.unwrap();
    let received = sqs::Receive::default().receive(&client, &url).await;
    assert!(received.messages().is_empty());
    let again = client.purge_queue().queue_url(&url).send().await;
    assert!(crate::support::service_error!(again).is_purge_queue_in_progress());
    clock.advance(std::time::Duration::from_secs(60));
    client.purge_queue().queue_url(&url).send().await.unwrap();
}

#[tokio::test]
async fn dead_letter_source_queues_are_listed() {
    let (_emulator, client) = support::start_sqs().await;
    let dlq = sqs::queue(&client, "dlq", &[]).await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#;
    for name in ["a", "b"] {
        sqs::queue_with(&client, name, QueueAttributeName::RedrivePolicy, policy).await;
    }
    client.create_queue().queue_name("c").send().await.unwrap();
    let sources = client
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();
    let mut urls: Vec<&str> = sources.queue_urls().iter().map(String::as_str).collect();
    urls.sort();
    assert_eq!(urls.len(), 2);
    assert!(urls[0].ends_with("/a") && urls[1].ends_with("/b"));
}

#[tokio::test]
async fn queue_url_host_is_ignored_and_the_path_resolves_the_queue() {
    let (_emulator, client) = support::start_sqs().await;
    client.create_queue().queue_name("q").send().await.unwrap();
    sqs::send(
        &client,
        "https://sqs.us-east-1.amazonaws.com/000000000000/q",
        "x",
    )
    .await;
    let wrong_account = sqs::try_send(&client, "http://localhost/111111111111/q", "x").await;
    assert!(crate::support::service_error!(wrong_account).is_queue_does_not_exist());
}
