//! `wasm-host serve` through a real MCP client (rmcp) over stdio and streamable HTTP: tools in
//! three languages, JSON-RPC vs tool errors, limits, guest stdout, cancellation, HTTP guards.
#![allow(deprecated)] // rmcp marks MCP logging deprecated (SEP-2577); we still test it.

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, LoggingLevel, SetLevelRequestParams};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use std::io::{BufRead, Read, Write};
use std::time::{Duration, Instant};
use wasm_host_tests::guest;

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_client_calls_rust_js_and_python_tools() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &[])).await;
    three_languages(&client).await;
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_client_calls_rust_js_and_python_tools() {
    let d = data();
    let (mut child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    let client = Client::default()
        .serve(StreamableHttpClientTransport::from_uri(url.clone()))
        .await
        .expect("initialize over HTTP");
    three_languages(&client).await;
    client.cancel().await.expect("close");
    let metrics = http_get(&url.replace("/mcp", "/metrics"));
    assert!(
        metrics.contains("wasm_host_calls_total{tool=\"grep.count\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasm_host_call_seconds_count{tool=\"csv.aggregate\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasm_host_instances_live 0")
            && metrics.contains("wasm_host_queue_depth 0"),
        "{metrics}"
    );
    child.kill().expect("kill");
}

/// A plain GET; returns the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_are_jsonrpc_errors_and_tool_failures_are_is_error() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &[])).await;
    let unknown = client
        .call_tool(CallToolRequestParams::new("nope.nothing"))
        .await
        .expect_err("unknown tool");
    assert!(
        unknown.to_string().contains("-32602") && unknown.to_string().contains("unknown tool"),
        "{unknown}"
    );
    let bad = call(&client, "grep.count", json!({"pattern": 5})).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("required") && text(&bad).contains("/pattern"), "{}", text(&bad));
    let trap = call(&client, "hostile-rust.panic", json!({})).await;
    assert_eq!(trap.is_error, Some(true));
    assert!(text(&trap).contains("trapped"), "{}", text(&trap));
    let started = Instant::now();
    let spin = call(&client, "hostile-rust.spin", json!({})).await;
    assert!(
        text(&spin).contains("deadline exceeded") && started.elapsed() < Duration::from_secs(4),
        "{}",
        text(&spin)
    );
    let after = call(&client, "grep.count", json!({"pattern": "TODO", "path": "/data"})).await;
    assert_eq!(after.is_error, Some(false), "still serving after hostile calls");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_stdout_becomes_log_notifications_not_protocol_messages() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &[])).await;
    client.set_level(SetLevelRequestParams::new(LoggingLevel::Debug)).await.expect("setLevel");
    // 150 lines on each of stdout and stderr: 300 log lines, of which one call sends 100.
    let out = call(&client, "hostile-rust.stdout", json!({"lines": 150})).await;
    assert_eq!(text(&out), "printed");
    // The fake JSON-RPC lines the guest printed arrive only as data inside log notifications.
    let after = call(&client, "grep.count", json!({"pattern": "TODO", "path": "/data"})).await;
    assert_eq!(after.is_error, Some(false));
    let logs = client.service().logs.lock().expect("lock").clone();
    assert!(logs.iter().any(|l| l.contains("jsonrpc") && l.contains("stdout")), "{logs:?}");
    let flood: Vec<&String> = logs.iter().filter(|l| l.contains("hostile-rust.stdout")).collect();
    assert_eq!(flood.len(), 101, "100 lines and one saying what was not sent: {flood:?}");
    // The client handles notifications concurrently, so the summary line may arrive anywhere.
    let summary = flood.iter().filter(|l| l.contains("200 more log lines of this call not sent"));
    assert_eq!(summary.count(), 1, "{flood:?}");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_stops_the_guest_and_the_server_keeps_serving() {
    let d = data();
    let args = serve_args_with_timeout(d.path(), "30s");
    let client = stdio_client(&args).await;
    let started = Instant::now();
    // Dropping the request future sends notifications/cancelled.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        call(&client, "hostile-rust.spin", json!({})),
    )
    .await;
    assert!(cancelled.is_err());
    let after = call(&client, "grep.count", json!({"pattern": "TODO", "path": "/data"})).await;
    assert_eq!(after.is_error, Some(false));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the spinning guest did not hold the server for its 30 s timeout"
    );
    client.cancel().await.expect("close");
}

