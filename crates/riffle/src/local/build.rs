//! Building the template's functions: `cargo build --profile P` (release by default) of the
//! binary each function's
//! `Metadata.BuildProperties.Binary` names, in its `CodeUri`, reading the executable's path from
//! cargo's JSON messages (so any target directory and workspace layout works).
//!
//! Invariant: a function runs only from a binary this build produced (or, without build
//! metadata, the `bootstrap` already in its CodeUri); a failed build stops `riffle local` with
//! cargo's own diagnostics.

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
            .map(|f| {
                f.build
                    .as_ref()
                    .and_then(|b| b.binary.clone())
                    .with_context(|| {
                        format!(
                            "function {}: set Metadata.BuildProperties.Binary to the binary to build",
                            f.logical_id
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        let built = cargo_build(&dir, &names, profile).await?;
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

/// Runs `cargo build --profile P --bin …` in `dir`; returns each built binary's path by name.
async fn cargo_build(
    dir: &Path,
    names: &[String],
    profile: &str,
) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = tokio::process::Command::new(cargo);
    command
        .current_dir(dir)
        .args([
            "build",
            "--profile",
            profile,
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for name in names {
        command.args(["--bin", name]);
    }
    eprintln!("riffle: building {} in {}", names.join(", "), dir.display());
    let mut child = command
        .spawn()
        .with_context(|| format!("running cargo in {}", dir.display()))?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut built = BTreeMap::new();
    while let Some(line) = lines.next_line().await? {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && let (Some(name), Some(executable)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            )
        {
            built.insert(name.to_owned(), PathBuf::from(executable));
        }
    }
    let status = child.wait().await?;
    if !status.success() {
        bail!(
            "cargo build failed in {} (its errors are above); fix the function and run riffle local again",
            dir.display()
        );
    }
    Ok(built)
}
