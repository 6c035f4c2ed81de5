//! Bad SQS requests get SQS's error codes (as the SDK matches them) and change nothing.

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};

use crate::support::sqs;
use crate::support::{self, code, message};

#[tokio::test]
async fn missing_queues_are_queue_does_not_exist_as_the_sdk_matches_it() {
    let (_emulator, client) = support::start_sqs().await;
    let out = client.get_queue_url().queue_name("nope").send().await;
    assert_eq!(code(&out), "AWS.SimpleQueueService.NonExistentQueue");
    assert!(crate::support::service_error!(out).is_queue_does_not_exist());
    let url = "http://127.0.0.1/000000000000/nope";
    let out = sqs::try_send(&client, url, "x").await;
    assert!(crate::support::service_error!(out).is_queue_does_not_exist());
}

#[tokio::test]
async fn create_queue_with_different_attributes_is_queue_name_exists() {
    let (_emulator, client) = support::start_sqs().await;
    sqs::queue_with(&client, "q", QueueAttributeName::VisibilityTimeout, "10").await;
    let out = sqs::try_queue(
        &client,
        "q",
        &[(QueueAttributeName::VisibilityTimeout, "20")],
    )
    .await;
    assert_eq!(code(&out), "QueueAlreadyExists");
    assert!(out.unwrap_err().into_service_error().is_queue_name_exists());
}

#[tokio::test]
async fn a_deleted_queue_name_is_unavailable_for_sixty_seconds() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = sqs::queue(&client, "q", &[]).await;
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let out = client.create_queue().queue_name("q").send().await;
    assert!(crate::support::service_error!(out).is_queue_deleted_recently());
    clock.advance(std::time::Duration::from_secs(60));
    client.create_queue().queue_name("q").send().await.unwrap();
}

#[tokio::test]
async fn invalid_names_and_attributes_are_refused() {
    let (_emulator, client) = support::start_sqs().await;
    let missing_target = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":3}"#;
    let cases = [
        (
            "a space in the name",
            "bad name".to_owned(),
            vec![],
            "InvalidParameterValue",
        ),
        (
            "an 81-character name",
            "x".repeat(81),
            vec![],
            "InvalidParameterValue",
        ),
        (
            "a .fifo name needs FifoQueue=true",
            "q.fifo".to_owned(),
            vec![],
            "InvalidParameterValue",
        ),
        (
            "visibility timeout over 12 hours",
            "q".to_owned(),
            vec![(QueueAttributeName::VisibilityTimeout, "43201")],
            "InvalidAttributeValue",
        ),
        (
            "a read-only attribute",
            "q".to_owned(),
            vec![(QueueAttributeName::QueueArn, "x")],
            "InvalidAttributeName",
        ),
        (
            "FIFO-only attribute on a standard queue",
            "q".to_owned(),
            vec![(QueueAttributeName::ContentBasedDeduplication, "true")],
            "InvalidAttributeName",
        ),
        (
            "a missing dead-letter target",
            "q".to_owned(),
            vec![(QueueAttributeName::RedrivePolicy, missing_target)],
            "InvalidParameterValue",
        ),
    ];
    for (case, name, attributes, expected) in cases {
        let out = sqs::try_queue(&client, &name, &attributes).await;
        assert_eq!(code(&out), expected, "{case}");
        if attributes
            .first()
            .is_some_and(|(key, _)| *key == QueueAttributeName::RedrivePolicy)
        {
            assert!(
                message(&out).contains("Dead-letter target does not exist"),
                "{case}"
            );
        }
    }
    assert!(
        client
            .list_queues()
            .send()
            .await
            .unwrap()
            .queue_urls()
            .is_empty()
    );
}

