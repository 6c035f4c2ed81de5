//! S3's XML bodies, typed: every response document the API writes and every request document it
//! reads, through serde and quick-xml.
//!
//! Invariant: element names and order are S3's (the SDKs' parsers are lenient about order, the
//! AWS CLI's are not about names); a response carries S3's namespace; optional elements that
//! are absent are left out rather than written empty.

use serde::{Deserialize, Serialize};

/// S3's XML namespace.
pub(crate) const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Serializes `value` as a document with the XML declaration S3 writes.
pub(crate) fn document<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Our types contain only strings, numbers and booleans: serializing cannot fail.
    quick_xml::se::to_writer(&mut out, value).expect("S3 response types serialize");
    out.into_bytes()
}

/// Reads a request document; `None` if it is not well-formed or not of this shape.
pub(crate) fn parse<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Option<T> {
    let text = std::str::from_utf8(body).ok()?;
    quick_xml::de::from_str(text).ok()
}

/// An object's or a bucket's owner.
#[derive(Debug, Serialize)]
pub(crate) struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "DisplayName")]
    pub display_name: String,
}

/// ListBuckets.
#[derive(Debug, Serialize)]
#[serde(rename = "ListAllMyBucketsResult")]
pub(crate) struct ListAllMyBuckets {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Owner")]
    pub owner: Owner,
    #[serde(rename = "Buckets")]
    pub buckets: Buckets,
}

/// The `Buckets` element of ListBuckets.
#[derive(Debug, Serialize)]
pub(crate) struct Buckets {
    #[serde(rename = "Bucket")]
    pub bucket: Vec<BucketEntry>,
}

/// One bucket of ListBuckets.
#[derive(Debug, Serialize)]
pub(crate) struct BucketEntry {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "CreationDate")]
    pub creation_date: String,
    #[serde(rename = "BucketRegion")]
    pub bucket_region: String,
}

/// GetBucketLocation (empty for us-east-1, as S3 answers).
#[derive(Debug, Serialize)]
#[serde(rename = "LocationConstraint")]
pub(crate) struct Location {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "$text")]
    pub region: String,
}

/// GetBucketVersioning of a bucket that was never versioned: an empty configuration.
#[derive(Debug, Serialize)]
#[serde(rename = "VersioningConfiguration")]
pub(crate) struct Versioning {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
}

/// CreateBucket's optional body.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateBucketConfiguration {
    #[serde(rename = "LocationConstraint")]
    pub location_constraint: Option<String>,
}

/// One object of a listing.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectEntry {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "LastModified")]
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "Size")]
    pub size: u64,
    #[serde(rename = "Owner", skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    #[serde(rename = "StorageClass")]
    pub storage_class: &'static str,
}

/// One common prefix of a listing.
#[derive(Debug, Serialize)]
pub(crate) struct CommonPrefix {
    #[serde(rename = "Prefix")]
    pub prefix: String,
}

/// ListObjectsV2.
#[derive(Debug, Serialize)]
#[serde(rename = "ListBucketResult")]
pub(crate) struct ListBucketV2 {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Prefix")]
    pub prefix: String,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(rename = "MaxKeys")]
    pub max_keys: usize,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    #[serde(rename = "KeyCount")]
    pub key_count: usize,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "ContinuationToken", skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(
        rename = "NextContinuationToken",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_continuation_token: Option<String>,
    #[serde(rename = "StartAfter", skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(rename = "Contents")]
    pub contents: Vec<ObjectEntry>,
    #[serde(rename = "CommonPrefixes")]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// ListObjects (version 1).
#[derive(Debug, Serialize)]
#[serde(rename = "ListBucketResult")]
pub(crate) struct ListBucketV1 {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Prefix")]
    pub prefix: String,
    #[serde(rename = "Marker")]
    pub marker: String,
    #[serde(rename = "NextMarker", skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(rename = "MaxKeys")]
    pub max_keys: usize,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "Contents")]
    pub contents: Vec<ObjectEntry>,
    #[serde(rename = "CommonPrefixes")]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// CopyObject.
#[derive(Debug, Serialize)]
#[serde(rename = "CopyObjectResult")]
pub(crate) struct CopyObjectResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "LastModified")]
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// UploadPartCopy.
#[derive(Debug, Serialize)]
#[serde(rename = "CopyPartResult")]
pub(crate) struct CopyPartResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "LastModified")]
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// DeleteObjects' request.
#[derive(Debug, Deserialize)]
pub(crate) struct Delete {
    #[serde(rename = "Quiet", default)]
    pub quiet: bool,
    #[serde(rename = "Object", default)]
    pub objects: Vec<DeleteTarget>,
}

/// One key of a DeleteObjects request.
#[derive(Debug, Deserialize)]
pub(crate) struct DeleteTarget {
    #[serde(rename = "Key")]
    pub key: String,
}

/// DeleteObjects' answer.
#[derive(Debug, Serialize)]
#[serde(rename = "DeleteResult")]
pub(crate) struct DeleteResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Deleted")]
    pub deleted: Vec<Deleted>,
    #[serde(rename = "Error")]
    pub errors: Vec<DeleteError>,
}

/// A key DeleteObjects deleted.
#[derive(Debug, Serialize)]
pub(crate) struct Deleted {
    #[serde(rename = "Key")]
    pub key: String,
}

