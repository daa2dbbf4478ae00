//! The `build`, `inspect`, `call` and `run` commands: call the library, print the outcome.

use crate::settings::{GlobalArgs, SandboxArgs};
use anyhow::Context;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use wasm_host_runtime::aot;
use wasm_host_runtime::{
    CallOutcome, Catalog, Executor, LoadOptions, LoadedComponent, Output, is_hidden_character,
    sanitize_for_terminal,
};

/// `wasm-host build DIR [-o OUT]`.
#[cfg(feature = "builders")]
pub fn build(
    env: &wasm_host_build::BuildEnv,
    dir: &Path,
    output: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use indicatif::{ProgressBar, ProgressStyle};
    use std::time::Duration;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let built = wasm_host_build::build(dir, output, env, &|step| bar.set_message(step.to_string()));
    bar.finish_and_clear();
    let built = built.with_context(|| format!("building {}", dir.display()))?;
    if json {
        let out = json!({
            "output": built.output, "name": built.manifest.name, "version": built.manifest.version.to_string(),
            "language": built.what(), "size": built.size, "elapsed_ms": built.elapsed.as_millis(),
        });
        println!("{out}");
    } else {
        println!(
            "built {} {} ({}, {:.1} MB) in {:.1} s -> {}",
            built.manifest.name,
            built.manifest.version,
            built.what(),
            built.size as f64 / 1e6,
            built.elapsed.as_secs_f64(),
            built.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `wasm-host inspect FILE`.
pub async fn inspect(global: &GlobalArgs, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let artifact = aot::is_artifact(file)
        .then(|| aot::read_artifact_info(file))
        .transpose()
        .with_context(|| format!("inspecting {}", file.display()))?;
    let (info, bytes) = match &artifact {
        Some(a) => (a.component_info(), None),
        None => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let info = wasm_host_meta::inspect(&bytes)
                .with_context(|| format!("inspecting {}", file.display()))?;
            (info, Some(bytes))
        }
    };
    let compat = info.check_imports().err().map(|e| e.to_string());
    let runtime = global.runtime()?;
    let loaded = if compat.is_none() {
        let opts = LoadOptions { inspect_only: true, name: stem(file), ..Default::default() };
        let loaded = match &bytes {
            Some(bytes) => runtime.load_bytes(bytes, opts).await,
            None => runtime.load_file(file, opts).await,
        };
        Some(loaded.with_context(|| format!("loading {}", file.display()))?)
    } else {
        None
    };
    let tools: Vec<Value> = loaded
        .iter()
        .flat_map(|l| l.tools.iter())
        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
        .collect();
    let mut flags = suspicious_text(loaded.as_deref());
    let skill = info.skill.as_ref().map(|pack| {
        if pack
            .files()
            .iter()
            .any(|f| String::from_utf8_lossy(&f.bytes).chars().any(is_hidden_character))
        {
            flags.push(format!(
                "skill {} has invisible or bidi control characters in its files",
                pack.name()
            ));
        }
        let files: Vec<Value> = pack
            .files()
            .iter()
            .map(|f| json!({"path": f.path, "size": f.bytes.len(), "sha256": f.sha256}))
            .collect();
        json!({"frontmatter": pack.frontmatter(), "files": files})
    });
    if json {
        let out = json!({
            "file": file, "sha256": info.sha256, "size": info.size, "manifest": info.manifest,
            "kind": loaded.as_ref().map(|l| l.kind), "imports": info.interfaces.imports, "exports": info.interfaces.exports,
            "incompatible": compat, "tools": tools, "skill": skill, "flags": flags,
            "precompiled": artifact.as_ref().map(|a| json!({"target": a.target, "wasmtime": a.wasmtime})),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(if compat.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS });
    }
    println!("{}  ({} bytes, sha256 {})", file.display(), info.size, info.sha256);
    if let Some(a) = &artifact {
        println!("precompiled: for {} by wasmtime {} ({})", a.target, a.wasmtime, a.settings);
    }
    match &info.manifest {
        Some(m) => {
            println!(
                "manifest: {} {} — {}",
                m.name,
                m.version,
                sanitize_for_terminal(&m.description)
            );
            println!("requests: {}", serde_json::to_string(&m.capabilities)?);
        }
        None => println!(
            "manifest: none (not built with `wasm-host build`; it will be granted nothing)"
        ),
    }
    println!("imports:");
    for i in &info.interfaces.imports {
        println!("  {i}");
    }
    println!("exports:");
    for e in &info.interfaces.exports {
        println!("  {e}");
    }
    if let Some(why) = &compat {
        println!("INCOMPATIBLE: {why}");
        return Ok(ExitCode::FAILURE);
    }
    for t in loaded.iter().flat_map(|l| l.tools.iter()) {
        println!("tool {}: {}", t.qualified, sanitize_for_terminal(&t.description));
        println!("  input: {}", t.input_schema);
    }
    if let Some(pack) = &info.skill {
        println!("skill {}: {}", pack.name(), sanitize_for_terminal(pack.description()));
        println!("  frontmatter: {}", serde_json::to_string(pack.frontmatter())?);
        for f in pack.files() {
            println!(
                "  file {} ({} bytes, sha256 {})",
                sanitize_for_terminal(&f.path),
                f.bytes.len(),
                f.sha256
            );
        }
    }
    for f in &flags {
        println!("FLAG: {f}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Descriptions that carry invisible or direction-changing characters (hidden instructions).
fn suspicious_text(loaded: Option<&LoadedComponent>) -> Vec<String> {
    let hidden = |s: &str| s.chars().any(is_hidden_character);
    loaded
        .iter()
        .flat_map(|l| l.tools.iter())
        .filter(|t| hidden(&t.description) || t.title.as_deref().is_some_and(hidden))
        .map(|t| {
            format!(
                "tool {} has invisible or bidi control characters in its description",
                t.qualified
            )
        })
        .collect()
}

fn stem(file: &Path) -> Option<String> {
    file.file_stem().map(|s| s.to_string_lossy().replace(['_', '.'], "-").to_lowercase())
}

async fn load(
    global: &GlobalArgs,
    runtime: &Arc<wasm_host_runtime::Runtime>,
    file: &Path,
    sandbox: &SandboxArgs,
) -> anyhow::Result<Arc<LoadedComponent>> {
    let (grants, limits) = (sandbox.grants(), sandbox.limits());
    crate::registry::load(
        global,
        runtime,
        file,
        LoadOptions { grants, limits, ..Default::default() },
    )
    .await
}

/// `wasm-host call FILE TOOL [ARGS]`.
pub async fn call(
    global: &GlobalArgs,
    file: &Path,
    tool: &str,
    args: &str,
    sandbox: &SandboxArgs,
    json: bool,
) -> anyhow::Result<ExitCode> {
    serde_json::from_str::<Value>(args)
        .context("ARGS must be a JSON object")?
        .as_object()
        .context("ARGS must be a JSON object")?;
    let runtime = global.runtime()?;
    let component = load(global, &runtime, file, sandbox).await?;
    if !component.tools.iter().any(|t| t.name == tool) {
        let names: Vec<&str> = component.tools.iter().map(|t| t.name.as_str()).collect();
        anyhow::bail!("{} has no tool `{tool}`; it has: {}", component.name, names.join(", "));
    }
    let executor = Executor::new(runtime, Arc::new(Catalog::new()));
    let outcome = executor.call_component(&component, tool, args).await;
    Ok(print_outcome(&outcome, json))
}

/// `wasm-host run FILE [INPUT] --with TOOL.wasm…`.
pub async fn run(
    global: &GlobalArgs,
    file: &Path,
    input: &str,
    with: &[PathBuf],
    sandbox: &SandboxArgs,
    json: bool,
) -> anyhow::Result<ExitCode> {
    serde_json::from_str::<Value>(input).context("INPUT must be JSON")?;
    let runtime = global.runtime()?;
    let catalog = Arc::new(Catalog::new());
    for tool in with {
        let c = load(global, &runtime, tool, sandbox).await?;
        if let Some(old) = catalog.insert(c) {
            anyhow::bail!("two components are named `{}`", old.name);
        }
    }
    let program = load(global, &runtime, file, sandbox).await?;
    anyhow::ensure!(
        program.kind == wasm_host_runtime::ComponentKind::Program,
        "{} is a tool component; use `wasm-host call`",
        file.display()
    );
    let outcome = Executor::new(runtime, catalog).call_component(&program, "run", input).await;
    Ok(print_outcome(&outcome, json))
}

/// Prints a call's outcome: JSON on stdout, or the result on stdout and log + figures on stderr.
fn print_outcome(outcome: &CallOutcome, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string(outcome).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
    } else {
        for line in &outcome.log {
            eprintln!("[{:?} {}] {}", line.stream, line.level, sanitize_for_terminal(&line.text));
        }
        if outcome.log_dropped_bytes > 0 {
            eprintln!("[log cut: {} bytes dropped past the log limit]", outcome.log_dropped_bytes);
        }
        let s = &outcome.stats;
        eprintln!(
            "[{:.2} ms (instantiate {:.3} ms), fuel {}, peak memory {:.1} MiB, {} bytes out{}]",
            s.wall_us as f64 / 1e3,
            s.instantiate_us as f64 / 1e3,
            s.fuel_used,
            s.peak_memory_bytes as f64 / (1 << 20) as f64,
            s.bytes_out,
            if s.truncated { ", cut at the output limit" } else { "" }
        );
        match &outcome.result {
            Ok(Output::Json(text)) => match serde_json::from_str::<Value>(text) {
                Ok(v) => println!(
                    "{}",
                    serde_json::to_string_pretty(&v).unwrap_or_else(|_| text.clone())
                ),
                Err(_) => println!("{}", sanitize_for_terminal(text)),
            },
            Ok(Output::Text(text)) => println!("{}", sanitize_for_terminal(text)),
            Err(e) => eprintln!("error: {}", sanitize_for_terminal(&e.to_string())),
        }
    }
    if outcome.result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
