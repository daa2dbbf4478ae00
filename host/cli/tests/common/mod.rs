//! Helpers shared by the `serve` test files: an rmcp client that records notifications, test
//! data, and ways to start `wasm-host serve` over stdio and HTTP.
#![allow(dead_code, deprecated)]

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    LoggingMessageNotificationParam,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use wasm_host_tests::{guest, scratch};

#[derive(Clone, Default)]
pub struct Client {
    /// Logging notifications received, as JSON text.
    pub logs: Arc<Mutex<Vec<String>>>,
    /// `notifications/tools/list_changed` received.
    pub list_changed: Arc<std::sync::atomic::AtomicUsize>,
}

impl ClientHandler for Client {
    async fn on_logging_message(
        &self,
        p: LoggingMessageNotificationParam,
        _cx: NotificationContext<RoleClient>,
    ) {
        self.logs.lock().expect("lock").push(p.data.to_string());
    }
    async fn on_tool_list_changed(&self, _cx: NotificationContext<RoleClient>) {
        self.list_changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("wasm-host-tests", "0"),
        )
    }
}

pub fn data() -> tempfile::TempDir {
    let d = scratch();
    std::fs::write(d.path().join("notes.txt"), "TODO one\nfine\nTODO two\n").expect("write");
    std::fs::write(d.path().join("sales.csv"), "region,units\neu,3\nus,5\neu,7\n").expect("write");
    std::fs::write(
        d.path().join("items.json"),
        r#"{"items":[{"name":"a","n":1},{"name":"b","n":5}]}"#,
    )
    .expect("write");
    d
}

/// Compiles every served component into the shared cache once, before servers start in parallel
/// (each would otherwise compile the 12-19 MB JS and Python components itself).
pub fn warm_cache() {
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        for g in ["grep", "csv", "json-query", "hostile-rust", "runner-js", "runner-python"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
                .args(["inspect", &guest(g).display().to_string()])
                .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
                .output()
                .expect("inspect");
            assert!(out.status.success(), "{g}: {}", String::from_utf8_lossy(&out.stderr));
        }
    });
}

pub fn serve_args(d: &std::path::Path, extra: &[&str]) -> Vec<String> {
    warm_cache();
    let mut args = vec!["serve".to_string()];
    for g in ["grep", "csv", "json-query", "hostile-rust"] {
        args.push(guest(g).display().to_string());
    }
    args.extend([
        "--dir".into(),
        format!("{}::/data", d.display()),
        "--dir".into(),
        format!("{}::/ro:ro", d.display()),
    ]);
    args.extend(["--env".into(), "GRANTED=1".into(), "--timeout".into(), "2s".into()]);
    args.extend(runner_args());
    args.push("--no-workspaces".into());
    // With hostile-rust's 20 tools there are more than 30: the default would be code mode.
    if !extra.contains(&"--mode") {
        args.extend(["--mode".into(), "both".into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `--javascript-runner` and `--python-runner` with the runners built for the tests.
pub fn runner_args() -> Vec<String> {
    vec![
        "--javascript-runner".into(),
        guest("runner-js").display().to_string(),
        "--python-runner".into(),
        guest("runner-python").display().to_string(),
    ]
}

pub fn command(args: &[String]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"));
    c.args(args).env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"));
    c
}

pub async fn stdio_client(args: &[String]) -> RunningService<RoleClient, Client> {
    let transport = TokioChildProcess::new(command(args).configure(|_| {})).expect("spawn");
    Client::default().serve(transport).await.expect("initialize over stdio")
}

/// A server child process that is killed when dropped, so a failing test leaves no server behind.
pub struct ServerChild(pub std::process::Child);

impl std::ops::Deref for ServerChild {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for ServerChild {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --http 127.0.0.1:0`, returns the child (killed on drop) and the URL it printed.
pub fn http_server(args: &[String]) -> (ServerChild, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = lines.next().expect("server printed its URL").expect("utf8");
        if let Some(rest) = line.split(" at ").nth(1).filter(|_| line.contains("serving")) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (ServerChild(child), url)
}

pub async fn call(
    client: &RunningService<RoleClient, Client>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let Value::Object(map) = args else { panic!("args must be an object") };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(map))
        .await
        .expect("tools/call answered")
}

pub fn text(r: &CallToolResult) -> String {
    r.content.first().and_then(|c| c.as_text()).map(|t| t.text.clone()).unwrap_or_default()
}

/// GETs `url` (http://ADDR/PATH) and returns the body.
pub fn http_get(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    std::io::Write::write_all(
        &mut s,
        format!("GET /{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .expect("write");
    let mut resp = String::new();
    std::io::Read::read_to_string(&mut s, &mut resp).expect("read");
    resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

/// Starts `wasm-host ARGS` with piped stdin and stdout, for tests that speak raw JSON-RPC lines.
pub fn raw_stdio_child(args: &[String]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

/// The three example tools, called through whatever transport `client` uses.
pub async fn three_languages(client: &RunningService<RoleClient, Client>) {
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for want in ["grep.count", "csv.aggregate", "json-query.query"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let grep = call(client, "grep.count", json!({"pattern": "TODO", "path": "/data"})).await;
    assert_eq!(grep.is_error, Some(false), "{}", text(&grep));
    assert_eq!(serde_json::from_str::<Value>(&text(&grep)).expect("json")["total"], 2);
    let csv = call(
        client,
        "csv.aggregate",
        json!({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]}),
    )
    .await;
    assert!(text(&csv).contains("\"eu\"") && text(&csv).contains("10"), "{}", text(&csv));
    let jq = call(
        client,
        "json-query.query",
        json!({"file": "/data/items.json", "select": "items[*].name"}),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&text(&jq)).expect("json")["results"],
        json!(["a", "b"])
    );
}

/// A CNCF distribution registry on a free loopback port, killed when dropped.
pub struct OciRegistry {
    child: std::process::Child,
    pub port: u16,
    _storage: tempfile::TempDir,
}

impl OciRegistry {
    pub fn start() -> Self {
        let binary = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry", "/usr/bin/registry"].into_iter().find(|p| std::path::Path::new(p).exists()).expect("docker-registry is not installed: run scripts/setup (it installs Debian's docker-registry package)");
        let storage = scratch();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let config = storage.path().join("config.yml");
        let yaml = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.path().join("data").display()
        );
        std::fs::write(&config, yaml).expect("config");
        let child = std::process::Command::new(binary)
            .args(["serve", &config.display().to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = OciRegistry { child, port, _storage: storage };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return registry;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("docker-registry did not listen on 127.0.0.1:{port}");
    }

    pub fn url(&self, repo: &str) -> String {
        format!("oci://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wasm-host --home HOME ARGS…` with the tests' compile cache and no signature requirement from
/// the environment.
pub fn wh(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .env_remove("WASM_HOST_REQUIRE_SIGNATURES")
        .output()
        .expect("run wasm-host")
}

/// Runs a script of tests/py with the repository's venv; what it printed, as JSON.
pub fn python_script(script: &str, args: &[String]) -> Value {
    let python = wasm_host_tests::repo().join(".venv/bin/python");
    let out = std::process::Command::new(python)
        .arg(wasm_host_tests::repo().join("tests/py").join(script))
        .args(args)
        .output()
        .expect("run a Python MCP client (scripts/setup installs the SDK into .venv)");
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}
