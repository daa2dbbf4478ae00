//! `wasm-host serve`: load components (files or directories of `.wasm`) and serve their tools
//! over MCP, on stdio (default) or streamable HTTP.

use crate::settings::{GlobalArgs, GrantArgs};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use wasm_host_mcp::{GateLimits, HttpOptions, McpServer};
use wasm_host_runtime::{Catalog, Executor, LoadOptions};

/// Options of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Component files, or directories whose `*.wasm` files are loaded.
    #[arg(required = true, value_name = "COMPONENT.wasm|DIR")]
    pub paths: Vec<PathBuf>,
    /// Serve on stdin/stdout (the default).
    #[arg(long, conflicts_with = "http")]
    pub stdio: bool,
    /// Serve streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", env = "WASM_HOST_HTTP")]
    pub http: Option<SocketAddr>,
    /// Bearer token required on HTTP (mandatory when ADDR is not loopback).
    #[arg(long, env = "WASM_HOST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub grants: GrantArgs,
}

/// Runs the server until the client disconnects (stdio) or Ctrl-C (HTTP).
pub async fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = global.runtime()?;
    let (grants, limits) = args.grants.resolve()?;
    let catalog = Arc::new(Catalog::new());
    for file in component_files(&args.paths)? {
        let opts = LoadOptions { grants: grants.clone(), limits: limits.clone(), ..Default::default() };
        let c = runtime.load_file(&file, opts).await.with_context(|| format!("loading {}", file.display()))?;
        anyhow::ensure!(catalog.get(&c.name).is_none(), "two components are named `{}` ({})", c.name, file.display());
        eprintln!("wasm-host: loaded {} {} ({} tools) from {}", c.name, c.manifest.as_ref().map(|m| m.version.to_string()).unwrap_or_default(), c.tools.len(), file.display());
        catalog.insert(c);
    }
    let tools = catalog.tools().len();
    let server = McpServer::new(Executor::new(runtime, catalog), GateLimits::default());
    match args.http {
        None => {
            eprintln!("wasm-host: serving {tools} tools over stdio");
            wasm_host_mcp::serve_stdio(server).await?;
        }
        Some(addr) => {
            let shutdown = CancellationToken::new();
            let on_signal = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.cancel();
            });
            let opts = HttpOptions { addr, token: args.token.clone(), max_body: 4 << 20 };
            let token_note = if args.token.is_some() { " (send Authorization: Bearer <token>)" } else { "" };
            wasm_host_mcp::serve_http(server, opts, shutdown, |bound| {
                eprintln!("wasm-host: serving {tools} tools at http://{bound}/mcp{token_note}");
                eprintln!("wasm-host: client config: {{\"mcpServers\":{{\"wasm-host\":{{\"type\":\"http\",\"url\":\"http://{bound}/mcp\"}}}}}}");
            })
            .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `.wasm` files named by `paths` (directories expanded, sorted).
fn component_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "wasm") && f.is_file())
                .collect();
            found.sort();
            anyhow::ensure!(!found.is_empty(), "{}: no .wasm files", p.display());
            files.extend(found);
        } else {
            anyhow::ensure!(Path::new(p).is_file(), "{}: no such component file", p.display());
            files.push(p.clone());
        }
    }
    Ok(files)
}
