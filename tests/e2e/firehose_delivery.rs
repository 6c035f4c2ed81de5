//! Delivery streams delivering, through the `riffle emulator` binary: records put with
//! PutRecordBatch reach the emulator's S3 under Firehose's key layout, a Kinesis-source stream
//! delivers what its stream is given, and a transformation that cannot run (no functions under
//! `riffle emulator`) sends its records to `processing-failed/` in Firehose's error format.

use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_firehose::Client;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, DeliveryStreamStatus, DeliveryStreamType, ExtendedS3DestinationConfiguration,
    KinesisStreamSourceConfiguration, ProcessingConfiguration, Processor, ProcessorParameter,
    ProcessorParameterName, ProcessorType, Record,
};

use crate::support;

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

/// A destination to bucket `archive` under `prefix`, delivering as soon as records arrive.
fn destination(
    prefix: &str,
) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn("arn:aws:s3:::archive")
        .prefix(prefix)
        .buffering_hints(
            BufferingHints::builder()
                .size_in_mbs(1)
                .interval_in_seconds(0)
                .build(),
        )
}

async fn until_active(client: &Client, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    loop {
        ticker.tick().await;
        let out = client
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .unwrap();
        if *out
            .delivery_stream_description()
            .unwrap()
            .delivery_stream_status()
            == DeliveryStreamStatus::Active
        {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never became ACTIVE");
    }
}

/// The objects under `prefix` once their bodies hold `expected` bytes in all (bounded): keys
/// and bodies in key order.
async fn objects(s3: &aws_sdk_s3::Client, prefix: &str, expected: usize) -> Vec<(String, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        ticker.tick().await;
        let listed = s3
            .list_objects_v2()
            .bucket("archive")
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        let size: i64 = listed.contents().iter().filter_map(|o| o.size()).sum();
        if size as usize >= expected {
            let mut found = Vec::new();
            for object in listed.contents() {
                let key = object.key().unwrap().to_owned();
                let out = s3
                    .get_object()
                    .bucket("archive")
                    .key(&key)
                    .send()
                    .await
                    .unwrap();
                found.push((key, out.body.collect().await.unwrap().into_bytes().to_vec()));
            }
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {size} of {expected} bytes under {prefix} within 30 s"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn riffle_emulator_delivers_direct_put_and_kinesis_sources_to_s3() {
    let dir = std::env::temp_dir().join(format!("riffle-e2e-delivery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut child, endpoint) = support::cli::spawn_emulator(&dir, Stdio::null());
    let clients = riffle_aws::Clients::new(&endpoint, "us-east-1");
    let (s3, kinesis) = (clients.s3(), clients.kinesis());
    let firehose = support::firehose_client(&endpoint);
    s3.create_bucket().bucket("archive").send().await.unwrap();

    // DirectPut: records concatenated as put, under prefix + YYYY/MM/DD/HH/ and
    // <stream>-<version>-<timestamp>-<uuid>.
    firehose
        .create_delivery_stream()
        .delivery_stream_name("direct")
        .extended_s3_destination_configuration(destination("direct/").build().unwrap())
        .send()
        .await
        .unwrap();
    until_active(&firehose, "direct").await;
    let records: Vec<Record> = ["a\n", "b\n", "c\n"]
        .iter()
        .map(|d| {
            Record::builder()
                .data(Blob::new(d.as_bytes()))
                .build()
                .unwrap()
        })
        .collect();
    let put = firehose
        .put_record_batch()
        .delivery_stream_name("direct")
        .set_records(Some(records))
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_put_count(), 0);
    let found = objects(&s3, "direct/", 6).await;
    let body: Vec<u8> = found.iter().flat_map(|(_, b)| b.clone()).collect();
    assert_eq!(body, b"a\nb\nc\n");
    let key = &found[0].0;
    let parts: Vec<&str> = key.split('/').collect();
    assert_eq!(parts.len(), 6, "{key}");
    assert!(parts[5].starts_with("direct-1-"), "{key}");

    // A Kinesis source: what the stream is given after the delivery stream exists.
    support::create_stream(&kinesis, "source", 2).await;
    let stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/source";
    firehose
        .create_delivery_stream()
        .delivery_stream_name("fromkinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn(stream_arn)
                .role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .extended_s3_destination_configuration(destination("kinesis/").build().unwrap())
        .send()
        .await
        .unwrap();
    until_active(&firehose, "fromkinesis").await;
    let mut expected = Vec::new();
    for i in 0..20 {
        let data = format!("{{\"n\":{i}}}\n");
        kinesis
            .put_record()
            .stream_name("source")
            .partition_key(format!("k{i}"))
            .data(aws_sdk_kinesis::primitives::Blob::new(data.as_bytes()))
            .send()
            .await
            .unwrap();
        expected.push(data);
    }
    let total: usize = expected.iter().map(String::len).sum();
    let found = objects(&s3, "kinesis/", total).await;
    let mut lines: Vec<String> = found
        .iter()
        .flat_map(|(_, b)| {
            String::from_utf8(b.clone())
                .unwrap()
                .lines()
                .map(|l| format!("{l}\n"))
                .collect::<Vec<_>>()
        })
        .collect();
    lines.sort();
    expected.sort();
    assert_eq!(lines, expected);

    // A transformation with no function to run it: retried, then processing-failed.
    let processor = Processor::builder()
        .r#type(ProcessorType::Lambda)
        .parameters(
            ProcessorParameter::builder()
                .parameter_name(ProcessorParameterName::LambdaArn)
                .parameter_value("arn:aws:lambda:us-east-1:000000000000:function:missing")
                .build()
                .unwrap(),
        )
        .parameters(
            ProcessorParameter::builder()
                .parameter_name(ProcessorParameterName::from("NumberOfRetries"))
                .parameter_value("0")
                .build()
                .unwrap(),
        )
        .parameters(
            ProcessorParameter::builder()
                .parameter_name(ProcessorParameterName::BufferIntervalInSeconds)
                .parameter_value("0")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    firehose
        .create_delivery_stream()
        .delivery_stream_name("transformed")
        .extended_s3_destination_configuration(
            destination("t/")
                .error_output_prefix("errors/")
                .processing_configuration(
                    ProcessingConfiguration::builder()
                        .enabled(true)
                        .processors(processor)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    until_active(&firehose, "transformed").await;
    firehose
        .put_record()
        .delivery_stream_name("transformed")
        .record(
            Record::builder()
                .data(Blob::new(&b"raw line"[..]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let failed = objects(&s3, "errors/", 1).await;
    // ErrorOutputPrefix without expressions is used as given (docs/semantics.md, Firehose).
    assert!(
        failed[0].0.starts_with("errors/transformed-1-"),
        "{}",
        failed[0].0
    );
    let text = String::from_utf8(failed.iter().flat_map(|(_, b)| b.clone()).collect()).unwrap();
    let error: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(error["rawData"], "cmF3IGxpbmU=", "{error}");
    assert!(
        error["errorCode"]
            .as_str()
            .is_some_and(|c| c.starts_with("Lambda.")),
        "{error}"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
