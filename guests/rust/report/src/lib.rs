//! `report`: a program that calls `grep.count` through the host and keeps only the top files,
//! so a large intermediate result never leaves the sandbox.

use wasm_host_sdk::{Value, export_program, host, json};

fn run(input: Value) -> Result<Value, String> {
    let pattern = input["pattern"].as_str().ok_or("input needs `pattern`")?;
    let path = input["path"].as_str().unwrap_or("/data");
    let top = input["top"].as_u64().unwrap_or(3) as usize;
    let counts =
        host::call("grep.count", &json!({"pattern": pattern, "path": path, "ignore_case": true}))?;
    let mut files: Vec<(String, u64)> = counts["counts"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    host::log(&format!("{} files matched", files.len()));
    Ok(json!({
        "pattern": pattern,
        "total": counts["total"],
        "top": files.into_iter().take(top).map(|(f, n)| json!({"file": f, "matches": n})).collect::<Vec<_>>(),
    }))
}

export_program!(run);
