//! S3's errors: the closed set of codes Riffle answers with, each with S3's HTTP status and
//! message, and the one XML encoding of an error response.
//!
//! Invariant: every refusal is an [`S3Error`] built here, so a code always travels with S3's
//! status and wording; a HEAD response carries the status and no body, as S3's do.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An S3 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum S3Code {
    BadDigest,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    IllegalLocationConstraintException,
    IncompleteBody,
    InternalError,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    KeyTooLongError,
    MalformedXML,
    MethodNotAllowed,
    MissingContentLength,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NotImplemented,
    PreconditionFailed,
}

impl S3Code {
    /// The code as S3 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadDigest => "BadDigest",
            Self::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            Self::BucketNotEmpty => "BucketNotEmpty",
            Self::EntityTooLarge => "EntityTooLarge",
            Self::EntityTooSmall => "EntityTooSmall",
            Self::IllegalLocationConstraintException => "IllegalLocationConstraintException",
            Self::IncompleteBody => "IncompleteBody",
            Self::InternalError => "InternalError",
            Self::InvalidArgument => "InvalidArgument",
            Self::InvalidBucketName => "InvalidBucketName",
            Self::InvalidDigest => "InvalidDigest",
            Self::InvalidLocationConstraint => "InvalidLocationConstraint",
            Self::InvalidPart => "InvalidPart",
            Self::InvalidPartOrder => "InvalidPartOrder",
            Self::InvalidRange => "InvalidRange",
            Self::InvalidRequest => "InvalidRequest",
            Self::KeyTooLongError => "KeyTooLongError",
            Self::MalformedXML => "MalformedXML",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::MissingContentLength => "MissingContentLength",
            Self::NoSuchBucket => "NoSuchBucket",
            Self::NoSuchKey => "NoSuchKey",
            Self::NoSuchUpload => "NoSuchUpload",
            Self::NotImplemented => "NotImplemented",
            Self::PreconditionFailed => "PreconditionFailed",
        }
    }

    /// The HTTP status S3 answers it with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::NoSuchBucket | Self::NoSuchKey | Self::NoSuchUpload => StatusCode::NOT_FOUND,
            Self::BucketAlreadyOwnedByYou | Self::BucketNotEmpty => StatusCode::CONFLICT,
            Self::InvalidRange => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MissingContentLength => StatusCode::LENGTH_REQUIRED,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// S3's message for it.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadDigest => "The Content-MD5 you specified did not match what we received.",
            Self::BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            Self::BucketNotEmpty => "The bucket you tried to delete is not empty",
            Self::EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            Self::IllegalLocationConstraintException => {
                "The unspecified location constraint is incompatible for the region specific \
                 endpoint this request was sent to."
            }
            Self::EntityTooSmall => {
                "Your proposed upload is smaller than the minimum allowed object size."
            }
            Self::IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP \
                 header"
            }
            Self::InternalError => "We encountered an internal error. Please try again.",
            Self::InvalidArgument => "Invalid Argument",
            Self::InvalidBucketName => "The specified bucket is not valid.",
            Self::InvalidDigest => "The Content-MD5 you specified was invalid.",
            Self::InvalidPart => {
                "One or more of the specified parts could not be found.  The part may not have \
                 been uploaded, or the specified entity tag may not match the part's entity tag."
            }
            Self::InvalidPartOrder => {
                "The list of parts was not in ascending order. Parts must be ordered by part \
                 number."
            }
            Self::InvalidLocationConstraint => "The specified location-constraint is not valid",
            Self::InvalidRange => "The requested range is not satisfiable",
            Self::InvalidRequest => "Invalid Request",
            Self::KeyTooLongError => "Your key is too long",
            Self::MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our \
                 published schema"
            }
            Self::MethodNotAllowed => "The specified method is not allowed against this resource.",
            Self::MissingContentLength => "You must provide the Content-Length HTTP header.",
            Self::NoSuchBucket => "The specified bucket does not exist",
            Self::NoSuchKey => "The specified key does not exist.",
            Self::NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload \
                 may have been aborted or completed."
            }
            Self::NotImplemented => {
                "A header you provided implies functionality that is not implemented."
            }
            Self::PreconditionFailed => {
                "At least one of the pre-conditions you specified did not hold"
            }
        }
    }
}

/// A refused S3 request: the code, its message, and the resource details S3 adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    /// The code.
    pub code: S3Code,
    /// The message (S3's for the code unless a request needs its own).
    pub message: String,
    /// Extra elements (`BucketName`, `Key`, `UploadId`, `ArgumentName`, …), in order.
    pub details: Vec<(&'static str, String)>,
}

impl S3Error {
    /// `code` with S3's message.
    pub fn new(code: S3Code) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
            details: Vec::new(),
        }
    }

    /// With another message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// With a detail element.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// NoSuchBucket for `bucket`.
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(S3Code::NoSuchBucket).with("BucketName", bucket)
    }

    /// NoSuchKey for `key`.
    pub fn no_such_key(key: &str) -> Self {
        Self::new(S3Code::NoSuchKey).with("Key", key)
    }

    /// NoSuchUpload for `upload_id`.
    pub fn no_such_upload(upload_id: &str) -> Self {
        Self::new(S3Code::NoSuchUpload).with("UploadId", upload_id)
    }

    /// InvalidArgument naming the argument and its value.
    pub fn invalid_argument(message: &str, name: &str, value: &str) -> Self {
        Self::new(S3Code::InvalidArgument)
            .message(message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    /// MalformedXML.
    pub fn malformed_xml() -> Self {
        Self::new(S3Code::MalformedXML)
    }

    /// An internal failure (an I/O error of the store), logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "S3 internal failure");
        Self::new(S3Code::InternalError)
    }

    /// The response: S3's XML body (none for HEAD), status and request id.
    pub fn response(&self, request_id: &str, head: bool) -> Response {
        let mut response = if head {
            self.code.status().into_response()
        } else {
            let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
            element(&mut body, "Code", self.code.as_str());
            element(&mut body, "Message", &self.message);
            for (name, value) in &self.details {
                element(&mut body, name, value);
            }
            element(&mut body, "RequestId", request_id);
            element(&mut body, "HostId", request_id);
            body.push_str("</Error>");
            (
                self.code.status(),
                [(header::CONTENT_TYPE, "application/xml")],
                body,
            )
                .into_response()
        };
        super::api::request_headers(response.headers_mut(), request_id);
        response
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&quick_xml::escape::escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

impl From<std::io::Error> for S3Error {
    fn from(error: std::io::Error) -> Self {
        Self::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_error_is_s3s_xml_with_its_details_escaped() {
        let error = S3Error::no_such_key("a<b>&c");
        let response = error.response("req-1", false);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-amz-request-id"], "req-1");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
        assert!(body.contains("<Code>NoSuchKey</Code>"));
        assert!(body.contains("<Message>The specified key does not exist.</Message>"));
        assert!(body.contains("<Key>a&lt;b&gt;&amp;c</Key>"));
        assert!(body.contains("<RequestId>req-1</RequestId>"));
    }

    #[tokio::test]
    async fn a_head_error_has_the_status_and_no_body() {
        let response = S3Error::no_such_bucket("b").response("r", true);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn every_code_has_a_status_and_message() {
        assert_eq!(S3Code::BucketNotEmpty.status(), StatusCode::CONFLICT);
        assert_eq!(
            S3Code::InvalidRange.status(),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            S3Code::MissingContentLength.status(),
            StatusCode::LENGTH_REQUIRED
        );
        assert_eq!(S3Code::MalformedXML.status(), StatusCode::BAD_REQUEST);
    }
}
