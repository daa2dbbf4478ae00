//! `wasm-host serve`: load components (files, directories of `.wasm`, and the components of a
//! `wasm-host.toml`) and serve their tools over MCP, on stdio (default) or streamable HTTP.
//! Directories are watched: components added, replaced or removed there are hot-reloaded.
//!
//! With a `wasm-host.lock` beside the config, every component served (`[components]`, files and
//! watched directories) must be in it with the same digest, checked before any of its code runs.
//!
//! Settings are resolved first, in one step ([`crate::serve_settings`]); this module only loads
//! and serves.

use crate::code::{CodeArgs, RunnerLoad, code_mode, code_runner, with_home_runners};
use crate::serve_settings::{Listen, ServeSettings};
use crate::settings::{GlobalArgs, SandboxArgs};
use crate::skill::HomeSkillStore;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use wasm_host_code::SavePolicy;
use wasm_host_mcp::SkillSaving;
use wasm_host_mcp::{HttpOptions, McpServer, Mode, ReloadEvent, Reloader, WatchedDir};
use wasm_host_runtime::{Catalog, Executor, LoadOptions, Runtime};

/// Options of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Component files, or directories whose `*.wasm` files are served and hot-reloaded.
    #[arg(value_name = "COMPONENT.wasm|DIR")]
    pub paths: Vec<PathBuf>,
    /// Configuration file (see examples/wasm-host.toml).
    #[arg(long, env = "WASM_HOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve on stdin/stdout (the default).
    #[arg(long, conflicts_with = "http")]
    pub stdio: bool,
    /// Serve streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", env = "WASM_HOST_HTTP")]
    pub http: Option<SocketAddr>,
    /// Bearer token required on HTTP (mandatory when ADDR is not loopback; never empty).
    #[arg(long, env = "WASM_HOST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A Host header value remote clients may use (the name or address they reach this server
    /// by, e.g. mcp.example.com); repeatable. Loopback names are always allowed.
    #[arg(
        long = "allowed-host",
        env = "WASM_HOST_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub allowed_hosts: Vec<String>,
    /// A browser Origin allowed besides local ones (e.g. https://mcp.example.com); repeatable.
    #[arg(
        long = "allowed-origin",
        env = "WASM_HOST_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub allowed_origins: Vec<String>,
    /// Which tools are listed: direct (component tools), code (only meta-tools such as
    /// search_tools) or both (default; code above 30 tools).
    #[arg(long, env = "WASM_HOST_MODE", value_name = "direct|code|both", value_parser = |s: &str| s.parse::<Mode>())]
    pub mode: Option<Mode>,
    /// Do not watch directories for added, replaced or removed components.
    #[arg(long)]
    pub no_watch: bool,
    /// On hot reload, accept changed bytes under an unchanged version (development only; by
    /// default they are refused as a possible rug pull).
    #[arg(long)]
    pub reload_same_version: bool,
    /// Root of the per-session code-mode workspaces (default: HOME/workspaces, see --home).
    #[arg(long, env = "WASM_HOST_WORKSPACES", value_name = "DIR")]
    pub workspaces: Option<PathBuf>,
    /// No /workspace for programs, and no checkpoint / restore.
    #[arg(long, conflicts_with = "workspaces")]
    pub no_workspaces: bool,
    /// Replace personal data and secrets in what leaves for the model (results, program output,
    /// log lines, errors) by tokens such as [EMAIL_1_k3x9q2mf]; a token sent back in arguments
    /// is replaced by its value before the tool runs. Kinds and allow-lists: `[privacy]`.
    #[arg(long, env = "WASM_HOST_PII")]
    pub pii: bool,
    /// Write one JSON line per call to FILE (tool, component@version, grants, outcome, fuel,
    /// memory, time, sizes and sha256 of arguments and result, PII counts; never the arguments
    /// or results themselves), rotated at 10 MiB (5 kept; `[audit]` changes both).
    #[arg(long, env = "WASM_HOST_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// List `request_access`: the agent may ask for a directory, host or env variable for a
    /// while; it is granted only when a human approves (MCP elicitation) or `[access]
    /// auto_approve` lists it, and refused when the client cannot ask anyone.
    #[arg(long, env = "WASM_HOST_GRANT_REQUESTS")]
    pub grant_requests: bool,
    /// Ask the operator on this server's terminal (/dev/tty) first when `request_access` is
    /// called (implies --grant-requests): `y` grants, anything else refuses, no answer in 5
    /// minutes refuses. For `serve --http` run at a terminal; without one, the client is asked.
    #[arg(long, env = "WASM_HOST_GRANT_TERMINAL")]
    pub grant_terminal: bool,
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Runs the server until the client disconnects (stdio) or Ctrl-C (HTTP).
pub async fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = ServeSettings::resolve(global, args)?;
    let global = &settings.global;
    let runtime = global.runtime()?;
    let catalog = Arc::new(Catalog::new());
    let executor = Executor::new(runtime.clone(), catalog.clone());
    let code_settings = with_home_runners(global, settings.code.clone());
    // The runners load on first use, warmed in the background once the components are loaded:
    // the first `tools/list` waits for no runner compile.
    let load = RunnerLoad::OnFirstUse;
    let runner =
        code_runner(&runtime, executor.clone(), &code_settings, settings.code_limits.clone(), load)
            .await?;
    let warm = runner.clone();
    let languages: Vec<&str> = runner.languages().into_iter().map(|l| l.name()).collect();
    let policy = settings.code.save_skills;
    let saving = (policy != SavePolicy::Off)
        .then(|| SkillSaving { store: Arc::new(HomeSkillStore::new(global)), policy });
    let code =
        code_mode(runner, settings.workspaces.as_deref(), settings.code.workspace.clone(), saving)?;
    match &settings.workspaces {
        Some(r) => eprintln!(
            "wasm-host: execute_code languages: {languages:?}; workspaces under {}",
            r.display()
        ),
        None => eprintln!("wasm-host: execute_code languages: {languages:?}; no workspaces"),
    }
    let server = McpServer::builder(executor)
        .gate(settings.gate)
        .mode(settings.mode)
        .code(code)
        .privacy(settings.privacy)
        .access(settings.access);
    let server = match settings.audit {
        Some(config) => {
            let path = config.path.display().to_string();
            server.audit(config).with_context(|| format!("opening the audit log {path}"))?
        }
        None => server,
    }
    .build();
    // Loaded concurrently (precompiled artifacts map in parallel), added in the given order.
    let loads: Vec<_> = settings
        .components
        .into_iter()
        .map(|c| {
            let opts = LoadOptions {
                name: c.name,
                grants: c.grants,
                limits: c.limits,
                expect_sha256: c.expect_sha256,
                ..Default::default()
            };
            let (global, runtime, source) = (global.clone(), runtime.clone(), c.source.clone());
            let load = async move { crate::registry::load(&global, &runtime, &source, opts).await };
            (c.source.clone(), tokio::spawn(load))
        })
        .collect();
    for (source, load) in loads {
        add_loaded(&catalog, &source, load.await??)?;
    }
    if policy != SavePolicy::Off {
        load_saved_skills(global, &runtime, &catalog).await;
    }
    if settings.mode != Some(Mode::Direct) {
        warm.warm_up();
    }
    let _watching = start_reloader(
        &runtime,
        &server,
        settings.watched,
        settings.watch,
        settings.reload_same_version,
    )
    .await?;
    server.refresh().await;
    let tools = catalog.tools().len();
    match settings.listen {
        Listen::Stdio => {
            eprintln!("wasm-host: serving {tools} tools over stdio");
            wasm_host_mcp::serve_stdio(server).await?;
        }
        Listen::Http(opts) => serve_http(server, opts, tools).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn load_one(
    global: &GlobalArgs,
    runtime: &Arc<Runtime>,
    catalog: &Catalog,
    spec: &std::path::Path,
    opts: LoadOptions,
) -> anyhow::Result<String> {
    let c = crate::registry::load(global, runtime, spec, opts).await?;
    add_loaded(catalog, spec, c)
}

/// Adds a loaded component to the catalog (refusing a second one of the same name) and says so.
fn add_loaded(
    catalog: &Catalog,
    spec: &std::path::Path,
    c: Arc<wasm_host_runtime::LoadedComponent>,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        catalog.get(&c.name).is_none(),
        "two components are named `{}` ({})",
        c.name,
        spec.display()
    );
    let version = c.manifest.as_ref().map(|m| m.version.to_string()).unwrap_or_default();
    let what = match &c.skill {
        Some(skill) => format!("skill, {} files", skill.files().len()),
        None => format!("{} tools", c.tools.len()),
    };
    eprintln!("wasm-host: loaded {} {version} ({what}) from {}", c.name, spec.display());
    let sha256 = c.sha256.clone();
    catalog.insert(c);
    Ok(sha256)
}

