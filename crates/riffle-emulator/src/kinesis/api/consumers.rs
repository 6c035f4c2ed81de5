//! Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers and DeregisterStreamConsumer, and the consumer ARN
//! (`arn:aws:kinesis:{region}:{account}:stream/{stream}/consumer/{name}:{creation seconds}`).
//!
//! Invariants: every member is validated before the store is looked at (by the model-driven
//! checker, all violations at once; here only what it cannot see: ARNs it cannot take apart,
//! members that must agree); a consumer ARN of another region or account, or whose creation second is
//! not the registered consumer's, names a consumer this endpoint does not hold.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::request::{StreamIdent, seconds, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, Violations};
use crate::kinesis::store::{
    Consumer, ConsumerMutation, KinesisStore, Mutation, Stream, consumer_not_found, not_found,
};

/// A consumer ARN taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsumerArn {
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) stream: String,
    pub(crate) name: String,
    pub(crate) created_secs: u64,
}

impl ConsumerArn {
    /// Parses `arn:aws…:kinesis:{region}:{account}:stream/{stream}/consumer/{name}:{secs}`.
    pub(crate) fn parse(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (literal, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
        let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        let resource = resource.strip_prefix("stream/")?;
        let (stream, rest) = resource.split_once("/consumer/")?;
        let (name, secs) = rest.rsplit_once(':')?;
        let named = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        };
        let valid = literal == "arn"
            && partition.starts_with("aws")
            && service == "kinesis"
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && named(stream)
            && named(name)
            && !secs.is_empty()
            && secs.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Self {
            region: region.to_owned(),
            account: account.to_owned(),
            stream: stream.to_owned(),
            name: name.to_owned(),
            created_secs: secs.parse().unwrap_or(u64::MAX),
        })
    }
}

/// The ARN of `consumer` of `stream_arn`.
pub(crate) fn consumer_arn(stream_arn: &str, consumer: &Consumer) -> String {
    format!(
        "{stream_arn}/consumer/{}:{}",
        consumer.name,
        consumer.created_secs()
    )
}

const CONSUMER_ARN_PATTERN: &str = "satisfy regular expression pattern: \
     ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";

/// Takes apart a `ConsumerARN` the model-driven checker has validated (length and AWS's
/// pattern); one that matches the pattern but cannot be taken apart (such as one with extra `:`
/// parts) is reported as not matching it, as before the checker existed.
pub(crate) fn check_consumer_arn(v: &mut Violations, arn: &str) -> Option<ConsumerArn> {
    let parsed = ConsumerArn::parse(arn);
    if parsed.is_none() {
        v.failed("consumerARN", arn, CONSUMER_ARN_PATTERN);
    }
    parsed
}

/// Which consumer a Describe/Deregister request names, once validated.
enum Target {
    /// By ARN (the stream and the creation second come from it).
    Arn(ConsumerArn),
    /// By stream (resolved name, or the not-found marker) and consumer name.
    Named(Option<String>, String),
}

impl Kinesis {
    pub(super) fn register_stream_consumer(&self, input: RegisterInput) -> ApiResult<Reply> {
        let mut store = self.lock();
        // `StreamARN` and `ConsumerName` are required, and every member's constraints checked,
        // by the model-driven checker.
        let stream = self.named_stream(&store, &input.ident())?;
        let consumer = input.consumer_name.unwrap_or_default();
        let now = self.clock.now_millis();
        let mutation = Mutation::Consumer(ConsumerMutation::Register {
            stream: stream.clone(),
            name: consumer.clone(),
            tags: input.tags.unwrap_or_default(),
        });
        let (_, durable_at) = self.commit(&mut store, now, mutation)?;
        let arn = store.stream_arn(&stream);
        let stream = store.stream(&stream, now)?;
        let consumer = stream
            .consumers
            .get(&consumer, now)
            .ok_or_else(|| ApiError::internal("a registered consumer is missing"))?;
        Ok(Reply {
            body: to_body(&json!({ "Consumer": consumer_json(&arn, consumer, now) })),
            durable_at,
        })
    }

