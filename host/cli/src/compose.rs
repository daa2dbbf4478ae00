//! `wasm-host compose`: tool components and the MCP handler composed into ONE `wasi:http`
//! component (a one-file MCP server) that runs on `wasmtime serve`, Spin, wasmCloud or
//! `jco serve` without wasm-host.

use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasm_host_compose::{ServerParts, ToolComponent, compose, portable_tool};

/// The handler and log components `scripts/setup` builds into `target/guests/`.
const HANDLER: &str = "mcp-http.wasm";
const LOG: &str = "log-stderr.wasm";

/// `wasm-host compose TOOL.wasm... -o SERVER.wasm`, or `--portable TOOL.wasm -o OUT.wasm`.
#[derive(clap::Args, Debug)]
pub struct ComposeArgs {
    /// Tool components (.wasm), 1 to 16; tools are named `<component>.<tool>` as in `serve`.
    #[arg(required = true)]
    pub tools: Vec<PathBuf>,
    /// Output file: the one-file server component.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The server's name in `serverInfo` (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// The server's version in `serverInfo`.
    #[arg(long, default_value = "0.1.0")]
    pub version: String,
    /// The MCP handler component (default: mcp-http.wasm beside the binary or in ../guests/).
    #[arg(long, value_name = "FILE")]
    pub handler: Option<PathBuf>,
    /// The stderr log component (default: log-stderr.wasm beside the binary or in ../guests/).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Instead of a server: compose ONE tool with the stderr log component, so that it imports
    /// nothing only wasm-host provides (for wassette, `jco transpile` or any component host).
    #[arg(long)]
    pub portable: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `compose`: reads the tools and parts, composes, writes (temp file, fsync, rename).
pub fn run(args: &ComposeArgs) -> anyhow::Result<ExitCode> {
    let mut tools = Vec::new();
    for path in &args.tools {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let info = wasm_host_meta::inspect(&bytes)
            .with_context(|| format!("{} is not a component wasm-host can read", path.display()))?;
        let name = info.manifest.map(|m| m.name).with_context(|| {
            format!("{}: no wasm-host manifest (build it with `wasm-host build`)", path.display())
        })?;
        tools.push(ToolComponent { name, bytes });
    }
    if args.portable {
        return portable(args, &tools);
    }
    let parts = ServerParts { handler: part(&args.handler, HANDLER)?, log: part(&args.log, LOG)? };
    let name = args.name.clone().unwrap_or_else(|| {
        args.output.file_stem().map_or("wasm-host-server".into(), |s| s.to_string_lossy().into())
    });
    let composed = compose(&tools, &parts, &name, &args.version)
        .with_context(|| format!("composing {}", args.output.display()))?;
    crate::skill::write_atomic(&args.output, &composed.bytes)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let components: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    if args.json {
        let out = json!({
            "output": args.output, "size": composed.bytes.len(), "components": components,
            "export": composed.export, "imports": composed.imports,
        });
        println!("{out}");
    } else {
        println!(
            "composed {} into {} ({:.1} MB, exports {}; imports {} WASI interfaces from its host)",
            components.join(", "),
            args.output.display(),
            composed.bytes.len() as f64 / 1e6,
            composed.export,
            composed.imports.len(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `compose --portable`: one tool with the log component composed in.
fn portable(args: &ComposeArgs, tools: &[ToolComponent]) -> anyhow::Result<ExitCode> {
    let [tool] = tools else {
        anyhow::bail!("--portable takes one tool component; {} given", tools.len());
    };
    let composed = portable_tool(tool, &part(&args.log, LOG)?)
        .with_context(|| format!("composing {}", args.output.display()))?;
    crate::skill::write_atomic(&args.output, &composed.bytes)
        .with_context(|| format!("writing {}", args.output.display()))?;
    if args.json {
        let out = json!({
            "output": args.output, "size": composed.bytes.len(), "components": [tool.name],
            "export": composed.export, "imports": composed.imports,
        });
        println!("{out}");
    } else {
        let what = if composed.bytes == tool.bytes {
            "does not log, so it is portable as it is"
        } else {
            "with its log on stderr"
        };
        println!(
            "{} {what} -> {} ({:.1} MB; imports: {})",
            tool.name,
            args.output.display(),
            composed.bytes.len() as f64 / 1e6,
            composed.imports.join(", "),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The bytes of a prebuilt part: the configured file, or `default` beside the binary.
fn part(configured: &Option<PathBuf>, default: &str) -> anyhow::Result<Vec<u8>> {
    let path: PathBuf = match configured {
        Some(p) => p.clone(),
        None => crate::code::beside_binary(default).with_context(|| {
            format!("{default} not found beside wasm-host or in ../guests/ (scripts/setup builds it; or pass its path)")
        })?,
    };
    read(&path)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
