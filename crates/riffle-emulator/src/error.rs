//! AWS API errors, encoded in exactly one place.
//!
//! Invariant: every failure a client can see is an [`ApiError`] carrying one of AWS's error
//! codes; its HTTP status and wire encoding (`__type` body field plus the `x-amzn-ErrorType`
//! header) are decided here and nowhere else.

use std::fmt;

/// The AWS error codes the emulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body is not valid JSON, or a member has the wrong JSON type.
    SerializationException,
    /// The `X-Amz-Target` names no operation of this service.
    UnknownOperationException,
    /// A member fails a constraint of the API model (length, range, pattern, required).
    ValidationException,
    /// A request is well-formed but not valid for the resource's current state or limits.
    InvalidArgumentException,
    /// The named stream (or shard) does not exist.
    ResourceNotFoundException,
    /// The resource is not in a state that allows this operation.
    ResourceInUseException,
    /// An account limit (shards, tags, …) would be exceeded.
    LimitExceededException,
    /// A shard's read or write throughput limit was exceeded.
    ProvisionedThroughputExceededException,
    /// The shard iterator is older than five minutes.
    ExpiredIteratorException,
    /// The pagination token is older than five minutes.
    ExpiredNextTokenException,
    /// The request body is larger than the service accepts.
    RequestEntityTooLarge,
    /// Something failed inside the emulator (for example a disk error while persisting).
    InternalFailure,
    /// SQS: the queue does not exist.
    QueueDoesNotExist,
    /// SQS: a queue with this name exists with different attributes.
    QueueNameExists,
    /// SQS: a queue of this name was deleted less than 60 seconds ago.
    QueueDeletedRecently,
    /// SQS: an attribute name is unknown or read-only.
    InvalidAttributeName,
    /// SQS: an attribute value is out of range or malformed.
    InvalidAttributeValue,
    /// SQS: a parameter value is invalid.
    InvalidParameterValue,
    /// SQS: a required parameter is missing.
    MissingParameter,
    /// SQS: the receipt handle is not one this queue issued.
    ReceiptHandleIsInvalid,
    /// SQS: the message is not in flight.
    MessageNotInflight,
    /// SQS: more than ten batch entries.
    TooManyEntriesInBatchRequest,
    /// SQS: no batch entries.
    EmptyBatchRequest,
    /// SQS: two batch entries share an id.
    BatchEntryIdsNotDistinct,
    /// SQS: the batch is larger than the size limit.
    BatchRequestTooLong,
    /// SQS: a batch entry id is malformed.
    InvalidBatchEntryId,
    /// SQS: the queue was purged less than 60 seconds ago.
    PurgeQueueInProgress,
    /// SQS: the message contains characters outside the allowed set.
    InvalidMessageContents,
    /// SQS: the operation is not supported.
    UnsupportedOperation,
    /// SQS: a limit (for example tags per queue) would be exceeded.
    OverLimit,
    /// SQS: the queue URL is not one this endpoint serves.
    InvalidAddress,
    /// SQS: the request was throttled (an injected throttle, `riffle fault --queue`).
    ThrottlingException,
    /// Firehose: UpdateDestination named a version that is no longer the delivery stream's.
    ConcurrentModificationException,
}

impl ErrorCode {
    /// The code as AWS spells it on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SerializationException => "SerializationException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::ValidationException => "ValidationException",
            Self::InvalidArgumentException => "InvalidArgumentException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ResourceInUseException => "ResourceInUseException",
            Self::LimitExceededException => "LimitExceededException",
            Self::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            Self::ExpiredIteratorException => "ExpiredIteratorException",
            Self::ExpiredNextTokenException => "ExpiredNextTokenException",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::InternalFailure => "InternalFailure",
            Self::QueueDoesNotExist => "QueueDoesNotExist",
            Self::QueueNameExists => "QueueNameExists",
            Self::QueueDeletedRecently => "QueueDeletedRecently",
            Self::InvalidAttributeName => "InvalidAttributeName",
            Self::InvalidAttributeValue => "InvalidAttributeValue",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::MissingParameter => "MissingParameter",
            Self::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "MessageNotInflight",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::BatchRequestTooLong => "BatchRequestTooLong",
            Self::InvalidBatchEntryId => "InvalidBatchEntryId",
            Self::PurgeQueueInProgress => "PurgeQueueInProgress",
            Self::InvalidMessageContents => "InvalidMessageContents",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::OverLimit => "OverLimit",
            Self::InvalidAddress => "InvalidAddress",
            Self::ThrottlingException => "ThrottlingException",
            Self::ConcurrentModificationException => "ConcurrentModificationException",
        }
    }

    /// The legacy AWS Query error code SQS clients match on, sent in `x-amzn-query-error`.
    pub fn sqs_query_code(self) -> &'static str {
        match self {
            Self::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Self::QueueNameExists => "QueueAlreadyExists",
            Self::QueueDeletedRecently => "AWS.SimpleQueueService.QueueDeletedRecently",
            Self::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Self::TooManyEntriesInBatchRequest => {
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
            }
            Self::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            Self::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            Self::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            Self::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Self::PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Self::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            Self::UnknownOperationException => "InvalidAction",
            Self::SerializationException => "MalformedQueryString",
            Self::ValidationException => "ValidationError",
            Self::InternalFailure => "InternalError",
            Self::ThrottlingException => "RequestThrottled",
            other => other.as_str(),
        }
    }

    /// The HTTP status AWS answers this error with.
    pub fn status(self) -> u16 {
        match self {
            Self::RequestEntityTooLarge => 413,
            Self::InternalFailure => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to a client: AWS's code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The AWS error code.
    pub code: ErrorCode,
    /// The message, worded like AWS's where AWS's wording is known.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `InvalidArgumentException` with `message`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgumentException, message)
    }

    /// `ResourceInUseException` with `message`.
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceInUseException, message)
    }

    /// `LimitExceededException` with `message`.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitExceededException, message)
    }

    /// `InternalFailure` with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalFailure, message)
    }
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

