//! Everything that can be wrong with a template, located.
//!
//! Invariant: a problem is never dropped. Reading goes on after an error so that one run
//! reports every problem of the template at once; a [`Diagnostic`] says where (file, line,
//! column), in which resource, at which property path, and what AWS's rule is. Errors stop
//! `riffle local`; warnings name what is accepted but has no effect locally.

use std::fmt;

use riffle_core::config::ConfigErrorKind;

use crate::node::Pos;

/// The crate's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The template has at least one error; the report holds every error and warning found.
    #[error("{report}")]
    Invalid {
        /// Every problem found, errors and warnings, in template order.
        report: Report,
    },
    /// A `--parameter-overrides` item is neither `Key=Value` nor
    /// `ParameterKey=Key,ParameterValue=Value`.
    #[error(
        "invalid parameter override {text:?}: expected Key=Value or \
         ParameterKey=Key,ParameterValue=Value"
    )]
    ParameterOverride {
        /// The item as given.
        text: String,
    },
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a problem stops `riffle local`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Accepted, but has no effect locally (IAM policies, tracing, …), or runs as written with
    /// a risk worth naming (reserved concurrency under an SQS mapping).
    Warning,
    /// The template cannot run as written.
    Error,
}

/// A place in the template's text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file name the caller gave (for messages only; nothing is read).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One problem of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the template; `None` for problems of the command line (parameter overrides).
    pub location: Option<Location>,
    /// The logical id of the resource (or the parameter, condition or output) concerned.
    pub resource: Option<String>,
    /// The property path inside it, e.g. `Properties.Events.Orders.Properties.BatchSize`;
    /// empty when the problem is the resource (or section) itself.
    pub path: String,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong, with the names involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The text is not YAML, or not one YAML mapping.
    #[error("invalid YAML: {message}")]
    Yaml {
        /// The parser's message.
        message: String,
    },
    /// A resource type Riffle does not run.
    #[error("unsupported resource type {resource_type}: {reason}")]
    UnsupportedResourceType {
        /// E.g. `AWS::DynamoDB::Table`.
        resource_type: String,
        /// Why, and what is supported.
        reason: String,
    },
    /// A resource type that has no local effect (IAM roles, queue policies, …).
    #[error("{resource_type} is not created locally: {reason}")]
    IgnoredResource {
        /// E.g. `AWS::IAM::Role`.
        resource_type: String,
        /// Why it does not matter locally.
        reason: String,
    },
    /// An event type of a function that Riffle does not run.
    #[error("unsupported event type {event_type}: Riffle runs Kinesis and SQS event sources only")]
    UnsupportedEventType {
        /// E.g. `Api`.
        event_type: String,
    },
    /// A property (or section, or attribute) the resource type does not define.
    #[error("property {property} not defined for {owner}{}", suggestion_text(.suggestion))]
    UnknownProperty {
        /// The name as written.
        property: String,
        /// What it was found in, e.g. `resource of type Kinesis` or `AWS::SQS::Queue`.
        owner: String,
        /// The closest defined name, if one is close.
        suggestion: Option<String>,
    },
    /// A required property is absent.
    #[error("missing required property {property}")]
    MissingProperty {
        /// Its name.
        property: String,
    },
    /// A defined property or value Riffle cannot honour locally.
    #[error("unsupported {property}: {reason}")]
    UnsupportedProperty {
        /// Its name (and value, where that is the problem).
        property: String,
        /// Why, and what is supported.
        reason: String,
    },
    /// A defined property that has no effect locally.
    #[error("{property} is ignored locally: {reason}")]
    IgnoredProperty {
        /// Its name.
        property: String,
        /// Why that is harmless.
        reason: String,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the property takes, e.g. `an integer`.
        expected: String,
        /// What was there.
        found: String,
    },
    /// A value outside what AWS accepts.
    #[error("invalid value {value} for {property}: {rule}")]
    InvalidValue {
        /// The property.
        property: String,
        /// The value, as written or resolved.
        value: String,
        /// AWS's rule.
        rule: String,
    },
    /// A tag or `Fn::` function CloudFormation does not define.
    #[error("unknown intrinsic function {name}")]
    UnknownIntrinsic {
        /// As written, e.g. `!Foo` or `Fn::Foo`.
        name: String,
    },
    /// A CloudFormation intrinsic function Riffle cannot evaluate locally.
    #[error("intrinsic function {name} is not supported locally: {reason}")]
    UnsupportedIntrinsic {
        /// E.g. `Fn::ImportValue`.
        name: String,
        /// Why.
        reason: String,
    },
    /// An intrinsic function with arguments of the wrong shape.
    #[error("invalid {name}: {reason}")]
    InvalidIntrinsic {
        /// E.g. `Fn::Join`.
        name: String,
        /// What its arguments must be.
        reason: String,
    },
    /// A `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, condition or map entry that names nothing
    /// Riffle can resolve.
    #[error("cannot resolve {target}: {reason}")]
    UnresolvableReference {
        /// What was named, e.g. `OrderEvents.StreamArn`.
        target: String,
        /// Why it cannot be resolved.
        reason: String,
    },
    /// A parameter without a value, or whose value breaks its constraints, or an override for
    /// no parameter.
    #[error("parameter {name}: {reason}")]
    Parameter {
        /// The parameter's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An event source mapping setting refused by riffle-core's validation, with AWS's message.
    #[error("{message} ({})", kind_name(.kind))]
    MappingRule {
        /// AWS's property name, e.g. `ParallelizationFactor`.
        property: &'static str,
        /// Which AWS exception CreateEventSourceMapping would throw.
        kind: ConfigErrorKind,
        /// AWS's message.
        message: String,
    },
    /// Two mappings of the same function on the same source, which AWS refuses.
    #[error(
        "The event source arn (\" {event_source_arn} \") and function (\" {function_name} \") \
         provided mapping already exists (also defined by {other}) (ResourceConflictException)"
    )]
    DuplicateMapping {
        /// The stream or queue ARN.
        event_source_arn: String,
        /// The function's name.
        function_name: String,
        /// The logical id of the first mapping.
        other: String,
    },
    /// An SQS mapping whose function's reserved concurrency is below what its pollers may
    /// want: no ScalingConfig.MaximumConcurrency, or one above the reserved concurrency.
    #[error(
        "function {function} has ReservedConcurrentExecutions {reserved}, but {}",
        crate::concurrency::risk_text(*.reserved, *.maximum_concurrency)
    )]
    ReservedConcurrencyRisk {
        /// The function's name.
        function: String,
        /// Its ReservedConcurrentExecutions.
        reserved: u32,
        /// The mapping's ScalingConfig.MaximumConcurrency, if set.
        maximum_concurrency: Option<u32>,
    },
    /// An ARN that names no stream, stream consumer or queue of this template (it may exist elsewhere, for
    /// example with `--endpoint-url` pointing at AWS).
    #[error("{arn} is not a {kind} of this template: {consequence}")]
    ExternalResource {
        /// The ARN.
        arn: String,
        /// `stream`, `stream consumer` or `queue`.
        kind: String,
        /// What Riffle will and will not do about it.
        consequence: String,
    },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or_else(String::new, |name| format!(" (did you mean {name}?)"))
}

