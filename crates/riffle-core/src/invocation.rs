//! What every invocation carries and how it ends, whatever the event source: the
//! `{"Records":[…]}` payload and its 6 MiB limit, the [`Outcome`] the runtime reports back to a
//! machine, and Lambda's error document.
//!
//! Invariant: [`MAX_PAYLOAD_BYTES`] is the one payload limit of the workspace; every batch a
//! machine hands out is at most that many bytes of event JSON (a single record larger than it
//! still goes alone, as on AWS).

/// The largest invocation payload, in bytes: Lambda's synchronous invocation limit.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Bytes `{"Records":[]}` adds around the records, and each separating comma.
pub const ENVELOPE_BYTES: usize = 14;

/// `{"Records":[…]}` around records already written as JSON.
pub fn records_event<S: AsRef<str>>(records: &[S]) -> String {
    let size = records.iter().map(|r| r.as_ref().len() + 1).sum::<usize>();
    let mut out = String::with_capacity(size + ENVELOPE_BYTES);
    out.push_str("{\"Records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(record.as_ref());
    }
    out.push_str("]}");
    out
}

/// The `batchItemFailures` a successful invocation's `body` reports under
/// ReportBatchItemFailures, by the rules every source shares: none (success) for an empty or
/// blank body, `null`, an object without the key, or a null or empty list — and, when
/// `empty_values_succeed` (Kinesis), for `""` and `[]` too; `Err` with why the whole batch
/// failed for a body that is not JSON, not an object, or whose `batchItemFailures` is not a
/// list. The items themselves are the source's to judge.
pub fn batch_item_failures(
    body: &[u8],
    empty_values_succeed: bool,
) -> Result<Vec<serde_json::Value>, String> {
    use serde_json::Value;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "the response is not JSON".to_owned())?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if empty_values_succeed && s.is_empty() => Ok(Vec::new()),
        Value::Array(a) if empty_values_succeed && a.is_empty() => Ok(Vec::new()),
        Value::Object(mut map) => match map.remove("batchItemFailures") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err("batchItemFailures is not a list".to_owned()),
        },
        _ => Err("the response is not an object".to_owned()),
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned this body (HTTP 200, no function error).
    Success(Vec<u8>),
    /// The function failed: an unhandled error, a timeout, a crash. Counts as an attempt.
    FunctionError {
        /// `errorType` (e.g. `Sandbox.Timedout`), for the journal.
        error_type: String,
        /// `errorMessage`, for the journal and the Invoke API's answer.
        error_message: String,
        /// HTTP status of the invoke (200 for function errors).
        status_code: u16,
    },
    /// The invocation was throttled; the function never saw the batch.
    Throttled,
    /// The invoke failed before reaching the function.
    ServiceError(String),
}

impl Outcome {
    /// An unhandled function error (HTTP 200, as Lambda answers one).
    pub fn function_error(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self::FunctionError {
            error_type: error_type.into(),
            error_message: error_message.into(),
            status_code: 200,
        }
    }

    /// The function error a runtime reported with `body`, its error document
    /// (`{"errorType": …, "errorMessage": …}`); a body that is not one becomes the message of an
    /// `Unhandled` error.
    pub fn from_error_document(body: &[u8]) -> Self {
        let (error_type, error_message) = error_document(body).unwrap_or_else(|| {
            (
                "Unhandled".to_owned(),
                String::from_utf8_lossy(body).into_owned(),
            )
        });
        Self::function_error(error_type, error_message)
    }
}

/// `errorType` and `errorMessage` of a Lambda error document, if `body` is one (a JSON object with
/// at least one of them).
pub fn error_document(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("errorType"), field("errorMessage")) {
        (None, None) => None,
        (error_type, message) => Some((
            error_type.unwrap_or_else(|| "Unhandled".to_owned()),
            message.unwrap_or_default(),
        )),
    }
}

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Lambda's request id for it.
    pub request_id: String,
    /// What happened.
    pub outcome: Outcome,
}
