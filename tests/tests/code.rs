//! Code mode through the runtime: JavaScript and Python programs (in the real runner components)
//! calling real Rust, JS and Python tools; errors as exceptions; hostile agent code
//! (docs/SECURITY.md rows 1, 5, 8, 9, 17, 28, 29, 31, 32); workspaces; byte accounting.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasm_host_code::{
    CodeRunner, ExecRequest, Execution, Language, Workspace, WorkspaceLimits, Workspaces,
};
use wasm_host_policy::{Grants, Limits};
use wasm_host_runtime::{Catalog, Executor};
use wasm_host_tests::{dir, load, runtime, scratch};

/// Test data: text for grep, a CSV for csv, 5,000 JSON items for json-query.
fn data() -> tempfile::TempDir {
    let d = scratch();
    std::fs::write(d.path().join("notes.txt"), "TODO one\nfine\nTODO two\n").expect("write");
    std::fs::write(d.path().join("sales.csv"), "region,units\neu,3\nus,5\neu,7\n").expect("write");
    let items: Vec<Value> = (0..5000)
        .map(|i| json!({"id": i, "name": format!("item-{i}"), "score": (i * 37) % 1000}))
        .collect();
    std::fs::write(d.path().join("items.json"), json!({ "items": items }).to_string())
        .expect("write");
    d
}

/// A runner over grep (Rust), json-query (JS), csv (Python) and program-rust (as `prog`), with
/// `data` as /data. `limits` apply to the programs; the tools get the defaults with a 5 s timeout.
async fn code_runner(data: &std::path::Path, limits: Limits) -> CodeRunner {
    let grants = Grants { dirs: vec![dir(data, "/data", true)], ..Grants::default() };
    let tool_limits = Limits { timeout: Duration::from_secs(5), ..Limits::default() };
    let catalog = Arc::new(Catalog::new());
    for tool in ["grep", "json-query", "csv"] {
        catalog.insert(load(tool, grants.clone(), tool_limits.clone()).await);
    }
    catalog.insert(load("program-rust", Grants::default(), tool_limits).await);
    let mut runner = CodeRunner::new(Executor::new(runtime(), catalog), limits.clone());
    runner.add_runner(
        Language::JavaScript,
        load("runner-js", Grants::default(), limits.clone()).await,
    );
    runner.add_runner(Language::Python, load("runner-python", Grants::default(), limits).await);
    runner
}

fn limits() -> Limits {
    Limits { timeout: Duration::from_secs(5), output_bytes: 4096, ..Limits::default() }
}

async fn run(
    runner: &CodeRunner,
    language: Language,
    code: &str,
    ws: Option<&Workspace>,
) -> Execution {
    runner.execute(ExecRequest { language, code, timeout: None, extra_dirs: Vec::new() }, ws).await
}

fn ok(e: &Execution) -> &Value {
    assert_eq!(e.status, "ok", "{}", e.render());
    &e.value
}

const JS_ALL_THREE: &str = r#"
const todo = (await tools.grep.count({ pattern: "TODO", path: "/data" })).total;
const eu = tools.csv.aggregate({ path: "/data/sales.csv", group_by: "region", column: "units", ops: ["sum"] })
  .results.find((r) => r.group === "eu").sum;
const items = [];
for (let offset = 0; offset < 5000; offset += 1000) {
  items.push(...(await tools.json_query.query({ file: "/data/items.json", select: "items", limit: 1000, offset })).results);
}
const top = items.filter((i) => i.score >= 990).map((i) => i.id);
console.log(`scanned ${items.length} items`);
return { todo, eu, top: top.length, first: top[0] };
"#;

const PY_ALL_THREE: &str = r#"
todo = tools.grep.count(pattern="TODO", path="/data")["total"]
groups = tools.csv.aggregate({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["sum"]})["results"]
eu = next(g["sum"] for g in groups if g["group"] == "eu")
items = []
for offset in range(0, 5000, 1000):
    items += tools.json_query.query(file="/data/items.json", select="items", limit=1000, offset=offset)["results"]
