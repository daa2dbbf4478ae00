//! `wasm-host-bench tokens`: the tokens that enter a model's context for four scenarios from the
//! seed documents, direct mode versus code mode, on generated data, with the real tool
//! definitions and the real outputs of our tools (served by two in-process servers over HTTP),
//! counted with cl100k (tiktoken-rs, offline).
//!
//! Definitions are counted as a client forwards them to a model (name, description, input
//! schema). Direct mode counts every component tool definition, every tool call the model makes (name and
//! arguments), every result, and the final answer. Code mode counts the meta-tool definitions, one
//! `search_tools` call and result, the stubs read, the `execute_code` call (the program) and its
//! result, and the same final answer. Both modes do the same work with the same tool calls; in
//! code mode the calls happen inside the sandbox.

use crate::engine::EngineArgs;
use crate::engine::beside_binary;
use anyhow::Context;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use wasm_host_code::{CodeRunner, Language, SavePolicy, WorkspaceLimits, Workspaces};
use wasm_host_mcp::{CodeMode, SkillSaving};
use wasm_host_mcp::{HttpOptions, McpServer, Mode};
use wasm_host_policy::{DirGrant, Grants, Limits};
use wasm_host_runtime::{Catalog, Executor, LoadOptions};

/// Options of `bench tokens`.
#[derive(clap::Args, Debug)]
pub struct TokenBenchArgs {
    /// Tool components (default: grep, csv and json-query beside the binary or in ../guests/).
    #[arg(long = "component", value_name = "FILE")]
    pub components: Vec<PathBuf>,
    /// Files in scenario 1.
    #[arg(long, default_value_t = 50_000)]
    pub files: usize,
    /// The JavaScript runner component (default: runner-js.wasm beside the binary or in ../guests/).
    #[arg(long, value_name = "FILE")]
    pub javascript_runner: Option<PathBuf>,
    /// The Python runner component (default: runner-python.wasm beside the binary or in ../guests/).
    #[arg(long, value_name = "FILE")]
    pub python_runner: Option<PathBuf>,
    /// Also count the scenarios through FastMCP 4.1.6 CodeMode, run by this Python (one with
    /// `fastmcp[code-mode]==4.1.6`, e.g. .venv-fastmcp/bin/python from scripts/bench-code-mode).
    #[arg(long, value_name = "PYTHON")]
    pub fastmcp: Option<PathBuf>,
    /// FastMCP's server for `--fastmcp`.
    #[arg(long, value_name = "FILE", default_value = "scripts/fastmcp_tokens_server.py")]
    pub fastmcp_server: PathBuf,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Tokens per part of one mode's context.
#[derive(Default, serde::Serialize)]
pub(crate) struct Tally {
    pub(crate) definitions: usize,
    pub(crate) calls: usize,
    pub(crate) results: usize,
    answer: usize,
}

impl Tally {
    pub(crate) fn total(&self) -> usize {
        self.definitions + self.calls + self.results + self.answer
    }
}

/// One scenario's outcome.
#[derive(serde::Serialize)]
pub(crate) struct Scenario {
    name: &'static str,
    direct: Tally,
    pub(crate) code: Tally,
    /// The same through FastMCP CodeMode (with `--fastmcp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    fastmcp: Option<Tally>,
    reduction_pct: f64,
}

pub(crate) type Client = RunningService<RoleClient, ()>;

/// Counts tokens with cl100k.
pub(crate) struct Counter(tiktoken_rs::CoreBPE);

impl Counter {
    fn count(&self, text: &str) -> usize {
        self.0.encode_with_special_tokens(text).len()
    }
}

/// A model session against one server: calls tools and tallies what enters the context.
pub(crate) struct Session<'a> {
    client: &'a Client,
    counter: &'a Counter,
    tally: Tally,
}

impl<'a> Session<'a> {
    pub(crate) async fn new(client: &'a Client, counter: &'a Counter) -> anyhow::Result<Self> {
        // What a client forwards to the model for each tool: name, description, input schema.
        let tools: Vec<Value> = client
            .list_all_tools()
            .await
            .context("tools/list")?
            .into_iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
            .collect();
        let definitions = counter.count(&serde_json::to_string(&tools)?);
        Ok(Session { client, counter, tally: Tally { definitions, ..Tally::default() } })
    }

