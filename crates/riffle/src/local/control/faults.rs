//! The control API's fault routes (`riffle fault`): `POST /_riffle/faults` adds a rule (a
//! [`FaultSpec`]) and answers its id, `GET /_riffle/faults` lists the rules,
//! `DELETE /_riffle/faults/{id}` removes one and `DELETE /_riffle/faults` every one; and the
//! observer that writes each injected fault into the journal of the Kinesis mapping whose batch
//! it took over.
//!
//! Invariant: the rules live in one [`FaultSet`], the one every [`riffle_lambda::LocalFunction`]
//! of the run checks; a rule names its function by FunctionName (a logical id is accepted and
//! translated), so it is checked with the name the function runs under.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use riffle_core::fault::{FaultSet, FaultSpec};
use riffle_runtime::journal::JournalKind;
use serde_json::{Value, json};

use super::{Control, control_error, json_response, source_name, starting};
use crate::local::run::KinesisController;

fn now() -> riffle_core::time::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as riffle_core::time::Millis)
}

fn bad_request(message: &str) -> Response {
    control_error(StatusCode::BAD_REQUEST, "InvalidParameter", message, None)
}

pub(super) async fn add(State(control): State<Control>, body: Bytes) -> Response {
    let Some(ready) = control.get() else {
        return starting();
    };
    let mut spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(error) => return bad_request(&format!("the body is not a fault rule: {error}")),
    };
    let functions = &ready.running.functions;
    let name = functions
        .get(&spec.function)
        .map(|f| f.config().name.clone())
        .or_else(|| {
            functions
                .values()
                .find(|f| f.config().name == spec.function)
                .map(|f| f.config().name.clone())
        });
    let Some(name) = name else {
        let known: Vec<String> = functions.keys().cloned().collect();
        return control_error(
            StatusCode::NOT_FOUND,
            "UnknownFunction",
            &format!(
                "riffle local runs no function {}; its functions are: {}",
                spec.function,
                known.join(", ")
            ),
            Some(&known),
        );
    };
    spec.function = name;
    let now = now();
    match spec.rule(now) {
        Ok(rule) => {
            let id = control.faults.add(rule);
            let listed = control
                .faults
                .rules()
                .into_iter()
                .find(|r| r.id == id)
                .map_or(Value::Null, |r| r.to_json(now));
            json_response(StatusCode::CREATED, &listed)
        }
        Err(message) => bad_request(&message),
    }
}

pub(super) async fn list(State(control): State<Control>) -> Response {
    let now = now();
    let rules: Vec<Value> = control
        .faults
        .rules()
        .iter()
        .map(|r| r.to_json(now))
        .collect();
    json_response(StatusCode::OK, &Value::Array(rules))
}

pub(super) async fn remove(State(control): State<Control>, Path(id): Path<String>) -> Response {
    let Ok(number) = id.parse::<u64>() else {
        return bad_request(&format!("{id} is not a fault rule id (a number)"));
    };
    if control.faults.remove(number) {
        json_response(StatusCode::OK, &json!({ "removed": [id] }))
    } else {
        control_error(
            StatusCode::NOT_FOUND,
            "UnknownFault",
            &format!("there is no fault rule {id}; `riffle fault list` shows the rules"),
            None,
        )
    }
}

pub(super) async fn clear(State(control): State<Control>) -> Response {
    let removed = control.faults.clear();
    json_response(StatusCode::OK, &json!({ "removed": removed }))
}

/// Journals every fault injected into a batch of `controller`'s stream for `function`, on the
/// batch's shard.
pub(super) fn journal_injections(
    faults: &FaultSet,
    function: String,
    event_source_arn: &str,
    controller: Arc<KinesisController>,
) {
    let stream = source_name(event_source_arn);
    faults.observe(move |injection| {
        let (Some(arn), Some(shard)) = (&injection.event_source_arn, &injection.shard_id) else {
            return;
        };
        if injection.function != function || source_name(arn) != stream {
            return;
        }
        controller.mapping().journal().record(
            injection.at,
            shard,
            JournalKind::FaultInjected {
                rule: injection.rule.to_string(),
                fault: injection.fault.to_string(),
                request_id: injection.request_id.clone(),
            },
        );
    });
}