/// Collects constraint violations and reports them all at once, worded as AWS's
/// `ValidationException` ("2 validation errors detected: Value … at '…' failed to satisfy
/// constraint: …").
#[derive(Debug, Default)]
pub struct Violations {
    messages: Vec<String>,
}

impl Violations {
    /// How many violations were found so far.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no violation was found so far.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// A member was required and is absent.
    pub fn missing(&mut self, member: &str) {
        self.messages.push(format!(
            "Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// A member failed `constraint`; `shown` is the value as AWS prints it.
    pub fn failed(&mut self, member: &str, shown: impl fmt::Display, constraint: &str) {
        self.messages.push(format!(
            "Value '{shown}' at '{member}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// A member failed a constraint AWS words whole (`Map keys must satisfy constraint: ...`).
    pub fn constraint(&mut self, member: &str, shown: impl fmt::Display, text: &str) {
        self.messages.push(format!(
            "Value '{shown}' at '{member}' failed to satisfy constraint: {text}"
        ));
    }

    /// Keeps only the first `n` violations (AWS lists at most ten, in the order it checks).
    pub fn truncate(&mut self, n: usize) {
        self.messages.truncate(n);
    }

    /// Checks a string's length in characters.
    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        self.within(member, value, "length", value.chars().count(), (min, max));
    }

    /// Checks a number's range.
    pub fn range(&mut self, member: &str, value: i64, min: i64, max: i64) {
        self.within(member, value, "value", value, (min, max));
    }

    /// Checks that `measure`, the `what` (length, value) of the member's value `shown`, lies
    /// within `min..=max`.
    fn within<T: PartialOrd + fmt::Display>(
        &mut self,
        member: &str,
        shown: impl fmt::Display,
        what: &str,
        measure: T,
        (min, max): (T, T),
    ) {
        let bound = if measure < min {
            format!("greater than or equal to {min}")
        } else if measure > max {
            format!("less than or equal to {max}")
        } else {
            return;
        };
        self.failed(member, shown, &format!("have {what} {bound}"));
    }

    /// Checks that `value` is one of `allowed`.
    pub fn one_of(&mut self, member: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.failed(
                member,
                value,
                &format!("satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
    }

    /// Checks a stream or shard name: `[a-zA-Z0-9_.-]+`, 1 to 128 characters.
    pub fn name(&mut self, member: &str, value: &str) {
        let before = self.messages.len();
        self.length(member, value, 1, 128);
        if self.messages.len() == before
            && !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            self.failed(
                member,
                value,
                "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
    }

    /// The collected violations as one `ValidationException`, or `Ok` if there are none.
    pub fn finish(self) -> ApiResult<()> {
        match self.messages.len() {
            0 => Ok(()),
            n => Err(ApiError::new(
                ErrorCode::ValidationException,
                format!(
                    "{n} validation error{} detected: {}",
                    if n == 1 { "" } else { "s" },
                    self.messages.join("; ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_reported_together_in_aws_wording() {
        let mut v = Violations::default();
        v.name("streamName", "bad name!");
        v.range("shardCount", 0, 1, 100_000);
        let err = v.finish().unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationException);
        assert_eq!(
            err.message,
            "2 validation errors detected: Value 'bad name!' at 'streamName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
             Value '0' at 'shardCount' failed to satisfy constraint: Member must have value \
             greater than or equal to 1"
        );
    }

    #[test]
    fn no_violations_is_ok() {
        assert!(Violations::default().finish().is_ok());
    }
}
