//! Buckets and Firehose delivery streams.

use super::*;

const FUNCTION: &str = "  Normalize:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
";

#[test]
fn a_delivery_stream_reads_a_stream_through_a_transformation_into_a_bucket() {
    let source = sam(&format!(
        "{FUNCTION}  Logs:
    Type: AWS::Kinesis::Stream
    Properties: {{ShardCount: 1}}
  Archive:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {{Status: Enabled}}
  ToArchive:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      DeliveryStreamType: KinesisStreamAsSource
      KinesisStreamSourceConfiguration:
        KinesisStreamARN: !GetAtt Logs.Arn
        RoleARN: arn:aws:iam::123456789012:role/firehose
      ExtendedS3DestinationConfiguration:
        BucketARN: !GetAtt Archive.Arn
        RoleARN: arn:aws:iam::123456789012:role/firehose
        Prefix: 'logs/!{{timestamp:yyyy/MM/dd}}/'
        ErrorOutputPrefix: 'errors/!{{firehose:error-output-type}}/'
        BufferingHints: {{IntervalInSeconds: 60, SizeInMBs: 1}}
        CompressionFormat: GZIP
        S3BackupMode: Enabled
        S3BackupConfiguration:
          BucketARN: !GetAtt Archive.Arn
          RoleARN: arn:aws:iam::123456789012:role/firehose
          Prefix: source/
        ProcessingConfiguration:
          Enabled: true
          Processors:
            - Type: Lambda
              Parameters:
                - {{ParameterName: LambdaArn, ParameterValue: !Sub '${{Normalize.Arn}}:$LATEST'}}
                - {{ParameterName: NumberOfRetries, ParameterValue: '2'}}
                - {{ParameterName: BufferSizeInMBs, ParameterValue: '0.5'}}
Outputs:
  BucketName: {{Value: !Ref Archive}}
  Delivery: {{Value: !GetAtt ToArchive.Arn}}
"
    ));
    let template = read_ok(&source);
    let app = &template.application;
    assert_eq!(app.buckets.len(), 1);
    let bucket = &app.buckets[0];
    assert_eq!(
        bucket.name, "riffle-archive",
        "CloudFormation's names are lower case"
    );
    assert_eq!(bucket.arn, "arn:aws:s3:::riffle-archive");
    find(
        &template.warnings,
        "VersioningConfiguration is ignored locally",
    );

    let stream = &app.delivery_streams[0];
    assert_eq!(stream.name, "riffle-ToArchive");
    assert_eq!(
        stream.arn,
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/riffle-ToArchive"
    );
    assert_eq!(
        stream.source_stream_arn.as_deref(),
        Some(app.streams[0].arn.as_str())
    );
    let destination = &stream.destination;
    assert_eq!(destination.bucket_arn, bucket.arn);
    assert_eq!(
        destination.prefix.as_deref(),
        Some("logs/!{timestamp:yyyy/MM/dd}/")
    );
    assert_eq!(
        destination.error_output_prefix.as_deref(),
        Some("errors/!{firehose:error-output-type}/")
    );
    assert_eq!(destination.buffer_interval_seconds, Some(60));
    assert_eq!(destination.buffer_size_mb, Some(1));
    assert_eq!(destination.compression.as_deref(), Some("GZIP"));
    let backup = destination.backup.as_deref().expect("backup enabled");
    assert_eq!(backup.prefix.as_deref(), Some("source/"));
    let transformation = destination.transformation.as_ref().expect("enabled");
    assert_eq!(transformation.function_logical_id, "Normalize");
    assert!(
        transformation
            .function_arn
            .ends_with(":function:riffle-Normalize:$LATEST")
    );
    assert_eq!(
        transformation.parameters[1..],
        [
            ("NumberOfRetries".to_owned(), "2".to_owned()),
            ("BufferSizeInMBs".to_owned(), "0.5".to_owned())
        ]
    );
    let outputs: Vec<&str> = app.outputs.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(outputs, [bucket.name.as_str(), stream.arn.as_str()]);
}

