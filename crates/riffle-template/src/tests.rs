//! Reading whole templates: the repository's example, every intrinsic form, Globals,
//! parameters, conditions, and every kind of problem with its line.

mod event_sources;

use riffle_core::kinesis::config::{RawKinesisMapping, StartingPosition};
use riffle_core::sqs::config::RawSqsMapping;
use serde_json::json;

use super::*;

/// 2025-11-24T16:00:00Z.
const NOW: Millis = 1_764_000_000_000;

fn options() -> Options {
    Options::new("template.yaml", NOW)
}

fn read_ok(source: &str) -> Template {
    match read(source, &options()) {
        Ok(template) => template,
        Err(error) => panic!("expected no errors, got:\n{error}"),
    }
}

fn read_err(source: &str) -> Report {
    read_err_with(source, &options())
}

fn read_err_with(source: &str, options: &Options) -> Report {
    match read(source, options) {
        Ok(template) => panic!("expected errors, got {template:#?}"),
        Err(Error::Invalid { report }) => report,
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// A template with the SAM transform and these resources (indented by two spaces).
fn sam(resources: &str) -> String {
    format!("Transform: AWS::Serverless-2016-10-31\nResources:\n{resources}")
}

/// The 1-based line of the first line of `source` containing `needle`.
fn line_of(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the source"))
        + 1
}

/// The one diagnostic whose text contains `needle`.
fn find<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>, needle: &str) -> &'a Diagnostic {
    let diagnostics: Vec<&Diagnostic> = diagnostics.into_iter().collect();
    let found: Vec<&&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.to_string().contains(needle))
        .collect();
    assert!(
        found.len() == 1,
        "expected one diagnostic containing {needle:?}, found {}:\n{}",
        found.len(),
        diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    found[0]
}

fn line(diagnostic: &Diagnostic) -> usize {
    diagnostic.location.as_ref().expect("a location").line
}

const FUNCTION: &str = "  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: fn
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
";

const STREAM: &str = "  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: orders
      ShardCount: 2
";

const QUEUE: &str = "  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs
      VisibilityTimeout: 60
";

// ---------------------------------------------------------------------------------------------
// The repository's template.

fn repository_template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .expect("the repository's template.yaml")
}

