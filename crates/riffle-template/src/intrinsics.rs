//! Intrinsic functions, parameters, pseudo parameters and conditions, evaluated locally.
//!
//! Invariants: a value resolves to what CloudFormation would give it in the caller's local
//! account and region (`Ref` of a stream is its name, of a queue its URL, of a function its
//! name, of a stream consumer its ARN; `Fn::GetAtt X.Arn` an AWS-shaped ARN), or the reason it cannot is recorded where the
//! function is written. `AWS::NoValue` resolves to "absent" (`None`) and removes the key or
//! list item holding it. Conditions may reference parameters and pseudo parameters only, as in
//! CloudFormation. A physical name is computed once per resource, and a name that depends on
//! itself is reported as circular rather than looping.

use std::collections::BTreeMap;

use crate::Options;
use crate::error::{Failed, Problem, Scope, Sink};
use crate::node::{Entry, Node, Pos, Value};

mod conditions;
mod functions;

/// `AWS::Kinesis::Stream`.
pub(crate) const STREAM: &str = "AWS::Kinesis::Stream";
/// `AWS::Kinesis::StreamConsumer`.
pub(crate) const STREAM_CONSUMER: &str = "AWS::Kinesis::StreamConsumer";
/// `AWS::SQS::Queue`.
pub(crate) const QUEUE: &str = "AWS::SQS::Queue";
/// `AWS::S3::Bucket`.
pub(crate) const BUCKET: &str = "AWS::S3::Bucket";
/// `AWS::KinesisFirehose::DeliveryStream`.
pub(crate) const DELIVERY_STREAM: &str = "AWS::KinesisFirehose::DeliveryStream";
/// `AWS::Serverless::Function`.
pub(crate) const FUNCTION: &str = "AWS::Serverless::Function";
/// `AWS::Lambda::EventSourceMapping`.
pub(crate) const EVENT_SOURCE_MAPPING: &str = "AWS::Lambda::EventSourceMapping";

/// Longest names CloudFormation may give each kind of resource.
pub(crate) const STREAM_NAME_MAX: usize = 128;
pub(crate) const QUEUE_NAME_MAX: usize = 80;
pub(crate) const FUNCTION_NAME_MAX: usize = 64;
pub(crate) const BUCKET_NAME_MAX: usize = 63;
pub(crate) const DELIVERY_STREAM_NAME_MAX: usize = 64;

/// The result of resolving a value: `None` is `AWS::NoValue`.
pub(crate) type Resolved = Result<Option<Node>, Failed>;

/// A resource as declared, with what resolution needs. For functions, `properties` already
/// has `Globals` merged in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declaration<'t> {
    pub(crate) logical_id: &'t str,
    pub(crate) at: Pos,
    pub(crate) type_name: &'t str,
    pub(crate) type_at: Pos,
    pub(crate) properties: Option<&'t Node>,
    pub(crate) condition: Option<(&'t str, Pos)>,
    pub(crate) node: &'t Node,
}

/// What `Ref` and `Fn::GetAtt` of a resource give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Stream {
        name: String,
        arn: String,
    },
    /// An enhanced fan-out consumer: `Ref` and `ConsumerARN` give `arn`.
    Consumer {
        name: String,
        arn: String,
        stream_arn: String,
    },
    Queue {
        name: String,
        arn: String,
        url: String,
        fifo: bool,
    },
    Function {
        name: String,
        arn: String,
    },
    /// An S3 bucket: `Ref` gives its name, `Arn` `arn:{partition}:s3:::{name}`.
    Bucket {
        name: String,
        arn: String,
    },
    /// A Firehose delivery stream: `Ref` gives its name.
    DeliveryStream {
        name: String,
        arn: String,
    },
    /// A resource Riffle does not create: references to it cannot be resolved.
    Other {
        type_name: String,
    },
    /// A resource whose Condition is false.
    NotCreated {
        condition: String,
    },
}

#[derive(Debug, Clone)]
enum Memo<T> {
    InProgress,
    Done(T),
    Failed,
}

impl<T: Clone> Memo<T> {
    /// What to remember of a finished computation.
    fn of(result: &Result<T, Failed>) -> Self {
        match result {
            Ok(value) => Memo::Done(value.clone()),
            Err(Failed) => Memo::Failed,
        }
    }
}

