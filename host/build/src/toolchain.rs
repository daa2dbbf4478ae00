//! The per-language build steps, each using the toolchain pinned in this repository.

use crate::{BuildError, Progress, ProjectMeta, find_upward, run_step};
use std::path::{Path, PathBuf};
use std::process::Command;

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
                "wasm32-wasip2",
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

fn check_wasip2_target() -> Result<(), BuildError> {
    let missing = || BuildError::MissingToolchain {
        tool: "the Rust target wasm32-wasip2".into(),
        hint: "run `rustup target add wasm32-wasip2`".into(),
    };
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().map_err(|_| BuildError::MissingToolchain {
        tool: "rustc".into(),
        hint: "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip2`".into(),
    })?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot.join("lib/rustlib/wasm32-wasip2").is_dir().then_some(()).ok_or_else(missing)
}

/// rolldown (one ES module) then ComponentizeJS against `sdk-js/wit`.
pub(crate) fn javascript(
    dir: &Path,
    meta: &ProjectMeta,
    work: &Path,
    progress: Progress<'_>,
) -> Result<PathBuf, BuildError> {
    let npm_hint = || {
        "run `npm ci` at the repository root (pins @bytecodealliance/componentize-js@0.23.0)"
            .to_string()
    };
    let componentize = find_upward(dir, "node_modules/.bin/componentize-js").ok_or_else(|| {
        BuildError::MissingToolchain { tool: "componentize-js".into(), hint: npm_hint() }
    })?;
    let rolldown = find_upward(dir, "node_modules/.bin/rolldown").ok_or_else(|| {
        BuildError::MissingToolchain { tool: "rolldown".into(), hint: npm_hint() }
    })?;
    let sdk = find_upward(dir, "sdk-js/rolldown.config.mjs")
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or_else(|| BuildError::MissingToolchain {
            tool: "sdk-js".into(),
            hint: "build from inside the wasm-host repository".into(),
        })?;
    let entry = meta
        .section
        .entry
        .clone()
        .or_else(|| meta.main.clone())
        .unwrap_or_else(|| "index.js".into());
    let bundle = work.join("bundle.js");
    progress("bundling with rolldown");
    run_step(
        "rolldown",
        Command::new(&rolldown)
            .arg("-c")
            .arg(sdk.join("rolldown.config.mjs"))
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
            .arg(sdk.join("wit"))
            .args(["-n", world, "-d", "http", "-d", "fetch-event", "-o"])
            .arg(&out)
            .current_dir(work),
    )?;
    Ok(out)
}

/// componentize-py on `app.py`, with `sdk-py` on the path.
pub(crate) fn python(
    dir: &Path,
    meta: &ProjectMeta,
    work: &Path,
    progress: Progress<'_>,
) -> Result<PathBuf, BuildError> {
    let hint = || {
        "create the repository's venv: `python3 -m venv .venv && .venv/bin/pip install componentize-py==0.25.1`".to_string()
    };
    let componentize = find_upward(dir, ".venv/bin/componentize-py").ok_or_else(|| {
        BuildError::MissingToolchain { tool: "componentize-py".into(), hint: hint() }
    })?;
    let wit = find_upward(dir, "wit/mcp")
        .ok_or_else(|| BuildError::Metadata("wit/mcp not found above the project".into()))?;
    let sdk = find_upward(dir, "sdk-py/wasm_host_sdk")
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or_else(|| BuildError::MissingToolchain {
            tool: "sdk-py".into(),
            hint: "build from inside the wasm-host repository".into(),
        })?;
    progress("componentize-py (CPython + Wizer, ~15 s)");
    let out = work.join("component.wasm");
    let world = if meta.section.is_program()? { "program-component" } else { "tool-component" };
    run_step(
        "componentize-py",
        Command::new(&componentize)
            .arg("-d")
            .arg(&wit)
            .args(["-w", world, "componentize", "app", "-p"])
            .arg(dir)
            .arg("-p")
            .arg(&sdk)
            .arg("-o")
            .arg(&out)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(work),
    )?;
    Ok(out)
}
