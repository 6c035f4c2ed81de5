//! How a lane starts its next invocation: queued pieces (bisected halves, remainders) first,
//! then a batch cut from its pending records (BatchSize, 6 MiB with the window state it
//! carries, the batching window, one tumbling window per batch), records past their age
//! split off first.

use super::*;

impl<F: EventFormat> Shard<F> {
    pub(super) fn drive_lane(&mut self, index: usize, now: Millis, effects: &mut Vec<Effect>) {
        loop {
            let lane = &mut self.lanes[index];
            let piece = match std::mem::replace(&mut lane.state, LaneState::Idle) {
                LaneState::Idle => match lane.queued.pop() {
                    Some(piece) => piece,
                    None => match self.next_batch_from_pending(index, now) {
                        Some(piece) => piece,
                        None => return,
                    },
                },
                LaneState::Waiting { until, piece } if now >= until => piece,
                LaneState::Delivering {
                    delivery,
                    entries,
                    record,
                    retry_at: Some(at),
                } if now >= at => {
                    effects.push(Effect::Deliver {
                        lane: index,
                        delivery,
                        record: record.clone(),
                    });
                    self.lanes[index].state = LaneState::Delivering {
                        delivery,
                        entries,
                        record,
                        retry_at: None,
                    };
                    return;
                }
                other => {
                    lane.state = other;
                    return;
                }
            };
            let mut piece = piece;
            // Records older than the age limit are split off and discarded before invoking.
            let limit = self.settings.maximum_record_age_ms;
            let expired = piece
                .entries
                .iter()
                .take_while(|e| now.saturating_sub(e.record.arrival_ms) > limit)
                .count();
            if expired > 0 {
                let rest = piece.entries.split_off(expired);
                let expired_entries = std::mem::replace(&mut piece.entries, rest);
                if !piece.entries.is_empty() {
                    let remainder = piece.clone();
                    self.lanes[index].queued.push(remainder);
                }
                self.discard(
                    index,
                    expired_entries,
                    &piece,
                    FailureCondition::RecordAgeExceeded,
                    now,
                    effects,
                );
                continue;
            }
            self.fit_window_state(index, &mut piece);
            let batch = self.next_batch;
            self.next_batch += 1;
            let size = ENVELOPE_BYTES + piece.entries.iter().map(|e| e.size).sum::<usize>();
            let mut payload = self
                .settings
                .source
                .event(piece.entries.iter().map(|e| &e.record), size);
            if let (Some(call), Some(length)) = (piece.window, self.settings.tumbling_window_ms) {
                let state = self.lanes[index]
                    .window
                    .as_ref()
                    .filter(|w| w.index == call.index)
                    .map_or_else(|| serde_json::json!({}), |w| w.state.clone());
                let start_ms = call.index * length;
                let window = WindowFields {
                    start_ms,
                    end_ms: start_ms + length,
                    state: &state,
                    final_invoke: call.final_invoke,
                    terminated_early: call.terminated_early,
                };
                payload = self.settings.source.windowed(&payload, &window);
            }
            effects.push(Effect::Invoke {
                lane: index,
                batch,
                payload,
                records: piece.entries.len(),
                range: piece.range(),
                previous_invocations: piece.invocations,
                last_arrival_ms: piece.entries.last().map(|e| e.record.arrival_ms),
            });
            self.lanes[index].state = LaneState::Invoking { batch, piece };
            return;
        }
    }

    /// Cuts a windowed piece again if it no longer fits the payload limit with the state it
    /// carries now: the right half of a bisect was sized before the left half returned a
    /// larger state. The records that do not fit follow as a piece of their own, which keeps
    /// the final-invocation flag.
    fn fit_window_state(&mut self, index: usize, piece: &mut Piece) {
        let (Some(call), Some(length)) = (piece.window, self.settings.tumbling_window_ms) else {
            return;
        };
        if piece.entries.len() < 2 {
            return;
        }
        let state_bytes = self.lanes[index]
            .window
            .as_ref()
            .filter(|open| open.index == call.index)
            .map_or(2, |open| open.state.to_string().len());
        let mut bytes = ENVELOPE_BYTES
            + self.settings.source.window_fields_len(
                call.index * length,
                (call.index + 1) * length,
                state_bytes,
            );
        let max = self.settings.max_payload_bytes;
        let fit = piece
            .entries
            .iter()
            .take_while(|entry| {
                bytes += entry.size;
                bytes <= max
            })
            .count()
            .max(1);
        if fit < piece.entries.len() {
            let mut rest = Piece::new(piece.entries.split_off(fit));
            rest.window = Some(call);
            piece.window = Some(WindowCall {
                final_invoke: false,
                ..call
            });
            self.lanes[index].queued.push(rest);
        }
    }

    /// Takes the next batch from a lane's pending records if it is due: full, over the payload
    /// limit, or its batching window has passed.
    fn next_batch_from_pending(&mut self, index: usize, now: Millis) -> Option<Piece> {
        let settings = &self.settings;
        let caught_up_at = self.caught_up_at;
        let lane = &mut self.lanes[index];
        let tumbling = settings.tumbling_window_ms;
        let window_of = |entry: &Entry| tumbling.map(|w| entry.record.arrival_ms / w.max(1));
        // A tumbling window closes with a final invocation once its records are all handled
        // and it is over: later records were polled, or the reader caught up past its end.
        if let (Some(open), Some(length)) = (&lane.window, tumbling) {
            let later_records = lane
                .pending
                .front()
                .is_some_and(|e| window_of(e) > Some(open.index));
            let over = caught_up_at >= (open.index + 1) * length;
            if later_records || (lane.pending.is_empty() && over) {
                return Some(Piece::final_for(open.index, false));
            }
        }
        let first_window = window_of(lane.pending.front()?);
        let mut count = 0;
        let mut bytes = ENVELOPE_BYTES;
        if let (Some(window), Some(length)) = (first_window, tumbling) {
            // The payload limit counts what a windowed event adds, the state it carries above all.
            let state_bytes = lane
                .window
                .as_ref()
                .filter(|open| open.index == window)
                .map_or(2, |open| open.state.to_string().len());
            bytes += settings.source.window_fields_len(
                window * length,
                (window + 1) * length,
                state_bytes,
            );
        }
        for entry in &lane.pending {
            if count == settings.batch_size
                || (count > 0 && bytes + entry.size > settings.max_payload_bytes)
                || window_of(entry) != first_window
            {
                break;
            }
            bytes += entry.size;
            count += 1;
        }
        let full = count == settings.batch_size || count < lane.pending.len();
        let window_passed = now >= lane.window_start + settings.batching_window_ms;
        if !full && !window_passed {
            return None;
        }
        let mut piece = Piece::new(lane.pending.drain(..count).collect());
        if let (Some(index), Some(length)) = (first_window, tumbling) {
            let rest_of_window = lane
                .pending
                .front()
                .is_some_and(|e| window_of(e) == Some(index));
            let final_invoke = !rest_of_window && caught_up_at >= (index + 1) * length;
            if lane.window.as_ref().is_none_or(|w| w.index != index) {
                lane.window = Some(OpenWindow {
                    index,
                    state: serde_json::json!({}),
                });
            }
            piece.window = Some(WindowCall {
                index,
                final_invoke,
                terminated_early: false,
            });
        }
        Some(piece)
    }
}