top = [i["id"] for i in items if i["score"] >= 990]
print(f"scanned {len(items)} items")
{"todo": todo, "eu": eu, "top": len(top), "first": top[0]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_python_programs_call_tools_in_all_three_languages_and_return_a_small_answer() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let expected_top = (0..5000).filter(|i| (i * 37) % 1000 >= 990).count();
    let expected_first = (0..5000).find(|i| (i * 37) % 1000 >= 990).expect("one");
    for (language, code) in [(Language::JavaScript, JS_ALL_THREE), (Language::Python, PY_ALL_THREE)]
    {
        let e = run(&runner, language, code, None).await;
        assert_eq!(
            ok(&e),
            &json!({"todo": 2, "eu": 10, "top": expected_top, "first": expected_first}),
            "{language:?}"
        );
        assert_eq!(e.stdout, "scanned 5000 items\n");
        let a = e.accounting;
        assert_eq!(a.tool_calls, 7, "{language:?}: grep, csv and five pages of json-query");
        assert!(a.tool_result_bytes > 200_000, "5,000 items came back inside the sandbox: {a:?}");
        assert!(
            a.returned_bytes < 200 && a.returned_bytes * 1000 < a.tool_result_bytes,
            "only the answer came out: {a:?}"
        );
        assert!(e.render().contains("7 tool call(s) returned"), "{}", e.render());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_errors_surface_as_exceptions_the_program_can_catch_or_let_escape() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let js = r#"try { tools.csv.columns({ path: "/data/missing.csv" }); } catch (e) { return [e.name, e.kind, e.tool, e.message]; }"#;
    let v = ok(&run(&runner, Language::JavaScript, js, None).await).clone();
    assert_eq!(
        (&v[0], &v[1], &v[2]),
        (&json!("ToolError"), &json!("not-found"), &json!("csv.columns")),
        "{v}"
    );
    assert!(v[3].as_str().unwrap_or_default().contains("missing.csv"), "{v}");
    let py = "try:\n    tools.grep.search(pattern='(', path='/data')\nexcept ToolError as e:\n    return [e.kind, e.tool, str(e)]";
    let v = ok(&run(&runner, Language::Python, py, None).await).clone();
    assert_eq!((&v[0], &v[1]), (&json!("invalid-arguments"), &json!("grep.search")), "{v}");
    // Uncaught, the error names the tool and the program line.
    let e =
        run(&runner, Language::Python, "x = 1\ntools.csv.columns(path='/data/missing.csv')", None)
            .await;
    assert_eq!(e.status, "error");
    let err = e.error.as_ref().expect("the exception");
    assert_eq!(
        (err.name.as_str(), err.kind.as_deref(), err.tool.as_deref()),
        ("ToolError", Some("not-found"), Some("csv.columns"))
    );
    assert!(
        err.stack.contains("line 2") && err.stack.contains("tools.csv.columns"),
        "{}",
        err.stack
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_calls_get_the_schema_check_and_search_ranks_as_search_tools() {
    // Before the fix, a program's tools.call skipped the JSON Schema check that direct calls get
    // (the guest saw the bad arguments), and tools.search ranked by substring counts.
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let py = "try:\n    tools.grep.count(pattern=5, path='/data')\nexcept ToolError as e:\n    return [e.kind, str(e)]";
    let v = ok(&run(&runner, Language::Python, py, None).await).clone();
    assert_eq!(v[0], json!("invalid-arguments"), "{v}");
    assert!(
        v[1].as_str().is_some_and(
            |m| m.contains("checked against its input schema") && m.contains("/pattern")
        ),
        "{v}"
    );
    let js = r#"return searchTools("count pattern matches in files", 3).map((t) => t.name);"#;
    let e = run(&runner, Language::JavaScript, js, None).await;
    let found = ok(&e).clone();
    let catalog = runtime_catalog(&runner);
    let expected: Vec<String> = catalog
        .search("count pattern matches in files", 3)
        .into_iter()
        .map(|t| t.qualified)
        .collect();
    assert_eq!(found, json!(expected), "the program's search is the catalog's BM25F ranking");
    assert_eq!(expected.first().map(String::as_str), Some("grep.count"));
}

/// The catalog the runner's programs call into.
fn runtime_catalog(runner: &CodeRunner) -> Arc<Catalog> {
    runner.executor().catalog().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_exceptions_come_back_with_their_own_trimmed_traceback() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let e = run(
        &runner,
        Language::JavaScript,
        "const a = 1;\nfunction f(x) { return x.y.z; }\nreturn f({});",
        None,
    )
    .await;
    let err = e.error.clone().expect("error");
    assert_eq!(err.name, "TypeError", "{}", e.render());
    assert!(
        err.stack.contains("at f (program:2:") && err.stack.contains("(program:3:"),
        "{}",
        err.stack
    );
    let e =
        run(&runner, Language::Python, "def f(n):\n    return 1 / n\nprint('before')\nf(0)", None)
            .await;
    let err = e.error.clone().expect("error");
    assert_eq!(
        (err.name.as_str(), e.stdout.as_str()),
        ("ZeroDivisionError", "before\n"),
        "output printed before the error is kept"
    );
    assert!(
        err.stack.contains("line 4, in <program>") && err.stack.contains("line 2, in f"),
        "{}",
        err.stack
    );
    assert!(!err.stack.contains("app.py"), "runner frames are trimmed: {}", err.stack);
    let e = run(&runner, Language::Python, "def broken(:\n  pass", None).await;
    assert_eq!(e.error.as_ref().map(|x| x.name.as_str()), Some("SyntaxError"), "{}", e.render());
    let e = run(&runner, Language::JavaScript, "return {", None).await;
    assert_eq!(e.error.as_ref().map(|x| x.name.as_str()), Some("SyntaxError"), "{}", e.render());
    // Both runners still work (a fresh instance per run).
    assert_eq!(ok(&run(&runner, Language::JavaScript, "return 6 * 7", None).await), &json!(42));
    assert_eq!(ok(&run(&runner, Language::Python, "6 * 7", None).await), &json!(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_reaches_only_what_its_tools_were_granted() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    // The runner itself has no /data, no host env, no network; only the tools do.
    let js = r#"const out = [];
for (const p of ["/data/notes.txt", "/etc/passwd", "../../etc/passwd"]) {
  try { fs.readText(p); out.push("read " + p); } catch (e) { out.push(e.name); }
}
return out;"#;
    assert_eq!(
        ok(&run(&runner, Language::JavaScript, js, None).await),
        &json!(["Denied", "Denied", "Denied"])
    );
    let py = r#"import os
out = []
for p in ["/data/notes.txt", "/etc/passwd", "/workspace/x"]:
    try:
        open(p).read(); out.append("read " + p)
    except OSError as e:
        out.append(type(e).__name__)
[out, sorted(k for k in os.environ if k in ("HOME", "PATH", "USER"))]"#;
    let v = ok(&run(&runner, Language::Python, py, None).await).clone();
    assert!(
        v[0].as_array()
            .is_some_and(|a| a.iter().all(|x| x.as_str().is_some_and(|s| !s.starts_with("read")))),
        "{v}"
    );
    assert_eq!(v[1], json!([]), "no host environment: {v}");
    // A tool's grant does not stretch: paths outside its /data are refused by the tool itself.
    let e = run(&runner, Language::Python, "tools.csv.columns(path='/etc/passwd')", None).await;
    assert_eq!(e.error.as_ref().and_then(|x| x.kind.as_deref()), Some("denied"), "{}", e.render());
    // docs/SECURITY.md row 29: nothing in a program can grant a capability; there is no such function.
    let v = ok(&run(&runner, Language::JavaScript, "return Object.keys(tools).sort()", None).await)
        .clone();
    assert_eq!(v, json!(["csv", "grep", "json_query", "prog"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_loops_memory_bombs_and_huge_outputs_in_agent_code_are_stopped() {
    let d = data();
    let limits = Limits {
        timeout: Duration::from_secs(1),
        memory_bytes: 64 << 20,
        output_bytes: 4096,
        ..Limits::default()
    };
    let runner = code_runner(d.path(), limits).await;
    for (language, spin) in
        [(Language::JavaScript, "for (;;) {}"), (Language::Python, "while True:\n    pass")]
    {
        let started = Instant::now();
        let e = run(&runner, language, spin, None).await;
        assert_eq!(e.status, "deadline", "{language:?}: {}", e.render());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "stopped near the 1 s deadline: {:?}",
            started.elapsed()
        );
        assert!(e.render().contains("1s timeout"), "{}", e.render());
    }
    for (language, bomb) in [
        (
            Language::JavaScript,
            "const keep = []; for (;;) keep.push(new Uint8Array(1 << 20).fill(1));",
        ),
        (Language::Python, "keep = []\nwhile True:\n    keep.append(bytearray(1 << 20))"),
    ] {
        let e = run(&runner, language, bomb, None).await;
        assert_eq!(e.status, "memory-limit", "{language:?}: {}", e.render());
        assert!(e.render().contains("67108864 bytes"), "names the limit: {}", e.render());
    }
    for (language, flood) in [
        (
            Language::JavaScript,
            "for (let i = 0; i < 2000; i++) console.log('line ' + i); return 'x'.repeat(100000);",
        ),
        (Language::Python, "for i in range(2000):\n    print('line', i)\n'x' * 100000"),
    ] {
        let e = run(&runner, language, flood, None).await;
        assert_eq!(e.status, "ok", "{}", e.render());
        let text = e.render();
        assert!(
            e.stdout.len() <= 4096 && e.stdout_cut_bytes > 10_000,
            "{language:?}: {} kept, {} cut",
            e.stdout.len(),
            e.stdout_cut_bytes
        );
        assert!(
            text.contains("printed output cut") && text.contains("more bytes not shown"),
            "{text}"
        );
        assert!(text.contains("result (cut: 100002 bytes of JSON, first 4096 shown"), "{text}");
        assert!(
            text.len() < 3 * 4096,
            "the model gets at most about twice the cap: {}",
            text.len()
        );
    }
    assert_eq!(
        ok(&run(&runner, Language::Python, "sum(range(10))", None).await),
        &json!(45),
        "the runner keeps working"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_recurses_through_tools_call_hits_the_depth_limit() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let js = r#"try { tools.prog.run({ recurse: "prog.run" }); return "no limit"; } catch (e) { return e.message; }"#;
    let v = ok(&run(&runner, Language::JavaScript, js, None).await).clone();
    assert!(v.as_str().is_some_and(|m| m.contains("call depth limit")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_persists_between_runs_and_the_quota_removes_what_a_run_created() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let root = scratch();
    let spaces = Workspaces::new(
        root.path(),
        WorkspaceLimits { quota_bytes: 100_000, ..WorkspaceLimits::default() },
    )
    .expect("workspaces");
    let (a, b) = (spaces.create().expect("a"), spaces.create().expect("b"));
    let e = run(
        &runner,
        Language::JavaScript,
        r#"fs.writeText("/workspace/note.txt", "from js"); return 1;"#,
        Some(&a),
    )
    .await;
    assert_eq!(
        e.files.iter().map(|f| (f.path.as_str(), f.size)).collect::<Vec<_>>(),
        [("/workspace/note.txt", 7)],
        "{}",
        e.render()
    );
    let v = ok(&run(
        &runner,
        Language::Python,
        "open('/workspace/note.txt').read() + ' + ' + open('note.txt').read()",
        Some(&a),
    )
    .await)
    .clone();
    assert_eq!(v, json!("from js + from js"), "the next run (other language) sees the file");
    let e = run(&runner, Language::Python, "open('note.txt').read()", Some(&b)).await;
    assert_eq!(
        e.error.as_ref().map(|x| x.name.as_str()),
        Some("FileNotFoundError"),
        "another session does not: {}",
        e.render()
    );
    // Over the quota: stopped, the files this run created removed, earlier files kept.
    let e = run(
        &runner,
        Language::Python,
        "for i in range(50):\n    open(f'big{i}.bin', 'wb').write(b'x' * 10000)",
        Some(&a),
    )
    .await;
    assert_eq!(e.status, "quota", "{}", e.render());
    assert!(e.render().contains("quota is 100000 bytes"), "{}", e.render());
    let left: Vec<String> = a.list().expect("list").into_keys().collect();
    assert_eq!(left, ["note.txt"]);
}

/// A workspace with `quota_bytes` and `max_entries`, and a runner whose programs stop after `timeout`.
async fn bomb_setup(
    quota_bytes: u64,
    max_entries: u64,
    timeout: Duration,
) -> (tempfile::TempDir, tempfile::TempDir, CodeRunner, Workspace) {
    let d = data();
    let runner =
        code_runner(d.path(), Limits { timeout, output_bytes: 4096, ..Limits::default() }).await;
    let root = scratch();
    let limits = WorkspaceLimits { quota_bytes, max_entries, ..WorkspaceLimits::default() };
    let ws = Workspaces::new(root.path(), limits).expect("workspaces").create().expect("workspace");
    (d, root, runner, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row32_a_directory_bomb_is_stopped_by_the_quota_and_removed() {
    // Before the fix, 73,026 directories (287 MB) stayed behind under a 64 MiB quota: only file
    // lengths were counted.
    let (_d, _root, runner, ws) = bomb_setup(64 << 20, 2_000, Duration::from_secs(20)).await;
    std::fs::write(ws.dir().join("keep.txt"), "kept").expect("write");
    let code = "import os\ni = 0\nwhile True:\n    os.mkdir(f'/workspace/d{i}')\n    i += 1";
    let started = Instant::now();
    let e = run(&runner, Language::Python, code, Some(&ws)).await;
    assert_eq!(e.status, "quota", "{}", e.render());
    assert!(e.render().contains("entry cap"), "names the cap: {}", e.render());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped by the quota, not the 20 s deadline: {:?}",
        started.elapsed()
    );
    let left = ws.list().expect("list");
    assert!(
        left.len() == 1 && left.contains_key("keep.txt"),
        "every directory it made is gone: {} entries left",
        left.len()
    );
    // Empty files and a deep tree: each entry costs a block, and depth is bounded too.
    let code = "import os\np = '/workspace'\nwhile True:\n    p += '/d'\n    os.mkdir(p)\n    open(p + '/empty', 'w').close()";
    let e = run(&runner, Language::Python, code, Some(&ws)).await;
    assert_eq!(e.status, "quota", "{}", e.render());
    assert!(e.render().contains("deeper than"), "{}", e.render());
    assert_eq!(ws.list().expect("list").len(), 1, "the deep tree is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row32_appended_bytes_count_and_are_cut_off_and_a_deadline_undoes_the_run() {
    let (_d, _root, runner, ws) = bomb_setup(1 << 20, 10_000, Duration::from_secs(3)).await;
    std::fs::write(ws.dir().join("log.txt"), "before").expect("write");
    let code =
        "f = open('/workspace/log.txt', 'a')\nwhile True:\n    f.write('x' * 65536)\n    f.flush()";
    let e = run(&runner, Language::Python, code, Some(&ws)).await;
    assert_eq!(e.status, "quota", "{}", e.render());
    assert_eq!(
        std::fs::read_to_string(ws.dir().join("log.txt")).expect("read"),
        "before",
        "appended bytes are cut off"
    );
    // A run stopped at its deadline leaves nothing it created behind.
    let code = "import os\nos.mkdir('/workspace/partial')\nopen('/workspace/partial/a', 'w').write('x')\nwhile True:\n    pass";
    let e = run(&runner, Language::Python, code, Some(&ws)).await;
    assert_eq!(e.status, "deadline", "{}", e.render());
    assert!(e.render().contains("removed the 1 entr(ies)"), "{}", e.render());
    assert_eq!(ws.list().expect("list").into_keys().collect::<Vec<_>>(), ["log.txt"]);
    // A workspace already over its limit refuses to start a run.
    std::fs::write(ws.dir().join("huge.bin"), vec![0u8; 2 << 20]).expect("write");
    let e = run(&runner, Language::Python, "return 1", Some(&ws)).await;
    assert_eq!(e.status, "quota", "{}", e.render());
    assert!(e.render().contains("before running"), "{}", e.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row31_the_files_written_list_is_cut() {
    let (_d, _root, runner, ws) = bomb_setup(64 << 20, 10_000, Duration::from_secs(20)).await;
    let e = run(
        &runner,
        Language::Python,
        "for i in range(500):\n    open(f'/workspace/f{i}', 'w').write('x')",
        Some(&ws),
    )
    .await;
    assert_eq!(e.status, "ok", "{}", e.render());
    assert_eq!((e.files.len(), e.files_total), (wasm_host_code::MAX_FILES_LISTED, 500));
    assert!(e.render().contains("and 400 more"), "{}", e.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_of_the_tools_a_program_calls_reach_the_runs_log() {
    let d = data();
    let runner = code_runner(d.path(), limits()).await;
    let js = r#"return tools.prog.run({ call: "grep.count", args: { pattern: "TODO", path: "/data" } }).total;"#;
    let e = run(&runner, Language::JavaScript, js, None).await;
    assert_eq!(ok(&e), &json!(2));
    assert!(e.log.iter().any(|l| l.text == "prog.run: calling grep.count"), "{:?}", e.log);
}