    pub(super) fn describe_stream_consumer(&self, input: ConsumerIdent) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let target = self.target(&store, &input)?;
        let (stream_arn, _, consumer) = self.find(&mut store, target, now)?;
        let mut description = consumer_json(&stream_arn, &consumer, now);
        description["StreamARN"] = json!(stream_arn);
        Ok(Reply::now(to_body(
            &json!({ "ConsumerDescription": description }),
        )))
    }

    pub(super) fn deregister_stream_consumer(&self, input: ConsumerIdent) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let target = self.target(&store, &input)?;
        let (_, stream, consumer) = self.find(&mut store, target, now)?;
        let mutation = Mutation::Consumer(ConsumerMutation::Deregister {
            stream,
            name: consumer.name,
        });
        let (_, durable_at) = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: Vec::new(),
            durable_at,
        })
    }

    pub(super) fn list_stream_consumers(&self, input: ListInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let ident = StreamIdent {
            name: None,
            arn: input.stream_arn.clone(),
        };
        // `StreamARN` is required, `MaxResults` and `NextToken` bounded, by the model-driven
        // checker.
        let name = self.named_stream(&store, &ident)?;
        let after = match &input.next_token {
            Some(token) => {
                let (resume, _) = self.open_token(token, "ListStreamConsumers", now)?;
                match resume.split_once('/') {
                    Some((stream, consumer)) if stream == name => Some(consumer.to_owned()),
                    _ => {
                        return Err(ApiError::invalid_argument(format!(
                            "Invalid NextToken: {token}"
                        )));
                    }
                }
            }
            None => None,
        };
        let arn = store.stream_arn(&name);
        let account = store.settings.account_id.clone();
        let stream = store.stream(&name, now)?;
        if let Some(created) = input.stream_creation_timestamp
            && (created * 1000.0) as Millis / 1000 != stream.created_ms / 1000
        {
            return Err(not_found(&name, &account));
        }
        let limit = input.max_results.unwrap_or(100) as usize;
        let consumers: Vec<&Consumer> = stream
            .consumers
            .iter(now)
            .filter(|c| after.as_ref().is_none_or(|a| c.name > *a))
            .collect();
        let has_more = consumers.len() > limit;
        let page: Vec<&Consumer> = consumers.into_iter().take(limit).collect();
        let mut out = json!({
            "Consumers": page.iter().map(|c| consumer_json(&arn, c, now)).collect::<Vec<_>>(),
        });
        if let Some(last) = page.last().filter(|_| has_more) {
            let resume = format!("{name}/{}", last.name);
            out["NextToken"] = json!(self.seal_token(&resume, "ListStreamConsumers", now));
        }
        Ok(Reply::now(to_body(&out)))
    }

    /// DeleteStream of validated stream `name`: refused while it has registered consumers,
    /// unless `enforce` (`EnforceConsumerDeletion`), which deletes them with it.
    pub(super) fn delete_stream_and_consumers(
        &self,
        name: String,
        enforce: bool,
    ) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let (stream, account) = store.stream_and_account(&name, now)?;
        let consumers = stream.consumers.count(now);
        if consumers > 0 && !enforce {
            return Err(ApiError::in_use(format!(
                "Stream {name} under account {account} has {consumers} registered consumer(s). \
                 Deregister them first, or set EnforceConsumerDeletion to delete them with it."
            )));
        }
        let (_, durable_at) = self.commit(&mut store, now, Mutation::DeleteStream { name })?;
        Ok(Reply {
            body: Vec::new(),
            durable_at,
        })
    }

    /// Validates a Describe/Deregister request: a consumer ARN, or a stream ARN and a name.
    fn target(&self, store: &KinesisStore, input: &ConsumerIdent) -> ApiResult<Target> {
        let mut v = Violations::default();
        let parsed = input
            .consumer_arn
            .as_deref()
            .and_then(|arn| check_consumer_arn(&mut v, arn));
        let stream = input.stream_arn.as_ref().and_then(|_| {
            let ident = StreamIdent {
                name: None,
                arn: input.stream_arn.clone(),
            };
            self.stream_name(store, &ident, &mut v)
        });
        v.finish()?;
        if let Some(arn) = parsed {
            let conflicts = input.consumer_name.as_ref().is_some_and(|n| *n != arn.name)
                || stream.as_ref().is_some_and(|s| *s != arn.stream);
            if conflicts {
                return Err(ApiError::invalid_argument(
                    "ConsumerARN conflicts with the StreamARN or ConsumerName given with it.",
                ));
            }
            return Ok(Target::Arn(arn));
        }
        match (input.stream_arn.is_some(), &input.consumer_name) {
            (true, Some(name)) => Ok(Target::Named(stream, name.clone())),
            _ => Err(ApiError::invalid_argument(
                "Either ConsumerARN or both ConsumerName and StreamARN must be given.",
            )),
        }
    }

    /// The stream ARN, stream name and consumer a validated target names at `now`.
    fn find(
        &self,
        store: &mut KinesisStore,
        target: Target,
        now: Millis,
    ) -> ApiResult<(String, String, Consumer)> {
        let (stream, name, created_secs) = match target {
            Target::Arn(arn) => {
                let account = store.settings.account_id.clone();
                if arn.region != store.settings.region || arn.account != account {
                    return Err(consumer_not_found(&arn.name, &arn.stream, &arn.account));
                }
                (arn.stream, arn.name, Some(arn.created_secs))
            }
            Target::Named(stream, name) => (self.require_stream(stream)?, name, None),
        };
        let stream_arn = store.stream_arn(&stream);
        let (stream, account) = store.stream_and_account(&stream, now)?;
        let stream: &Stream = stream;
        let consumer = stream
            .consumers
            .get(&name, now)
            .filter(|c| created_secs.is_none_or(|s| s == c.created_secs()))
            .ok_or_else(|| consumer_not_found(&name, &stream.name, account))?;
        Ok((stream_arn, stream.name.clone(), consumer.clone()))
    }
}

