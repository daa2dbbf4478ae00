//! Code mode end to end through real MCP clients: search_tools → read a stub resource →
//! execute_code in JavaScript and Python calling tools of all three languages; stubs agree with
//! the runtime's functions; workspaces (kept by a session and by handle, isolated between
//! sessions that do not hold the handle) with checkpoint / restore; accounting on /metrics.

use rmcp::model::ReadResourceRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::collections::BTreeSet;

mod common;
use common::*;

async fn read(client: &RunningService<RoleClient, Client>, uri: &str) -> String {
    let r = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|e| panic!("read {uri}: {e}"));
    let v = serde_json::to_value(&r).expect("json");
    v["contents"][0]["text"].as_str().unwrap_or_default().to_string()
}

async fn execute(
    client: &RunningService<RoleClient, Client>,
    language: &str,
    code: &str,
) -> (bool, String) {
    let r = call(client, "execute_code", json!({"language": language, "code": code})).await;
    (r.is_error != Some(true), text(&r))
}

/// The `result: ...` line of an execute_code answer, as JSON.
fn result_of(text: &str) -> Value {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("result: "))
        .unwrap_or_else(|| panic!("no result line in {text}"));
    serde_json::from_str(line).expect("result JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_in_code_mode_searches_reads_a_stub_and_runs_js_and_python_over_three_languages() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &["--mode", "code"])).await;
    let listed: Vec<String> =
        client.list_all_tools().await.expect("list").iter().map(|t| t.name.to_string()).collect();
    assert_eq!(listed, ["search_tools", "execute_code"]);
    let info = client.peer_info().and_then(|i| i.instructions.clone()).unwrap_or_default();
    assert!(info.contains("execute_code"), "{info}");

    let r = call(
        &client,
        "search_tools",
        json!({"query": "count matches of a pattern in files", "detail": "summary"}),
    )
    .await;
    let found: Value = serde_json::from_str(&text(&r)).expect("json");
    assert_eq!(found["tools"][0]["name"], "grep.count", "{found}");
    let stub = read(&client, "wasm-host://tools/grep/count.d.ts").await;
    assert!(stub.contains("tools.grep.count") && stub.contains("pattern: string"), "{stub}");

    let js = r#"const todo = (await tools.grep.count({ pattern: "TODO", path: "/data" })).total;
const units = tools.csv.aggregate({ path: "/data/sales.csv", column: "units", ops: ["sum"] }).results[0].sum;
const names = (await tools.json_query.query({ file: "/data/items.json", select: "items[*].name" })).results;
return { todo, units, names: names.filter((n) => n !== "a") };"#;
    let (ok, out) = execute(&client, "javascript", js).await;
    assert!(ok, "{out}");
    assert_eq!(result_of(&out), json!({"todo": 2, "units": 15, "names": ["b"]}), "{out}");
    assert!(out.contains("3 tool call(s) returned"), "{out}");

    let py = r#"todo = tools.grep.count(pattern="TODO", path="/data")["total"]
units = tools.csv.aggregate(path="/data/sales.csv", column="units", ops=["sum"])["results"][0]["sum"]
names = tools.json_query.query(file="/data/items.json", select="items[*].name")["results"]
print("names:", names)
{"todo": todo, "units": units, "names": [n for n in names if n != "a"]}"#;
    let (ok, out) = execute(&client, "python", py).await;
    assert!(ok, "{out}");
    assert!(out.starts_with("names: ['a', 'b']\n"), "printed output comes first: {out}");
    assert_eq!(result_of(&out), json!({"todo": 2, "units": 15, "names": ["b"]}), "{out}");

    let (ok, out) = execute(&client, "python", "tools.csv.columns(path='/data/nope.csv')").await;
    assert!(
        !ok && out.contains("ToolError") && out.contains("line 1"),
        "a failing program is an isError result: {out}"
    );
    let r = call(&client, "execute_code", json!({"language": "cobol", "code": "x"})).await;
    assert!(r.is_error == Some(true) && text(&r).contains("unknown language"), "{}", text(&r));
    let r = call(
        &client,
        "execute_code",
        json!({"language": "javascript", "code": "for(;;){}", "timeout": 0.5}),
    )
    .await;
    assert!(
        r.is_error == Some(true) && text(&r).contains("500ms timeout"),
        "the caller's timeout applies: {}",
        text(&r)
    );
    let (ok, out) = execute(&client, "javascript", "return 6 * 7").await;
    assert!(ok && out.contains("result: 42"), "the server keeps serving: {out}");
    client.cancel().await.expect("close");
}

