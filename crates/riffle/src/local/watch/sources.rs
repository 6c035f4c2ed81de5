//! What a function is built from: the directories of its package and of the path dependencies
//! it uses (read from `cargo metadata`), and which changed paths count as a change of them.
//!
//! Invariant: a path under `target/`, under a hidden directory, or naming an editor's temporary
//! file never counts, so neither a build's own output nor a half-written save starts a build.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, bail};

/// The sources of one function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sources {
    /// The package defining the binary and the path (or workspace) packages it depends on,
    /// for normal and build dependencies: watched recursively.
    pub(crate) packages: BTreeSet<PathBuf>,
    /// The workspace's `Cargo.toml` and `Cargo.lock`: watched as files.
    pub(crate) workspace_files: BTreeSet<PathBuf>,
}

impl Sources {
    /// Whether a change of `path` (absolute) is a change of these sources.
    pub(crate) fn contains(&self, path: &Path) -> bool {
        if self.workspace_files.contains(path) {
            return true;
        }
        self.packages
            .iter()
            .any(|dir| path.strip_prefix(dir).is_ok_and(counts))
    }
}

/// Whether a change of `relative` (below a watched package directory) counts.
fn counts(relative: &Path) -> bool {
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            continue;
        };
        let name = name.to_string_lossy();
        let last = components.peek().is_none();
        if name.starts_with('.') || (!last && name == "target") {
            return false;
        }
        if last
            && (name.ends_with('~')
                || name.starts_with('#')
                || [".swp", ".swx", ".swo", ".tmp"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
                || name == "4913")
        {
            return false;
        }
    }
    true
}

/// The sources of binary `binary` built in `dir` (a function's CodeUri), from `cargo metadata`.
pub(crate) async fn sources(dir: &Path, binary: &str) -> anyhow::Result<Sources> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = tokio::process::Command::new(cargo)
        .current_dir(dir)
        .args(["metadata", "--format-version", "1"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .with_context(|| format!("running cargo metadata in {}", dir.display()))?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
    metadata.sources(binary)
}

/// The part of `cargo metadata --format-version 1` read here.
#[derive(Debug, serde::Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    resolve: Option<Resolve>,
}

#[derive(Debug, serde::Deserialize)]
struct Package {
    id: String,
    manifest_path: PathBuf,
    /// `None` for a path or workspace package.
    source: Option<String>,
    targets: Vec<Target>,
}

#[derive(Debug, serde::Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Debug, serde::Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Debug, serde::Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Debug, serde::Deserialize)]
struct DepKind {
    /// `None` for a normal dependency, `"dev"` or `"build"`.
    kind: Option<String>,
}

impl Metadata {
    fn sources(&self, binary: &str) -> anyhow::Result<Sources> {
        let packages: HashMap<&str, &Package> =
            self.packages.iter().map(|p| (p.id.as_str(), p)).collect();
        let root = self
            .workspace_members
            .iter()
            .filter_map(|id| packages.get(id.as_str()))
            .find(|p| {
                p.targets
                    .iter()
                    .any(|t| t.name == binary && t.kind.iter().any(|k| k == "bin"))
            })
            .with_context(|| format!("no package of the workspace has a binary named {binary}"))?;
        let nodes: HashMap<&str, &Node> = self
            .resolve
            .iter()
            .flat_map(|r| &r.nodes)
            .map(|n| (n.id.as_str(), n))
            .collect();
        let mut found = BTreeSet::new();
        let mut next = vec![root.id.as_str()];
        while let Some(id) = next.pop() {
            let Some(package) = packages.get(id) else {
                continue;
            };
            if package.source.is_some() {
                continue;
            }
            if !found.insert(package_dir(package)) {
                continue;
            }
            for dep in nodes.get(id).map_or(&[][..], |n| &n.deps[..]) {
                if dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind.as_deref() != Some("dev"))
                {
                    next.push(&dep.pkg);
                }
            }
        }
        Ok(Sources {
            packages: found,
            workspace_files: ["Cargo.toml", "Cargo.lock"]
                .iter()
                .map(|file| self.workspace_root.join(file))
                .collect(),
        })
    }
}

fn package_dir(package: &Package) -> PathBuf {
    package
        .manifest_path
        .parent()
        .map_or_else(|| package.manifest_path.clone(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_edits_count_and_build_output_and_editor_files_do_not() {
        let sources = Sources {
            packages: [PathBuf::from("/w/fn"), PathBuf::from("/w/shared")].into(),
            workspace_files: [PathBuf::from("/w/Cargo.toml")].into(),
        };
        for path in [
            "/w/fn/src/main.rs",
            "/w/shared/src/lib.rs",
            "/w/fn/Cargo.toml",
            "/w/Cargo.toml",
        ] {
            assert!(sources.contains(Path::new(path)), "{path}");
        }
        for path in [
            "/w/fn/target/debug/fn",
            "/w/fn/.git/index",
            "/w/fn/src/.main.rs.swp",
            "/w/fn/src/main.rs~",
            "/w/fn/src/4913",
            "/w/fn/src/#main.rs#",
            "/w/other/src/lib.rs",
            "/w/README.md",
        ] {
            assert!(!sources.contains(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn the_binarys_package_and_its_path_dependencies_are_sources_but_registry_and_dev_ones_are_not()
    {
        let metadata: Metadata = serde_json::from_value(serde_json::json!({
            "workspace_root": "/w",
            "workspace_members": ["fn", "other"],
            "packages": [
                {"id": "fn", "manifest_path": "/w/fn/Cargo.toml", "source": null,
                 "targets": [{"name": "fn-bin", "kind": ["bin"]}]},
                {"id": "other", "manifest_path": "/w/other/Cargo.toml", "source": null,
                 "targets": [{"name": "other", "kind": ["bin"]}]},
                {"id": "shared", "manifest_path": "/w/shared/Cargo.toml", "source": null,
                 "targets": [{"name": "shared", "kind": ["lib"]}]},
                {"id": "testkit", "manifest_path": "/w/testkit/Cargo.toml", "source": null,
                 "targets": [{"name": "testkit", "kind": ["lib"]}]},
                {"id": "serde", "manifest_path": "/reg/serde/Cargo.toml",
                 "source": "registry+https://github.com/rust-lang/crates.io-index",
                 "targets": [{"name": "serde", "kind": ["lib"]}]}
            ],
            "resolve": {"nodes": [
                {"id": "fn", "deps": [
                    {"pkg": "shared", "dep_kinds": [{"kind": null}]},
                    {"pkg": "serde", "dep_kinds": [{"kind": null}]},
                    {"pkg": "testkit", "dep_kinds": [{"kind": "dev"}]}
                ]},
                {"id": "shared", "deps": []}
            ]}
        }))
        .unwrap();
        let sources = metadata.sources("fn-bin").unwrap();
        assert_eq!(
            sources.packages,
            [PathBuf::from("/w/fn"), PathBuf::from("/w/shared")].into()
        );
        assert_eq!(
            sources.workspace_files,
            [
                PathBuf::from("/w/Cargo.lock"),
                PathBuf::from("/w/Cargo.toml")
            ]
            .into()
        );
        assert!(metadata.sources("missing").is_err());
    }
}
