//! Object operations: PutObject, GetObject and HeadObject (ranges, conditional requests,
//! response header overrides), DeleteObject, DeleteObjects and CopyObject.
//!
//! Invariants: an object is readable only once whole (the store commits it by renaming its
//! metadata); a body is streamed from its file, never read into memory; the ETag of a single
//! PUT is the quoted MD5 of its bytes, as S3's is for unencrypted and SSE-S3 objects.

use std::io::SeekFrom;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::{Request, S3, http_date, iso, xml_response};
use crate::s3::body::{self, Received};
use crate::s3::error::{S3Code, S3Error};
use crate::s3::store::{NewObject, ObjectMeta, StoredHeaders, WriteCondition, etag_matches, hex};
use crate::s3::xml::{self, NAMESPACE};

/// S3's longest key, in UTF-8 bytes.
pub(super) const MAX_KEY_BYTES: usize = 1024;
/// The content type S3 stores when a PUT names none.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// Most keys one DeleteObjects names.
const MAX_DELETE_KEYS: usize = 1000;

/// The stored headers of a request (PutObject, CreateMultipartUpload, CopyObject's REPLACE).
pub(super) fn stored_headers(headers: &HeaderMap) -> StoredHeaders {
    let text = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_encoding = text(&header::CONTENT_ENCODING).and_then(|v| {
        let rest: Vec<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty() && *e != "aws-chunked")
            .collect();
        (!rest.is_empty()).then(|| rest.join(","))
    });
    let metadata = headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    StoredHeaders {
        content_type: text(&header::CONTENT_TYPE),
        content_encoding,
        content_disposition: text(&header::CONTENT_DISPOSITION),
        content_language: text(&header::CONTENT_LANGUAGE),
        cache_control: text(&header::CACHE_CONTROL),
        expires: text(&header::EXPIRES),
        metadata,
    }
}

pub(super) fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(S3Code::KeyTooLongError)
            .with("Size", key.len().to_string())
            .with("MaxSizeAllowed", MAX_KEY_BYTES.to_string()));
    }
    Ok(())
}

fn quoted_md5(md5: &[u8; 16]) -> String {
    format!("\"{}\"", hex(md5))
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// What conditional headers decide about an object.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Proceed,
    NotModified,
    Failed(&'static str),
}

/// S3's evaluation of `If-Match` / `If-Unmodified-Since` (412) and `If-None-Match` /
/// `If-Modified-Since` (304 on GET and HEAD, 412 on a copy), with `prefix` naming the headers
/// (`if-` or `x-amz-copy-source-if-`). A true `If-Match` overrides a false
/// `If-Unmodified-Since`, and a false `If-None-Match` a true `If-Modified-Since`, as S3 does.
fn conditions(request: &Request<'_>, prefix: &str, meta: &ObjectMeta) -> Verdict {
    let header = |name: &str| request.header(&format!("{prefix}{name}"));
    let date = |name: &str| {
        header(name)
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    let modified = meta.modified / 1000;
    match header("match") {
        Some(etags) if !etag_matches(etags, &meta.etag) => return Verdict::Failed("If-Match"),
        Some(_) => {}
        None => {
            if date("unmodified-since").is_some_and(|t| modified > t) {
                return Verdict::Failed("If-Unmodified-Since");
            }
        }
    }
    match header("none-match") {
        Some(etags) if etag_matches(etags, &meta.etag) => Verdict::NotModified,
        Some(_) => Verdict::Proceed,
        None if date("modified-since").is_some_and(|t| modified <= t) => Verdict::NotModified,
        None => Verdict::Proceed,
    }
}

/// A `Range` header against an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Range {
    /// No range, or one S3 ignores (malformed, or several).
    Whole,
    /// Bytes `start..=end`.
    Bytes(u64, u64),
    /// A range the object cannot satisfy.
    Unsatisfiable,
}

pub(super) fn range(value: Option<&str>, size: u64) -> Range {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, false) => match parse(last) {
            None => Range::Whole,
            Some(0) => Range::Unsatisfiable,
            Some(_) if size == 0 => Range::Unsatisfiable,
            Some(n) => Range::Bytes(size.saturating_sub(n), size - 1),
        },
        (false, _) => {
            let Some(start) = parse(first) else {
                return Range::Whole;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match parse(last) {
                    Some(end) if end >= start => end,
                    _ => return Range::Whole,
                }
            };
            if start >= size {
                Range::Unsatisfiable
            } else {
                Range::Bytes(start, end.min(size - 1))
            }
        }
        (true, true) => Range::Whole,
    }
}

