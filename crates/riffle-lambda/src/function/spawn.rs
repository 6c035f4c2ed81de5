//! Starting an execution environment: the variables Lambda gives it, and its process (its own
//! process group, its pipes read into the function's log, its exit watched).
//!
//! Invariant: a function's own variables override the defaults except the ones Lambda reserves.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot, watch};

use super::{Environment, Shared, epoch_ms, lock};
use crate::logs::{LogLine, LogSource};

impl Shared {
    fn environment_variables(&self, id: u64, binary: &Path) -> Vec<(String, String)> {
        let config = &self.config;
        let address = lock(&self.runtime_api).expect("the Runtime API is bound before invokes");
        let task_root = binary
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let now = epoch_ms();
        // `2026-11-25T…` → `2026/11/25`, as Lambda names log streams.
        let day = riffle_core::time::iso8601_seconds(now)[..10].replace('-', "/");
        let mut variables = vec![
            (
                "AWS_LAMBDA_RUNTIME_API".to_owned(),
                format!("http://{address}/env/{id}"),
            ),
            ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), config.name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
                config.memory_mb.to_string(),
            ),
            (
                "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
                "$LATEST".to_owned(),
            ),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
                format!("/aws/lambda/{}", config.name),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME".to_owned(),
                format!("{day}/[$LATEST]{:016x}{id:016x}", now / 1000),
            ),
            (
                "AWS_LAMBDA_INITIALIZATION_TYPE".to_owned(),
                "on-demand".to_owned(),
            ),
            ("AWS_REGION".to_owned(), config.region.clone()),
            ("AWS_DEFAULT_REGION".to_owned(), config.region.clone()),
            (
                "AWS_EXECUTION_ENV".to_owned(),
                "AWS_Lambda_provided.al2023".to_owned(),
            ),
            ("AWS_ACCESS_KEY_ID".to_owned(), "riffle-local".to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                "riffle-local".to_owned(),
            ),
            ("AWS_SESSION_TOKEN".to_owned(), "riffle-local".to_owned()),
            ("_HANDLER".to_owned(), config.handler.clone()),
            ("LAMBDA_TASK_ROOT".to_owned(), task_root.clone()),
            ("LAMBDA_RUNTIME_DIR".to_owned(), task_root),
            ("TZ".to_owned(), ":UTC".to_owned()),
        ];
        if let Some(endpoint) = &config.endpoint_url {
            variables.push(("AWS_ENDPOINT_URL".to_owned(), endpoint.clone()));
        }
        if let Ok(path) = std::env::var("PATH") {
            variables.push(("PATH".to_owned(), path));
        }
        // The function's own variables come last and win, except over the reserved ones Lambda
        // does not let a function set.
        for (key, value) in &config.environment {
            if !crate::RESERVED_VARIABLES.contains(&key.as_str()) {
                variables.retain(|(k, _)| k != key);
                variables.push((key.clone(), value.clone()));
            }
        }
        variables
    }

    /// Starts environment `id` from `binary`, of `generation`.
    pub(super) fn spawn(
        self: &Arc<Self>,
        id: u64,
        binary: &Path,
        generation: u64,
    ) -> std::io::Result<Arc<Environment>> {
        let mut command = tokio::process::Command::new(binary);
        command
            .env_clear()
            .envs(self.environment_variables(id, binary))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // A process group of its own: Ctrl-C in the terminal signals `riffle local`'s group, and
        // the environment must outlive that signal to finish its invocation while the mapping
        // drains; riffle stops it itself afterwards.
        #[cfg(unix)]
        command.process_group(0);
        if let Some(root) = binary.parent().filter(|p| !p.as_os_str().is_empty()) {
            command.current_dir(root);
        }
        let mut child = command.spawn()?;
        let (inbox, outbox) = mpsc::channel(1);
        let (exit_tx, exited) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel();
        let environment = Arc::new(Environment {
            id,
            generation,
            inbox,
            outbox: tokio::sync::Mutex::new(outbox),
            current: Arc::default(),
            exited,
            kill: Mutex::new(Some(kill_tx)),
            init_error: Mutex::default(),
            ready: AtomicBool::new(false),
            started: Instant::now(),
            init_duration: Mutex::default(),
            catch_up: Mutex::default(),
        });
        let readers = [
            child.stdout.take().map(|s| {
                (
                    Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
                    LogSource::Stdout,
                )
            }),
            child.stderr.take().map(|s| {
                (
                    Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
                    LogSource::Stderr,
                )
            }),
        ];
        let mut pipes = Vec::new();
        for (stream, source) in readers.into_iter().flatten() {
            let (shared, current) = (Arc::clone(self), Arc::clone(&environment.current));
            let (catch_up, mut asked) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
            lock(&environment.catch_up).push(catch_up);
            pipes.push(tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                loop {
                    // Lines first: an ack means the pipe had nothing ready to read.
                    let line = tokio::select! {
                        biased;
                        line = lines.next_line() => line,
                        Some(ack) = asked.recv() => {
                            let _ = ack.send(());
                            continue;
                        }
                    };
                    let Ok(Some(line)) = line else { break };
                    let request_id = lock(&current).clone();
                    shared.logs.push(LogLine {
                        at: epoch_ms(),
                        function: shared.config.name.clone(),
                        environment: id,
                        request_id,
                        source,
                        line,
                    });
                }
            }));
        }
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_rx => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            // Let the last lines reach the log before the exit is reported.
            for pipe in pipes {
                let _ = pipe.await;
            }
            let description = match status {
                Ok(status) => status.to_string(),
                Err(error) => error.to_string(),
            };
            shared.platform_log(id, None, format!("environment {id} ended: {description}"));
            let _ = exit_tx.send(Some(description));
        });
        Ok(environment)
    }
}
