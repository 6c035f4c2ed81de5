//! aws-sdk-s3 against the emulator's S3: Riffle's own client settings and the SDK's defaults
//! (which send bodies `aws-chunked` with a trailing CRC32), objects with ranges, listings with
//! paging, copies, batch deletes, multipart uploads, S3's errors, and durability across a
//! restart and a `kill -9`.

use std::process::Stdio;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use riffle_emulator::{Config, Emulator};

/// Riffle's S3 client (checksums only when required, bodies sent as they are).
fn riffle_client(endpoint: &str) -> Client {
    riffle_aws::Clients::new(endpoint, "us-east-1").s3()
}

/// The SDK as a user configures it: path-style, every default (CRC32 checksums, aws-chunked).
fn default_client(endpoint: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKID", "secret", None, None, "test",
        ))
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

async fn body(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_round_trip_with_either_client_configuration() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let endpoint = emulator.endpoint_url();
    for (name, client) in [
        ("riffle", riffle_client(&endpoint)),
        ("default", default_client(&endpoint)),
    ] {
        let bucket = format!("bucket-{name}");
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let put = client
            .put_object()
            .bucket(&bucket)
            .key("dir/data.bin")
            .content_type("application/octet-stream")
            .metadata("origin", name)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let etag = put.e_tag().unwrap().to_owned();
        assert_eq!(
            etag,
            format!("\"{}\"", riffle_core::digest::md5_hex(&data)),
            "{name}"
        );
        assert_eq!(body(&client, &bucket, "dir/data.bin").await, data, "{name}");
        let ranged = client
            .get_object()
            .bucket(&bucket)
            .key("dir/data.bin")
            .range("bytes=10-19")
            .send()
            .await
            .unwrap();
        assert_eq!(ranged.content_range(), Some("bytes 10-19/100000"));
        assert_eq!(
            ranged.body.collect().await.unwrap().into_bytes().as_ref(),
            &data[10..20]
        );
        let head = client
            .head_object()
            .bucket(&bucket)
            .key("dir/data.bin")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(100_000));
        assert_eq!(head.e_tag(), Some(etag.as_str()));
        assert_eq!(
            head.metadata()
                .and_then(|m| m.get("origin"))
                .map(String::as_str),
            Some(name)
        );
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_page_copies_and_deletes_as_s3_does() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let client = default_client(&emulator.endpoint_url());
    client.create_bucket().bucket("logs").send().await.unwrap();
    let mut keys = Vec::new();
    for hour in 0..3 {
        for n in 0..5 {
            let key = format!("2026/12/04/0{hour}/stream-{n}");
            client
                .put_object()
                .bucket("logs")
                .key(&key)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
                .unwrap();
            keys.push(key);
        }
    }
    let mut pages = client
        .list_objects_v2()
        .bucket("logs")
        .max_keys(4)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        page_count += 1;
        listed.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
    }
    assert_eq!(listed, keys);
    assert_eq!(page_count, 4);
    let hours = client
        .list_objects_v2()
        .bucket("logs")
        .prefix("2026/12/04/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = hours
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(
        prefixes,
        ["2026/12/04/00/", "2026/12/04/01/", "2026/12/04/02/"]
    );
    assert_eq!(hours.key_count(), Some(3));

    client
        .copy_object()
        .bucket("logs")
        .key("copy")
        .copy_source("logs/2026/12/04/00/stream-0")
        .send()
        .await
        .unwrap();
    assert_eq!(body(&client, "logs", "copy").await, b"x");

    let identifiers: Vec<ObjectIdentifier> = listed
        .iter()
        .chain(std::iter::once(&"copy".to_owned()))
        .map(|k| ObjectIdentifier::builder().key(k).build().unwrap())
        .collect();
    let deleted = client
        .delete_objects()
        .bucket("logs")
        .delete(
            Delete::builder()
                .set_objects(Some(identifiers))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted().len(), 16);
    let empty = client
        .list_objects_v2()
        .bucket("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.key_count(), Some(0));
    client.delete_bucket().bucket("logs").send().await.unwrap();
    let gone = client
        .head_bucket()
        .bucket("logs")
        .send()
        .await
        .unwrap_err();
    assert!(
        gone.as_service_error().is_some_and(|e| e.is_not_found()),
        "{gone:?}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_errors_reach_the_sdk_as_s3s_codes() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let client = default_client(&emulator.endpoint_url());
    let missing = client
        .get_object()
        .bucket("nobucket")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e)),
        Some("NoSuchBucket")
    );
    client.create_bucket().bucket("errs").send().await.unwrap();
    let no_key = client
        .get_object()
        .bucket("errs")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert!(
        no_key
            .as_service_error()
            .is_some_and(|e| e.is_no_such_key()),
        "{no_key:?}"
    );
    client
        .put_object()
        .bucket("errs")
        .key("k")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .unwrap();
    let range = client
        .get_object()
        .bucket("errs")
        .key("k")
        .range("bytes=5-9")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        range
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e)),
        Some("InvalidRange")
    );
    let not_empty = client
        .delete_bucket()
        .bucket("errs")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        not_empty
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e)),
        Some("BucketNotEmpty")
    );
    let conditional = client
        .put_object()
        .bucket("errs")
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"new"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        conditional
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e)),
        Some("PreconditionFailed")
    );
    assert_eq!(body(&client, "errs", "k").await, b"abc");
    emulator.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_through_the_sdk_has_s3s_etag() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let client = default_client(&emulator.endpoint_url());
    client.create_bucket().bucket("big").send().await.unwrap();
    let upload = client
        .create_multipart_upload()
        .bucket("big")
        .key("file")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let parts: Vec<Vec<u8>> = vec![vec![1u8; 5 * 1024 * 1024], vec![2u8; 1000]];
    let mut completed = Vec::new();
    let mut md5s = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        let out = client
            .upload_part()
            .bucket("big")
            .key("file")
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        md5s.extend(hex_bytes(&riffle_core::digest::md5_hex(data)));
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let done = client
        .complete_multipart_upload()
        .bucket("big")
        .key("file")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.e_tag(),
        Some(format!("\"{}-2\"", riffle_core::digest::md5_hex(&md5s)).as_str())
    );
    let stored = body(&client, "big", "file").await;
    assert_eq!(stored.len(), 5 * 1024 * 1024 + 1000);
    assert_eq!(stored, parts.concat());
    emulator.shutdown().await.unwrap();
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_objects_survive_a_restart_and_kill_dash_nine() {
    let dir = tempfile_dir();
    {
        let emulator = Emulator::start(Config {
            data_dir: Some(dir.clone()),
            ..Config::default()
        })
        .await
        .unwrap();
        let client = default_client(&emulator.endpoint_url());
        client.create_bucket().bucket("kept").send().await.unwrap();
        client
            .put_object()
            .bucket("kept")
            .key("clean")
            .body(ByteStream::from_static(b"stopped"))
            .send()
            .await
            .unwrap();
        emulator.shutdown().await.unwrap();
    }
    let (mut child, endpoint) = crate::support::cli::spawn_emulator(&dir, Stdio::null());
    let client = default_client(&endpoint);
    assert_eq!(body(&client, "kept", "clean").await, b"stopped");
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let key = format!("k{i}");
        client
            .put_object()
            .bucket("kept")
            .key(&key)
            .body(ByteStream::from(format!("v{i}").into_bytes()))
            .send()
            .await
            .unwrap();
        acknowledged.push(key);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, endpoint) = crate::support::cli::spawn_emulator(&dir, Stdio::null());
    let client = default_client(&endpoint);
    for (i, key) in acknowledged.iter().enumerate() {
        assert_eq!(
            body(&client, "kept", key).await,
            format!("v{i}").into_bytes()
        );
    }
    let listed = client
        .list_objects_v2()
        .bucket("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(51));
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("riffle-e2e-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    path
}
