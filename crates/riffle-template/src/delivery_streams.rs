//! `AWS::KinesisFirehose::DeliveryStream`: a delivery stream to S3, direct-put or reading one of
//! the template's Kinesis streams, with an optional Lambda transformation, read into the model
//! and checked against Firehose's rules for CreateDeliveryStream.
//!
//! Invariant: a delivery stream in the model delivers to S3 (any other destination is an error
//! naming it), its settings are within Firehose's ranges, and a transformation names a function
//! of this template; whatever Firehose would do that Riffle does not is a warning or an error,
//! never silently dropped.

use riffle_core::destination::s3_bucket;

use crate::error::{Problem, Scope};
use crate::intrinsics::{DELIVERY_STREAM, DELIVERY_STREAM_NAME_MAX, Declaration, Target};
use crate::model::{DeliveryStream, S3Delivery, Transformation};
use crate::node::{Node, Value};
use crate::reader::Handling::{self, Ignored, Read, Silent, Unsupported};
use crate::reader::Reader;
use crate::resources::{NameRule, is_arn_of};

const LOGS: &str =
    "Firehose's CloudWatch logs are not emulated; riffle local shows delivery errors";
const AT_REST: &str = "objects are not encrypted at rest locally";
const S3_ONLY: &str = "Riffle's delivery streams deliver to S3 only";

/// Firehose's rule for delivery stream names.
const DELIVERY_STREAM_NAME: NameRule = NameRule {
    max: DELIVERY_STREAM_NAME_MAX,
    extra: &['_', '.', '-'],
    pattern: "[a-zA-Z0-9_.-]+",
};

const DELIVERY_STREAM_PROPERTIES: &[(&str, Handling)] = &[
    ("DeliveryStreamName", Read),
    ("DeliveryStreamType", Read),
    ("KinesisStreamSourceConfiguration", Read),
    ("ExtendedS3DestinationConfiguration", Read),
    ("S3DestinationConfiguration", Read),
    (
        "DeliveryStreamEncryptionConfigurationInput",
        Ignored(AT_REST),
    ),
    (
        "DirectPutSourceConfiguration",
        Ignored("throughput hints do not apply locally"),
    ),
    ("Tags", Silent),
    (
        "AmazonOpenSearchServerlessDestinationConfiguration",
        Unsupported(S3_ONLY),
    ),
    (
        "AmazonopensearchserviceDestinationConfiguration",
        Unsupported(S3_ONLY),
    ),
    (
        "ElasticsearchDestinationConfiguration",
        Unsupported(S3_ONLY),
    ),
    ("HttpEndpointDestinationConfiguration", Unsupported(S3_ONLY)),
    ("IcebergDestinationConfiguration", Unsupported(S3_ONLY)),
    ("RedshiftDestinationConfiguration", Unsupported(S3_ONLY)),
    ("SnowflakeDestinationConfiguration", Unsupported(S3_ONLY)),
    ("SplunkDestinationConfiguration", Unsupported(S3_ONLY)),
    (
        "MSKSourceConfiguration",
        Unsupported("Riffle's delivery streams read Kinesis streams or take direct puts"),
    ),
    (
        "DatabaseSourceConfiguration",
        Unsupported("Riffle's delivery streams read Kinesis streams or take direct puts"),
    ),
];

const SOURCE_PROPERTIES: &[(&str, Handling)] = &[("KinesisStreamARN", Read), ("RoleARN", Silent)];

/// `S3DestinationConfiguration`, and the part `ExtendedS3DestinationConfiguration` shares.
const S3_PROPERTIES: &[(&str, Handling)] = &[
    ("BucketARN", Read),
    ("RoleARN", Silent),
    ("Prefix", Read),
    ("ErrorOutputPrefix", Read),
    ("BufferingHints", Read),
    ("CompressionFormat", Read),
    ("CloudWatchLoggingOptions", Ignored(LOGS)),
    ("EncryptionConfiguration", Ignored(AT_REST)),
];

const EXTENDED_S3_PROPERTIES: &[(&str, Handling)] = &[
    ("BucketARN", Read),
    ("RoleARN", Silent),
    ("Prefix", Read),
    ("ErrorOutputPrefix", Read),
    ("BufferingHints", Read),
    ("CompressionFormat", Read),
    ("ProcessingConfiguration", Read),
    ("S3BackupMode", Read),
    ("S3BackupConfiguration", Read),
    ("CloudWatchLoggingOptions", Ignored(LOGS)),
    ("EncryptionConfiguration", Ignored(AT_REST)),
    (
        "DataFormatConversionConfiguration",
        Unsupported("Riffle does not convert records to Parquet or ORC"),
    ),
    (
        "DynamicPartitioningConfiguration",
        Unsupported("Riffle does not partition deliveries dynamically"),
    ),
    (
        "FileExtension",
        Unsupported("Riffle names objects with Firehose's default extensions"),
    ),
    (
        "CustomTimeZone",
        Unsupported("Riffle dates object keys in UTC, Firehose's default"),
    ),
];

