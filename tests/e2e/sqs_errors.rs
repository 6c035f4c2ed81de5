//! Bad SQS requests get SQS's error codes (as the SDK matches them) and change nothing.

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

use crate::support::{self, code, message};

#[tokio::test]
async fn missing_queues_are_queue_does_not_exist_as_the_sdk_matches_it() {
    let (_emulator, client) = support::start_sqs().await;
    let out = client.get_queue_url().queue_name("nope").send().await;
    assert_eq!(code(&out), "AWS.SimpleQueueService.NonExistentQueue");
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_queue_does_not_exist()
    );
    let url = "http://127.0.0.1/000000000000/nope";
    let out = client
        .send_message()
        .queue_url(url)
        .message_body("x")
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_queue_does_not_exist()
    );
}

#[tokio::test]
async fn create_queue_with_different_attributes_is_queue_name_exists() {
    let (_emulator, client) = support::start_sqs().await;
    client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::VisibilityTimeout, "10")
        .send()
        .await
        .unwrap();
    let out = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::VisibilityTimeout, "20")
        .send()
        .await;
    assert_eq!(code(&out), "QueueAlreadyExists");
    assert!(out.unwrap_err().into_service_error().is_queue_name_exists());
}

#[tokio::test]
async fn a_deleted_queue_name_is_unavailable_for_sixty_seconds() {
    let (_emulator, client, clock) = support::start_sqs_manual().await;
    let url = client
        .create_queue()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let out = client.create_queue().queue_name("q").send().await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_queue_deleted_recently()
    );
    clock.advance(std::time::Duration::from_secs(60));
    client.create_queue().queue_name("q").send().await.unwrap();
}

#[tokio::test]
async fn invalid_names_and_attributes_are_refused() {
    let (_emulator, client) = support::start_sqs().await;
    let out = client.create_queue().queue_name("bad name").send().await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client
        .create_queue()
        .queue_name("x".repeat(81))
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client.create_queue().queue_name("q.fifo").send().await;
    assert_eq!(
        code(&out),
        "InvalidParameterValue",
        "a .fifo name needs FifoQueue=true"
    );
    let out = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::VisibilityTimeout, "43201")
        .send()
        .await;
    assert_eq!(code(&out), "InvalidAttributeValue");
    let out = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::QueueArn, "x")
        .send()
        .await;
    assert_eq!(code(&out), "InvalidAttributeName");
    let out = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await;
    assert_eq!(
        code(&out),
        "InvalidAttributeName",
        "FIFO-only attribute on a standard queue"
    );
    let out = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::RedrivePolicy, r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":3}"#)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    assert!(message(&out).contains("Dead-letter target does not exist"));
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
    let url = client
        .create_queue()
        .queue_name("q")
        .attributes(QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("")
        .send()
        .await;
    assert_eq!(code(&out), "MissingParameter");
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1025))
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("bad \u{1} char")
        .send()
        .await;
    assert_eq!(code(&out), "InvalidMessageContents");
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .delay_seconds(901)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_deduplication_id("d")
        .send()
        .await;
    assert_eq!(
        code(&out),
        "InvalidParameterValue",
        "deduplication ids are for FIFO queues"
    );
    let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value("v")
        .build()
        .unwrap();
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("AWS.reserved", attribute)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let number = aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("Number")
        .string_value("abc")
        .build()
        .unwrap();
    let out = client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("n", number)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
}

#[tokio::test]
async fn batch_requests_check_count_ids_and_size() {
    let (_emulator, client) = support::start_sqs().await;
    let url = client
        .create_queue()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let entry = |id: &str, body: String| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .unwrap()
    };
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(vec![]))
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_empty_batch_request()
    );
    let eleven: Vec<_> = (0..11)
        .map(|i| entry(&format!("e{i}"), "x".into()))
        .collect();
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(eleven))
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_too_many_entries_in_batch_request()
    );
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", "x".into()))
        .entries(entry("a", "y".into()))
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_batch_entry_ids_not_distinct()
    );
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("bad id!", "x".into()))
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_invalid_batch_entry_id()
    );
    let big: Vec<_> = (0..2)
        .map(|i| entry(&format!("b{i}"), "x".repeat(600_000)))
        .collect();
    let out = client
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(big))
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_batch_request_too_long()
    );
    // One bad entry fails alone; the rest are sent.
    let mixed = client
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("ok", "fine".into()))
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
    let url = client
        .create_queue()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let out = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(21)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
    let out = client
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(43_201)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidParameterValue");
}

#[tokio::test]
async fn receipt_handles_are_checked() {
    let (_emulator, client) = support::start_sqs().await;
    let url = client
        .create_queue()
        .queue_name("q")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let other = client
        .create_queue()
        .queue_name("other")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let out = client
        .delete_message()
        .queue_url(&url)
        .receipt_handle("garbage")
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_receipt_handle_is_invalid()
    );
    client
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap();
    let received = client
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    let handle = received.messages()[0].receipt_handle().unwrap();
    let out = client
        .delete_message()
        .queue_url(&other)
        .receipt_handle(handle)
        .send()
        .await;
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
    let out = client
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(handle)
        .visibility_timeout(10)
        .send()
        .await;
    assert!(
        out.unwrap_err()
            .into_service_error()
            .is_message_not_inflight()
    );
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
