//! `AWS::S3::Bucket`: a bucket Riffle creates empty on the emulator, read into the model and
//! checked against S3's bucket-name rules.
//!
//! Invariant: a bucket in the model has a name S3 accepts; every bucket setting the emulator does
//! not act on is a warning saying so, never silently dropped.

use riffle_core::destination::bucket_name_refusal;

use crate::intrinsics::{BUCKET, Declaration};
use crate::model::Bucket;
use crate::reader::Handling::{self, Ignored, Read, Silent};
use crate::reader::Reader;

const AT_REST: &str = "objects are not encrypted at rest locally";
const NOT_EMULATED: &str = "the emulator's S3 does not apply it";

const BUCKET_PROPERTIES: &[(&str, Handling)] = &[
    ("BucketName", Read),
    ("BucketEncryption", Ignored(AT_REST)),
    ("VersioningConfiguration", Ignored(NOT_EMULATED)),
    ("LifecycleConfiguration", Ignored(NOT_EMULATED)),
    ("NotificationConfiguration", Ignored(NOT_EMULATED)),
    ("ReplicationConfiguration", Ignored(NOT_EMULATED)),
    ("ObjectLockEnabled", Ignored(NOT_EMULATED)),
    ("ObjectLockConfiguration", Ignored(NOT_EMULATED)),
    ("LoggingConfiguration", Ignored(NOT_EMULATED)),
    ("WebsiteConfiguration", Ignored(NOT_EMULATED)),
    ("CorsConfiguration", Ignored(NOT_EMULATED)),
    ("AccelerateConfiguration", Ignored(NOT_EMULATED)),
    ("IntelligentTieringConfigurations", Ignored(NOT_EMULATED)),
    ("InventoryConfigurations", Ignored(NOT_EMULATED)),
    ("AnalyticsConfigurations", Ignored(NOT_EMULATED)),
    ("MetricsConfigurations", Ignored(NOT_EMULATED)),
    ("MetadataTableConfiguration", Ignored(NOT_EMULATED)),
    ("AbacStatus", Ignored("IAM is not enforced locally")),
    (
        "AccessControl",
        Ignored("access control is not enforced locally"),
    ),
    (
        "PublicAccessBlockConfiguration",
        Ignored("access control is not enforced locally"),
    ),
    (
        "OwnershipControls",
        Ignored("access control is not enforced locally"),
    ),
    ("Tags", Silent),
];

impl<'t> Reader<'t> {
    pub(crate) fn read_bucket(&mut self, declaration: &Declaration<'t>, name: String, arn: String) {
        let (properties, scope) = self.resource_properties(declaration, BUCKET_PROPERTIES, BUCKET);
        if let Some(refusal) = bucket_name_refusal(&name) {
            self.invalid_value(properties, "BucketName", &name, refusal, &scope);
        }
        let location = self.resolver.sink.location(declaration.at);
        self.application.buckets.push(Bucket {
            logical_id: declaration.logical_id.to_owned(),
            name,
            arn,
            location,
        });
    }
}