impl S3 {
    pub(super) async fn put_object(
        &self,
        request: &Request<'_>,
        body: Body,
    ) -> Result<Response, S3Error> {
        let (bucket, key) = (request.bucket().to_owned(), request.key().to_owned());
        check_key(&key)?;
        self.store.bucket_region(&bucket)?;
        let condition = WriteCondition {
            absent: request
                .header("if-none-match")
                .is_some_and(|v| v.trim() == "*"),
            etag: request.header("if-match").map(str::to_owned),
        };
        let temp = self.store.temp_path();
        let Received { size, md5 } = body::receive(body, request.headers, &temp).await?;
        let object = NewObject {
            key,
            size,
            etag: quoted_md5(&md5),
            headers: stored_headers(request.headers),
            parts: None,
        };
        let now = self.now();
        let meta = self
            .blocking(move |store| store.commit(&bucket, object, &temp, &condition, now))
            .await?;
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        insert(headers, "etag", &meta.etag);
        insert(headers, "x-amz-server-side-encryption", "AES256");
        if let Some(crc) = request.header("x-amz-checksum-crc32") {
            insert(headers, "x-amz-checksum-crc32", crc);
        }
        Ok(response)
    }

    pub(super) async fn get_object(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let (bucket, key) = (request.bucket().to_owned(), request.key().to_owned());
        let head = request.method == axum::http::Method::HEAD;
        let (meta, file) = if head {
            (self.store.head(&bucket, &key)?, None)
        } else {
            let (meta, file) = self
                .blocking(move |store| store.open_object(&bucket, &key))
                .await?;
            (meta, Some(file))
        };
        match conditions(request, "if-", &meta) {
            Verdict::Proceed => {}
            Verdict::NotModified => {
                let mut response = StatusCode::NOT_MODIFIED.into_response();
                insert(response.headers_mut(), "etag", &meta.etag);
                insert(
                    response.headers_mut(),
                    "last-modified",
                    &http_date(meta.modified),
                );
                return Ok(response);
            }
            Verdict::Failed(condition) => {
                return Err(S3Error::new(S3Code::PreconditionFailed).with("Condition", condition));
            }
        }
        let range_header = request.header("range");
        let (status, start, length) = match range(range_header, meta.size) {
            Range::Whole => (StatusCode::OK, 0, meta.size),
            Range::Bytes(start, end) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            Range::Unsatisfiable => {
                return Err(S3Error::new(S3Code::InvalidRange)
                    .with("RangeRequested", range_header.unwrap_or_default())
                    .with("ActualObjectSize", meta.size.to_string()));
            }
        };
        let body = match file {
            None => Body::empty(),
            Some(file) => {
                let mut file = tokio::fs::File::from_std(file);
                file.seek(SeekFrom::Start(start)).await?;
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                    file.take(length),
                    256 * 1024,
                ))
            }
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        object_headers(headers, &meta);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        if status == StatusCode::PARTIAL_CONTENT {
            let end = start + length - 1;
            insert(
                headers,
                "content-range",
                &format!("bytes {start}-{end}/{}", meta.size),
            );
        }
        for (param, name) in [
            ("response-content-type", header::CONTENT_TYPE),
            ("response-content-language", header::CONTENT_LANGUAGE),
            ("response-expires", header::EXPIRES),
            ("response-cache-control", header::CACHE_CONTROL),
            ("response-content-disposition", header::CONTENT_DISPOSITION),
            ("response-content-encoding", header::CONTENT_ENCODING),
        ] {
            if let Some(value) = request
                .param(param)
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(name, value);
            }
        }
        Ok(response)
    }

    pub(super) async fn delete_object(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let (bucket, key) = (request.bucket().to_owned(), request.key().to_owned());
        self.blocking(move |store| store.delete_object(&bucket, &key))
            .await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    pub(super) async fn delete_objects(
        &self,
        request: &Request<'_>,
        body: Body,
    ) -> Result<Response, S3Error> {
        let bucket = request.bucket().to_owned();
        self.store.bucket_region(&bucket)?;
        let body = to_bytes(body, 4 * 1024 * 1024)
            .await
            .map_err(|_| S3Error::malformed_xml())?;
        let delete: xml::Delete = xml::parse(&body).ok_or_else(S3Error::malformed_xml)?;
        if delete.objects.is_empty() || delete.objects.len() > MAX_DELETE_KEYS {
            return Err(S3Error::malformed_xml());
        }
        let keys: Vec<String> = delete.objects.into_iter().map(|o| o.key).collect();
        let outcomes = self
            .blocking(move |store| {
                Ok(keys
                    .into_iter()
                    .map(|key| {
                        let outcome =
                            check_key(&key).and_then(|()| store.delete_object(&bucket, &key));
                        (key, outcome)
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        let mut result = xml::DeleteResult {
            xmlns: NAMESPACE,
            deleted: Vec::new(),
            errors: Vec::new(),
        };
        for (key, outcome) in outcomes {
            match outcome {
                Ok(()) if delete.quiet => {}
                Ok(()) => result.deleted.push(xml::Deleted { key }),
                Err(error) => result.errors.push(xml::DeleteError {
                    key,
                    code: error.code.as_str(),
                    message: error.message,
                }),
            }
        }
        Ok(xml_response(&result))
    }

    pub(super) async fn copy_object(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let (bucket, key) = (request.bucket().to_owned(), request.key().to_owned());
        check_key(&key)?;
        let (source_bucket, source_key) = copy_source(request)?;
        let replace = match request.header("x-amz-metadata-directive") {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(other) => {
                return Err(S3Error::invalid_argument(
                    "Unknown metadata directive.",
                    "x-amz-metadata-directive",
                    other,
                ));
            }
        };
        if !replace && source_bucket == bucket && source_key == key {
            return Err(S3Error::new(S3Code::InvalidRequest).message(
                "This copy request is illegal because it is trying to copy an object to itself \
                 without changing the object's metadata, storage class, website redirect \
                 location or encryption attributes.",
            ));
        }
        self.store.bucket_region(&bucket)?;
        let (meta, temp) = self
            .blocking(move |store| store.snapshot(&source_bucket, &source_key))
            .await?;
        if let Verdict::Failed(_) | Verdict::NotModified =
            conditions(request, "x-amz-copy-source-if-", &meta)
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(S3Error::new(S3Code::PreconditionFailed));
        }
        let headers = if replace {
            stored_headers(request.headers)
        } else {
            meta.headers.clone()
        };
        let etag = match meta.parts {
            None => meta.etag.clone(),
            // A copy is one object: its ETag is the MD5 of all its bytes.
            Some(_) => {
                let path = temp.clone();
                let md5 = self.blocking(move |_| Ok(md5_of(&path)?)).await?;
                quoted_md5(&md5)
            }
        };
        let object = NewObject {
            key,
            size: meta.size,
            etag,
            headers,
            parts: None,
        };
        let now = self.now();
        let copied = self
            .blocking(move |store| {
                store.commit(&bucket, object, &temp, &WriteCondition::default(), now)
            })
            .await?;
        Ok(xml_response(&xml::CopyObjectResult {
            xmlns: NAMESPACE,
            last_modified: iso(copied.modified),
            etag: copied.etag.clone(),
        }))
    }
}

/// The headers a GET or HEAD answers with (other than the length).
fn object_headers(headers: &mut HeaderMap, meta: &ObjectMeta) {
    let stored = &meta.headers;
    insert(headers, "etag", &meta.etag);
    insert(headers, "last-modified", &http_date(meta.modified));
    insert(headers, "accept-ranges", "bytes");
    insert(headers, "x-amz-server-side-encryption", "AES256");
    insert(
        headers,
        "content-type",
        stored
            .content_type
            .as_deref()
            .unwrap_or(DEFAULT_CONTENT_TYPE),
    );
    for (name, value) in [
        ("content-encoding", &stored.content_encoding),
        ("content-disposition", &stored.content_disposition),
        ("content-language", &stored.content_language),
        ("cache-control", &stored.cache_control),
        ("expires", &stored.expires),
    ] {
        if let Some(value) = value {
            insert(headers, name, value);
        }
    }
    for (name, value) in &stored.metadata {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub(super) fn copy_source(request: &Request<'_>) -> Result<(String, String), S3Error> {
    let raw = request.header("x-amz-copy-source").unwrap_or_default();
    let invalid = || {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            raw,
        )
    };
    let path = raw.split_once("?versionId=").map_or(raw, |(path, _)| path);
    let path = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    match path.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Ok((bucket.to_owned(), key.to_owned()))
        }
        _ => Err(invalid()),
    }
}

fn md5_of(path: &std::path::Path) -> std::io::Result<[u8; 16]> {
    use md5::Digest as _;
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut digest = md5::Md5::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buffer)? {
            0 => return Ok(digest.finalize().into()),
            n => digest.update(&buffer[..n]),
        }
    }
}
