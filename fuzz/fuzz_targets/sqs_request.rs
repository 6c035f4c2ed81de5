//! Raw SQS request decoding: the first byte picks the operation (one of the 18 SQS operations the
//! emulator implements, or an unknown one), the second how far the clock moves first, the rest is
//! the body, sent to a service holding a standard queue "q" (with a dead-letter queue) and a FIFO
//! queue "f.fifo", both with messages, one of them in flight.
//!
//! No input may panic the service, and every error must carry a non-empty message.

#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use riffle_emulator::ManualClock;
use riffle_emulator::sqs::store::{SqsStore, StoreSettings};
use riffle_emulator::sqs::{Action, RequestContext, Sqs};

const OPERATIONS: [&str; 19] = [
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "PurgeQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
    "Teleport",
];

fn setup(runtime: &tokio::runtime::Runtime, clock: &ManualClock) -> Sqs {
    let store = SqsStore::new(StoreSettings {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
    });
    let sqs = Sqs::new(store, [7; 16], Arc::new(clock.clone()), None);
    let context = RequestContext {
        host: "127.0.0.1:4566".into(),
        path: "/".into(),
        access_key: None,
    };
    let calls: [(&str, &str); 7] = [
        ("CreateQueue", r#"{"QueueName":"dlq"}"#),
        (
            "CreateQueue",
            r#"{"QueueName":"q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":2}"}}"#,
        ),
        (
            "CreateQueue",
            r#"{"QueueName":"f.fifo","Attributes":{"FifoQueue":"true","ContentBasedDeduplication":"true"}}"#,
        ),
        (
            "SendMessage",
            r#"{"QueueUrl":"http://h/000000000000/q","MessageBody":"a","MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}}"#,
        ),
        (
            "SendMessage",
            r#"{"QueueUrl":"http://h/000000000000/q","MessageBody":"b","DelaySeconds":5}"#,
        ),
        (
            "SendMessage",
            r#"{"QueueUrl":"http://h/000000000000/f.fifo","MessageBody":"c","MessageGroupId":"g"}"#,
        ),
        (
            "ReceiveMessage",
            r#"{"QueueUrl":"http://h/000000000000/q","MaxNumberOfMessages":1}"#,
        ),
    ];
    for (operation, body) in calls {
        let action = operation
            .parse::<Action>()
            .expect("setup names real actions");
        runtime
            .block_on(sqs.call(action, body.as_bytes(), &context))
            .expect("setup succeeds");
    }
    sqs
}

fuzz_target!(|data: &[u8]| {
    let [selector, advance, body @ ..] = data else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let clock = ManualClock::new(1_700_000_000_000);
    let sqs = setup(&runtime, &clock);
    clock.advance(Duration::from_secs(u64::from(*advance)));
    let operation = OPERATIONS[usize::from(*selector) % OPERATIONS.len()];
    // A long poll waits on the manual clock: move the clock whenever the call is pending.
    let context = RequestContext {
        host: "127.0.0.1:4566".into(),
        path: "/000000000000/q".into(),
        access_key: None,
    };
    let result = operation.parse::<Action>().and_then(|action| {
        runtime.block_on(async {
            let call = sqs.call(action, body, &context);
            tokio::pin!(call);
            loop {
                tokio::select! {
                    result = &mut call => break result,
                    () = tokio::task::yield_now() => clock.advance(Duration::from_secs(5)),
                }
            }
        })
    });
    if let Err(error) = result {
        assert!(
            !error.message.is_empty(),
            "{operation}: empty message for {:?}",
            error.code
        );
    }
});
