//! The poller machine on virtual time: one test per behaviour, each feeding results and
//! reading back the effects, as the runtime would.

use super::*;

/// Feeds one input and returns the effects it produced.
fn feed(input: impl FnOnce(&mut Vec<Effect>)) -> Vec<Effect> {
    let mut out = Vec::new();
    input(&mut out);
    out
}

/// A poller past its first retirement question, about to receive.
fn receiving(settings: &PollerSettings) -> Poller {
    let mut poller = Poller::new();
    assert_eq!(
        feed(|o| poller.start(settings, T0, o)),
        [Effect::Retire],
        "a poller holding nothing first asks whether to retire"
    );
    let out = feed(|o| poller.stayed(settings, T0, o));
    assert!(matches!(out[..], [Effect::Receive(_)]), "{out:?}");
    poller
}

fn entry_ids(effect: &Effect) -> Vec<String> {
    match effect {
        Effect::Delete(entries) | Effect::Release(entries) => {
            entries.iter().map(|e| e.message_id.clone()).collect()
        }
        other => panic!("not a delete or release: {other:?}"),
    }
}

fn journal(effects: &[Effect]) -> Vec<&Decision> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Journal(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn payload_ids(effect: &Effect) -> Vec<String> {
    let Effect::Invoke { payload } = effect else {
        panic!("not an invoke: {effect:?}");
    };
    let event: serde_json::Value = serde_json::from_str(payload).unwrap();
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_empty_receive_signals_the_scaler_and_offers_to_retire() {
    let settings = settings(10, 0, false);
    let mut poller = Poller::new();
    feed(|o| poller.start(&settings, T0, o));
    assert_eq!(
        feed(|o| poller.stayed(&settings, T0, o)),
        [Effect::Receive(ReceiveRequest {
            max_messages: 10,
            wait_seconds: 20,
            visibility_timeout_seconds: None,
        })]
    );
    assert_eq!(
        feed(|o| poller.received(&settings, Ok(Vec::new()), T0 + 20_000, o)),
        [
            Effect::Scale(Signal::Received {
                requested: 10,
                got: 0
            }),
            Effect::Retire
        ]
    );
}

#[test]
fn a_successful_batch_is_invoked_then_deleted_and_counted() {
    let settings = settings(10, 0, false);
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Ok(messages(0..3)), T0, o));
    assert_eq!(
        journal(&out),
        [
            &Decision::Received { messages: 3 },
            &Decision::Invoked {
                messages: 3,
                first_message_id: "m-0".into(),
                throttles: 0
            }
        ]
    );
    assert_eq!(payload_ids(out.last().unwrap()), ["m-0", "m-1", "m-2"]);
    let out = feed(|o| poller.invocation_finished(&settings, &success("null"), T0 + 5, o));
    assert_eq!(
        journal(&out),
        [&Decision::Settled {
            settled: Settled::Success,
            deleted: 3,
            returned: 0
        }]
    );
    assert_eq!(entry_ids(out.last().unwrap()), ["m-0", "m-1", "m-2"]);
    assert_eq!(
        feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0 + 6, o)),
        [Effect::Deleted(3), Effect::Retire]
    );
}

#[test]
fn a_batch_is_cut_at_batch_size_and_the_rest_is_invoked_next() {
    let settings = settings(2, 0, false);
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Ok(messages(0..3)), T0, o));
    assert_eq!(payload_ids(out.last().unwrap()), ["m-0", "m-1"]);
    feed(|o| poller.invocation_finished(&settings, &success(""), T0, o));
    let out = feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0, o));
    assert_eq!(out[0], Effect::Deleted(2));
    assert_eq!(
        payload_ids(&out[2]),
        ["m-2"],
        "held: no retirement, invoked"
    );
}