#[test]
fn the_repository_template_reads_into_the_expected_model() {
    let source = repository_template();
    let template = read_ok(&source);
    let app = &template.application;

    let streams: Vec<_> = app
        .streams
        .iter()
        .map(|s| {
            (
                s.logical_id.as_str(),
                s.name.as_str(),
                s.mode,
                s.retention_period_hours,
            )
        })
        .collect();
    assert_eq!(
        streams,
        [
            (
                "OrderEvents",
                "order-events",
                StreamMode::Provisioned { shard_count: 2 },
                24
            ),
            (
                "Clickstream",
                "clickstream",
                StreamMode::Provisioned { shard_count: 1 },
                24
            ),
        ]
    );
    assert_eq!(
        app.streams[0].arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/order-events"
    );

    let failures = &app.queues[0];
    assert_eq!(failures.logical_id, "OrderEventsFailures");
    assert_eq!(failures.name, "order-events-failures");
    assert_eq!(
        failures.url,
        "http://127.0.0.1:4566/000000000000/order-events-failures"
    );
    assert_eq!(failures.visibility_timeout_seconds, Some(60));
    assert_eq!(failures.message_retention_period_seconds, Some(1_209_600));
    assert_eq!(
        failures.redrive_policy,
        Some(RedrivePolicy {
            dead_letter_target_arn: "arn:aws:sqs:us-east-1:000000000000:order-events-failures-dlq"
                .into(),
            max_receive_count: 3,
        })
    );
    assert_eq!(
        failures.create_queue_attributes(),
        [
            ("VisibilityTimeout", "60".to_owned()),
            ("MessageRetentionPeriod", "1209600".to_owned()),
            (
                "RedrivePolicy",
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:order-events-failures-dlq","maxReceiveCount":3}"#
                    .to_owned()
            ),
        ]
    );
    assert_eq!(app.queues[1].name, "order-events-failures-dlq");
    assert_eq!(app.queues[1].visibility_timeout(), 30);

    let functions: Vec<_> = app
        .functions
        .iter()
        .map(|f| {
            (
                f.logical_id.as_str(),
                f.build.as_ref().and_then(|b| b.binary.as_deref()),
                f.timeout_seconds,
                f.memory_size_mb,
                f.runtime.as_str(),
                f.handler.as_str(),
                f.code_uri.as_str(),
            )
        })
        .collect();
    assert_eq!(
        functions,
        [
            (
                "OrderEventsFunction",
                Some("order-events"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
            (
                "ClickstreamTotalsFunction",
                Some("clickstream-totals"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
            (
                "FailureInspectorFunction",
                Some("failure-inspector"),
                30,
                128,
                "provided.al2023",
                "bootstrap",
                "."
            ),
        ]
    );
    assert_eq!(app.functions[0].name, "riffle-OrderEventsFunction");

    let orders = &app.mappings[0];
    assert_eq!(orders.logical_id, "OrderEventsFunctionOrders");
    assert_eq!(orders.function, "OrderEventsFunction");
    assert_eq!(orders.kind, SourceKind::Kinesis);
    assert_eq!(orders.event_source_arn, app.streams[0].arn);
    assert_eq!(
        orders.properties,
        json!({
            "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/order-events",
            "FunctionName": "riffle-OrderEventsFunction",
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 1,
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
            "ParallelizationFactor": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": failures.arn}},
        })
    );
    let MappingConfig::Kinesis(config) = &orders.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(
        config.on_failure_destination.as_deref(),
        Some(failures.arn.as_str())
    );
    assert!(config.bisect_on_function_error && config.report_batch_item_failures);

    let clicks = &app.mappings[1];
    assert_eq!(clicks.logical_id, "ClickstreamTotalsFunctionClicks");
    let MappingConfig::Kinesis(config) = &clicks.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(config.tumbling_window_ms, Some(60_000));
    assert_eq!(
        config.filter_patterns,
        [json!({"data": {"type": ["click"]}})]
    );

    let inspector = &app.mappings[2];
    assert_eq!(inspector.logical_id, "FailureInspectorFunctionFailures");
    assert_eq!(inspector.kind, SourceKind::Sqs);
    assert_eq!(
        inspector.properties,
        json!({
            "EventSourceArn": failures.arn,
            "FunctionName": "riffle-FailureInspectorFunction",
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        })
    );

    assert_eq!(
        app.outputs,
        [
            Output {
                name: "StreamName".into(),
                value: "order-events".into()
            },
            Output {
                name: "FailureQueueUrl".into(),
                value: failures.url.clone()
            },
        ]
    );

    // Policies is the one thing of the template without local effect.
    assert_eq!(template.warnings.len(), 1, "{:?}", template.warnings);
    let policies = &template.warnings[0];
    assert_eq!(line(policies), line_of(&source, "Policies:"));
    assert_eq!(policies.resource.as_deref(), Some("OrderEventsFunction"));
}

#[test]
fn mapping_properties_deserialize_into_riffle_core_raw_types() {
    let template = read_ok(&repository_template());
    for mapping in &template.application.mappings {
        match &mapping.config {
            MappingConfig::Kinesis(config) => {
                let raw: RawKinesisMapping =
                    serde_json::from_value(mapping.properties.clone()).expect("RawKinesisMapping");
                assert_eq!(&raw.validate(NOW).unwrap(), config);
            }
            MappingConfig::Sqs(_) => {
                let raw: RawSqsMapping =
                    serde_json::from_value(mapping.properties.clone()).expect("RawSqsMapping");
                assert_eq!(
                    raw.event_source_arn.as_deref(),
                    Some(mapping.event_source_arn.as_str())
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Intrinsic functions.

/// A function whose environment variables are the values under test.
fn environment_of(variables: &str, extra: &str) -> (String, Vec<(String, String)>) {
    let source = format!(
        "Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: a, b ,c
Mappings:
  Sizes:
    dev:
      Batch: 10
      Zones: [z1, z2]
Resources:
{STREAM}{QUEUE}{extra}  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
{variables}"
    );
    let template = read_ok(&source);
    let environment = template.application.functions[0].environment.clone();
    (source, environment)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn ref_and_get_att_in_short_and_long_forms() {
    let (_, environment) = environment_of(
        "          STREAM_NAME: !Ref Stream
          STREAM_NAME_LONG: {Ref: Stream}
          QUEUE_URL: !Ref Queue
          STREAM_ARN: !GetAtt Stream.Arn
          STREAM_ARN_LIST: !GetAtt [Stream, Arn]
          STREAM_ARN_LONG: {'Fn::GetAtt': [Stream, Arn]}
          QUEUE_ARN: !GetAtt Queue.Arn
          QUEUE_NAME: !GetAtt Queue.QueueName
          QUEUE_URL_ATTR: {'Fn::GetAtt': Queue.QueueUrl}
          FUNCTION_NAME: !Ref Fn
          FUNCTION_ARN: !GetAtt Fn.Arn
          REGION: !Ref AWS::Region
          ACCOUNT: {Ref: 'AWS::AccountId'}
          PARAMETER: !Ref Env
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("STREAM_NAME", "orders"),
            ("STREAM_NAME_LONG", "orders"),
            ("QUEUE_URL", "http://127.0.0.1:4566/000000000000/jobs"),
            (
                "STREAM_ARN",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            (
                "STREAM_ARN_LIST",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            (
                "STREAM_ARN_LONG",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            ("QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:jobs"),
            ("QUEUE_NAME", "jobs"),
            ("QUEUE_URL_ATTR", "http://127.0.0.1:4566/000000000000/jobs"),
            ("FUNCTION_NAME", "riffle-Fn"),
            (
                "FUNCTION_ARN",
                "arn:aws:lambda:us-east-1:000000000000:function:riffle-Fn"
            ),
            ("REGION", "us-east-1"),
            ("ACCOUNT", "000000000000"),
            ("PARAMETER", "dev"),
        ])
    );
}

#[test]
fn sub_in_both_forms_with_pseudo_parameters_resources_and_escapes() {
    let (_, environment) = environment_of(
        "          PSEUDO: !Sub '${AWS::Partition}:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}:${AWS::URLSuffix}'
          RESOURCES: !Sub '${Stream}|${Queue}|${Queue.Arn}|${Fn}|${Env}'
          ESCAPED: !Sub 'literal ${!NotAVariable} and $ alone'
          VARIABLES: !Sub
            - '${Prefix}-${Name}-${AWS::Region}'
            - Prefix: !Ref Env
              Name: !GetAtt Queue.QueueName
          LONG: {'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}'}
          STACK_ID: !Ref AWS::StackId
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("PSEUDO", "aws:us-east-1:000000000000:riffle:amazonaws.com"),
            (
                "RESOURCES",
                "orders|http://127.0.0.1:4566/000000000000/jobs|arn:aws:sqs:us-east-1:000000000000:jobs|riffle-Fn|dev"
            ),
            ("ESCAPED", "literal ${NotAVariable} and $ alone"),
            ("VARIABLES", "dev-jobs-us-east-1"),
            ("LONG", "arn:aws:sqs:us-east-1:000000000000:jobs"),
            (
                "STACK_ID",
                "arn:aws:cloudformation:us-east-1:000000000000:stack/riffle/00000000-0000-0000-0000-000000000000"
            ),
        ])
    );
}

#[test]
fn join_select_split_and_find_in_map() {
    let (_, environment) = environment_of(
        "          JOINED: !Join ['-', [a, !Ref Env, !GetAtt Queue.QueueName, 7]]
          JOINED_LONG: {'Fn::Join': [',', {'Fn::Split': ['|', 'x|y|z']}]}
          SELECTED: !Select [1, !Split [',', 'a,b,c']]
          SELECTED_PARAMETER: !Select ['2', !Ref Names]
          LIST_PARAMETER: !Join ['+', !Ref Names]
          MAPPED: !FindInMap [Sizes, !Ref Env, Batch]
          MAPPED_LIST: !Select [0, !FindInMap [Sizes, dev, Zones]]
          MAPPED_DEFAULT: !FindInMap [Sizes, prod, Batch, {DefaultValue: 99}]
          NO_VALUE_DROPPED: !Join ['', [a, !Ref AWS::NoValue, b]]
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("JOINED", "a-dev-jobs-7"),
            ("JOINED_LONG", "x,y,z"),
            ("SELECTED", "b"),
            ("SELECTED_PARAMETER", "c"),
            ("LIST_PARAMETER", "a+b+c"),
            ("MAPPED", "10"),
            ("MAPPED_LIST", "z1"),
            ("MAPPED_DEFAULT", "99"),
            ("NO_VALUE_DROPPED", "ab"),
        ])
    );
}

#[test]
fn local_facts_come_from_the_options() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}  Unnamed:
    Type: AWS::Kinesis::Stream
  UnnamedFifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
"
    ));
    let options = Options {
        region: "eu-west-1".into(),
        account_id: "123456789012".into(),
        stack_name: "shop".into(),
        queue_url_base: "http://localhost:9324/".into(),
        ..options()
    };
    let app = read(&source, &options).unwrap().application;
    assert_eq!(
        app.streams[0].arn,
        "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
    );
    assert_eq!(app.streams[1].name, "shop-Unnamed");
    assert_eq!(app.queues[0].url, "http://localhost:9324/123456789012/jobs");
    assert_eq!(app.queues[1].name, "shop-UnnamedFifo.fifo");
    assert_eq!(
        app.queues[1].arn,
        "arn:aws:sqs:eu-west-1:123456789012:shop-UnnamedFifo.fifo"
    );
    assert!(app.queues[1].fifo);
}

// ---------------------------------------------------------------------------------------------
// Globals.

#[test]
fn globals_merge_into_each_function() {
    let source = "Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 20
    MemorySize: 256
    Tracing: Active
    Environment:
      Variables:
        LOG_LEVEL: info
        SHARED: global
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a
      Timeout: 5
      Environment:
        Variables:
          SHARED: local
          OWN: mine
  B:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: b
  C:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Environment, MemorySize]
    Properties:
      CodeUri: c
";
    let template = read_ok(source);
    let functions = &template.application.functions;
    assert_eq!(functions[0].timeout_seconds, 5);
    assert_eq!(functions[0].memory_size_mb, 256);
    assert_eq!(functions[0].runtime, "provided.al2023");
    assert_eq!(
        functions[0].environment,
        env(&[("LOG_LEVEL", "info"), ("SHARED", "local"), ("OWN", "mine")])
    );
    assert_eq!(functions[1].timeout_seconds, 20);
    assert_eq!(
        functions[1].environment,
        env(&[("LOG_LEVEL", "info"), ("SHARED", "global")])
    );
    assert_eq!(functions[2].environment, []);
    assert_eq!(functions[2].memory_size_mb, 128);
    assert_eq!(functions[2].timeout_seconds, 20);
    // Tracing is set once, in Globals: one warning, where it is written.
    let tracing = find(&template.warnings, "Tracing");
    assert_eq!(line(tracing), line_of(source, "Tracing"));
    assert_eq!(template.warnings.len(), 1);
}

#[test]
fn globals_refuse_what_sam_does_not_merge() {
    let source = "Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    FunctionName: shared
    Timeot: 3
  Api:
    Cors: '*'
  Bogus: {}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Handler: bootstrap, Runtime: provided.al2023}
";
    let report = read_err(source);
    let name = find(report.errors(), "FunctionName");
    assert_eq!(line(name), 4);
    assert!(
        name.to_string()
            .contains("SAM does not accept it in Globals")
    );
    let typo = find(report.errors(), "Timeot");
    assert!(typo.to_string().contains("did you mean Timeout?"));
    assert_eq!(line(find(report.errors(), "Bogus")), 8);
    assert_eq!(line(find(report.warnings(), "Api")), 6);
}

// ---------------------------------------------------------------------------------------------
// Parameters.

const PARAMETERS: &str = "Transform: AWS::Serverless-2016-10-31
Parameters:
  StreamName:
    Type: String
    Default: orders
    AllowedPattern: '[a-z-]+'
  Batch:
    Type: Number
    Default: 50
    MinValue: 1
    MaxValue: 10000
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !Sub '${StreamName}-${Env}'
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Records:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
            BatchSize: !Ref Batch
            BisectBatchOnFunctionError: 'true'
";

#[test]
fn parameters_take_their_defaults() {
    let app = read_ok(PARAMETERS).application;
    assert_eq!(app.streams[0].name, "orders-dev");
    // A Number parameter is a string to Ref, and the property converts it, as CloudFormation.
    assert_eq!(app.mappings[0].properties["BatchSize"], json!(50));
    assert_eq!(
        app.mappings[0].properties["BisectBatchOnFunctionError"],
        json!(true)
    );
    let MappingConfig::Kinesis(config) = &app.mappings[0].config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(config.batch_size, 50);
    assert_eq!(config.starting_position, StartingPosition::Latest);
}

#[test]
fn parameter_overrides_win_over_defaults() {
    let mut options = options();
    options.parameter_overrides =
        parse_parameter_overrides(&["Env=prod", "ParameterKey=Batch,ParameterValue=500"]).unwrap();
    let app = read(PARAMETERS, &options).unwrap().application;
    assert_eq!(app.streams[0].name, "orders-prod");
    assert_eq!(app.mappings[0].properties["BatchSize"], json!(500));
}

#[test]
fn parameter_values_are_checked_and_unknown_overrides_refused() {
    let mut options = options();
    options.parameter_overrides =
        parse_parameter_overrides(&["Env=staging", "Batch=lots", "StreamName=Orders!", "Nope=1"])
            .unwrap();
    let report = read_err_with(PARAMETERS, &options);
    let env = find(report.errors(), "AllowedValues");
    assert!(
        env.to_string()
            .contains("\"staging\" must be one of AllowedValues [dev, prod]")
    );
    assert_eq!(line(env), line_of(PARAMETERS, "  Env:"));
    assert!(
        find(report.errors(), "\"lots\" must be a number")
            .location
            .is_some()
    );
    find(report.errors(), "must match pattern [a-z-]+");
    let unknown = find(report.errors(), "Nope");
    assert_eq!(unknown.location, None);
    assert!(
        unknown
            .to_string()
            .starts_with("error: --parameter-overrides: parameter Nope")
    );
}

#[test]
fn a_parameter_without_default_needs_an_override() {
    let source = "Transform: AWS::Serverless-2016-10-31
Parameters:
  Shards:
    Type: Number
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: !Ref Shards
";
    let report = read_err(source);
    let missing = find(report.errors(), "no Default and no value given");
    assert_eq!(line(missing), 3);
    assert!(
        missing
            .to_string()
            .contains("--parameter-overrides Shards=VALUE")
    );

    let mut options = options();
    options.parameter_overrides = parse_parameter_overrides(&["Shards=4"]).unwrap();
    let app = read(source, &options).unwrap().application;
    assert_eq!(
        app.streams[0].mode,
        StreamMode::Provisioned { shard_count: 4 }
    );
}

#[test]
fn parameter_overrides_parse_both_forms() {
    let overrides =
        parse_parameter_overrides(&["A=1", "B=x=y", "ParameterKey=C,ParameterValue=a,b"]).unwrap();
    assert_eq!(overrides["A"], "1");
    assert_eq!(overrides["B"], "x=y");
    assert_eq!(overrides["C"], "a,b");
    assert!(matches!(
        parse_parameter_overrides(&["novalue"]),
        Err(Error::ParameterOverride { text }) if text == "novalue"
    ));
    assert!(parse_parameter_overrides(&["=1"]).is_err());
}

// ---------------------------------------------------------------------------------------------
// Conditions.

const CONDITIONS: &str = "Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    Default: dev
  Shards:
    Type: Number
    Default: 1
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  OneShard: {'Fn::Equals': [{Ref: Shards}, 1]}
  DevWithOneShard: !And [!Condition IsDev, !Condition OneShard]
  ProdOrEu: !Or [!Condition IsProd, !Equals [!Ref 'AWS::Region', eu-west-1]]
Resources:
  ProdOnly:
    Type: AWS::Kinesis::Stream
    Condition: IsProd
    Properties:
      ShardCount: 10
  Always:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !If [DevWithOneShard, dev-small, !If [ProdOrEu, big, other]]
      RetentionPeriodHours: !If [IsProd, 168, !Ref AWS::NoValue]
";

#[test]
fn conditions_choose_resources_and_values() {
    let app = read_ok(CONDITIONS).application;
    assert_eq!(app.streams.len(), 1, "ProdOnly is not created in dev");
    assert_eq!(app.streams[0].name, "dev-small");
    assert_eq!(
        app.streams[0].retention_period_hours, 24,
        "AWS::NoValue leaves the default"
    );

    let mut options = options();
    options.parameter_overrides = parse_parameter_overrides(&["Env=prod"]).unwrap();
    let app = read(CONDITIONS, &options).unwrap().application;
    let names: Vec<_> = app.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["riffle-ProdOnly", "big"]);
    assert_eq!(app.streams[1].retention_period_hours, 168);

    options.parameter_overrides = parse_parameter_overrides(&["Shards=2"]).unwrap();
    options.region = "eu-west-1".into();
    let app = read(CONDITIONS, &options).unwrap().application;
    assert_eq!(app.streams[0].name, "big");
}

