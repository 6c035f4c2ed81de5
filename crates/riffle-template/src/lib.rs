//! Reads a SAM `template.yaml` into what `riffle local` creates and runs: Kinesis streams, SQS
//! queues, Rust functions and the event source mappings between them, with every name, ARN
//! and URL resolved to its local value. Pure: the template's text and the local facts go in
//! ([`Options`]); a typed [`Application`] — or every problem found, located — comes out.
//!
//! ```
//! let template = riffle_template::read(
//!     "Transform: AWS::Serverless-2016-10-31\n\
//!      Resources:\n\
//!      \x20 Orders:\n\
//!      \x20   Type: AWS::Kinesis::Stream\n\
//!      \x20   Properties: {ShardCount: 2}\n",
//!     &riffle_template::Options::new("template.yaml", 0),
//! )?;
//! assert_eq!(template.application.streams[0].name, "riffle-Orders");
//! # Ok::<(), riffle_template::Error>(())
//! ```
//!
//! # What is read
//!
//! - Sections: `Parameters` (values from [`Options::parameter_overrides`] or `Default`, checked
//!   against `AllowedValues`, `AllowedPattern`, lengths and bounds), `Mappings`, `Conditions`,
//!   `Globals` (`Function`, merged into each function as SAM merges it), `Resources`,
//!   `Outputs`.
//! - Intrinsic functions, short (`!Ref`) and long (`Ref:`) forms: `Ref`, `Fn::GetAtt` (`X.Arn`
//!   and `[X, Arn]`), `Fn::Sub` (string and `[string, {vars}]`), `Fn::Join`, `Fn::Select`,
//!   `Fn::Split`, `Fn::If`, `Fn::FindInMap`; in `Conditions`, `Fn::Equals`, `Fn::Not`,
//!   `Fn::And`, `Fn::Or` and `Condition`. Pseudo parameters: `AWS::Region`, `AWS::AccountId`,
//!   `AWS::StackName`, `AWS::StackId`, `AWS::Partition`, `AWS::URLSuffix`, `AWS::NoValue`,
//!   `AWS::NotificationARNs`.
//! - `Ref` of a stream gives its name, of a queue its URL, of a function its name, of a stream
//!   consumer its ARN; `Fn::GetAtt` gives a stream's, queue's or function's `Arn`, a queue's
//!   `QueueName` and `QueueUrl`, a stream consumer's `ConsumerARN`, `ConsumerName`,
//!   `StreamARN`, `ConsumerStatus` and `ConsumerCreationTimestamp`. `Ref` of a bucket or a
//!   delivery stream gives its name; `Fn::GetAtt` their `Arn`, a bucket's `DomainName` and
//!   `RegionalDomainName`.
//! - Resources: `AWS::Serverless::Function` (with its `Kinesis` and `SQS` events),
//!   `AWS::Lambda::EventSourceMapping`, `AWS::Kinesis::Stream`, `AWS::Kinesis::StreamConsumer`
//!   (a mapping whose stream is its ARN reads through it), `AWS::SQS::Queue`, `AWS::S3::Bucket`,
//!   `AWS::KinesisFirehose::DeliveryStream` (direct put or reading a template stream, to S3,
//!   with an optional Lambda transformation naming a template function). IAM
//!   resources, queue policies, permissions, log groups and alarms are accepted with a warning;
//!   any other type is an error.
//!
//! # Names
//!
//! A stream, queue, function or delivery stream whose template sets no name is called
//! `{stack}-{LogicalId}` (`.fifo` added for FIFO queues; lower case for buckets), cut to the
//! service's limit (128, 80, 64, 64 characters; 63 for buckets).
//! CloudFormation appends a random suffix too; Riffle does not, so that names are the same on
//! every start and a data directory's queues and checkpoints are found again. ARNs are
//! `arn:{partition}:kinesis:{region}:{account}:stream/{name}`,
//! `arn:{partition}:sqs:{region}:{account}:{name}` and
//! `arn:{partition}:lambda:{region}:{account}:function:{name}`; a queue's URL is
//! `{queue_url_base}/{account}/{name}`. A function's event becomes the mapping
//! `{FunctionLogicalId}{EventName}`, the logical id SAM gives it.
//!
//! # Problems
//!
//! Anything Riffle cannot run as written is an error naming the resource, the property path
//! and the rule, at its `file:line:column`: unknown or misspelled properties, unsupported
//! resource types, event types and intrinsic functions, unresolvable references, and invalid
//! settings — event source mapping properties are checked by riffle-core's own validation
//! (AWS's ranges and rules, including those `sam validate --lint` misses). What has no
//! effect locally (IAM policies, tracing, layers, …) is a warning. Every problem of a
//! template is reported at once.
//!
//! # Why saphyr
//!
//! CloudFormation's short forms are YAML tags (`!GetAtt X.Arn`), so the parser must keep tags,
//! and errors must point at lines and columns. `saphyr` is a maintained, pure-Rust YAML 1.2
//! parser whose `MarkedYaml` keeps every tag (`YamlData::Tagged`) and gives every node a span
//! with line and column; `serde_yaml` is unmaintained, and serde-based parsers either drop
//! tags or positions.
//!
//! - [`error`]: [`Error`], [`Diagnostic`], [`Problem`], [`Report`].
//! - [`model`]: [`Application`] and its streams, queues, functions and mappings.

