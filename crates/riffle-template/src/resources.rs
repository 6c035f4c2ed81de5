//! Streams, queues and functions: their properties read into the model and checked against
//! AWS's rules.
//!
//! Invariant: each resource type's properties are listed once, each with how Riffle treats it
//! ([`Handling`]); a property not listed is an error naming the closest listed one.

use crate::error::{Problem, Scope};
use crate::intrinsics::{Declaration, FUNCTION, QUEUE, STREAM, STREAM_NAME_MAX};
use crate::model::{CargoLambdaBuild, Function, Queue, RedrivePolicy, Stream, StreamMode};
use crate::node::{Entry, Node, Pos, Value};
use crate::reader::Handling::{self, Ignored, Read, Silent, Unsupported};
use crate::reader::Reader;

const STREAM_PROPERTIES: &[(&str, Handling)] = &[
    ("Name", Read),
    ("ShardCount", Read),
    ("RetentionPeriodHours", Read),
    ("StreamModeDetails", Read),
    (
        "StreamEncryption",
        Ignored("records are not encrypted at rest locally"),
    ),
    (
        "DesiredShardLevelMetrics",
        Ignored("shard-level metrics are not published locally"),
    ),
    (
        "WarmThroughputMiBps",
        Ignored("throughput is not provisioned locally"),
    ),
    (
        "MaxRecordSizeInKiB",
        Ignored("the emulator keeps Kinesis's 1 MiB record limit"),
    ),
    ("Tags", Silent),
];

const QUEUE_PROPERTIES: &[(&str, Handling)] = &[
    ("QueueName", Read),
    ("FifoQueue", Read),
    ("ContentBasedDeduplication", Read),
    ("VisibilityTimeout", Read),
    ("MessageRetentionPeriod", Read),
    ("DelaySeconds", Read),
    ("ReceiveMessageWaitTimeSeconds", Read),
    ("MaximumMessageSize", Read),
    ("RedrivePolicy", Read),
    (
        "DeduplicationScope",
        Ignored("FIFO deduplication is per queue locally"),
    ),
    (
        "FifoThroughputLimit",
        Ignored("throughput limits are not enforced locally"),
    ),
    (
        "KmsMasterKeyId",
        Ignored("messages are not encrypted at rest locally"),
    ),
    (
        "KmsDataKeyReusePeriodSeconds",
        Ignored("messages are not encrypted at rest locally"),
    ),
    (
        "SqsManagedSseEnabled",
        Ignored("messages are not encrypted at rest locally"),
    ),
    (
        "RedriveAllowPolicy",
        Ignored("any queue may use this one as its dead-letter queue locally"),
    ),
    ("Tags", Silent),
];

const IAM: &str = "IAM permissions are not enforced locally";
const VERSIONS: &str = "versions and aliases are not published locally";
const ASYNC: &str =
    "it applies to asynchronous invocations; event source mappings invoke synchronously";

