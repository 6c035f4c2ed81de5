//! The AWS CLI against the emulator's SQS: a queue driven end to end, and SQS's error codes as
//! the CLI reports them.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn cli_drives_an_sqs_queue_and_sees_sqs_error_codes() {
    let (_emulator, cli) = start().await;
    let created = cli
        .sqs_json(&[
            "create-queue",
            "--queue-name",
            "cli-queue",
            "--attributes",
            "VisibilityTimeout=45",
        ])
        .await;
    let url = str_of(&created, "/QueueUrl").to_owned();
    assert!(url.ends_with("/000000000000/cli-queue"), "{url}");
    let got = cli
        .sqs_json(&["get-queue-url", "--queue-name", "cli-queue"])
        .await;
    assert_eq!(str_of(&got, "/QueueUrl"), url);
    let sent = cli
        .sqs_json(&[
            "send-message",
            "--queue-url",
            &url,
            "--message-body",
            "héllo from the CLI",
            "--message-attributes",
            r#"{"kind":{"DataType":"String","StringValue":"greeting"}}"#,
        ])
        .await;
    assert_eq!(str_of(&sent, "/MD5OfMessageBody").len(), 32);
    let received = cli
        .sqs_json(&[
            "receive-message",
            "--queue-url",
            &url,
            "--attribute-names",
            "All",
            "--message-attribute-names",
            "All",
            "--wait-time-seconds",
            "1",
        ])
        .await;
    let message = &received["Messages"][0];
    assert_eq!(str_of(message, "/Body"), "héllo from the CLI");
    assert_eq!(
        str_of(message, "/MD5OfBody"),
        str_of(&sent, "/MD5OfMessageBody")
    );
    assert_eq!(
        str_of(message, "/MessageAttributes/kind/StringValue"),
        "greeting"
    );
    assert_eq!(str_of(message, "/Attributes/ApproximateReceiveCount"), "1");
    let handle = str_of(message, "/ReceiptHandle").to_owned();
    let attributes = cli
        .sqs_json(&[
            "get-queue-attributes",
            "--queue-url",
            &url,
            "--attribute-names",
            "All",
        ])
        .await;
    assert_eq!(str_of(&attributes, "/Attributes/VisibilityTimeout"), "45");
    assert_eq!(
        str_of(
            &attributes,
            "/Attributes/ApproximateNumberOfMessagesNotVisible"
        ),
        "1"
    );
    cli.sqs_json(&[
        "delete-message",
        "--queue-url",
        &url,
        "--receipt-handle",
        &handle,
    ])
    .await;
    let stderr = cli
        .sqs(&["get-queue-url", "--queue-name", "no-such-queue"])
        .await
        .failure();
    assert!(
        stderr.contains("AWS.SimpleQueueService.NonExistentQueue"),
        "{stderr}"
    );
    let stderr = cli
        .sqs(&[
            "delete-message",
            "--queue-url",
            &url,
            "--receipt-handle",
            "not-a-handle",
        ])
        .await
        .failure();
    assert!(stderr.contains("ReceiptHandleIsInvalid"), "{stderr}");
}
