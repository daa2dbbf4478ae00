//! `wasm-host-bench serve`: `tools/call` latency (p50/p99) and throughput of the Rust, JS and
//! Python example tools served by wasm-host over MCP — streamable HTTP with many concurrent
//! clients, and stdio with one — each against the same logic as a native rmcp `#[tool]`
//! ([`crate::native_tools`]) measured in the same run on the same generated data.
//!
//! Before timing a case, one call to each side must return equal JSON, which shows both do the
//! same work.

use crate::calls::{self, Case, Dist};
use crate::engine::EngineArgs;
use crate::native_tools;
use anyhow::Context;
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;
use wasm_host_mcp::{HttpOptions, McpServer};
use wasm_host_policy::{DirGrant, Grants, Limits};
use wasm_host_runtime::{Catalog, Executor, LoadOptions};

/// Calls each client makes before timing starts.
const WARM_UP: usize = 3;

/// Options of `bench serve`.
#[derive(clap::Args, Debug)]
pub struct ServeBenchArgs {
    /// `tools/call` requests per measurement (over HTTP, split evenly over the clients).
    #[arg(long, default_value_t = 640)]
    pub calls: usize,
    /// Concurrent streamable HTTP clients (stdio always has one).
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Where the example components are (built there from guests/ if missing).
    #[arg(long, default_value = "target/guests")]
    pub guests: PathBuf,
    /// Data size: 1 = 5 log files of 50 lines, 100 JSON items, 100 CSV rows; N multiplies each.
    #[arg(long, default_value_t = 1)]
    pub scale: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

type Client = RunningService<RoleClient, ()>;

/// Latency and throughput of one server.
#[derive(serde::Serialize)]
struct Side {
    #[serde(flatten)]
    latency: Dist,
    throughput_per_s: f64,
}

/// wasm-host against native over one transport.
#[derive(serde::Serialize)]
struct Comparison {
    clients: usize,
    ours: Side,
    native: Side,
    /// Throughput of ours / native (higher is better).
    throughput_ratio: f64,
    /// p50 of ours − p50 of native, in µs.
    added_p50_us: f64,
}

impl Comparison {
    fn new(clients: usize, ours: Side, native: Side) -> Self {
        let throughput_ratio = ours.throughput_per_s / native.throughput_per_s;
        let added_p50_us = ours.latency.p50_us - native.latency.p50_us;
        Comparison { clients, ours, native, throughput_ratio, added_p50_us }
    }
}

#[derive(serde::Serialize)]
struct Row {
    language: &'static str,
    component: &'static str,
    tool: String,
    native_tool: &'static str,
    /// Ours and native returned equal JSON (checked over both transports before timing).
    results_agree: bool,
    http: Comparison,
    stdio: Comparison,
}

#[derive(serde::Serialize)]
struct Report {
    calls: usize,
    clients: usize,
    scale: usize,
    cases: Vec<Row>,
}

/// Runs the serve benchmark and prints the figures.
pub async fn run(global: &EngineArgs, args: &ServeBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.clients >= 1 && args.calls >= args.clients.max(2),
        "--clients must be at least 1 and --calls at least --clients (and 2)"
    );
    let data = tempfile::tempdir().context("temp dir")?;
    calls::write_data(data.path(), args.scale.max(1))?;
    let cases: Vec<Case> =
        calls::cases().into_iter().filter(|c| !c.language.ends_with("-floor")).collect();
    let wasm = cases
        .iter()
        .map(|c| calls::component(&args.guests, c))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let shutdown = CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();
    eprintln!("bench serve: loading {} components", wasm.len());
    let ours = serve_ours(global, &wasm, data.path(), shutdown.clone()).await?;
    let native = format!(
        "http://{}/mcp",
        native_tools::serve_http(data.path().to_path_buf(), shutdown.clone()).await?
    );
    let mut rows = Vec::new();
    for (case, wasm) in cases.iter().zip(&wasm) {
        eprintln!("bench serve: {} ({})", case.component, case.language);
        let tool = format!("{}.{}", case.component, case.tool);
        let http = http_case(case, &tool, &ours, &native, args).await?;
        let stdio = stdio_case(global, case, &tool, wasm, data.path(), args.calls).await?;
        rows.push(Row {
            language: case.language,
            component: case.component,
            tool,
            native_tool: case.tool,
            results_agree: true,
            http,
            stdio,
        });
    }
    let report =
        Report { calls: args.calls, clients: args.clients, scale: args.scale.max(1), cases: rows };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts wasm-host's MCP server in this process over `wasm` (compile cache as configured, the
/// data directory granted read-only as `/data`); returns its URL.
async fn serve_ours(
    global: &EngineArgs,
    wasm: &[PathBuf],
    data: &Path,
    shutdown: CancellationToken,
) -> anyhow::Result<String> {
    let runtime = global.runtime()?;
    let grants = Grants {
        dirs: vec![DirGrant { host: data.to_path_buf(), guest: "/data".into(), read_only: true }],
        ..Default::default()
    };
    let catalog = Arc::new(Catalog::new());
    for file in wasm {
        let opts =
            LoadOptions { grants: grants.clone(), limits: Limits::default(), ..Default::default() };
        catalog.insert(
            runtime
                .load_file(file, opts)
                .await
                .with_context(|| format!("loading {}", file.display()))?,
        );
    }
    let server = McpServer::builder(Executor::new(runtime, catalog)).build();
    let opts = HttpOptions {
        addr: ([127, 0, 0, 1], 0).into(),
        token: None,
        max_body: 4 << 20,
        allowed_hosts: Vec::new(),
        allowed_origins: Vec::new(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let ready = move |addr| {
            let _ = tx.send(addr);
        };
        if let Err(e) = wasm_host_mcp::serve_http(server, opts, shutdown, ready).await {
            eprintln!("bench serve: wasm-host HTTP server: {e:#}");
        }
    });
    let addr = rx.await.context("wasm-host's HTTP server did not start")?;
    Ok(format!("http://{addr}/mcp"))
}

/// `clients` concurrent HTTP clients against each server.
async fn http_case(
    case: &Case,
    tool: &str,
    ours: &str,
    native: &str,
    args: &ServeBenchArgs,
) -> anyhow::Result<Comparison> {
    let arguments = arguments(case)?;
    let (ours, native) =
        (connect_http(ours, args.clients).await?, connect_http(native, args.clients).await?);
    check_agree("HTTP", (&ours[0], tool), (&native[0], case.tool), &arguments).await?;
    let per_client = args.calls / args.clients;
    let ours = drive(ours, tool, &arguments, per_client)
        .await
        .with_context(|| format!("{tool} over HTTP"))?;
    let native = drive(native, case.tool, &arguments, per_client)
        .await
        .with_context(|| format!("native {} over HTTP", case.tool))?;
    Ok(Comparison::new(args.clients, ours, native))
}

/// One client over stdio to `wasm-host serve --stdio` and to `wasm-host-bench native-server`.
async fn stdio_case(
    global: &EngineArgs,
    case: &Case,
    tool: &str,
    wasm: &Path,
    data: &Path,
    calls: usize,
) -> anyhow::Result<Comparison> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut ours = tokio::process::Command::new(global.wasm_host()?);
    ours.args(global.child_flags())
        .arg("serve")
        .arg("--stdio")
        .arg(wasm)
        .arg("--dir")
        .arg(format!("{}::/data:ro", data.display()));
    let mut native = tokio::process::Command::new(&exe);
    native.arg("native-server").arg("--data").arg(data);
    let arguments = arguments(case)?;
    let (ours, native) = (
        connect_stdio(ours, "wasm-host serve --stdio").await?,
        connect_stdio(native, "wasm-host-bench native-server").await?,
    );
    check_agree("stdio", (&ours, tool), (&native, case.tool), &arguments).await?;
    let ours = drive(vec![ours], tool, &arguments, calls)
        .await
        .with_context(|| format!("{tool} over stdio"))?;
    let native = drive(vec![native], case.tool, &arguments, calls)
        .await
        .with_context(|| format!("native {} over stdio", case.tool))?;
    Ok(Comparison::new(1, ours, native))
}

