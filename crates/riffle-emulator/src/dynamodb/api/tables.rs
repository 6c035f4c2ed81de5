//! CreateTable, DescribeTable, ListTables and DeleteTable: a table's definition checked as
//! DynamoDB checks it (key schema, attribute definitions, billing and throughput, indexes,
//! streams), stored, described and paged.
//!
//! Invariant: a stored definition has a HASH key (and at most one RANGE key) whose attributes,
//! and every index's, are exactly the attribute definitions; its billing agrees with its
//! throughput.

use std::collections::BTreeSet;

use serde_json::json;

use super::describe::table_description;
use super::request::{CreateTableInput, IndexInput, ListTablesInput, TableNamed, to_body};
use super::{DynamoDb, Reply};
use crate::clock::Millis;
use crate::dynamodb::store::value::invalid;
use crate::dynamodb::store::{
    IndexDefinition, KeySchemaElement, Mutation, ProvisionedThroughput, TableDefinition,
    TableStatus,
};
use crate::error::{ApiError, ApiResult, ErrorCode};

/// ListTables' page size when `Limit` is not given.
const DEFAULT_LIMIT: usize = 100;

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ValidationException, message)
}

impl DynamoDb {
    pub(super) fn create_table(&self, input: CreateTableInput) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let definition = definition(input, now)?;
        let name = definition.name.clone();
        let durable_at =
            self.commit(&mut store, now, Mutation::CreateTable(Box::new(definition)))?;
        let table = store.table(&name)?;
        let body = to_body(&json!({
            "TableDescription": table_description(&store, table, now, None),
        }));
        Ok(Reply { body, durable_at })
    }

    pub(super) fn describe_table(&self, input: TableNamed) -> ApiResult<Reply> {
        let (store, now) = self.lock_now();
        let table = store.table(&input.table_name)?;
        Ok(Reply::read(to_body(&json!({
            "Table": table_description(&store, table, now, None),
        }))))
    }

    pub(super) fn list_tables(&self, input: ListTablesInput) -> ApiResult<Reply> {
        let store = self.lock();
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT);
        let after = input.exclusive_start_table_name.unwrap_or_default();
        let mut names = store
            .tables
            .keys()
            .filter(|name| after.is_empty() || name.as_str() > after.as_str());
        let page: Vec<&String> = names.by_ref().take(limit).collect();
        let mut out = json!({ "TableNames": page });
        if names.next().is_some() {
            out["LastEvaluatedTableName"] = json!(page.last());
        }
        Ok(Reply::read(to_body(&out)))
    }

    pub(super) fn delete_table(&self, input: TableNamed) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let table = store.table(&input.table_name)?;
        if store.status(table, now) == TableStatus::Creating {
            return Err(ApiError::in_use(format!(
                "Attempt to change a resource which is still in use: Table is being created: {}",
                input.table_name
            )));
        }
        let description = table_description(&store, table, now, Some("DELETING"));
        let mutation = Mutation::DeleteTable {
            name: input.table_name,
        };
        let durable_at = self.commit(&mut store, now, mutation)?;
        let body = to_body(&json!({ "TableDescription": description }));
        Ok(Reply { body, durable_at })
    }
}

