//! The per-language build steps, and where their toolchains come from.
//!
//! Each tool is looked for in the project first (its own `node_modules/.bin` or `.venv`, searched
//! upwards, which is also how builds inside the wasm-host repository find its pinned copies),
//! then in the toolchain directory `wasm-host toolchain install` fills (default
//! `HOME/toolchains`). A missing tool fails at once, naming the command that installs it.

use crate::{BuildError, Language, Progress, ProjectMeta, Sdk, find_upward, run_step};
use std::path::{Path, PathBuf};
use std::process::Command;

/// ComponentizeJS version `toolchain install` pins (with the rolldown its lock file names).
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// componentize-py version `toolchain install` pins.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The Rust target guests build for.
pub const RUST_TARGET: &str = "wasm32-wasip2";

/// The command that installs the toolchain of `language`.
pub fn install_command(language: Language) -> String {
    format!("wasm-host toolchain install --lang {}", language.name())
}

/// Where toolchains are looked for and installed.
#[derive(Debug, Clone)]
pub struct Toolchains {
    dir: PathBuf,
}

impl Toolchains {
    /// Toolchains under `dir` (`js/node_modules`, `python/` as a venv).
    pub fn new(dir: PathBuf) -> Self {
        Toolchains { dir }
    }

    /// The toolchain directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `node_modules/.bin/<name>`: the project's (upwards), else the installed one.
    pub fn js_bin(&self, project: &Path, name: &str) -> Option<PathBuf> {
        let relative = format!("node_modules/.bin/{name}");
        find_upward(project, &relative)
            .or_else(|| Some(self.dir.join("js").join(&relative)).filter(|p| p.exists()))
    }

    /// `componentize-py`: the project's `.venv` (upwards), else the installed one.
    pub fn componentize_py(&self, project: &Path) -> Option<PathBuf> {
        find_upward(project, ".venv/bin/componentize-py")
            .or_else(|| Some(self.dir.join("python/bin/componentize-py")).filter(|p| p.exists()))
    }

    fn missing(&self, tool: &str, language: Language) -> BuildError {
        BuildError::MissingToolchain {
            tool: tool.to_string(),
            hint: format!(
                "not in the project nor in {}; run `{}`",
                self.dir.display(),
                install_command(language)
            ),
        }
    }
}

/// `cargo build --release --target wasm32-wasip2`; returns the `.wasm` cargo reports.
pub(crate) fn rust(dir: &Path, progress: Progress<'_>) -> Result<PathBuf, BuildError> {
    check_wasip2_target()?;
    progress("cargo build --release --target wasm32-wasip2");
    let manifest = dir.join("Cargo.toml");
    let out = run_step(
        "cargo build",
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "--release",
                "--target",
                RUST_TARGET,
                "--message-format=json-render-diagnostics",
                "--manifest-path",
            ])
            .arg(&manifest)
            // Guests ship without debug info: smaller components, faster loads.
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
            .current_dir(dir),
    )?;
    let manifest = manifest.to_string_lossy().to_string();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["manifest_path"].as_str() == Some(manifest.as_str())
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            BuildError::Metadata(format!(
                "{manifest}: cargo produced no .wasm; is the crate a `cdylib`?"
            ))
        })
}

/// The sysroot of the `rustc` on PATH, or why there is none.
pub(crate) fn rust_sysroot() -> Result<PathBuf, BuildError> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().map_err(|_| {
        BuildError::MissingToolchain {
            tool: "rustc".into(),
            hint: "install Rust with rustup (https://rustup.rs), then `wasm-host toolchain install --lang rust`".into(),
        }
    })?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn check_wasip2_target() -> Result<(), BuildError> {
    let sysroot = rust_sysroot()?;
    sysroot.join("lib/rustlib").join(RUST_TARGET).is_dir().then_some(()).ok_or_else(|| {
        BuildError::MissingToolchain {
            tool: format!("the Rust target {RUST_TARGET}"),
            hint: format!("run `{}`", install_command(Language::Rust)),
        }
    })
}

