//! `riffle local --watch`: rebuilds a function when its sources change and swaps the new binary
//! in without stopping its mappings; applies template edits that can change while running.
//!
//! Watched: each cargo-built function's package and the path packages it depends on (see
//! [`sources`]), the workspace's `Cargo.toml` and `Cargo.lock`, and the template. A burst of
//! saves is coalesced ([`DEBOUNCE`] of quiet) into one round: the template first (see
//! [`template`]), then one build per changed function, one at a time.
//!
//! Invariants: one build runs at a time, and a change during a build starts one more round
//! after it (the change waits in the channel); a failed build shows cargo's diagnostics and
//! leaves the old binary serving; a successful one goes through
//! `LocalFunction::replace_binary`, so no invocation is lost or repeated: those in flight finish
//! on the old binary and the mapping's checkpoints and queue positions are untouched.

mod sources;
mod template;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use notify::{RecursiveMode, Watcher as _};
use riffle_template::{Application, Function, MappingConfig};
use tokio::sync::mpsc;

use super::run::Running;
use super::status::Status;
use super::{TemplateArgs, build};

/// Quiet time after a change before a round starts: an editor's save is several events.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// What the watch needs from `riffle local`.
pub(crate) struct Setup {
    pub(crate) template: TemplateArgs,
    /// The endpoint the template's names and URLs resolve against.
    pub(crate) endpoint: String,
    pub(crate) profile: String,
    /// The application as it started.
    pub(crate) app: Application,
    pub(crate) running: Arc<Running>,
    pub(crate) status: Status,
}

/// The running watch.
pub(crate) struct Watch {
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Stops watching and cancels a build under way (cargo is killed).
    pub(crate) fn stop(self) {
        self.task.abort();
    }
}

/// A watched function.
struct Watched {
    function: Function,
    binary: String,
    sources: sources::Sources,
}

/// Starts watching; returns once every source is watched (a save after `ready` is seen).
pub(crate) async fn start(setup: Setup) -> anyhow::Result<Watch> {
    let template_dir = super::template_dir(&setup.template.template);
    let template_path = std::fs::canonicalize(&setup.template.template)
        .with_context(|| format!("reading {}", setup.template.template.display()))?;
    let mut functions = Vec::new();
    for function in setup.app.functions.iter().filter(|f| f.build.is_some()) {
        let binary = build::binary_name(function)?;
        let sources = sources::sources(&template_dir.join(&function.code_uri), &binary)
            .await
            .with_context(|| format!("function {}: finding its sources", function.logical_id))?;
        functions.push(Watched {
            function: function.clone(),
            binary,
            sources,
        });
    }
    let (changes, changed) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            for path in event.paths {
                let _ = changes.send(path);
            }
        }
    })
    .context("starting the file watcher")?;
    let mut watching = BTreeSet::new();
    if let Some(dir) = template_path.parent() {
        watch(
            &mut watcher,
            &mut watching,
            dir,
            RecursiveMode::NonRecursive,
        )?;
    }
    for function in &functions {
        watch_sources(&mut watcher, &mut watching, &function.sources)?;
    }
    let round = Round {
        template_dir,
        template_path,
        current: setup.app.clone(),
        setup,
        functions,
        watcher,
        watching,
    };
    Ok(Watch {
        task: tokio::spawn(round.run(changed)),
    })
}

/// Watches `dir` unless it is already.
fn watch(
    watcher: &mut notify::RecommendedWatcher,
    watching: &mut BTreeSet<(PathBuf, bool)>,
    dir: &Path,
    mode: RecursiveMode,
) -> anyhow::Result<()> {
    if watching.insert((dir.to_path_buf(), mode == RecursiveMode::Recursive)) {
        watcher
            .watch(dir, mode)
            .with_context(|| format!("watching {}", dir.display()))?;
    }
    Ok(())
}

