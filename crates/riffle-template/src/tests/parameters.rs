//! Parameters.

use super::*;

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