/// rolldown (one ES module; `wasm-host-sdk` resolves to the embedded SDK unless the project has
/// its own) then ComponentizeJS against the SDK's WIT.
pub(crate) fn javascript(
    dir: &Path,
    meta: &ProjectMeta,
    work: &Path,
    tools: &Toolchains,
    sdk: &Sdk,
    progress: Progress<'_>,
) -> Result<PathBuf, BuildError> {
    let componentize = tools
        .js_bin(dir, "componentize-js")
        .ok_or_else(|| tools.missing("componentize-js", Language::JavaScript))?;
    let rolldown = tools
        .js_bin(dir, "rolldown")
        .ok_or_else(|| tools.missing("rolldown", Language::JavaScript))?;
    let entry = meta
        .section
        .entry
        .clone()
        .or_else(|| meta.main.clone())
        .unwrap_or_else(|| "index.js".into());
    let config = work.join("rolldown.config.mjs");
    std::fs::write(&config, rolldown_config(dir, &sdk.js()))
        .map_err(|e| BuildError::Io(format!("{}: {e}", config.display())))?;
    let bundle = work.join("bundle.js");
    progress("bundling with rolldown");
    run_step(
        "rolldown",
        Command::new(&rolldown)
            .arg("-c")
            .arg(&config)
            .arg("--input")
            .arg(dir.join(&entry))
            .arg("--file")
            .arg(&bundle)
            .current_dir(dir),
    )?;
    progress("componentize-js (SpiderMonkey + Wizer, ~10 s)");
    let out = work.join("component.wasm");
    let world =
        if meta.section.is_program()? { "js-program-component" } else { "js-tool-component" };
    run_step(
        "componentize-js",
        Command::new(&componentize)
            .arg(&bundle)
            .arg("-w")
            .arg(sdk.js().join("wit"))
            .args(["-n", world, "-d", "http", "-d", "fetch-event", "-o"])
            .arg(&out)
            .current_dir(work),
    )?;
    Ok(out)
}

/// The rolldown configuration of one JS build: one ES module, WIT interfaces left as imports,
/// and `wasm-host-sdk` taken from the project's `node_modules` when it has it, else from the
/// embedded copy (so a new project builds before `npm install`).
fn rolldown_config(project: &Path, sdk_js: &Path) -> String {
    let own = find_upward(project, "node_modules/wasm-host-sdk/package.json").is_some();
    let alias = if own {
        String::new()
    } else {
        let sdk = serde_json::to_string(&sdk_js.to_string_lossy()).unwrap_or_default();
        format!("resolve: {{ alias: {{ 'wasm-host-sdk': {sdk} }} }},")
    };
    format!(
        "export default {{ platform: 'neutral', external: [/^wasm-host:/, /^wasi:/], {alias} output: {{ format: 'esm' }} }};\n"
    )
}

/// componentize-py on `app.py`, with the project first on the path, then the embedded SDK.
pub(crate) fn python(
    dir: &Path,
    meta: &ProjectMeta,
    work: &Path,
    tools: &Toolchains,
    sdk: &Sdk,
    progress: Progress<'_>,
) -> Result<PathBuf, BuildError> {
    let componentize = tools
        .componentize_py(dir)
        .ok_or_else(|| tools.missing("componentize-py", Language::Python))?;
    progress("componentize-py (CPython + Wizer, ~15 s)");
    let out = work.join("component.wasm");
    let world = if meta.section.is_program()? { "program-component" } else { "tool-component" };
    run_step(
        "componentize-py",
        Command::new(&componentize)
            .arg("-d")
            .arg(sdk.wit())
            .args(["-w", world, "componentize", "app", "-p"])
            .arg(dir)
            .arg("-p")
            .arg(sdk.py())
            .arg("-o")
            .arg(&out)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(work),
    )?;
    Ok(out)
}