const PROCESSOR_PARAMETERS: &[&str] = &[
    "LambdaArn",
    "NumberOfRetries",
    "RoleArn",
    "BufferSizeInMBs",
    "BufferIntervalInSeconds",
];

impl<'t> Reader<'t> {
    pub(crate) fn read_delivery_stream(&mut self, declaration: &Declaration<'t>) {
        let id = declaration.logical_id;
        let (name, arn) = match self
            .resolver
            .target(id, declaration.at, &Scope::resource(id, ""))
        {
            Ok(Target::DeliveryStream { name, arn }) => (name, arn),
            _ => (id.to_owned(), String::new()),
        };
        let (properties, scope) =
            self.resource_properties(declaration, DELIVERY_STREAM_PROPERTIES, DELIVERY_STREAM);
        if let Some(refusal) = DELIVERY_STREAM_NAME.refusal(&name) {
            self.invalid_value(properties, "DeliveryStreamName", &name, &refusal, &scope);
        }
        let kind = self.string(properties, "DeliveryStreamType", &scope);
        let source_stream_arn = match kind.as_deref() {
            None | Some("DirectPut") => {
                if properties
                    .and_then(|p| p.get("KinesisStreamSourceConfiguration"))
                    .is_some()
                {
                    self.invalid_value(
                        properties,
                        "KinesisStreamSourceConfiguration",
                        "set",
                        "only a delivery stream of DeliveryStreamType KinesisStreamAsSource \
                         reads a Kinesis stream",
                        &scope,
                    );
                }
                None
            }
            Some("KinesisStreamAsSource") => self.kinesis_source(properties, declaration, &scope),
            Some(other) => {
                self.invalid_value(
                    properties,
                    "DeliveryStreamType",
                    other,
                    "Riffle runs the types DirectPut and KinesisStreamAsSource",
                    &scope,
                );
                None
            }
        };
        let extended = self.value(properties, "ExtendedS3DestinationConfiguration", &scope);
        let plain = self.value(properties, "S3DestinationConfiguration", &scope);
        let destination = match (extended, plain) {
            (Some(extended), None) => {
                let scope = scope.child("ExtendedS3DestinationConfiguration");
                self.check(
                    Some(&extended),
                    EXTENDED_S3_PROPERTIES,
                    "an ExtendedS3DestinationConfiguration",
                    &scope,
                );
                self.extended_s3(&extended, &scope)
            }
            (None, Some(plain)) => {
                let scope = scope.child("S3DestinationConfiguration");
                self.check(
                    Some(&plain),
                    S3_PROPERTIES,
                    "an S3DestinationConfiguration",
                    &scope,
                );
                self.s3_delivery(&plain, &scope)
            }
            (Some(_), Some(_)) => {
                self.invalid_value(
                    properties,
                    "S3DestinationConfiguration",
                    "set",
                    "a delivery stream has one destination: set ExtendedS3DestinationConfiguration \
                     or S3DestinationConfiguration, not both",
                    &scope,
                );
                S3Delivery::default()
            }
            (None, None) => {
                self.resolver.sink.missing(
                    declaration.at,
                    &scope,
                    "ExtendedS3DestinationConfiguration",
                );
                S3Delivery::default()
            }
        };
        let location = self.resolver.sink.location(declaration.at);
        self.application.delivery_streams.push(DeliveryStream {
            logical_id: id.to_owned(),
            name,
            arn,
            source_stream_arn,
            destination,
            location,
        });
    }

    fn kinesis_source(
        &mut self,
        properties: Option<&'t Node>,
        declaration: &Declaration<'t>,
        scope: &Scope<'_>,
    ) -> Option<String> {
        let key = "KinesisStreamSourceConfiguration";
        if !self.required(properties, key, declaration.at, scope) {
            return None;
        }
        let source = self.value(properties, key, scope)?;
        let scope = scope.child(key);
        self.check(
            Some(&source),
            SOURCE_PROPERTIES,
            "a KinesisStreamSourceConfiguration",
            &scope,
        );
        if !self.required(Some(&source), "KinesisStreamARN", source.at, &scope) {
            return None;
        }
        let arn = self.string(Some(&source), "KinesisStreamARN", &scope)?;
        if self.application.stream_by_arn(&arn).is_none() {
            let rule = if is_arn_of(&arn, "kinesis") {
                "names no AWS::Kinesis::Stream of this template: use !GetAtt Stream.Arn of one"
            } else {
                "must be a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): use \
                 !GetAtt Stream.Arn"
            };
            self.invalid_value(Some(&source), "KinesisStreamARN", &arn, rule, &scope);
        }
        Some(arn)
    }

