//! `wasm-host build`: turns a guest project into a self-describing component.
//!
//! The language is detected from the project directory — `Cargo.toml` (Rust, `wasm32-wasip2`),
//! `package.json` (JavaScript, rolldown + ComponentizeJS), `app.py` / `pyproject.toml` (Python,
//! componentize-py) — and the manifest comes from the project's own metadata
//! (`[package.metadata.wasm-host]`, the `"wasm-host"` field, `[tool.wasm-host]`). The WIT package
//! and the SDKs come from the binary itself ([`assets`]); toolchains from the project, else from
//! the directory `wasm-host toolchain install` fills ([`Toolchains`]); nothing is installed
//! globally, and a missing toolchain is an error naming the command that installs it.
//! [`scaffold`] writes new projects (`wasm-host new`).
//!
//! ```
//! let project = tempfile::tempdir().unwrap();
//! // No Cargo.toml, package.json or app.py: not a guest project, and the error says so.
//! assert!(wasm_host_build::detect(project.path()).is_err());
//! std::fs::write(project.path().join("app.py"), "").unwrap();
//! assert_eq!(wasm_host_build::detect(project.path()).unwrap(), wasm_host_build::Language::Python);
//! ```

pub mod assets;
mod install;
mod manifest;
pub mod scaffold;
mod toolchain;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wasm_host_meta::Manifest;

pub use assets::Sdk;
pub use install::ToolStatus;
pub use manifest::ProjectMeta;
pub use toolchain::{COMPONENTIZE_JS, COMPONENTIZE_PY, RUST_TARGET, Toolchains, install_command};

/// A guest project's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Cargo project built for `wasm32-wasip2`.
    Rust,
    /// ES module bundled by rolldown, componentized by ComponentizeJS.
    JavaScript,
    /// `app.py` componentized by componentize-py.
    Python,
}

impl Language {
    /// Every language, in the order commands list them.
    pub const ALL: [Language; 3] = [Language::Rust, Language::JavaScript, Language::Python];

    /// The short name commands take (`rust`, `js`, `python`).
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::JavaScript => "js",
            Language::Python => "python",
        }
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" | "rs" => Ok(Language::Rust),
            "js" | "javascript" | "ts" | "typescript" => Ok(Language::JavaScript),
            "python" | "py" => Ok(Language::Python),
            other => Err(format!("unknown language {other:?}: expected rust, js or python")),
        }
    }
}

/// Where a build finds what it needs besides the project: the SDKs and WIT written out under
/// the home directory, and the toolchains.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// wasm-host's data directory; the SDKs are extracted under `HOME/sdk/`.
    pub home: PathBuf,
    /// Where installed toolchains live (default `HOME/toolchains`).
    pub toolchains: Toolchains,
}

impl BuildEnv {
    /// The environment of `home`, with toolchains in `HOME/toolchains`.
    pub fn new(home: &Path) -> Self {
        BuildEnv { home: home.to_path_buf(), toolchains: Toolchains::new(home.join("toolchains")) }
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The directory is not a guest project we know.
    #[error("{0}: no Cargo.toml, package.json, app.py or pyproject.toml; not a guest project")]
    UnknownProject(PathBuf),
    /// A toolchain is missing; the message says how to install it.
    #[error("{tool} not found: {hint}")]
    MissingToolchain {
        /// The program.
        tool: String,
        /// How to get it.
        hint: String,
    },
    /// A build step exited non-zero.
    #[error("{step} failed (exit {status}):\n{output}")]
    StepFailed {
        /// The step.
        step: String,
        /// Its exit status.
        status: String,
        /// The tail of its output.
        output: String,
    },
    /// Project metadata is missing or invalid.
    #[error("project metadata: {0}")]
    Metadata(String),
    /// Reading or writing files failed.
    #[error("{0}")]
    Io(String),
    /// The built binary is not a usable component.
    #[error(transparent)]
    Meta(#[from] wasm_host_meta::MetaError),
}

/// What a finished build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The component file.
    pub output: PathBuf,
    /// The manifest embedded in it.
    pub manifest: Manifest,
    /// The project's language; `None` for a skill without code of its own.
    pub language: Option<Language>,
    /// Component size in bytes.
    pub size: u64,
    /// Total build time.
    pub elapsed: Duration,
}

impl Built {
    /// What was built, for people and `--json`: `rust`, `javascript`, `python` or `skill`.
    pub fn what(&self) -> &'static str {
        match self.language {
            Some(Language::Rust) => "rust",
            Some(Language::JavaScript) => "javascript",
            Some(Language::Python) => "python",
            None => "skill",
        }
    }
}

/// Progress callback: called with a short description before each step.
pub type Progress<'a> = &'a dyn Fn(&str);

