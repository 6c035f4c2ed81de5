//! Reading whole templates: the repository's example, every intrinsic form, Globals,
//! parameters, conditions, and every kind of problem with its line.

mod conditions;
mod delivery;
mod event_sources;
mod globals;
mod intrinsics;
mod mapping_resources;
mod parameters;
mod repository;
mod resources;
mod settings;
mod unsupported;

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

/// The one error containing `needle` stands on the first line of `source` containing `at`.
#[track_caller]
fn assert_error_at(report: &Report, source: &str, needle: &str, at: &str) {
    assert_eq!(line(find(report.errors(), needle)), line_of(source, at));
}

/// The one warning containing `needle` stands on the first line of `source` containing `at`.
#[track_caller]
fn assert_warning_at(report: &Report, source: &str, needle: &str, at: &str) {
    assert_eq!(line(find(report.warnings(), needle)), line_of(source, at));
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

/// A template of `resources`, then [`FUNCTION`] with one Kinesis event `Orders` whose
/// properties are `properties` (indented by twelve spaces).
fn kinesis_event(resources: &str, properties: &str) -> String {
    sam(&format!(
        "{resources}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
{properties}"
    ))
}

/// A function `Fn` with only the properties every function needs; a test appends its own.
const BARE_FUNCTION: &str = "  Fn:
    Type: AWS::Serverless::Function
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

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
