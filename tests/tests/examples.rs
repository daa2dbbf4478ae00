//! The example tools (Rust grep, JS json-query, Python csv) and the example program, loaded from
//! their real compiled components and called through the runtime against real files.

use serde_json::{Value, json};
use std::sync::Arc;
use wasm_host_policy::Grants;
use wasm_host_runtime::{Catalog, ComponentKind, Executor, Output};
use wasm_host_tests::{dir, load, runtime, scratch, test_limits};

fn json_of(out: &Output) -> Value {
    match out {
        Output::Json(s) => serde_json::from_str(s).expect("valid JSON result"),
        Output::Text(s) => panic!("expected JSON, got text: {s}"),
    }
}

fn data_dir() -> tempfile::TempDir {
    let d = scratch();
    std::fs::write(d.path().join("a.txt"), "hello error\nfine\nanother ERROR line\n")
        .expect("write");
    std::fs::create_dir(d.path().join("sub")).expect("mkdir");
    std::fs::write(d.path().join("sub/b.log"), "error again\nno match\n").expect("write");
    std::fs::write(
        d.path().join("sales.csv"),
        "region,units,price\neu,3,2.5\nus,5,1.0\neu,7,3.0\n",
    )
    .expect("write");
    std::fs::write(
        d.path().join("items.json"),
        r#"{"items":[{"name":"a","n":1},{"name":"b","n":5},{"name":"c","n":9}]}"#,
    )
    .expect("write");
    d
}

fn grants(path: &std::path::Path) -> Grants {
    Grants { dirs: vec![dir(path, "/data", true)], ..Default::default() }
}

