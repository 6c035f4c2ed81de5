//! A delivery stream in `riffle local`'s status: one line and one JSON object per stream for
//! reports, and the delivery-stream section of the live table.
//!
//! Invariant: every number shown is read from the delivery's own status (the machine's
//! counters), never counted here.

use serde_json::{Value, json};

use crate::deliveries::DeliveryView;

/// How many recent decisions a JSON report carries.
const RECENT_DECISIONS: usize = 5;

impl DeliveryView {
    fn processor(&self) -> &str {
        self.settings.processor.as_ref().map_or("-", |p| {
            p.lambda_arn.rsplit(':').next().unwrap_or(&p.lambda_arn)
        })
    }

    /// `delivery stream NAME → s3://BUCKET: …` for text reports.
    pub(crate) fn line(&self) -> String {
        let c = &self.status.counters;
        format!(
            "delivery stream {} → s3://{} (transformation {}): {} in, {} transformed, {} dropped, \
             {} failed, {} objects delivered, {} bytes buffered, {} write failures",
            self.name,
            self.settings.destination.bucket,
            self.processor(),
            c.records_in,
            c.transformed,
            c.dropped,
            c.failed,
            c.delivered_objects,
            self.status.buffered_bytes,
            c.write_failures,
        )
    }

    /// The report as JSON (`event: delivery_status`).
    pub(crate) fn json(&self) -> Value {
        let c = &self.status.counters;
        let recent: Vec<Value> = self
            .status
            .decisions
            .iter()
            .rev()
            .take(RECENT_DECISIONS)
            .map(|(at, decision)| json!({ "at_ms": at, "decision": decision }))
            .collect();
        json!({
            "event": "delivery_status",
            "delivery_stream": self.name,
            "bucket": self.settings.destination.bucket,
            "transformation": self.settings.processor.as_ref().map(|p| &p.lambda_arn),
            "records_in": c.records_in,
            "transformed": c.transformed,
            "dropped": c.dropped,
            "failed": c.failed,
            "invocations": c.invocations,
            "invocation_errors": c.invocation_errors,
            "delivered_objects": c.delivered_objects,
            "delivered_bytes": c.delivered_bytes,
            "write_failures": c.write_failures,
            "buffered_bytes": self.status.buffered_bytes,
            "buffer_limit_bytes": self.settings.destination.buffering.size_bytes,
            "invocations_in_flight": self.status.invocations_in_flight,
            "writes_in_flight": self.status.writes_in_flight,
            "acknowledged": self.status.acknowledged,
            "recent_decisions": recent,
        })
    }
}

/// The live table's delivery-stream section (nothing without delivery streams).
pub(crate) fn table(deliveries: &[DeliveryView]) -> Vec<String> {
    if deliveries.is_empty() {
        return Vec::new();
    }
    let mut rows = vec![
        [
            "DELIVERY STREAM",
            "BUCKET",
            "TRANSFORM",
            "IN",
            "TRANSFORMED",
            "DROPPED",
            "FAILED",
            "OBJECTS",
            "BUFFER",
            "WRITE ERRORS",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for view in deliveries {
        let c = &view.status.counters;
        let limit = view.settings.destination.buffering.size_bytes.max(1);
        rows.push(vec![
            view.name.clone(),
            view.settings.destination.bucket.clone(),
            view.processor().to_owned(),
            c.records_in.to_string(),
            c.transformed.to_string(),
            c.dropped.to_string(),
            c.failed.to_string(),
            c.delivered_objects.to_string(),
            format!("{}%", view.status.buffered_bytes * 100 / limit),
            c.write_failures.to_string(),
        ]);
    }
    let mut lines = vec![String::new()];
    lines.extend(super::table::align(&rows, &[3, 4, 5, 6, 7, 8, 9]));
    lines
}
