//! The DynamoDB data model: tables (their key schema, billing, streams and index definitions)
//! and the items each holds, as pure state.
//!
//! Invariants: no I/O, no clock (every call takes `now`), no HTTP types; every change is a
//! [`Mutation`] applied by [`DynamoStore::apply`], which either applies completely or returns
//! an error and changes nothing, and the write-ahead log records exactly those mutations, so
//! replaying them with the recorded times rebuilds the same tables. Every stored item holds
//! its table's key attributes with the key schema's types, passed [`AttributeValue::validate`]
//! and is at most [`value::MAX_ITEM_BYTES`]; an item is stored under the key it holds.

pub mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::value::{AttributeValue, Item};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Settings of the store that are not per table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSettings {
    /// AWS region in ARNs.
    pub region: String,
    /// AWS account id in ARNs.
    pub account_id: String,
    /// How long a new table stays `CREATING`.
    pub create_delay_ms: Millis,
}

impl StoreSettings {
    /// Settings for `region` and `account_id`, tables `ACTIVE` at once.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
            create_delay_ms: 0,
        }
    }
}

/// A table's status as DynamoDB reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStatus {
    /// Just created: items are refused.
    Creating,
    /// Serving items.
    Active,
}

impl TableStatus {
    /// DynamoDB's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Active => "ACTIVE",
        }
    }
}

/// `KeySchemaElement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// The key attribute's name.
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// `AttributeDefinition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// The attribute's name.
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

/// `ProvisionedThroughput` (stored, not enforced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughput {
    /// ReadCapacityUnits.
    pub read_capacity_units: i64,
    /// WriteCapacityUnits.
    pub write_capacity_units: i64,
}

/// `StreamSpecification` (stored and described; no stream records yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    /// StreamEnabled.
    pub stream_enabled: bool,
    /// StreamViewType.
    #[serde(default)]
    pub stream_view_type: Option<String>,
}

/// `Projection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// ProjectionType.
    #[serde(default)]
    pub projection_type: Option<String>,
    /// NonKeyAttributes.
    #[serde(default)]
    pub non_key_attributes: Option<Vec<String>>,
}

/// A secondary index's definition (global when it has its own throughput or the table's
/// billing, local otherwise; the store keeps both kinds apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDefinition {
    /// IndexName.
    pub index_name: String,
    /// KeySchema.
    pub key_schema: Vec<KeySchemaElement>,
    /// Projection.
    pub projection: Projection,
    /// ProvisionedThroughput (global indexes of provisioned tables).
    #[serde(default)]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
}

/// What CreateTable defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDefinition {
    /// TableName.
    pub name: String,
    /// TableId (a UUID).
    pub id: String,
    /// The HASH element, then the RANGE element if any.
    pub key_schema: Vec<KeySchemaElement>,
    /// AttributeDefinitions, as given.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Whether the table was created with `BillingMode` `PAY_PER_REQUEST`.
    pub pay_per_request: bool,
    /// The provisioned throughput (zeros for on-demand tables).
    pub throughput: ProvisionedThroughput,
    /// StreamSpecification, if streams are enabled.
    pub stream: Option<StreamSpecification>,
    /// GlobalSecondaryIndexes.
    pub global_indexes: Vec<IndexDefinition>,
    /// LocalSecondaryIndexes.
    pub local_indexes: Vec<IndexDefinition>,
}

impl TableDefinition {
    /// The HASH key attribute's name and type.
    pub fn hash_key(&self) -> (&str, &str) {
        self.key_attr(0).expect("a table has a HASH key")
    }

    /// The RANGE key attribute's name and type, if the table has one.
    pub fn range_key(&self) -> Option<(&str, &str)> {
        self.key_attr(1)
    }

    fn key_attr(&self, at: usize) -> Option<(&str, &str)> {
        let name = self.key_schema.get(at)?.attribute_name.as_str();
        let kind = self
            .attribute_definitions
            .iter()
            .find(|d| d.attribute_name == name)
            .map_or("S", |d| d.attribute_type.as_str());
        Some((name, kind))
    }
}

/// A key attribute's value as items are indexed by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyValue {
    /// A string key.
    S(String),
    /// A number key (normalised).
    N(String),
    /// A binary key.
    B(Vec<u8>),
}

/// An item's primary key: the HASH value and the RANGE value if the table has one.
pub type PrimaryKey = (KeyValue, Option<KeyValue>);

/// One table and its items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    /// What CreateTable defined.
    pub definition: TableDefinition,
    /// When it was created (epoch ms).
    pub created_ms: Millis,
    /// Its items by primary key.
    pub items: BTreeMap<PrimaryKey, Item>,
}

impl Table {
    /// The summed size of its items, as `TableSizeBytes` reports.
    pub fn size_bytes(&self) -> usize {
        self.items.values().map(value::item_size).sum()
    }
}