#[test]
fn a_batching_window_waits_for_company_then_invokes_what_it_has() {
    let settings = settings(10, 5, false);
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Ok(messages(0..1)), T0, o));
    assert!(
        matches!(
            out.last(),
            Some(Effect::Receive(ReceiveRequest {
                max_messages: 9,
                wait_seconds: 5,
                ..
            }))
        ),
        "{out:?}"
    );
    let out = feed(|o| poller.received(&settings, Ok(Vec::new()), T0 + 5_000, o));
    assert_eq!(payload_ids(out.last().unwrap()), ["m-0"]);
}

#[test]
fn a_batch_is_cut_at_six_mb() {
    let settings = settings(10, 0, false);
    let big = "x".repeat(4 * 1024 * 1024);
    let mut poller = receiving(&settings);
    let two = vec![message(0, &big), message(1, &big)];
    let out = feed(|o| poller.received(&settings, Ok(two), T0, o));
    assert_eq!(payload_ids(out.last().unwrap()), ["m-0"]);
    feed(|o| poller.invocation_finished(&settings, &success(""), T0, o));
    let out = feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0, o));
    assert_eq!(payload_ids(out.last().unwrap()), ["m-1"]);
}

#[test]
fn filtered_out_messages_are_deleted_without_an_invocation() {
    let mut config = config(10, 0, false);
    config.filter_patterns = vec![serde_json::json!({"body": {"keep": [true]}})];
    let settings = PollerSettings::new(&config, "us-east-1", FACTS).unwrap();
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Ok(messages(0..2)), T0, o));
    assert_eq!(
        journal(&out),
        [
            &Decision::Received { messages: 2 },
            &Decision::Filtered { messages: 2 }
        ]
    );
    assert_eq!(entry_ids(out.last().unwrap()), ["m-0", "m-1"]);
    assert_eq!(
        feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0, o)),
        [Effect::Retire],
        "filtered deletes are not counted as deleted after success"
    );
}

#[test]
fn reported_failures_are_kept_and_the_rest_deleted() {
    let settings = settings(10, 0, true);
    let mut poller = receiving(&settings);
    feed(|o| poller.received(&settings, Ok(messages(0..3)), T0, o));
    let body = r#"{"batchItemFailures":[{"itemIdentifier":"m-1"}]}"#;
    let out = feed(|o| poller.invocation_finished(&settings, &success(body), T0, o));
    assert_eq!(
        journal(&out),
        [&Decision::Settled {
            settled: Settled::PartialFailure(vec!["m-1".into()]),
            deleted: 2,
            returned: 1
        }]
    );
    assert!(!out.contains(&Effect::Scale(Signal::BackedOff)));
    assert_eq!(entry_ids(out.last().unwrap()), ["m-0", "m-2"]);
}

#[test]
fn a_function_error_deletes_nothing_and_backs_off_without_report_batch_item_failures() {
    for report in [false, true] {
        let settings = settings(10, 0, report);
        let mut poller = receiving(&settings);
        feed(|o| poller.received(&settings, Ok(messages(0..2)), T0, o));
        let error = Outcome::function_error("Error", "boom");
        let out = feed(|o| poller.invocation_finished(&settings, &error, T0, o));
        let backs_off = out.contains(&Effect::Scale(Signal::BackedOff));
        assert_eq!(backs_off, !report, "report {report}");
        assert_eq!(
            journal(&out),
            [&Decision::Settled {
                settled: Settled::FunctionError("Error".into()),
                deleted: 0,
                returned: 2
            }]
        );
        assert_eq!(out.last(), Some(&Effect::Retire), "nothing to delete");
    }
}