#[test]
fn conditions_that_cannot_be_resolved_are_errors() {
    let source = "Transform: AWS::Serverless-2016-10-31
Conditions:
  OnResource: !Equals [!Ref Stream, orders]
  Loop: !Not [!Condition Loop]
  NotACondition: !Ref Stream
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !If [Missing, a, b]
";
    let report = read_err(source);
    let on_resource = find(report.errors(), "conditions can reference parameters");
    assert_eq!(line(on_resource), 3);
    assert_eq!(line(find(report.errors(), "circular condition")), 4);
    assert_eq!(
        line(find(
            report.errors(),
            "invalid Ref: not allowed in a condition"
        )),
        5
    );
    assert_eq!(line(find(report.errors(), "cannot resolve Missing")), 10);
}

// ---------------------------------------------------------------------------------------------
// What Riffle does not run: errors, each with its line.

#[test]
fn unsupported_resources_events_and_runtimes_are_errors_with_their_line() {
    let source = sam("  Table:
    Type: AWS::DynamoDB::Table
  Role:
    Type: AWS::IAM::Role
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Runtime: python3.12
      Timout: 10
      Role: !GetAtt Role.Arn
      Events:
        Http:
          Type: Api
          Properties: {Path: /, Method: get}
        Table:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST}
");
    let report = read_err(&source);
    let table = find(report.errors(), "AWS::DynamoDB::Table");
    assert_eq!(line(table), line_of(&source, "AWS::DynamoDB::Table"));
    assert_eq!(table.resource.as_deref(), Some("Table"));
    assert_eq!(
        line(find(report.errors(), "event type Api")),
        line_of(&source, "Type: Api")
    );
    assert_eq!(
        line(find(report.errors(), "event type DynamoDB")),
        line_of(&source, "Type: DynamoDB")
    );
    let runtime = find(report.errors(), "python3.12");
    assert_eq!(line(runtime), line_of(&source, "python3.12"));
    assert_eq!(runtime.path, "Properties.Runtime");
    let typo = find(report.errors(), "Timout");
    assert!(typo.to_string().contains("did you mean Timeout?"));
    assert_eq!(line(typo), line_of(&source, "Timout"));
    // The role is harmless, and Role is not read, so its reference is never resolved.
    assert_eq!(
        line(find(report.warnings(), "AWS::IAM::Role")),
        line_of(&source, "AWS::IAM::Role")
    );
    find(report.warnings(), "Properties.Role");
    assert_eq!(report.errors().count(), 5, "{report}");
}