mod buckets;
mod concurrency;
mod consumers;
mod delivery_streams;
pub mod error;
mod globals;
mod intrinsics;
mod mapping;
pub mod model;
mod node;
mod parameters;
mod reader;
mod resources;

use std::collections::BTreeMap;

use riffle_core::time::Millis;

pub use error::{Diagnostic, Error, Location, Problem, Report, Result, Severity};
pub use model::{
    Application, Bucket, CargoLambdaBuild, DeliveryStream, Function, Mapping, MappingConfig,
    Output, Queue, RedrivePolicy, S3Delivery, SourceKind, Stream, StreamConsumer, StreamMode,
    Template, Transformation,
};

/// The local facts a template is resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The template's file name, used in messages only.
    pub file_name: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::StackName`, also the prefix of default names.
    pub stack_name: String,
    /// Where queue URLs start, e.g. `http://127.0.0.1:4566` (the account id and queue name
    /// follow).
    pub queue_url_base: String,
    /// `--parameter-overrides`, by parameter name.
    pub parameter_overrides: BTreeMap<String, String>,
    /// Now, in epoch milliseconds: Kinesis mappings' `StartingPositionTimestamp` must not be
    /// later.
    pub now_ms: Millis,
}

impl Options {
    /// Riffle's local defaults: region `us-east-1`, account `000000000000`, stack `riffle`,
    /// queue URLs under `http://127.0.0.1:4566`, no overrides.
    pub fn new(file_name: impl Into<String>, now_ms: Millis) -> Self {
        Self {
            file_name: file_name.into(),
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            stack_name: "riffle".to_owned(),
            queue_url_base: "http://127.0.0.1:4566".to_owned(),
            parameter_overrides: BTreeMap::new(),
            now_ms,
        }
    }
}

/// Reads a template.
///
/// # Errors
///
/// [`Error::Invalid`] with every error and warning found, when the template has an error.
pub fn read(source: &str, options: &Options) -> Result<Template> {
    let (application, mut diagnostics) = reader::read(source, options);
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.location.as_ref().map(|l| (l.line, l.column));
        key(a).cmp(&key(b))
    });
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(Error::Invalid {
            report: Report { diagnostics },
        });
    }
    Ok(Template {
        application,
        warnings: diagnostics,
    })
}

/// Parses `--parameter-overrides` items: `Key=Value`, or CloudFormation's
/// `ParameterKey=Key,ParameterValue=Value`. A later item for the same key wins.
///
/// # Errors
///
/// [`Error::ParameterOverride`] for an item of neither form.
pub fn parse_parameter_overrides<S: AsRef<str>>(items: &[S]) -> Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for item in items {
        let text = item.as_ref();
        let invalid = || Error::ParameterOverride {
            text: text.to_owned(),
        };
        let (key, value) = if let Some(rest) = text.strip_prefix("ParameterKey=") {
            let (key, value) = rest.split_once(",ParameterValue=").ok_or_else(invalid)?;
            (key, value)
        } else {
            text.split_once('=').ok_or_else(invalid)?
        };
        if key.is_empty() {
            return Err(invalid());
        }
        overrides.insert(key.to_owned(), value.to_owned());
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests;
