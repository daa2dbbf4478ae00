//! Shared helpers for the integration tests: build the real guest components (once, under a file
//! lock, rebuilt when their sources change), a runtime with a compile cache under `target/`, and
//! scratch directories.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;
use wasm_host_policy::{DirGrant, Grants, Limits};
use wasm_host_runtime::{LoadOptions, LoadedComponent, Runtime, RuntimeConfig};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Where built guest components go: `target/guests/`.
pub fn guests_dir() -> PathBuf {
    repo().join("target").join("guests")
}

/// Every guest the tests use: (component file stem, project directory).
pub const GUESTS: &[(&str, &str)] = &[
    ("grep", "guests/rust/grep"),
    ("report", "guests/rust/report"),
    ("json-query", "guests/js/json-query"),
    ("csv", "guests/py/csv-tool"),
    ("hostile-rust", "guests/fixtures/hostile-rust"),
    ("hostile-js", "guests/fixtures/hostile-js"),
    ("hostile-py", "guests/fixtures/hostile-py"),
    ("program-rust", "guests/fixtures/program-rust"),
    ("http-rust", "guests/fixtures/http-rust"),
    ("items-rust", "guests/fixtures/items-rust"),
    ("runner-js", "guests/runners/js"),
    ("runner-python", "guests/runners/python"),
    ("sales-by-region", "guests/skills/sales-by-region"),
    ("todo-report", "guests/skills/todo-report"),
    ("mcp-http", "guests/server/mcp-http"),
    ("log-stderr", "guests/server/log-stderr"),
];

/// The path of guest `name`'s component, building it first if it is missing or older than its
/// sources (or the SDK it uses). Safe to call from parallel tests and test binaries.
pub fn guest(name: &str) -> PathBuf {
    let (_, dir) =
        GUESTS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown guest {name}"));
    let out = guests_dir().join(format!("{name}.wasm"));
    let src = repo().join(dir);
    std::fs::create_dir_all(guests_dir()).expect("create target/guests");
    let lock =
        std::fs::File::create(guests_dir().join(format!(".{name}.lock"))).expect("lock file");
    lock.lock().expect("lock");
    let sdk = match () {
        _ if src.join("SKILL.md").exists() => src.clone(),
        _ if src.join("Cargo.toml").exists() => repo().join("sdk-rust"),
        _ if src.join("package.json").exists() => repo().join("sdk-js"),
        _ => repo().join("sdk-py"),
    };
    let stale = match std::fs::metadata(&out).and_then(|m| m.modified()) {
        Ok(built) => {
            newest(&src) > built || newest(&sdk) > built || newest(&repo().join("wit")) > built
        }
        Err(_) => true,
    };
    if stale {
        let env = wasm_host_build::BuildEnv::new(&repo().join("target/sdk-home"));
        let built = wasm_host_build::build(&src, Some(&out), &env, &|step| {
            eprintln!("[build {name}] {step}")
        });
        if let Err(e) = built {
            panic!("building guest {name} failed: {e}");
        }
    }
    out
}

/// Newest modification time of the files under `dir` (skipping build outputs).
fn newest(dir: &Path) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else { return latest };
    for e in entries.flatten() {
        let name = e.file_name();
        if matches!(name.to_str(), Some("target" | "dist" | "node_modules" | "__pycache__")) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let t = if meta.is_dir() { newest(&e.path()) } else { meta.modified().unwrap_or(latest) };
        latest = latest.max(t);
    }
    latest
}

/// One runtime per test binary, with its compile cache under `target/guests/cache`.
pub fn runtime() -> Arc<Runtime> {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        let config = RuntimeConfig {
            cache_dir: Some(guests_dir().join("cache")),
            ..RuntimeConfig::default()
        };
        Runtime::new(config).expect("runtime")
    })
    .clone()
}

/// Loads guest `name` with the given grants and limits.
pub async fn load(name: &str, grants: Grants, limits: Limits) -> Arc<LoadedComponent> {
    let path = guest(name);
    runtime()
        .load_file(&path, LoadOptions { grants, limits, ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// A grant of `host` as guest path `guest`, read-only or not.
pub fn dir(host: &Path, guest: &str, read_only: bool) -> DirGrant {
    DirGrant { host: host.to_path_buf(), guest: guest.to_string(), read_only }
}

/// Limits with a short timeout, as the architecture card suggests for tests.
pub fn test_limits() -> Limits {
    Limits { timeout: std::time::Duration::from_secs(2), ..Limits::default() }
}

/// A fresh scratch directory (removed when dropped).
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
