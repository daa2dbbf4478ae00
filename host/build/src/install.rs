//! `wasm-host toolchain install` and `wasm-host doctor`: putting the pinned guest toolchains into
//! the toolchain directory, and reporting what a build would find.
//!
//! JavaScript: `npm ci` of the lock file embedded in the binary (ComponentizeJS 0.23.0 with its
//! rolldown bundler) into `DIR/js`, staged beside and renamed, so a half-finished install is never
//! found. Python: a venv at `DIR/python` with componentize-py 0.25.1 (a venv cannot be moved, so
//! it is built in place; `componentize-py` is only found once pip has finished). Rust: `rustup
//! target add wasm32-wasip2`.

use crate::toolchain::{COMPONENTIZE_JS, COMPONENTIZE_PY, RUST_TARGET, rust_sysroot};
use crate::{BuildError, Language, Progress, Toolchains, assets, install_command, run_step};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One tool as `doctor` sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolStatus {
    /// The language it builds.
    pub language: &'static str,
    /// The tool (`componentize-js`, `rolldown`, `componentize-py`, `rustc`, `wasm32-wasip2`, `node`, `python3`).
    pub tool: String,
    /// Its version, when found.
    pub version: Option<String>,
    /// The version `toolchain install` pins, if it pins one.
    pub pinned: Option<String>,
    /// Where it was found.
    pub path: Option<PathBuf>,
    /// The command that installs it, when missing.
    pub fix: Option<String>,
}

impl ToolStatus {
    /// Whether the tool was found.
    pub fn present(&self) -> bool {
        self.version.is_some() || self.path.is_some()
    }
}

impl Toolchains {
    /// Installs the pinned toolchain of `language`.
    pub fn install(&self, language: Language, progress: Progress<'_>) -> Result<(), BuildError> {
        match language {
            Language::JavaScript => self.install_js(progress),
            Language::Python => self.install_python(progress),
            Language::Rust => {
                progress("rustup target add wasm32-wasip2");
                run_step("rustup", Command::new("rustup").args(["target", "add", RUST_TARGET]))
                    .map(drop)
            }
        }
    }

    fn install_js(&self, progress: Progress<'_>) -> Result<(), BuildError> {
        let io = |p: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", p.display()));
        std::fs::create_dir_all(self.dir()).map_err(|e| io(self.dir(), e))?;
        let staging = tempfile::Builder::new()
            .prefix(".js-")
            .tempdir_in(self.dir())
            .map_err(|e| io(self.dir(), e))?;
        for (rel, bytes) in assets::assets_under("toolchain/js/") {
            let path = staging.path().join(rel);
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        progress(&format!(
            "npm ci (@bytecodealliance/componentize-js@{COMPONENTIZE_JS}, rolldown)"
        ));
        run_step(
            "npm ci",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(staging.path()),
        )
        .map_err(|e| npm_missing(e, "npm"))?;
        let target = self.dir().join("js");
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| io(&target, e))?;
        }
        std::fs::rename(staging.keep(), &target).map_err(|e| io(&target, e))
    }

    fn install_python(&self, progress: Progress<'_>) -> Result<(), BuildError> {
        let venv = self.dir().join("python");
        if !venv.join("bin/python").exists() {
            progress("python3 -m venv");
            run_step("python3 -m venv", Command::new("python3").args(["-m", "venv"]).arg(&venv))
                .map_err(|e| npm_missing(e, "python3"))?;
        }
        progress(&format!("pip install componentize-py=={COMPONENTIZE_PY}"));
        run_step(
            "pip install",
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("componentize-py=={COMPONENTIZE_PY}"),
            ]),
        )
        .map(drop)
    }

    /// What a build of each language would use, found or not (`project`: where the project is,
    /// whose own toolchains come first).
    pub fn status(&self, project: &Path) -> Vec<ToolStatus> {
        let mut all = Vec::new();
        let js = Language::JavaScript;
        all.push(command_status(js, "node", &["--version"], "install Node.js 20 or newer"));
        for (tool, package, pinned) in [
            ("componentize-js", "@bytecodealliance/componentize-js", Some(COMPONENTIZE_JS)),
            ("rolldown", "rolldown", None),
        ] {
            let path = self.js_bin(project, tool);
            let version = path.as_deref().and_then(|bin| npm_package_version(bin, package));
            all.push(ToolStatus {
                language: js.name(),
                tool: tool.into(),
                fix: path.is_none().then(|| install_command(js)),
                version,
                pinned: pinned.map(str::to_string),
                path,
            });
        }
        let py = Language::Python;
        all.push(command_status(py, "python3", &["--version"], "install Python 3.11 or newer"));
        let path = self.componentize_py(project);
        all.push(ToolStatus {
            language: py.name(),
            tool: "componentize-py".into(),
            version: path.as_deref().and_then(componentize_py_version),
            pinned: Some(COMPONENTIZE_PY.into()),
            fix: path.is_none().then(|| install_command(py)),
            path,
        });
        let rust = Language::Rust;
        all.push(command_status(
            rust,
            "rustc",
            &["--version"],
            "install Rust with rustup (https://rustup.rs)",
        ));
        let target = rust_sysroot()
            .ok()
            .map(|s| s.join("lib/rustlib").join(RUST_TARGET))
            .filter(|p| p.is_dir());
        all.push(ToolStatus {
            language: rust.name(),
            tool: RUST_TARGET.into(),
            version: None,
            pinned: None,
            fix: target.is_none().then(|| install_command(rust)),
            path: target,
        });
        all
    }
}

/// A failure to start `program` names the program to install instead.
fn npm_missing(e: BuildError, program: &str) -> BuildError {
    match e {
        BuildError::Io(m) if m.contains("cannot start") => BuildError::MissingToolchain {
            tool: program.into(),
            hint: format!(
                "install {program} (Node.js 20+ for npm, Python 3.11+ for python3) and run this again"
            ),
        },
        other => other,
    }
}

fn command_status(language: Language, tool: &str, args: &[&str], fix: &str) -> ToolStatus {
    let version =
        Command::new(tool).args(args).output().ok().filter(|o| o.status.success()).map(|o| {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text).trim().to_string()
        });
    ToolStatus {
        language: language.name(),
        tool: tool.into(),
        fix: version.is_none().then(|| fix.to_string()),
        version,
        pinned: None,
        path: None,
    }
}

/// The `version` of `package` in the `node_modules` that holds `.bin/<tool>`.
fn npm_package_version(bin: &Path, package: &str) -> Option<String> {
    let node_modules = bin.parent()?.parent()?;
    let text = std::fs::read_to_string(node_modules.join(package).join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_string)
}

/// The version of the componentize-py installed beside `bin`, from its dist-info directory
/// (no need to start it).
fn componentize_py_version(bin: &Path) -> Option<String> {
    let lib = bin.parent()?.parent()?.join("lib");
    std::fs::read_dir(lib).ok()?.flatten().find_map(|python| {
        std::fs::read_dir(python.path().join("site-packages")).ok()?.flatten().find_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix("componentize_py-")?.strip_suffix(".dist-info").map(str::to_string)
        })
    })
}