fn arguments(case: &Case) -> anyhow::Result<JsonObject> {
    match &case.args {
        Value::Object(o) => Ok(o.clone()),
        other => anyhow::bail!("{}: arguments must be an object, not {other}", case.component),
    }
}

async fn connect_http(url: &str, n: usize) -> anyhow::Result<Vec<Client>> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let transport = StreamableHttpClientTransport::from_uri(url.to_string());
        clients.push(
            ().serve(transport).await.with_context(|| format!("MCP initialization at {url}"))?,
        );
    }
    Ok(clients)
}

/// Spawns `command` as an MCP server on stdio; its stderr is kept (16 KiB) for error messages.
async fn connect_stdio(command: tokio::process::Command, what: &str) -> anyhow::Result<Client> {
    let (transport, stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(mut stderr) = stderr {
        let log = log.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf).await {
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                if log.len() < 16 << 10 {
                    log.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
    }
    match ().serve(transport).await {
        Ok(client) => Ok(client),
        Err(e) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let log = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
            anyhow::bail!("{what}: MCP initialization failed: {e}\n{what} stderr:\n{log}")
        }
    }
}

fn params(tool: &str, arguments: &JsonObject) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_string()).with_arguments(arguments.clone())
}

/// One `tools/call`; the text of the result, or an error when the call or the tool failed.
async fn call(client: &Client, params: CallToolRequestParams) -> anyhow::Result<String> {
    let result = client.call_tool(params).await.context("tools/call")?;
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default();
    anyhow::ensure!(result.is_error != Some(true), "the tool failed: {text}");
    Ok(text)
}