    /// Calls `tool`; the call and its result enter the context. Returns the result text.
    pub(crate) async fn call(&mut self, tool: &str, args: Value) -> anyhow::Result<String> {
        self.tally.calls +=
            self.counter.count(&json!({"name": tool, "arguments": args}).to_string());
        let Value::Object(map) = args else { anyhow::bail!("arguments must be an object") };
        let r = self
            .client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
            .await
            .with_context(|| format!("calling {tool}"))?;
        let text: String =
            r.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
        anyhow::ensure!(r.is_error != Some(true), "{tool} failed: {text}");
        self.tally.results += self.counter.count(&text);
        Ok(text)
    }

    /// Reads a stub resource into the context.
    async fn read(&mut self, uri: &str) -> anyhow::Result<()> {
        let r = self
            .client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .with_context(|| format!("reading {uri}"))?;
        self.tally.results += self
            .counter
            .count(serde_json::to_value(&r)?["contents"][0]["text"].as_str().unwrap_or_default());
        Ok(())
    }

    /// Runs a program; returns the JSON on its `result:` line.
    pub(crate) async fn program(&mut self, language: &str, code: &str) -> anyhow::Result<Value> {
        let text = self.call("execute_code", json!({"language": language, "code": code})).await?;
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("result: "))
            .with_context(|| format!("no result in {text}"))?;
        Ok(serde_json::from_str(line)?)
    }

    /// Tokens of calls and results so far.
    pub(crate) fn tally_calls_and_results(&self) -> usize {
        self.tally.calls + self.tally.results
    }

    pub(crate) fn answer(mut self, text: &str) -> Tally {
        self.tally.answer = self.counter.count(text);
        self.tally
    }
}

