//! DynamoDB operations through [`DynamoDb::call`] on a manual clock (no HTTP), and the store's
//! survival of a reopened data directory.

use std::sync::Arc;

use serde_json::{Value, json};

use super::DynamoDb;
use crate::clock::{ManualClock, Millis};
use crate::dynamodb::Action;
use crate::dynamodb::store::{DynamoStore, StoreSettings};
use crate::error::{ApiError, ErrorCode};
use crate::persist::{self, State, StateRef};

const T0: Millis = 1_700_000_000_000;
const ACCOUNT: &str = "111122223333";

struct Fixture {
    db: DynamoDb,
    clock: ManualClock,
}

impl Fixture {
    fn new(create_delay_ms: Millis) -> Self {
        let clock = ManualClock::new(T0);
        let mut settings = StoreSettings::new("eu-west-1", ACCOUNT);
        settings.create_delay_ms = create_delay_ms;
        let db = DynamoDb::new(DynamoStore::new(settings), Arc::new(clock.clone()), None);
        Self { db, clock }
    }

    async fn call(&self, action: Action, body: Value) -> Result<Value, ApiError> {
        let out = self.db.call(action, body.to_string().as_bytes()).await?;
        Ok(serde_json::from_slice(&out).unwrap())
    }

    async fn ok(&self, action: Action, body: Value) -> Value {
        self.call(action, body).await.unwrap()
    }

    async fn err(&self, action: Action, body: Value) -> ApiError {
        self.call(action, body).await.unwrap_err()
    }

    /// An on-demand table `name` keyed by `id` (S).
    async fn table(&self, name: &str) -> Value {
        self.ok(
            Action::CreateTable,
            json!({
                "TableName": name,
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )
        .await
    }
}

fn create(extra: Value) -> Value {
    let mut body = json!({
        "TableName": "t",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2},
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    body
}

#[tokio::test]
async fn a_table_is_creating_for_the_status_delay_then_active_and_described_as_the_sdks_parse_it() {
    let f = Fixture::new(2_000);
    let created = f
        .ok(
            Action::CreateTable,
            create(json!({
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
                "LocalSecondaryIndexes": [{
                    "IndexName": "by-other",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "other", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "other", "AttributeType": "S"},
                ],
            })),
        )
        .await;
    let table = &created["TableDescription"];
    assert_eq!(table["TableStatus"], "CREATING");
    assert_eq!(
        table["TableArn"],
        format!("arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t")
    );
    assert_eq!(table["CreationDateTime"], 1_700_000_000.0);
    assert_eq!(table["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
    assert_eq!(table["ItemCount"], 0);
    assert_eq!(table["LatestStreamLabel"], "2023-11-14T22:13:20.000");
    assert_eq!(
        table["LatestStreamArn"],
        format!("arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t/stream/2023-11-14T22:13:20.000")
    );
    assert_eq!(table["LocalSecondaryIndexes"][0]["IndexName"], "by-other");
    assert!(table.get("BillingModeSummary").is_none());
    // Items are refused while CREATING, as is deleting it.
    let err = f
        .err(
            Action::PutItem,
            json!({"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
        )
        .await;
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            ErrorCode::ResourceNotFoundException,
            "Requested resource not found"
        )
    );
    let err = f.err(Action::DeleteTable, json!({"TableName": "t"})).await;
    assert_eq!(err.code, ErrorCode::ResourceInUseException);
    f.clock.advance(std::time::Duration::from_millis(2_000));
    let described = f.ok(Action::DescribeTable, json!({"TableName": "t"})).await;
    assert_eq!(described["Table"]["TableStatus"], "ACTIVE");
    let err = f.err(Action::CreateTable, create(json!({}))).await;
    assert_eq!(
        (err.code, err.message.as_str()),
        (ErrorCode::ResourceInUseException, "Table already exists: t")
    );
}

#[tokio::test]
async fn create_table_refuses_bad_definitions_in_dynamodbs_words() {
    let f = Fixture::new(0);
    let cases = [
        (
            json!({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
            "One or more parameter values were invalid: Some index key attributes are not \
             defined in AttributeDefinitions. Keys: [sk], AttributeDefinitions: [pk]",
        ),
        (
            json!({"AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "x", "AttributeType": "N"},
            ]}),
            "One or more parameter values were invalid: Number of attributes in KeySchema does \
             not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            json!({"KeySchema": [
                {"AttributeName": "pk", "KeyType": "RANGE"},
                {"AttributeName": "sk", "KeyType": "HASH"},
            ]}),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            json!({"BillingMode": "PAY_PER_REQUEST"}),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor \
             WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            json!({"ProvisionedThroughput": null}),
            "No provisioned throughput specified for the table",
        ),
        (
            json!({"ProvisionedThroughput": null, "BillingMode": "PROVISIONED"}),
            "One or more parameter values were invalid: ReadCapacityUnits and \
             WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
    ];
    for (extra, message) in cases {
        let mut body = create(extra);
        body.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        let err = f.err(Action::CreateTable, body).await;
        assert_eq!(
            (err.code, err.message.as_str()),
            (ErrorCode::ValidationException, message)
        );
    }
    assert!(f.db.lock().tables.is_empty());
}

#[tokio::test]
async fn list_tables_pages_by_name_and_delete_table_forgets_the_table() {
    let f = Fixture::new(0);
    for name in ["ccc", "aaa", "bbb"] {
        f.table(name).await;
    }
    let page = f.ok(Action::ListTables, json!({"Limit": 2})).await;
    assert_eq!(
        page,
        json!({"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"})
    );
    let page = f
        .ok(
            Action::ListTables,
            json!({"Limit": 2, "ExclusiveStartTableName": "bbb"}),
        )
        .await;
    assert_eq!(page, json!({"TableNames": ["ccc"]}));
    let deleted = f.ok(Action::DeleteTable, json!({"TableName": "bbb"})).await;
    assert_eq!(deleted["TableDescription"]["TableStatus"], "DELETING");
    assert_eq!(
        deleted["TableDescription"]["BillingModeSummary"]["BillingMode"],
        "PAY_PER_REQUEST"
    );
    let err = f
        .err(Action::DescribeTable, json!({"TableName": "bbb"}))
        .await;
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            ErrorCode::ResourceNotFoundException,
            "Requested resource not found: Table: bbb not found"
        )
    );
    let err = f
        .err(Action::DeleteTable, json!({"TableName": "bbb"}))
        .await;
    assert_eq!(err.code, ErrorCode::ResourceNotFoundException);
}

#[tokio::test]
async fn put_get_and_delete_an_item_with_all_old_and_normalised_numbers() {
    let f = Fixture::new(0);
    f.table("t").await;
    let item = json!({"id": {"S": "a"}, "n": {"N": "01.50"}, "tags": {"SS": ["x", "y"]}});
    let put = f
        .ok(Action::PutItem, json!({"TableName": "t", "Item": item}))
        .await;
    assert_eq!(put, json!({}));
    let replaced = f
        .ok(
            Action::PutItem,
            json!({"TableName": "t", "Item": {"id": {"S": "a"}, "v": {"BOOL": true}}, "ReturnValues": "ALL_OLD"}),
        )
        .await;
    assert_eq!(
        replaced,
        json!({"Attributes": {"id": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x", "y"]}}})
    );
    let got = f
        .ok(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"S": "a"}}, "ConsistentRead": true}),
        )
        .await;
    assert_eq!(
        got,
        json!({"Item": {"id": {"S": "a"}, "v": {"BOOL": true}}})
    );
    let described = f.ok(Action::DescribeTable, json!({"TableName": "t"})).await;
    assert_eq!(described["Table"]["ItemCount"], 1);
    assert_eq!(described["Table"]["TableSizeBytes"], 2 + 1 + 1 + 1);
    let deleted = f
        .ok(
            Action::DeleteItem,
            json!({"TableName": "t", "Key": {"id": {"S": "a"}}, "ReturnValues": "ALL_OLD"}),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"Attributes": {"id": {"S": "a"}, "v": {"BOOL": true}}})
    );
    let missing = f
        .ok(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"S": "a"}}}),
        )
        .await;
    assert_eq!(missing, json!({}));
}

