//! What Riffle does not run: errors, each with its line.

use super::*;

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
    assert_error_at(&report, &source, "event type Api", "Type: Api");
    assert_error_at(&report, &source, "event type DynamoDB", "Type: DynamoDB");
    let runtime = find(report.errors(), "python3.12");
    assert_eq!(line(runtime), line_of(&source, "python3.12"));
    assert_eq!(runtime.path, "Properties.Runtime");
    let typo = find(report.errors(), "Timout");
    assert!(typo.to_string().contains("did you mean Timeout?"));
    assert_eq!(line(typo), line_of(&source, "Timout"));
    // The role is harmless, and Role is not read, so its reference is never resolved.
    assert_warning_at(&report, &source, "AWS::IAM::Role", "AWS::IAM::Role");
    find(report.warnings(), "Properties.Role");
    assert_eq!(report.errors().count(), 5, "{report}");
}

#[test]
fn unknown_and_unsupported_intrinsics_are_errors_with_their_line() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}{BARE_FUNCTION}      Environment:
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
    assert_error_at(&report, &source, "!Foo", "!Foo");
    assert_error_at(&report, &source, "Fn::Bar", "Fn::Bar");
    let imported = find(report.errors(), "Fn::ImportValue");
    assert_eq!(line(imported), line_of(&source, "!ImportValue"));
    assert_eq!(imported.path, "Properties.Environment.Variables.IMPORTED");
    assert_error_at(&report, &source, "Fn::GetAZs", "!GetAZs");
    assert_error_at(&report, &source, "Fn::Base64", "!Base64");
    assert_error_at(&report, &source, "invalid Fn::Join", "BAD_JOIN");
    assert_error_at(&report, &source, "invalid Fn::Equals", "NOT_HERE");
}

#[test]
fn unresolvable_references_are_errors_with_their_line() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}  Role:
    Type: AWS::IAM::Role
{BARE_FUNCTION}      Environment:
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
    assert_error_at(&report, &source, "cannot resolve Nothing", "SUB:");
    assert_error_at(&report, &source, "Mappings.Nope.a.b", "MAP:");
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