/// A call cancelled just before the server exits (stdin closed within the guest's epoch tick of
/// 10 ms) must not panic the exiting server: by the time the guest on its own thread yields,
/// the runtime's timers are gone, and polling the call's deadline then panicked ("A Tokio 1.x
/// context was found, but it is being shutdown"). Three rounds: the race is one tick wide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_just_before_exit_leaves_no_panic() {
    use rmcp::transport::TokioChildProcess;
    use tokio::io::AsyncReadExt;
    let d = data();
    let args = serve_args_with_timeout(d.path(), "30s");
    for round in 0..3 {
        let (transport, stderr) = TokioChildProcess::builder(command(&args))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stderr = stderr.expect("stderr");
        let client = Client::default().serve(transport).await.expect("initialize");
        let spin = call(&client, "hostile-rust.spin", json!({}));
        assert!(tokio::time::timeout(Duration::from_millis(300), spin).await.is_err());
        let after = call(&client, "grep.count", json!({"pattern": "TODO", "path": "/data"})).await;
        assert_eq!(after.is_error, Some(false));
        client.cancel().await.expect("close");
        let mut text = String::new();
        let read = stderr.read_to_string(&mut text);
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the server exits")
            .expect("stderr");
        assert!(!text.contains("panicked"), "round {round}: {text}");
    }
}

/// [`serve_args`] with the call timeout (2 s there) set to `timeout`.
fn serve_args_with_timeout(d: &std::path::Path, timeout: &str) -> Vec<String> {
    let mut args = serve_args(d, &[]);
    let t = args.iter().position(|a| a == "2s").expect("timeout flag");
    args[t] = timeout.into();
    args
}

