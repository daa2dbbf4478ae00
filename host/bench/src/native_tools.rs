//! The three example tools `wasm-host-bench serve` measures — grep `count`, json-query `query`,
//! csv `aggregate` — written as native rmcp `#[tool]`s doing the same work on the same files, so
//! the benchmark can compare our sandboxed components with in-process native code.
//!
//! Arguments are the guests' (paths under `/data`, which maps to the data directory); results are
//! the same JSON. Only the argument subset the benchmark uses is supported, and any other
//! argument is refused rather than ignored, so a result can never silently differ.

use anyhow::Context;
use regex::RegexBuilder;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The guest path the data directory is granted as.
const GUEST_ROOT: &str = "/data";
/// Largest stdio message, as `wasm-host serve --stdio` allows.
const MAX_STDIO_LINE: usize = 16 << 20;
/// Largest file `count` reads (as the guest).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Options of the hidden `native-server` command.
#[derive(clap::Args, Debug)]
pub struct NativeServerArgs {
    /// The directory the tools read as `/data`.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

/// Serves the native tools over stdin/stdout until the client closes the stream.
pub async fn run(args: &NativeServerArgs) -> anyhow::Result<ExitCode> {
    let transport = AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout())
        .with_max_line_length(MAX_STDIO_LINE + 1);
    let running = NativeTools::new(args.data.clone())
        .serve(transport)
        .await
        .context("MCP initialization over stdio")?;
    running.waiting().await.context("MCP stdio session")?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the native tools over streamable HTTP at `http://127.0.0.1:PORT/mcp` (same server
/// settings as `wasm-host serve --http`) until `shutdown` fires; returns the bound address.
pub async fn serve_http(data: PathBuf, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
    let bound = listener.local_addr()?;
    let port = bound.port();
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts([
            "localhost".to_string(),
            "127.0.0.1".into(),
            "::1".into(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ])
        .with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        .with_max_request_body_bytes(4 << 20)
        .with_cancellation_token(shutdown.child_token());
    let tools = NativeTools::new(data);
    let service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    tokio::spawn(async move {
        let served =
            axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            eprintln!("native server: {e}");
        }
    });
    Ok(bound)
}

/// The native server: the three tools over one data directory.
#[derive(Clone)]
pub struct NativeTools {
    data: Arc<PathBuf>,
    tool_router: ToolRouter<Self>,
}

/// Arguments of `count` (as grep's).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CountArgs {
    pattern: String,
    path: String,
    #[serde(default)]
    ignore_case: bool,
}

/// Arguments of `query` (json-query's, without sorting).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    file: String,
    #[serde(default)]
    select: String,
    #[serde(rename = "where")]
    filter: Option<Value>,
    fields: Option<Vec<String>>,
    #[serde(default = "fifty")]
    limit: usize,
    #[serde(default)]
    offset: usize,
}

fn fifty() -> usize {
    50
}

/// Arguments of `aggregate` (csv's, without filters and ordering).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AggregateArgs {
    path: String,
    group_by: Option<String>,
    column: Option<String>,
    ops: Option<Vec<String>>,
    #[serde(default = "hundred")]
    limit: usize,
}

fn hundred() -> usize {
    100
}

#[tool_router]
impl NativeTools {
    /// Tools reading `data` as `/data`.
    pub fn new(data: PathBuf) -> Self {
        NativeTools { data: Arc::new(data), tool_router: Self::tool_router() }
    }

