//! The closed set of SQS operations the emulator serves.
//!
//! Invariant: an operation name is matched as a string exactly once, here, when the request
//! arrives ([`Action::from_str`]); everything after dispatches on the enum, and an unknown name
//! gets SQS's `UnknownOperationException` before any of the body is read. The enum is written by
//! [`crate::action::actions!`], as the Kinesis one is.

crate::action::actions! {
    /// One operation of the SQS API, as named after `AmazonSQS.` in `X-Amz-Target`.
    unknown = |other| format!("The action {other} is not valid for this endpoint.");
    /// Creates a queue, or answers the URL of an identical one.
    CreateQueue,
    /// The URL of a queue by name.
    GetQueueUrl,
    /// Queue URLs by name prefix, paged.
    ListQueues,
    /// Deletes a queue and its messages.
    DeleteQueue,
    /// Deletes every message of a queue.
    PurgeQueue,
    /// A queue's attributes and message counts.
    GetQueueAttributes,
    /// Changes a queue's settable attributes.
    SetQueueAttributes,
    /// Sends one message.
    SendMessage,
    /// Sends up to ten messages.
    SendMessageBatch,
    /// Receives up to ten messages, waiting for them up to 20 seconds.
    ReceiveMessage,
    /// Deletes a received message.
    DeleteMessage,
    /// Deletes up to ten received messages.
    DeleteMessageBatch,
    /// Changes how long a received message stays hidden.
    ChangeMessageVisibility,
    /// Changes how long up to ten received messages stay hidden.
    ChangeMessageVisibilityBatch,
    /// Adds or overwrites tags of a queue.
    TagQueue,
    /// Removes tags of a queue.
    UntagQueue,
    /// A queue's tags.
    ListQueueTags,
    /// The queues whose redrive policy names this queue as dead-letter target.
    ListDeadLetterSourceQueues,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn every_action_parses_from_its_name_and_nothing_else_does() {
        for &action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().unwrap(), action);
        }
        assert_eq!(Action::ALL.len(), 18);
        let error = "Teleport".parse::<Action>().unwrap_err();
        assert_eq!(error.code, ErrorCode::UnknownOperationException);
        assert_eq!(
            error.message,
            "The action Teleport is not valid for this endpoint."
        );
        assert!("sendmessage".parse::<Action>().is_err(), "names are exact");
    }
}
