//! The clickstream-totals handler: counts clicks per page in one-minute tumbling windows.
//!
//! The mapping filters the stream down to `{"type": "click"}` events (FilterCriteria), so the
//! handler only sees clicks: `{"type": "click", "page": "/pricing", "user": "u-1"}`. It carries
//! the running counts in the window's `state` (page → count, as strings, which is what Lambda's
//! state holds) and logs the totals when Lambda says the window is over.

use std::collections::HashMap;

use aws_lambda_events::event::kinesis::{KinesisTimeWindowEvent, KinesisTimeWindowEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use serde::Deserialize;

/// One clickstream event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Click {
    /// The page clicked.
    pub page: String,
    /// Who clicked.
    pub user: String,
}

/// Adds the clicks of one invocation to `state`. Records that are not clicks are skipped
/// (counted under `_skipped`), never failing the window.
pub fn count(state: &mut HashMap<String, String>, event: &KinesisTimeWindowEvent) {
    for record in &event.kinesis_event.records {
        let key = match serde_json::from_slice::<Click>(&record.kinesis.data) {
            Ok(click) => click.page,
            Err(_) => "_skipped".to_owned(),
        };
        let current: u64 = state.get(&key).and_then(|n| n.parse().ok()).unwrap_or(0);
        state.insert(key, (current + 1).to_string());
    }
}

/// The Lambda handler.
pub async fn handler(
    event: LambdaEvent<KinesisTimeWindowEvent>,
) -> Result<KinesisTimeWindowEventResponse, Error> {
    let window = &event.payload.time_window_properties;
    let mut state = window.state.clone();
    count(&mut state, &event.payload);
    if window.is_final_invoke_for_window {
        tracing::info!(
            start = %window.window.start,
            end = %window.window.end,
            totals = ?state,
            "window totals"
        );
    }
    let mut response = KinesisTimeWindowEventResponse::default();
    response.time_window_event_response_properties.state = state;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use lambda_runtime::service_fn;
    use riffle_testkit::{KinesisEventBuilder, KinesisSimulation, lambda_event, window_state};
    use serde_json::{Value, json};

    fn click(page: &str, user: &str) -> Value {
        json!({"type": "click", "page": page, "user": user})
    }

    #[tokio::test]
    async fn clicks_add_to_the_state_carried_in() {
        let state = HashMap::from([("/home".to_owned(), "2".to_owned())]);
        let event = KinesisEventBuilder::new()
            .json_record("u-1", &click("/home", "u-1"))
            .json_record("u-2", &click("/pricing", "u-2"))
            .record("u-3", "garbage")
            .window(0, 60_000, &state, false);
        let response = handler(lambda_event(event)).await.unwrap();
        assert_eq!(
            window_state(&response),
            Some(json!({"/home": "3", "/pricing": "1", "_skipped": "1"}))
        );
    }

    /// The template's mapping, property for property.
    fn template_mapping() -> Value {
        json!({
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 100,
            "TumblingWindowInSeconds": 60,
            "FilterCriteria": {"Filters": [{"Pattern": "{\"data\": {\"type\": [\"click\"]}}"}]},
        })
    }

    /// Views are filtered out before they reach the function; each minute ends with a final
    /// invocation whose state is that minute's totals, and the next minute starts from nothing.
    #[tokio::test]
    async fn each_window_ends_with_the_totals_of_its_clicks_only() {
        let mut sim = KinesisSimulation::windowed(service_fn(handler), template_mapping());
        let view = sim.put_json(
            "u-9",
            &json!({"type": "view", "page": "/home", "user": "u-9"}),
        );
        for (page, user) in [
            ("/home", "u-1"),
            ("/home", "u-2"),
            ("/pricing", "u-1"),
            ("/home", "u-3"),
        ] {
            sim.put_json(user, &click(page, user));
        }
        sim.advance(Duration::from_secs(60));
        sim.put_json("u-4", &click("/docs", "u-4"));
        sim.advance(Duration::from_secs(120));
        let trace = sim.run().await;
        assert_eq!(
            trace.filtered,
            [view],
            "the view never reaches the function"
        );
        let totals: Vec<Value> = trace
            .invocations
            .iter()
            .filter(|i| i.is_final_for_window())
            .map(|i| window_state(&i.response().expect("the final invocation succeeded")).unwrap())
            .collect();
        assert_eq!(
            totals,
            [
                json!({"/home": "3", "/pricing": "1"}),
                json!({"/docs": "1"})
            ],
            "two windows, each ending with its own totals"
        );
        trace.assert_nothing_lost();
    }
}
