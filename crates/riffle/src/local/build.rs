//! Building the template's functions: `cargo build --profile P` (release by default) of the
//! binary each function's
//! `Metadata.BuildProperties.Binary` names, in its `CodeUri`, reading the executable's path from
//! cargo's JSON messages (so any target directory and workspace layout works).
//!
//! Invariant: a function runs only from a binary this build produced (or, without build
//! metadata, the `bootstrap` already in its CodeUri); a failed build stops `riffle local` with
//! cargo's own diagnostics. A rebuild (`--watch`) returns cargo's rendered diagnostics instead,
//! for the caller to show while the old binary keeps serving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, bail};
use riffle_template::Function;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The `bootstrap` of every function, by logical id.
pub(crate) async fn build_functions(
    functions: &[Function],
    template_dir: &Path,
    profile: &str,
) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let mut binaries = BTreeMap::new();
    // One cargo run per CodeUri, building all its functions' binaries together.
    let mut by_dir: BTreeMap<PathBuf, Vec<&Function>> = BTreeMap::new();
    for function in functions {
        let dir = template_dir.join(&function.code_uri);
        match &function.build {
            Some(_) => by_dir.entry(dir).or_default().push(function),
            None => {
                let bootstrap = dir.join("bootstrap");
                if !bootstrap.is_file() {
                    bail!(
                        "function {}: no `Metadata: BuildMethod: rust-cargolambda` and no bootstrap in {}",
                        function.logical_id,
                        dir.display()
                    );
                }
                binaries.insert(function.logical_id.clone(), bootstrap);
            }
        }
    }
    for (dir, functions) in by_dir {
        let names: Vec<String> = functions
            .iter()
            .map(|f| binary_name(f))
            .collect::<anyhow::Result<_>>()?;
        let built = match cargo_build(&dir, &names, profile, Diagnostics::Inherit).await? {
            Ok(built) => built,
            Err(_) => bail!(
                "cargo build failed in {} (its errors are above); fix the function and run riffle local again",
                dir.display()
            ),
        };
        for (function, name) in functions.iter().zip(&names) {
            let path = built.get(name).with_context(|| {
                format!(
                    "function {}: cargo built no binary named {name} in {}",
                    function.logical_id,
                    dir.display()
                )
            })?;
            binaries.insert(function.logical_id.clone(), path.clone());
        }
    }
    Ok(binaries)
}

/// Where cargo's diagnostics go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Diagnostics {
    /// To riffle's stderr, as cargo renders them.
    Inherit,
    /// Collected: rustc's rendered messages and cargo's own errors (`--quiet`), returned.
    Capture,
}

/// Rebuilds `function` (which has build metadata) after a change: its binary's path, or what
/// cargo said about the failure (rustc's rendered diagnostics and cargo's errors).
pub(crate) async fn rebuild(
    function: &Function,
    template_dir: &Path,
    profile: &str,
) -> anyhow::Result<Result<PathBuf, String>> {
    let dir = template_dir.join(&function.code_uri);
    let name = binary_name(function)?;
    let names = [name.clone()];
    Ok(
        match cargo_build(&dir, &names, profile, Diagnostics::Capture).await? {
            Ok(built) => Ok(built.get(&name).cloned().with_context(|| {
                format!("cargo built no binary named {name} in {}", dir.display())
            })?),
            Err(output) => Err(output),
        },
    )
}

/// `Metadata.BuildProperties.Binary` of a function built by cargo.
pub(crate) fn binary_name(function: &Function) -> anyhow::Result<String> {
    function
        .build
        .as_ref()
        .and_then(|b| b.binary.clone())
        .with_context(|| {
            format!(
                "function {}: set Metadata.BuildProperties.Binary to the binary to build",
                function.logical_id
            )
        })
}

/// Runs `cargo build --profile P --bin …` in `dir`; returns each built binary's path by name,
/// or (the build failed) the diagnostics it captured.
async fn cargo_build(
    dir: &Path,
    names: &[String],
    profile: &str,
    diagnostics: Diagnostics,
) -> anyhow::Result<Result<BTreeMap<String, PathBuf>, String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .current_dir(dir)
        .args(["build", "--profile", profile]);
    match diagnostics {
        Diagnostics::Inherit => command
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit()),
        Diagnostics::Capture => command
            .args(["--message-format=json", "--quiet"])
            .stderr(Stdio::piped()),
    };
    command.stdout(Stdio::piped()).kill_on_drop(true);
    for name in names {
        command.args(["--bin", name]);
    }
    eprintln!("riffle: building {} in {}", names.join(", "), dir.display());
    let mut child = command
        .spawn()
        .with_context(|| format!("running cargo in {}", dir.display()))?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let stderr = child.stderr.take().map(|mut stderr| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
            text
        })
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut built = BTreeMap::new();
    let mut rendered = String::new();
    while let Some(line) = lines.next_line().await? {
        let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
            continue;
        };
        match message {
            CargoMessage::CompilerArtifact {
                target,
                executable: Some(executable),
            } => {
                built.insert(target.name, executable);
            }
            CargoMessage::CompilerMessage { message } => {
                rendered.push_str(&message.rendered.unwrap_or_default());
            }
            _ => {}
        }
    }
    let status = child.wait().await?;
    if let Some(stderr) = stderr {
        rendered.push_str(&stderr.await.unwrap_or_default());
    }
    Ok(if status.success() {
        Ok(built)
    } else {
        Err(rendered)
    })
}

/// The lines of cargo's `--message-format=json` this module reads.
#[derive(serde::Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum CargoMessage {
    CompilerArtifact {
        target: CargoTarget,
        executable: Option<PathBuf>,
    },
    CompilerMessage {
        message: RustcMessage,
    },
    #[serde(other)]
    Other,
}

#[derive(serde::Deserialize)]
struct CargoTarget {
    name: String,
}

#[derive(serde::Deserialize)]
struct RustcMessage {
    rendered: Option<String>,
}
