//! The lifecycle of a mapping as AWS reports it: `Creating`, `Enabling`, `Enabled`,
//! `Disabling`, `Disabled`, `Updating`, `Deleting`.
//!
//! Invariant: a disabled mapping polls nothing and keeps its checkpoints, so enabling it again
//! resumes where it stopped; an update stops the shard tasks, swaps the configuration and starts
//! them again from their checkpoints.

use std::convert::Infallible;
use std::sync::Arc;

use riffle_core::invocation::Outcome;
use riffle_core::kinesis::config::KinesisMappingConfig;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use tower::Service;

use crate::checkpoint::CheckpointStore;
use crate::invoke::InvokeRequest;
use crate::mapping::{FailureDestination, Mapping, RuntimeError};
use crate::source::StreamSource;

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

type Running = (watch::Sender<bool>, JoinHandle<Result<(), RuntimeError>>);

/// Starts, stops, updates and deletes one mapping.
pub struct MappingController<S, I, D, C> {
    mapping: Arc<Mapping<S, I, D, C>>,
    state: watch::Sender<MappingState>,
    running: Mutex<Option<Running>>,
}

impl<S, I, D, C> MappingController<S, I, D, C>
where
    S: StreamSource,
    I: Service<InvokeRequest, Response = Outcome, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    I::Future: Send + 'static,
    D: FailureDestination,
    C: CheckpointStore,
{
    /// Creates the mapping; it starts polling if its configuration is enabled.
    pub async fn create(mapping: Mapping<S, I, D, C>) -> Self {
        let enabled = mapping.config().enabled;
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
    pub fn mapping(&self) -> &Mapping<S, I, D, C> {
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

    async fn stop(&self) -> Result<(), RuntimeError> {
        let Some((stop, task)) = self.running.lock().await.take() else {
            return Ok(());
        };
        let _ = stop.send(true);
        task.await.unwrap_or(Ok(()))
    }

    /// Enables or disables polling (UpdateEventSourceMapping `Enabled`).
    pub async fn set_enabled(&self, enabled: bool) -> Result<(), RuntimeError> {
        let mut config = self.mapping.config();
        config.enabled = enabled;
        self.mapping.set_config(config);
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

    /// Stops the mapping for good.
    pub async fn delete(self) -> Result<(), RuntimeError> {
        self.state.send_replace(MappingState::Deleting);
        self.stop().await
    }
}
