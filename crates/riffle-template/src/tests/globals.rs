//! Globals.

use super::*;

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
