//! What every source boundary shares: how a call to the source failed.

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The stream or shard does not exist (any more).
    #[error("not found: {0}")]
    NotFound(String),
    /// Read throughput exceeded; try again later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// Anything else (network, service).
    #[error("{0}")]
    Other(String),
}
