//! The operations' inputs as serde decodes them (the model checker has already refused any
//! member of the wrong type or out of its bounds), and the JSON body answers are written as.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dynamodb::store::{
    AttributeDefinition, KeySchemaElement, Projection, ProvisionedThroughput, StreamSpecification,
};

/// A response body.
pub(super) fn to_body(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

/// `GlobalSecondaryIndex` or `LocalSecondaryIndex` as CreateTable takes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IndexInput {
    pub(super) index_name: String,
    pub(super) key_schema: Vec<KeySchemaElement>,
    pub(super) projection: Projection,
    #[serde(default)]
    pub(super) provisioned_throughput: Option<ProvisionedThroughput>,
}

/// CreateTable's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateTableInput {
    pub(super) table_name: String,
    pub(super) key_schema: Vec<KeySchemaElement>,
    pub(super) attribute_definitions: Vec<AttributeDefinition>,
    #[serde(default)]
    pub(super) billing_mode: Option<String>,
    #[serde(default)]
    pub(super) provisioned_throughput: Option<ProvisionedThroughput>,
    #[serde(default)]
    pub(super) stream_specification: Option<StreamSpecification>,
    #[serde(default)]
    pub(super) global_secondary_indexes: Option<Vec<IndexInput>>,
    #[serde(default)]
    pub(super) local_secondary_indexes: Option<Vec<IndexInput>>,
}

/// DescribeTable's and DeleteTable's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableNamed {
    pub(super) table_name: String,
}

/// ListTables' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListTablesInput {
    #[serde(default)]
    pub(super) exclusive_start_table_name: Option<String>,
    #[serde(default)]
    pub(super) limit: Option<usize>,
}

/// PutItem's input (the item as JSON: `item_from_json` validates it as DynamoDB does).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutItemInput {
    pub(super) table_name: String,
    pub(super) item: Map<String, Value>,
    #[serde(default)]
    pub(super) return_values: Option<String>,
}

/// GetItem's input (`ConsistentRead` is accepted and ignored: every read is consistent).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetItemInput {
    pub(super) table_name: String,
    pub(super) key: Map<String, Value>,
    #[serde(default)]
    pub(super) projection_expression: Option<String>,
    #[serde(default)]
    pub(super) attributes_to_get: Option<Vec<String>>,
    #[serde(default)]
    pub(super) expression_attribute_names: Option<std::collections::BTreeMap<String, String>>,
}

/// DeleteItem's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteItemInput {
    pub(super) table_name: String,
    pub(super) key: Map<String, Value>,
    #[serde(default)]
    pub(super) return_values: Option<String>,
}
