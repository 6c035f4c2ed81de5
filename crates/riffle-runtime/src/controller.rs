//! The lifecycle of a mapping as AWS reports it: `Creating`, `Enabling`, `Enabled`,
//! `Disabling`, `Disabled`, `Updating`, `Deleting`, for both kinds: [`MappingController`] runs
//! anything [`Controlled`] (the Kinesis [`KinesisMapping`] here, the SQS [`crate::SqsMapping`] in
//! `controller/sqs.rs`).
//!
//! Invariant: a disabled mapping polls nothing and keeps its checkpoints (a queue mapping
//! hands back what it held), so enabling it again resumes where it stopped; an update stops the
//! shard tasks, swaps the configuration and starts them again from their checkpoints.

mod sqs;

use std::future::Future;
use std::sync::Arc;

use riffle_core::kinesis::config::KinesisMappingConfig;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::checkpoint::CheckpointStore;
use crate::invoke::Invoker;
use crate::kinesis::mapping::{FailureDestination, KinesisMapping, RuntimeError};
use crate::kinesis::source::StreamSource;

/// `State` of an event source mapping, with AWS's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingState {
    /// Being created.
    Creating,
    /// Starting to poll.
    Enabling,
    /// Polling.
    Enabled,
    /// Stopping.
    Disabling,
    /// Not polling; checkpoints kept.
    Disabled,
    /// Applying a configuration change.
    Updating,
    /// Being deleted.
    Deleting,
}

impl MappingState {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "Creating",
            Self::Enabling => "Enabling",
            Self::Enabled => "Enabled",
            Self::Disabling => "Disabling",
            Self::Disabled => "Disabled",
            Self::Updating => "Updating",
            Self::Deleting => "Deleting",
        }
    }
}

/// What a [`MappingController`] runs: a mapping that polls until told to stop.
pub trait Controlled: Send + Sync + 'static {
    /// What a run can end with.
    type Error: Send + 'static;
    /// Polls until `stop` turns true, then finishes what it started.
    fn run(
        &self,
        stop: watch::Receiver<bool>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Records `Enabled` in the mapping's own configuration, if it keeps one.
    fn set_enabled(&self, enabled: bool);
}

type Running<E> = (watch::Sender<bool>, JoinHandle<Result<(), E>>);

/// Starts, stops, updates and deletes one mapping.
pub struct MappingController<M: Controlled> {
    mapping: Arc<M>,
    state: watch::Sender<MappingState>,
    running: Mutex<Option<Running<M::Error>>>,
}

impl<M: Controlled> MappingController<M> {
    /// Creates the controller of `mapping`; it starts polling if `enabled`.
    pub async fn new(mapping: M, enabled: bool) -> Self {
        let controller = Self {
            mapping: Arc::new(mapping),
            state: watch::Sender::new(MappingState::Creating),
            running: Mutex::new(None),
        };
        if enabled {
            controller.start().await;
        } else {
            controller.state.send_replace(MappingState::Disabled);
        }
        controller
    }

    /// The mapping (journal, metrics, configuration).
    pub fn mapping(&self) -> &M {
        &self.mapping
    }

    /// The current state.
    pub fn state(&self) -> MappingState {
        *self.state.borrow()
    }

    /// Follows state changes.
    pub fn subscribe(&self) -> watch::Receiver<MappingState> {
        self.state.subscribe()
    }

    async fn start(&self) {
        let mut running = self.running.lock().await;
        if running.is_none() {
            self.state.send_replace(MappingState::Enabling);
            let (stop, stopped) = watch::channel(false);
            let mapping = Arc::clone(&self.mapping);
            let task = tokio::spawn(async move { mapping.run(stopped).await });
            *running = Some((stop, task));
        }
        self.state.send_replace(MappingState::Enabled);
    }

    async fn stop(&self) -> Result<(), M::Error> {
        let Some((stop, task)) = self.running.lock().await.take() else {
            return Ok(());
        };
        let _ = stop.send(true);
        task.await.unwrap_or(Ok(()))
    }

    /// Enables or disables polling (UpdateEventSourceMapping `Enabled`).
    pub async fn set_enabled(&self, enabled: bool) -> Result<(), M::Error> {
        self.mapping.set_enabled(enabled);
        if enabled {
            self.start().await;
            Ok(())
        } else {
            self.state.send_replace(MappingState::Disabling);
            let result = self.stop().await;
            self.state.send_replace(MappingState::Disabled);
            result
        }
    }

    /// Stops the mapping for good.
    pub async fn delete(self) -> Result<(), M::Error> {
        self.state.send_replace(MappingState::Deleting);
        self.stop().await
    }
}

impl<S, I, D, C> Controlled for KinesisMapping<S, I, D, C>
where
    S: StreamSource,
    I: Invoker,
    D: FailureDestination,
    C: CheckpointStore,
{
    type Error = RuntimeError;

    fn run(
        &self,
        stop: watch::Receiver<bool>,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send {
        KinesisMapping::run(self, stop)
    }

    fn set_enabled(&self, enabled: bool) {
        let mut config = self.config();
        config.enabled = enabled;
        self.set_config(config);
    }
}

impl<S, I, D, C> MappingController<KinesisMapping<S, I, D, C>>
where
    S: StreamSource,
    I: Invoker,
    D: FailureDestination,
    C: CheckpointStore,
{
    /// Creates the controller of a Kinesis mapping; it starts polling if its configuration is
    /// enabled.
    pub async fn create(mapping: KinesisMapping<S, I, D, C>) -> Self {
        let enabled = mapping.config().enabled;
        Self::new(mapping, enabled).await
    }

    /// Applies a new configuration: stops the shard tasks, swaps it in, and starts them again
    /// from their checkpoints if the mapping is enabled.
    pub async fn update(&self, config: KinesisMappingConfig) -> Result<(), RuntimeError> {
        self.state.send_replace(MappingState::Updating);
        let result = self.stop().await;
        let enabled = config.enabled;
        self.mapping.set_config(config);
        if enabled {
            self.start().await;
        } else {
            self.state.send_replace(MappingState::Disabled);
        }
        result
    }
}
