//! Hot reload: the `*.wasm` files of watched directories are served, and adding, replacing or
//! removing one updates the catalog and sends `notifications/tools/list_changed`.
//!
//! Bytes that differ from what was served before under the same name and version are a possible
//! "rug pull" (docs/SECURITY.md row 22): they are refused and the old bytes keep serving, unless
//! the operator allowed same-version reloads (for development). The record is kept per
//! name@version for the server's life, so deleting the file and dropping other bytes in, under
//! any file name, is refused too. With a lock file, a component must be in it with the same
//! digest. Both checks run on the bytes before any of the component's code does (its
//! `list-tools`). Files that fail to load or are refused are reported once and retried when
//! they change; the previous version, if any, keeps serving.

use crate::McpServer;
use notify::Watcher;
use rmcp::model::LoggingLevel;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;
use wasm_host_policy::{Grants, Limits};
use wasm_host_runtime::{LoadOptions, Runtime, file_component_name};

/// How long to wait after a file event for writes to settle before rescanning.
const SETTLE: Duration = Duration::from_millis(200);

/// A directory whose components are served and hot-reloaded, with what they are granted.
#[derive(Debug, Clone)]
pub struct WatchedDir {
    /// The directory.
    pub dir: PathBuf,
    /// Grants for every component in it.
    pub grants: Grants,
    /// Limits for every component in it.
    pub limits: Limits,
    /// With a lock file: component name → the sha256 it locks. A component not in it, or with
    /// other bytes, is refused.
    pub locked: Option<Arc<HashMap<String, String>>>,
}

/// What one scan changed or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadEvent {
    /// A new component is served.
    Added {
        /// Component name.
        name: String,
        /// Component file.
        file: PathBuf,
    },
    /// A component's bytes changed and the new ones are served.
    Replaced {
        /// Component name.
        name: String,
        /// Component file.
        file: PathBuf,
    },
    /// A file was removed, and its component with it.
    Removed {
        /// Component name.
        name: String,
        /// Component file.
        file: PathBuf,
    },
    /// New bytes under the same name and version were refused; the old ones keep serving.
    Refused {
        /// Component name.
        name: String,
        /// Component file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file could not be loaded.
    Failed {
        /// Component file.
        file: PathBuf,
        /// The load error.
        error: String,
    },
}

/// What the reloader knows about a served file.
struct Known {
    name: String,
    sha256: String,
    stamp: (u64, SystemTime),
}

/// Scans watched directories and applies the differences to the server's catalog.
pub struct Reloader {
    runtime: Arc<Runtime>,
    server: McpServer,
    dirs: Vec<WatchedDir>,
    allow_same_version: bool,
    known: Mutex<HashMap<PathBuf, Known>>,
    /// Every name@version served so far, with its sha256 (the rug-pull record).
    versions: Mutex<HashMap<(String, Option<String>), String>>,
    /// Files refused or failed, with the stamp they had: reported once, retried when changed.
    skipped: Mutex<HashMap<PathBuf, (u64, SystemTime)>>,
}

impl Reloader {
    /// A reloader for `dirs` feeding `server`. `allow_same_version` accepts changed bytes under an
    /// unchanged version (development); otherwise they are refused.
    pub fn new(
        runtime: Arc<Runtime>,
        server: McpServer,
        dirs: Vec<WatchedDir>,
        allow_same_version: bool,
    ) -> Arc<Self> {
        Arc::new(Reloader {
            runtime,
            server,
            dirs,
            allow_same_version,
            known: Mutex::default(),
            versions: Mutex::default(),
            skipped: Mutex::default(),
        })
    }