#[tokio::test]
async fn items_are_refused_in_dynamodbs_words() {
    let f = Fixture::new(0);
    f.table("t").await;
    let put = |item: Value| json!({"TableName": "t", "Item": item});
    let cases = [
        (
            put(json!({"x": {"S": "a"}})),
            "One or more parameter values were invalid: Missing the key id in the item",
        ),
        (
            put(json!({"id": {"N": "1"}})),
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
        ),
        (
            put(json!({"id": {"S": ""}})),
            "One or more parameter values are not valid. The AttributeValue for a key attribute \
             cannot contain an empty string value. Key: id",
        ),
        (
            put(json!({"id": {"S": "a"}, "s": {"SS": ["x", "x"]}})),
            "One or more parameter values were invalid: Input collection [x, x] contains duplicates.",
        ),
        (
            put(json!({"id": {"S": "a"}, "s": {"S": "x", "N": "1"}})),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one \
             of the supported datatypes",
        ),
        (
            put(json!({"id": {"S": "a"}, "n": {"N": "abc"}})),
            "A value provided cannot be converted into a number",
        ),
        (
            put(json!({"id": {"S": "a"}, "big": {"S": "x".repeat(400 * 1024)}})),
            "Item size has exceeded the maximum allowed size",
        ),
        (
            json!({"TableName": "t", "Item": {"id": {"S": "a"}}, "ReturnValues": "ALL_NEW"}),
            "ReturnValues can only be ALL_OLD or NONE",
        ),
    ];
    for (body, message) in cases {
        let err = f.err(Action::PutItem, body).await;
        assert_eq!(
            (err.code, err.message.as_str()),
            (ErrorCode::ValidationException, message)
        );
    }
    let err = f
        .err(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"S": "a"}, "x": {"S": "b"}}}),
        )
        .await;
    assert_eq!(
        err.message,
        "The provided key element does not match the schema"
    );
    let err = f
        .err(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"N": "1"}}}),
        )
        .await;
    assert_eq!(
        err.message,
        "The provided key element does not match the schema"
    );
    let err = f
        .err(
            Action::PutItem,
            json!({"TableName": "nope", "Item": {"id": {"S": "a"}}}),
        )
        .await;
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            ErrorCode::ResourceNotFoundException,
            "Requested resource not found"
        )
    );
    assert!(f.db.lock().tables["t"].items.is_empty());
}