/// Every stub's `tools.<component>.<tool>` exists as a function in both runners, and every
/// runner function has a stub; a call shaped by a `.pyi` (keyword arguments) works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubs_and_runtime_functions_agree() {
    let d = data();
    let client = stdio_client(&serve_args(d.path(), &["--mode", "code"])).await;
    let index = read(&client, "wasm-host://tools/index.md").await;
    let mut from_stubs = BTreeSet::new();
    for uri in client
        .list_all_resources()
        .await
        .expect("resources")
        .iter()
        .map(|r| r.uri.clone())
        .filter(|u| u.ends_with(".d.ts") || u.ends_with(".pyi"))
    {
        let stub = read(&client, &uri).await;
        let name = stub
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// ").or_else(|| l.strip_prefix("# ")))
            .unwrap_or_default()
            .to_string();
        let function = name.rsplit('.').next().unwrap_or_default().to_string();
        assert!(
            stub.contains(&format!("function {function}("))
                || stub.contains(&format!("def {function}(")),
            "{uri}: {stub}"
        );
        assert!(index.contains(&format!("`{name}`")), "{name} is in the index");
        from_stubs.insert(name);
    }
    assert!(from_stubs.len() > 10, "{from_stubs:?}");
    let (ok, out) = execute(&client, "javascript", "return Object.entries(tools).flatMap(([c, fns]) => Object.keys(fns).filter((f) => typeof fns[f] === 'function').map((f) => `tools.${c}.${f}`))").await;
    assert!(ok, "{out}");
    let js: BTreeSet<String> = serde_json::from_value(result_of(&out)).expect("names");
    let (ok, out) = execute(&client, "python", "[f'tools.{c}.{f}' for c, ns in vars(tools).items() for f, fn in vars(ns).items() if callable(fn)]").await;
    assert!(ok, "{out}");
    let py: BTreeSet<String> = serde_json::from_value(result_of(&out)).expect("names");
    assert_eq!(js, from_stubs, "JavaScript functions = stubs");
    assert_eq!(py, from_stubs, "Python functions = stubs");
    // The .pyi says keyword-only `path` and `column`: called that way, it works.
    let pyi = read(&client, "wasm-host://tools/csv/aggregate.pyi").await;
    assert!(
        pyi.contains("def aggregate(*, path: str") && pyi.contains("column: str | None = None"),
        "{pyi}"
    );
    let (ok, out) = execute(&client, "python", "tools.csv.aggregate(path='/data/sales.csv', column='units', ops=['max'])['results'][0]['max']").await;
    assert!(ok && out.contains("result: 7"), "{out}");
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspaces_persist_within_a_session_are_isolated_between_sessions_and_checkpoint() {
    let d = data();
    let root = wasm_host_tests::scratch();
    let mut args = serve_args(d.path(), &["--http", "127.0.0.1:0"]);
    args.retain(|a| a != "--no-workspaces");
    args.extend(["--workspaces".into(), root.path().display().to_string()]);
    let (mut child, url) = http_server(&args);
    let connect = || async {
        Client::default()
            .serve(StreamableHttpClientTransport::from_uri(url.clone()))
            .await
            .expect("initialize over HTTP")
    };
    let (one, two) = (connect().await, connect().await);
    let listed: Vec<String> =
        one.list_all_tools().await.expect("list").iter().map(|t| t.name.to_string()).collect();
    assert!(
        ["execute_code", "checkpoint", "restore"].iter().all(|t| listed.contains(&t.to_string())),
        "{listed:?}"
    );

    let (ok, out) = execute(&one, "python", "open('plan.txt', 'w').write('v1')").await;
    assert!(ok && out.contains("files written: /workspace/plan.txt (2 bytes)"), "{out}");
    assert!(out.contains("workspace: "), "a new workspace's handle is shown once: {out}");
    let (ok, out) = execute(&one, "javascript", "return fs.readText('/workspace/plan.txt')").await;
    assert!(ok && out.contains("result: \"v1\""), "the session's next run sees it: {out}");
    let (ok, out) = execute(&two, "javascript", "return fs.listDir('/workspace').length").await;
    assert!(ok && out.contains("result: 0"), "another session has its own, empty workspace: {out}");

    let r = call(&one, "checkpoint", json!({"name": "first"})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let (ok, _) = execute(&one, "python", "open('plan.txt', 'w').write('v2, broken')").await;
    assert!(ok);
    let r = call(&one, "restore", json!({"name": "first"})).await;
    assert!(r.is_error != Some(true) && text(&r).contains("restored"), "{}", text(&r));
    let (_, out) = execute(&one, "python", "open('plan.txt').read()").await;
    assert!(out.contains("result: \"v1\""), "{out}");
    let r = call(&two, "restore", json!({"name": "first"})).await;
    assert!(
        r.is_error == Some(true) && text(&r).contains("no workspace"),
        "session two wrote nothing, so it has no workspace: {}",
        text(&r)
    );
    // The handle is the capability: whoever holds it (here session two) reaches the workspace.
    let r = call(&one, "execute_code", json!({"language": "python", "code": "return 1"})).await;
    let handle = r
        .structured_content
        .as_ref()
        .and_then(|v| v["workspace"].as_str())
        .expect("a workspace handle")
        .to_string();
    assert!(
        handle.len() == 32 && !text(&r).contains("workspace: "),
        "known already, not repeated: {}",
        text(&r)
    );
    let r = call(&two, "execute_code", json!({"language": "python", "code": "return open('plan.txt').read()", "workspace": handle})).await;
    assert!(text(&r).contains("result: \"v1\""), "{}", text(&r));
    let r = call(
        &two,
        "restore",
        json!({"name": "first", "workspace": "0123456789abcdef0123456789abcdef"}),
    )
    .await;
    assert!(
        r.is_error == Some(true) && text(&r).contains("expired"),
        "an unknown handle: {}",
        text(&r)
    );
    let r = call(&one, "checkpoint", json!({"name": "../escape"})).await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));

    let metrics = http_get(&url.replace("/mcp", "/metrics"));
    assert!(
        metrics.contains("wasm_host_code_runs_total{language=\"python\",status=\"ok\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wasm_host_code_returned_bytes_total{language=\"javascript\"}"),
        "{metrics}"
    );
    one.cancel().await.expect("close");
    two.cancel().await.expect("close");
    let _ = child.kill();
}