    /// One pass over every watched directory. Does not notify clients (see [`Reloader::watch`]).
    pub async fn scan(&self) -> Vec<ReloadEvent> {
        let mut known = self.known.lock().await;
        let mut events = Vec::new();
        for dir in &self.dirs {
            // An unreadable directory (being replaced, permissions) removes nothing.
            let Ok(files) = wasm_files(&dir.dir) else {
                tracing::warn!(dir = %dir.dir.display(), "cannot read a watched directory; keeping its components");
                continue;
            };
            for file in &files {
                if let Some(e) = self.scan_file(dir, file, &mut known).await {
                    if let (ReloadEvent::Refused { .. } | ReloadEvent::Failed { .. }, Some(stamp)) =
                        (&e, stamp(file))
                    {
                        self.skipped.lock().await.insert(file.clone(), stamp);
                    }
                    events.push(e);
                }
            }
            self.skipped
                .lock()
                .await
                .retain(|f, _| f.parent() != Some(dir.dir.as_path()) || files.contains(f));
            let gone: Vec<PathBuf> = known
                .keys()
                .filter(|f| f.parent() == Some(dir.dir.as_path()) && !files.contains(f))
                .cloned()
                .collect();
            for file in gone {
                if let Some(k) = known.remove(&file) {
                    self.server.executor().catalog().remove(&k.name);
                    events.push(ReloadEvent::Removed { name: k.name, file });
                }
            }
        }
        events
    }