#[test]
fn unknown_and_unsupported_intrinsics_are_errors_with_their_line() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          TAG: !Foo bar
          LONG: {{'Fn::Bar': [1]}}
          IMPORTED: !ImportValue shared-queue
          ZONES: !Select [0, !GetAZs '']
          B64: !Base64 text
          BAD_JOIN: !Join ['-']
          NOT_HERE: !Equals [a, b]
"
    ));
    let report = read_err(&source);
    assert_eq!(
        line(find(report.errors(), "!Foo")),
        line_of(&source, "!Foo")
    );
    assert_eq!(
        line(find(report.errors(), "Fn::Bar")),
        line_of(&source, "Fn::Bar")
    );
    let imported = find(report.errors(), "Fn::ImportValue");
    assert_eq!(line(imported), line_of(&source, "!ImportValue"));
    assert_eq!(imported.path, "Properties.Environment.Variables.IMPORTED");
    assert_eq!(
        line(find(report.errors(), "Fn::GetAZs")),
        line_of(&source, "!GetAZs")
    );
    assert_eq!(
        line(find(report.errors(), "Fn::Base64")),
        line_of(&source, "!Base64")
    );
    assert_eq!(
        line(find(report.errors(), "invalid Fn::Join")),
        line_of(&source, "BAD_JOIN")
    );
    assert_eq!(
        line(find(report.errors(), "invalid Fn::Equals")),
        line_of(&source, "NOT_HERE")
    );
}

