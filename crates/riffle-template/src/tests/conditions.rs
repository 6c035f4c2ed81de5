//! Conditions.

use super::*;

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