/// The table CreateTable defines, or DynamoDB's `ValidationException`.
fn definition(input: CreateTableInput, now: Millis) -> ApiResult<TableDefinition> {
    key_schema(&input.key_schema)?;
    let globals = input.global_secondary_indexes.unwrap_or_default();
    let locals = input.local_secondary_indexes.unwrap_or_default();
    for index in globals.iter().chain(&locals) {
        key_schema(&index.key_schema)?;
    }
    let mut defined = BTreeSet::new();
    for def in &input.attribute_definitions {
        if !defined.insert(def.attribute_name.as_str()) {
            return Err(validation("Cannot have two attributes with the same name"));
        }
    }
    let keys: Vec<&str> = input
        .key_schema
        .iter()
        .chain(globals.iter().chain(&locals).flat_map(|i| &i.key_schema))
        .map(|k| k.attribute_name.as_str())
        .collect();
    let undefined: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !defined.contains(k))
        .collect();
    if !undefined.is_empty() {
        let defs: Vec<&str> = defined.iter().copied().collect();
        return Err(validation(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], \
             AttributeDefinitions: [{}]",
            undefined.join(", "),
            defs.join(", ")
        ))));
    }
    let used: BTreeSet<&str> = keys.into_iter().collect();
    if used.len() != defined.len() {
        return Err(validation(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes \
             defined in AttributeDefinitions",
        )));
    }
    let pay_per_request = input.billing_mode.as_deref() == Some("PAY_PER_REQUEST");
    let throughput = match (pay_per_request, input.provisioned_throughput) {
        (true, None) => ProvisionedThroughput {
            read_capacity_units: 0,
            write_capacity_units: 0,
        },
        (true, Some(_)) => {
            return Err(validation(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when \
                 BillingMode is PAY_PER_REQUEST",
            )));
        }
        (false, Some(throughput)) => throughput,
        (false, None) if input.billing_mode.is_some() => {
            return Err(validation(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when \
                 BillingMode is PROVISIONED",
            )));
        }
        (false, None) => {
            return Err(validation(
                "No provisioned throughput specified for the table",
            ));
        }
    };
    let mut names = BTreeSet::new();
    for index in globals.iter().chain(&locals) {
        if !names.insert(index.index_name.as_str()) {
            return Err(validation(invalid(format!(
                "Duplicate index name: {}",
                index.index_name
            ))));
        }
    }
    for index in &globals {
        match (pay_per_request, index.provisioned_throughput) {
            (true, Some(_)) => {
                return Err(validation(invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {} when \
                     BillingMode is PAY_PER_REQUEST",
                    index.index_name
                ))));
            }
            (false, None) => {
                return Err(validation(invalid(format!(
                    "ProvisionedThroughput is not specified for index: {}",
                    index.index_name
                ))));
            }
            _ => {}
        }
    }
    let table_hash = &input.key_schema[0].attribute_name;
    if !locals.is_empty() && input.key_schema.len() < 2 {
        return Err(validation(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a \
             LocalSecondaryIndex",
        )));
    }
    for index in &locals {
        let hash = &index.key_schema[0].attribute_name;
        if hash != table_hash {
            return Err(validation(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema \
                 for index: {}. index hash key: {hash}, table hash key: {table_hash}",
                index.index_name
            ))));
        }
    }
    let stream = match input.stream_specification {
        Some(spec) if spec.stream_enabled => {
            if spec.stream_view_type.is_none() {
                return Err(validation(
                    "StreamSpecification: StreamViewType must be specified when streams are \
                     enabled",
                ));
            }
            Some(spec)
        }
        _ => None,
    };
    let index = |i: IndexInput| IndexDefinition {
        index_name: i.index_name,
        key_schema: i.key_schema,
        projection: i.projection,
        provisioned_throughput: i.provisioned_throughput,
    };
    Ok(TableDefinition {
        id: table_id(&input.table_name, now),
        name: input.table_name,
        key_schema: input.key_schema,
        attribute_definitions: input.attribute_definitions,
        pay_per_request,
        throughput,
        stream,
        global_indexes: globals.into_iter().map(index).collect(),
        local_indexes: locals.into_iter().map(index).collect(),
    })
}

/// A key schema is a HASH element, then optionally a RANGE element of another attribute.
fn key_schema(schema: &[KeySchemaElement]) -> ApiResult<()> {
    if schema.first().is_some_and(|k| k.key_type != "HASH") {
        return Err(validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let [hash, range] = schema {
        if range.key_type != "RANGE" {
            return Err(validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if hash.attribute_name == range.attribute_name {
            return Err(validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    Ok(())
}

/// A TableId in UUID form, derived from the name and creation time (stable across replays).
fn table_id(name: &str, now: Millis) -> String {
    let hash = |seed: u64| {
        name.bytes().chain(now.to_le_bytes()).fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}