#[test]
fn unresolvable_references_are_errors_with_their_line() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}  Role:
    Type: AWS::IAM::Role
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          MISSING: !GetAtt Missing.Arn
          ATTRIBUTE: !GetAtt Stream.StreamArn
          ROLE: !GetAtt Role.Arn
          PSEUDO: !Ref AWS::Foo
          SUB: !Sub '${{Nothing}}-x'
          MAP: !FindInMap [Nope, a, b]
"
    ));
    let report = read_err(&source);
    let missing = find(report.errors(), "cannot resolve Missing");
    assert_eq!(line(missing), line_of(&source, "Missing.Arn"));
    assert_eq!(missing.resource.as_deref(), Some("Fn"));
    let attribute = find(report.errors(), "Stream.StreamArn");
    assert!(
        attribute
            .to_string()
            .contains("an AWS::Kinesis::Stream has the attribute Arn")
    );
    let role = find(report.errors(), "cannot resolve Role");
    assert!(
        role.to_string()
            .contains("AWS::IAM::Role resources are not created locally")
    );
    assert!(
        find(report.errors(), "AWS::Foo")
            .to_string()
            .contains("unknown pseudo parameter")
    );
    assert_eq!(
        line(find(report.errors(), "cannot resolve Nothing")),
        line_of(&source, "SUB:")
    );
    assert_eq!(
        line(find(report.errors(), "Mappings.Nope.a.b")),
        line_of(&source, "MAP:")
    );
}