fn consumer_json(stream_arn: &str, consumer: &Consumer, now: Millis) -> Value {
    json!({
        "ConsumerName": consumer.name,
        "ConsumerARN": consumer_arn(stream_arn, consumer),
        "ConsumerStatus": consumer.status(now).as_str(),
        "ConsumerCreationTimestamp": seconds(consumer.created_ms),
    })
}

/// DeleteStream's input: the stream, and whether its consumers go with it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteStreamInput {
    #[serde(flatten)]
    pub(super) ident: StreamIdent,
    pub(super) enforce_consumer_deletion: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RegisterInput {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    consumer_name: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "StreamId")]
    _stream_id: Option<String>,
}

impl RegisterInput {
    fn ident(&self) -> StreamIdent {
        StreamIdent {
            name: None,
            arn: self.stream_arn.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConsumerIdent {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    consumer_name: Option<String>,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
    #[serde(rename = "StreamId")]
    _stream_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListInput {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    stream_creation_timestamp: Option<f64>,
    #[serde(rename = "StreamId")]
    _stream_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_arn_parses_into_its_parts() {
        let arn = ConsumerArn::parse(
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/lambda:1700000000",
        )
        .unwrap();
        assert_eq!(arn.stream, "orders");
        assert_eq!(arn.name, "lambda");
        assert_eq!(arn.created_secs, 1_700_000_000);
        for bad in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/lambda",
            "arn:aws:kinesis:us-east-1:00000:stream/orders/consumer/lambda:1",
            "arn:aws:sqs:us-east-1:000000000000:stream/orders/consumer/lambda:1",
        ] {
            assert_eq!(ConsumerArn::parse(bad), None, "{bad}");
        }
    }
}
