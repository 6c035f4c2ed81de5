//! Streams, queues and functions.

use super::*;

#[test]
fn stream_settings_are_checked() {
    let source = sam("  OnDemand:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: ON_DEMAND}
  Both:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: ON_DEMAND}
      ShardCount: 3
  Wrong:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: bad name
      RetentionPeriodHours: 9000
      StreamModeSpecification: {StreamMode: ON_DEMAND}
      StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}
");
    let report = read_err(&source);
    find(
        report.errors(),
        "ShardCount must not be specified when StreamMode is ON_DEMAND",
    );
    assert_error_at(&report, &source, "bad name", "bad name");
    assert!(
        find(report.errors(), "RetentionPeriodHours")
            .to_string()
            .contains("between 24 and 8760")
    );
    let specification = find(report.errors(), "StreamModeSpecification");
    assert!(
        specification
            .to_string()
            .contains("did you mean StreamModeDetails?")
    );
    find(report.warnings(), "StreamEncryption is ignored locally");

    let app = read_ok(&sam("  OnDemand:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamModeDetails: {StreamMode: ON_DEMAND}
"))
    .application;
    assert_eq!(app.streams[0].mode, StreamMode::OnDemand);
}

#[test]
fn queue_settings_are_checked() {
    let source = sam("  Standard:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs.fifo
      VisibilityTimeout: 50000
      ContentBasedDeduplication: true
  Fifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      RedrivePolicy: '{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:000000000000:plain\", \"maxReceiveCount\": 5}'
  Plain:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: plain
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Fifo.Arn
        maxReceiveCount: 0
");
    let report = read_err(&source);
    assert_error_at(&report, &source, "jobs.fifo", "jobs.fifo");
    assert!(
        find(report.errors(), "VisibilityTimeout")
            .to_string()
            .contains("between 0 and 43200")
    );
    find(
        report.errors(),
        "ContentBasedDeduplication is only valid for FIFO queues",
    );
    let dead_letter = find(report.errors(), "must also be a FIFO queue");
    assert_eq!(dead_letter.resource.as_deref(), Some("Fifo"));
    assert_error_at(&report, &source, "maxReceiveCount", "maxReceiveCount: 0");
}

#[test]
fn function_settings_are_read_and_checked() {
    let source = sam("  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
    Properties:
      FunctionName: orders-handler
      CodeUri: functions/orders
      Handler: bootstrap
      Runtime: provided.al2
      Architectures: [arm64]
      MemorySize: 1024
      Timeout: 60
      ReservedConcurrentExecutions: 5
      Environment:
        Variables:
          COUNT: 3
          EMPTY:
");
    let function = read_ok(&source).application.functions.remove(0);
    assert_eq!(
        function,
        Function {
            logical_id: "Fn".into(),
            name: "orders-handler".into(),
            arn: "arn:aws:lambda:us-east-1:000000000000:function:orders-handler".into(),
            code_uri: "functions/orders".into(),
            handler: "bootstrap".into(),
            runtime: "provided.al2".into(),
            architecture: "arm64".into(),
            timeout_seconds: 60,
            memory_size_mb: 1024,
            environment: env(&[("COUNT", "3"), ("EMPTY", "")]),
            reserved_concurrent_executions: Some(5),
            build: Some(CargoLambdaBuild { binary: None }),
            location: Some(Location {
                file: "template.yaml".into(),
                line: 3,
                column: 3
            }),
        }
    );

    let source = sam("  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: go1.x
    Properties:
      CodeUri: {Bucket: b, Key: k}
      Runtime: provided.al2023
      Timeout: 0
      PackageType: Image
      Environment:
        Variables:
          AWS_REGION: eu-west-1
          '1BAD': x
");
    let report = read_err(&source);
    find(report.errors(), "BuildMethod the string \"go1.x\"");
    find(report.errors(), "CodeUri must be the local directory");
    find(report.errors(), "missing required property Handler");
    assert!(
        find(report.errors(), "Timeout")
            .to_string()
            .contains("between 1 and 900")
    );
    find(report.errors(), "PackageType Image");
    assert_error_at(&report, &source, "AWS_REGION", "AWS_REGION");
    find(report.errors(), "1BAD");
}

#[test]
fn outputs_that_cannot_be_resolved_are_warnings() {
    let source = sam(&format!(
        "{STREAM}Outputs:
  Name:
    Value: !Ref Stream
  Role:
    Value: !GetAtt FnRole.Arn
    Export: {{Name: role}}
"
    ));
    let template = read_ok(&source);
    assert_eq!(
        template.application.outputs,
        [Output {
            name: "Name".into(),
            value: "orders".into()
        }]
    );
    let warning = find(&template.warnings, "cannot resolve FnRole");
    assert_eq!(warning.severity, Severity::Warning);
}

#[test]
fn the_report_lists_errors_and_warnings_in_template_order() {
    let source = sam("  Role:
    Type: AWS::IAM::Role
  Table:
    Type: AWS::DynamoDB::Table
");
    let report = read_err(&source);
    assert_eq!(
        report.to_string(),
        "template.yaml:4:11: warning: Role: Type: AWS::IAM::Role is not created locally: IAM is \
         not enforced locally\n\
         template.yaml:6:11: error: Table: Type: unsupported resource type AWS::DynamoDB::Table: \
         Riffle runs AWS::Serverless::Function, AWS::Lambda::EventSourceMapping, \
         AWS::Kinesis::Stream, AWS::Kinesis::StreamConsumer, AWS::SQS::Queue, AWS::S3::Bucket and \
         AWS::KinesisFirehose::DeliveryStream\n\
         1 error, 1 warning"
    );
    assert!(report.has_errors());
}

#[test]
fn a_resource_whose_name_fails_still_has_its_other_problems_reported() {
    let source = "Parameters:
  Names: {Type: CommaDelimitedList, Default: 'a,b'}
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !Sub '${Names}'
      ShardCount: !Ref
";
    let report = read_err(source);
    assert_eq!(line(find(report.errors(), "${Names} is a list")), 7);
    assert_eq!(line(find(report.errors(), "invalid Ref")), 8);
    assert_eq!(report.errors().count(), 2, "{report}");
    assert!(read_err("").to_string().contains("the template is empty"));
}