/// Calls our tool and the native one once and fails unless their results are equal JSON.
async fn check_agree(
    transport: &str,
    ours: (&Client, &str),
    native: (&Client, &str),
    arguments: &JsonObject,
) -> anyhow::Result<()> {
    let a = call(ours.0, params(ours.1, arguments))
        .await
        .with_context(|| format!("{} over {transport}", ours.1))?;
    let b = call(native.0, params(native.1, arguments))
        .await
        .with_context(|| format!("native {} over {transport}", native.1))?;
    let x: Value =
        serde_json::from_str(&a).with_context(|| format!("{} returned no JSON: {a}", ours.1))?;
    let y: Value = serde_json::from_str(&b)
        .with_context(|| format!("native {} returned no JSON: {b}", native.1))?;
    anyhow::ensure!(
        x == y,
        "{} and the native {} disagree over {transport}, so they do not do the same work:\n  wasm-host: {a}\n  native:    {b}",
        ours.1,
        native.1
    );
    Ok(())
}

/// Each client warms up, then all make `per_client` sequential calls at once; per-call latency
/// and overall throughput. The clients are closed afterwards.
async fn drive(
    clients: Vec<Client>,
    tool: &str,
    arguments: &JsonObject,
    per_client: usize,
) -> anyhow::Result<Side> {
    let barrier = Arc::new(tokio::sync::Barrier::new(clients.len() + 1));
    let mut tasks = Vec::new();
    for client in clients {
        let (barrier, params) = (barrier.clone(), params(tool, arguments));
        tasks.push(tokio::spawn(async move {
            let mut warm = Ok(());
            for _ in 0..WARM_UP {
                warm = warm.and(call(&client, params.clone()).await.map(drop));
            }
            barrier.wait().await;
            let mut times = Vec::with_capacity(per_client);
            let mut failed = warm.err();
            for _ in 0..per_client {
                if failed.is_some() {
                    break;
                }
                let started = Instant::now();
                failed = call(&client, params.clone()).await.err();
                times.push(started.elapsed());
            }
            (client, times, failed)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut finished = Vec::new();
    for t in tasks {
        finished.push(t.await.context("a client task panicked")?);
    }
    let elapsed = started.elapsed();
    let mut all = Vec::new();
    let mut failure = None;
    for (client, times, failed) in finished {
        all.extend(times);
        failure = failure.or(failed);
        let _ = client.cancel().await;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let throughput_per_s = all.len() as f64 / elapsed.as_secs_f64();
    Ok(Side { latency: calls::dist(all), throughput_per_s })
}

fn print_table(r: &Report) {
    let per_client = r.calls / r.clients;
    println!(
        "wasm-host-bench serve: tools/call over MCP, HTTP {} clients × {per_client} calls, stdio 1 client × {} calls, data scale {}; latency p50 / p99",
        r.clients, r.calls, r.scale
    );
    println!(
        "{:<11} {:<9} {:>21} {:>21} {:>13} {:>15} {:>11} {:>13}",
        "language",
        "transport",
        "wasm-host µs",
        "native rmcp µs",
        "wasm-host/s",
        "native rmcp/s",
        "throughput",
        "added p50 µs"
    );
    for row in &r.cases {
        for (transport, c) in [("http", &row.http), ("stdio", &row.stdio)] {
            let pair = |s: &Side| format!("{:.0} / {:.0}", s.latency.p50_us, s.latency.p99_us);
            println!(
                "{:<11} {:<9} {:>21} {:>21} {:>13.0} {:>15.0} {:>10.2}x {:>13.0}",
                row.language,
                transport,
                pair(&c.ours),
                pair(&c.native),
                c.ours.throughput_per_s,
                c.native.throughput_per_s,
                c.throughput_ratio,
                c.added_p50_us
            );
        }
    }
    println!(
        "throughput = wasm-host calls/s / native calls/s (target for Rust: >= 0.8x); added p50 = wasm-host p50 - native p50 (target <= 100 µs)"
    );
    println!(
        "native = the same logic as an rmcp #[tool] in the same kind of server (in this process for HTTP, a child process for stdio); results checked equal first"
    );
}