/// Values of the pseudo parameters.
#[derive(Debug, Clone)]
struct Pseudo {
    region: String,
    account_id: String,
    stack_name: String,
    partition: String,
    url_suffix: String,
}

/// Evaluates intrinsic functions against one template and one set of local facts.
pub(crate) struct Resolver<'t> {
    pub(crate) sink: Sink,
    pseudo: Pseudo,
    queue_url_base: String,
    /// When the template is read, in epoch seconds: the creation time in consumer ARNs.
    now_s: u64,
    parameters: BTreeMap<String, Node>,
    condition_expressions: BTreeMap<&'t str, &'t Node>,
    conditions: BTreeMap<String, Memo<bool>>,
    mappings: Option<&'t Node>,
    resources: BTreeMap<&'t str, Declaration<'t>>,
    targets: BTreeMap<String, Memo<Target>>,
    in_condition: bool,
}

impl<'t> Resolver<'t> {
    pub(crate) fn new(sink: Sink, options: &Options) -> Self {
        let (partition, url_suffix) = partition_of(&options.region);
        Self {
            sink,
            pseudo: Pseudo {
                region: options.region.clone(),
                account_id: options.account_id.clone(),
                stack_name: options.stack_name.clone(),
                partition: partition.to_owned(),
                url_suffix: url_suffix.to_owned(),
            },
            queue_url_base: options.queue_url_base.trim_end_matches('/').to_owned(),
            now_s: options.now_ms / 1000,
            parameters: BTreeMap::new(),
            condition_expressions: BTreeMap::new(),
            conditions: BTreeMap::new(),
            mappings: None,
            resources: BTreeMap::new(),
            targets: BTreeMap::new(),
            in_condition: false,
        }
    }

    pub(crate) fn set_parameters(&mut self, parameters: BTreeMap<String, Node>) {
        self.parameters = parameters;
    }

    pub(crate) fn set_mappings(&mut self, mappings: Option<&'t Node>) {
        self.mappings = mappings;
    }

    pub(crate) fn set_conditions(&mut self, section: &'t Node) {
        for entry in section.entries().unwrap_or_default() {
            self.condition_expressions.insert(&entry.key, &entry.value);
        }
    }

    pub(crate) fn add_resource(&mut self, declaration: Declaration<'t>) {
        self.resources.insert(declaration.logical_id, declaration);
    }

