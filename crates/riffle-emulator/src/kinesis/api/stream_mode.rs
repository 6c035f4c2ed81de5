//! UpdateStreamMode: switches a stream between PROVISIONED and ON_DEMAND (the store keeps
//! AWS's limits; this validates and answers).
//!
//! Invariant: `StreamARN` and `StreamModeDetails.StreamMode` are validated with AWS's
//! constraints, all violations at once, before the store is looked at.

use serde::Deserialize;

use super::request::StreamIdent;
use super::{Kinesis, Reply};
use crate::error::{ApiResult, Violations};
use crate::kinesis::store::{Mutation, StreamMode};

impl Kinesis {
    pub(super) fn update_stream_mode(&self, input: UpdateStreamModeInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let ident = StreamIdent {
            name: None,
            arn: input.stream_arn,
        };
        if ident.arn.is_none() {
            v.missing("streamARN");
        }
        let name = self.stream_name(&self.lock(), &ident, &mut v);
        let mode = match &input.stream_mode_details {
            Some(StreamModeDetails {
                stream_mode: Some(mode),
            }) => {
                v.one_of(
                    "streamModeDetails.streamMode",
                    mode,
                    &["PROVISIONED", "ON_DEMAND"],
                );
                Some(mode.as_str())
            }
            Some(_) => {
                v.missing("streamModeDetails.streamMode");
                None
            }
            None => {
                v.missing("streamModeDetails");
                None
            }
        };
        if let Some(mibps) = input.warm_throughput_mi_bps {
            v.range("warmThroughputMiBps", mibps, 0, i64::from(i32::MAX));
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let mode = match mode {
            Some("ON_DEMAND") => StreamMode::OnDemand,
            _ => StreamMode::Provisioned,
        };
        self.commit_reply(Mutation::StreamMode { stream: name, mode })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamModeDetails {
    stream_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateStreamModeInput {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    stream_mode_details: Option<StreamModeDetails>,
    #[serde(rename = "WarmThroughputMiBps")]
    warm_throughput_mi_bps: Option<i64>,
}