#[test]
fn circular_names_are_reported_not_followed() {
    let source = sam("  A:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt B.QueueName
  B:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt A.QueueName
");
    let report = read_err(&source);
    assert!(
        report.to_string().contains("circular reference"),
        "{report}"
    );
}

#[test]
fn syntax_errors_and_duplicate_keys_are_located() {
    let report = read_err("Resources:\n  A:\n    Type: [unclosed\n");
    let diagnostic = report.errors().next().unwrap();
    assert!(matches!(diagnostic.problem, Problem::Yaml { .. }));
    assert!(line(diagnostic) >= 3);

    let report = read_err(&sam(&format!("{STREAM}{STREAM}")));
    let duplicate = report.errors().next().unwrap();
    assert!(duplicate.to_string().contains("duplicated key"), "{report}");
    assert_eq!(line(duplicate), 8);
}

#[test]
fn a_template_is_a_mapping_with_resources_and_the_sam_transform() {
    assert!(
        read_err("- a\n- b\n")
            .to_string()
            .contains("a template is a mapping")
    );
    let report = read_err("AWSTemplateFormatVersion: '2010-09-09'\nResorces: {}\n");
    assert!(!report.to_string().contains("AWSTemplateFormatVersion"));
    assert!(
        find(report.errors(), "Resorces")
            .to_string()
            .contains("did you mean Resources?")
    );
    find(report.errors(), "missing required property Resources");
    let report = read_err("AWSTemplateFormatVersion: 2020-01-01\nConditions: [a]\nResources: {}\n");
    assert_eq!(
        line(find(report.errors(), "the only version is 2010-09-09")),
        1
    );
    assert_eq!(
        line(find(report.errors(), "Conditions: expected a mapping")),
        2
    );
    let report = read_err(&format!("Resources:\n{FUNCTION}"));
    find(report.errors(), "Transform: AWS::Serverless-2016-10-31");
}

// ---------------------------------------------------------------------------------------------
// Invalid settings: riffle-core's rules, on the property they name.

#[test]
fn invalid_settings_name_the_resource_the_property_and_aws_rule() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
            ParallelizationFactor: 11
"
    ));
    let report = read_err(&source);
    assert_eq!(report.errors().count(), 1, "{report}");
    let error = report.errors().next().unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "template.yaml:{}:36: error: Fn: Properties.Events.Orders.Properties.ParallelizationFactor: \
             Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have \
             value less than or equal to 10 (ValidationException)",
            line_of(&source, "ParallelizationFactor")
        )
    );
    assert!(matches!(
        error.problem,
        Problem::MappingRule {
            property: "ParallelizationFactor",
            ..
        }
    ));
}