/// A change to the store, as the write-ahead log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Mutation {
    /// CreateTable.
    CreateTable(Box<TableDefinition>),
    /// DeleteTable (the table and its items are gone at once).
    DeleteTable {
        /// TableName.
        name: String,
    },
    /// PutItem: stores `item` under its key, replacing any item there.
    PutItem {
        /// TableName.
        table: String,
        /// The validated item.
        item: Item,
    },
    /// DeleteItem: removes the item under `key`, if any.
    DeleteItem {
        /// TableName.
        table: String,
        /// The item's primary key.
        key: PrimaryKey,
    },
}

/// DynamoDB's tables of one emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DynamoStore {
    /// Settings not per table.
    pub settings: StoreSettings,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
}

/// DynamoDB's answer for a table that does not exist, to table operations.
pub fn table_not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Requested resource not found: Table: {name} not found"),
    )
}

/// DynamoDB's answer for a table that does not exist (or is not yet `ACTIVE`), to item
/// operations.
pub fn items_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        "Requested resource not found",
    )
}

impl DynamoStore {
    /// No tables.
    pub fn new(settings: StoreSettings) -> Self {
        Self {
            settings,
            tables: BTreeMap::new(),
        }
    }

    /// The table `name`, or DynamoDB's ResourceNotFoundException for table operations.
    pub fn table(&self, name: &str) -> ApiResult<&Table> {
        self.tables.get(name).ok_or_else(|| table_not_found(name))
    }

    /// The `ACTIVE` table `name`, or DynamoDB's ResourceNotFoundException for item operations.
    pub fn active_table(&self, name: &str, now: Millis) -> ApiResult<&Table> {
        match self.tables.get(name) {
            Some(table) if self.status(table, now) == TableStatus::Active => Ok(table),
            _ => Err(items_not_found()),
        }
    }

    /// The table's status at `now`.
    pub fn status(&self, table: &Table, now: Millis) -> TableStatus {
        if now
            < table
                .created_ms
                .saturating_add(self.settings.create_delay_ms)
        {
            TableStatus::Creating
        } else {
            TableStatus::Active
        }
    }

    /// The table's ARN.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{name}",
            self.settings.region, self.settings.account_id
        )
    }

    /// The table's stream label (its creation time, as DynamoDB labels streams).
    pub fn stream_label(table: &Table) -> String {
        riffle_core::time::iso8601_millis(table.created_ms)
            .trim_end_matches('Z')
            .to_owned()
    }

    /// Applies `mutation` at `now`: completely, or not at all with the error.
    pub fn apply(&mut self, now: Millis, mutation: Mutation) -> ApiResult<()> {
        match mutation {
            Mutation::CreateTable(definition) => {
                if self.tables.contains_key(&definition.name) {
                    return Err(ApiError::in_use(format!(
                        "Table already exists: {}",
                        definition.name
                    )));
                }
                let name = definition.name.clone();
                let table = Table {
                    definition: *definition,
                    created_ms: now,
                    items: BTreeMap::new(),
                };
                self.tables.insert(name, table);
            }
            Mutation::DeleteTable { name } => {
                self.table(&name)?;
                self.tables.remove(&name);
            }
            Mutation::PutItem { table, item } => {
                let entry = self.tables.get_mut(&table).ok_or_else(items_not_found)?;
                let key = key_of(&entry.definition, &item)
                    .map_err(|m| ApiError::new(ErrorCode::ValidationException, m))?;
                entry.items.insert(key, item);
            }
            Mutation::DeleteItem { table, key } => {
                let entry = self.tables.get_mut(&table).ok_or_else(items_not_found)?;
                entry.items.remove(&key);
            }
        }
        Ok(())
    }
}

/// The primary key `item` holds under `definition`'s key schema, or DynamoDB's
/// `ValidationException` message for an item without it (PutItem's wording).
pub fn key_of(definition: &TableDefinition, item: &Item) -> Result<PrimaryKey, String> {
    let part = |(name, kind): (&str, &str)| -> Result<KeyValue, String> {
        let value = item
            .get(name)
            .ok_or_else(|| value::invalid(format!("Missing the key {name} in the item")))?;
        key_value(name, kind, value)
    };
    let hash = part(definition.hash_key())?;
    let range = definition.range_key().map(part).transpose()?;
    Ok((hash, range))
}

/// A key attribute's value, checked against its defined type.
pub fn key_value(name: &str, kind: &str, value: &AttributeValue) -> Result<KeyValue, String> {
    let mismatch = || {
        value::invalid(format!(
            "Type mismatch for key {name} expected: {kind} actual: {}",
            value.type_name()
        ))
    };
    let empty = || {
        format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute \
             cannot contain an empty {} value. Key: {name}",
            if kind == "B" { "binary" } else { "string" }
        )
    };
    match (kind, value) {
        ("S", AttributeValue::S(s)) if s.is_empty() => Err(empty()),
        ("S", AttributeValue::S(s)) => Ok(KeyValue::S(s.clone())),
        ("N", AttributeValue::N(n)) => Ok(KeyValue::N(n.clone())),
        ("B", AttributeValue::B(b)) if b.is_empty() => Err(empty()),
        ("B", AttributeValue::B(b)) => Ok(KeyValue::B(b.clone())),
        _ => Err(mismatch()),
    }
}
