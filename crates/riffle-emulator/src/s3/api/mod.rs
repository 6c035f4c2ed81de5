//! S3 requests: addressing (path-style `/<bucket>/<key>`, and virtual-hosted
//! `<bucket>.localhost`), the query's subresources, the dispatch to one operation, and the
//! headers every answer carries. Each family of operations lives in its own submodule.
//!
//! Invariants: a request is routed by method, addressing and subresource exactly as S3 routes
//! it, so an operation S3 has and Riffle does not is refused as `NotImplemented`, never
//! mistaken for another; every answer, error or not, carries a request id.

mod buckets;
mod list;
mod multipart;
mod objects;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use sha2::Digest as _;

use super::error::{S3Code, S3Error};
use super::store::Store;
use crate::clock::Clock;

/// Subresources S3 has that Riffle does not serve: a request naming one is `NotImplemented`.
const UNSUPPORTED: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versions",
    "website",
];

/// The S3 API of one emulator.
#[derive(Debug)]
pub struct S3 {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    region: String,
    owner: String,
}

/// One request, addressed.
pub(crate) struct Request<'a> {
    method: Method,
    bucket: Option<String>,
    key: Option<String>,
    query: Vec<(String, String)>,
    headers: &'a HeaderMap,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }
}

impl S3 {
    /// Opens the store under `dir` (durable) or in a temporary directory, and serves it.
    pub fn open(
        dir: Option<&std::path::Path>,
        clock: Arc<dyn Clock>,
        region: &str,
        account_id: &str,
    ) -> std::io::Result<Self> {
        Ok(Self::new(Store::open(dir)?, clock, region, account_id))
    }

    /// The service over `store`.
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>, region: &str, account_id: &str) -> Self {
        // S3's canonical user id is 64 hex digits; derive a stable one from the account.
        let owner = super::store::hex(&sha2::Sha256::digest(account_id.as_bytes()));
        Self {
            store: Arc::new(store),
            clock,
            region: region.to_owned(),
            owner,
        }
    }

    fn now(&self) -> crate::clock::Millis {
        self.clock.now_millis()
    }

    /// Runs a store operation that touches the disk off the async threads.
    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, S3Error> + Send + 'static,
    ) -> Result<R, S3Error> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(S3Error::internal)?
    }

    fn owner(&self) -> super::xml::Owner {
        super::xml::Owner {
            id: self.owner.clone(),
            display_name: "riffle".into(),
        }
    }

    /// Answers one S3 request.
    pub(crate) async fn handle(
        &self,
        method: Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Body,
        request_id: &str,
    ) -> Response {
        let head = method == Method::HEAD;
        let request = address(method, uri, headers);
        let result = match request {
            Ok(request) => self.route(&request, body).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(mut response) => {
                request_headers(response.headers_mut(), request_id);
                response
            }
            Err(error) => {
                tracing::debug!(code = error.code.as_str(), message = %error.message, "S3 request refused");
                error.response(request_id, head)
            }
        }
    }

    async fn route(&self, request: &Request<'_>, body: Body) -> Result<Response, S3Error> {
        if let Some(unsupported) = UNSUPPORTED.iter().find(|name| request.has(name)) {
            return Err(S3Error::new(S3Code::NotImplemented)
                .message(format!(
                    "Riffle's S3 does not implement the {unsupported} subresource."
                ))
                .with("Header", format!("?{unsupported}")));
        }
        let method = &request.method;
        match (&request.bucket, &request.key) {
            (None, _) if method == Method::GET => self.list_buckets(),
            (None, _) => Err(method_not_allowed(method, "SERVICE")),
            (Some(_), None) => match *method {
                Method::PUT => self.create_bucket(request, body).await,
                Method::HEAD => self.head_bucket(request),
                Method::DELETE => self.delete_bucket(request).await,
                Method::GET if request.has("location") => self.bucket_location(request),
                Method::GET if request.has("versioning") => self.bucket_versioning(request),
                Method::GET if request.has("uploads") => self.list_uploads(request),
                Method::GET if request.param("list-type") == Some("2") => self.list_v2(request),
                Method::GET => self.list_v1(request),
                Method::POST if request.has("delete") => self.delete_objects(request, body).await,
                _ => Err(method_not_allowed(method, "BUCKET")),
            },
            (Some(_), Some(_)) => match *method {
                Method::PUT if request.has("uploadId") => self.upload_part(request, body).await,
                Method::PUT if request.header("x-amz-copy-source").is_some() => {
                    self.copy_object(request).await
                }
                Method::PUT => self.put_object(request, body).await,
                Method::GET if request.has("uploadId") => self.list_parts(request),
                Method::GET | Method::HEAD => self.get_object(request).await,
                Method::DELETE if request.has("uploadId") => self.abort_upload(request).await,
                Method::DELETE => self.delete_object(request).await,
                Method::POST if request.has("uploads") => self.create_upload(request),
                Method::POST if request.has("uploadId") => {
                    self.complete_upload(request, body).await
                }
                _ => Err(method_not_allowed(method, "OBJECT")),
            },
        }
    }
}

fn method_not_allowed(method: &Method, resource: &str) -> S3Error {
    S3Error::new(S3Code::MethodNotAllowed)
        .with("Method", method.as_str())
        .with("ResourceType", resource)
}

/// Splits a request into bucket, key and query: virtual-hosted when the host is
/// `<bucket>.localhost[:port]`, otherwise path-style.
fn address<'a>(method: Method, uri: &Uri, headers: &'a HeaderMap) -> Result<Request<'a>, S3Error> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.host())
        .unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let virtual_bucket = host
        .strip_suffix(".localhost")
        .map(|b| b.strip_suffix(".s3").unwrap_or(b))
        .filter(|b| !b.is_empty());
    let path = uri.path();
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                S3Error::new(S3Code::InvalidRequest).message("The key is not valid UTF-8.")
            })
    };
    let (bucket, key) = match virtual_bucket {
        Some(bucket) => {
            let key = path.strip_prefix('/').unwrap_or(path);
            (
                Some(bucket.to_owned()),
                (!key.is_empty()).then(|| decode(key)).transpose()?,
            )
        }
        None => {
            let rest = path.strip_prefix('/').unwrap_or(path);
            match rest.split_once('/') {
                None if rest.is_empty() => (None, None),
                None => (Some(decode(rest)?), None),
                Some((bucket, "")) => (Some(decode(bucket)?), None),
                Some((bucket, key)) => (Some(decode(bucket)?), Some(decode(key)?)),
            }
        }
    };
    let query = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Request {
        method,
        bucket,
        key,
        query,
        headers,
    })
}

/// The headers every S3 answer carries: the request id and its host id.
pub(crate) fn request_headers(headers: &mut HeaderMap, request_id: &str) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", id);
    }
    let id2 = base64::engine::general_purpose::STANDARD.encode(request_id.repeat(2));
    if let Ok(id2) = HeaderValue::from_str(&id2) {
        headers.insert("x-amz-id-2", id2);
    }
}

/// A 200 answer with an XML document.
fn xml_response<T: serde::Serialize>(value: &T) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml")],
        super::xml::document(value),
    )
        .into_response()
}

/// S3's `LastModified` in XML: ISO 8601 with milliseconds.
fn iso(ms: crate::clock::Millis) -> String {
    riffle_core::time::iso8601_millis(ms)
}

/// S3's `Last-Modified` header: an HTTP date, to the second.
fn http_date(ms: crate::clock::Millis) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests;