/// Serves the newest version of each skill saved in HOME (`save_skill`, `skill save`) that is
/// not served already; one that fails to load is reported and skipped.
async fn load_saved_skills(global: &GlobalArgs, runtime: &Arc<Runtime>, catalog: &Catalog) {
    let specs = match crate::skill::stored_skills(global, &[]) {
        Ok(s) => s,
        Err(e) => {
            return tracing::warn!(error = %format!("{e:#}"), "cannot list the skills in HOME");
        }
    };
    for spec in specs {
        let name = spec.split('@').next().unwrap_or_default();
        if catalog.get(name).is_some() {
            continue;
        }
        let path = std::path::Path::new(&spec);
        if let Err(e) = load_one(global, runtime, catalog, path, LoadOptions::default()).await {
            eprintln!("wasm-host: saved skill {spec} not served: {e:#}");
        }
    }
}

/// Loads the watched directories' components (any failure stops the start) and, unless
/// `--no-watch`, keeps watching them.
async fn start_reloader(
    runtime: &Arc<Runtime>,
    server: &McpServer,
    dirs: Vec<WatchedDir>,
    watch: bool,
    reload_same_version: bool,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if dirs.is_empty() {
        return Ok(None);
    }
    for d in &dirs {
        anyhow::ensure!(d.dir.is_dir(), "{}: no such directory", d.dir.display());
    }
    let reloader = Reloader::new(runtime.clone(), server.clone(), dirs, reload_same_version);
    for e in reloader.scan().await {
        match e {
            ReloadEvent::Added { name, file } => {
                eprintln!("wasm-host: loaded {name} from {}", file.display())
            }
            ReloadEvent::Failed { file, error } => {
                anyhow::bail!("loading {}: {error}", file.display())
            }
            ReloadEvent::Refused { file, reason, .. } => {
                anyhow::bail!("loading {}: {reason}", file.display())
            }
            other => anyhow::bail!("unexpected first scan result: {other:?}"),
        }
    }
    if !watch {
        return Ok(None);
    }
    Ok(Some(reloader.watch().context("watching component directories")?))
}

async fn serve_http(server: McpServer, opts: HttpOptions, tools: usize) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    let token_note =
        if opts.token.is_some() { " (send Authorization: Bearer <token>)" } else { "" };
    wasm_host_mcp::serve_http(server, opts, shutdown, |bound| {
        eprintln!("wasm-host: serving {tools} tools at http://{bound}/mcp{token_note}");
        eprintln!("wasm-host: client config: {{\"mcpServers\":{{\"wasm-host\":{{\"type\":\"http\",\"url\":\"http://{bound}/mcp\"}}}}}}");
    })
    .await
}
