//! DescribeAccountSettings and UpdateAccountSettings: the minimum throughput billing commitment's
//! validation, answers and transitions on the injected clock.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Fixture, T0};
use crate::error::ErrorCode;
use crate::kinesis::Action;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn set(f: &Fixture, status: &str) -> Value {
    let body = json!({ "MinimumThroughputBillingCommitment": { "Status": status } });
    f.ok(Action::UpdateAccountSettings, &body.to_string())["MinimumThroughputBillingCommitment"]
        .clone()
}

fn describe(f: &Fixture) -> Value {
    f.ok(Action::DescribeAccountSettings, "{}")["MinimumThroughputBillingCommitment"].clone()
}

fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

#[test]
fn an_account_starts_disabled_without_timestamps() {
    let f = Fixture::new();
    assert_eq!(describe(&f), json!({ "Status": "DISABLED" }));
}

#[test]
fn enabling_starts_a_commitment_of_at_least_a_day() {
    let f = Fixture::new();
    let on = set(&f, "ENABLED");
    let expected = json!({
        "Status": "ENABLED",
        "StartedAt": secs(T0),
        "EarliestAllowedEndAt": secs(T0 + 86_400_000),
    });
    assert_eq!(on, expected);
    assert_eq!(describe(&f), expected);
    // Enabling again changes nothing.
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(set(&f, "ENABLED"), expected);
}

#[test]
fn disabling_early_ends_the_commitment_at_its_earliest_allowed_end() {
    let f = Fixture::new();
    set(&f, "ENABLED");
    f.clock.advance(Duration::from_secs(3600));
    let ending = json!({
        "Status": "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
        "StartedAt": secs(T0),
        "EarliestAllowedEndAt": secs(T0 + 86_400_000),
    });
    assert_eq!(set(&f, "DISABLED"), ending);
    // Disabling again changes nothing; the end comes at its time, without another call.
    assert_eq!(set(&f, "DISABLED"), ending);
    f.clock.advance(DAY);
    assert_eq!(
        describe(&f),
        json!({ "Status": "DISABLED", "StartedAt": secs(T0), "EndedAt": secs(T0 + 86_400_000) })
    );
}

#[test]
fn enabling_before_the_end_cancels_it_and_disabling_after_a_day_is_at_once() {
    let f = Fixture::new();
    set(&f, "ENABLED");
    set(&f, "DISABLED");
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(set(&f, "ENABLED")["Status"], "ENABLED");
    f.clock.advance(DAY);
    let now = T0 + 60_000 + 86_400_000;
    assert_eq!(
        set(&f, "DISABLED"),
        json!({ "Status": "DISABLED", "StartedAt": secs(T0), "EndedAt": secs(now) })
    );
    // A new commitment after the last one ended starts now.
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(set(&f, "ENABLED")["StartedAt"], secs(now + 1000));
}

#[test]
fn the_status_is_required_and_one_of_awss_input_values() {
    let f = Fixture::new();
    let missing = f.refused(
        Action::UpdateAccountSettings,
        "{}",
        ErrorCode::ValidationException,
    );
    assert_eq!(
        missing,
        "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed \
         to satisfy constraint: Member must not be null"
    );
    let f2 = |status: &str| {
        f.refused(
            Action::UpdateAccountSettings,
            &json!({ "MinimumThroughputBillingCommitment": { "Status": status } }).to_string(),
            ErrorCode::ValidationException,
        )
    };
    // The output-only status is not an input value.
    let message = f2("ENABLED_UNTIL_EARLIEST_ALLOWED_END");
    assert!(
        message.contains("Member must satisfy enum value set: [ENABLED, DISABLED]"),
        "{message}"
    );
    let nested = f.refused(
        Action::UpdateAccountSettings,
        r#"{"MinimumThroughputBillingCommitment":{}}"#,
        ErrorCode::ValidationException,
    );
    assert!(
        nested.contains("Value null at 'minimumThroughputBillingCommitment.status'"),
        "{nested}"
    );
    assert_eq!(describe(&f)["Status"], "DISABLED");
}
