//! The quick benchmarks end to end: each prints its figures and checks what it measured.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasm-host-bench"))
        .args(args)
        .output()
        .expect("run wasm-host-bench")
}

#[test]
fn search_ranks_the_best_matching_tools_first_and_prints_figures() {
    let out = bench(&["search", "--tools", "2000", "--queries", "60", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["tools"], 2000);
    for side in ["bm25", "substring_scan"] {
        assert!(v[side]["p50_us"].as_f64().is_some_and(|p| p > 0.0), "{v}");
        assert!(v[side]["p99_us"].as_f64() >= v[side]["p50_us"].as_f64(), "{v}");
    }
    // Ranking, not only timing: search_tools puts the tools that match the query best on top.
    let precision = v["precision_at_10"]["bm25"].as_f64().expect("precision");
    assert!(precision >= 0.8, "search_tools precision@10 {precision}: {v}");
}

#[test]
fn registry_resolves_the_same_from_rkyv_and_json_and_prints_figures() {
    let out = bench(&["registry", "--packages", "500", "--rounds", "20", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(figures["packages"], 500);
    assert!(figures["rkyv"]["p50_us"].as_f64().is_some_and(|p| p > 0.0), "{figures}");
    assert!(figures["json"]["p50_us"].as_f64().is_some_and(|p| p > 0.0), "{figures}");
    assert!(figures["archive_bytes"].as_u64() < figures["rkyv_bytes"].as_u64(), "{figures}");
}