    /// Evaluates every condition of the `Conditions` section, so that each problem in it is
    /// reported even when no resource uses the condition.
    pub(crate) fn evaluate_all_conditions(&mut self) {
        let names: Vec<(&'t str, Pos)> = self
            .condition_expressions
            .iter()
            .map(|(name, node)| (*name, node.at))
            .collect();
        for (name, at) in names {
            let _ = self.condition(name, at, &Scope::section("Conditions"));
        }
    }

    /// What `memo` already knows of `target`: its value or failure, a cycle (reported as
    /// `cycle`) if it is being computed, or `None` if it has not been.
    fn recall<T>(
        &mut self,
        memo: Option<Memo<T>>,
        target: &str,
        cycle: &str,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Option<Result<T, Failed>> {
        match memo? {
            Memo::Done(value) => Some(Ok(value)),
            Memo::Failed => Some(Err(Failed)),
            Memo::InProgress => Some(Err(self.unresolvable(at, scope, target, cycle))),
        }
    }

    /// Records that `target` cannot be resolved, and why.
    fn unresolvable(
        &mut self,
        at: Pos,
        scope: &Scope<'_>,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) -> Failed {
        let problem = Problem::UnresolvableReference {
            target: target.into(),
            reason: reason.into(),
        };
        self.sink.error(at, scope, problem)
    }

    /// The physical names and ARNs of a resource (computed once).
    pub(crate) fn target(
        &mut self,
        id: &str,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Result<Target, Failed> {
        if self.in_condition {
            let reason = if self.resources.contains_key(id) {
                "conditions can reference parameters and pseudo parameters only, not resources"
            } else {
                "no parameter or pseudo parameter of this template has this name"
            };
            return Err(self.unresolvable(at, scope, id.to_owned(), reason.to_owned()));
        }
        let memo = self.targets.get(id).cloned();
        let cycle = "circular reference: its name depends on itself";
        if let Some(known) = self.recall(memo, id, cycle, at, scope) {
            return known;
        }
        let Some(declaration) = self.resources.get(id).copied() else {
            let reason = if id.starts_with("AWS::") {
                "unknown pseudo parameter (Riffle knows AWS::Region, AWS::AccountId, \
                 AWS::StackName, AWS::StackId, AWS::Partition, AWS::URLSuffix, AWS::NoValue and \
                 AWS::NotificationARNs)"
            } else {
                "no parameter, pseudo parameter or resource of this template has this name"
            };
            return Err(self.unresolvable(at, scope, id.to_owned(), reason.to_owned()));
        };
        self.targets.insert(id.to_owned(), Memo::InProgress);
        let target = self.compute_target(declaration);
        self.targets.insert(id.to_owned(), Memo::of(&target));
        target
    }

    fn compute_target(&mut self, declaration: Declaration<'t>) -> Result<Target, Failed> {
        let id = declaration.logical_id;
        if let Some((condition, at)) = declaration.condition
            && !self.condition(condition, at, &Scope::resource(id, "Condition"))?
        {
            return Ok(Target::NotCreated {
                condition: condition.to_owned(),
            });
        }
        let scope = Scope::resource(id, "Properties");
        let partition = self.pseudo.partition.clone();
        let region = self.pseudo.region.clone();
        let account = self.pseudo.account_id.clone();
        match declaration.type_name {
            STREAM => {
                let name = match self.name_property(declaration, "Name", &scope)? {
                    Some(name) => name,
                    None => default_name(&self.pseudo.stack_name, id, "", STREAM_NAME_MAX),
                };
                let arn = format!("arn:{partition}:kinesis:{region}:{account}:stream/{name}");
                Ok(Target::Stream { name, arn })
            }
            STREAM_CONSUMER => {
                // Both are required (reported where the consumer's properties are read); a
                // consumer without them resolves to empty values.
                let stream_arn = self
                    .name_property(declaration, "StreamARN", &scope)?
                    .unwrap_or_default();
                let name = self
                    .name_property(declaration, "ConsumerName", &scope)?
                    .unwrap_or_default();
                // AWS's consumer ARNs end in the consumer's creation time; `riffle local`
                // replaces this one with the ARN the emulator gives when it registers it.
                let arn = format!("{stream_arn}/consumer/{name}:{}", self.now_s);
                Ok(Target::Consumer {
                    name,
                    arn,
                    stream_arn,
                })
            }
            QUEUE => {
                let fifo = match declaration.properties.and_then(|p| p.get("FifoQueue")) {
                    Some(entry) => {
                        let scope = scope.child("FifoQueue");
                        match self.resolve(&entry.value, &scope)? {
                            Some(value) => self.boolean(&value, &scope)?,
                            None => false,
                        }
                    }
                    None => false,
                };
                let name = match self.name_property(declaration, "QueueName", &scope)? {
                    Some(name) => name,
                    None => default_name(
                        &self.pseudo.stack_name,
                        id,
                        if fifo { ".fifo" } else { "" },
                        QUEUE_NAME_MAX,
                    ),
                };
                let arn = format!("arn:{partition}:sqs:{region}:{account}:{name}");
                let url = format!("{}/{account}/{name}", self.queue_url_base);
                Ok(Target::Queue {
                    name,
                    arn,
                    url,
                    fifo,
                })
            }
            FUNCTION => {
                let name = match self.name_property(declaration, "FunctionName", &scope)? {
                    Some(name) => name,
                    None => default_name(&self.pseudo.stack_name, id, "", FUNCTION_NAME_MAX),
                };
                let arn = format!("arn:{partition}:lambda:{region}:{account}:function:{name}");
                Ok(Target::Function { name, arn })
            }
            BUCKET => {
                // CloudFormation's generated bucket names are lower case (S3 allows no other).
                let name = match self.name_property(declaration, "BucketName", &scope)? {
                    Some(name) => name,
                    None => default_name(&self.pseudo.stack_name, id, "", BUCKET_NAME_MAX)
                        .to_ascii_lowercase(),
                };
                let arn = format!("arn:{partition}:s3:::{name}");
                Ok(Target::Bucket { name, arn })
            }
            DELIVERY_STREAM => {
                let name = match self.name_property(declaration, "DeliveryStreamName", &scope)? {
                    Some(name) => name,
                    None => default_name(&self.pseudo.stack_name, id, "", DELIVERY_STREAM_NAME_MAX),
                };
                let arn =
                    format!("arn:{partition}:firehose:{region}:{account}:deliverystream/{name}");
                Ok(Target::DeliveryStream { name, arn })
            }
            other => Ok(Target::Other {
                type_name: other.to_owned(),
            }),
        }
    }

    fn name_property(
        &mut self,
        declaration: Declaration<'t>,
        property: &str,
        scope: &Scope<'_>,
    ) -> Result<Option<String>, Failed> {
        let Some(entry) = declaration.properties.and_then(|p| p.get(property)) else {
            return Ok(None);
        };
        let scope = scope.child(property);
        match self.resolve(&entry.value, &scope)? {
            Some(value) => self.text(&value, &scope).map(Some),
            None => Ok(None),
        }
    }

    /// A boolean, from YAML or from the strings `true`/`false` a parameter gives.
    pub(crate) fn boolean(&mut self, value: &Node, scope: &Scope<'_>) -> Result<bool, Failed> {
        match &value.value {
            Value::Bool(flag) => Ok(*flag),
            Value::Str(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Value::Str(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.sink.error(
                value.at,
                scope,
                Problem::WrongType {
                    expected: "a boolean".to_owned(),
                    found: value.describe(),
                },
            )),
        }
    }

    /// A resolved scalar as a string.
    pub(crate) fn text(&mut self, value: &Node, scope: &Scope<'_>) -> Result<String, Failed> {
        match value.scalar_text() {
            Some(text) => Ok(text.into_owned()),
            None => Err(self.sink.error(
                value.at,
                scope,
                Problem::WrongType {
                    expected: "a string".to_owned(),
                    found: value.describe(),
                },
            )),
        }
    }

    /// Resolves `node` and requires a scalar, returned as a string.
    pub(crate) fn resolve_text(
        &mut self,
        node: &Node,
        scope: &Scope<'_>,
    ) -> Result<String, Failed> {
        match self.resolve(node, scope)? {
            Some(value) => self.text(&value, scope),
            None => Err(self.sink.error(
                node.at,
                scope,
                Problem::WrongType {
                    expected: "a string".to_owned(),
                    found: "AWS::NoValue".to_owned(),
                },
            )),
        }
    }

    /// Resolves every intrinsic function inside `node`.
    pub(crate) fn resolve(&mut self, node: &Node, scope: &Scope<'_>) -> Resolved {
        if let Some((function, argument)) = node.intrinsic() {
            return self.call(function, argument, node.at, scope);
        }
        match &node.value {
            Value::Map(entries) => {
                let mut resolved = Vec::with_capacity(entries.len());
                let mut failed = false;
                for entry in entries {
                    match self.resolve(&entry.value, &scope.child(&entry.key)) {
                        Ok(Some(value)) => resolved.push(Entry {
                            key: entry.key.clone(),
                            key_at: entry.key_at,
                            value,
                        }),
                        Ok(None) => {}
                        Err(Failed) => failed = true,
                    }
                }
                if failed {
                    Err(Failed)
                } else {
                    Ok(Some(Node::new(Value::Map(resolved), node.at)))
                }
            }
            Value::Seq(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                let mut failed = false;
                for (index, item) in items.iter().enumerate() {
                    match self.resolve(item, &scope.child(&format!("[{index}]"))) {
                        Ok(Some(value)) => resolved.push(value),
                        Ok(None) => {}
                        Err(Failed) => failed = true,
                    }
                }
                if failed {
                    Err(Failed)
                } else {
                    Ok(Some(Node::new(Value::Seq(resolved), node.at)))
                }
            }
            _ => Ok(Some(node.clone())),
        }
    }

    fn unsupported(&mut self, function: &str, reason: &str, at: Pos, scope: &Scope<'_>) -> Failed {
        self.sink.error(
            at,
            scope,
            Problem::UnsupportedIntrinsic {
                name: function.to_owned(),
                reason: reason.to_owned(),
            },
        )
    }

    fn invalid(&mut self, function: &str, reason: &str, at: Pos, scope: &Scope<'_>) -> Failed {
        self.sink.error(
            at,
            scope,
            Problem::InvalidIntrinsic {
                name: function.to_owned(),
                reason: reason.to_owned(),
            },
        )
    }

    fn pseudo_parameter(&self, name: &str, at: Pos) -> Option<Node> {
        let text = match name {
            "AWS::Region" => self.pseudo.region.clone(),
            "AWS::AccountId" => self.pseudo.account_id.clone(),
            "AWS::StackName" => self.pseudo.stack_name.clone(),
            "AWS::Partition" => self.pseudo.partition.clone(),
            "AWS::URLSuffix" => self.pseudo.url_suffix.clone(),
            "AWS::StackId" => format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                self.pseudo.partition,
                self.pseudo.region,
                self.pseudo.account_id,
                self.pseudo.stack_name
            ),
            "AWS::NotificationARNs" => return Some(Node::new(Value::Seq(Vec::new()), at)),
            _ => return None,
        };
        Some(Node::str(text, at))
    }

    fn reference(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Resolved {
        let Some(name) = argument.as_str() else {
            let reason = "takes the name of a parameter, pseudo parameter or resource";
            return Err(self.invalid("Ref", reason, at, scope));
        };
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(value) = self.pseudo_parameter(name, at) {
            return Ok(Some(value));
        }
        if let Some(value) = self.parameters.get(name) {
            let mut value = value.clone();
            relocate(&mut value, at);
            return Ok(Some(value));
        }
        let text = match self.target(name, at, scope)? {
            Target::Stream { name, .. }
            | Target::Function { name, .. }
            | Target::Bucket { name, .. }
            | Target::DeliveryStream { name, .. } => name,
            Target::Queue { url, .. } => url,
            Target::Consumer { arn, .. } => arn,
            target => return Err(self.not_created(name, &target, at, scope)),
        };
        Ok(Some(Node::str(text, at)))
    }

    fn not_created(&mut self, id: &str, target: &Target, at: Pos, scope: &Scope<'_>) -> Failed {
        let reason = match target {
            Target::Other { type_name } => {
                format!("{type_name} resources are not created locally")
            }
            Target::NotCreated { condition } => {
                format!("its Condition {condition} is false, so it is not created")
            }
            _ => "it has no such value".to_owned(),
        };
        self.unresolvable(at, scope, id.to_owned(), reason)
    }

    fn get_att(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Result<String, Failed> {
        let usage = "takes LogicalId.Attribute or [LogicalId, Attribute]";
        let (id, attribute) = match &argument.value {
            Value::Str(text) => match text.split_once('.') {
                Some((id, attribute)) => (id.to_owned(), attribute.to_owned()),
                None => return Err(self.invalid("Fn::GetAtt", usage, at, scope)),
            },
            Value::Seq(items) if items.len() == 2 => {
                let Some(id) = items[0].as_str() else {
                    return Err(self.invalid("Fn::GetAtt", usage, at, scope));
                };
                let attribute = self.resolve_text(&items[1], scope)?;
                (id.to_owned(), attribute)
            }
            _ => return Err(self.invalid("Fn::GetAtt", usage, at, scope)),
        };
        self.attribute(&id, &attribute, at, scope)
    }

    fn attribute(
        &mut self,
        id: &str,
        attribute: &str,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Result<String, Failed> {
        let target = self.target(id, at, scope)?;
        let supported = match (&target, attribute) {
            (Target::Stream { arn, .. } | Target::Function { arn, .. }, "Arn") => {
                return Ok(arn.clone());
            }
            (Target::Queue { arn, .. }, "Arn") => return Ok(arn.clone()),
            (Target::Bucket { arn, .. } | Target::DeliveryStream { arn, .. }, "Arn") => {
                return Ok(arn.clone());
            }
            (Target::Bucket { name, .. }, "DomainName") => {
                return Ok(format!("{name}.s3.{}", self.pseudo.url_suffix));
            }
            (Target::Bucket { name, .. }, "RegionalDomainName") => {
                return Ok(format!(
                    "{name}.s3.{}.{}",
                    self.pseudo.region, self.pseudo.url_suffix
                ));
            }
            (Target::Queue { name, .. }, "QueueName") => return Ok(name.clone()),
            (Target::Queue { url, .. }, "QueueUrl") => return Ok(url.clone()),
            (Target::Consumer { arn, .. }, "ConsumerARN") => return Ok(arn.clone()),
            (Target::Consumer { name, .. }, "ConsumerName") => return Ok(name.clone()),
            (Target::Consumer { stream_arn, .. }, "StreamARN") => return Ok(stream_arn.clone()),
            (Target::Consumer { .. }, "ConsumerStatus") => return Ok("ACTIVE".to_owned()),
            (Target::Consumer { .. }, "ConsumerCreationTimestamp") => {
                return Ok(self.now_s.to_string());
            }
            (Target::Consumer { .. }, _) => {
                "an AWS::Kinesis::StreamConsumer has the attributes ConsumerARN, ConsumerName, \
                 StreamARN, ConsumerStatus and ConsumerCreationTimestamp"
            }
            (Target::Stream { .. }, _) => "an AWS::Kinesis::Stream has the attribute Arn",
            (Target::Function { .. }, _) => {
                "Riffle resolves the attribute Arn of an AWS::Serverless::Function"
            }
            (Target::Queue { .. }, _) => {
                "an AWS::SQS::Queue has the attributes Arn, QueueName and QueueUrl"
            }
            (Target::Bucket { .. }, _) => {
                "Riffle resolves the attributes Arn, DomainName and RegionalDomainName of an \
                 AWS::S3::Bucket"
            }
            (Target::DeliveryStream { .. }, _) => {
                "an AWS::KinesisFirehose::DeliveryStream has the attribute Arn"
            }
            (Target::Other { .. } | Target::NotCreated { .. }, _) => {
                return Err(self.not_created(id, &target, at, scope));
            }
        };
        Err(self.unresolvable(at, scope, format!("{id}.{attribute}"), supported.to_owned()))
    }
}

/// Moves a value (and its items) to the place it is used.
fn relocate(node: &mut Node, at: Pos) {
    node.at = at;
    if let Value::Seq(items) = &mut node.value {
        for item in items {
            item.at = at;
        }
    }
}

/// The partition and URL suffix of a region.
fn partition_of(region: &str) -> (&'static str, &'static str) {
    if region.starts_with("cn-") {
        ("aws-cn", "amazonaws.com.cn")
    } else if region.starts_with("us-gov-") {
        ("aws-us-gov", "amazonaws.com")
    } else {
        ("aws", "amazonaws.com")
    }
}

/// The name Riffle gives a resource whose template sets none: `{stack}-{logical id}` (plus
/// `suffix`, `.fifo` for FIFO queues), cut to `max` characters. CloudFormation adds a random
/// suffix as well; Riffle leaves it out so that a name is the same on every start and a data
/// directory's queues and checkpoints are found again.
pub(crate) fn default_name(stack: &str, logical_id: &str, suffix: &str, max: usize) -> String {
    let base: String = format!("{stack}-{logical_id}")
        .chars()
        .take(max.saturating_sub(suffix.len()))
        .collect();
    format!("{base}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_deterministic_and_fit_the_service_limit() {
        assert_eq!(default_name("app", "Orders", "", 128), "app-Orders");
        assert_eq!(default_name("app", "Jobs", ".fifo", 80), "app-Jobs.fifo");
        let long = "L".repeat(100);
        let name = default_name("app", &long, ".fifo", 80);
        assert_eq!(name.len(), 80);
        assert!(name.ends_with("L.fifo"));
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("us-east-1"), ("aws", "amazonaws.com"));
        assert_eq!(partition_of("cn-north-1"), ("aws-cn", "amazonaws.com.cn"));
        assert_eq!(
            partition_of("us-gov-west-1"),
            ("aws-us-gov", "amazonaws.com")
        );
    }
}