pub(crate) const FUNCTION_PROPERTIES: &[(&str, Handling)] = &[
    ("Handler", Read),
    ("Runtime", Read),
    ("CodeUri", Read),
    ("FunctionName", Read),
    ("MemorySize", Read),
    ("Timeout", Read),
    ("Environment", Read),
    ("ReservedConcurrentExecutions", Read),
    ("Events", Read),
    ("Architectures", Read),
    ("PackageType", Read),
    ("Description", Silent),
    ("Tags", Silent),
    ("PropagateTags", Silent),
    (
        "InlineCode",
        Unsupported("Riffle builds functions from a Cargo package at CodeUri"),
    ),
    (
        "ImageUri",
        Unsupported("Riffle runs zip-packaged provided.* functions, not images"),
    ),
    (
        "ImageConfig",
        Unsupported("Riffle runs zip-packaged provided.* functions, not images"),
    ),
    ("Policies", Ignored(IAM)),
    ("Role", Ignored(IAM)),
    ("RolePath", Ignored(IAM)),
    ("PermissionsBoundary", Ignored(IAM)),
    ("AssumeRolePolicyDocument", Ignored(IAM)),
    ("Tracing", Ignored("X-Ray tracing is not available locally")),
    (
        "Layers",
        Ignored("layers are not mounted locally; the bootstrap binary runs on its own"),
    ),
    (
        "VpcConfig",
        Ignored("local functions reach the network directly"),
    ),
    ("DeadLetterQueue", Ignored(ASYNC)),
    ("EventInvokeConfig", Ignored(ASYNC)),
    ("AutoPublishAlias", Ignored(VERSIONS)),
    ("AutoPublishAliasAllProperties", Ignored(VERSIONS)),
    ("AutoPublishCodeSha256", Ignored(VERSIONS)),
    ("VersionDescription", Ignored(VERSIONS)),
    ("DeploymentPreference", Ignored(VERSIONS)),
    (
        "ProvisionedConcurrencyConfig",
        Ignored("environments start on demand locally"),
    ),
    ("SnapStart", Ignored("environments start on demand locally")),
    (
        "KmsKeyArn",
        Ignored("environment variables are not encrypted locally"),
    ),
    ("EphemeralStorage", Ignored("/tmp is not limited locally")),
    (
        "LoggingConfig",
        Ignored("function logs are shown by riffle local"),
    ),
    (
        "FileSystemConfigs",
        Ignored("EFS file systems are not mounted locally"),
    ),
    (
        "RuntimeManagementConfig",
        Ignored("the binary runs on the host, not on a managed runtime"),
    ),
    (
        "CodeSigningConfigArn",
        Ignored("code signing is not checked locally"),
    ),
    (
        "FunctionUrlConfig",
        Ignored("function URLs are not served locally"),
    ),
    (
        "RecursiveLoop",
        Ignored("recursive loop detection is not emulated"),
    ),
    ("SourceKMSKeyArn", Ignored("code is not encrypted locally")),
];

/// Environment variables Lambda reserves (an Environment may not set them).
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

impl<'t> Reader<'t> {
    pub(crate) fn read_stream(&mut self, declaration: &Declaration<'t>, name: String, arn: String) {
        let (properties, scope) = self.resource_properties(declaration, STREAM_PROPERTIES, STREAM);
        if let Some(refusal) = STREAM_NAME.refusal(&name) {
            self.invalid_value(properties, "Name", &name, &refusal, &scope);
        }
        let mut on_demand = false;
        if let Some(details) = self.value(properties, "StreamModeDetails", &scope) {
            let details_scope = scope.child("StreamModeDetails");
            self.check(
                Some(&details),
                &[("StreamMode", Read)],
                "StreamModeDetails",
                &details_scope,
            );
            if self.required(Some(&details), "StreamMode", details.at, &details_scope) {
                match self
                    .string(Some(&details), "StreamMode", &details_scope)
                    .as_deref()
                {
                    Some("ON_DEMAND") => on_demand = true,
                    Some("PROVISIONED") | None => {}
                    Some(other) => self.invalid_value(
                        Some(&details),
                        "StreamMode",
                        other,
                        "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]",
                        &details_scope,
                    ),
                }
            }
        }
        let shard_count = self.unsigned(properties, "ShardCount", &scope, 1, u32::MAX);
        if on_demand && properties.and_then(|p| p.get("ShardCount")).is_some() {
            self.invalid_value(
                properties,
                "ShardCount",
                &shard_count.map_or_else(String::new, |n| n.to_string()),
                "ShardCount must not be specified when StreamMode is ON_DEMAND",
                &scope,
            );
        }
        let retention_period_hours = self
            .unsigned(properties, "RetentionPeriodHours", &scope, 24, 8760)
            .unwrap_or(24);
        let location = self.resolver.sink.location(declaration.at);
        self.application.streams.push(Stream {
            logical_id: declaration.logical_id.to_owned(),
            name,
            arn,
            mode: if on_demand {
                StreamMode::OnDemand
            } else {
                StreamMode::Provisioned {
                    shard_count: shard_count.unwrap_or(1),
                }
            },
            retention_period_hours,
            location,
        });
    }

