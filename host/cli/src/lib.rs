//! `wasm-host`: build, inspect, call and run WASI components; run code-mode programs; serve
//! them over MCP; publish them to a registry. (The benchmarks are `wasm-host-bench`, a separate
//! binary in `host/bench`.)
//!
//! Thin by design: parse arguments (CLI > `WASM_HOST_*` env > defaults) into typed settings once,
//! call the library crates, print. Logs go to stderr; only results go to stdout.
//!
//! Two binaries share this library: `wasm-host` (every feature) and `wasm-host-edge`, the
//! runtime-only host (no `compiler`, `builders` or `oci` feature), which loads only precompiled
//! artifacts (`wasm-host compile`) and bundles.

mod artifacts;
#[cfg(feature = "builders")]
mod author;
mod code;
mod commands;
#[cfg(feature = "compiler")]
mod compile;
#[cfg(feature = "compose")]
mod compose;
mod config;
mod distribute;
mod keys;
mod lockfile;
mod registry;
mod serve;
mod serve_settings;
mod settings;
mod skill;

use clap::{Parser, Subcommand};
use settings::{GlobalArgs, SandboxArgs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Runs MCP tools and programs as sandboxed WASI components.
#[derive(Parser)]
#[command(name = "wasm-host", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[cfg(feature = "builders")]
    /// Build a Rust (Cargo.toml), JS (package.json) or Python (app.py) guest into a component.
    Build {
        /// The guest project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output file (default: DIR/dist/NAME.wasm).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    #[cfg(feature = "builders")]
    /// Create a tool or program project in Rust, JavaScript, TypeScript or Python, anywhere.
    New(author::NewArgs),
    #[cfg(feature = "builders")]
    /// Install the pinned guest toolchains into wasm-host's toolchain directory.
    #[command(subcommand)]
    Toolchain(author::ToolchainCommand),
    #[cfg(feature = "builders")]
    /// Show which toolchains and versions a build would use, and what is missing.
    Doctor {
        /// The project whose own toolchains count first.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    #[cfg(feature = "builders")]
    /// Build a project, serve it, and rebuild and hot-reload it on every change.
    Dev(author::DevArgs),
    /// Compile a component ahead of time for this host or another target (`.cwasm`), for hosts
    /// with no compiler (`wasm-host-edge`) or a faster cold start.
    #[cfg(feature = "compiler")]
    Compile(compile::CompileArgs),
    /// Compose tool components with the MCP handler into one `wasi:http` component (a one-file
    /// MCP server for `wasmtime serve`, Spin, wasmCloud or `jco serve`).
    #[cfg(feature = "compose")]
    Compose(compose::ComposeArgs),
    /// Show a component's manifest, WIT imports/exports with versions, and tools with schemas.
    Inspect {
        /// The component.
        file: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Call one tool of a tool component.
    Call {
        /// The component.
        file: PathBuf,
        /// The tool's name.
        tool: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
        #[command(flatten)]
        sandbox: SandboxArgs,
        /// Print the outcome (result, log, figures) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a program component, with tool components its `tools.call` can reach.
    Run {
        /// The program component.
        file: PathBuf,
        /// Input as JSON.
        #[arg(default_value = "{}")]
        input: String,
        /// Tool components to load into the catalog (repeatable).
        #[arg(long = "with", value_name = "TOOL.wasm")]
        with: Vec<PathBuf>,
        #[command(flatten)]
        sandbox: SandboxArgs,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a JavaScript or Python program whose tools are functions (code mode, from the CLI).
    Exec(code::ExecArgs),
    /// Serve the tools of components over MCP (stdio by default, or streamable HTTP).
    Serve(serve::ServeArgs),
    /// Skills with scripts: save working code as one, run one, check all, approve a saved one.
    #[command(subcommand)]
    Skill(skill::SkillCommand),
    #[command(flatten)]
    Registry(registry::RegistryCommand),
    /// Write wasm-host.lock beside a config: name, version and sha256 of each of its components.
    Lock {
        /// The configuration file.
        #[arg(long, env = "WASM_HOST_CONFIG", value_name = "FILE")]
        config: PathBuf,
    },
    /// Internal: compile the component on stdin for the parent host (see `compile_in_child`).
    #[cfg(feature = "compiler")]
    #[command(name = settings::COMPILE_WORKER, hide = true)]
    CompileWorker {
        /// The component's sha256 (the artifact's name in the cache).
        sha256: String,
        /// The parent's engine settings, as JSON.
        settings: String,
    },
}

/// Parses the command line, runs the command, and returns the process exit code (errors are
/// printed to stderr).
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WASM_HOST_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    #[cfg(feature = "compiler")]
    if let Command::CompileWorker { sha256, settings } = &cli.command {
        return compile_worker(sha256, settings);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            #[cfg(feature = "builders")]
            Command::Build { dir, output, json } => {
                commands::build(&author::build_env(&cli.global), &dir, output.as_deref(), json)
            }
            #[cfg(feature = "builders")]
            Command::New(args) => author::new(&cli.global, &args),
            #[cfg(feature = "builders")]
            Command::Toolchain(command) => author::toolchain(&cli.global, &command),
            #[cfg(feature = "builders")]
            Command::Doctor { dir, json } => author::doctor(&cli.global, &dir, json),
            #[cfg(feature = "builders")]
            Command::Dev(args) => author::dev(&cli.global, args).await,
            #[cfg(feature = "compiler")]
            Command::Compile(args) => compile::run(&cli.global, &args).await,
            #[cfg(feature = "compose")]
            Command::Compose(args) => compose::run(&args),
            Command::Inspect { file, json } => commands::inspect(&cli.global, &file, json).await,
            Command::Call { file, tool, args, sandbox, json } => {
                commands::call(&cli.global, &file, &tool, &args, &sandbox, json).await
            }
            Command::Run { file, input, with, sandbox, json } => {
                commands::run(&cli.global, &file, &input, &with, &sandbox, json).await
            }
            Command::Exec(args) => code::exec(&cli.global, &args).await,
            Command::Serve(args) => serve::run(&cli.global, &args).await,
            Command::Skill(command) => skill::run(&cli.global, &command).await,
            Command::Registry(command) => registry::run(&cli.global, &command).await,
            #[cfg(feature = "compiler")]
            Command::CompileWorker { .. } => unreachable!("handled before the async runtime"),
            Command::Lock { config } => {
                config::load(&config).map_err(anyhow::Error::from).and_then(|file| {
                    lockfile::write(
                        &cli.global.requiring_signatures(file.require_signatures),
                        &config,
                        &file,
                    )
                })
            }
        }
    });
    // Calls on threads of their own outlive their tasks by up to a tick; stop them while the
    // runtime's timers still exist, and do not wait on a thread blocked in the kernel for ever.
    let left = runtime.block_on(wasm_host_runtime::stop_own_threads(EXIT_GRACE));
    if left > 0 {
        tracing::warn!(calls = left, "exiting with calls still blocked on their own threads");
    }
    runtime.shutdown_timeout(EXIT_GRACE);
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How long an exiting process waits for calls still running (then for the runtime's threads).
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// The compile child: no async runtime, stdin in, artifact out (`wasm_host_runtime::run_compile_worker`).
#[cfg(feature = "compiler")]
fn compile_worker(sha256: &str, settings: &str) -> ExitCode {
    let (stdin, stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    match wasm_host_runtime::run_compile_worker(sha256, settings, stdin, stdout) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
