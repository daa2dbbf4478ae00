//! Builds this component with `wasm-host build` and calls it with `wasm-host call`, as a client
//! would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH).

use std::process::{Command, Output};

fn wasm_host(args: &[&str]) -> Output {
    let bin = std::env::var("WASM_HOST").unwrap_or_else(|_| "wasm-host".into());
    Command::new(&bin).args(args).output().unwrap_or_else(|e| panic!("cannot start {bin}: {e}"))
}

#[test]
fn greet_answers_through_wasm_host_call() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let wasm = format!("{dir}/dist/{{name}}.wasm");
    let built = wasm_host(&["build", dir]);
    assert!(built.status.success(), "build: {}", String::from_utf8_lossy(&built.stderr));

    let out = wasm_host(&["call", &wasm, "greet", r#"{"name": "Ada", "times": 2}"#]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "call: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Hello, Ada! Hello, Ada!"), "{stdout}");

    let refused = wasm_host(&["call", &wasm, "greet", r#"{"times": 2}"#]);
    assert!(!refused.status.success(), "a call without `name` must fail");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("name"));
}
