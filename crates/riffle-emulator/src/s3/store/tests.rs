use std::io::Write as _;

use super::multipart::read_all;
use super::*;

fn object(
    store: &Store,
    bucket: &str,
    key: &str,
    body: &[u8],
    now: Millis,
) -> Result<Arc<ObjectMeta>, S3Error> {
    let temp = store.temp_path();
    File::create(&temp).unwrap().write_all(body).unwrap();
    store.commit(
        bucket,
        NewObject {
            key: key.into(),
            size: body.len() as u64,
            etag: format!("\"{}\"", riffle_core::digest::md5_hex(body)),
            headers: StoredHeaders::default(),
            parts: None,
        },
        &temp,
        &WriteCondition::default(),
        now,
    )
}

fn body(store: &Store, bucket: &str, key: &str) -> Vec<u8> {
    read_all(store.open_object(bucket, key).unwrap().1).unwrap()
}

#[test]
fn objects_and_buckets_survive_reopening_and_crash_leftovers_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(Some(dir.path())).unwrap();
        assert!(store.create_bucket("logs", "us-east-1", 5).unwrap());
        assert!(!store.create_bucket("logs", "us-east-1", 6).unwrap());
        object(&store, "logs", "a/1", b"one", 10).unwrap();
        object(&store, "logs", "a/1", b"uno", 11).unwrap();
        object(&store, "logs", "b", b"two", 12).unwrap();
        store.delete_object("logs", "b").unwrap();
        // A body received but never committed, and a data file no metadata names.
        File::create(store.temp_path())
            .unwrap()
            .write_all(b"partial")
            .unwrap();
        File::create(dir.path().join("data/orphan")).unwrap();
    }
    let store = Store::open(Some(dir.path())).unwrap();
    assert_eq!(
        store.buckets(),
        vec![BucketInfo {
            name: "logs".into(),
            created: 5,
            region: "us-east-1".into()
        }]
    );
    assert_eq!(body(&store, "logs", "a/1"), b"uno");
    assert_eq!(store.head("logs", "a/1").unwrap().modified, 11);
    assert_eq!(store.head("logs", "b").unwrap_err().code, S3Code::NoSuchKey);
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    // Exactly one data file: the live object's (the overwritten, deleted and orphaned are gone).
    assert_eq!(fs::read_dir(dir.path().join("data")).unwrap().count(), 1);
}

#[test]
fn a_reader_keeps_the_object_it_opened_while_it_is_overwritten_and_deleted() {
    let store = Store::open(None).unwrap();
    store.create_bucket("b", "us-east-1", 0).unwrap();
    object(&store, "b", "k", b"first", 1).unwrap();
    let (meta, file) = store.open_object("b", "k").unwrap();
    object(&store, "b", "k", b"second", 2).unwrap();
    store.delete_object("b", "k").unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(read_all(file).unwrap(), b"first");
}

#[test]
fn write_conditions_are_checked_against_the_current_object() {
    let store = Store::open(None).unwrap();
    store.create_bucket("b", "us-east-1", 0).unwrap();
    let first = object(&store, "b", "k", b"x", 1).unwrap();
    let temp = store.temp_path();
    File::create(&temp).unwrap();
    let new = NewObject {
        key: "k".into(),
        size: 0,
        etag: "\"e\"".into(),
        headers: StoredHeaders::default(),
        parts: None,
    };
    let absent = WriteCondition {
        absent: true,
        etag: None,
    };
    let refused = store
        .commit("b", new.clone(), &temp, &absent, 2)
        .unwrap_err();
    assert_eq!(refused.code, S3Code::PreconditionFailed);
    assert!(!temp.exists(), "a refused body is removed");
    let temp = store.temp_path();
    File::create(&temp).unwrap();
    let matching = WriteCondition {
        absent: false,
        etag: Some(first.etag.clone()),
    };
    store.commit("b", new, &temp, &matching, 2).unwrap();
    assert_eq!(store.head("b", "k").unwrap().etag, "\"e\"");
}