    async fn scan_file(
        &self,
        dir: &WatchedDir,
        file: &Path,
        known: &mut HashMap<PathBuf, Known>,
    ) -> Option<ReloadEvent> {
        let stamp = stamp(file)?;
        let old = known.get(file);
        if old.is_some_and(|k| k.stamp == stamp)
            || self.skipped.lock().await.get(file) == Some(&stamp)
        {
            return None;
        }
        let failed = |error: String| Some(ReloadEvent::Failed { file: file.to_path_buf(), error });
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => return failed(format!("cannot read it: {e}")),
        };
        // Checked on the bytes, before any of the component's code runs.
        let info = match wasm_host_meta::inspect(&bytes) {
            Ok(i) => i,
            Err(e) => return failed(e.to_string()),
        };
        let name = info
            .manifest
            .as_ref()
            .map(|m| m.name.clone())
            .or_else(|| file_component_name(file))
            .unwrap_or_default();
        let version = info.manifest.as_ref().map(|m| m.version.to_string());
        if let Some(reason) = self.refusal(dir, &name, version.as_deref(), &info.sha256).await {
            return Some(ReloadEvent::Refused { name, file: file.to_path_buf(), reason });
        }
        if old.is_some_and(|k| k.sha256 == info.sha256) {
            if let Some(k) = known.get_mut(file) {
                k.stamp = stamp;
            }
            return None;
        }
        let opts = LoadOptions {
            name: Some(name.clone()),
            grants: dir.grants.clone(),
            limits: dir.limits.clone(),
            expect_sha256: Some((info.sha256.clone(), "the checked file".into())),
            ..Default::default()
        };
        let c = match self.runtime.load_bytes(&bytes, opts).await {
            Ok(c) => c,
            Err(e) => return failed(e.to_string()),
        };
        let catalog = self.server.executor().catalog();
        let entry = Known { name: c.name.clone(), sha256: c.sha256.clone(), stamp };
        let event = match old {
            Some(k) => {
                if k.name != c.name {
                    if let Some(e) = self.collision(&c.name, file, known) {
                        return Some(e);
                    }
                    catalog.remove(&k.name);
                }
                ReloadEvent::Replaced { name: name.clone(), file: file.to_path_buf() }
            }
            None => {
                if let Some(e) = self.collision(&c.name, file, known) {
                    return Some(e);
                }
                ReloadEvent::Added { name: name.clone(), file: file.to_path_buf() }
            }
        };
        self.versions.lock().await.insert((name, version), c.sha256.clone());
        catalog.insert(c);
        known.insert(file.to_path_buf(), entry);
        Some(event)
    }

    /// Why bytes with `sha256` may not serve as `name`@`version`: not in the lock, other bytes
    /// than the lock's, or other bytes than were served before under that version.
    async fn refusal(
        &self,
        dir: &WatchedDir,
        name: &str,
        version: Option<&str>,
        sha256: &str,
    ) -> Option<String> {
        if let Some(locked) = &dir.locked {
            match locked.get(name) {
                None => {
                    return Some(format!(
                        "{name} is not in wasm-host.lock; refused (run `wasm-host lock` to add it)"
                    ));
                }
                Some(d) if d != sha256 => {
                    return Some(format!(
                        "its bytes (sha256 {}…) differ from wasm-host.lock ({}…); refused",
                        &sha256[..12],
                        &d[..12.min(d.len())]
                    ));
                }
                Some(_) => {}
            }
        }
        if self.allow_same_version {
            return None;
        }
        let versions = self.versions.lock().await;
        let before = versions.get(&(name.to_string(), version.map(str::to_string)))?;
        (before != sha256).then(|| {
            format!(
                "bytes changed under the same version {} (sha256 {}… → {}…); refused, the old bytes keep serving: publish a new version",
                version.unwrap_or("(none)"),
                &before[..12],
                &sha256[..12]
            )
        })
    }

    /// A load failure if `name` is already served from somewhere other than `file`.
    fn collision(
        &self,
        name: &str,
        file: &Path,
        known: &HashMap<PathBuf, Known>,
    ) -> Option<ReloadEvent> {
        let taken = self.server.executor().catalog().get(name).is_some()
            && known.get(file).is_none_or(|k| k.name != name);
        taken.then(|| ReloadEvent::Failed {
            file: file.to_path_buf(),
            error: format!("a component named `{name}` is already served from another file"),
        })
    }

    /// Watches the directories until the returned handle is dropped or aborted: after each burst
    /// of file events, rescans, logs what changed (stderr and MCP logging notifications) and
    /// sends `notifications/tools/list_changed` when the tool list changed.
    pub fn watch(self: &Arc<Self>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if res.is_ok() {
                    let _ = tx.send(());
                }
            })?;
        for d in &self.dirs {
            watcher.watch(&d.dir, notify::RecursiveMode::NonRecursive)?;
        }
        let me = self.clone();
        Ok(tokio::spawn(async move {
            let _watcher = watcher;
            while rx.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                while rx.try_recv().is_ok() {}
                let events = me.scan().await;
                me.report(&events).await;
            }
        }))
    }

    async fn report(&self, events: &[ReloadEvent]) {
        let mut changed = false;
        for e in events {
            let (level, text) = match e {
                ReloadEvent::Added { name, file } => {
                    (LoggingLevel::Info, format!("added {name} from {}", file.display()))
                }
                ReloadEvent::Replaced { name, file } => {
                    (LoggingLevel::Info, format!("replaced {name} from {}", file.display()))
                }
                ReloadEvent::Removed { name, file } => {
                    (LoggingLevel::Info, format!("removed {name} ({} is gone)", file.display()))
                }
                ReloadEvent::Refused { name, file, reason } => {
                    (LoggingLevel::Warning, format!("{name} ({}): {reason}", file.display()))
                }
                ReloadEvent::Failed { file, error } => {
                    (LoggingLevel::Error, format!("{}: {error}", file.display()))
                }
            };
            changed |= matches!(
                e,
                ReloadEvent::Added { .. }
                    | ReloadEvent::Replaced { .. }
                    | ReloadEvent::Removed { .. }
            );
            // One line per event on stderr, like the start-up "loaded" lines (not also via tracing).
            eprintln!("wasm-host: hot reload: {text}");
            self.server
                .notify_clients(level, "wasm-host.reload", serde_json::json!({"event": text}))
                .await;
        }
        if changed {
            self.server.refresh().await;
        }
    }
}

/// The `*.wasm` regular files directly in `dir`, sorted.
fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|f| f.extension().is_some_and(|x| x == "wasm") && f.is_file())
        .collect();
    found.sort();
    Ok(found)
}

fn stamp(file: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(file).ok()?;
    Some((m.len(), m.modified().ok()?))
}
