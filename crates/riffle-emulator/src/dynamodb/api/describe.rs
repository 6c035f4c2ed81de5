//! `TableDescription` as DynamoDB writes it and the SDKs parse it: one place, for CreateTable,
//! DescribeTable and DeleteTable.
//!
//! Invariant: counts and sizes are the store's at the moment of the answer (DynamoDB refreshes
//! them about every six hours; Riffle's are always current — see docs/dynamodb.md).

use serde_json::{Value, json};

use crate::clock::Millis;
use crate::dynamodb::store::{DynamoStore, IndexDefinition, Table, value};

/// A timestamp as DynamoDB's JSON carries it: epoch seconds with a fraction.
fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// The table's description at `now`, with `status` overriding the stored one (DELETING).
pub(super) fn table_description(
    store: &DynamoStore,
    table: &Table,
    now: Millis,
    status: Option<&str>,
) -> Value {
    let def = &table.definition;
    let arn = store.arn(&def.name);
    let status = status.unwrap_or(store.status(table, now).as_str());
    let mut out = json!({
        "AttributeDefinitions": def.attribute_definitions,
        "TableName": def.name,
        "KeySchema": def.key_schema,
        "TableStatus": status,
        "CreationDateTime": seconds(table.created_ms),
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": def.throughput.read_capacity_units,
            "WriteCapacityUnits": def.throughput.write_capacity_units,
        },
        "TableSizeBytes": table.size_bytes(),
        "ItemCount": table.items.len(),
        "TableArn": arn,
        "TableId": def.id,
        "DeletionProtectionEnabled": false,
    });
    if def.pay_per_request {
        out["BillingModeSummary"] = json!({
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": seconds(table.created_ms),
        });
    }
    if !def.local_indexes.is_empty() {
        out["LocalSecondaryIndexes"] = def
            .local_indexes
            .iter()
            .map(|index| index_description(table, &arn, index, None))
            .collect();
    }
    if !def.global_indexes.is_empty() {
        out["GlobalSecondaryIndexes"] = def
            .global_indexes
            .iter()
            .map(|index| index_description(table, &arn, index, Some(status)))
            .collect();
    }
    if let Some(stream) = &def.stream {
        out["StreamSpecification"] = json!(stream);
        let label = DynamoStore::stream_label(table);
        out["LatestStreamArn"] = json!(format!("{arn}/stream/{label}"));
        out["LatestStreamLabel"] = json!(label);
    }
    out
}

/// A secondary index's description; `status` is given for global indexes only.
fn index_description(
    table: &Table,
    table_arn: &str,
    index: &IndexDefinition,
    status: Option<&str>,
) -> Value {
    let indexed: Vec<_> = table
        .items
        .values()
        .filter(|item| {
            index
                .key_schema
                .iter()
                .all(|k| item.contains_key(&k.attribute_name))
        })
        .collect();
    let mut out = json!({
        "IndexName": index.index_name,
        "KeySchema": index.key_schema,
        "Projection": projection(index),
        "IndexSizeBytes": indexed.iter().map(|item| value::item_size(item)).sum::<usize>(),
        "ItemCount": indexed.len(),
        "IndexArn": format!("{table_arn}/index/{}", index.index_name),
    });
    if let Some(status) = status {
        out["IndexStatus"] = json!(status);
        let throughput =
            index
                .provisioned_throughput
                .unwrap_or(crate::dynamodb::store::ProvisionedThroughput {
                    read_capacity_units: 0,
                    write_capacity_units: 0,
                });
        out["ProvisionedThroughput"] = json!({
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": throughput.read_capacity_units,
            "WriteCapacityUnits": throughput.write_capacity_units,
        });
    }
    out
}

/// The projection without the members that were not given.
fn projection(index: &IndexDefinition) -> Value {
    let mut out = json!({});
    if let Some(kind) = &index.projection.projection_type {
        out["ProjectionType"] = json!(kind);
    }
    if let Some(attrs) = &index.projection.non_key_attributes {
        out["NonKeyAttributes"] = json!(attrs);
    }
    out
}
