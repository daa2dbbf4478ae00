//! The `wasm-host.lock` format: the name, source, version and sha256 of every component a config
//! serves (written by `wasm-host lock`), or that a bundle carries. TOML, one `[[component]]` per
//! component, so it reads well in a diff.

use serde::{Deserialize, Serialize};

/// The lock file's name, beside the config file (and inside a bundle).
pub const LOCK_FILE: &str = "wasm-host.lock";

/// One locked component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locked {
    /// The name it is served under (`[components.NAME]`), or its package name in a bundle.
    pub name: String,
    /// The `source` as written in the config (path or registry reference).
    pub source: String,
    /// The manifest's version.
    pub version: String,
    /// Hex sha256 of the component.
    pub sha256: String,
}

/// A whole lock file.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    /// The locked components.
    #[serde(default)]
    pub component: Vec<Locked>,
}

impl LockFile {
    /// The file's text, with a header saying what wrote it.
    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Written by wasm-host; `serve --config` refuses components whose bytes differ.\n{body}"
        )
    }

    /// Parses a lock file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