/// Detects the language of the project in `dir`.
pub fn detect(dir: &Path) -> Result<Language, BuildError> {
    if dir.join("Cargo.toml").is_file() {
        Ok(Language::Rust)
    } else if dir.join("package.json").is_file() {
        Ok(Language::JavaScript)
    } else if dir.join("app.py").is_file() || dir.join("pyproject.toml").is_file() {
        Ok(Language::Python)
    } else {
        Err(BuildError::UnknownProject(dir.to_path_buf()))
    }
}

/// Builds the project in `dir` into `output` (default `<dir>/dist/<name>.wasm`), embedding the
/// manifest. The file appears atomically: written next to its target, then renamed.
pub fn build(
    dir: &Path,
    output: Option<&Path>,
    env: &BuildEnv,
    progress: Progress<'_>,
) -> Result<Built, BuildError> {
    let started = Instant::now();
    let dir = dir.canonicalize().map_err(|e| BuildError::Io(format!("{}: {e}", dir.display())))?;
    if dir.join(wasm_host_meta::skill::SKILL_MD).is_file() {
        return build_skill(&dir, output, started, progress);
    }
    let language = detect(&dir)?;
    progress("reading project metadata");
    let meta = ProjectMeta::read(&dir, language)?;
    let manifest = meta.manifest()?;
    let output = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("dist").join(format!("{}.wasm", manifest.name)));
    let work = tempfile::tempdir().map_err(|e| BuildError::Io(format!("temp dir: {e}")))?;
    let tools = &env.toolchains;
    let raw = match language {
        Language::Rust => toolchain::rust(&dir, progress)?,
        Language::JavaScript => {
            let sdk = Sdk::extract(&env.home)?;
            toolchain::javascript(&dir, &meta, work.path(), tools, &sdk, progress)?
        }
        Language::Python => {
            let sdk = Sdk::extract(&env.home)?;
            toolchain::python(&dir, &meta, work.path(), tools, &sdk, progress)?
        }
    };
    progress("embedding the manifest");
    let bytes =
        std::fs::read(&raw).map_err(|e| BuildError::Io(format!("{}: {e}", raw.display())))?;
    let with_manifest = wasm_host_meta::embed_manifest(&bytes, &manifest)?;
    write_atomically(&output, &with_manifest)?;
    Ok(Built {
        output,
        manifest,
        language: Some(language),
        size: with_manifest.len() as u64,
        elapsed: started.elapsed(),
    })
}

/// A skill directory (`SKILL.md` at its root) checked and packed into a code-free component,
/// written to `output` (default `<dir>/dist/<name>.wasm`). Needs no toolchain.
fn build_skill(
    dir: &Path,
    output: Option<&Path>,
    started: Instant,
    progress: Progress<'_>,
) -> Result<Built, BuildError> {
    progress("checking SKILL.md and packing the skill's files");
    let dist = dir.join("dist");
    let pack = wasm_host_meta::skill::SkillPack::read_dir_except(dir, &[&dist])
        .map_err(wasm_host_meta::MetaError::from)?;
    let bytes = wasm_host_meta::skill_component(&pack)?;
    let manifest = pack.manifest().map_err(wasm_host_meta::MetaError::from)?;
    let output = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dist.join(format!("{}.wasm", manifest.name)));
    write_atomically(&output, &bytes)?;
    Ok(Built {
        output,
        manifest,
        language: None,
        size: bytes.len() as u64,
        elapsed: started.elapsed(),
    })
}

/// Writes `bytes` to a temp file beside `path`, fsyncs it, and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    use std::io::Write;
    let err = |e: std::io::Error| BuildError::Io(format!("writing {}: {e}", path.display()));
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(err)?;
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(err)?;
    #[cfg(unix)]
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Runs a build step, capturing its output; a failure carries the last lines of it.
pub(crate) fn run_step(step: &str, cmd: &mut Command) -> Result<std::process::Output, BuildError> {
    tracing::debug!(?cmd, "build step");
    let out = cmd.output().map_err(|e| {
        BuildError::Io(format!("{step}: cannot start {:?}: {e}", cmd.get_program()))
    })?;
    if !out.status.success() {
        // Cargo's stdout is JSON messages; the human diagnostics are on stderr.
        let text = if out.stderr.is_empty() {
            String::from_utf8_lossy(&out.stdout)
        } else {
            String::from_utf8_lossy(&out.stderr)
        };
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let output = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(BuildError::StepFailed {
            step: step.to_string(),
            status: out.status.to_string(),
            output,
        });
    }
    Ok(out)
}

/// The nearest ancestor of `start` (itself included) that contains `relative`.
pub(crate) fn find_upward(start: &Path, relative: &str) -> Option<PathBuf> {
    start.ancestors().map(|a| a.join(relative)).find(|p| p.exists())
}
