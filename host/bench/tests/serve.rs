//! `wasm-host-bench serve` end to end: the Rust, JS and Python tools over streamable HTTP and
//! stdio, each against its native rmcp `#[tool]`, with results checked equal before timing.

use serde_json::Value;
use wasm_host_tests::{guest, guests_dir};

#[test]
fn bench_serve_measures_every_language_over_both_transports_against_native() {
    for g in ["grep", "json-query", "csv"] {
        guest(g);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-host-bench"))
        .args(["serve", "--calls", "64", "--clients", "8", "--json", "--guests"])
        .arg(guests_dir())
        .env("WASM_HOST_CACHE_DIR", guests_dir().join("cache"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run wasm-host bench serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench serve failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)));
    let cases = report["cases"].as_array().expect("cases");
    for language in ["rust", "javascript", "python"] {
        let case = cases
            .iter()
            .find(|c| c["language"] == language)
            .unwrap_or_else(|| panic!("no {language} case in {report}"));
        assert_eq!(
            case["results_agree"], true,
            "{language}: wasm-host and native results differ: {case}"
        );
        for transport in ["http", "stdio"] {
            for side in ["ours", "native"] {
                let s = &case[transport][side];
                for figure in ["p50_us", "p99_us", "throughput_per_s"] {
                    let v = s[figure].as_f64().unwrap_or_default();
                    assert!(
                        v > 0.0,
                        "{language} {transport} {side}: {figure} is {v}, expected > 0: {case}"
                    );
                }
                assert!(
                    s["p99_us"].as_f64() >= s["p50_us"].as_f64(),
                    "{language} {transport} {side}: p99 < p50: {case}"
                );
            }
            assert!(
                case[transport]["throughput_ratio"].as_f64().unwrap_or_default() > 0.0,
                "{language} {transport}: {case}"
            );
        }
    }
}