/// Watches a function's package directories (each one's own files, and recursively each of its
/// subdirectories but `target` and hidden ones, whose changes never count) and the workspace's
/// directory (for its `Cargo.toml` and `Cargo.lock`).
fn watch_sources(
    watcher: &mut notify::RecommendedWatcher,
    watching: &mut BTreeSet<(PathBuf, bool)>,
    sources: &sources::Sources,
) -> anyhow::Result<()> {
    for dir in &sources.packages {
        watch(watcher, watching, dir, RecursiveMode::NonRecursive)?;
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && name != "target"
                && !name.starts_with('.')
            {
                watch(watcher, watching, &entry.path(), RecursiveMode::Recursive)?;
            }
        }
    }
    for file in &sources.workspace_files {
        if let Some(dir) = file.parent() {
            watch(watcher, watching, dir, RecursiveMode::NonRecursive)?;
        }
    }
    Ok(())
}

/// The watch's state between rounds.
struct Round {
    setup: Setup,
    template_dir: PathBuf,
    template_path: PathBuf,
    /// The application as it runs now: the start's, with the changes applied since.
    current: Application,
    functions: Vec<Watched>,
    watcher: notify::RecommendedWatcher,
    watching: BTreeSet<(PathBuf, bool)>,
}

impl Round {
    async fn run(mut self, mut changed: mpsc::UnboundedReceiver<PathBuf>) {
        while let Some(first) = changed.recv().await {
            let mut paths = BTreeSet::from([first]);
            // Coalesce the burst; changes during the round below wait for the next one.
            while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, changed.recv()).await {
                paths.insert(path);
            }
            if paths.contains(&self.template_path) {
                self.reload_template().await;
            }
            for n in 0..self.functions.len() {
                if paths.iter().any(|p| self.functions[n].sources.contains(p)) {
                    self.rebuild(n).await;
                }
            }
        }
    }

    async fn reload_template(&mut self) {
        let template = match super::read_template(&self.setup.template, &self.setup.endpoint) {
            Ok(template) => template,
            Err(error) => {
                self.setup.status.template_invalid(&format!("{error:#}"));
                return;
            }
        };
        let new = template.application;
        let plan = template::plan(&self.current, &new);
        let (applied, failed) = template::apply(&plan, &self.setup.running).await;
        let changed: Vec<(&String, &MappingConfig)> = new
            .mappings
            .iter()
            .filter(|m| {
                plan.kinesis.iter().any(|(id, ..)| *id == m.logical_id)
                    || plan.sqs_enabled.iter().any(|(id, _)| *id == m.logical_id)
            })
            .map(|m| (&m.logical_id, &m.config))
            .collect();
        for mapping in &mut self.current.mappings {
            if let Some((_, config)) = changed.iter().find(|(id, _)| **id == mapping.logical_id) {
                mapping.config = (*config).clone();
            }
        }
        self.setup
            .status
            .template_reloaded(&applied, &plan.needs_restart, &failed);
    }

    async fn rebuild(&mut self, n: usize) {
        let started = Instant::now();
        let watched = &self.functions[n];
        let id = watched.function.logical_id.clone();
        let built =
            build::rebuild(&watched.function, &self.template_dir, &self.setup.profile).await;
        let binary = match built {
            Ok(Ok(binary)) => binary,
            Ok(Err(output)) => return self.setup.status.function_build_failed(&id, &output),
            Err(error) => {
                return self
                    .setup
                    .status
                    .function_build_failed(&id, &format!("{error:#}"));
            }
        };
        let Some(function) = self.setup.running.functions.get(&id) else {
            return;
        };
        function.replace_binary(&binary);
        self.setup.status.function_reloaded(&id, started.elapsed());
        // A new path dependency is watched from now on.
        let dir = self.template_dir.join(&watched.function.code_uri);
        if let Ok(sources) = sources::sources(&dir, &watched.binary).await {
            if let Err(error) = watch_sources(&mut self.watcher, &mut self.watching, &sources) {
                eprintln!("riffle: {error:#}");
            }
            self.functions[n].sources = sources;
        }
    }
}
