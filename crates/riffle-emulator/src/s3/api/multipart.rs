//! Multipart uploads: CreateMultipartUpload, UploadPart and UploadPartCopy, ListParts,
//! ListMultipartUploads, AbortMultipartUpload and CompleteMultipartUpload (what the AWS CLI
//! uses for every file over 8 MiB).
//!
//! Invariant: a part is checked (number 1–10000, body digests) before it is stored, and an
//! upload completes only from parts that exist with the ETags the request names, in ascending
//! order, each but the last at least 5 MiB — S3's rules, with S3's errors.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use md5::{Digest as _, Md5};

use super::objects::{check_key, copy_source, stored_headers};
use super::{Request, S3, iso, xml_response};
use crate::s3::body;
use crate::s3::error::S3Error;
use crate::s3::xml::{self, NAMESPACE};

/// S3's highest part number.
const MAX_PART_NUMBER: u32 = 10_000;
/// Largest CompleteMultipartUpload body read (10,000 parts fit).
const MAX_COMPLETE_BYTES: usize = 4 * 1024 * 1024;

fn upload_id(request: &Request<'_>) -> String {
    request.param("uploadId").unwrap_or_default().to_owned()
}

fn part_number(request: &Request<'_>) -> Result<u32, S3Error> {
    let raw = request.param("partNumber").unwrap_or_default();
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}

impl S3 {
    pub(super) fn create_upload(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        check_key(request.key())?;
        let id = self.store.create_upload(
            request.bucket(),
            request.key(),
            stored_headers(request.headers),
            self.now(),
        )?;
        Ok(xml_response(&xml::InitiateMultipartUpload {
            xmlns: NAMESPACE,
            bucket: request.bucket().to_owned(),
            key: request.key().to_owned(),
            upload_id: id,
        }))
    }

    pub(super) async fn upload_part(
        &self,
        request: &Request<'_>,
        body: Body,
    ) -> Result<Response, S3Error> {
        let number = part_number(request)?;
        let (id, bucket, key) = (
            upload_id(request),
            request.bucket().to_owned(),
            request.key().to_owned(),
        );
        // Refuse an unknown upload before receiving its body.
        self.store.parts(&id, &bucket, &key)?;
        let copying = request.header("x-amz-copy-source").is_some();
        let (temp, size, md5) = if copying {
            self.copy_part(request).await?
        } else {
            let temp = self.store.temp_path();
            let received = body::receive(body, request.headers, &temp).await?;
            (temp, received.size, received.md5)
        };
        let now = self.now();
        let part = self
            .blocking(move |store| {
                store.put_part(&id, &bucket, &key, number, &temp, size, md5, now)
            })
            .await?;
        if copying {
            return Ok(xml_response(&xml::CopyPartResult {
                xmlns: NAMESPACE,
                last_modified: iso(part.modified),
                etag: part.etag,
            }));
        }
        let mut response = StatusCode::OK.into_response();
        if let Ok(etag) = HeaderValue::from_str(&part.etag) {
            response.headers_mut().insert("etag", etag);
        }
        response.headers_mut().insert(
            "x-amz-server-side-encryption",
            HeaderValue::from_static("AES256"),
        );
        Ok(response)
    }

    /// UploadPartCopy's body: the source object, or `x-amz-copy-source-range` of it, in a
    /// fresh temporary file, with its size and MD5.
    async fn copy_part(
        &self,
        request: &Request<'_>,
    ) -> Result<(std::path::PathBuf, u64, [u8; 16]), S3Error> {
        let (source_bucket, source_key) = copy_source(request)?;
        let range = request.header("x-amz-copy-source-range").map(str::to_owned);
        let temp = self.store.temp_path();
        self.blocking(move |store| {
            let (meta, mut file) = store.open_object(&source_bucket, &source_key)?;
            let (start, length) = match range {
                None => (0, meta.size),
                Some(raw) => copy_range(&raw, meta.size)?,
            };
            file.seek(SeekFrom::Start(start))?;
            let mut source = file.take(length);
            let mut out = std::fs::File::create(&temp)?;
            let mut digest = Md5::new();
            let mut buffer = vec![0u8; 256 * 1024];
            loop {
                let n = source.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                digest.update(&buffer[..n]);
                out.write_all(&buffer[..n])?;
            }
            Ok((temp, length, digest.finalize().into()))
        })
        .await
    }

