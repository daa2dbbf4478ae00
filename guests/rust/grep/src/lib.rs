//! `grep`: regex search over the files of a granted directory, with per-file match counts; file
//! listing and reading of text files.

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
        Tool::new(
            "files",
            "List the files under a directory (recursively, sorted by path) with their sizes, a page at a time; \
             optionally only paths matching a regular expression.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Directory, e.g. /data."},
                    "pattern": {"type": "string", "description": "Keep only paths matching this regex."},
                    "offset": {"type": "integer", "minimum": 0, "default": 0},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
            files,
        )
        .title("List files"),
        Tool::new(
            "read",
            "Read a UTF-8 text file, or a range of its lines.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "First line (0-based)."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 10000, "description": "Lines to return."}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
            read,
        )
        .title("Read a text file"),
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
        .map_err(|e| {
        ToolError::InvalidArguments(format!("`pattern` is not a valid regex: {e}"))
    })?;
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
        std::io::ErrorKind::NotFound => {
            ToolError::NotFound(format!("{}: not found", path.display()))
        }
        std::io::ErrorKind::PermissionDenied => {
            ToolError::Denied(format!("{}: not in a granted directory ({e})", path.display()))
        }
        _ => ToolError::Failed(format!("{}: {e}", path.display())),
    }
}

fn search(args: Value) -> Result<Output, ToolError> {
    let max = args.get("max_matches").and_then(Value::as_u64).unwrap_or(100) as usize;
    let scan = scan(&args, max)?;
    let counts: wasm_host_sdk::serde_json::Map<String, Value> =
        scan.counts.into_iter().map(|(p, n)| (p, json!(n))).collect();
    Ok(Output::Json(json!({
        "matches": scan.lines,
        "counts": counts,
        "total": scan.total,
        "files_scanned": scan.files_scanned,
    })))
}

fn count(args: Value) -> Result<Output, ToolError> {
    let scan = scan(&args, 0)?;
    let counts: wasm_host_sdk::serde_json::Map<String, Value> =
        scan.counts.into_iter().map(|(p, n)| (p, json!(n))).collect();
    Ok(Output::Json(
        json!({"counts": counts, "total": scan.total, "files_scanned": scan.files_scanned}),
    ))
}

fn arg_u64(args: &Value, key: &str, default: u64, max: u64) -> Result<u64, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().filter(|n| *n <= max).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "`{key}` must be an integer from 0 to {max}, got {v}"
            ))
        }),
    }
}

fn files(args: Value) -> Result<Output, ToolError> {
    let root = PathBuf::from(arg_str(&args, "path")?);
    let offset = arg_u64(&args, "offset", 0, u64::MAX)? as usize;
    let limit = arg_u64(&args, "limit", 1000, 10_000)?.max(1) as usize;
    let re = match args.get("pattern").and_then(Value::as_str) {
        Some(p) => Some(RegexBuilder::new(p).size_limit(1 << 20).build().map_err(|e| {
            ToolError::InvalidArguments(format!("`pattern` is not a valid regex: {e}"))
        })?),
        None => None,
    };
    let mut all = Vec::new();
    collect_files(&root, &mut all)?;
    let mut paths: Vec<String> = all
        .iter()
        .map(|p| p.display().to_string())
        .filter(|p| re.as_ref().is_none_or(|re| re.is_match(p)))
        .collect();
    paths.sort();
    let total = paths.len();
    let page: Vec<Value> = paths
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| json!({"path": p, "size": std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)}))
        .collect();
    let returned = page.len();
    Ok(Output::Json(
        json!({"files": page, "total": total, "offset": offset, "returned": returned, "truncated": offset + returned < total}),
    ))
}

fn read(args: Value) -> Result<Output, ToolError> {
    let path = PathBuf::from(arg_str(&args, "path")?);
    let offset = arg_u64(&args, "offset", 0, u64::MAX)? as usize;
    let limit = arg_u64(&args, "limit", 10_000, 100_000)?.max(1) as usize;
    let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ToolError::Failed(format!(
            "{} is {} bytes, more than the {MAX_FILE_BYTES} this tool reads",
            path.display(),
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            ToolError::InvalidArguments(format!("{} is not UTF-8 text", path.display()))
        }
        _ => io_error(&path, e),
    })?;
    let lines: Vec<&str> = text.lines().skip(offset).take(limit).collect();
    Ok(Output::Text(lines.join("\n")))
}