    /// The settings `S3DestinationConfiguration` and `ExtendedS3DestinationConfiguration` share.
    fn s3_delivery(&mut self, node: &Node, scope: &Scope<'_>) -> S3Delivery {
        let at = node.at;
        let node = Some(node);
        let mut delivery = S3Delivery::default();
        if self.required(node, "BucketARN", at, scope)
            && let Some(arn) = self.string(node, "BucketARN", scope)
        {
            if s3_bucket(&arn).is_none() {
                self.invalid_value(
                    node,
                    "BucketARN",
                    &arn,
                    "must be an S3 bucket ARN (arn:aws:s3:::NAME): use !GetAtt Bucket.Arn",
                    scope,
                );
            } else if self.application.bucket_by_arn(&arn).is_none() {
                self.resolver.sink.warning(
                    node.and_then(|n| n.get("BucketARN"))
                        .map_or(at, |e| e.value.at),
                    &scope.child("BucketARN"),
                    Problem::ExternalResource {
                        arn: arn.clone(),
                        kind: "bucket".to_owned(),
                        consequence: "Riffle does not create it; deliveries succeed only if it \
                                      exists at the endpoint"
                            .to_owned(),
                    },
                );
            }
            delivery.bucket_arn = arn;
        }
        delivery.prefix = self.string(node, "Prefix", scope);
        delivery.error_output_prefix = self.string(node, "ErrorOutputPrefix", scope);
        if let Some(hints) = self.value(node, "BufferingHints", scope) {
            let scope = scope.child("BufferingHints");
            let specs = [("IntervalInSeconds", Read), ("SizeInMBs", Read)];
            self.check(Some(&hints), &specs, "BufferingHints", &scope);
            delivery.buffer_interval_seconds =
                self.unsigned(Some(&hints), "IntervalInSeconds", &scope, 0, 900);
            delivery.buffer_size_mb = self.unsigned(Some(&hints), "SizeInMBs", &scope, 1, 128);
        }
        if let Some(format) = self.string(node, "CompressionFormat", scope) {
            const FORMATS: [&str; 5] = ["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"];
            if FORMATS.contains(&format.as_str()) {
                delivery.compression = Some(format);
            } else {
                self.invalid_value(
                    node,
                    "CompressionFormat",
                    &format,
                    "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, \
                     HADOOP_SNAPPY]",
                    scope,
                );
            }
        }
        delivery
    }

    fn extended_s3(&mut self, node: &Node, scope: &Scope<'_>) -> S3Delivery {
        let mut delivery = self.s3_delivery(node, scope);
        delivery.transformation = self.processing(node, scope);
        let mode = self.string(Some(node), "S3BackupMode", scope);
        match mode.as_deref() {
            None | Some("Disabled") => {}
            Some("Enabled") => {
                let key = "S3BackupConfiguration";
                if self.required(Some(node), key, node.at, scope)
                    && let Some(backup) = self.value(Some(node), key, scope)
                {
                    let scope = scope.child(key);
                    self.check(
                        Some(&backup),
                        S3_PROPERTIES,
                        "an S3BackupConfiguration",
                        &scope,
                    );
                    delivery.backup = Some(Box::new(self.s3_delivery(&backup, &scope)));
                }
            }
            Some(other) => self.invalid_value(
                Some(node),
                "S3BackupMode",
                other,
                "Member must satisfy enum value set: [Disabled, Enabled]",
                scope,
            ),
        }
        delivery
    }

    /// The Lambda processor of an enabled `ProcessingConfiguration`.
    fn processing(&mut self, node: &Node, scope: &Scope<'_>) -> Option<Transformation> {
        let config = self.value(Some(node), "ProcessingConfiguration", scope)?;
        let scope = scope.child("ProcessingConfiguration");
        let specs = [("Enabled", Read), ("Processors", Read)];
        self.check(Some(&config), &specs, "a ProcessingConfiguration", &scope);
        let enabled = self
            .boolean(Some(&config), "Enabled", &scope)
            .unwrap_or(false);
        let processors = self.value(Some(&config), "Processors", &scope);
        let items = match processors.as_ref().map(|p| &p.value) {
            None => &[][..],
            Some(Value::Seq(items)) => items.as_slice(),
            Some(_) => {
                let found = processors.as_ref().expect("matched").describe();
                let at = processors.as_ref().expect("matched").at;
                self.resolver.sink.error(
                    at,
                    &scope.child("Processors"),
                    Problem::WrongType {
                        expected: "a list of processors".to_owned(),
                        found,
                    },
                );
                return None;
            }
        };
        let mut transformation = None;
        for (index, processor) in items.iter().enumerate() {
            let scope = scope.child("Processors").child(&format!("[{index}]"));
            let specs = [("Type", Read), ("Parameters", Read)];
            self.check(Some(processor), &specs, "a processor", &scope);
            match self.string(Some(processor), "Type", &scope).as_deref() {
                Some("Lambda") => {}
                Some(other) => {
                    self.resolver.sink.error(
                        processor.get("Type").map_or(processor.at, |e| e.value.at),
                        &scope.child("Type"),
                        Problem::UnsupportedProperty {
                            property: format!("Type: {other}"),
                            reason: "Riffle runs Lambda processors only".to_owned(),
                        },
                    );
                    continue;
                }
                None => {
                    self.resolver.sink.missing(processor.at, &scope, "Type");
                    continue;
                }
            }
            if transformation.is_some() {
                self.resolver.sink.error(
                    processor.at,
                    &scope,
                    Problem::UnsupportedProperty {
                        property: "Processors".to_owned(),
                        reason: "a delivery stream has one Lambda processor".to_owned(),
                    },
                );
                continue;
            }
            transformation = self.lambda_processor(processor, &scope);
        }
        if enabled && items.is_empty() {
            self.resolver.sink.missing(config.at, &scope, "Processors");
        }
        transformation.filter(|_| enabled)
    }