    pub(super) fn list_parts(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let id = upload_id(request);
        let parts = self.store.parts(&id, request.bucket(), request.key())?;
        let marker = request
            .param("part-number-marker")
            .and_then(|m| m.parse::<u32>().ok())
            .unwrap_or(0);
        let max_parts = request
            .param("max-parts")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1000)
            .min(1000);
        let after: Vec<_> = parts.into_iter().filter(|p| p.number > marker).collect();
        let truncated = after.len() > max_parts;
        let page: Vec<_> = after.into_iter().take(max_parts).collect();
        Ok(xml_response(&xml::ListParts {
            xmlns: NAMESPACE,
            bucket: request.bucket().to_owned(),
            key: request.key().to_owned(),
            upload_id: id,
            part_number_marker: marker,
            next_part_number_marker: page.last().map_or(marker, |p| p.number),
            max_parts,
            is_truncated: truncated,
            parts: page
                .into_iter()
                .map(|p| xml::PartEntry {
                    part_number: p.number,
                    last_modified: iso(p.modified),
                    etag: p.etag,
                    size: p.size,
                })
                .collect(),
            initiator: self.owner(),
            owner: self.owner(),
            storage_class: "STANDARD",
        }))
    }

    pub(super) fn list_uploads(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let uploads = self.store.uploads(request.bucket())?;
        let prefix = request.param("prefix").unwrap_or_default();
        Ok(xml_response(&xml::ListMultipartUploads {
            xmlns: NAMESPACE,
            bucket: request.bucket().to_owned(),
            key_marker: String::new(),
            upload_id_marker: String::new(),
            max_uploads: 1000,
            is_truncated: false,
            uploads: uploads
                .into_iter()
                .filter(|u| u.key.starts_with(prefix))
                .take(1000)
                .map(|u| xml::UploadEntry {
                    key: u.key,
                    upload_id: u.id,
                    initiated: iso(u.initiated),
                    storage_class: "STANDARD",
                })
                .collect(),
        }))
    }

    pub(super) async fn abort_upload(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let (id, bucket, key) = (
            upload_id(request),
            request.bucket().to_owned(),
            request.key().to_owned(),
        );
        self.blocking(move |store| store.abort(&id, &bucket, &key))
            .await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    pub(super) async fn complete_upload(
        &self,
        request: &Request<'_>,
        body: Body,
    ) -> Result<Response, S3Error> {
        let (id, bucket, key) = (
            upload_id(request),
            request.bucket().to_owned(),
            request.key().to_owned(),
        );
        let body = to_bytes(body, MAX_COMPLETE_BYTES)
            .await
            .map_err(|_| S3Error::malformed_xml())?;
        let complete: xml::CompleteMultipartUpload =
            xml::parse(&body).ok_or_else(S3Error::malformed_xml)?;
        let named: Vec<(u32, String)> = complete
            .parts
            .into_iter()
            .map(|p| (p.part_number, p.etag))
            .collect();
        let now = self.now();
        let meta = {
            let (id, bucket, key) = (id.clone(), bucket.clone(), key.clone());
            self.blocking(move |store| store.complete(&id, &bucket, &key, &named, now))
                .await?
        };
        let host = request.header("host").unwrap_or("127.0.0.1");
        Ok(xml_response(&xml::CompleteMultipartUploadResult {
            xmlns: NAMESPACE,
            location: format!("http://{host}/{bucket}/{}", super::list::url_encode(&key)),
            bucket,
            key,
            etag: meta.etag.clone(),
        }))
    }
}

/// `x-amz-copy-source-range: bytes=first-last` against a source of `size` bytes.
fn copy_range(raw: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first \
             and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            raw,
        )
    };
    let (first, last) = raw
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(invalid)?;
    let (first, last) = (
        first.parse::<u64>().map_err(|_| invalid())?,
        last.parse::<u64>().map_err(|_| invalid())?,
    );
    if first > last {
        return Err(invalid());
    }
    if last >= size {
        return Err(S3Error::invalid_argument(
            &format!("Range specified is not valid for source object of size: {size}"),
            "x-amz-copy-source-range",
            raw,
        ));
    }
    Ok((first, last - first + 1))
}