    pub(crate) fn read_queue(
        &mut self,
        declaration: &Declaration<'t>,
        name: String,
        arn: String,
        url: String,
        fifo: bool,
    ) {
        let (properties, scope) = self.resource_properties(declaration, QUEUE_PROPERTIES, QUEUE);
        let base = name.strip_suffix(".fifo").unwrap_or(&name);
        let valid = valid_name(base, if fifo { 75 } else { 80 }, &['_', '-'])
            && (fifo || !name.ends_with(".fifo"));
        if !valid || (fifo && !name.ends_with(".fifo")) {
            let rule = if fifo {
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or \
                 underscores, must end with .fifo suffix and be 1 to 80 in length"
            } else {
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in \
                 length"
            };
            self.invalid_value(properties, "QueueName", &name, rule, &scope);
        }
        let content_based_deduplication = self
            .boolean(properties, "ContentBasedDeduplication", &scope)
            .unwrap_or(false);
        if content_based_deduplication && !fifo {
            self.invalid_value(
                properties,
                "ContentBasedDeduplication",
                "true",
                "ContentBasedDeduplication is only valid for FIFO queues",
                &scope,
            );
        }
        let redrive_policy = self.redrive_policy(properties, &scope);
        let location = self.resolver.sink.location(declaration.at);
        let queue = Queue {
            logical_id: declaration.logical_id.to_owned(),
            name,
            arn,
            url,
            fifo,
            content_based_deduplication,
            visibility_timeout_seconds: self.unsigned(
                properties,
                "VisibilityTimeout",
                &scope,
                0,
                43_200,
            ),
            message_retention_period_seconds: self.unsigned(
                properties,
                "MessageRetentionPeriod",
                &scope,
                60,
                1_209_600,
            ),
            delay_seconds: self.unsigned(properties, "DelaySeconds", &scope, 0, 900),
            receive_message_wait_time_seconds: self.unsigned(
                properties,
                "ReceiveMessageWaitTimeSeconds",
                &scope,
                0,
                20,
            ),
            maximum_message_size: self.unsigned(
                properties,
                "MaximumMessageSize",
                &scope,
                1024,
                1_048_576,
            ),
            redrive_policy,
            location,
        };
        self.application.queues.push(queue);
    }

