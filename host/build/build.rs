//! Embeds the WIT package, the three guest SDKs, the pinned JS toolchain lock and the project
//! templates of `wasm-host new` into the binary, so nothing needs this repository at run time.
//! Writes `$OUT_DIR/assets.rs`: one `(path, bytes)` entry per file, paths relative to the asset
//! root (`wit/`, `js/`, `py/`, `rust/`, `toolchain/js/`, `templates/`). Symlinks are followed
//! (`sdk-js/wit/deps/mcp` and `sdk-rust/wit` point at `wit/mcp`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (asset prefix, source directory relative to the repository root).
const TREES: &[(&str, &str)] = &[
    ("wit", "wit/mcp"),
    ("js", "sdk-js"),
    ("py", "sdk-py"),
    ("rust", "sdk-rust"),
    ("templates", "host/build/templates"),
];

/// Single files: (asset path, source relative to the repository root).
const FILES: &[(&str, &str)] = &[
    ("toolchain/js/package.json", "package.json"),
    ("toolchain/js/package-lock.json", "package-lock.json"),
];

/// Names never embedded: build output, caches and local environments.
fn skipped(name: &str) -> bool {
    name.starts_with('.')
        || matches!(name, "node_modules" | "target" | "dist" | "__pycache__" | "Cargo.lock")
        || name.ends_with(".pyc")
        || name.ends_with(".tgz")
        || name.ends_with(".whl")
        || name.ends_with(".crate")
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        if skipped(&name) {
            continue;
        }
        let path = entry.path();
        let rel = format!("{rel}/{name}");
        // `metadata` follows symlinks, so a linked directory is walked like a real one.
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if meta.is_dir() {
            walk(&path, &rel, out);
        } else {
            out.push((rel, path));
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir.join("../..").canonicalize().expect("repository root");
    let mut files = Vec::new();
    for (prefix, source) in TREES {
        let dir = root.join(source);
        println!("cargo:rerun-if-changed={}", dir.display());
        walk(&dir, prefix, &mut files);
    }
    for (asset, source) in FILES {
        let path = root.join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        files.push((asset.to_string(), path));
    }
    // Directories only report their own changes; name every file so edits rebuild too.
    let mut code = String::from(
        "/// Every embedded file: (asset path, contents).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (asset, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path.canonicalize().expect("asset path");
        writeln!(code, "    ({asset:?}, include_bytes!({:?})),", path.display().to_string())
            .expect("write to string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("assets.rs");
    std::fs::write(out, code).expect("write assets.rs");
}
