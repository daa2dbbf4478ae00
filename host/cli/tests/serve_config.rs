//! `wasm-host serve` configured by `wasm-host.toml`, hot reload of watched directories, and the
//! server under pressure: a 1 GiB stdio line, a full queue, hostile calls among benign ones.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasm_host_tests::{guest, scratch};

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("wasm-host.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn tool_names(tools: &[rmcp::model::Tool]) -> Vec<String> {
    let mut names: Vec<String> = tools
        .iter()
        .map(|t| t.name.to_string())
        .filter(|n| {
            !["search_tools", "execute_code", "checkpoint", "restore"].contains(&n.as_str())
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_serves_components_under_their_names_with_their_grants_and_limits() {
    warm_cache();
    let d = data();
    let toml = format!(
        r#"
[limits]
timeout = "20s"
[components.finder]
source = "{grep}"
dirs = ["{data}::/data:ro"]
[components.hostile-rust]
source = "{hostile}"
dirs = ["{data}::/data", "{data}::/ro:ro"]
env = ["GRANTED=1"]
[components.hostile-rust.limits]
timeout = "300ms"
"#,
        grep = guest("grep").display(),
        hostile = guest("hostile-rust").display(),
        data = d.path().display()
    );
    let config = write_config(d.path(), &toml);
    let client =
        stdio_client(&["serve".into(), "--config".into(), config.display().to_string()]).await;
    let names = tool_names(&client.list_all_tools().await.expect("tools/list"));
    assert!(
        names.contains(&"finder.count".to_string())
            && !names.iter().any(|n| n.starts_with("grep.")),
        "{names:?}"
    );
    let r =
        call(&client, "finder.count", json!({"pattern": "TODO", "path": "/data/notes.txt"})).await;
    let counted: Value = serde_json::from_str(&text(&r)).expect("count returns JSON");
    assert_eq!(counted["total"], 2, "two TODO lines: {}", text(&r));
    let started = Instant::now();
    let r = call(&client, "hostile-rust.spin", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("300ms") || text(&r).contains("0.3"),
        "the component's own limit applies: {}",
        text(&r)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped by the 300 ms limit, not the 20 s default"
    );
    client.cancel().await.expect("close");
}

#[test]
fn an_invalid_config_fails_at_start_naming_the_line_and_the_reason() {
    let d = scratch();
    for (body, line, reason) in [
        ("[server]\ntransport = \"http\"\nhttp = \"localhost-ish\"\n", 3, "invalid socket address"),
        ("[limits]\n\ntimeout = \"soon\"\n", 3, "not a duration"),
        ("[components.x]\nsource = \"x.wasm\"\nhosts = [\"http://a/b\"]\n", 3, "hosts"),
        ("[grants]\ndirz = []\n", 2, "unknown field `dirz`"),
    ] {
        let config = write_config(d.path(), body);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
            .args(["serve", "--config"])
            .arg(&config)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{body}");
        assert!(
            err.contains(&format!("wasm-host.toml:{line}:")) && err.contains(reason),
            "{body} -> {err}"
        );
    }
}

/// Copies `from` into `dir` as `name` the way deploys should: write a temp file, then rename.
fn install(from: &Path, dir: &Path, name: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(from, &tmp).expect("copy");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_adds_and_removes_tools_and_refuses_a_rug_pull() {
    warm_cache();
    let d = data();
    let watched = scratch();
    install(&guest("grep"), watched.path(), "grep.wasm");
    let args = vec![
        "serve".into(),
        watched.path().display().to_string(),
        "--dir".into(),
        format!("{}::/data:ro", d.path().display()),
    ];
    let client = stdio_client(&args).await;
    let handler = client.service().clone();
    assert_eq!(
        tool_names(&client.list_all_tools().await.expect("list")),
        ["grep.count", "grep.files", "grep.read", "grep.search"]
    );

    install(&guest("csv"), watched.path(), "csv.wasm");
    wait_for("list_changed after adding csv", || handler.list_changed.load(Ordering::SeqCst) >= 1)
        .await;
    let names = tool_names(&client.list_all_tools().await.expect("list"));
    assert!(names.iter().any(|n| n.starts_with("csv.")), "{names:?}");
    let r = call(
        &client,
        "csv.aggregate",
        json!({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));

    // Same name and version, different bytes (a custom section appended): refused.
    let mut bytes = std::fs::read(guest("grep")).expect("read");
    bytes.extend_from_slice(&[0x00, 0x03, 0x01, b'x', b'y']);
    let tmp = watched.path().join(".grep.tmp");
    std::fs::write(&tmp, &bytes).expect("write");
    std::fs::rename(&tmp, watched.path().join("grep.wasm")).expect("rename");
    let logs = handler.logs.clone();
    wait_for("the rug pull to be reported", || {
        logs.lock().expect("lock").iter().any(|l| l.contains("same version"))
    })
    .await;
    assert_eq!(
        handler.list_changed.load(Ordering::SeqCst),
        1,
        "a refused change does not change the list"
    );
    let r =
        call(&client, "grep.count", json!({"pattern": "TODO", "path": "/data/notes.txt"})).await;
    assert_ne!(r.is_error, Some(true), "the old bytes keep serving: {}", text(&r));

    std::fs::remove_file(watched.path().join("csv.wasm")).expect("remove");
    wait_for("list_changed after removing csv", || {
        handler.list_changed.load(Ordering::SeqCst) >= 2
    })
    .await;
    assert_eq!(
        tool_names(&client.list_all_tools().await.expect("list")),
        ["grep.count", "grep.files", "grep.read", "grep.search"]
    );
    let unknown = client.call_tool(rmcp::model::CallToolRequestParams::new("csv.aggregate")).await;
    assert!(unknown.is_err(), "a removed tool is unknown");

    // Row 7: delete the served file, then drop the other bytes in under the same name: before the
    // fix the record went with the file and they were "added". Now the name@version record stays.
    let rug_pulls =
        || logs.lock().expect("lock").iter().filter(|l| l.contains("same version")).count();
    std::fs::remove_file(watched.path().join("grep.wasm")).expect("remove");
    wait_for("list_changed after removing grep", || {
        handler.list_changed.load(Ordering::SeqCst) >= 3
    })
    .await;
    std::fs::write(watched.path().join(".grep.tmp"), &bytes).expect("write");
    std::fs::rename(watched.path().join(".grep.tmp"), watched.path().join("grep.wasm"))
        .expect("rename");
    wait_for("the second rug pull to be reported", || rug_pulls() >= 2).await;
    std::fs::write(watched.path().join(".copy.tmp"), &bytes).expect("write");
    std::fs::rename(watched.path().join(".copy.tmp"), watched.path().join("grep-copy.wasm"))
        .expect("rename");
    wait_for("the copy under another name to be refused", || rug_pulls() >= 3).await;
    // More events in the directory rescan it; a refused file is reported once, not on every scan.
    for i in 0..10 {
        std::fs::write(watched.path().join("notes.txt"), format!("event {i}")).expect("write");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(rug_pulls(), 3, "each refusal is reported once: {:?}", logs.lock().expect("lock"));
    assert_eq!(
        handler.list_changed.load(Ordering::SeqCst),
        3,
        "refused bytes never changed the list"
    );
    assert!(
        tool_names(&client.list_all_tools().await.expect("list")).is_empty(),
        "nothing serves the refused bytes"
    );
    client.cancel().await.expect("close");
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("number")
}

/// docs/SECURITY.md row 19: a stdio "line" of 1 GiB with no newline must not be buffered.
#[test]
fn a_one_gib_stdio_line_gets_an_error_and_memory_stays_bounded() {
    warm_cache();
    let d = data();
    let args = [
        "serve".to_string(),
        guest("grep").display().to_string(),
        "--dir".into(),
        format!("{}::/data:ro", d.path().display()),
    ];
    let mut child = raw_stdio_child(&args);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ping = |id: u32| format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"raw","version":"0"}}}}}}"#).expect("write");
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).expect("write");
    writeln!(stdin, "{}", ping(2)).expect("write");
    let _ = lines.next().expect("initialize answer");
    let _ = lines.next().expect("ping answer");
    let before = peak_rss_kib(child.id());
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..1024 {
        stdin.write_all(&chunk).expect("write 1 GiB");
    }
    writeln!(stdin).expect("newline");
    writeln!(stdin, "{}", ping(3)).expect("write");
    let err: Value =
        serde_json::from_str(&lines.next().expect("an answer").expect("utf8")).expect("json");
    assert_eq!(err["error"]["code"], -32600, "{err}");
    assert!(err["error"]["message"].as_str().is_some_and(|m| m.contains("too large")), "{err}");
    let pong: Value =
        serde_json::from_str(&lines.next().expect("an answer").expect("utf8")).expect("json");
    assert_eq!(pong["id"], 3, "still serving: {pong}");
    let grown_mib = peak_rss_kib(child.id()).saturating_sub(before) / 1024;
    assert!(grown_mib < 48, "peak RSS grew {grown_mib} MiB reading a 1 GiB line (16 MiB limit)");
    drop(stdin);
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy_at_once_and_the_server_keeps_serving() {
    warm_cache();
    let d = data();
    let toml = format!(
        "[server]\nmax_calls_per_tool = 1\nmax_queue = 0\n[components.hostile-rust]\nsource = \"{}\"\ndirs = [\"{d}::/data\", \"{d}::/ro:ro\"]\nenv = [\"GRANTED=1\"]\n",
        guest("hostile-rust").display(),
        d = d.path().display()
    );
    let config = write_config(d.path(), &toml);
    let client =
        stdio_client(&["serve".into(), "--config".into(), config.display().to_string()]).await;
    let slow = call(&client, "hostile-rust.sleep", json!({"ms": 1500}));
    let busy = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        (call(&client, "hostile-rust.sleep", json!({"ms": 1})).await, started.elapsed())
    };
    let (slow, (busy, waited)) = tokio::join!(slow, busy);
    assert_ne!(slow.is_error, Some(true), "{}", text(&slow));
    assert_eq!(busy.is_error, Some(true));
    assert!(text(&busy).contains("server busy"), "{}", text(&busy));
    assert!(
        waited < Duration::from_millis(500),
        "busy is answered at once, not after the slow call ({waited:?})"
    );
    let again = call(&client, "hostile-rust.sleep", json!({"ms": 1})).await;
    assert_ne!(again.is_error, Some(true), "the slot came back: {}", text(&again));
    client.cancel().await.expect("close");
}