    fn redrive_policy(
        &mut self,
        properties: Option<&Node>,
        scope: &Scope<'_>,
    ) -> Option<RedrivePolicy> {
        let mut policy = self.value(properties, "RedrivePolicy", scope)?;
        let scope = scope.child("RedrivePolicy");
        if let Some(text) = policy.as_str() {
            // CloudFormation also takes the policy as the JSON string SQS stores.
            let parsed = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|json| json_to_node(&json, policy.at));
            match parsed {
                Some(node) => policy = node,
                None => {
                    self.resolver.sink.error(
                        policy.at,
                        &scope,
                        Problem::WrongType {
                            expected: "a mapping (or its JSON string)".to_owned(),
                            found: policy.describe(),
                        },
                    );
                    return None;
                }
            }
        }
        self.check(
            Some(&policy),
            &[("deadLetterTargetArn", Read), ("maxReceiveCount", Read)],
            "RedrivePolicy",
            &scope,
        );
        let arn_present = self.required(Some(&policy), "deadLetterTargetArn", policy.at, &scope);
        let count_present = self.required(Some(&policy), "maxReceiveCount", policy.at, &scope);
        let dead_letter_target_arn = self.string(Some(&policy), "deadLetterTargetArn", &scope);
        let max_receive_count = self.unsigned(Some(&policy), "maxReceiveCount", &scope, 1, 1000);
        if let Some(arn) = &dead_letter_target_arn
            && !is_arn_of(arn, "sqs")
        {
            self.invalid_value(
                Some(&policy),
                "deadLetterTargetArn",
                arn,
                "must be the ARN of an SQS queue",
                &scope,
            );
            return None;
        }
        if !(arn_present && count_present) {
            return None;
        }
        Some(RedrivePolicy {
            dead_letter_target_arn: dead_letter_target_arn?,
            max_receive_count: max_receive_count?,
        })
    }

    /// A dead-letter queue must exist and be FIFO exactly when its source queue is.
    pub(crate) fn check_dead_letter_queues(&mut self) {
        let queues = self.application.queues.clone();
        for queue in &queues {
            let Some(policy) = &queue.redrive_policy else {
                continue;
            };
            let at = queue.location.as_ref().map_or(Pos::default(), |l| Pos {
                line: l.line,
                column: l.column,
            });
            let scope = Scope::resource(
                &queue.logical_id,
                "Properties.RedrivePolicy.deadLetterTargetArn",
            );
            match queues
                .iter()
                .find(|q| q.arn == policy.dead_letter_target_arn)
            {
                Some(target) if target.fifo != queue.fifo => {
                    self.resolver.sink.error(
                        at,
                        &scope,
                        Problem::InvalidValue {
                            property: "deadLetterTargetArn".to_owned(),
                            value: policy.dead_letter_target_arn.clone(),
                            rule: "the dead-letter queue of a FIFO queue must also be a FIFO \
                                   queue, and of a standard queue a standard queue"
                                .to_owned(),
                        },
                    );
                }
                Some(_) => {}
                None => self.resolver.sink.warning(
                    at,
                    &scope,
                    Problem::ExternalResource {
                        arn: policy.dead_letter_target_arn.clone(),
                        kind: "queue".to_owned(),
                        consequence: "Riffle does not create it; SQS refuses the redrive policy \
                                      unless the queue already exists"
                            .to_owned(),
                    },
                ),
            }
        }
    }

    pub(crate) fn read_function(
        &mut self,
        declaration: &Declaration<'t>,
        name: String,
        arn: String,
    ) {
        let id = declaration.logical_id;
        let (properties, scope) =
            self.resource_properties(declaration, FUNCTION_PROPERTIES, FUNCTION);
        if let Some(refusal) = FUNCTION_NAME.refusal(&name) {
            self.invalid_value(properties, "FunctionName", &name, &refusal, &scope);
        }
        if let Some(package_type) = self.string(properties, "PackageType", &scope)
            && package_type != "Zip"
        {
            self.resolver.sink.error(
                properties
                    .and_then(|p| p.get("PackageType"))
                    .map_or(declaration.at, |e| e.value.at),
                &scope.child("PackageType"),
                Problem::UnsupportedProperty {
                    property: format!("PackageType {package_type}"),
                    reason: "Riffle runs zip-packaged provided.* functions".to_owned(),
                },
            );
        }
        let mut code_uri = String::new();
        if self.required(properties, "CodeUri", declaration.at, &scope)
            && let Some(value) = self.value(properties, "CodeUri", &scope)
        {
            match value.scalar_text() {
                Some(text) => code_uri = text.into_owned(),
                None => {
                    self.resolver.sink.error(
                        value.at,
                        &scope.child("CodeUri"),
                        Problem::UnsupportedProperty {
                            property: "CodeUri".to_owned(),
                            reason: format!(
                                "Riffle builds functions from source: CodeUri must be the local \
                                 directory of the Cargo package, found {}",
                                value.describe()
                            ),
                        },
                    );
                }
            }
        }
        let mut handler = String::new();
        if self.required(properties, "Handler", declaration.at, &scope) {
            handler = self
                .string(properties, "Handler", &scope)
                .unwrap_or_default();
        }
        let mut runtime = String::new();
        if self.required(properties, "Runtime", declaration.at, &scope)
            && let Some(value) = self.string(properties, "Runtime", &scope)
        {
            if !matches!(
                value.as_str(),
                "provided.al2023" | "provided.al2" | "provided"
            ) {
                self.invalid_value(
                    properties,
                    "Runtime",
                    &value,
                    "Riffle runs custom-runtime functions (provided.al2023, provided.al2): a \
                     Rust bootstrap binary",
                    &scope,
                );
            }
            runtime = value;
        }
        let architecture = match self.value(properties, "Architectures", &scope) {
            Some(value) => {
                let scope = scope.child("Architectures");
                match value.items() {
                    Some([single]) => match single.as_str() {
                        Some(text @ ("x86_64" | "arm64")) => text.to_owned(),
                        _ => {
                            self.resolver.sink.error(
                                single.at,
                                &scope,
                                Problem::InvalidValue {
                                    property: "Architectures".to_owned(),
                                    value: single.describe(),
                                    rule: "Member must satisfy enum value set: [x86_64, arm64]"
                                        .to_owned(),
                                },
                            );
                            String::new()
                        }
                    },
                    _ => {
                        self.resolver.sink.error(
                            value.at,
                            &scope,
                            Problem::WrongType {
                                expected: "a list of one architecture".to_owned(),
                                found: value.describe(),
                            },
                        );
                        String::new()
                    }
                }
            }
            None => "x86_64".to_owned(),
        };
        let timeout_seconds = self
            .unsigned(properties, "Timeout", &scope, 1, 900)
            .unwrap_or(3);
        let memory_size_mb = self
            .unsigned(properties, "MemorySize", &scope, 128, 10_240)
            .unwrap_or(128);
        let reserved_concurrent_executions = self.unsigned(
            properties,
            "ReservedConcurrentExecutions",
            &scope,
            0,
            u32::MAX,
        );
        let environment = self.environment(properties, &scope);
        let build = self.build_metadata(declaration);
        let location = self.resolver.sink.location(declaration.at);
        self.application.functions.push(Function {
            logical_id: id.to_owned(),
            name,
            arn,
            code_uri,
            handler,
            runtime,
            architecture,
            timeout_seconds,
            memory_size_mb,
            environment,
            reserved_concurrent_executions,
            build,
            location,
        });
    }

    fn environment(
        &mut self,
        properties: Option<&Node>,
        scope: &Scope<'_>,
    ) -> Vec<(String, String)> {
        let mut variables = Vec::new();
        let Some(environment) = self.value(properties, "Environment", scope) else {
            return variables;
        };
        let scope = scope.child("Environment");
        self.check(
            Some(&environment),
            &[("Variables", Read)],
            "Environment",
            &scope,
        );
        let Some(entry) = environment.get("Variables") else {
            return variables;
        };
        let scope = scope.child("Variables");
        let Some(entries) = entry.value.entries() else {
            self.resolver.sink.error(
                entry.value.at,
                &scope,
                Problem::WrongType {
                    expected: "a mapping of names to values".to_owned(),
                    found: entry.value.describe(),
                },
            );
            return variables;
        };
        for variable in entries {
            let key = &variable.key;
            let valid = key.len() >= 2
                && key.starts_with(|c: char| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.resolver.sink.error(
                    variable.key_at,
                    &scope.child(key),
                    Problem::InvalidValue {
                        property: "Environment.Variables".to_owned(),
                        value: key.clone(),
                        rule: "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+"
                            .to_owned(),
                    },
                );
            } else if RESERVED_VARIABLES.contains(&key.as_str()) {
                self.resolver.sink.error(
                    variable.key_at,
                    &scope.child(key),
                    Problem::InvalidValue {
                        property: "Environment.Variables".to_owned(),
                        value: key.clone(),
                        rule: "Lambda reserves this variable; it cannot be set".to_owned(),
                    },
                );
            }
            match &variable.value.value {
                Value::Null => variables.push((key.clone(), String::new())),
                _ => {
                    if let Ok(text) = self.resolver.text(&variable.value, &scope.child(key)) {
                        variables.push((key.clone(), text));
                    }
                }
            }
        }
        variables
    }

    fn build_metadata(&mut self, declaration: &Declaration<'t>) -> Option<CargoLambdaBuild> {
        let metadata = &declaration.node.get("Metadata")?.value;
        let scope = Scope::resource(declaration.logical_id, "Metadata");
        let method = metadata.get("BuildMethod");
        let properties = metadata.get("BuildProperties");
        if method.is_none() && properties.is_none() {
            return None;
        }
        match method.map(|m| (&m.value, m.value.as_str())) {
            Some((_, Some("rust-cargolambda"))) => {}
            Some((value, _)) => {
                self.resolver.sink.error(
                    value.at,
                    &scope.child("BuildMethod"),
                    Problem::UnsupportedProperty {
                        property: format!("BuildMethod {}", value.describe()),
                        reason: "Riffle builds Rust functions: use BuildMethod: rust-cargolambda"
                            .to_owned(),
                    },
                );
                return None;
            }
            None => {
                self.resolver.sink.missing(
                    declaration.at,
                    &scope,
                    "BuildMethod (rust-cargolambda)",
                );
                return None;
            }
        }
        let mut binary = None;
        if let Some(properties) = properties {
            let scope = scope.child("BuildProperties");
            self.check(
                Some(&properties.value),
                &[("Binary", Read)],
                "BuildProperties of rust-cargolambda",
                &scope,
            );
            binary = self.string(Some(&properties.value), "Binary", &scope);
        }
        Some(CargoLambdaBuild { binary })
    }
}