#[test]
fn a_throttled_batch_backs_off_waits_and_is_invoked_again_until_it_gives_up() {
    let settings = settings(10, 0, false);
    let mut poller = receiving(&settings);
    let first = feed(|o| poller.received(&settings, Ok(messages(0..2)), T0, o));
    let mut now = T0;
    let mut waits = Vec::new();
    loop {
        let out = feed(|o| poller.invocation_finished(&settings, &Outcome::Throttled, now, o));
        match out.last() {
            Some(Effect::Wake { at }) => {
                assert_eq!(out[1], Effect::Scale(Signal::BackedOff));
                waits.push(at - now);
                now = *at;
                assert_eq!(
                    feed(|o| poller.tick(&settings, now - 1, o)),
                    [Effect::Wake { at: now }],
                    "not before its time"
                );
                let again = feed(|o| poller.tick(&settings, now, o));
                assert!(matches!(
                    journal(&again)[..],
                    [Decision::Invoked { throttles, .. }] if *throttles == waits.len() as u32
                ));
                assert_eq!(again.last(), first.last(), "the same event again");
            }
            _ => {
                assert_eq!(
                    journal(&out),
                    [&Decision::Settled {
                        settled: Settled::GaveUp("throttled".into()),
                        deleted: 0,
                        returned: 2
                    }]
                );
                assert!(out.contains(&Effect::Scale(Signal::BackedOff)));
                break;
            }
        }
    }
    assert_eq!(waits, [1000, 2000, 4000, 8000, 8000]);
}

#[test]
fn a_fifo_poller_hands_back_what_it_holds_after_a_failed_batch() {
    let facts = SqsFacts {
        fifo: true,
        ..FACTS
    };
    let config = RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs.fifo".into()),
        function_name: Some("f".into()),
        batch_size: Some(1),
        ..RawSqsMapping::default()
    }
    .validate(facts)
    .unwrap();
    let settings = PollerSettings::new(&config, "us-east-1", facts).unwrap();
    let mut poller = receiving(&settings);
    feed(|o| poller.received(&settings, Ok(messages(0..3)), T0, o));
    let error = Outcome::function_error("Error", "");
    let out = feed(|o| poller.invocation_finished(&settings, &error, T0, o));
    assert_eq!(entry_ids(out.last().unwrap()), ["m-1", "m-2"]);
    assert_eq!(
        feed(|o| poller.released(&settings, Ok(Vec::new()), T0, o)),
        [
            Effect::Journal(Decision::Released { messages: 2 }),
            Effect::Retire
        ]
    );
    assert_eq!(poller.held(), 0);
}

#[test]
fn entries_sqs_failed_on_its_side_are_deleted_once_more_in_calls_of_ten() {
    let settings = settings(15, 1, false);
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Ok(messages(0..15)), T0, o));
    assert_eq!(payload_ids(out.last().unwrap()).len(), 15, "a full batch");
    let out = feed(|o| poller.invocation_finished(&settings, &success(""), T0, o));
    assert_eq!(entry_ids(out.last().unwrap()).len(), 10, "calls of ten");
    let failure = |id: &str, sender_fault| EntryFailure {
        message_id: id.into(),
        code: "InternalError".into(),
        sender_fault,
    };
    let out = feed(|o| {
        let failures = vec![failure("m-1", false), failure("m-2", true)];
        poller.deleted(&settings, Ok(failures), T0, o)
    });
    assert_eq!(
        journal(&out),
        [&Decision::DeleteFailed {
            failures: vec![failure("m-2", true)]
        }],
        "the sender's fault is not retried"
    );
    assert_eq!(entry_ids(out.last().unwrap()), ["m-1"]);
    let out = feed(|o| poller.deleted(&settings, Ok(vec![failure("m-1", false)]), T0, o));
    assert_eq!(
        journal(&out),
        [&Decision::DeleteFailed {
            failures: vec![failure("m-1", false)]
        }],
        "one retry only"
    );
    assert_eq!(entry_ids(out.last().unwrap()).len(), 5, "the next chunk");
    let out = feed(|o| poller.deleted(&settings, Err("down".into()), T0, o));
    assert_eq!(
        journal(&out),
        [&Decision::SourceFailed {
            call: "DeleteMessageBatch",
            error: "down".into()
        }]
    );
    assert_eq!(
        entry_ids(out.last().unwrap()).len(),
        5,
        "a failed call is retried whole"
    );
    assert_eq!(
        feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0, o)),
        [Effect::Deleted(8 + 5), Effect::Retire]
    );
}

