//! `wasm-host-bench tokens` runs its four scenarios end to end (both modes' answers are checked
//! against the generated data inside the command) and meets its targets.

use serde_json::Value;
use wasm_host_tests::guest;

#[test]
fn bench_tokens_counts_both_modes_and_code_mode_cuts_the_context() {
    let mut args = vec!["tokens".to_string(), "--json".into(), "--files".into(), "50000".into()];
    for g in ["grep", "csv", "json-query"] {
        args.extend(["--component".into(), guest(g).display().to_string()]);
    }
    args.extend([
        "--javascript-runner".into(),
        guest("runner-js").display().to_string(),
        "--python-runner".into(),
        guest("runner-python").display().to_string(),
    ]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host-bench"))
        .args(&args)
        .env("WASM_HOST_CACHE_DIR", wasm_host_tests::guests_dir().join("cache"))
        .output()
        .expect("run bench tokens");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json");
    let meta = report["meta_tool_definitions"].as_u64().expect("meta tokens");
    assert!(meta > 100 && meta <= 350, "meta-tool definitions: {meta} tokens");
    let with_save = report["with_save_skill"].as_u64().expect("with save_skill");
    assert!(with_save > meta, "save_skill is listed when saving is on: {with_save} vs {meta}");
    // A task done again through the skill saved the first time costs less work than from scratch.
    let reuse = report["reuse"].as_array().expect("reuse figures");
    assert_eq!(reuse.len(), 3, "{reuse:?}");
    for r in reuse {
        assert!(r["work_skill"].as_u64() < r["work_again"].as_u64(), "{r}");
        assert!(r["save"].as_u64().is_some_and(|s| s > 0), "{r}");
    }
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    assert_eq!(scenarios.len(), 4);
    for s in scenarios {
        let total = |mode: &str| {
            ["definitions", "calls", "results", "answer"]
                .iter()
                .map(|k| s[mode][k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        assert!(total("code") < total("direct"), "{s}");
    }
    for s in &scenarios[..3] {
        assert!(
            s["reduction_pct"].as_f64().unwrap_or(0.0) >= 99.0,
            "scenarios 1-3 cut at least 99%: {s}"
        );
    }
}