    fn lambda_processor(&mut self, processor: &Node, scope: &Scope<'_>) -> Option<Transformation> {
        let key = "Parameters";
        let parameters = self.value(Some(processor), key, scope);
        let scope = scope.child(key);
        let items = match parameters.as_ref().map(|p| &p.value) {
            Some(Value::Seq(items)) => items.clone(),
            _ => {
                self.resolver
                    .sink
                    .missing(processor.at, &scope, "LambdaArn");
                return None;
            }
        };
        let mut read = Vec::new();
        let mut function_arn = None;
        for (index, parameter) in items.iter().enumerate() {
            let scope = scope.child(&format!("[{index}]"));
            let specs = [("ParameterName", Read), ("ParameterValue", Read)];
            self.check(Some(parameter), &specs, "a processor parameter", &scope);
            let name = self.string(Some(parameter), "ParameterName", &scope);
            let value = self.string(Some(parameter), "ParameterValue", &scope);
            let (Some(name), Some(value)) = (name, value) else {
                self.resolver
                    .sink
                    .missing(parameter.at, &scope, "ParameterName");
                continue;
            };
            if !PROCESSOR_PARAMETERS.contains(&name.as_str()) {
                self.invalid_value(
                    Some(parameter),
                    "ParameterName",
                    &name,
                    "a Lambda processor takes LambdaArn, NumberOfRetries, RoleArn, \
                     BufferSizeInMBs and BufferIntervalInSeconds",
                    &scope,
                );
                continue;
            }
            if let Some(rule) = parameter_refusal(&name, &value) {
                self.invalid_value(Some(parameter), "ParameterValue", &value, rule, &scope);
                continue;
            }
            if name == "LambdaArn" {
                function_arn = Some((value.clone(), parameter.clone(), scope.clone()));
            }
            read.push((name, value));
        }
        let Some((function_arn, parameter, at_scope)) = function_arn else {
            self.resolver
                .sink
                .missing(processor.at, &scope, "LambdaArn");
            return None;
        };
        // The console writes `LambdaArn` with the `$LATEST` qualifier; the function is the same.
        let unqualified = function_arn
            .strip_suffix(":$LATEST")
            .unwrap_or(&function_arn);
        let Some(function) = self
            .application
            .functions
            .iter()
            .find(|f| f.arn == unqualified)
        else {
            self.invalid_value(
                Some(&parameter),
                "ParameterValue",
                &function_arn,
                "names no AWS::Serverless::Function of this template: use !GetAtt Function.Arn",
                &at_scope,
            );
            return None;
        };
        Some(Transformation {
            function_arn: function_arn.clone(),
            function_logical_id: function.logical_id.clone(),
            parameters: read,
        })
    }
}

/// Firehose's range for a Lambda processor's parameter, in its words, if `value` breaks it.
fn parameter_refusal(name: &str, value: &str) -> Option<&'static str> {
    let within = |min: f64, max: f64| value.parse::<f64>().is_ok_and(|n| (min..=max).contains(&n));
    let integer = value.parse::<u32>().is_ok();
    match name {
        "NumberOfRetries" if !(integer && within(0.0, 300.0)) => {
            Some("NumberOfRetries must be an integer between 0 and 300")
        }
        "BufferSizeInMBs" if !within(0.2, 3.0) => {
            Some("BufferSizeInMBs must be a number between 0.2 and 3")
        }
        "BufferIntervalInSeconds" if !(integer && within(0.0, 900.0)) => {
            Some("BufferIntervalInSeconds must be an integer between 0 and 900")
        }
        _ => None,
    }
}