#[tokio::test]
async fn messages_are_validated_like_sqs() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue_with(&client, "q", QueueAttributeName::MaximumMessageSize, "1024").await;
    let number = MessageAttributeValue::builder()
        .data_type("Number")
        .string_value("abc")
        .build()
        .unwrap();
    let no = sqs::SendCase::default;
    let cases = [
        (
            "an empty body",
            sqs::SendCase {
                body: String::new(),
                ..no()
            },
            "MissingParameter",
        ),
        (
            "a body over the maximum",
            sqs::SendCase {
                body: "x".repeat(1025),
                ..no()
            },
            "InvalidParameterValue",
        ),
        (
            "a control character",
            sqs::SendCase {
                body: "bad \u{1} char".into(),
                ..no()
            },
            "InvalidMessageContents",
        ),
        (
            "a delay over 15 minutes",
            sqs::SendCase {
                delay: Some(901),
                ..no()
            },
            "InvalidParameterValue",
        ),
        (
            "deduplication ids are for FIFO queues",
            sqs::SendCase {
                deduplication_id: Some("d"),
                ..no()
            },
            "InvalidParameterValue",
        ),
        (
            "a reserved attribute name",
            sqs::SendCase {
                attribute: Some(("AWS.reserved", sqs::string_attribute("v"))),
                ..no()
            },
            "InvalidParameterValue",
        ),
        (
            "a Number that is not a number",
            sqs::SendCase {
                attribute: Some(("n", number)),
                ..no()
            },
            "InvalidParameterValue",
        ),
    ];
    for (case, send, expected) in cases {
        let out = send.send(&client, &url).await;
        assert_eq!(code(&out), expected, "{case}");
    }
}

#[tokio::test]
async fn batch_requests_check_count_ids_and_size() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let entry = |id: &str, body: String| sqs::batch_entry(id, body);
    let out = sqs::send_batch(&client, &url, vec![]).await;
    assert!(crate::support::service_error!(out).is_empty_batch_request());
    let eleven: Vec<_> = (0..11)
        .map(|i| entry(&format!("e{i}"), "x".into()))
        .collect();
    let out = sqs::send_batch(&client, &url, eleven).await;
    assert!(crate::support::service_error!(out).is_too_many_entries_in_batch_request());
    let request = client.send_message_batch().queue_url(&url);
    let request = request.entries(entry("a", "x".into()));
    let out = request.entries(entry("a", "y".into())).send().await;
    assert!(crate::support::service_error!(out).is_batch_entry_ids_not_distinct());
    let request = client.send_message_batch().queue_url(&url);
    let out = request.entries(entry("bad id!", "x".into())).send().await;
    assert!(crate::support::service_error!(out).is_invalid_batch_entry_id());
    let big: Vec<_> = (0..2)
        .map(|i| entry(&format!("b{i}"), "x".repeat(600_000)))
        .collect();
    let out = sqs::send_batch(&client, &url, big).await;
    assert!(crate::support::service_error!(out).is_batch_request_too_long());
    // One bad entry fails alone; the rest are sent.
    let request = client.send_message_batch().queue_url(&url);
    let request = request.entries(entry("ok", "fine".into()));
    let mixed = request
        .entries(entry("bad", String::new()))
        .send()
        .await
        .unwrap();
    assert_eq!(mixed.successful().len(), 1);
    assert_eq!(mixed.failed()[0].id(), "bad");
    assert!(mixed.failed()[0].sender_fault());
}

#[tokio::test]
async fn receive_parameters_are_range_checked() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let receive = sqs::Receive::default;
    for (case, request) in [
        ("more than ten messages", receive().max(11)),
        ("a wait over twenty seconds", receive().wait(21)),
        (
            "a visibility timeout over twelve hours",
            receive().visibility(43_201),
        ),
    ] {
        let out = request.try_receive(&client, &url).await;
        assert_eq!(code(&out), "InvalidParameterValue", "{case}");
    }
}

#[tokio::test]
async fn receipt_handles_are_checked() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "q", &[]).await;
    let other = sqs::queue(&client, "other", &[]).await;
    let request = client.delete_message().queue_url(&url);
    let out = request.receipt_handle("garbage").send().await;
    assert!(crate::support::service_error!(out).is_receipt_handle_is_invalid());
    sqs::send(&client, &url, "x").await;
    let received = sqs::Receive::default().receive(&client, &url).await;
    let handle = received.messages()[0].receipt_handle().unwrap();
    let request = client.delete_message().queue_url(&other);
    let out = request.receipt_handle(handle).send().await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_receipt_handle_is_invalid(),
        "a handle of another queue"
    );
    client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let request = client.change_message_visibility().queue_url(&url);
    let request = request.receipt_handle(handle);
    let out = request.visibility_timeout(10).send().await;
    assert!(crate::support::service_error!(out).is_message_not_inflight());
}

#[tokio::test]
async fn unknown_sqs_operations_are_reported() {
    let (emulator, _) = support::start_sqs().await;
    let addr = emulator.local_addr();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AmazonSQS.Teleport\r\nContent-Type: \
         application/x-amz-json-1.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("x-amzn-query-error: invalidaction;sender"),
        "{raw}"
    );
    assert!(
        raw.contains("com.amazonaws.sqs#UnknownOperationException"),
        "{raw}"
    );
}
