//! Listing a bucket: ListObjectsV2 and ListObjects (prefix, delimiter, common prefixes,
//! max-keys, continuation tokens, start-after and markers, `encoding-type=url`).
//!
//! Invariants: keys come in UTF-8 byte order, as S3's do; a key and a common prefix each count
//! once against max-keys; paging with the token (or NextMarker) a listing returned continues
//! exactly after its last entry, so paging lists every key once.

use std::sync::Arc;

use axum::response::Response;
use base64::Engine as _;

use super::{Request, S3, iso, xml_response};
use crate::s3::error::S3Error;
use crate::s3::store::ObjectMeta;
use crate::s3::xml::{self, NAMESPACE};

/// S3's default and largest max-keys.
const MAX_KEYS: usize = 1000;

/// One page of a listing.
#[derive(Debug, Default)]
pub(super) struct Page {
    pub objects: Vec<Arc<ObjectMeta>>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last entry returned (a key or a common prefix), where the next page starts after.
    pub last: Option<String>,
}

/// The page of `objects` under `prefix` after `after`, rolling keys up to common prefixes at
/// `delimiter`.
pub(super) fn page(
    objects: &std::collections::BTreeMap<String, Arc<ObjectMeta>>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> Page {
    use std::ops::Bound;
    let start = match after {
        Some(after) if after >= prefix => Bound::Excluded(after.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    let mut page = Page::default();
    let mut count = 0;
    for (key, meta) in objects.range((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let rolled = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            let rest = &key[prefix.len()..];
            rest.find(d).map(|i| &key[..prefix.len() + i + d.len()])
        });
        if let Some(common) = rolled
            && (page.prefixes.last().is_some_and(|p| p == common)
                || after.is_some_and(|a| common <= a))
        {
            continue;
        }
        if count == max {
            page.truncated = true;
            break;
        }
        count += 1;
        match rolled {
            Some(common) => {
                page.prefixes.push(common.to_owned());
                page.last = Some(common.to_owned());
            }
            None => {
                page.objects.push(Arc::clone(meta));
                page.last = Some(key.clone());
            }
        }
    }
    page
}

/// S3's `encoding-type=url`: every byte but unreserved ones and `/` percent-encoded, a space
/// as `+` (botocore and the AWS CLI decode it with `unquote_plus`).
pub(super) fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct Listing {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    encode: bool,
}

fn listing(request: &Request<'_>) -> Result<Listing, S3Error> {
    let max_keys = match request.param("max-keys") {
        None => MAX_KEYS,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    v,
                )
            })?
            .min(MAX_KEYS as i64) as usize,
    };
    let encode = match request.param("encoding-type") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("url") => true,
        Some(v) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                v,
            ));
        }
    };
    Ok(Listing {
        prefix: request.param("prefix").unwrap_or_default().to_owned(),
        delimiter: request
            .param("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        max_keys,
        encode,
    })
}

impl Listing {
    fn text(&self, value: &str) -> String {
        if self.encode {
            url_encode(value)
        } else {
            value.to_owned()
        }
    }
}

impl S3 {
    fn entries(&self, listing: &Listing, page: &Page, owner: bool) -> Vec<xml::ObjectEntry> {
        page.objects
            .iter()
            .map(|meta| xml::ObjectEntry {
                key: listing.text(&meta.key),
                last_modified: iso(meta.modified),
                etag: meta.etag.clone(),
                size: meta.size,
                owner: owner.then(|| self.owner()),
                storage_class: "STANDARD",
            })
            .collect()
    }

    pub(super) fn list_v2(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let listing = listing(request)?;
        let token = request.param("continuation-token");
        let after = match token {
            Some(token) => Some(decode_token(token).ok_or_else(|| {
                S3Error::invalid_argument(
                    "The continuation token provided is incorrect",
                    "continuation-token",
                    token,
                )
            })?),
            None => request.param("start-after").map(str::to_owned),
        };
        let page = self.store.with_objects(request.bucket(), |objects| {
            page(
                objects,
                &listing.prefix,
                listing.delimiter.as_deref(),
                after.as_deref(),
                listing.max_keys,
            )
        })?;
        let owner = request.param("fetch-owner") == Some("true");
        Ok(xml_response(&xml::ListBucketV2 {
            xmlns: NAMESPACE,
            name: request.bucket().to_owned(),
            prefix: listing.text(&listing.prefix),
            delimiter: listing.delimiter.as_deref().map(|d| listing.text(d)),
            max_keys: listing.max_keys,
            encoding_type: listing.encode.then_some("url"),
            key_count: page.objects.len() + page.prefixes.len(),
            is_truncated: page.truncated,
            continuation_token: token.map(str::to_owned),
            next_continuation_token: page
                .truncated
                .then(|| page.last.as_deref().map(encode_token))
                .flatten(),
            start_after: request.param("start-after").map(|s| listing.text(s)),
            contents: self.entries(&listing, &page, owner),
            common_prefixes: page
                .prefixes
                .iter()
                .map(|p| xml::CommonPrefix {
                    prefix: listing.text(p),
                })
                .collect(),
        }))
    }

    pub(super) fn list_v1(&self, request: &Request<'_>) -> Result<Response, S3Error> {
        let listing = listing(request)?;
        let marker = request.param("marker").unwrap_or_default().to_owned();
        let page = self.store.with_objects(request.bucket(), |objects| {
            let after = (!marker.is_empty()).then_some(marker.as_str());
            page(
                objects,
                &listing.prefix,
                listing.delimiter.as_deref(),
                after,
                listing.max_keys,
            )
        })?;
        // S3 returns NextMarker only when a delimiter was given.
        let next_marker = (page.truncated && listing.delimiter.is_some())
            .then(|| page.last.as_deref().map(|l| listing.text(l)))
            .flatten();
        Ok(xml_response(&xml::ListBucketV1 {
            xmlns: NAMESPACE,
            name: request.bucket().to_owned(),
            prefix: listing.text(&listing.prefix),
            marker: listing.text(&marker),
            next_marker,
            delimiter: listing.delimiter.as_deref().map(|d| listing.text(d)),
            max_keys: listing.max_keys,
            encoding_type: listing.encode.then_some("url"),
            is_truncated: page.truncated,
            contents: self.entries(&listing, &page, true),
            common_prefixes: page
                .prefixes
                .iter()
                .map(|p| xml::CommonPrefix {
                    prefix: listing.text(p),
                })
                .collect(),
        }))
    }
}

/// A continuation token: the last entry, base64 (opaque to clients, as S3's are).
fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(last.as_bytes())
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes).ok()
}