/// docs/SECURITY.md row 27 through the server: benign calls succeed while a fifth of the calls are
/// hostile; every hostile call ends with a clear error; no instance is left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_calls_among_benign_ones_over_http() {
    let d = data();
    let (mut child, url) = http_server(&serve_args(d.path(), &["--http", "127.0.0.1:0"]));
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.clone());
    let client =
        rmcp::ServiceExt::serve(Client::default(), transport).await.expect("initialize over HTTP");
    let calls = (0..50).map(|i| {
        let (tool, args) = if i % 5 == 0 {
            ("hostile-rust.spin", json!({}))
        } else {
            ("grep.count", json!({"pattern": "TODO", "path": "/data/notes.txt"}))
        };
        let client = &client;
        async move { (tool, call(client, tool, args).await) }
    });
    let results = futures::future::join_all(calls).await;
    for (tool, r) in &results {
        if tool.starts_with("hostile") {
            assert_eq!(r.is_error, Some(true), "{tool}");
            assert!(text(r).contains("time"), "a clear limit error: {}", text(r));
        } else {
            let counted: Value = serde_json::from_str(&text(r)).expect("count returns JSON");
            assert_eq!(counted["total"], 2, "{tool}: {}", text(r));
        }
    }
    let metrics = http_get(&url.replace("/mcp", "/metrics"));
    assert!(metrics.contains("wasm_host_instances_live 0"), "{metrics}");
    assert!(
        metrics
            .contains("wasm_host_calls_total{tool=\"hostile-rust.spin\",outcome=\"deadline\"} 10"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasm_host_calls_total{tool=\"grep.count\",outcome=\"ok\"} 40"),
        "{metrics}"
    );
    client.cancel().await.expect("close");
    let _ = child.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_tools_finds_the_right_tool_and_modes_decide_what_is_listed() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &[])).await;
    let listed: Vec<String> =
        client.list_all_tools().await.expect("list").iter().map(|t| t.name.to_string()).collect();
    assert!(
        listed.contains(&"search_tools".to_string()) && listed.contains(&"grep.count".to_string()),
        "both mode: {listed:?}"
    );
    let r = call(
        &client,
        "search_tools",
        json!({"query": "sum a column of a CSV grouped by region", "detail": "full", "limit": 3}),
    )
    .await;
    let found: Value = serde_json::from_str(&text(&r)).expect("json");
    assert_eq!(found["tools"][0]["name"], "csv.aggregate", "{found}");
    let sig = found["tools"][0]["signature"].as_str().unwrap_or_default();
    assert!(sig.starts_with("csv.aggregate(args: {") && sig.contains("path: string"), "{sig}");
    let r = call(
        &client,
        "search_tools",
        json!({"query": "count lines matching a pattern", "detail": "name"}),
    )
    .await;
    let found: Value = serde_json::from_str(&text(&r)).expect("json");
    assert_eq!(found["tools"][0], "grep.count", "{found}");
    let resources = client.list_all_resources().await.expect("resources/list");
    let uris: Vec<String> = resources.iter().map(|r| r.uri.clone()).collect();
    assert!(
        uris.contains(&"wasm-host://tools/index.md".to_string())
            && uris.contains(&"wasm-host://tools/csv/aggregate.pyi".to_string()),
        "{uris:?}"
    );
    let read = |uri: &str| client.read_resource(rmcp::model::ReadResourceRequestParams::new(uri));
    let stub = read("wasm-host://tools/csv/aggregate.pyi").await.expect("read the stub");
    let stub = serde_json::to_value(&stub).expect("json").to_string();
    assert!(
        stub.contains("def aggregate(*, path: str"),
        "the required parameter comes first, typed: {stub}"
    );
    let stub =
        serde_json::to_value(read("wasm-host://tools/json-query/query.d.ts").await.expect("read"))
            .expect("json")
            .to_string();
    assert!(
        stub.contains("tools.json_query.query")
            && stub.contains("export declare function query(args: {"),
        "{stub}"
    );
    assert!(
        read("wasm-host://tools/csv/nope.pyi").await.is_err(),
        "an unknown stub is a JSON-RPC error"
    );
    let r = call(&client, "search_tools", json!({"query": "x", "detail": "everything"})).await;
    assert_eq!(r.is_error, Some(true), "a bad detail is a clear tool error: {}", text(&r));
    client.cancel().await.expect("close");

    let code = stdio_client(&serve_args(d.path(), &["--mode", "code"])).await;
    let listed: Vec<String> =
        code.list_all_tools().await.expect("list").iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        listed,
        ["search_tools", "execute_code"],
        "code mode lists only meta-tools (no workspaces: no checkpoint/restore)"
    );
    let info = code.peer_info().and_then(|i| i.instructions.clone()).unwrap_or_default();
    assert!(info.contains("Code mode") && info.contains("search_tools"), "{info}");
    let r = call(&code, "grep.count", json!({"pattern": "TODO", "path": "/data/notes.txt"})).await;
    assert_ne!(r.is_error, Some(true), "found tools are still callable by name: {}", text(&r));
    code.cancel().await.expect("close");

    let direct = stdio_client(&serve_args(d.path(), &["--mode", "direct"])).await;
    let listed: Vec<String> =
        direct.list_all_tools().await.expect("list").iter().map(|t| t.name.to_string()).collect();
    assert!(!listed.contains(&"search_tools".to_string()) && listed.len() > 5, "{listed:?}");
    direct.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_serves_components_by_registry_reference() {
    warm_cache();
    let d = data();
    let home = scratch();
    let publish = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
        .args([
            "--home",
            &home.path().display().to_string(),
            "publish",
            &guest("csv").display().to_string(),
        ])
        .output()
        .expect("publish");
    assert!(publish.status.success(), "{}", String::from_utf8_lossy(&publish.stderr));
    let config = write_config(
        d.path(),
        &format!(
            "[components.sales]\nsource = \"csv@^0.1\"\ndirs = [\"{}::/data:ro\"]\n",
            d.path().display()
        ),
    );
    let args: Vec<String> = vec![
        "--home".into(),
        home.path().display().to_string(),
        "serve".into(),
        "--config".into(),
        config.display().to_string(),
        "--no-workspaces".into(),
    ];
    let client = stdio_client(&args).await;
    let names = tool_names(&client.list_all_tools().await.expect("list"));
    assert!(names.contains(&"sales.aggregate".to_string()), "{names:?}");
    let r = call(
        &client,
        "sales.aggregate",
        json!({"path": "/data/sales.csv", "column": "units", "ops": ["sum"]}),
    )
    .await;
    assert!(r.is_error != Some(true) && text(&r).contains("15"), "{}", text(&r));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockfile_pins_the_bytes_serve_accepts() {
    warm_cache();
    let d = data();
    let dir = scratch();
    std::fs::copy(guest("csv"), dir.path().join("csv.wasm")).expect("copy");
    let config = write_config(
        dir.path(),
        &format!(
            "[components.csv]\nsource = \"csv.wasm\"\ndirs = [\"{}::/data:ro\"]\n",
            d.path().display()
        ),
    );
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host"))
            .args(args)
            .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
            .output()
            .expect("run")
    };
    let cfg = config.display().to_string();
    let lock = run(&["lock", "--config", &cfg]);
    assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
    let text = std::fs::read_to_string(dir.path().join("wasm-host.lock")).expect("lock file");
    assert!(text.contains("name = \"csv\"") && text.contains("sha256 = "), "{text}");
    let client =
        stdio_client(&["serve".into(), "--config".into(), cfg.clone(), "--no-workspaces".into()])
            .await;
    assert!(
        tool_names(&client.list_all_tools().await.expect("list"))
            .contains(&"csv.aggregate".to_string())
    );
    client.cancel().await.expect("close");
    // Same name, other bytes: serve refuses to start, naming the component and the lock.
    let mut bytes = std::fs::read(guest("csv")).expect("read");
    bytes.extend_from_slice(&[0x00, 0x03, 0x01, b'x', b'y']);
    std::fs::write(dir.path().join("csv.wasm"), bytes).expect("write");
    let out = run(&["serve", "--config", &cfg, "--no-workspaces"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("wasm-host.lock (csv = ")
            && err.contains("before running any of its code"),
        "{err}"
    );
    // With a lock, it covers every component: a file given as a path, and a watched directory.
    std::fs::copy(guest("csv"), dir.path().join("csv.wasm")).expect("restore csv");
    let grep = guest("grep").display().to_string();
    let out = run(&["serve", "--config", &cfg, "--no-workspaces", &grep]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("grep is not in wasm-host.lock"), "{err}");
    let watched = scratch();
    std::fs::copy(guest("grep"), watched.path().join("grep.wasm")).expect("copy");
    let w = watched.path().display().to_string();
    let out = run(&["serve", "--config", &cfg, "--no-workspaces", &w]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("grep is not in wasm-host.lock"), "{err}");
}

/// Starts `serve json-query` with `cache` as its compile cache, answers `tools/list`, and returns
/// the server's own peak RSS in KiB at that point (VmHWM: this process, not its children).
fn peak_rss_serving_json_query(cache: &Path, data: &Path) -> u64 {
    let args = [
        "serve".to_string(),
        guest("json-query").display().to_string(),
        "--dir".into(),
        format!("{}::/data:ro", data.display()),
        "--mode".into(),
        "direct".into(),
        "--cache-dir".into(),
        cache.display().to_string(),
    ];
    let mut child = raw_stdio_child(&args);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"raw","version":"0"}}}}}}"#).expect("write");
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).expect("write");
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).expect("write");
    let _ = lines.next().expect("initialize answer");
    let list = lines.next().expect("tools/list answer").expect("utf8");
    assert!(list.contains("json-query.query"), "{list}");
    let peak = peak_rss_kib(child.id());
    drop(stdin);
    let _ = child.wait();
    peak
}

/// Issue 16: a cold start (empty cache) compiles in a child process, so the server's own peak
/// memory stays near a warm start's instead of holding the compiler's (about 3x before).
#[test]
fn a_cold_start_compiles_in_a_child_and_peaks_near_a_warm_start() {
    let d = scratch();
    let cache = d.path().join("cache");
    let cold = peak_rss_serving_json_query(&cache, d.path());
    let artifacts = std::fs::read_dir(&cache).expect("cache").count();
    assert_eq!(artifacts, 1, "the child wrote the artifact into the server's cache");
    let warm = peak_rss_serving_json_query(&cache, d.path());
    assert!(
        cold <= warm + warm / 5 + 16 * 1024,
        "cold peak {} MiB vs warm {} MiB (limit 1.2x + 16 MiB)",
        cold / 1024,
        warm / 1024
    );
}
