//! `wasm-host.lock`: the name, version and sha256 of every component a `wasm-host.toml` serves,
//! written by `wasm-host lock --config FILE` beside the config. When it exists, `serve --config`
//! refuses to start if a component's bytes differ from what it records (a changed file or a
//! re-published reference: docs/SECURITY.md row 22) or if a component is not in it. That covers
//! every component it serves: `[components]`, files given as paths, and watched directories.

use crate::config::FileConfig;
use crate::settings::GlobalArgs;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use wasm_host_registry::lock::{LOCK_FILE, LockFile, Locked};

/// Where the lock file of `config` is.
pub fn path_for(config: &Path) -> PathBuf {
    config.parent().unwrap_or(Path::new(".")).join(LOCK_FILE)
}

/// `wasm-host lock --config FILE`: resolves and hashes every component, writes the lock file.
pub fn write(global: &GlobalArgs, config: &Path, file: &FileConfig) -> anyhow::Result<ExitCode> {
    let mut lock = LockFile::default();
    for c in &file.components {
        let (path, _) = crate::registry::locate(global, &c.source)?;
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let info =
            wasm_host_meta::inspect(&bytes).with_context(|| format!("components.{}", c.name))?;
        let version = info.manifest.map(|m| m.version.to_string()).unwrap_or_default();
        lock.component.push(Locked {
            name: c.name.clone(),
            source: c.source.display().to_string(),
            version,
            sha256: info.sha256,
        });
    }
    let target = path_for(config);
    let text = lock.to_text();
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).context("creating the lock file")?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .context("writing the lock file")?;
    tmp.persist(&target).map_err(|e| e.error).context("renaming the lock file into place")?;
    for l in &lock.component {
        println!("locked {} = {}@{} sha256:{}", l.name, l.source, l.version, l.sha256);
    }
    Ok(ExitCode::SUCCESS)
}

/// The lock beside `config`, if there is one.
pub fn read(config: &Path) -> anyhow::Result<Option<Vec<Locked>>> {
    let path = path_for(config);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            LockFile::parse(&text)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", path.display()))?
                .component,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The digest the lock records for component `name`, and a description of the entry, for
/// [`wasm_host_runtime::LoadOptions::expect_sha256`]: the bytes are checked before any code runs.
pub fn expect(lock: &[Locked], name: &str) -> anyhow::Result<(String, String)> {
    match lock.iter().find(|l| l.name == name) {
        None => anyhow::bail!(
            "component {name} is not in {LOCK_FILE}; run `wasm-host lock --config FILE` to add it"
        ),
        Some(l) => Ok((
            l.sha256.clone(),
            format!(
                "{LOCK_FILE} ({name} = {}@{}; run `wasm-host lock` to accept a change)",
                l.source, l.version
            ),
        )),
    }
}

/// The lock as name → sha256, for watched directories.
pub fn digests(lock: &[Locked]) -> std::collections::HashMap<String, String> {
    lock.iter().map(|l| (l.name.clone(), l.sha256.clone())).collect()
}