/// A key DeleteObjects could not delete.
#[derive(Debug, Serialize)]
pub(crate) struct DeleteError {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Code")]
    pub code: &'static str,
    #[serde(rename = "Message")]
    pub message: String,
}

/// CreateMultipartUpload.
#[derive(Debug, Serialize)]
#[serde(rename = "InitiateMultipartUploadResult")]
pub(crate) struct InitiateMultipartUpload {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Bucket")]
    pub bucket: String,
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "UploadId")]
    pub upload_id: String,
}

/// CompleteMultipartUpload's request.
#[derive(Debug, Deserialize)]
pub(crate) struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
}

/// One part named in CompleteMultipartUpload.
#[derive(Debug, Deserialize)]
pub(crate) struct CompletedPart {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// CompleteMultipartUpload's answer.
#[derive(Debug, Serialize)]
#[serde(rename = "CompleteMultipartUploadResult")]
pub(crate) struct CompleteMultipartUploadResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Location")]
    pub location: String,
    #[serde(rename = "Bucket")]
    pub bucket: String,
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// ListParts.
#[derive(Debug, Serialize)]
#[serde(rename = "ListPartsResult")]
pub(crate) struct ListParts {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Bucket")]
    pub bucket: String,
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "UploadId")]
    pub upload_id: String,
    #[serde(rename = "PartNumberMarker")]
    pub part_number_marker: u32,
    #[serde(rename = "NextPartNumberMarker")]
    pub next_part_number_marker: u32,
    #[serde(rename = "MaxParts")]
    pub max_parts: usize,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "Part")]
    pub parts: Vec<PartEntry>,
    #[serde(rename = "Initiator")]
    pub initiator: Owner,
    #[serde(rename = "Owner")]
    pub owner: Owner,
    #[serde(rename = "StorageClass")]
    pub storage_class: &'static str,
}

/// One part of ListParts.
#[derive(Debug, Serialize)]
pub(crate) struct PartEntry {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "LastModified")]
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "Size")]
    pub size: u64,
}

/// ListMultipartUploads.
#[derive(Debug, Serialize)]
#[serde(rename = "ListMultipartUploadsResult")]
pub(crate) struct ListMultipartUploads {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Bucket")]
    pub bucket: String,
    #[serde(rename = "KeyMarker")]
    pub key_marker: String,
    #[serde(rename = "UploadIdMarker")]
    pub upload_id_marker: String,
    #[serde(rename = "MaxUploads")]
    pub max_uploads: usize,
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    #[serde(rename = "Upload")]
    pub uploads: Vec<UploadEntry>,
}

/// One upload of ListMultipartUploads.
#[derive(Debug, Serialize)]
pub(crate) struct UploadEntry {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "UploadId")]
    pub upload_id: String,
    #[serde(rename = "Initiated")]
    pub initiated: String,
    #[serde(rename = "StorageClass")]
    pub storage_class: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_written_with_s3s_names_and_namespace() {
        let body = document(&ListBucketV2 {
            xmlns: NAMESPACE,
            name: "logs".into(),
            prefix: "a/".into(),
            delimiter: Some("/".into()),
            max_keys: 1000,
            encoding_type: None,
            key_count: 2,
            is_truncated: false,
            continuation_token: None,
            next_continuation_token: None,
            start_after: None,
            contents: vec![ObjectEntry {
                key: "a/b&c".into(),
                last_modified: "2026-12-04T00:00:00.000Z".into(),
                etag: "\"x\"".into(),
                size: 3,
                owner: None,
                storage_class: "STANDARD",
            }],
            common_prefixes: vec![CommonPrefix {
                prefix: "a/d/".into(),
            }],
        });
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"), "{text}");
        assert!(text.contains("<Contents><Key>a/b&amp;c</Key><LastModified>2026-12-04T00:00:00.000Z</LastModified>"), "{text}");
        assert!(
            text.contains("<CommonPrefixes><Prefix>a/d/</Prefix></CommonPrefixes>"),
            "{text}"
        );
        assert!(text.contains("<IsTruncated>false</IsTruncated>"), "{text}");
        assert!(!text.contains("ContinuationToken"), "{text}");
    }

    #[test]
    fn a_complete_request_is_read_with_its_namespace_and_unknown_elements() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><ChecksumCRC32>x</ChecksumCRC32><PartNumber>1</PartNumber></Part><Part><ETag>"b"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let parsed: CompleteMultipartUpload = parse(body).unwrap();
        assert_eq!(parsed.parts.len(), 2);
        assert_eq!(parsed.parts[1].part_number, 2);
        assert_eq!(parsed.parts[0].etag, "\"a\"");
        assert!(parse::<CompleteMultipartUpload>(b"<CompleteMultipartUpload><Part>").is_none());
    }

    #[test]
    fn a_delete_request_is_read_quiet_or_not() {
        let body = b"<Delete><Object><Key>a</Key></Object><Object><Key>b c</Key></Object><Quiet>true</Quiet></Delete>";
        let parsed: Delete = parse(body).unwrap();
        assert!(parsed.quiet);
        assert_eq!(parsed.objects.len(), 2);
        assert_eq!(parsed.objects[1].key, "b c");
    }
}
