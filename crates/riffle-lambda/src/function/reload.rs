//! Replacing a function's code while it serves (`riffle local --watch`): a new generation of
//! environments.
//!
//! Invariant: once [`LocalFunction::replace_binary`] returns, every invocation that has not yet
//! taken an environment starts on the new binary; invocations already running finish on the
//! old one, whose environment is then stopped instead of reused (see `Shared::release`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Environment, LocalFunction, lock};

impl LocalFunction {
    /// The binary new environments start from.
    pub fn binary(&self) -> PathBuf {
        lock(&self.shared.pool).binary.clone()
    }

    /// Starts the function's next environments from `binary` (made absolute, as at start) and
    /// stops its idle ones; busy environments finish their invocation and are then stopped.
    /// The same path may be given again after it was rebuilt in place.
    pub fn replace_binary(&self, binary: impl AsRef<Path>) {
        let binary = std::fs::canonicalize(binary.as_ref())
            .unwrap_or_else(|_| binary.as_ref().to_path_buf());
        let idle: Vec<Arc<Environment>> = {
            let mut pool = lock(&self.shared.pool);
            pool.binary = binary;
            pool.generation += 1;
            let idle: Vec<_> = std::mem::take(&mut pool.idle)
                .iter()
                .filter_map(|id| pool.environments.remove(id))
                .collect();
            lock(&self.shared.stats).environments = pool.environments.len();
            idle
        };
        for environment in idle {
            environment.kill();
        }
    }
}
