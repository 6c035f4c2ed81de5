use base64::Engine as _;

use super::*;

fn spec(fault: &str) -> FaultSpec {
    FaultSpec {
        function: "F".into(),
        fault: fault.into(),
        ..FaultSpec::default()
    }
}

fn kinesis_payload(data: &[&str]) -> String {
    let records: Vec<Value> = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            serde_json::json!({
                "eventID": format!("shardId-000000000001:{i}"),
                "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                "kinesis": {
                    "sequenceNumber": i.to_string(),
                    "partitionKey": "k",
                    "data": base64::engine::general_purpose::STANDARD.encode(d),
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

fn fired(set: &FaultSet, payload: &str, now: Millis, times: usize) -> Vec<bool> {
    (0..times)
        .map(|i| set.decide("F", &format!("r{i}"), payload, now).is_some())
        .collect()
}

#[test]
fn next_n_fires_n_times_then_never() {
    let set = FaultSet::new();
    set.add(
        FaultSpec {
            next: Some(2),
            ..spec("fail")
        }
        .rule(0)
        .unwrap(),
    );
    assert_eq!(fired(&set, "{}", 0, 4), [true, true, false, false]);
    let rule = &set.rules()[0];
    assert_eq!((rule.seen, rule.fired, rule.active(0)), (2, 2, false));
}

#[test]
fn other_functions_are_left_alone() {
    let set = FaultSet::new();
    set.add(spec("throttle").rule(0).unwrap());
    assert!(set.decide("G", "r", "{}", 0).is_none());
    assert_eq!(
        set.decide("F", "r", "{}", 0).map(|i| i.fault),
        Some(Fault::Throttle)
    );
}

#[test]
fn a_seeded_share_picks_the_same_invocations_every_time() {
    let run = |seed| {
        let set = FaultSet::new();
        set.add(
            FaultSpec {
                share: Some(0.3),
                seed: Some(seed),
                ..spec("timeout")
            }
            .rule(0)
            .unwrap(),
        );
        fired(&set, "{}", 0, 1000)
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    let share = run(7).iter().filter(|f| **f).count();
    assert!(
        (250..350).contains(&share),
        "{share} of 1000 for a share of 0.3"
    );
    let none = FaultSet::new();
    none.add(
        FaultSpec {
            share: Some(0.0),
            ..spec("fail")
        }
        .rule(0)
        .unwrap(),
    );
    assert!(fired(&none, "{}", 0, 100).iter().all(|f| !f));
}

#[test]
fn a_pattern_matches_decoded_record_data() {
    let set = FaultSet::new();
    set.add(
        FaultSpec {
            matching: Some("poison".into()),
            ..spec("fail")
        }
        .rule(0)
        .unwrap(),
    );
    assert!(
        set.decide("F", "r", &kinesis_payload(&["ok", "fine"]), 0)
            .is_none()
    );
    let injection = set
        .decide("F", "r", &kinesis_payload(&["ok", "a poison pill"]), 0)
        .unwrap();
    assert_eq!(injection.fault, Fault::Error(INJECTED_ERROR_TYPE.into()));
    assert_eq!(injection.shard_id.as_deref(), Some("shardId-000000000001"));
    assert_eq!(
        injection.event_source_arn.as_deref(),
        Some("arn:aws:kinesis:us-east-1:000000000000:stream/s")
    );

    let regex = FaultSet::new();
    regex.add(
        FaultSpec {
            matching: Some("^id-[0-9]+$".into()),
            regex: true,
            ..spec("throttle")
        }
        .rule(0)
        .unwrap(),
    );
    assert!(
        regex
            .decide("F", "r", &kinesis_payload(&["id-x"]), 0)
            .is_none()
    );
    assert!(
        regex
            .decide("F", "r", &kinesis_payload(&["id-42"]), 0)
            .is_some()
    );
    let sqs = serde_json::json!({"Records": [{"messageId": "m", "body": "id-7"}]}).to_string();
    assert!(regex.decide("F", "r", &sqs, 0).is_some());
}

#[test]
fn a_rule_for_a_time_expires_on_the_clock_it_is_given() {
    let set = FaultSet::new();
    set.add(
        FaultSpec {
            for_ms: Some(30_000),
            ..spec("delay")
        }
        .rule(1_000)
        .err()
        .map_or_else(
            || unreachable!(),
            |e| {
                assert!(e.contains("delay_ms"), "{e}");
                FaultSpec {
                    for_ms: Some(30_000),
                    delay_ms: Some(5),
                    ..spec("delay")
                }
                .rule(1_000)
                .unwrap()
            },
        ),
    );
    assert_eq!(
        set.decide("F", "r", "{}", 30_999).map(|i| i.fault),
        Some(Fault::Delay(5))
    );
    assert!(set.decide("F", "r", "{}", 31_000).is_none());
    assert!(!set.rules()[0].active(31_000));
}

#[test]
fn the_oldest_matching_rule_wins_and_observers_hear_of_it() {
    let set = FaultSet::new();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&heard);
    set.observe(move |i| log.lock().unwrap().push((i.rule, i.request_id.clone())));
    let first = set.add(
        FaultSpec {
            next: Some(1),
            ..spec("throttle")
        }
        .rule(0)
        .unwrap(),
    );
    let second = set.add(spec("timeout").rule(0).unwrap());
    assert_eq!(
        set.decide("F", "a", "{}", 0).unwrap().fault,
        Fault::Throttle
    );
    assert_eq!(set.decide("F", "b", "{}", 0).unwrap().fault, Fault::Timeout);
    assert_eq!(
        *heard.lock().unwrap(),
        [(first, "a".to_owned()), (second, "b".to_owned())]
    );
    assert!(set.remove(second));
    assert!(!set.remove(second));
    assert!(set.decide("F", "c", "{}", 0).is_none());
    assert_eq!(set.clear(), 1);
    assert!(set.is_empty());
}

#[test]
fn bad_specs_say_why() {
    let cases = [
        (spec("explode"), "fault must be"),
        (
            FaultSpec {
                share: Some(1.5),
                ..spec("fail")
            },
            "between 0 and 1",
        ),
        (
            FaultSpec {
                share: Some(0.5),
                next: Some(1),
                ..spec("fail")
            },
            "at most one",
        ),
        (
            FaultSpec {
                next: Some(0),
                ..spec("fail")
            },
            "at least 1",
        ),
        (
            FaultSpec {
                matching: Some("(".into()),
                regex: true,
                ..spec("fail")
            },
            "regular expression",
        ),
        (
            FaultSpec {
                function: String::new(),
                ..spec("fail")
            },
            "function",
        ),
        (
            FaultSpec {
                delay_ms: Some(1),
                ..spec("fail")
            },
            "delay_ms",
        ),
    ];
    for (spec, why) in cases {
        let error = spec.rule(0).unwrap_err();
        assert!(error.contains(why), "{error} should say {why}");
    }
    let wire: FaultSpec =
        serde_json::from_str(r#"{"function":"F","fault":"fail","next":2,"for_ms":1000}"#).unwrap();
    assert_eq!(wire.rule(5).unwrap().until_ms, Some(1005));
    assert!(
        serde_json::from_str::<FaultSpec>(r#"{"function":"F","fault":"fail","nxt":2}"#).is_err()
    );
}
