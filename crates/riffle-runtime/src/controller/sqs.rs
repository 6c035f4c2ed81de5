//! An SQS mapping under a [`MappingController`](super::MappingController): its pollers run
//! while it is enabled; disabling it stops them, each finishing its batch and handing back what
//! it held.
//!
//! Invariant: the queue mapping keeps no `Enabled` of its own (its settings come from the
//! template and the queue); the controller's state is the one answer.

use std::convert::Infallible;

use tokio::sync::watch;

use super::Controlled;
use crate::invoke::Invoker;
use crate::sqs::mapping::SqsMapping;
use crate::sqs::source::QueueSource;

impl<Q, I> Controlled for SqsMapping<Q, I>
where
    Q: QueueSource,
    I: Invoker,
{
    type Error = Infallible;

    async fn run(&self, stop: watch::Receiver<bool>) -> Result<(), Infallible> {
        SqsMapping::run(self, stop).await;
        Ok(())
    }

    fn set_enabled(&self, _enabled: bool) {}
}