/// Runs the benchmark.
pub async fn run(global: &EngineArgs, args: &TokenBenchArgs) -> anyhow::Result<ExitCode> {
    let data = tempfile::tempdir()?;
    eprintln!(
        "bench tokens: generating data ({} files, a 2-hour transcript, a 10,000-row CSV, 15 record files)",
        args.files
    );
    let truth = generate(data.path(), args.files)?;
    let counter = Counter(tiktoken_rs::cl100k_base().context("loading cl100k_base")?);
    let (direct_url, code_url, saving_url, workspaces, _home) =
        start_servers(global, args, data.path()).await?;
    let connect = |url: String| async move {
        ().serve(StreamableHttpClientTransport::from_uri(url)).await.context("connecting")
    };
    let (direct, code) = (connect(direct_url).await?, connect(code_url).await?);
    let saving = connect(saving_url).await?;
    let meta_tools = Session::new(&code, &counter).await?.tally.definitions;
    let with_save = Session::new(&saving, &counter).await?.tally.definitions;
    let mut scenarios = Vec::new();
    scenarios.push(files_scenario(&direct, &code, &counter, &truth).await?);
    scenarios.push(transcript_scenario(&direct, &code, &counter, &truth, workspaces.path()).await?);
    scenarios.push(csv_scenario(&direct, &code, &counter, &truth).await?);
    scenarios.push(records_scenario(&direct, &code, &counter, &truth).await?);
    let reuse = crate::reuse::run(&saving, &counter, &truth, &scenarios).await?;
    if let Some(python) = &args.fastmcp {
        eprintln!("bench tokens: the same scenarios through FastMCP CodeMode");
        let fastmcp =
            crate::fastmcp_tokens::connect(python, &args.fastmcp_server, data.path()).await?;
        let tallies = crate::fastmcp_tokens::scenarios(&fastmcp, &counter, &truth).await?;
        for (s, t) in scenarios.iter_mut().zip(tallies) {
            s.fastmcp = Some(t);
        }
    }
    report(&scenarios, &reuse, [meta_tools, with_save], args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn report(
    scenarios: &[Scenario],
    reuse: &[crate::reuse::Reuse],
    [meta_tools, with_save]: [usize; 2],
    as_json: bool,
) -> anyhow::Result<()> {
    if as_json {
        let all = json!({
            "meta_tool_definitions": meta_tools, "with_save_skill": with_save,
            "scenarios": scenarios, "reuse": reuse,
        });
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    println!("tokens entering the model's context (cl100k), direct mode vs code mode:\n");
    println!("{:<44} {:>11} {:>9} {:>10}  target", "scenario", "direct", "code", "reduction");
    for s in scenarios {
        let target = if s.name.starts_with('4') {
            "-"
        } else if s.reduction_pct >= 99.0 {
            ">= 99%: met"
        } else {
            ">= 99%: NOT met"
        };
        println!(
            "{:<44} {:>11} {:>9} {:>9.2}%  {target}",
            s.name,
            s.direct.total(),
            s.code.total(),
            s.reduction_pct
        );
    }
    if scenarios.iter().any(|s| s.fastmcp.is_some()) {
        println!(
            "\ncode mode vs FastMCP 4.1.6 CodeMode (search, get_schema, execute), same scenarios and answers:\n"
        );
        println!("{:<44} {:>9} {:>9} {:>7}  target", "scenario", "code", "FastMCP", "ratio");
        for s in scenarios {
            let Some(f) = &s.fastmcp else { continue };
            let ratio = s.code.total() as f64 / f.total().max(1) as f64;
            let verdict = if s.code.total() < f.total() { "fewer: met" } else { "fewer: NOT met" };
            println!(
                "{:<44} {:>9} {:>9} {:>6.2}x  {verdict}",
                s.name,
                s.code.total(),
                f.total(),
                ratio
            );
        }
    }
    let verdict = if meta_tools <= 350 { "met" } else { "NOT met" };
    println!(
        "\nmeta-tool definitions (search_tools, execute_code, checkpoint, restore): {meta_tools} tokens (target <= 350: {verdict}); with save_skill (--save-skills on): {with_save}"
    );
    crate::reuse::report(reuse);
    Ok(())
}

fn scenario(name: &'static str, direct: Tally, code: Tally) -> Scenario {
    let reduction_pct = 100.0 * (1.0 - code.total() as f64 / direct.total().max(1) as f64);
    Scenario { name, direct, code, fastmcp: None, reduction_pct }
}

/// What the generated data should give, computed here to check both modes' answers.
pub(crate) struct Truth {
    pub(crate) test_files: Vec<String>,
    action_items: String,
    pub(crate) action_count: usize,
    pub(crate) revenue: serde_json::Map<String, Value>,
    pub(crate) record_sums: serde_json::Map<String, Value>,
}

/// A small deterministic generator (64-bit LCG), so every run sees the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "we",
    "need",
    "to",
    "look",
    "at",
    "the",
    "numbers",
    "for",
    "next",
    "quarter",
    "and",
    "I",
    "think",
    "customers",
    "are",
    "asking",
    "about",
    "pricing",
    "release",
    "schedule",
    "migration",
    "database",
    "team",
    "should",
    "probably",
    "review",
    "dashboard",
    "latency",
    "budget",
    "hiring",
    "plan",
    "so",
    "that",
    "makes",
    "sense",
    "right",
    "yeah",
    "agreed",
    "but",
    "risk",
    "is",
    "support",
    "tickets",
    "onboarding",
    "again",
    "last",
    "week",
    "metrics",
    "improved",
    "slightly",
    "because",
    "of",
    "caching",
    "changes",
    "maybe",
    "we",
    "can",
    "ship",
    "it",
];
const PEOPLE: &[&str] = &["Alice", "Bob", "Chen", "Dana", "Eve"];

/// Writes the four data sets under `root` and returns what they should give.
fn generate(root: &Path, files: usize) -> anyhow::Result<Truth> {
    let mut rng = Lcg(42);
    // 1. A source tree of `files` files, 50 of them tests.
    let mut test_files = Vec::new();
    for i in 0..files {
        let (pkg, is_test) = (i / 100, i % (files / 50).max(1) == 7 && test_files.len() < 50);
        let name = if is_test { format!("test_mod{i}.rs") } else { format!("mod{i}.rs") };
        let dir = root.join(format!("files/src/pkg{pkg}"));
        if i % 100 == 0 || is_test {
            std::fs::create_dir_all(&dir)?;
        }
        std::fs::write(dir.join(&name), "")?;
        if is_test {
            test_files.push(format!("/data/files/src/pkg{pkg}/{name}"));
        }
    }
    test_files.sort();
    // 2. A two-hour meeting transcript with 15 action items.
    std::fs::create_dir_all(root.join("meeting"))?;
    let (mut transcript, mut items) = (String::new(), Vec::new());
    for line in 0..1500 {
        let (secs, who) = (line * 48 / 10, PEOPLE[rng.next(PEOPLE.len())]);
        let stamp = format!("[{:02}:{:02}:{:02}] {who}: ", secs / 3600, secs / 60 % 60, secs % 60);
        let text = if line % 100 == 50 {
            let item = format!(
                "{who} will send the {} update to the team by Friday.",
                WORDS[rng.next(WORDS.len())]
            );
            items.push(item.clone());
            format!("ACTION: {item}")
        } else {
            (0..28).map(|_| WORDS[rng.next(WORDS.len())]).collect::<Vec<_>>().join(" ")
        };
        transcript.push_str(&format!("{stamp}{text}\n"));
    }
    std::fs::write(root.join("meeting/transcript.txt"), &transcript)?;
    let action_items = format!(
        "# Action items\n{}\n",
        items.iter().map(|i| format!("- {i}")).collect::<Vec<_>>().join("\n")
    );
    // 3. A 10,000-row sales CSV; revenue (units x price) by region.
    let regions = ["north", "south", "east", "west"];
    let mut csv = String::from("date,region,product,units,price\n");
    let mut revenue = std::collections::BTreeMap::<&str, f64>::new();
    for i in 0..10_000 {
        let (region, units, price) = (regions[rng.next(4)], 1 + rng.next(20), 5 + rng.next(95));
        csv.push_str(&format!(
            "2026-{:02}-{:02},{region},p{},{units},{price}\n",
            1 + i % 12,
            1 + i % 28,
            rng.next(50)
        ));
        *revenue.entry(region).or_default() += (units * price) as f64;
    }
    std::fs::write(root.join("sales.csv"), csv)?;
    // 4. Fifteen record files; the operation is the sum of `units` in each.
    std::fs::create_dir_all(root.join("records"))?;
    let mut record_sums = serde_json::Map::new();
    for r in 1..=15 {
        let mut text = String::from("id,units\n");
        let mut sum = 0;
        for id in 0..100 {
            let units = rng.next(50);
            sum += units;
            text.push_str(&format!("{id},{units}\n"));
        }
        std::fs::write(root.join(format!("records/r{r:02}.csv")), text)?;
        record_sums.insert(format!("r{r:02}"), json!(sum));
    }
    Ok(Truth {
        test_files,
        action_count: items.len(),
        action_items,
        revenue: revenue.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect(),
        record_sums,
    })
}

/// Starts a direct-mode and a code-mode server over the same catalog; returns their URLs and the
/// code server's workspace root.
async fn start_servers(
    global: &EngineArgs,
    args: &TokenBenchArgs,
    data: &Path,
) -> anyhow::Result<(String, String, String, tempfile::TempDir, tempfile::TempDir)> {
    let runtime = global.runtime()?;
    let components = if args.components.is_empty() {
        ["grep.wasm", "csv.wasm", "json-query.wasm"]
            .into_iter()
            .map(|f| {
                beside_binary(f).with_context(|| {
                    format!("{f} not found beside the binary or in ../guests/; give --component")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    } else {
        args.components.clone()
    };
    let grants = Grants {
        dirs: vec![DirGrant { host: data.to_path_buf(), guest: "/data".into(), read_only: true }],
        ..Grants::default()
    };
    let catalog = Arc::new(Catalog::new());
    for file in &components {
        let opts =
            LoadOptions { grants: grants.clone(), limits: Limits::default(), ..Default::default() };
        catalog.insert(
            runtime
                .load_file(file, opts)
                .await
                .with_context(|| format!("loading {}", file.display()))?,
        );
    }
    let executor = Executor::new(runtime.clone(), catalog);
    // Programs get the server's default code-mode limits (64 KiB of output per run).
    let mut runner =
        CodeRunner::new(executor.clone(), Limits { output_bytes: 64 << 10, ..Limits::default() });
    for (language, flag, file) in [
        (Language::JavaScript, &args.javascript_runner, "runner-js.wasm"),
        (Language::Python, &args.python_runner, "runner-python.wasm"),
    ] {
        let path = flag.clone().or_else(|| beside_binary(file)).with_context(|| format!("{file} not found beside the binary or in ../guests/ (build it: wasm-host build guests/runners/…, or give --{}-runner)", language.name().to_lowercase()))?;
        let component = runtime
            .load_file(&path, LoadOptions::default())
            .await
            .with_context(|| format!("loading {}", path.display()))?;
        runner.add_runner(language, component);
    }
    let workspaces = tempfile::tempdir()?;
    let root =
        Workspaces::new(workspaces.path(), WorkspaceLimits::default()).context("workspace root")?;
    // The scenarios run with saving off (the default); the reuse figures on a third server that
    // saves skills into a registry in a temporary home, as `serve --save-skills on` does.
    let home = tempfile::tempdir()?;
    let store = crate::reuse::RegistryStore::open(home.path())?;
    let saving = SkillSaving { store: Arc::new(store), policy: SavePolicy::On };
    let spaces = Some(Arc::new(root));
    let plain = CodeMode { runner: runner.clone(), workspaces: spaces.clone(), saving: None };
    let saving = CodeMode { runner, workspaces: spaces, saving: Some(saving) };
    let direct = McpServer::builder(executor.clone()).mode(Some(Mode::Direct)).build();
    let code = McpServer::builder(executor.clone()).mode(Some(Mode::Code)).code(plain).build();
    let saving = McpServer::builder(executor).mode(Some(Mode::Code)).code(saving).build();
    Ok((serve(direct).await?, serve(code).await?, serve(saving).await?, workspaces, home))
}

async fn serve(server: McpServer) -> anyhow::Result<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let opts = HttpOptions {
        addr: ([127, 0, 0, 1], 0).into(),
        token: None,
        max_body: 4 << 20,
        allowed_hosts: Vec::new(),
        allowed_origins: Vec::new(),
    };
    tokio::spawn(async move {
        if let Err(e) =
            wasm_host_mcp::serve_http(server, opts, CancellationToken::new(), move |a| {
                let _ = tx.send(a);
            })
            .await
        {
            eprintln!("bench tokens: server: {e:#}");
        }
    });
    Ok(format!("http://{}/mcp", rx.await.context("the server did not start")?))
}

/// The final answers of scenarios 1, 3 and 4 (the same in every mode).
pub(crate) fn files_answer(truth: &Truth) -> String {
    format!("The {} test files:\n{}", truth.test_files.len(), truth.test_files.join("\n"))
}

pub(crate) fn revenue_answer(truth: &Truth) -> String {
    format!("Revenue (units x price) by region: {}", Value::Object(truth.revenue.clone()))
}

pub(crate) fn records_answer(truth: &Truth) -> String {
    format!("Units per record file: {}", Value::Object(truth.record_sums.clone()))
}

async fn files_scenario(
    direct: &Client,
    code: &Client,
    counter: &Counter,
    truth: &Truth,
) -> anyhow::Result<Scenario> {
    let answer = files_answer(truth);
    let mut d = Session::new(direct, counter).await?;
    let mut found = Vec::new();
    for offset in (0..).step_by(10_000) {
        let page: Value = serde_json::from_str(
            &d.call(
                "grep.files",
                json!({"path": "/data/files", "limit": 10_000, "offset": offset}),
            )
            .await?,
        )?;
        let files = page["files"].as_array().cloned().unwrap_or_default();
        found.extend(
            files
                .iter()
                .filter_map(|f| f["path"].as_str())
                .filter(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with("test_")))
                .map(str::to_string),
        );
        if page["truncated"] != true {
            break;
        }
    }
    anyhow::ensure!(found == truth.test_files, "direct mode found {} test files", found.len());
    let mut c = Session::new(code, counter).await?;
    c.call(
        "search_tools",
        json!({"query": "list files in a directory", "detail": "name", "limit": 3}),
    )
    .await?;
    c.read("wasm-host://tools/grep/files.d.ts").await?;
    let program = r#"const tests = [];
for (let offset = 0; ; offset += 10000) {
  const page = await tools.grep.files({ path: "/data/files", limit: 10000, offset });
  for (const f of page.files) if (/\/test_[^/]*$/.test(f.path)) tests.push(f.path);
  if (!page.truncated) break;
}
return tests;"#;
    let got = c.program("javascript", program).await?;
    anyhow::ensure!(got == json!(truth.test_files), "code mode found {got}");
    Ok(scenario("1. 50,000 files -> the 50 test files", d.answer(&answer), c.answer(&answer)))
}

async fn transcript_scenario(
    direct: &Client,
    code: &Client,
    counter: &Counter,
    truth: &Truth,
    workspaces: &Path,
) -> anyhow::Result<Scenario> {
    let answer = format!("Wrote {} action items to action-items.md.", truth.action_count);
    let mut d = Session::new(direct, counter).await?;
    let text = d
        .call("grep.read", json!({"path": "/data/meeting/transcript.txt", "limit": 100_000}))
        .await?;
    anyhow::ensure!(
        text.matches("ACTION: ").count() == truth.action_count,
        "the transcript came back whole"
    );
    // Direct mode writes through a file tool: the summary is the model's call, a short ack comes back.
    d.tally.calls += counter.count(&json!({"name": "write_file", "arguments": {"path": "action-items.md", "content": truth.action_items}}).to_string());
    d.tally.results +=
        counter.count(&format!("wrote {} bytes to action-items.md", truth.action_items.len()));
    let mut c = Session::new(code, counter).await?;
    c.call("search_tools", json!({"query": "read a text file", "detail": "name", "limit": 3}))
        .await?;
    c.read("wasm-host://tools/grep/read.pyi").await?;
    let program = r##"text = tools.grep.read(path="/data/meeting/transcript.txt", limit=100000)
items = [l.split("ACTION: ", 1)[1] for l in text.splitlines() if "ACTION: " in l]
open("action-items.md", "w").write("# Action items\n" + "".join(f"- {i}\n" for i in items))
{"action_items": len(items)}"##;
    let got = c.program("python", program).await?;
    anyhow::ensure!(got["action_items"] == truth.action_count, "code mode found {got}");
    let written = std::fs::read_dir(workspaces)?
        .flatten()
        .map(|s| s.path().join("workspace/action-items.md"))
        .find(|p| p.is_file())
        .context("the program wrote its file")?;
    anyhow::ensure!(
        std::fs::read_to_string(written)? == truth.action_items,
        "the file holds the action items"
    );
    Ok(scenario("2. 2-hour transcript -> action items file", d.answer(&answer), c.answer(&answer)))
}

async fn csv_scenario(
    direct: &Client,
    code: &Client,
    counter: &Counter,
    truth: &Truth,
) -> anyhow::Result<Scenario> {
    let answer = revenue_answer(truth);
    let mut d = Session::new(direct, counter).await?;
    let mut revenue = serde_json::Map::new();
    for offset in (0..10_000).step_by(1000) {
        let page: Value = serde_json::from_str(
            &d.call(
                "csv.filter",
                json!({"path": "/data/sales.csv", "limit": 1000, "offset": offset}),
            )
            .await?,
        )?;
        for row in page["rows"].as_array().into_iter().flatten() {
            let n = |k: &str| {
                row[k]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .or_else(|| row[k].as_f64())
                    .unwrap_or(0.0)
            };
            let entry = revenue
                .entry(row["region"].as_str().unwrap_or_default().to_string())
                .or_insert(json!(0.0));
            *entry = json!(entry.as_f64().unwrap_or(0.0) + n("units") * n("price"));
        }
    }
    anyhow::ensure!(revenue == truth.revenue, "direct mode summed {revenue:?}");
    let mut c = Session::new(code, counter).await?;
    c.call("search_tools", json!({"query": "rows of a CSV file", "detail": "name", "limit": 3}))
        .await?;
    c.read("wasm-host://tools/csv/filter.pyi").await?;
    let program = r#"revenue = {}
for offset in range(0, 10000, 1000):
    for row in tools.csv.filter(path="/data/sales.csv", limit=1000, offset=offset)["rows"]:
        revenue[row["region"]] = revenue.get(row["region"], 0.0) + float(row["units"]) * float(row["price"])
dict(sorted(revenue.items()))"#;
    let got = c.program("python", program).await?;
    anyhow::ensure!(got == Value::Object(truth.revenue.clone()), "code mode summed {got}");
    Ok(scenario("3. 10,000-row CSV -> revenue by region", d.answer(&answer), c.answer(&answer)))
}

async fn records_scenario(
    direct: &Client,
    code: &Client,
    counter: &Counter,
    truth: &Truth,
) -> anyhow::Result<Scenario> {
    let answer = records_answer(truth);
    let mut d = Session::new(direct, counter).await?;
    for r in 1..=15 {
        d.call("csv.aggregate", json!({"path": format!("/data/records/r{r:02}.csv"), "column": "units", "ops": ["sum"]})).await?;
    }
    let mut c = Session::new(code, counter).await?;
    c.call(
        "search_tools",
        json!({"query": "sum a column of a CSV file", "detail": "name", "limit": 3}),
    )
    .await?;
    c.read("wasm-host://tools/csv/aggregate.d.ts").await?;
    let program = r#"const sums = {};
for (let r = 1; r <= 15; r++) {
  const name = `r${String(r).padStart(2, "0")}`;
  sums[name] = tools.csv.aggregate({ path: `/data/records/${name}.csv`, column: "units", ops: ["sum"] }).results[0].sum;
}
return sums;"#;
    let got = c.program("javascript", program).await?;
    anyhow::ensure!(got == Value::Object(truth.record_sums.clone()), "code mode summed {got}");
    Ok(scenario("4. one operation on 15 records (15 calls)", d.answer(&answer), c.answer(&answer)))
}
