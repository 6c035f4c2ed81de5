//! The control API's fault routes (`riffle fault`): `POST /_riffle/faults` adds a rule (a
//! [`FaultSpec`]) and answers its id, `GET /_riffle/faults` lists the rules,
//! `DELETE /_riffle/faults/{id}` removes one and `DELETE /_riffle/faults` every one; and the
//! observer that writes each injected fault into the journal of the Kinesis mapping whose batch
//! it took over. A rule naming a `stream` or a `queue` instead of a function is an emulator
//! throttle ([`riffle_emulator::throttle`]): ids `t1`, `t2`, … keep the two kinds apart.
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
use riffle_emulator::throttle::{Throttle, ThrottleSpec, ThrottleTarget};
use riffle_runtime::journal::JournalKind;
use serde_json::{Value, json};

use super::metrics::source_name;
use super::{Control, control_error, json_response, starting};
use crate::local::run::KinesisController;

fn now() -> riffle_core::time::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as riffle_core::time::Millis)
}

fn bad_request(message: &str) -> Response {
    control_error(StatusCode::BAD_REQUEST, "InvalidParameter", message, None)
}

fn throttle_json(throttle: &Throttle, now: riffle_core::time::Millis) -> Value {
    let mut value = json!({
        "id": format!("t{}", throttle.id),
        "fault": "throttle",
        "description": format!("throttle {}", throttle.target),
        "active": throttle.active(now),
        "refused": throttle.refused,
        "until_ms": throttle.until_ms,
    });
    match &throttle.target {
        ThrottleTarget::StreamReads(name) => {
            value["stream"] = name.clone().into();
            value["on"] = "reads".into();
        }
        ThrottleTarget::StreamWrites(name) => {
            value["stream"] = name.clone().into();
            value["on"] = "writes".into();
        }
        ThrottleTarget::QueueReceives(name) => value["queue"] = name.clone().into(),
    }
    value
}

fn add_throttle(control: &Control, body: &[u8]) -> Response {
    let spec: ThrottleSpec = match serde_json::from_slice(body) {
        Ok(spec) => spec,
        Err(error) => return bad_request(&format!("the body is not a throttle: {error}")),
    };
    let Some(throttles) = control.throttles.get() else {
        return bad_request(
            "riffle local runs no emulator of its own (it uses --endpoint-url), so it cannot \
             throttle a stream or queue",
        );
    };
    let target = match spec.target() {
        Ok(target) => target,
        Err(message) => return bad_request(&message),
    };
    let now = now();
    let until_ms = match (spec.for_ms, spec.until_ms) {
        (Some(_), Some(_)) => return bad_request("choose one of for_ms and until_ms"),
        (Some(0), None) => return bad_request("for_ms must be at least 1"),
        (Some(ms), None) => Some(now.saturating_add(ms)),
        (None, until) => until,
    };
    let id = throttles.add(target, until_ms);
    let listed = throttles
        .list()
        .iter()
        .find(|t| t.id == id)
        .map_or(Value::Null, |t| throttle_json(t, now));
    json_response(StatusCode::CREATED, &listed)
}

pub(super) async fn add(State(control): State<Control>, body: Bytes) -> Response {
    let Some(ready) = control.get() else {
        return starting();
    };
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body)
        && (fields.contains_key("stream") || fields.contains_key("queue"))
    {
        return add_throttle(&control, &body);
    }
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
    let mut rules: Vec<Value> = control
        .faults
        .rules()
        .iter()
        .map(|r| r.to_json(now))
        .collect();
    if let Some(throttles) = control.throttles.get() {
        rules.extend(throttles.list().iter().map(|t| throttle_json(t, now)));
    }
    json_response(StatusCode::OK, &Value::Array(rules))
}

pub(super) async fn remove(State(control): State<Control>, Path(id): Path<String>) -> Response {
    let removed = match (
        id.strip_prefix('t').map(str::parse::<u64>),
        id.parse::<u64>(),
    ) {
        (Some(Ok(number)), _) => control
            .throttles
            .get()
            .is_some_and(|throttles| throttles.remove(number)),
        (_, Ok(number)) => control.faults.remove(number),
        _ => {
            return bad_request(&format!(
                "{id} is not a fault rule id (1, 2, … or t1, t2, …)"
            ));
        }
    };
    if removed {
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
    let removed = control.faults.clear()
        + control
            .throttles
            .get()
            .map_or(0, riffle_emulator::throttle::Throttles::clear);
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
