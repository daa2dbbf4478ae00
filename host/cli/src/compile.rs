//! `wasm-host compile`: a component compiled ahead of time into a `.cwasm` artifact, for this
//! host or another target, loadable by `wasm-host-edge` (no compiler) and by any `wasm-host`.

use crate::settings::GlobalArgs;
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use wasm_host_runtime::aot::{ArtifactInfo, HOST_TARGET, compile_artifact};
use wasm_host_runtime::{ComponentKind, LoadOptions, RuntimeConfig};

/// `wasm-host compile FILE [--target TRIPLE] [-o OUT]`.
#[derive(clap::Args, Debug)]
pub struct CompileArgs {
    /// The component (.wasm).
    pub file: PathBuf,
    /// Target triple, e.g. `aarch64-unknown-linux-gnu` (default: this host, using this CPU's
    /// features; naming a target uses that architecture's baseline, so the artifact runs on any
    /// CPU of it).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Output file (default: FILE with the extension `.cwasm`, or `.TRIPLE.cwasm` with --target).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `compile`: reads, compiles, writes (temp file, fsync, rename).
pub async fn run(global: &GlobalArgs, args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let started = Instant::now();
    let (artifact, info) = artifact(global, &bytes, args.target.as_deref())
        .await
        .with_context(|| format!("compiling {}", args.file.display()))?;
    let elapsed = started.elapsed();
    let output = args.output.clone().unwrap_or_else(|| match &args.target {
        Some(t) => args.file.with_extension(format!("{t}.cwasm")),
        None => args.file.with_extension("cwasm"),
    });
    crate::skill::write_atomic(&output, &artifact)
        .with_context(|| format!("writing {}", output.display()))?;
    let name =
        info.manifest.as_ref().map_or_else(String::new, |m| format!("{}@{} ", m.name, m.version));
    if args.json {
        let out = json!({
            "output": output, "target": info.target, "wasmtime": info.wasmtime,
            "sha256": info.sha256, "size": artifact.len(), "elapsed_ms": elapsed.as_millis(),
            "host_target": HOST_TARGET,
        });
        println!("{out}");
    } else {
        println!(
            "compiled {name}for {} (wasmtime {}) in {:.1} s: {:.1} MB -> {}",
            info.target,
            info.wasmtime,
            elapsed.as_secs_f64(),
            artifact.len() as f64 / 1e6,
            output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Compiles a component's bytes into an artifact for `target` (default: this host), with its tool
/// list in the trailer. The component is loaded here once (from the compile cache when it is
/// there) for that list; for this host, the code it compiled is the artifact.
pub async fn artifact(
    global: &GlobalArgs,
    bytes: &[u8],
    target: Option<&str>,
) -> anyhow::Result<(Vec<u8>, ArtifactInfo)> {
    let config = RuntimeConfig { pooling: !global.no_pooling, ..RuntimeConfig::default() };
    let runtime = global.runtime()?;
    let loaded = runtime
        .load_bytes(bytes, LoadOptions { inspect_only: true, ..LoadOptions::default() })
        .await
        .context("loading it")?;
    let tools = (loaded.kind == ComponentKind::Tool).then(|| loaded.tools.clone());
    let host_code = runtime.compiled_code(&loaded.sha256);
    Ok(compile_artifact(bytes, target, &config, tools, host_code)?)
}
