//! `AWS::Kinesis::StreamConsumer`: an enhanced fan-out consumer, read into the model and
//! checked against Kinesis's rules for RegisterStreamConsumer.
//!
//! Invariant: a consumer in the model names a stream ARN and a valid consumer name; whether
//! that stream is the template's own is the mapping's concern, not the consumer's.

use crate::intrinsics::{Declaration, STREAM_CONSUMER};
use crate::model::StreamConsumer;
use crate::reader::Handling::{self, Read, Silent};
use crate::reader::Reader;
use crate::resources::STREAM_NAME;

const CONSUMER_PROPERTIES: &[(&str, Handling)] = &[
    ("StreamARN", Read),
    ("ConsumerName", Read),
    ("Tags", Silent),
];

impl<'t> Reader<'t> {
    pub(crate) fn read_consumer(
        &mut self,
        declaration: &Declaration<'t>,
        name: String,
        arn: String,
        stream_arn: String,
    ) {
        let (properties, scope) =
            self.resource_properties(declaration, CONSUMER_PROPERTIES, STREAM_CONSUMER);
        let has_stream = self.required(properties, "StreamARN", declaration.at, &scope);
        let has_name = self.required(properties, "ConsumerName", declaration.at, &scope);
        if has_stream
            && !stream_arn.is_empty()
            && (!crate::resources::is_arn_of(&stream_arn, "kinesis")
                || !stream_arn.split(':').nth(5).is_some_and(|r| {
                    r.strip_prefix("stream/")
                        .is_some_and(|n| STREAM_NAME.allows(n))
                }))
        {
            self.invalid_value(
                properties,
                "StreamARN",
                &stream_arn,
                "must be a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): use \
                 !GetAtt Stream.Arn",
                &scope,
            );
        }
        if has_name && let Some(refusal) = STREAM_NAME.refusal(&name) {
            self.invalid_value(properties, "ConsumerName", &name, &refusal, &scope);
        }
        let location = self.resolver.sink.location(declaration.at);
        self.application.consumers.push(StreamConsumer {
            logical_id: declaration.logical_id.to_owned(),
            name,
            arn,
            stream_arn,
            location,
        });
    }
}
