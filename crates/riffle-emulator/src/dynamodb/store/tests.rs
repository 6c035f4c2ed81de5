//! The store's apply: all or nothing, keyed by the key schema.

use super::*;

fn definition(range: bool) -> TableDefinition {
    let mut key_schema = vec![KeySchemaElement {
        attribute_name: "id".into(),
        key_type: "HASH".into(),
    }];
    let mut attribute_definitions = vec![AttributeDefinition {
        attribute_name: "id".into(),
        attribute_type: "S".into(),
    }];
    if range {
        key_schema.push(KeySchemaElement {
            attribute_name: "at".into(),
            key_type: "RANGE".into(),
        });
        attribute_definitions.push(AttributeDefinition {
            attribute_name: "at".into(),
            attribute_type: "N".into(),
        });
    }
    TableDefinition {
        name: "t".into(),
        id: "id".into(),
        key_schema,
        attribute_definitions,
        pay_per_request: true,
        throughput: ProvisionedThroughput {
            read_capacity_units: 0,
            write_capacity_units: 0,
        },
        stream: None,
        global_indexes: vec![],
        local_indexes: vec![],
    }
}

#[test]
fn items_are_stored_under_their_hash_and_range_key_and_replaced_by_it() {
    let mut store = DynamoStore::new(StoreSettings::new("eu-west-1", "1"));
    store
        .apply(0, Mutation::CreateTable(Box::new(definition(true))))
        .unwrap();
    let item = |at: &str, v: &str| -> Item {
        serde_json::from_str(&format!(
            r#"{{"id":{{"S":"a"}},"at":{{"N":"{at}"}},"v":{{"S":"{v}"}}}}"#
        ))
        .unwrap()
    };
    for (at, v) in [("1", "x"), ("2", "y"), ("1", "z")] {
        store
            .apply(
                0,
                Mutation::PutItem {
                    table: "t".into(),
                    item: item(at, v),
                },
            )
            .unwrap();
    }
    let table = &store.tables["t"];
    assert_eq!(table.items.len(), 2);
    let key = (KeyValue::S("a".into()), Some(KeyValue::N("1".into())));
    assert_eq!(table.items[&key]["v"], AttributeValue::S("z".into()));
}

#[test]
fn a_refused_mutation_changes_nothing() {
    let mut store = DynamoStore::new(StoreSettings::new("eu-west-1", "1"));
    store
        .apply(0, Mutation::CreateTable(Box::new(definition(false))))
        .unwrap();
    let err = store
        .apply(0, Mutation::CreateTable(Box::new(definition(true))))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceInUseException);
    assert_eq!(err.message, "Table already exists: t");
    assert_eq!(store.tables["t"].definition, definition(false));
    let wrong: Item = serde_json::from_str(r#"{"id":{"N":"1"}}"#).unwrap();
    let err = store
        .apply(
            0,
            Mutation::PutItem {
                table: "t".into(),
                item: wrong,
            },
        )
        .unwrap_err();
    assert_eq!(
        err.message,
        "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"
    );
    assert!(store.tables["t"].items.is_empty());
}
