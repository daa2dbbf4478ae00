//! Reading a guest project's metadata into a [`Manifest`].

use crate::{BuildError, Language};
use serde::Deserialize;
use std::path::Path;
use wasm_host_meta::Manifest;
use wasm_host_policy::{DirRequest, Requests, parse_duration, parse_size};

/// The `wasm-host` table/field of a guest project, plus the project's own name and version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WasmHostSection {
    /// Component name (defaults to the project name).
    pub name: Option<String>,
    /// One line on what it does (defaults to the project description).
    pub description: Option<String>,
    /// Guest directories it needs, read-only (`"/data"`) or `{path, write = true}`.
    pub directories: Vec<DirRequest>,
    /// Outbound HTTP hosts it needs.
    pub hosts: Vec<String>,
    /// Environment variables it needs.
    pub env: Vec<String>,
    /// Memory it wants, e.g. `"64MiB"`.
    pub memory: Option<String>,
    /// Time it wants per call, e.g. `"5s"`.
    pub timeout: Option<String>,
    /// JS only: the entry module (defaults to `main`, else `index.js`).
    pub entry: Option<String>,
    /// JS and Python: the WIT world, `"tool"` (default) or `"program"` (imports `tools`, exports
    /// `run`). Rust picks its world with the SDK's `program` feature.
    pub world: Option<String>,
}

impl WasmHostSection {
    /// Whether the project builds a program (`world = "program"`) rather than a tool component.
    pub fn is_program(&self) -> Result<bool, BuildError> {
        match self.world.as_deref() {
            None | Some("tool") => Ok(false),
            Some("program") => Ok(true),
            Some(other) => Err(BuildError::Metadata(format!(
                "world = {other:?}: expected \"tool\" or \"program\""
            ))),
        }
    }
}

/// A guest project's metadata.
#[derive(Debug, Clone)]
pub struct ProjectMeta {
    /// Project (package) name.
    pub project_name: String,
    /// Project version.
    pub version: semver::Version,
    /// Project description.
    pub description: String,
    /// The `wasm-host` section.
    pub section: WasmHostSection,
    /// JS: the package's `main`.
    pub main: Option<String>,
}

impl ProjectMeta {
    /// Reads `Cargo.toml`, `package.json` or `pyproject.toml` in `dir`.
    pub fn read(dir: &Path, language: Language) -> Result<Self, BuildError> {
        match language {
            Language::Rust => read_cargo(dir),
            Language::JavaScript => read_package_json(dir),
            Language::Python => read_pyproject(dir),
        }
    }

    /// The manifest to embed.
    pub fn manifest(&self) -> Result<Manifest, BuildError> {
        let s = &self.section;
        let bad = |e: wasm_host_policy::LimitsError| BuildError::Metadata(e.to_string());
        let manifest = Manifest {
            name: s.name.clone().unwrap_or_else(|| self.project_name.clone()),
            version: self.version.clone(),
            description: s.description.clone().unwrap_or_else(|| self.description.clone()),
            capabilities: Requests {
                directories: s.directories.clone(),
                hosts: s.hosts.clone(),
                env: s.env.clone(),
                memory_bytes: s.memory.as_deref().map(parse_size).transpose().map_err(bad)?,
                timeout_ms: s
                    .timeout
                    .as_deref()
                    .map(parse_duration)
                    .transpose()
                    .map_err(bad)?
                    .map(|d| d.as_millis() as u64),
            },
        };
        manifest.validate()?;
        Ok(manifest)
    }
}

fn read_text(path: &Path) -> Result<String, BuildError> {
    std::fs::read_to_string(path)
        .map_err(|e| BuildError::Metadata(format!("{}: {e}", path.display())))
}

fn parse_version(v: Option<&str>, file: &str) -> Result<semver::Version, BuildError> {
    let v = v.ok_or_else(|| BuildError::Metadata(format!("{file}: no version")))?;
    semver::Version::parse(v)
        .map_err(|e| BuildError::Metadata(format!("{file}: version `{v}`: {e}")))
}

fn read_cargo(dir: &Path) -> Result<ProjectMeta, BuildError> {
    #[derive(Deserialize)]
    struct Cargo {
        package: Package,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
        version: Option<toml::Value>,
        description: Option<String>,
        #[serde(default)]
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    struct Metadata {
        #[serde(rename = "wasm-host", default)]
        wasm_host: Option<WasmHostSection>,
    }
    let c: Cargo = toml::from_str(&read_text(&dir.join("Cargo.toml"))?)
        .map_err(|e| BuildError::Metadata(format!("Cargo.toml: {e}")))?;
    let version = c.package.version.as_ref().and_then(toml::Value::as_str);
    Ok(ProjectMeta {
        project_name: c.package.name,
        version: parse_version(
            version,
            "Cargo.toml (package.version must be written out, not inherited)",
        )?,
        description: c.package.description.unwrap_or_default(),
        section: c.package.metadata.and_then(|m| m.wasm_host).unwrap_or_default(),
        main: None,
    })
}

fn read_package_json(dir: &Path) -> Result<ProjectMeta, BuildError> {
    #[derive(Deserialize)]
    struct Package {
        name: String,
        version: Option<String>,
        #[serde(default)]
        description: String,
        main: Option<String>,
        #[serde(rename = "wasm-host", default)]
        wasm_host: Option<WasmHostSection>,
    }
    let p: Package = serde_json::from_str(&read_text(&dir.join("package.json"))?)
        .map_err(|e| BuildError::Metadata(format!("package.json: {e}")))?;
    Ok(ProjectMeta {
        project_name: p.name,
        version: parse_version(p.version.as_deref(), "package.json")?,
        description: p.description,
        section: p.wasm_host.unwrap_or_default(),
        main: p.main,
    })
}

fn read_pyproject(dir: &Path) -> Result<ProjectMeta, BuildError> {
    #[derive(Deserialize)]
    struct PyProject {
        project: Option<Project>,
        tool: Option<Tool>,
    }
    #[derive(Deserialize)]
    struct Project {
        name: String,
        version: Option<String>,
        #[serde(default)]
        description: String,
    }
    #[derive(Deserialize)]
    struct Tool {
        #[serde(rename = "wasm-host")]
        wasm_host: Option<WasmHostSection>,
    }
    let path = dir.join("pyproject.toml");
    if !path.is_file() {
        return Err(BuildError::Metadata(format!(
            "{}: missing; a Python guest needs [project] name/version and [tool.wasm-host]",
            path.display()
        )));
    }
    let p: PyProject = toml::from_str(&read_text(&path)?)
        .map_err(|e| BuildError::Metadata(format!("pyproject.toml: {e}")))?;
    let project = p
        .project
        .ok_or_else(|| BuildError::Metadata("pyproject.toml: no [project] table".into()))?;
    Ok(ProjectMeta {
        project_name: project.name,
        version: parse_version(project.version.as_deref(), "pyproject.toml")?,
        description: project.description,
        section: p.tool.and_then(|t| t.wasm_host).unwrap_or_default(),
        main: None,
    })
}