#[test]
fn a_failed_receive_pauses_before_the_next() {
    let settings = settings(10, 0, false);
    let mut poller = receiving(&settings);
    let out = feed(|o| poller.received(&settings, Err("refused".into()), T0, o));
    assert_eq!(
        out,
        [
            Effect::Journal(Decision::SourceFailed {
                call: "ReceiveMessage",
                error: "refused".into()
            }),
            Effect::Wake {
                at: T0 + settings.error_pause_ms
            }
        ],
        "no scaler signal for a failed receive"
    );
    assert_eq!(
        feed(|o| poller.tick(&settings, T0 + 1_000, o)),
        [Effect::Retire]
    );
}

#[test]
fn shutdown_interrupts_a_receive_and_hands_back_what_is_held() {
    let settings = settings(10, 10, false);
    let mut poller = receiving(&settings);
    feed(|o| poller.received(&settings, Ok(messages(0..2)), T0, o));
    poller.stop();
    let out = feed(|o| poller.receive_cancelled(&settings, T0, o));
    assert_eq!(entry_ids(out.last().unwrap()), ["m-0", "m-1"]);
    assert_eq!(
        feed(|o| poller.released(&settings, Err("gone".into()), T0, o)),
        [
            Effect::Journal(Decision::SourceFailed {
                call: "ChangeMessageVisibilityBatch",
                error: "gone".into()
            }),
            Effect::Journal(Decision::Released { messages: 2 }),
            Effect::Stopped
        ]
    );
    assert!(poller.is_stopped());
}

#[test]
fn shutdown_lets_a_throttled_batch_finish_and_stops_after_it() {
    let settings = settings(10, 0, false);
    let mut poller = receiving(&settings);
    feed(|o| poller.received(&settings, Ok(messages(0..1)), T0, o));
    feed(|o| poller.invocation_finished(&settings, &Outcome::Throttled, T0, o));
    poller.stop();
    assert_eq!(
        feed(|o| poller.tick(&settings, T0 + 10, o)),
        [Effect::Wake { at: T0 + 1_000 }],
        "the wait is not cut short"
    );
    let out = feed(|o| poller.tick(&settings, T0 + 1_000, o));
    assert!(matches!(out.last(), Some(Effect::Invoke { .. })));
    feed(|o| poller.invocation_finished(&settings, &success(""), T0 + 1_000, o));
    assert_eq!(
        feed(|o| poller.deleted(&settings, Ok(Vec::new()), T0 + 1_000, o)),
        [Effect::Deleted(1), Effect::Stopped],
        "nothing held: no release"
    );
}

#[test]
fn the_scaler_starts_pollers_up_to_its_target_and_retires_those_above_it() {
    let mut scaler = new_scaler(None);
    let started = std::iter::from_fn(|| scaler.start_poller().then_some(())).count();
    assert_eq!((started, scaler.live()), (5, 5));
    assert!(!scaler.retire_poller(), "at the target");
    let full = Signal::Received {
        requested: 10,
        got: 10,
    };
    assert_eq!(scaler.signal(full, T0 + 500), None, "grows once a second");
    assert_eq!(
        scaler.signal(full, T0 + 1_000),
        Some(Decision::Scaled { pollers: 10 })
    );
    assert!(scaler.start_poller());
    assert_eq!(
        scaler.signal(Signal::BackedOff, T0 + 1_001),
        Some(Decision::Scaled { pollers: 5 })
    );
    assert!(scaler.retire_poller());
    assert_eq!(scaler.live(), 5);
    scaler.poller_stopped();
    assert_eq!(scaler.live(), 4);
}