/// `serve` loads the runners on first use (warmed in the background), so a runner that cannot
/// load no longer stops the server at start: it is named when a program needs it, and the other
/// language's runner still loads and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_that_cannot_load_is_named_on_first_use_while_the_other_runs() {
    let d = data();
    // A tool component, not a program (it also asks for a directory no runner is given).
    let not_a_program = wasm_host_tests::guest("grep").display().to_string();
    let mut args = serve_args(d.path(), &["--mode", "code"]);
    let at = args.iter().position(|a| a == "--javascript-runner").expect("a JS runner is given");
    args[at + 1] = not_a_program.clone();
    let client = stdio_client(&args).await;
    let (ok, text) = execute(&client, "javascript", "return 6*7").await;
    assert!(!ok, "{text}");
    let why = format!(
        "the javascript runner could not be loaded: loading the javascript runner {not_a_program}"
    );
    assert!(text.contains(&why), "{text}");
    let (ok, text) = execute(&client, "python", "return 6*7").await;
    assert!(ok && result_of(&text) == json!(42), "{text}");
    // Asked again, the broken runner gives the same answer (it is retried, not cached as gone).
    let (ok, again) = execute(&client, "javascript", "return 1").await;
    assert!(!ok && again.contains(&why), "{again}");
    let _ = client.cancel().await;
}
