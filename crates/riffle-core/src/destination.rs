//! On-failure destinations of stream mappings: which kind of destination an ARN names, and where
//! an S3 destination's failure records go.
//!
//! Invariant: an S3 failure record's object key is a pure function of the mapping and the record
//! (AWS's layout, with the random part derived from the record), so delivering the same record
//! again — after a failed or unacknowledged attempt — overwrites one object instead of leaving two.

use md5::{Digest, Md5};

use crate::time::{Millis, iso8601_millis};

/// The kinds of on-failure destination Riffle delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    /// An SQS queue: the failure record is the message body.
    Sqs,
    /// An S3 bucket: the failure record plus the invocation's records, one object per record.
    S3,
}

impl DestinationKind {
    /// The kind `arn` names (`arn:aws:sqs:…`, `arn:aws:s3:::bucket`), if Riffle delivers to it.
    pub fn of(arn: &str) -> Option<Self> {
        let mut parts = arn.split(':');
        if parts.next()? != "arn" || !parts.next()?.starts_with("aws") {
            return None;
        }
        match parts.next()? {
            "sqs" => Some(Self::Sqs),
            "s3" => s3_bucket(arn).map(|_| Self::S3),
            _ => None,
        }
    }
}

/// The bucket an S3 bucket ARN (`arn:aws:s3:::name`) names: no region, no account, a name of
/// S3's bucket-name characters and nothing after it (an object ARN is not a destination).
pub fn s3_bucket(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (partition.starts_with("aws")
        && service == "s3"
        && region.is_empty()
        && account.is_empty()
        && bucket_name_refusal(name).is_none())
    .then_some(name)
}

/// Why S3 refuses `name` as a bucket name (its general-purpose bucket rules), or `None`: 3 to 63
/// lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, no
/// two adjacent dots, not shaped like an IP address, not `xn--…`, `sthree-…`, `…-s3alias` or
/// `…--ol-s3`.
pub fn bucket_name_refusal(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Some("Bucket names must be between 3 (min) and 63 (max) characters long.");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
    {
        return Some(
            "Bucket names can consist only of lowercase letters, numbers, periods (.), and \
             hyphens (-).",
        );
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(bytes[0]) || !edge(bytes[bytes.len() - 1]) {
        return Some("Bucket names must begin and end with a letter or number.");
    }
    if name.contains("..") {
        return Some("Bucket names must not contain two adjacent periods.");
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Some("Bucket names must not be formatted as an IP address.");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") {
        return Some("Bucket names must not start with the prefix xn-- or sthree-.");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Some("Bucket names must not end with the suffix -s3alias or --ol-s3.");
    }
    None
}

/// The object key AWS gives a stream mapping's failure record in an S3 destination:
/// `aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`, dated by the
/// record's timestamp (UTC). `identity` is what makes the record unique (its batch's shard and
/// sequence range); the trailing UUID is derived from it rather than drawn at random.
pub fn s3_failure_key(mapping_id: &str, shard_id: &str, at: Millis, identity: &[&str]) -> String {
    let time = iso8601_millis(at);
    let (date, clock) = (&time[..10], &time[11..19]);
    let mut digest = Md5::new();
    for part in std::iter::once(mapping_id).chain(identity.iter().copied()) {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    digest.update(at.to_le_bytes());
    format!(
        "aws/lambda/{mapping_id}/{shard_id}/{}/{date}T{}-{}",
        date.replace('-', "/"),
        clock.replace(':', "."),
        uuid_v4_shape(digest.finalize().into())
    )
}

/// Sixteen bytes written as a version-4 UUID (the version and variant bits set): how Riffle
/// derives the "random" UUIDs AWS draws, so retried deliveries keep their names.
pub fn uuid_v4_shape(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_kind() {
        assert_eq!(
            DestinationKind::of("arn:aws:sqs:us-east-1:000000000000:dlq"),
            Some(DestinationKind::Sqs)
        );
        assert_eq!(
            DestinationKind::of("arn:aws:s3:::failed-batches"),
            Some(DestinationKind::S3)
        );
        for not_one in [
            "arn:aws:sns:us-east-1:000000000000:topic",
            "arn:aws:s3:::failed-batches/key",
            "arn:aws:s3:us-east-1::bucket",
            "arn:aws:s3:::Upper",
            "arn:aws:s3:::ab",
            "s3://bucket",
        ] {
            assert_eq!(DestinationKind::of(not_one), None, "{not_one}");
        }
        assert_eq!(
            s3_bucket("arn:aws:s3:::failed.batches-1"),
            Some("failed.batches-1")
        );
    }

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for good in ["abc", "my-bucket.logs", "a1-b2", &"a".repeat(63)] {
            assert_eq!(bucket_name_refusal(good), None, "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "under_score",
            "-edge",
            "edge.",
            "two..dots",
            "192.168.5.4",
            "xn--punycode",
            "data-s3alias",
        ] {
            assert!(bucket_name_refusal(bad).is_some(), "{bad}");
        }
        assert_eq!(s3_bucket("arn:aws:s3:::192.168.5.4"), None);
    }

    #[test]
    fn the_key_follows_aws_layout_and_is_stable() {
        let at = 1_764_088_501_512; // 2025-11-25T16:35:01.512Z
        let key = s3_failure_key("14e0db71", "shardId-000000000003", at, &["1", "2"]);
        let prefix = "aws/lambda/14e0db71/shardId-000000000003/2025/11/25/2025-11-25T16.35.01-";
        assert!(key.starts_with(prefix), "{key}");
        let uuid = &key[prefix.len()..];
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4", "version 4: {uuid}");
        assert!("89ab".contains(&uuid[19..20]), "RFC 4122 variant: {uuid}");
        assert_eq!(
            key,
            s3_failure_key("14e0db71", "shardId-000000000003", at, &["1", "2"])
        );
        assert_ne!(
            key,
            s3_failure_key("14e0db71", "shardId-000000000003", at, &["1", "3"])
        );
        // The identity's parts are length-prefixed: moving a boundary changes the key.
        assert_ne!(
            s3_failure_key("m", "s", at, &["12", "3"]),
            s3_failure_key("m", "s", at, &["1", "23"])
        );
    }
}
