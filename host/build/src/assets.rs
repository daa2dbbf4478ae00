//! The files embedded in the binary at build time (see `build.rs`): the WIT package, the three
//! guest SDKs, the pinned JS toolchain lock and the templates of `wasm-host new`.
//!
//! Builds and new projects need the SDKs as files, so [`Sdk::extract`] writes them once under
//! `HOME/sdk/<version>-<digest>/` (`wit/`, `js/`, `py/`, `rust/`): the digest changes with every
//! change to the embedded files, so a newer binary never overwrites what an older project points
//! at, and a directory is only used once it is complete (written beside, then renamed).

use crate::BuildError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The SDK version the binary carries (the workspace version, e.g. `0.1.0`).
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The contents of the embedded file at `path` (e.g. `"toolchain/js/package-lock.json"`).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// Every embedded file under `prefix` (e.g. `"templates/rust-tool/"`), as (path after the
/// prefix, contents), in path order.
pub fn assets_under(prefix: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    FILES.iter().filter_map(move |(p, b)| p.strip_prefix(prefix).map(|rest| (rest, *b)))
}

/// The first 12 hex digits of the sha256 over every embedded path and file.
pub fn digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let mut hash = Sha256::new();
        for (path, bytes) in FILES {
            hash.update((path.len() as u64).to_le_bytes());
            hash.update(path.as_bytes());
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        }
        hex::encode(hash.finalize())[..12].to_string()
    })
}

/// The SDKs and WIT written out under a home directory.
#[derive(Debug, Clone)]
pub struct Sdk {
    root: PathBuf,
}

/// The asset trees that make up the SDK directory.
const SDK_TREES: [&str; 4] = ["wit/", "js/", "py/", "rust/"];
/// Written last: a directory without it is incomplete and never used.
const COMPLETE: &str = ".complete";

impl Sdk {
    /// The SDK directory under `home` (`HOME/sdk/<version>-<digest>`), written first if missing.
    pub fn extract(home: &Path) -> Result<Sdk, BuildError> {
        let parent = home.join("sdk");
        let root = parent.join(format!("{SDK_VERSION}-{}", digest()));
        if root.join(COMPLETE).is_file() {
            return Ok(Sdk { root });
        }
        let io =
            |what: &Path, e: std::io::Error| BuildError::Io(format!("{}: {e}", what.display()));
        std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".sdk-")
            .tempdir_in(&parent)
            .map_err(|e| io(&parent, e))?;
        for prefix in SDK_TREES {
            for (rel, bytes) in assets_under(prefix) {
                let path = staging.path().join(prefix).join(rel);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
            }
        }
        let marker = staging.path().join(COMPLETE);
        std::fs::write(&marker, digest()).map_err(|e| io(&marker, e))?;
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, &root) {
            // Another process finished first: use its copy, drop ours.
            let _ = std::fs::remove_dir_all(&staged);
            if !root.join(COMPLETE).is_file() {
                return Err(io(&root, e));
            }
        }
        Ok(Sdk { root })
    }

    /// The SDK directory (`HOME/sdk/<version>-<digest>`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `wasm-host:mcp` WIT package (`mcp.wit`).
    pub fn wit(&self) -> PathBuf {
        self.root.join("wit")
    }

    /// The JavaScript SDK (an npm package: `index.js`, `program.js`, `fs.js`, types, `wit/`).
    pub fn js(&self) -> PathBuf {
        self.root.join("js")
    }

    /// The Python SDK (a project with `pyproject.toml` and the `wasm_host_sdk` package).
    pub fn py(&self) -> PathBuf {
        self.root.join("py")
    }

    /// The Rust SDK (a crate, `wasm-host-sdk`).
    pub fn rust(&self) -> PathBuf {
        self.root.join("rust")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdks_and_wit_are_embedded_without_caches() {
        for needed in [
            "wit/mcp.wit",
            "js/index.js",
            "js/index.d.ts",
            "js/wit/deps/mcp/mcp.wit",
            "py/wasm_host_sdk/__init__.py",
            "py/pyproject.toml",
            "rust/Cargo.toml",
            "rust/wit/mcp.wit",
            "toolchain/js/package-lock.json",
        ] {
            assert!(asset(needed).is_some(), "{needed} is not embedded");
        }
        assert!(
            FILES.iter().all(|(p, _)| !p.contains("__pycache__") && !p.contains("node_modules"))
        );
    }

    #[test]
    fn extracting_twice_reuses_the_complete_directory() {
        let home = tempfile::tempdir().expect("temp dir");
        let first = Sdk::extract(home.path()).expect("extract");
        std::fs::write(first.js().join("marker"), "kept").expect("write");
        let second = Sdk::extract(home.path()).expect("extract");
        assert_eq!(first.root(), second.root());
        assert!(second.js().join("marker").is_file(), "a complete copy is not rewritten");
        assert_eq!(
            std::fs::read(second.wit().join("mcp.wit")).expect("read"),
            asset("wit/mcp.wit").expect("embedded")
        );
    }
}