#[test]
fn a_bucket_with_objects_cannot_be_deleted_and_an_empty_one_goes_with_its_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path())).unwrap();
    store.create_bucket("b", "us-east-1", 0).unwrap();
    object(&store, "b", "k", b"x", 1).unwrap();
    assert_eq!(
        store.delete_bucket("b").unwrap_err().code,
        S3Code::BucketNotEmpty
    );
    store.delete_object("b", "k").unwrap();
    let upload = store
        .create_upload("b", "big", StoredHeaders::default(), 2)
        .unwrap();
    store.delete_bucket("b").unwrap();
    assert!(store.buckets().is_empty());
    assert_eq!(
        store.delete_bucket("b").unwrap_err().code,
        S3Code::NoSuchBucket
    );
    assert!(!dir.path().join("uploads").join(&upload).exists());
    drop(store);
    assert!(Store::open(Some(dir.path())).unwrap().buckets().is_empty());
}

fn part(store: &Store, id: &str, number: u32, body: &[u8]) -> PartMeta {
    use md5::Digest as _;
    let temp = store.temp_path();
    File::create(&temp).unwrap().write_all(body).unwrap();
    let md5: [u8; 16] = md5::Md5::digest(body).into();
    store
        .put_part(id, "b", "big", number, &temp, body.len() as u64, md5, 3)
        .unwrap()
}

#[test]
fn a_multipart_upload_completes_from_its_named_parts_with_s3s_etag() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path())).unwrap();
    store.create_bucket("b", "us-east-1", 0).unwrap();
    let id = store
        .create_upload("b", "big", StoredHeaders::default(), 1)
        .unwrap();
    let big = vec![7u8; MIN_PART_BYTES as usize];
    part(&store, &id, 1, b"too small");
    let one = part(&store, &id, 1, &big); // uploaded again: replaces the first attempt
    let two = part(&store, &id, 2, b"tail");
    // Survives a restart mid-upload.
    drop(store);
    let store = Store::open(Some(dir.path())).unwrap();
    assert_eq!(
        store.parts(&id, "b", "big").unwrap(),
        vec![one.clone(), two.clone()]
    );
    let reversed = [(2, two.etag.clone()), (1, one.etag.clone())];
    assert_eq!(
        store
            .complete(&id, "b", "big", &reversed, 4)
            .unwrap_err()
            .code,
        S3Code::InvalidPartOrder
    );
    let wrong = [(1, one.etag.clone()), (2, "\"nope\"".to_owned())];
    assert_eq!(
        store.complete(&id, "b", "big", &wrong, 4).unwrap_err().code,
        S3Code::InvalidPart
    );
    let meta = store
        .complete(
            &id,
            "b",
            "big",
            &[(1, one.etag.clone()), (2, two.etag.clone())],
            4,
        )
        .unwrap();
    let mut both = one.md5.to_vec();
    both.extend_from_slice(&two.md5);
    assert_eq!(
        meta.etag,
        format!("\"{}-2\"", riffle_core::digest::md5_hex(&both))
    );
    assert_eq!(meta.size, big.len() as u64 + 4);
    let stored = body(&store, "b", "big");
    assert_eq!(&stored[..big.len()], &big[..]);
    assert_eq!(&stored[big.len()..], b"tail");
    assert_eq!(
        store.parts(&id, "b", "big").unwrap_err().code,
        S3Code::NoSuchUpload
    );
    assert!(!dir.path().join("uploads").join(&id).exists());
}

#[test]
fn a_small_part_before_the_last_is_too_small() {
    let store = Store::open(None).unwrap();
    store.create_bucket("b", "us-east-1", 0).unwrap();
    let id = store
        .create_upload("b", "big", StoredHeaders::default(), 1)
        .unwrap();
    let one = part(&store, &id, 1, b"small");
    let two = part(&store, &id, 2, b"tail");
    let error = store
        .complete(&id, "b", "big", &[(1, one.etag), (2, two.etag)], 2)
        .unwrap_err();
    assert_eq!(error.code, S3Code::EntityTooSmall);
    store.abort(&id, "b", "big").unwrap();
    assert_eq!(
        store.abort(&id, "b", "big").unwrap_err().code,
        S3Code::NoSuchUpload
    );
}

#[test]
fn etag_conditions_accept_lists_quotes_and_the_wildcard() {
    assert!(etag_matches("\"abc\"", "\"abc\""));
    assert!(etag_matches("abc", "\"abc\""));
    assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
    assert!(etag_matches("*", "\"abc\""));
    assert!(!etag_matches("\"abd\"", "\"abc\""));
}