#[tokio::test]
async fn get_item_projects_top_level_attributes_through_expression_names() {
    let f = Fixture::new(0);
    f.table("t").await;
    f.ok(
        Action::PutItem,
        json!({"TableName": "t", "Item": {"id": {"S": "a"}, "name": {"S": "n"}, "x": {"N": "1"}}}),
    )
    .await;
    let got = f
        .ok(
            Action::GetItem,
            json!({
                "TableName": "t", "Key": {"id": {"S": "a"}},
                "ProjectionExpression": "#n, x", "ExpressionAttributeNames": {"#n": "name"},
            }),
        )
        .await;
    assert_eq!(got, json!({"Item": {"name": {"S": "n"}, "x": {"N": "1"}}}));
    let err = f
        .err(
            Action::GetItem,
            json!({
                "TableName": "t", "Key": {"id": {"S": "a"}},
                "ProjectionExpression": "x", "ExpressionAttributeNames": {"#n": "name"},
            }),
        )
        .await;
    assert_eq!(
        err.message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}"
    );
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir, clock: &ManualClock) -> (Fixture, Arc<persist::Wal>, State) {
    let fresh = || State {
        kinesis: crate::kinesis::store::KinesisStore::new(
            crate::kinesis::store::StoreSettings::new("eu-west-1", ACCOUNT),
            [7; 16],
        ),
        sqs: crate::sqs::store::SqsStore::new(crate::sqs::store::StoreSettings {
            region: "eu-west-1".into(),
            account_id: ACCOUNT.into(),
        }),
        firehose: crate::firehose::store::FirehoseStore::new(
            crate::firehose::store::StoreSettings::new("eu-west-1", ACCOUNT),
            [7; 16],
        ),
        dynamodb: DynamoStore::new(StoreSettings::new("eu-west-1", ACCOUNT)),
    };
    let (state, wal) = persist::open(&dir.0, fresh).unwrap();
    let db = DynamoDb::new(
        state.dynamodb.clone(),
        Arc::new(clock.clone()),
        Some(Arc::clone(&wal)),
    );
    (
        Fixture {
            db,
            clock: clock.clone(),
        },
        wal,
        state,
    )
}

#[tokio::test]
async fn tables_and_items_survive_reopening_from_the_log_and_from_the_snapshot() {
    let dir = TempDir(std::env::temp_dir().join(format!("riffle-dynamodb-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let clock = ManualClock::new(T0);
    let (f, wal, state) = open(&dir, &clock);
    f.table("t").await;
    f.table("gone").await;
    f.ok(Action::DeleteTable, json!({"TableName": "gone"}))
        .await;
    for id in ["a", "b"] {
        f.ok(
            Action::PutItem,
            json!({"TableName": "t", "Item": {"id": {"S": id}, "n": {"N": "7"}}}),
        )
        .await;
    }
    f.ok(
        Action::DeleteItem,
        json!({"TableName": "t", "Key": {"id": {"S": "a"}}}),
    )
    .await;
    // Without a clean stop: the log is replayed.
    drop((f, wal, state));
    let (f, wal, state) = open(&dir, &clock);
    let listed = f.ok(Action::ListTables, json!({})).await;
    assert_eq!(listed, json!({"TableNames": ["t"]}));
    let got = f
        .ok(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"S": "b"}}}),
        )
        .await;
    assert_eq!(got, json!({"Item": {"id": {"S": "b"}, "n": {"N": "7"}}}));
    // A clean stop writes a snapshot that holds them.
    wal.close(&StateRef {
        kinesis: &state.kinesis,
        sqs: &state.sqs,
        firehose: &state.firehose,
        dynamodb: &f.db.lock(),
    })
    .unwrap();
    drop((f, wal, state));
    let (f, _wal, _state) = open(&dir, &clock);
    let described = f.ok(Action::DescribeTable, json!({"TableName": "t"})).await;
    assert_eq!(described["Table"]["ItemCount"], 1);
    let missing = f
        .ok(
            Action::GetItem,
            json!({"TableName": "t", "Key": {"id": {"S": "a"}}}),
        )
        .await;
    assert_eq!(missing, json!({}));
}
