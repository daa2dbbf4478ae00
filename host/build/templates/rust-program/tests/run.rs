//! Builds this program with `wasm-host build` and runs it with `wasm-host run`, as a client
//! would. `WASM_HOST` names the binary (default: `wasm-host` on the PATH).

use std::process::{Command, Output};

fn wasm_host(args: &[&str]) -> Output {
    let bin = std::env::var("WASM_HOST").unwrap_or_else(|_| "wasm-host".into());
    Command::new(&bin).args(args).output().unwrap_or_else(|e| panic!("cannot start {bin}: {e}"))
}

#[test]
fn counts_words_through_wasm_host_run() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let wasm = format!("{dir}/dist/{{name}}.wasm");
    let built = wasm_host(&["build", dir]);
    assert!(built.status.success(), "build: {}", String::from_utf8_lossy(&built.stderr));

    let out = wasm_host(&["run", &wasm, r#"{"text": "one two three"}"#]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "run: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.replace(' ', "").contains("\"words\":3"), "{stdout}");

    let refused = wasm_host(&["run", &wasm, "{}"]);
    assert!(!refused.status.success(), "input without `text` must fail");
}
