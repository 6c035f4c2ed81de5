use riffle_core::sqs::poller::EntryFailure;

use super::*;
use crate::journal::Journal;

#[test]
fn entries_serialize_with_the_control_apis_names_and_read_back_the_same() {
    let kinds = [
        Decision::Received { messages: 3 },
        Decision::SourceFailed {
            call: "ReceiveMessage",
            error: "e".into(),
        },
        Decision::Filtered { messages: 1 },
        Decision::Invoked {
            messages: 2,
            first_message_id: "m-1".into(),
            throttles: 1,
        },
        Decision::Throttled { retry_in_ms: 100 },
        Decision::Settled {
            settled: Settled::Success,
            deleted: 2,
            returned: 0,
        },
        Decision::Settled {
            settled: Settled::GaveUp("throttled".into()),
            deleted: 0,
            returned: 2,
        },
        Decision::DeleteFailed {
            failures: vec![EntryFailure {
                message_id: "m-1".into(),
                code: "InternalError".into(),
                sender_fault: false,
            }],
        },
        Decision::Released { messages: 1 },
        Decision::Scaled { pollers: 6 },
    ];
    for kind in kinds {
        let event = SqsJournalEvent {
            at: 1_700_000_000_000,
            poller: 3,
            kind,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(json["poller"], 3);
        let back: SqsJournalEvent = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, event, "{json}");
    }
    let settled = serde_json::to_value(Decision::Settled {
        settled: Settled::FunctionError("OrderRejected".into()),
        deleted: 0,
        returned: 3,
    })
    .unwrap();
    assert_eq!(
        settled,
        serde_json::json!({"kind": "settled", "outcome": "function_error",
            "reason": "OrderRejected", "deleted": 0, "returned": 3})
    );
}

#[test]
fn the_journal_filters_by_poller() {
    let journal = Journal::<SqsJournalEvent>::default();
    for poller in [0, 1, 0] {
        journal.push(SqsJournalEvent {
            at: 1,
            poller,
            kind: Decision::Released { messages: 1 },
        });
    }
    assert_eq!(journal.entries(Some(&0)).len(), 2);
    assert_eq!(journal.entries(None).len(), 3);
}