/// An AWS rule for a resource's name: 1 to `max` ASCII letters, digits and `extra`, refused
/// in AWS's words, which quote `pattern`.
pub(crate) struct NameRule {
    pub(crate) max: usize,
    pub(crate) extra: &'static [char],
    pub(crate) pattern: &'static str,
}

/// Kinesis's rule for stream names (and, the same, for consumer names).
pub(crate) const STREAM_NAME: NameRule = NameRule {
    max: STREAM_NAME_MAX,
    extra: &['_', '.', '-'],
    pattern: "[a-zA-Z0-9_.-]+",
};

/// Lambda's rule for function names.
const FUNCTION_NAME: NameRule = NameRule {
    max: 64,
    extra: &['_', '-'],
    pattern: "[a-zA-Z0-9-_]+",
};

impl NameRule {
    /// Whether `name` follows the rule.
    pub(crate) fn allows(&self, name: &str) -> bool {
        valid_name(name, self.max, self.extra)
    }

    /// AWS's words for a `name` that breaks the rule; `None` if it follows it.
    pub(crate) fn refusal(&self, name: &str) -> Option<String> {
        (!self.allows(name)).then(|| {
            format!(
                "Member must have length between 1 and {} and satisfy regular expression \
                 pattern: {}",
                self.max, self.pattern
            )
        })
    }
}

