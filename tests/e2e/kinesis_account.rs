//! DescribeAccountSettings and UpdateAccountSettings through aws-sdk-kinesis: the minimum
//! throughput billing commitment's transitions on the injected clock, and its survival of a
//! restart with a data directory.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::operation::update_account_settings::{
    UpdateAccountSettingsError, UpdateAccountSettingsOutput,
};
use aws_sdk_kinesis::types::{
    MinimumThroughputBillingCommitmentInput, MinimumThroughputBillingCommitmentInputStatus as In,
    MinimumThroughputBillingCommitmentOutput,
    MinimumThroughputBillingCommitmentOutputStatus as Out,
};
use riffle_emulator::{Config, ManualClock};

use crate::support::{self, T0, code};

const DAY_MS: u64 = 86_400_000;

async fn describe(client: &Client) -> MinimumThroughputBillingCommitmentOutput {
    let answer = client.describe_account_settings().send().await.unwrap();
    answer
        .minimum_throughput_billing_commitment()
        .unwrap()
        .clone()
}

/// UpdateAccountSettings asking for the commitment `status`.
async fn update(
    client: &Client,
    status: In,
) -> Result<UpdateAccountSettingsOutput, SdkError<UpdateAccountSettingsError>> {
    let commitment = MinimumThroughputBillingCommitmentInput::builder()
        .status(status)
        .build()
        .unwrap();
    client
        .update_account_settings()
        .minimum_throughput_billing_commitment(commitment)
        .send()
        .await
}

fn millis(time: Option<&aws_sdk_kinesis::primitives::DateTime>) -> Option<i64> {
    time.map(|t| t.to_millis().unwrap())
}

#[tokio::test]
async fn the_billing_commitment_ends_at_its_earliest_allowed_end_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("riffle-e2e-account-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = ManualClock::new(T0);
    let config = || Config {
        clock: Arc::new(clock.clone()),
        data_dir: Some(dir.clone()),
        ..Config::default()
    };
    let (emulator, client) = support::start_with(config()).await;
    assert_eq!(describe(&client).await.status(), &Out::Disabled);

    let on = update(&client, In::Enabled).await.unwrap();
    let on = on.minimum_throughput_billing_commitment().unwrap();
    assert_eq!(on.status(), &Out::Enabled);
    assert_eq!(millis(on.started_at()), Some(T0 as i64));
    assert_eq!(
        millis(on.earliest_allowed_end_at()),
        Some((T0 + DAY_MS) as i64)
    );

    clock.advance(Duration::from_secs(3600));
    let off = update(&client, In::Disabled).await.unwrap();
    assert_eq!(
        off.minimum_throughput_billing_commitment()
            .unwrap()
            .status(),
        &Out::EnabledUntilEarliestAllowedEnd
    );
    // A status the model does not allow in a request is refused before anything changes.
    let bogus = update(&client, In::from("PAUSED")).await;
    assert_eq!(code(&bogus), "ValidationException");
    emulator.shutdown().await.unwrap();

    let (emulator, client) = support::start_with(config()).await;
    assert_eq!(
        describe(&client).await.status(),
        &Out::EnabledUntilEarliestAllowedEnd
    );
    clock.advance(Duration::from_millis(DAY_MS));
    let ended = describe(&client).await;
    assert_eq!(ended.status(), &Out::Disabled);
    assert_eq!(millis(ended.started_at()), Some(T0 as i64));
    assert_eq!(millis(ended.ended_at()), Some((T0 + DAY_MS) as i64));
    assert_eq!(ended.earliest_allowed_end_at(), None);
    emulator.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
