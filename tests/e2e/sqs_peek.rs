//! `GET /_riffle/queues/{name}/messages`: the emulator's read of a queue that is not a receive.
//! Every message is shown with its state, and looking changes nothing: no receive count goes
//! up, no message is hidden or moved to a dead-letter queue.

use aws_sdk_sqs::types::QueueAttributeName;

use crate::support::sqs;
use crate::support::{T0, http_get, start_sqs_manual};

#[tokio::test]
async fn the_peek_route_shows_every_message_and_its_state_without_receiving() {
    let (emulator, sqs, _clock) = start_sqs_manual().await;
    let endpoint = emulator.endpoint_url();
    let dlq = sqs::queue(&sqs, "jobs-dlq", &[]).await;
    let url = sqs::queue_with(&sqs, "jobs", QueueAttributeName::RedrivePolicy, r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":"1"}"#).await;
    let taken = sqs
        .send_message()
        .queue_url(&url)
        .message_body("taken")
        .message_attributes("kind", sqs::string_attribute("order"))
        .message_attributes("raw", sqs::binary_attribute(b"\x00\x01"))
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(60)
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("waiting")
        .send()
        .await
        .unwrap();
    let received = sqs::Receive::default()
        .max(1)
        .visibility(30)
        .receive(&sqs, &url)
        .await;
    assert_eq!(received.messages()[0].body(), Some("taken"));

    let (status, first) = http_get(&endpoint, "/_riffle/queues/jobs/messages").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["queue"], "jobs");
    assert_eq!(first["queueArn"], "arn:aws:sqs:us-east-1:000000000000:jobs");
    let messages = first["messages"].as_array().unwrap();
    let bodies: Vec<&str> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["taken", "later", "waiting"], "enqueue order");
    let states: Vec<&str> = messages
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["in_flight", "delayed", "visible"]);
    let counts: Vec<u64> = messages
        .iter()
        .map(|m| m["receiveCount"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 0, 0]);
    let m = &messages[0];
    assert_eq!(m["messageId"], taken.message_id().unwrap());
    assert_eq!(m["md5OfBody"], taken.md5_of_message_body().unwrap());
    assert_eq!(m["sentTimestamp"], T0);
    assert_eq!(m["visibleAt"], T0 + 30_000);
    assert_eq!(m["attributes"]["ApproximateReceiveCount"], "1");
    assert_eq!(m["attributes"]["SentTimestamp"], T0.to_string());
    assert_eq!(
        m["attributes"]["ApproximateFirstReceiveTimestamp"],
        T0.to_string()
    );
    assert_eq!(
        m["messageAttributes"]["kind"],
        serde_json::json!({"dataType": "String", "stringValue": "order"})
    );
    assert_eq!(
        m["messageAttributes"]["raw"],
        serde_json::json!({"dataType": "Binary", "binaryValue": "AAE="})
    );
    assert_eq!(messages[1]["visibleAt"], T0 + 60_000);

    assert_eq!(first["total"], 3);
    let (_, limited) = http_get(&endpoint, "/_riffle/queues/jobs/messages?limit=1").await;
    assert_eq!(limited["total"], 3);
    assert_eq!(limited["messages"].as_array().unwrap().len(), 1);
    assert_eq!(limited["messages"][0], first["messages"][0]);
    let (status, bad) = http_get(&endpoint, "/_riffle/queues/jobs/messages?limit=x").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"], "InvalidLimit");

    // Looking again changes nothing, however often.
    for _ in 0..3 {
        let (_, again) = http_get(&endpoint, "/_riffle/queues/jobs/messages").await;
        assert_eq!(again, first);
    }
    // With maxReceiveCount 1, a receive would have moved a message received before to the DLQ;
    // the peeks did not count: "waiting" is received for the first time.
    let next = sqs::Receive::default().system().receive(&sqs, &url).await;
    let next = &next.messages()[0];
    assert_eq!(next.body(), Some("waiting"));
    assert_eq!(
        next.attributes().unwrap()
            [&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount],
        "1"
    );
    let (_, dead) = http_get(&endpoint, "/_riffle/queues/jobs-dlq/messages").await;
    assert_eq!(dead["messages"], serde_json::json!([]), "{dlq}");

    let (status, unknown) = http_get(&endpoint, "/_riffle/queues/nope/messages").await;
    assert_eq!(status, 404);
    assert_eq!(unknown["error"], "QueueDoesNotExist");
    assert_eq!(
        unknown["message"],
        "no queue nope; its queues are: jobs, jobs-dlq"
    );
}

#[tokio::test]
async fn the_peek_route_answers_with_a_data_directory_once_what_it_shows_is_durable() {
    let dir = std::env::temp_dir().join(format!(
        "riffle-peek-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let (emulator, _) = crate::support::start_with(riffle_emulator::Config {
        data_dir: Some(dir.clone()),
        ..riffle_emulator::Config::default()
    })
    .await;
    let endpoint = emulator.endpoint_url();
    let sqs = crate::support::sqs_client(&endpoint);
    let (_, empty) = http_get(&endpoint, "/_riffle/queues/kept/messages").await;
    assert_eq!(empty["error"], "QueueDoesNotExist");
    assert_eq!(
        empty["message"],
        "no queue kept: the emulator has no queues"
    );
    let url = sqs::queue(&sqs, "kept", &[]).await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("durable")
        .send()
        .await
        .unwrap();
    let look = http_get(&endpoint, "/_riffle/queues/kept/messages");
    let (status, peeked) = tokio::time::timeout(std::time::Duration::from_secs(30), look)
        .await
        .expect("answers once the log is on disk");
    assert_eq!(status, 200);
    assert_eq!(peeked["messages"][0]["body"], "durable");
    emulator.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
