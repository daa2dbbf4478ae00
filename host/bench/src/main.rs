//! `wasm-host-bench`: every benchmark of wasm-host and the native baselines it is compared with.
//! Kept out of the shipped `wasm-host` binary so users never install the benchmarks'
//! dependencies (tiktoken, axum, rmcp's client, the native tools).
//!
//! Without a subcommand it measures load, instantiate and call times of the example tools
//! against process baselines; each subcommand is one more benchmark. Every figure is printed
//! next to a baseline measured in the same run. Logs go to stderr; figures to stdout.

mod calls;
mod edge;
mod engine;
mod fastmcp_tokens;
mod native_tools;
mod pii;
mod registry;
mod reuse;
mod search;
mod serve;
mod soak;
mod tokens;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Benchmarks of wasm-host, each against a baseline measured in the same run.
#[derive(Parser)]
#[command(name = "wasm-host-bench", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    engine: engine::EngineArgs,
    #[command(flatten)]
    calls: calls::BenchArgs,
    #[command(subcommand)]
    mode: Option<Mode>,
}

/// The benchmarks besides the default one.
#[derive(Subcommand)]
enum Mode {
    /// tools/call latency and throughput over MCP (streamable HTTP and stdio) against native rmcp tools.
    Serve(serve::ServeBenchArgs),
    /// search_tools ranking over many synthetic tools against a substring scan.
    Search(search::SearchBenchArgs),
    /// Tokens entering the model's context, direct mode vs code mode, for four scenarios.
    Tokens(tokens::TokenBenchArgs),
    /// Opening the registry index and resolving a range over 10,000 packages, against JSON.
    Registry(registry::RegistryBenchArgs),
    /// Many concurrent clients, some hostile, against one `wasm-host serve`: latency, RSS, fds, disk.
    Soak(soak::SoakArgs),
    /// The runtime-only host against the full one: stripped size, cold start to the first
    /// answered tools/call with three precompiled components, RSS.
    Edge(edge::EdgeArgs),
    /// The PII scanner: precision and recall per kind on a labelled corpus, MB/s on a 1 MB result.
    Pii(pii::PiiArgs),
    /// Serve native rmcp versions of the example tools over stdio (the `serve` baseline).
    #[command(hide = true)]
    NativeServer(native_tools::NativeServerArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WASM_HOST_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = cli.engine;
    let result = runtime.block_on(async move {
        match cli.mode {
            None => calls::run(&engine, &cli.calls).await,
            Some(Mode::Serve(args)) => serve::run(&engine, &args).await,
            Some(Mode::Search(args)) => search::run(&args),
            Some(Mode::Tokens(args)) => tokens::run(&engine, &args).await,
            Some(Mode::Registry(args)) => registry::run(&args),
            Some(Mode::Edge(args)) => edge::run(&engine, &args),
            Some(Mode::Soak(args)) => soak::run(&engine, &args).await,
            Some(Mode::Pii(args)) => pii::run(&args),
            Some(Mode::NativeServer(args)) => native_tools::run(&args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