#[test]
fn a_direct_put_stream_with_defaults_leaves_firehose_to_fill_them_in() {
    let app = read_ok(&sam("  Archive:
    Type: AWS::S3::Bucket
    Properties: {BucketName: my-archive}
  Direct:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      DeliveryStreamName: direct
      S3DestinationConfiguration:
        BucketARN: arn:aws:s3:::my-archive
        RoleARN: arn:aws:iam::123456789012:role/firehose
"))
    .application;
    let stream = &app.delivery_streams[0];
    assert_eq!(stream.name, "direct");
    assert_eq!(stream.source_stream_arn, None);
    assert_eq!(
        stream.destination,
        S3Delivery {
            bucket_arn: "arn:aws:s3:::my-archive".to_owned(),
            ..S3Delivery::default()
        }
    );
}

#[test]
fn bad_buckets_and_delivery_streams_are_refused_where_they_are_written() {
    let source = sam(&format!(
        "{FUNCTION}  Bad:
    Type: AWS::S3::Bucket
    Properties: {{BucketName: Not_A_Bucket}}
  Wrong:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      DeliveryStreamName: 'no spaces'
      DeliveryStreamType: MSKAsSource
      SplunkDestinationConfiguration: {{}}
      ExtendedS3DestinationConfiguration:
        BucketARN: arn:aws:s3:::elsewhere
        RoleARN: arn:aws:iam::123456789012:role/firehose
        BufferingHints: {{IntervalInSeconds: 901, SizeInMBs: 0}}
        CompressionFormat: LZ4
        S3BackupMode: Sometimes
        DynamicPartitioningConfiguration: {{Enabled: true}}
        ProcessingConfiguration:
          Enabled: true
          Processors:
            - Type: AppendDelimiterToRecord
            - Type: Lambda
              Parameters:
                - {{ParameterName: LambdaArn, ParameterValue: 'arn:aws:lambda:us-east-1:000000000000:function:other'}}
                - {{ParameterName: NumberOfRetries, ParameterValue: '301'}}
                - {{ParameterName: BufferSizeInMBs, ParameterValue: '4'}}
                - {{ParameterName: Delimiter, ParameterValue: ','}}
  NoSource:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      DeliveryStreamType: KinesisStreamAsSource
      KinesisStreamSourceConfiguration:
        KinesisStreamARN: arn:aws:kinesis:us-east-1:000000000000:stream/missing
        RoleARN: arn:aws:iam::123456789012:role/firehose
"
    ));
    let report = read_err(&source);
    assert_error_at(&report, &source, "lowercase letters", "Not_A_Bucket");
    assert_error_at(&report, &source, "[a-zA-Z0-9_.-]+", "no spaces");
    find(
        report.errors(),
        "Riffle runs the types DirectPut and KinesisStreamAsSource",
    );
    find(report.errors(), "SplunkDestinationConfiguration");
    find(
        report.errors(),
        "IntervalInSeconds: must be between 0 and 900",
    );
    find(report.errors(), "SizeInMBs: must be between 1 and 128");
    find(report.errors(), "LZ4");
    find(report.errors(), "Sometimes");
    find(report.errors(), "DynamicPartitioningConfiguration");
    find(report.errors(), "Riffle runs Lambda processors only");
    find(
        report.errors(),
        "names no AWS::Serverless::Function of this template",
    );
    find(
        report.errors(),
        "NumberOfRetries must be an integer between 0 and 300",
    );
    find(
        report.errors(),
        "BufferSizeInMBs must be a number between 0.2 and 3",
    );
    find(report.errors(), "a Lambda processor takes LambdaArn");
    find(
        report.errors(),
        "names no AWS::Kinesis::Stream of this template",
    );
    find(report.warnings(), "arn:aws:s3:::elsewhere");
}

#[test]
fn a_kinesis_mapping_may_send_failures_to_a_bucket_and_is_warned_about_one_it_does_not_create() {
    let mapping = |bucket: &str| {
        kinesis_event(
            "  Orders:
    Type: AWS::Kinesis::Stream
  Failures:
    Type: AWS::S3::Bucket
",
            &format!(
                "            Stream: !GetAtt Orders.Arn
            StartingPosition: TRIM_HORIZON
            DestinationConfig:
              OnFailure: {{Type: S3, Destination: {bucket}}}
"
            ),
        )
    };
    let own = read_ok(&mapping("!GetAtt Failures.Arn"));
    assert!(own.warnings.is_empty(), "{:?}", own.warnings);
    let elsewhere = read_ok(&mapping("arn:aws:s3:::somebody-elses"));
    let warning = find(&elsewhere.warnings, "arn:aws:s3:::somebody-elses");
    assert!(
        warning
            .to_string()
            .contains("failure records reach it only if it exists")
    );
}