fn kind_name(kind: &ConfigErrorKind) -> &'static str {
    match kind {
        ConfigErrorKind::Validation => "ValidationException",
        ConfigErrorKind::InvalidParameterValue => "InvalidParameterValueException",
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        f.write_str(match self.severity {
            Severity::Error => "error: ",
            Severity::Warning => "warning: ",
        })?;
        if let Some(resource) = &self.resource {
            write!(f, "{resource}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.problem)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Every problem found in a template, in template order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Whether anything stops the template from running.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.diagnostics {
            writeln!(f, "{diagnostic}")?;
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        write!(
            f,
            "{errors} error{}, {warnings} warning{}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        )
    }
}

/// A problem already recorded in the [`Sink`]; the caller gives up on the value concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

/// Collects diagnostics while a template is read.
#[derive(Debug)]
pub(crate) struct Sink {
    file: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn location(&self, at: Pos) -> Option<Location> {
        (at.line > 0).then(|| Location {
            file: self.file.clone(),
            line: at.line,
            column: at.column,
        })
    }

    /// Records an error and returns the marker to propagate.
    pub(crate) fn error(&mut self, at: Pos, scope: &Scope<'_>, problem: Problem) -> Failed {
        self.push(Severity::Error, at, scope, problem);
        Failed
    }

    /// An error: the required `property` is missing.
    pub(crate) fn missing(
        &mut self,
        at: Pos,
        scope: &Scope<'_>,
        property: impl Into<String>,
    ) -> Failed {
        self.error(
            at,
            scope,
            Problem::MissingProperty {
                property: property.into(),
            },
        )
    }

    /// The string `Type` of `body` (a resource's or a parameter's, declared at `at`) and where it
    /// stands, or an error saying it is missing or not `expected`.
    pub(crate) fn type_name<'n>(
        &mut self,
        body: &'n crate::node::Node,
        at: Pos,
        scope: &Scope<'_>,
        expected: &str,
    ) -> Option<(&'n str, Pos)> {
        let Some(entry) = body.get("Type") else {
            self.missing(at, scope, "Type");
            return None;
        };
        let name = entry.value.as_str().map(|name| (name, entry.value.at));
        if name.is_none() {
            self.error(
                entry.value.at,
                &scope.child("Type"),
                Problem::WrongType {
                    expected: expected.to_owned(),
                    found: entry.value.describe(),
                },
            );
        }
        name
    }

    pub(crate) fn warning(&mut self, at: Pos, scope: &Scope<'_>, problem: Problem) {
        self.push(Severity::Warning, at, scope, problem);
    }

    fn push(&mut self, severity: Severity, at: Pos, scope: &Scope<'_>, problem: Problem) {
        let diagnostic = Diagnostic {
            severity,
            location: self.location(at),
            resource: scope.resource.map(str::to_owned),
            path: scope.path.clone(),
            problem,
        };
        if !self.diagnostics.contains(&diagnostic) {
            self.diagnostics.push(diagnostic);
        }
    }

    pub(crate) fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// Where a value sits, for messages: the resource (or parameter, condition, output) and the
/// property path inside it.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    pub(crate) resource: Option<&'a str>,
    pub(crate) path: String,
}

impl<'a> Scope<'a> {
    pub(crate) fn resource(resource: &'a str, path: &str) -> Self {
        Self {
            resource: Some(resource),
            path: path.to_owned(),
        }
    }

    pub(crate) fn section(path: &str) -> Self {
        Self {
            resource: None,
            path: path.to_owned(),
        }
    }

    /// The scope of a property (or list index, written `[i]`) inside this one.
    pub(crate) fn child(&self, key: &str) -> Self {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else if key.starts_with('[') {
            format!("{}{key}", self.path)
        } else {
            format!("{}.{key}", self.path)
        };
        Self {
            resource: self.resource,
            path,
        }
    }
}