/// rust-notes §7: `sam validate --lint` passed all of these.
#[test]
fn what_sam_validate_lint_misses_is_caught_all_at_once() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: BOGUS
            MaximumRetryAttempts: 20000
            ParallelizationFactor: 11
            BisectBatchOnFunctionErrorX: true
"
    ));
    let report = read_err(&source);
    let starting = find(report.errors(), "StartingPosition");
    assert_eq!(line(starting), line_of(&source, "BOGUS"));
    assert!(starting.to_string().contains(
        "Value 'BOGUS' at 'startingPosition' failed to satisfy constraint: Member must satisfy \
         enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
    ));
    let retries = find(report.errors(), "maximumRetryAttempts");
    assert_eq!(line(retries), line_of(&source, "20000"));
    assert!(retries.to_string().contains("less than or equal to 10000"));
    assert_eq!(
        line(find(report.errors(), "parallelizationFactor")),
        line_of(&source, ": 11")
    );
    let typo = find(report.errors(), "BisectBatchOnFunctionErrorX");
    assert_eq!(line(typo), line_of(&source, "BisectBatchOnFunctionErrorX"));
    assert!(typo.to_string().contains(
        "property BisectBatchOnFunctionErrorX not defined for resource of type Kinesis (did you \
         mean BisectBatchOnFunctionError?)"
    ));
    assert_eq!(typo.resource.as_deref(), Some("Fn"));
    assert_eq!(report.errors().count(), 4, "{report}");
}

#[test]
fn sqs_rules_use_the_template_queue_and_function() {
    let source = sam(&format!(
        "{QUEUE}  Fifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 900
{FUNCTION}      Timeout: 120
      Events:
        Big:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 100
        Ordered:
          Type: SQS
          Properties:
            Queue: !GetAtt Fifo.Arn
            BatchSize: 20
            MaximumBatchingWindowInSeconds: 5
            StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let window = find(
        report.errors(),
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    );
    assert_eq!(line(window), line_of(&source, "Big:"));
    let visibility = find(
        report.errors(),
        "Queue visibility timeout: 60 seconds is less than Function timeout: 120 seconds",
    );
    assert_eq!(
        line(visibility),
        line_of(&source, "Queue: !GetAtt Queue.Arn")
    );
    let fifo_batch = find(report.errors(), "at 'batchSize'");
    assert_eq!(line(fifo_batch), line_of(&source, "BatchSize: 20"));
    find(
        report.errors(),
        "MaximumBatchingWindowInSeconds is not supported for FIFO queues",
    );
    let stream_only = find(report.errors(), "Unsupported StartingPosition parameter");
    assert_eq!(
        line(stream_only),
        line_of(&source, "StartingPosition: LATEST")
    );
}

#[test]
fn sam_destination_type_is_removed_and_checked() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: TRIM_HORIZON
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Queue.Arn
"
    ));
    let app = read_ok(&source).application;
    assert_eq!(
        app.mappings[0].properties["DestinationConfig"],
        json!({"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:jobs"}})
    );

    let report = read_err(&source.replace("Type: SQS", "Type: Lambda"));
    let error = find(report.errors(), "The only valid values for 'Type'");
    assert_eq!(line(error), line_of(&source, "Type: SQS"));
}

#[test]
fn nested_misspellings_and_wrong_types_are_located() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: many
            FunctionResponseTypes: ReportBatchItemFailures
            DestinationConfig:
              OnFailure:
                Destinaton: !GetAtt Queue.Arn
