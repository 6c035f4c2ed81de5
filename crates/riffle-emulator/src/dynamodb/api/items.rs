//! PutItem, GetItem and DeleteItem: one item by its primary key, its values checked and
//! normalised as DynamoDB does, with `ReturnValues` `ALL_OLD`/`NONE` and GetItem's top-level
//! `ProjectionExpression` (with `ExpressionAttributeNames`) or `AttributesToGet`.
//!
//! Invariant: values are validated before the table is looked up (as DynamoDB answers a bad
//! value for a missing table with the ValidationException); nothing is logged for a request
//! that changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::request::{DeleteItemInput, GetItemInput, PutItemInput, to_body};
use super::{DynamoDb, Reply};
use crate::dynamodb::store::value::{MAX_ITEM_BYTES, item_from_json, item_size};
use crate::dynamodb::store::{Item, Mutation, PrimaryKey, TableDefinition, key_of, key_value};
use crate::error::{ApiError, ApiResult, ErrorCode};

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ValidationException, message)
}

/// `ReturnValues` of PutItem and DeleteItem: whether the old item is asked for.
fn all_old(return_values: Option<&str>) -> ApiResult<bool> {
    match return_values {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(_) => Err(validation("ReturnValues can only be ALL_OLD or NONE")),
    }
}

/// The answer carrying `old` as `Attributes` when it is asked for and there is one.
fn attributes(old: Option<Item>, wanted: bool) -> Vec<u8> {
    match old {
        Some(old) if wanted => to_body(&json!({ "Attributes": old })),
        _ => b"{}".to_vec(),
    }
}

impl DynamoDb {
    pub(super) fn put_item(&self, input: PutItemInput) -> ApiResult<Reply> {
        let wanted = all_old(input.return_values.as_deref())?;
        let item = item_from_json(input.item).map_err(validation)?;
        let (mut store, now) = self.lock_now();
        let table = store.active_table(&input.table_name, now)?;
        let key = key_of(&table.definition, &item).map_err(validation)?;
        if item_size(&item) > MAX_ITEM_BYTES {
            return Err(validation(
                "Item size has exceeded the maximum allowed size",
            ));
        }
        let old = table.items.get(&key).cloned();
        let mutation = Mutation::PutItem {
            table: input.table_name,
            item,
        };
        let durable_at = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: attributes(old, wanted),
            durable_at,
        })
    }

    pub(super) fn get_item(&self, input: GetItemInput) -> ApiResult<Reply> {
        let projection = projection(&input)?;
        let key = item_from_json(input.key).map_err(validation)?;
        let (store, now) = self.lock_now();
        let table = store.active_table(&input.table_name, now)?;
        let key = key_of_request(&table.definition, &key)?;
        let body = match table.items.get(&key) {
            None => b"{}".to_vec(),
            Some(item) => {
                let item: Item = match &projection {
                    None => item.clone(),
                    Some(names) => item
                        .iter()
                        .filter(|(name, _)| names.contains(name.as_str()))
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect(),
                };
                to_body(&json!({ "Item": item }))
            }
        };
        Ok(Reply::read(body))
    }

    pub(super) fn delete_item(&self, input: DeleteItemInput) -> ApiResult<Reply> {
        let wanted = all_old(input.return_values.as_deref())?;
        let key = item_from_json(input.key).map_err(validation)?;
        let (mut store, now) = self.lock_now();
        let table = store.active_table(&input.table_name, now)?;
        let key = key_of_request(&table.definition, &key)?;
        let Some(old) = table.items.get(&key).cloned() else {
            return Ok(Reply::read(b"{}".to_vec()));
        };
        let mutation = Mutation::DeleteItem {
            table: input.table_name,
            key,
        };
        let durable_at = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: attributes(Some(old), wanted),
            durable_at,
        })
    }
}

/// The primary key a request's `Key` names: exactly the table's key attributes, of their
/// types, or DynamoDB's "does not match the schema".
fn key_of_request(definition: &TableDefinition, key: &Item) -> ApiResult<PrimaryKey> {
    const MISMATCH: &str = "The provided key element does not match the schema";
    let expected = 1 + usize::from(definition.range_key().is_some());
    if key.len() != expected {
        return Err(validation(MISMATCH));
    }
    let part = |(name, kind): (&str, &str)| -> ApiResult<_> {
        let value = key.get(name).ok_or_else(|| validation(MISMATCH))?;
        key_value(name, kind, value).map_err(|message| {
            if message.starts_with("One or more parameter values were invalid: Type mismatch") {
                validation(MISMATCH)
            } else {
                validation(message)
            }
        })
    };
    let hash = part(definition.hash_key())?;
    let range = definition.range_key().map(part).transpose()?;
    Ok((hash, range))
}

/// The top-level attribute names GetItem projects to, if it projects.
fn projection(input: &GetItemInput) -> ApiResult<Option<BTreeSet<String>>> {
    let names = input.expression_attribute_names.as_ref();
    match (&input.projection_expression, &input.attributes_to_get) {
        (Some(_), Some(_)) => Err(validation(
            "Can not use both expression and non-expression parameters in the same request: \
             Non-expression parameters: {AttributesToGet} Expression parameters: \
             {ProjectionExpression}",
        )),
        (None, _) if names.is_some() => Err(validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        )),
        (None, Some(list)) => Ok(Some(list.iter().cloned().collect())),
        (None, None) => Ok(None),
        (Some(expression), None) => {
            let empty = BTreeMap::new();
            let names = names.unwrap_or(&empty);
            let mut used = BTreeSet::new();
            let mut out = BTreeSet::new();
            for path in expression.split(',').map(str::trim) {
                if path.is_empty() || path.contains(['.', '[']) {
                    return Err(validation(format!(
                        "Invalid ProjectionExpression: Riffle projects top-level attributes \
                         only; unsupported path: {path}"
                    )));
                }
                let name = match path.strip_prefix('#') {
                    Some(_) => {
                        let resolved = names.get(path).ok_or_else(|| {
                            validation(format!(
                                "Invalid ProjectionExpression: An expression attribute name \
                                 used in the document path is not defined; attribute name: \
                                 {path}"
                            ))
                        })?;
                        used.insert(path.to_owned());
                        resolved.clone()
                    }
                    None => path.to_owned(),
                };
                out.insert(name);
            }
            let unused: Vec<&str> = names
                .keys()
                .filter(|k| !used.contains(k.as_str()))
                .map(String::as_str)
                .collect();
            if !unused.is_empty() {
                return Err(validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: \
                     {{{}}}",
                    unused.join(", ")
                )));
            }
            Ok(Some(out))
        }
    }
}