#[tokio::test]
async fn rust_grep_counts_matches_in_a_granted_directory() {
    let data = data_dir();
    let grep = load("grep", grants(data.path()), test_limits()).await;
    assert_eq!(grep.kind, ComponentKind::Tool);
    assert_eq!(
        grep.tools.iter().map(|t| t.qualified.as_str()).collect::<Vec<_>>(),
        ["grep.search", "grep.count", "grep.files", "grep.read"]
    );
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let out = exec
        .call_component(&grep, "search", r#"{"pattern":"error","path":"/data","ignore_case":true}"#)
        .await;
    let v = json_of(out.result.as_ref().expect("search ok"));
    assert_eq!(v["total"], 3);
    assert_eq!(v["counts"]["/data/a.txt"], 2);
    assert_eq!(v["counts"]["/data/sub/b.log"], 1);
    assert_eq!(v["matches"][1]["text"], "another ERROR line");
    assert!(
        out.stats.wall_us > 0 && out.stats.fuel_used > 0 && out.stats.peak_memory_bytes > 0,
        "{:?}",
        out.stats
    );
    assert_eq!(out.stats.bytes_out, out.result.as_ref().map(|o| o.len() as u64).unwrap_or(0));
}

#[tokio::test]
async fn rust_grep_reports_a_bad_regex_as_invalid_arguments() {
    let data = data_dir();
    let grep = load("grep", grants(data.path()), test_limits()).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let out =
        exec.call_component(&grep, "search", r#"{"pattern":"(unclosed","path":"/data"}"#).await;
    let err = out.result.expect_err("bad regex").to_string();
    assert!(err.contains("invalid-arguments") && err.contains("pattern"), "{err}");
}

#[tokio::test]
async fn python_csv_aggregates_by_group() {
    let data = data_dir();
    let csv = load("csv", grants(data.path()), test_limits()).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let args = json!({"path": "/data/sales.csv", "group_by": "region", "column": "units", "ops": ["count", "sum", "mean"]});
    let out = exec.call_component(&csv, "aggregate", &args.to_string()).await;
    let v = json_of(out.result.as_ref().expect("aggregate ok"));
    let eu = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["group"] == "eu")
        .expect("eu group")
        .clone();
    assert_eq!(
        (eu["count"].as_f64(), eu["sum"].as_f64(), eu["mean"].as_f64()),
        (Some(2.0), Some(10.0), Some(5.0))
    );
}

#[tokio::test]
async fn js_json_query_filters_and_projects() {
    let data = data_dir();
    let jq = load("json-query", grants(data.path()), test_limits()).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let args = json!({"file": "/data/items.json", "select": "items", "where": {"field": "n", "op": ">", "value": 2}, "fields": ["name"]});
    let out = exec.call_component(&jq, "query", &args.to_string()).await;
    let v = json_of(out.result.as_ref().expect("query ok"));
    assert_eq!(v["results"], json!([{"name": "b"}, {"name": "c"}]));
}

#[tokio::test]
async fn tools_report_not_found_for_a_missing_file() {
    let data = data_dir();
    let csv = load("csv", grants(data.path()), test_limits()).await;
    let jq = load("json-query", grants(data.path()), test_limits()).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let a = exec.call_component(&csv, "columns", r#"{"path":"/data/nope.csv"}"#).await;
    let b = exec.call_component(&jq, "keys", r#"{"file":"/data/nope.json"}"#).await;
    for (out, who) in [(a, "csv"), (b, "json-query")] {
        let err = out.result.expect_err(who).to_string();
        assert!(err.contains("nope"), "{who}: {err}");
    }
}

#[tokio::test]
async fn rust_program_calls_grep_through_the_host_and_keeps_the_top_files() {
    let data = data_dir();
    let catalog = Arc::new(Catalog::new());
    catalog.insert(load("grep", grants(data.path()), test_limits()).await);
    let report = load("report", Grants::default(), test_limits()).await;
    assert_eq!(report.kind, ComponentKind::Program);
    let exec = Executor::new(runtime(), catalog);
    let out = exec.call_component(&report, "run", r#"{"pattern":"error","top":1}"#).await;
    let v = json_of(out.result.as_ref().expect("report ok"));
    assert_eq!(v["total"], 3);
    assert_eq!(v["top"], json!([{"file": "/data/a.txt", "matches": 2}]));
    assert!(out.stats.nested_bytes_in > 0, "nested tool output is accounted");
    assert!(out.log.iter().any(|l| l.text == "2 files matched"), "{:?}", out.log);
}

#[tokio::test]
async fn program_searches_the_catalog() {
    let data = data_dir();
    let catalog = Arc::new(Catalog::new());
    catalog.insert(load("grep", grants(data.path()), test_limits()).await);
    catalog.insert(load("csv", grants(data.path()), test_limits()).await);
    let prog = load("program-rust", Grants::default(), test_limits()).await;
    let exec = Executor::new(runtime(), catalog);
    let out = exec.call_component(&prog, "run", r#"{"search":"aggregate csv"}"#).await;
    let v = json_of(out.result.as_ref().expect("search ok"));
    assert_eq!(v[0], "csv.aggregate", "{v}");
}

#[tokio::test]
async fn a_fresh_instance_per_call_keeps_no_state() {
    let data = data_dir();
    let grep = load("grep", grants(data.path()), test_limits()).await;
    let exec = Executor::new(runtime(), Arc::new(Catalog::new()));
    let mut peaks = Vec::new();
    for _ in 0..5 {
        let out = exec.call_component(&grep, "count", r#"{"pattern":"e","path":"/data"}"#).await;
        assert!(out.result.is_ok());
        peaks.push(out.stats.peak_memory_bytes);
    }
    assert!(
        peaks.windows(2).all(|w| w[0] == w[1]),
        "every call starts from the same fresh memory: {peaks:?}"
    );
}

/// The fixture `scripts/bench-code-mode` compares against FastMCP: `count` records with
/// `score = id * 37 % 1000`, and a count over the schema's maximum refused before the guest runs.
#[tokio::test]
async fn items_fixture_returns_the_records_the_code_mode_bench_compares() {
    let items = load("items-rust", Grants::default(), test_limits()).await;
    let executor = Executor::new(runtime(), Arc::new(Catalog::new()));
    let out = executor.call_component(&items, "items", r#"{"count": 5}"#).await;
    let records = json_of(out.result.as_ref().expect("items"));
    assert_eq!(records.as_array().map(Vec::len), Some(5));
    assert_eq!(records[3], json!({"id": 3, "name": "item-3", "score": 111}));
    let refused = executor.call_component(&items, "items", r#"{"count": 100001}"#).await;
    assert!(refused.result.is_err());
}
