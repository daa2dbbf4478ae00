//! `grep`: regex search over the files of a granted directory, with per-file match counts.

use regex::RegexBuilder;
use std::path::{Path, PathBuf};
use wasm_host_sdk::{Output, Tool, ToolError, Value, arg_str, export_tools, json};

/// Largest file the tool reads, so one huge file cannot use up the call's memory.
const MAX_FILE_BYTES: u64 = 16 << 20;

fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "search",
            "Search text files under a directory for a regular expression; returns matching lines \
             (path, line number, text) and the number of matches per file.",
            json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "Regular expression (Rust regex syntax)."},
                    "path": {"type": "string", "description": "Directory or file to search, e.g. /data."},
                    "ignore_case": {"type": "boolean", "default": false},
                    "max_matches": {"type": "integer", "minimum": 1, "default": 100,
                                    "description": "Stop listing lines after this many (counts stay exact)."}
                },
                "required": ["pattern", "path"],
                "additionalProperties": false
            }),
            search,
        )
        .title("Search files"),
        Tool::new(
            "count",
            "Count the lines matching a regular expression in each file under a directory.",
            json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "path": {"type": "string"},
                    "ignore_case": {"type": "boolean", "default": false}
                },
                "required": ["pattern", "path"],
                "additionalProperties": false
            }),
            count,
        )
        .title("Count matches"),
    ]
}

export_tools!(tools());

struct Scan {
    files_scanned: u64,
    counts: Vec<(String, u64)>,
    lines: Vec<Value>,
    total: u64,
}

fn scan(args: &Value, keep_lines: usize) -> Result<Scan, ToolError> {
    let pattern = arg_str(args, "pattern")?;
    let root = PathBuf::from(arg_str(args, "path")?);
    let ignore_case = args.get("ignore_case").and_then(Value::as_bool).unwrap_or(false);
    let re = RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| ToolError::InvalidArguments(format!("`pattern` is not a valid regex: {e}")))?;
    let mut files = Vec::new();
    collect_files(&root, &mut files)?;
    files.sort();
    let mut scan = Scan { files_scanned: 0, counts: Vec::new(), lines: Vec::new(), total: 0 };
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.len() > MAX_FILE_BYTES {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else { continue }; // binary files are skipped
        scan.files_scanned += 1;
        let shown = file.display().to_string();
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            if re.is_match(line) {
                n += 1;
                if scan.lines.len() < keep_lines {
                    scan.lines.push(json!({"path": shown, "line": i + 1, "text": line}));
                }
            }
        }
        if n > 0 {
            scan.total += n;
            scan.counts.push((shown, n));
        }
    }
    Ok(scan)
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ToolError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(|e| io_error(path, e))? {
        let entry = entry.map_err(|e| io_error(path, e))?;
        let kind = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
        if kind.is_dir() {
            collect_files(&entry.path(), out)?;
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> ToolError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::NotFound(format!("{}: not found", path.display())),
        std::io::ErrorKind::PermissionDenied => ToolError::Denied(format!("{}: not in a granted directory ({e})", path.display())),
        _ => ToolError::Failed(format!("{}: {e}", path.display())),
    }
}

fn search(args: Value) -> Result<Output, ToolError> {
    let max = args.get("max_matches").and_then(Value::as_u64).unwrap_or(100) as usize;
    let scan = scan(&args, max)?;
    let counts: wasm_host_sdk::serde_json::Map<String, Value> = scan.counts.into_iter().map(|(p, n)| (p, json!(n))).collect();
    Ok(Output::Json(json!({
        "matches": scan.lines,
        "counts": counts,
        "total": scan.total,
        "files_scanned": scan.files_scanned,
    })))
}

fn count(args: Value) -> Result<Output, ToolError> {
    let scan = scan(&args, 0)?;
    let counts: wasm_host_sdk::serde_json::Map<String, Value> = scan.counts.into_iter().map(|(p, n)| (p, json!(n))).collect();
    Ok(Output::Json(json!({"counts": counts, "total": scan.total, "files_scanned": scan.files_scanned})))
}