"
    ));
    let report = read_err(&source);
    let batch = find(report.errors(), "BatchSize");
    assert!(
        batch
            .to_string()
            .contains("expected an integer, found the string \"many\"")
    );
    assert_eq!(line(batch), line_of(&source, "BatchSize"));
    assert!(
        find(report.errors(), "FunctionResponseTypes")
            .to_string()
            .contains("a list of strings")
    );
    let nested = find(report.errors(), "Destinaton");
    assert_eq!(line(nested), line_of(&source, "DestinationConfig"));
    assert!(nested.to_string().contains("unknown field `Destinaton`"));
}

#[test]
fn a_stream_name_where_an_arn_belongs_gets_a_hint() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !Ref Stream
            StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let error = find(report.errors(), "use !GetAtt Stream.Arn");
    assert_eq!(line(error), line_of(&source, "Stream: !Ref Stream"));
    assert_eq!(report.errors().count(), 1, "{report}");
}

#[test]
fn missing_stream_and_duplicate_mappings_are_errors() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        First:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
        Second:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: TRIM_HORIZON
        NoStream:
          Type: Kinesis
          Properties:
            StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let duplicate = find(report.errors(), "ResourceConflictException");
    assert_eq!(line(duplicate), line_of(&source, "Second:"));
    assert!(duplicate.to_string().contains("FnFirst"));
    find(report.errors(), "missing required property Stream");
}

#[test]
fn external_sources_are_warnings() {
    let source = sam(&format!(
        "{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: arn:aws:kinesis:us-east-1:000000000000:stream/elsewhere
            StartingPosition: LATEST
            KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/k
"
    ));
    let template = read_ok(&source);
    let warning = find(&template.warnings, "is not a stream of this template");
    assert_eq!(line(warning), line_of(&source, "stream/elsewhere"));
    find(&template.warnings, "KmsKeyArn is ignored locally");
    assert_eq!(template.application.mappings.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// AWS::Lambda::EventSourceMapping resources.

#[test]
fn event_source_mapping_resources_are_read_like_events() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}{FUNCTION}  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 1700000000
      TumblingWindowInSeconds: '30'
      Tags: [{{Key: team, Value: a}}]
  QueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !GetAtt Fn.Arn
      BatchSize: 5
      ScalingConfig: {{MaximumConcurrency: '4'}}
      Enabled: false
"
    ));
    let app = read_ok(&source).application;
    let stream_mapping = &app.mappings[0];
    assert_eq!(stream_mapping.logical_id, "StreamMapping");
    assert_eq!(stream_mapping.function, "Fn");
    let MappingConfig::Kinesis(config) = &stream_mapping.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(
        config.starting_position,
        StartingPosition::AtTimestamp(1_700_000_000_000)
    );
    assert_eq!(config.tumbling_window_ms, Some(30_000));
    let MappingConfig::Sqs(config) = &app.mappings[1].config else {
        panic!("an SQS mapping");
    };
    assert_eq!(config.maximum_concurrency, Some(4));
    assert!(!config.enabled);
    assert_eq!(
        app.mappings[1].properties["FunctionName"],
        json!("riffle-Fn")
    );
}

#[test]
fn event_source_mapping_resources_report_what_they_cannot_run() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}  Unknown:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: not-in-this-template
      StartingPosition: LATEST
  Scaling:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: LATEST
      ScalingConfig: {{MaximumConcurrency: 2}}
      Topics: [t]
  Dynamo:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x
      FunctionName: !Ref Fn
  Future:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 4102444800
"
    ));
    let report = read_err(&source);
    let function = find(report.errors(), "not-in-this-template");
    assert_eq!(line(function), line_of(&source, "not-in-this-template"));
    assert_eq!(
        line(find(report.errors(), "ScalingConfig")),
        line_of(&source, "ScalingConfig")
    );
    assert_eq!(
        line(find(report.errors(), "Topics")),
        line_of(&source, "Topics")
    );
    assert_eq!(
        line(find(report.errors(), "dynamodb source")),
        line_of(&source, "arn:aws:dynamodb")
    );
    let future = find(report.errors(), "cannot be in the future");
    assert_eq!(line(future), line_of(&source, "4102444800"));
}

// ---------------------------------------------------------------------------------------------
// Streams, queues and functions.

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
    assert_eq!(
        line(find(report.errors(), "bad name")),
        line_of(&source, "bad name")
    );
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
    assert_eq!(
        line(find(report.errors(), "jobs.fifo")),
        line_of(&source, "jobs.fifo")
    );
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
    assert_eq!(
        line(find(report.errors(), "maxReceiveCount")),
        line_of(&source, "maxReceiveCount: 0")
    );
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
    assert_eq!(
        line(find(report.errors(), "AWS_REGION")),
        line_of(&source, "AWS_REGION")
    );
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
         AWS::Kinesis::Stream and AWS::SQS::Queue\n\
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