/// Whether `name` is 1 to `max` characters of ASCII letters, digits and `extra`.
fn valid_name(name: &str, max: usize, extra: &[char]) -> bool {
    !name.is_empty()
        && name.chars().count() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// Whether `arn` is an ARN of `service`.
pub(crate) fn is_arn_of(arn: &str, service: &str) -> bool {
    arn_service(arn) == Some(service)
}

/// The service of an ARN (`arn:partition:service:…`).
pub(crate) fn arn_service(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn" && parts.next()?.starts_with("aws")).then_some(())?;
    parts.next()
}

/// JSON (a policy written as a string) as a located node.
fn json_to_node(json: &serde_json::Value, at: Pos) -> Option<Node> {
    let value = match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => Value::Int(integer),
            None => Value::Float(number.as_f64()?),
        },
        serde_json::Value::String(text) => Value::Str(text.clone()),
        serde_json::Value::Array(items) => Value::Seq(
            items
                .iter()
                .map(|item| json_to_node(item, at))
                .collect::<Option<_>>()?,
        ),
        serde_json::Value::Object(object) => Value::Map(
            object
                .iter()
                .map(|(key, value)| {
                    Some(Entry {
                        key: key.clone(),
                        key_at: at,
                        value: json_to_node(value, at)?,
                    })
                })
                .collect::<Option<_>>()?,
        ),
    };
    Some(Node::new(value, at))
}