    /// grep's `count`: lines matching a regex in each file under a directory.
    #[tool(
        description = "Count the lines matching a regular expression in each file under a directory."
    )]
    fn count(&self, Parameters(a): Parameters<CountArgs>) -> Result<String, String> {
        count(&self.data, &a).map(|v| v.to_string())
    }

    /// json-query's `query`: select, filter, project and page the items of a JSON file.
    #[tool(description = "Select values from a JSON file, filter them, project fields and page.")]
    fn query(&self, Parameters(a): Parameters<QueryArgs>) -> Result<String, String> {
        query(&self.data, &a).map(|v| v.to_string())
    }

    /// csv's `aggregate`: group CSV rows and compute count/sum/mean/min/max per group.
    #[tool(
        description = "Group the rows of a CSV file by a column and compute count/sum/mean/min/max of another."
    )]
    fn aggregate(&self, Parameters(a): Parameters<AggregateArgs>) -> Result<String, String> {
        aggregate(&self.data, &a).map(|v| v.to_string())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NativeTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// The host path of guest path `guest` (under `/data`; relative paths are taken under it).
fn host_path(data: &Path, guest: &str) -> Result<(PathBuf, String), String> {
    let guest = if guest.starts_with('/') {
        guest.trim_end_matches('/').to_string()
    } else {
        format!("{GUEST_ROOT}/{guest}")
    };
    let rest = if guest == GUEST_ROOT {
        ""
    } else {
        guest.strip_prefix("/data/").ok_or_else(|| format!("{guest} is outside {GUEST_ROOT}"))?
    };
    if rest.split('/').any(|part| part == ".." || part == ".") {
        return Err(format!("{guest}: `.` and `..` are not allowed"));
    }
    Ok((data.join(rest), guest))
}

fn read(host: &Path, guest: &str) -> Result<String, String> {
    std::fs::read_to_string(host).map_err(|e| format!("{guest}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// count

fn count(data: &Path, a: &CountArgs) -> Result<Value, String> {
    let re = RegexBuilder::new(&a.pattern)
        .case_insensitive(a.ignore_case)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("`pattern` is not a valid regex: {e}"))?;
    let (host, guest) = host_path(data, &a.path)?;
    let mut files = Vec::new();
    collect_files(&host, &guest, &mut files)?;
    files.sort_by(|x, y| Path::new(&x.0).cmp(Path::new(&y.0)));
    let (mut counts, mut total, mut scanned) = (Map::new(), 0u64, 0u64);
    for (shown, file) in files {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        scanned += 1;
        let n = text.lines().filter(|line| re.is_match(line)).count() as u64;
        if n > 0 {
            total += n;
            counts.insert(shown, json!(n));
        }
    }
    Ok(json!({"counts": counts, "total": total, "files_scanned": scanned}))
}

/// The files under `host` (recursively), each as (guest path, host path).
fn collect_files(host: &Path, guest: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let meta = std::fs::metadata(host).map_err(|e| format!("{guest}: {e}"))?;
    if meta.is_file() {
        out.push((guest.to_string(), host.to_path_buf()));
        return Ok(());
    }
    for entry in std::fs::read_dir(host).map_err(|e| format!("{guest}: {e}"))? {
        let entry = entry.map_err(|e| format!("{guest}: {e}"))?;
        let kind = entry.file_type().map_err(|e| format!("{guest}: {e}"))?;
        let shown = format!("{guest}/{}", entry.file_name().to_string_lossy());
        if kind.is_dir() {
            collect_files(&entry.path(), &shown, out)?;
        } else if kind.is_file() {
            out.push((shown, entry.path()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// query

fn query(data: &Path, a: &QueryArgs) -> Result<Value, String> {
    if !(1..=1000).contains(&a.limit) {
        return Err("limit must be an integer from 1 to 1000".into());
    }
    let (host, guest) = host_path(data, &a.file)?;
    let text = read(&host, &guest)?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", a.file))?;
    let found = get_path(&doc, &a.select)?
        .ok_or_else(|| format!("nothing at {:?} in {}", a.select, a.file))?;
    let Value::Array(list) = found else {
        return Ok(json!({"file": a.file, "select": a.select, "value": found}));
    };
    let tests = match &a.filter {
        None => Vec::new(),
        Some(Value::Array(list)) => list.iter().map(Filter::parse).collect::<Result<_, _>>()?,
        Some(one) => vec![Filter::parse(one)?],
    };
    let mut rows = Vec::new();
    for row in list {
        if tests.iter().try_fold(true, |ok, t| Ok::<_, String>(ok && t.matches(row)?))? {
            rows.push(row);
        }
    }
    let page: Vec<&Value> = rows.iter().skip(a.offset).take(a.limit).copied().collect();
    let results: Vec<Value> = match &a.fields {
        None => page.iter().map(|row| (*row).clone()).collect(),
        Some(fields) => {
            let mut out = Vec::new();
            for row in &page {
                let mut o = Map::new();
                for f in fields {
                    o.insert(f.clone(), get_path(row, f)?.cloned().unwrap_or(Value::Null));
                }
                out.push(Value::Object(o));
            }
            out
        }
    };
    Ok(json!({
        "file": a.file, "select": a.select, "total": rows.len(), "returned": results.len(),
        "truncated": a.offset + results.len() < rows.len(), "results": results,
    }))
}

/// The value at a dotted key path (`a.b.c`; empty or `$` is the whole value).
fn get_path<'v>(value: &'v Value, path: &str) -> Result<Option<&'v Value>, String> {
    let path = path.strip_prefix('$').unwrap_or(path);
    if path.contains(['[', '*']) {
        return Err(format!(
            "path {path:?}: only dotted keys are supported by the native benchmark tool"
        ));
    }
    let mut at = value;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        match at.get(key) {
            Some(v) if at.is_object() => at = v,
            _ => return Ok(None),
        }
    }
    Ok(Some(at))
}

/// One `{field, op, value}` filter.
struct Filter {
    field: String,
    op: String,
    value: Value,
}

impl Filter {
    fn parse(f: &Value) -> Result<Filter, String> {
        let field = f.get("field").and_then(Value::as_str).unwrap_or("").to_string();
        let op = f.get("op").and_then(Value::as_str).unwrap_or("eq");
        let op = match op {
            "==" => "eq",
            "!=" => "ne",
            "<" => "lt",
            "<=" => "le",
            ">" => "gt",
            ">=" => "ge",
            other => other,
        };
        Ok(Filter {
            field,
            op: op.to_string(),
            value: f.get("value").cloned().unwrap_or(Value::Null),
        })
    }

    fn matches(&self, row: &Value) -> Result<bool, String> {
        let cell = get_path(row, &self.field)?;
        let b = &self.value;
        let order = cell.and_then(|a| compare(a, b));
        Ok(match self.op.as_str() {
            "eq" => cell.is_some_and(|a| equal(a, b)),
            "ne" => !cell.is_some_and(|a| equal(a, b)),
            "lt" => order == Some(Ordering::Less),
            "le" => matches!(order, Some(Ordering::Less | Ordering::Equal)),
            "gt" => order == Some(Ordering::Greater),
            "ge" => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
            "in" => {
                cell.is_some_and(|a| b.as_array().is_some_and(|l| l.iter().any(|x| equal(a, x))))
            }
            "exists" => cell.is_some() == (b != &Value::Bool(false)),
            op => {
                return Err(format!("op `{op}` is not supported by the native benchmark tool"));
            }
        })
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Order of two numbers or two strings; `None` for anything else (as JS `<` on mixed types).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// aggregate

const AGGREGATES: [&str; 5] = ["count", "sum", "mean", "min", "max"];

fn aggregate(data: &Path, a: &AggregateArgs) -> Result<Value, String> {
    if !(1..=1000).contains(&a.limit) {
        return Err("`limit` must be from 1 to 1000".into());
    }
    let ops = a.ops.clone().unwrap_or_else(|| vec!["count".into()]);
    if let Some(bad) = ops.iter().find(|o| !AGGREGATES.contains(&o.as_str())) {
        return Err(format!("unknown op {bad:?}; use {}", AGGREGATES.join(", ")));
    }
    if a.column.is_none() && ops.iter().any(|o| o != "count") {
        return Err("`column` is needed for sum/mean/min/max".into());
    }
    let (host, guest) = host_path(data, &a.path)?;
    let text = read(&host, &guest)?;
    let mut lines = text.lines();
    let header: Vec<&str> =
        lines.next().ok_or_else(|| format!("{guest} is empty"))?.split(',').collect();
    let index =
        |name: &Option<String>| -> Result<Option<usize>, String> {
            let Some(name) = name else { return Ok(None) };
            header.iter().position(|h| h == name).map(Some).ok_or_else(|| {
                format!("unknown column {name:?}; columns are {}", header.join(", "))
            })
        };
    let (key_at, value_at) = (index(&a.group_by)?, index(&a.column)?);
    let mut groups: Vec<(String, Group)> = Vec::new();
    let mut slots = std::collections::HashMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let cell = |at: Option<usize>| at.map(|i| cells.get(i).copied().unwrap_or(""));
        let key = cell(key_at).unwrap_or("").to_string();
        let slot = *slots.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Group::default()));
            groups.len() - 1
        });
        groups[slot].1.add(cell(value_at));
    }
    if a.group_by.is_some() {
        groups
            .sort_by(|x, y| sort_key(&x.0).partial_cmp(&sort_key(&y.0)).unwrap_or(Ordering::Equal));
    }
    let results: Vec<Value> =
        groups.iter().map(|(key, g)| g.result(key, a.group_by.is_some(), &ops)).collect();
    Ok(json!({
        "path": guest, "group_by": a.group_by, "column": a.column, "groups": results.len(),
        "truncated": results.len() > a.limit, "results": results.iter().take(a.limit).collect::<Vec<_>>(),
    }))
}

/// A cell as a number, like the Python tool's `_number`.
fn number(cell: &str) -> Option<f64> {
    let t = cell.trim().replace(',', "");
    if t.is_empty() { None } else { t.parse().ok() }
}

/// Numbers first (by value), then text (by text).
fn sort_key(s: &str) -> (u8, f64, String) {
    match number(s) {
        Some(x) => (0, x, String::new()),
        None => (1, 0.0, s.to_string()),
    }
}

/// Whole numbers as integers, as the Python tool's `_tidy`.
fn tidy(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 { json!(x as i64) } else { json!(x) }
}

/// Running aggregates of one group.
#[derive(Default)]
struct Group {
    count: u64,
    n: u64,
    non_numeric: u64,
    total: f64,
    low: Option<f64>,
    high: Option<f64>,
    low_text: Option<String>,
    high_text: Option<String>,
}

impl Group {
    fn add(&mut self, cell: Option<&str>) {
        self.count += 1;
        let Some(cell) = cell.filter(|c| !c.trim().is_empty()) else {
            return;
        };
        let Some(x) = number(cell) else {
            self.non_numeric += 1;
            self.low_text =
                Some(self.low_text.take().map_or(cell.to_string(), |t| t.min(cell.to_string())));
            self.high_text =
                Some(self.high_text.take().map_or(cell.to_string(), |t| t.max(cell.to_string())));
            return;
        };
        self.n += 1;
        self.total += x;
        self.low = Some(self.low.map_or(x, |l| l.min(x)));
        self.high = Some(self.high.map_or(x, |h| h.max(x)));
    }

    fn result(&self, key: &str, grouped: bool, ops: &[String]) -> Value {
        let mut out = Map::new();
        if grouped {
            out.insert("group".into(), json!(key));
        }
        for op in ops {
            let v = match op.as_str() {
                "count" => json!(self.count),
                "sum" => tidy(self.total),
                "mean" if self.n > 0 => json!(self.total / self.n as f64),
                "min" if self.n > 0 => tidy(self.low.unwrap_or_default()),
                "max" if self.n > 0 => tidy(self.high.unwrap_or_default()),
                "min" => json!(self.low_text),
                "max" => json!(self.high_text),
                _ => Value::Null,
            };
            out.insert(op.clone(), v);
        }
        if self.non_numeric > 0 && ops.iter().any(|o| o == "sum" || o == "mean") {
            out.insert("non_numeric".into(), json!(self.non_numeric));
        }
        Value::Object(out)
    }
}
