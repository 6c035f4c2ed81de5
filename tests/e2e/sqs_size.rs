//! SQS's 1 MiB message size (raised from 256 KiB): the default and maximum of
//! `MaximumMessageSize`, a message counted as body plus attribute names, types and values, and
//! a batch's total; exactly at the limit is accepted, one byte more refused with SQS's error.

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

use crate::support::{self, code, message, sqs};

const MIB: usize = 1_048_576;

#[tokio::test]
async fn sqs_maximum_message_size_defaults_to_1_mib_and_ranges_from_1024_to_1048576() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "default", &[]).await;
    let attributes = sqs::attributes(&client, &url, QueueAttributeName::MaximumMessageSize).await;
    assert_eq!(
        attributes[&QueueAttributeName::MaximumMessageSize],
        "1048576"
    );
    for (value, accepted) in [
        ("1023", false),
        ("1024", true),
        ("1048576", true),
        ("1048577", false),
    ] {
        let out = sqs::try_queue(
            &client,
            &format!("q{value}"),
            &[(QueueAttributeName::MaximumMessageSize, value)],
        )
        .await;
        let expected = if accepted {
            "<succeeded>"
        } else {
            "InvalidAttributeValue"
        };
        assert_eq!(code(&out), expected, "MaximumMessageSize {value}");
        let request = client.set_queue_attributes().queue_url(&url);
        let out = request
            .attributes(QueueAttributeName::MaximumMessageSize, value)
            .send()
            .await;
        assert_eq!(code(&out), expected, "SetQueueAttributes {value}");
    }
}

#[tokio::test]
async fn sqs_messages_of_exactly_1_mib_are_accepted_and_one_byte_more_is_refused() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "big", &[]).await;
    let send = |body: String| {
        client
            .send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
    };
    send("x".repeat(MIB)).await.unwrap();
    let received = sqs::Receive::default()
        .receive(&client, &url)
        .await
        .messages
        .unwrap();
    assert_eq!(received[0].body().unwrap().len(), MIB);
    let out = send("x".repeat(MIB + 1)).await;
    assert_eq!(code(&out), "InvalidParameterValue");
    assert_eq!(
        message(&out),
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."
    );
    // Attributes count: name "k" + type "String" + value "v" is 8 bytes.
    let with_attribute = |body_len: usize| {
        client
            .send_message()
            .queue_url(&url)
            .message_body("x".repeat(body_len))
            .message_attributes("k", sqs::string_attribute("v"))
            .send()
    };
    with_attribute(MIB - 8).await.unwrap();
    assert_eq!(
        code(&with_attribute(MIB - 7).await),
        "InvalidParameterValue"
    );
    // A binary value counts by its bytes: "b" + "Binary" + 3 bytes is 10.
    let binary = sqs::binary_attribute(vec![1, 2, 3]);
    let with_binary = |body_len: usize| {
        client
            .send_message()
            .queue_url(&url)
            .message_body("x".repeat(body_len))
            .message_attributes("b", binary.clone())
            .send()
    };
    with_binary(MIB - 10).await.unwrap();
    assert_eq!(code(&with_binary(MIB - 9).await), "InvalidParameterValue");
}

#[tokio::test]
async fn sqs_batches_of_1_mib_in_total_are_accepted_and_one_byte_more_is_batch_request_too_long() {
    let (_emulator, client) = support::start_sqs().await;
    let url = sqs::queue(&client, "batch", &[]).await;
    let entry = |id: &str, body_len: usize| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("x".repeat(body_len))
            .message_attributes("k", sqs::string_attribute("v"))
            .build()
            .unwrap()
    };
    let half = MIB / 2 - 8;
    let out = sqs::send_batch(&client, &url, vec![entry("a", half), entry("b", half)])
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 2, "exactly 1 MiB in total");
    let out = sqs::send_batch(&client, &url, vec![entry("a", half), entry("b", half + 1)]).await;
    assert_eq!(code(&out), "AWS.SimpleQueueService.BatchRequestTooLong");
    assert_eq!(
        message(&out),
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
    );
    assert!(crate::support::service_error!(out).is_batch_request_too_long());
}