/// One raw HTTP request to the server; returns the status code.
fn raw_status(url: &str, host: &str, extra_headers: &str, body: &[u8]) -> u16 {
    let addr = url.trim_start_matches("http://").trim_end_matches("/mcp");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    let _ = s.write_all(body);
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

const INIT: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected_and_others_are_served() {
    use std::io::{Read, Write};
    let d = data();
    let (mut child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    let host = url.trim_start_matches("http://").trim_end_matches("/mcp").to_string();
    let mut slow = std::net::TcpStream::connect(&host).expect("connect");
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n").expect("half the headers");
    slow.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let started = Instant::now();
    assert_eq!(raw_status(&url, &host, "", INIT), 200, "other clients are served meanwhile");
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(25) && waited < Duration::from_secs(45),
        "closed by the 30 s header limit, after {waited:?}"
    );
    child.kill().expect("kill");
}

#[test]
fn http_guards_host_origin_body_and_token() {
    let d = data();
    let (mut child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    let port = url.rsplit(':').next().and_then(|p| p.split('/').next()).expect("port").to_string();
    let host = format!("127.0.0.1:{port}");
    assert_eq!(raw_status(&url, &host, "", INIT), 200, "a plain local request works");
    assert_eq!(raw_status(&url, "evil.example", "", INIT), 403, "wrong Host");
    assert_eq!(
        raw_status(&url, &host, "Origin: http://evil.example\r\n", INIT),
        403,
        "wrong Origin"
    );
    assert_eq!(raw_status(&url, &host, "", &vec![b' '; 5 << 20]), 413, "body over 4 MiB");
    child.kill().expect("kill");

    let (mut child, url) =
        http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0", "--token", "s3cret"]));
    let host = url.trim_start_matches("http://").trim_end_matches("/mcp").to_string();
    assert_eq!(raw_status(&url, &host, "", INIT), 401, "missing token");
    assert_eq!(
        raw_status(&url, &host, "Authorization: Bearer wrong\r\n", INIT),
        401,
        "wrong token"
    );
    assert_eq!(
        raw_status(&url, &host, "Authorization: Bearer s3cret\r\n", INIT),
        200,
        "right token"
    );
    child.kill().expect("kill");
}

#[test]
fn refuses_to_bind_a_public_address_without_a_token() {
    let d = data();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(serve_args(d.path(), &["--http", "0.0.0.0:0"]))
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .env_remove("WASM_HOST_TOKEN")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a bearer token"), "{err}");
}

/// `serve ARGS` that is expected to refuse to start; its stderr.
fn refused_start(args: &[String]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args(args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .env_remove("WASM_HOST_TOKEN")
        .output()
        .expect("run");
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn remote_serving_behind_a_tls_proxy_accepts_the_allowed_host_with_the_token() {
    // Row 5: before the fix, a remote client with the right token still got 403, since only
    // loopback Host values were accepted; and `--token ""` started the server.
    let d = data();
    let proxied = [
        "--http",
        "127.0.0.1:0",
        "--token",
        "s3cret",
        "--allowed-host",
        "mcp.example.test",
        "--allowed-origin",
        "https://mcp.example.test",
    ];
    let (_child, url) = http_server(&serve_args(d.path(), &proxied));
    let token = "Authorization: Bearer s3cret\r\n";
    // What a TLS reverse proxy forwards: the public name in Host, the browser's Origin.
    assert_eq!(raw_status(&url, "mcp.example.test", token, INIT), 200, "the allowed public name");
    assert_eq!(
        raw_status(
            &url,
            "mcp.example.test",
            &format!("{token}Origin: https://mcp.example.test\r\n"),
            INIT
        ),
        200,
        "the allowed origin"
    );
    assert_eq!(raw_status(&url, "mcp.example.test", "", INIT), 401, "still needs the token");
    assert_eq!(raw_status(&url, "other.example.test", token, INIT), 403, "another name");
    assert_eq!(
        raw_status(
            &url,
            "mcp.example.test",
            &format!("{token}Origin: https://evil.example\r\n"),
            INIT
        ),
        403,
        "another origin"
    );

    // Bound to every interface: clients use the machine's name, which must be allowed.
    let all = ["--http", "0.0.0.0:0", "--token", "s3cret", "--allowed-host", "mcp.example.test"];
    let (_child, url) = http_server(&serve_args(d.path(), &all));
    let url = url.replace("0.0.0.0", "127.0.0.1");
    assert_eq!(raw_status(&url, "mcp.example.test", token, INIT), 200);
    assert_eq!(raw_status(&url, "0.0.0.0", token, INIT), 403);

    let err = refused_start(&serve_args(d.path(), &["--http", "0.0.0.0:0", "--token", "s3cret"]));
    assert!(err.contains("needs --allowed-host"), "{err}");
    let err = refused_start(&serve_args(d.path(), &["--http", "127.0.0.1:0", "--token", ""]));
    assert!(err.contains("empty bearer token"), "{err}");
}

#[test]
fn malformed_messages_do_not_break_the_stdio_session() {
    let d = data();
    let mut child = raw_stdio_child(&serve_args(d.path(), &[]));
    let mut stdin = child.stdin.take().expect("stdin");
    // Write from another thread: the answers must be read while 17 MiB go in.
    let writer = std::thread::spawn(move || {
        let init = std::str::from_utf8(INIT).expect("utf8");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for line in [
            "{bad json",
            "\u{fffd}\u{0}not json at all",
            deep.as_str(),
            init,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":3}}"#,
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":"not an object"}"#,
        ] {
            writeln!(stdin, "{line}").expect("write");
        }
        stdin.write_all(b"\xff\xfe bad utf-8\n").expect("write");
        // One message over the 16 MiB limit: answered with an error, then the session goes on.
        let mut big = br#"{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"grep.count","arguments":{"pattern":""#.to_vec();
        big.resize(17 << 20, b'a');
        big.extend_from_slice(b"\"}}}\n");
        stdin.write_all(&big).expect("write");
        writeln!(stdin, r#"{{"jsonrpc":"2.0","id":4,"method":"tools/list"}}"#).expect("write");
        stdin
    });
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut seen, mut anonymous) = (std::collections::HashMap::new(), Vec::new());
    while seen.len() < 6 {
        let line = lines.next().expect("a response").expect("utf8");
        let v: Value = serde_json::from_str(&line).expect("only JSON-RPC on stdout");
        match v["id"].as_i64() {
            Some(id) => seen.insert(id, v),
            None => {
                anonymous.push(v);
                None
            }
        };
    }
    assert!(seen[&1]["result"]["serverInfo"]["name"] == "wasm-host");
    assert_eq!(seen[&2]["error"]["code"], -32601, "unknown method");
    assert!(seen[&3]["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(
        seen[&4]["result"]["tools"].is_array(),
        "still usable after bad UTF-8 and an oversized message"
    );
    for id in [5, 6] {
        assert_eq!(seen[&id]["error"]["code"], -32602, "wrong params type: {}", seen[&id]);
        assert!(
            seen[&id]["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("invalid params for tools/call")),
            "{}",
            seen[&id]
        );
    }
    assert!(!seen.contains_key(&99), "the oversized request must not run");
    let codes: Vec<i64> = anonymous.iter().filter_map(|v| v["error"]["code"].as_i64()).collect();
    assert_eq!(codes.iter().filter(|&&c| c == -32700).count(), 4, "parse errors: {anonymous:?}");
    let too_big: Vec<&Value> = anonymous.iter().filter(|v| v["error"]["code"] == -32600).collect();
    assert_eq!(too_big.len(), 1, "{anonymous:?}");
    let msg = too_big[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("too large") && msg.contains("16777216"), "{msg}");
    drop(writer.join().expect("writer"));
    let _ = child.wait();
}

/// Runs tests/py/mcp_client.py with the repository's venv (the `mcp` package is installed by
/// scripts/setup) and returns what it printed.
fn python_client(args: &[String]) -> Value {
    let python = wasm_host_tests::repo().join(".venv/bin/python");
    let script = wasm_host_tests::repo().join("tests/py/mcp_client.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .output()
        .expect("run the Python MCP client (scripts/setup installs it into .venv)");
    assert!(out.status.success(), "python client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

fn check_python_view(v: &Value) {
    let tools: Vec<&str> =
        v["tools"].as_array().expect("tools").iter().filter_map(Value::as_str).collect();
    assert!(
        tools.contains(&"grep.count")
            && tools.contains(&"csv.aggregate")
            && tools.contains(&"json-query.query"),
        "{tools:?}"
    );
    assert_eq!(v["grep"]["total"], 2);
    assert!(v["csv"]["results"].to_string().contains("\"eu\""), "{}", v["csv"]);
    assert_eq!(v["jq"]["results"], json!(["a", "b"]));
    assert_eq!(v["bad_is_error"], true);
}

#[test]
fn official_python_client_over_stdio() {
    warm_cache();
    let d = data();
    let mut args = vec![
        "stdio".to_string(),
        env!("CARGO_BIN_EXE_wasm-host").to_string(),
        d.path().display().to_string(),
    ];
    args.extend(["grep", "csv", "json-query"].iter().map(|g| guest(g).display().to_string()));
    check_python_view(&python_client(&args));
}

#[test]
fn official_python_client_over_http() {
    let d = data();
    let (mut child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    check_python_view(&python_client(&["http".to_string(), url]));
    child.kill().expect("kill");
}

/// Workspace directories (named by their 32-hex handle) under `root`.
fn workspace_dirs(root: &std::path::Path) -> usize {
    std::fs::read_dir(root)
        .map(|d| d.flatten().filter(|e| e.file_name().len() == 32).count())
        .unwrap_or(0)
}

#[test]
fn official_python_2x_client_keeps_a_workspace_by_handle_and_stateless_calls_leave_nothing() {
    // Row 1 and row 35: before the fix, every stateless request made (and kept) a workspace
    // directory of its own, so a file written by one execute_code was gone for the next.
    let d = data();
    let root = wasm_host_tests::scratch();
    let mut args = serve_args(d.path(), &["--http", "127.0.0.1:0", "--max-workspaces", "3"]);
    args.retain(|a| a != "--no-workspaces");
    args.extend(["--workspaces".into(), root.path().display().to_string()]);
    let (_child, url) = http_server(&args);
    let v = python_script("stateless_workspace.py", &[url.clone(), "1000".into()]);
    assert_eq!(
        v["protocol"], "2026-07-28",
        "the SDK's default mode is the stateless protocol: {v}"
    );
    assert_eq!(
        (v["kept"].as_bool(), v["fresh_sees_it"].as_bool()),
        (Some(true), Some(false)),
        "{v}"
    );
    assert_eq!(v["errors"], 0, "{v}");
    assert_eq!(
        workspace_dirs(root.path()),
        1,
        "1,000 calls that wrote nothing left no directory; the written one stays"
    );
    // The server-wide cap: three workspaces at most, then a clear error naming the cap.
    let writes = "open('/workspace/x', 'w').write('x'); return 1";
    let v = python_script(
        "stateless_logging.py",
        &[
            url.clone(),
            "execute_code".into(),
            json!({"language": "python", "code": writes}).to_string(),
        ],
    );
    assert_eq!(workspace_dirs(root.path()), 3, "{v}");
    let out = std::process::Command::new(wasm_host_tests::repo().join(".venv/bin/python"))
        .arg(wasm_host_tests::repo().join("tests/py/stateless_workspace.py"))
        .args([url, "0".into()])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("max_workspaces"),
        "the fourth workspace is refused, naming the cap: {err}"
    );
}

#[test]
fn stateless_requests_get_log_notifications_only_at_a_requested_level() {
    // The 2026-07-28 conformance check "server-no-log-without-loglevel": before the fix, every
    // request got the guest's output as notifications/message at the server-wide level.
    let d = data();
    let (_child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    let v = python_script(
        "stateless_logging.py",
        &[url, "hostile-rust.stdout".into(), json!({"lines": 3}).to_string()],
    );
    assert_eq!(v["protocol"], "2026-07-28", "{v}");
    assert_eq!(v["without"], 0, "no log level asked for, no log messages: {v}");
    assert!(v["with"].as_u64().is_some_and(|n| n >= 3), "at debug, the guest's lines arrive: {v}");
}
