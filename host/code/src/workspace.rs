//! Workspaces: directories preopened read-write into the runner as `/workspace`, named by an
//! unguessable handle (the stateless 2026-07-28 protocol has no sessions to key them by), with
//! a quota over bytes and entries, named checkpoints, idle expiry and server-wide caps.
//!
//! Layout under the root (mode 0700): `<root>/<handle>/workspace/` (what programs see),
//! `<root>/<handle>/checkpoints/<name>/`, and `.trash/` directories used to remove trees. The
//! quota covers the workspace and its checkpoints, and charges every entry at least a block
//! ([`crate::tree`]). Every directory the host opens here is opened through cap-std, and trees
//! are walked without recursion. Checkpoints and restores build the new tree beside the old one,
//! fsync it, and swap it in by rename, so a crash leaves the old state or the new one; a restore
//! interrupted between its two renames is finished or undone the next time the workspace opens.

use crate::tree::{self, EntryInfo, Usage, sync_dir};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The guest path of the workspace.
pub const GUEST_PATH: &str = "/workspace";
/// Default quota per workspace: 64 MiB, workspace and checkpoints together.
pub const DEFAULT_QUOTA_BYTES: u64 = 64 << 20;

const WORKSPACE: &str = "workspace";
const CHECKPOINTS: &str = "checkpoints";
const OLD_WORKSPACE: &str = ".old-workspace";
const NEW_WORKSPACE: &str = ".new-workspace";
const TRASH: &str = ".trash";

/// Limits of the workspaces of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceLimits {
    /// Bytes per workspace, checkpoints included; each entry costs at least a block. Default 64 MiB.
    pub quota_bytes: u64,
    /// Files and directories per workspace, checkpoints included. Default 10,000.
    pub max_entries: u64,
    /// A workspace unused this long is removed. Default 24 h.
    pub idle_expiry: Duration,
    /// Workspaces kept at once on this server. Default 1,000.
    pub max_workspaces: usize,
    /// Bytes all workspaces may use together (checked when one is created). Default 4 GiB.
    pub max_total_bytes: u64,
}

impl Default for WorkspaceLimits {
    fn default() -> Self {
        WorkspaceLimits {
            quota_bytes: DEFAULT_QUOTA_BYTES,
            max_entries: 10_000,
            idle_expiry: Duration::from_secs(24 * 3600),
            max_workspaces: 1_000,
            max_total_bytes: 4 << 30,
        }
    }
}

/// Why a workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A checkpoint name that is not `[A-Za-z0-9_.-]{1,64}` or starts with `.`.
    #[error(
        "checkpoint name {0:?} must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.' and not start with '.'"
    )]
    BadName(String),
    /// No checkpoint by that name.
    #[error("no checkpoint named {name:?}; existing: {existing:?}")]
    NoCheckpoint {
        /// The name asked for.
        name: String,
        /// The checkpoints there are.
        existing: Vec<String>,
    },
    /// The handle names no workspace here (never issued, removed, or expired).
    #[error(
        "no workspace {0:?}: it was never created here, or expired after being idle; omit `workspace` to start a new one"
    )]
    UnknownHandle(String),
    /// The operation would take the workspace over its quota.
    #[error("workspace quota exceeded: {0}")]
    Quota(String),
    /// A server-wide cap on workspaces was reached.
    #[error(
        "cannot create a workspace: {0}; reuse one by passing its handle as `workspace`, or wait for idle ones to expire"
    )]
    Cap(String),
    /// A file system error, with the path involved.
    #[error("workspace {path}: {source}")]
    Io {
        /// Path relative to the workspace root.
        path: String,
        /// The error.
        source: io::Error,
    },
}

fn io_err(path: impl AsRef<Path>) -> impl FnOnce(io::Error) -> WorkspaceError {
    let path = path.as_ref().display().to_string();
    move |source| WorkspaceError::Io { path, source }
}

/// A new unguessable handle: 128 random bits, hex.
fn new_handle() -> Result<String, WorkspaceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| WorkspaceError::Io {
        path: "handle".into(),
        source: io::Error::other(e.to_string()),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `s` has the shape of a handle (so it can be used as a directory name).
fn is_handle(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where the workspaces of a server live, and their limits.
#[derive(Debug)]
pub struct Workspaces {
    root: PathBuf,
    dir: Dir,
    limits: WorkspaceLimits,
    /// One lock per workspace in use: runs of one workspace take turns, and sweeps skip it.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When the last sweep ran and the bytes all workspaces used then.
    swept: Mutex<(Option<Instant>, u64)>,
}

/// How often [`Workspaces::create`] sweeps expired workspaces and re-measures the total.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

impl Workspaces {
    /// Workspaces under `root` (created if missing, then with mode 0700; an existing directory's
    /// mode is left as it is) with `limits`.
    pub fn new(root: &Path, limits: WorkspaceLimits) -> Result<Self, WorkspaceError> {
        if !root.exists() {
            std::fs::create_dir_all(root).map_err(io_err(root))?;
            #[cfg(unix)]
            std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .map_err(io_err(root))?;
        }
        let root = root.canonicalize().map_err(io_err(root))?;
        let dir = Dir::open_ambient_dir(&root, ambient_authority()).map_err(io_err(&root))?;
        Ok(Workspaces { root, dir, limits, locks: Mutex::default(), swept: Mutex::new((None, 0)) })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The limits.
    pub fn limits(&self) -> &WorkspaceLimits {
        &self.limits
    }

    /// The handles of the workspaces kept now.
    pub fn handles(&self) -> Vec<String> {
        let Ok(entries) = self.dir.entries() else { return Vec::new() };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| is_handle(n))
            .collect()
    }

    /// The lock that makes runs of workspace `handle` take turns (hold it while using it).
    pub fn lock(&self, handle: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(handle.to_string()).or_default().clone()
    }

    fn in_use(&self, handle: &str) -> bool {
        self.locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(handle)
            .is_some_and(|l| Arc::strong_count(l) > 1)
    }

    /// A new, empty workspace with a fresh handle, if the server-wide caps allow one more.
    pub fn create(&self) -> Result<Workspace, WorkspaceError> {
        let total = self.sweep_if_due()?;
        let count = self.handles().len();
        if count >= self.limits.max_workspaces {
            return Err(WorkspaceError::Cap(format!(
                "this server keeps at most {} workspaces (max_workspaces) and has {count}",
                self.limits.max_workspaces
            )));
        }
        if total >= self.limits.max_total_bytes {
            return Err(WorkspaceError::Cap(format!(
                "all workspaces together use {total} bytes, the server-wide cap is {} bytes (max_total_bytes)",
                self.limits.max_total_bytes
            )));
        }
        let handle = new_handle()?;
        self.dir.create_dir(&handle).map_err(io_err(&handle))?;
        sync_dir(&self.dir).map_err(io_err(&handle))?;
        Workspace::at(&self.root.join(&handle), Some(handle), &self.limits)
    }

    /// The workspace `handle`, marked as used now.
    pub fn open(&self, handle: &str) -> Result<Workspace, WorkspaceError> {
        if !is_handle(handle)
            || self.dir.symlink_metadata(handle).map(|m| !m.is_dir()).unwrap_or(true)
        {
            return Err(WorkspaceError::UnknownHandle(handle.to_string()));
        }
        let ws = Workspace::at(&self.root.join(handle), Some(handle.to_string()), &self.limits)?;
        ws.touch();
        Ok(ws)
    }

    /// Removes workspace `ws` and everything in it.
    pub fn discard(&self, ws: Workspace) -> Result<(), WorkspaceError> {
        let Some(handle) = ws.handle.clone() else { return Ok(()) };
        drop(ws);
        self.remove(&handle)
    }

    fn remove(&self, handle: &str) -> Result<(), WorkspaceError> {
        let trash = ensure_dir(&self.dir, TRASH)?;
        tree::remove(&self.dir, handle, &trash).map_err(io_err(handle))
    }

    /// Removes workspaces idle longer than the expiry (not those in use); returns how many, and
    /// re-measures the bytes all of them use.
    pub fn sweep(&self) -> Result<usize, WorkspaceError> {
        let mut removed = 0;
        let mut total = 0;
        for handle in self.handles() {
            let idle = self
                .dir
                .symlink_metadata(&handle)
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.into_std().elapsed().ok());
            if idle.is_some_and(|i| i > self.limits.idle_expiry) && !self.in_use(&handle) {
                self.remove(&handle)?;
                removed += 1;
                continue;
            }
            if let Ok(dir) = self.dir.open_dir(&handle) {
                total += tree::usage(&dir, self.limits.max_entries.saturating_mul(4))
                    .map(|u| u.charged)
                    .unwrap_or(0);
            }
        }
        *self.swept.lock().unwrap_or_else(|p| p.into_inner()) = (Some(Instant::now()), total);
        if removed > 0 {
            tracing::info!(removed, "removed idle workspaces");
        }
        Ok(removed)
    }

    /// Sweeps if the last sweep is older than a minute; the bytes all workspaces used then.
    fn sweep_if_due(&self) -> Result<u64, WorkspaceError> {
        let due = self
            .swept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .is_none_or(|t| t.elapsed() > SWEEP_EVERY);
        if due {
            self.sweep()?;
        }
        Ok(self.swept.lock().unwrap_or_else(|p| p.into_inner()).1)
    }
}

fn ensure_dir(parent: &Dir, name: &str) -> Result<Dir, WorkspaceError> {
    match parent.create_dir(name) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(io_err(name)(e)),
        _ => {}
    }
    parent.open_dir(name).map_err(io_err(name))
}

/// One workspace.
#[derive(Debug)]
pub struct Workspace {
    handle: Option<String>,
    path: PathBuf,
    session: Dir,
    quota_bytes: u64,
    max_entries: u64,
}

/// Every entry in a workspace, by path relative to it.
pub type Listing = BTreeMap<String, EntryInfo>;

impl Workspace {
    /// The workspace kept in directory `dir` (created if missing, with its `workspace/` and
    /// `checkpoints/`), limited to `quota_bytes` and the default entry cap; it has no handle.
    /// Reopening keeps its files.
    pub fn open(dir: &Path, quota_bytes: u64) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        Workspace::at(dir, None, &WorkspaceLimits { quota_bytes, ..WorkspaceLimits::default() })
    }

    fn at(
        dir: &Path,
        handle: Option<String>,
        limits: &WorkspaceLimits,
    ) -> Result<Self, WorkspaceError> {
        let path = dir.canonicalize().map_err(io_err(dir))?;
        let session = Dir::open_ambient_dir(&path, ambient_authority()).map_err(io_err(&path))?;
        let ws = Workspace {
            handle,
            path,
            session,
            quota_bytes: limits.quota_bytes,
            max_entries: limits.max_entries,
        };
        ws.recover()?;
        for sub in [WORKSPACE, CHECKPOINTS] {
            ensure_dir(&ws.session, sub)?;
        }
        sync_dir(&ws.session).map_err(io_err("."))?;
        Ok(ws)
    }

    /// The handle that names this workspace (`None` for one opened by path).
    pub fn handle(&self) -> Option<&str> {
        self.handle.as_deref()
    }

    /// The host directory programs see as `/workspace`.
    pub fn dir(&self) -> PathBuf {
        self.path.join(WORKSPACE)
    }

    /// The quota, in bytes, over the workspace and its checkpoints.
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// The cap on entries, over the workspace and its checkpoints.
    pub fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// Marks the workspace as used now (idle expiry counts from the last use).
    pub fn touch(&self) {
        if let Ok(f) = std::fs::File::open(&self.path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Finishes or undoes a restore that a crash interrupted.
    fn recover(&self) -> Result<(), WorkspaceError> {
        let exists = |p: &str| self.session.symlink_metadata(p).is_ok();
        if !exists(WORKSPACE) && (exists(NEW_WORKSPACE) || exists(OLD_WORKSPACE)) {
            let from = if exists(NEW_WORKSPACE) { NEW_WORKSPACE } else { OLD_WORKSPACE };
            self.session.rename(from, &self.session, WORKSPACE).map_err(io_err(WORKSPACE))?;
        }
        for leftover in [OLD_WORKSPACE, NEW_WORKSPACE] {
            self.remove_tree(&self.session, leftover)?;
        }
        Ok(())
    }

    fn remove_tree(&self, parent: &Dir, name: &str) -> Result<(), WorkspaceError> {
        let trash = ensure_dir(&self.session, TRASH)?;
        tree::remove(parent, name, &trash).map_err(io_err(name))
    }

    fn open_sub(&self, name: &str) -> Result<Dir, WorkspaceError> {
        self.session.open_dir(name).map_err(io_err(name))
    }

    /// Every entry in the workspace (directories too; symlinks and special files as entries
    /// that are neither), at most the entry cap plus one.
    pub fn list(&self) -> Result<Listing, WorkspaceError> {
        self.recover()?;
        let dir = self.open_sub(WORKSPACE)?;
        let mut out = Listing::new();
        let cap = self.max_entries;
        tree::walk(&dir, &mut |rel, info| {
            out.insert(rel.to_string(), *info);
            if (out.len() as u64) <= cap { tree::Visit::Descend } else { tree::Visit::Stop }
        })
        .map_err(io_err(WORKSPACE))?;
        Ok(out)
    }

    /// What the workspace and its checkpoints use.
    pub fn usage(&self) -> Result<Usage, WorkspaceError> {
        let mut total = Usage::default();
        for sub in [WORKSPACE, CHECKPOINTS] {
            let u = tree::usage(&self.open_sub(sub)?, self.max_entries).map_err(io_err(sub))?;
            total = Usage {
                charged: total.charged + u.charged,
                content: total.content + u.content,
                entries: total.entries + u.entries,
                too_deep: total.too_deep || u.too_deep,
            };
        }
        Ok(total)
    }

    /// Which limit `u` breaks, if any, in words.
    pub fn over_quota(&self, u: &Usage) -> Option<String> {
        if u.too_deep {
            Some(format!("directories nested deeper than {} levels", tree::MAX_DEPTH))
        } else if u.entries > self.max_entries {
            Some(format!("more than {} files and directories (the entry cap)", self.max_entries))
        } else if u.charged > self.quota_bytes {
            Some(format!(
                "{} bytes used (each file and directory counts at least {} bytes), the quota is {} bytes",
                u.charged,
                tree::BLOCK,
                self.quota_bytes
            ))
        } else {
            None
        }
    }

    /// Whether the workspace holds no files and no checkpoints.
    pub fn is_empty(&self) -> bool {
        self.usage().is_ok_and(|u| u.entries == 0)
    }

    /// Undoes what a run did that `before` did not have: removes every entry it created and
    /// cuts files it grew back to their old length. Returns the paths it removed.
    pub fn undo_run(&self, before: &Listing) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.open_sub(WORKSPACE)?;
        // The whole tree, however large the run made it: created entries are noted (not entered),
        // so the walk costs one visit per top-level created entry.
        let mut created: Vec<String> = Vec::new();
        let mut grown: Vec<(String, u64)> = Vec::new();
        tree::walk(&dir, &mut |rel, info| match before.get(rel) {
            None => {
                created.push(rel.to_string());
                tree::Visit::Skip
            }
            Some(old) if info.file && old.file && info.len > old.len => {
                grown.push((rel.to_string(), old.len));
                tree::Visit::Descend
            }
            Some(_) => tree::Visit::Descend,
        })
        .map_err(io_err(WORKSPACE))?;
        for path in &created {
            self.remove_tree(&dir, path)?;
        }
        for (path, len) in grown {
            let f = dir
                .open_with(&path, cap_std::fs::OpenOptions::new().write(true))
                .map_err(io_err(&path))?;
            f.set_len(len).map_err(io_err(&path))?;
        }
        Ok(created)
    }

    /// Names of the checkpoints, sorted.
    pub fn checkpoints(&self) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.open_sub(CHECKPOINTS)?;
        let mut names: Vec<String> = dir
            .entries()
            .map_err(io_err(CHECKPOINTS))?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Saves the workspace as checkpoint `name` (replacing one of that name); returns its size
    /// in content bytes.
    pub fn checkpoint(&self, name: &str) -> Result<u64, WorkspaceError> {
        check_name(name)?;
        self.recover()?;
        let current =
            tree::usage(&self.open_sub(WORKSPACE)?, self.max_entries).map_err(io_err(WORKSPACE))?;
        let replaced = self.checkpoint_usage(name)?;
        let used = self.usage()?;
        // The checkpoint's own directory is an entry too (the replaced one's is freed).
        let old_dir = u64::from(self.open_sub(CHECKPOINTS)?.symlink_metadata(name).is_ok());
        let needed = Usage {
            charged: (used.charged + current.charged + tree::BLOCK)
                .saturating_sub(replaced.charged + old_dir * tree::BLOCK),
            entries: (used.entries + current.entries + 1)
                .saturating_sub(replaced.entries + old_dir),
            ..used
        };
        if let Some(why) = self.over_quota(&needed) {
            return Err(WorkspaceError::Quota(format!("checkpoint {name:?} would leave {why}")));
        }
        let checkpoints = self.open_sub(CHECKPOINTS)?;
        let tmp = format!(".tmp-{name}");
        let old = format!(".old-{name}");
        for leftover in [&tmp, &old] {
            self.remove_tree(&checkpoints, leftover)?;
        }
        checkpoints.create_dir(&tmp).map_err(io_err(&tmp))?;
        tree::copy(&self.open_sub(WORKSPACE)?, &checkpoints.open_dir(&tmp).map_err(io_err(&tmp))?)
            .map_err(io_err(&tmp))?;
        if checkpoints.symlink_metadata(name).is_ok() {
            checkpoints.rename(name, &checkpoints, &old).map_err(io_err(name))?;
        }
        checkpoints.rename(&tmp, &checkpoints, name).map_err(io_err(name))?;
        sync_dir(&checkpoints).map_err(io_err(CHECKPOINTS))?;
        self.remove_tree(&checkpoints, &old)?;
        Ok(current.content)
    }

    /// Replaces the workspace with checkpoint `name`; returns the restored size in content bytes.
    pub fn restore(&self, name: &str) -> Result<u64, WorkspaceError> {
        check_name(name)?;
        self.recover()?;
        let checkpoints = self.open_sub(CHECKPOINTS)?;
        let from = checkpoints.open_dir(name).map_err(|_| WorkspaceError::NoCheckpoint {
            name: name.to_string(),
            existing: self.checkpoints().unwrap_or_default(),
        })?;
        let current =
            tree::usage(&self.open_sub(WORKSPACE)?, self.max_entries).map_err(io_err(WORKSPACE))?;
        let saved = self.checkpoint_usage(name)?;
        let used = self.usage()?;
        // While it is built, the restored copy sits beside the current workspace.
        let needed = Usage {
            charged: used.charged + saved.charged,
            entries: used.entries + saved.entries,
            ..used
        };
        if let Some(why) = self.over_quota(&needed) {
            return Err(WorkspaceError::Quota(format!(
                "restoring {name:?} beside the current files ({} bytes) would leave {why}",
                current.content
            )));
        }
        self.session.create_dir(NEW_WORKSPACE).map_err(io_err(NEW_WORKSPACE))?;
        tree::copy(&from, &self.open_sub(NEW_WORKSPACE)?).map_err(io_err(NEW_WORKSPACE))?;
        self.session.rename(WORKSPACE, &self.session, OLD_WORKSPACE).map_err(io_err(WORKSPACE))?;
        self.session.rename(NEW_WORKSPACE, &self.session, WORKSPACE).map_err(io_err(WORKSPACE))?;
        sync_dir(&self.session).map_err(io_err("."))?;
        self.remove_tree(&self.session, OLD_WORKSPACE)?;
        Ok(saved.content)
    }

    fn checkpoint_usage(&self, name: &str) -> Result<Usage, WorkspaceError> {
        let checkpoints = self.open_sub(CHECKPOINTS)?;
        let Ok(dir) = checkpoints.open_dir(name) else { return Ok(Usage::default()) };
        tree::usage(&dir, self.max_entries).map_err(io_err(name))
    }
}

fn check_name(name: &str) -> Result<(), WorkspaceError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok { Ok(()) } else { Err(WorkspaceError::BadName(name.to_string())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(ws: &Workspace, rel: &str, text: &str) {
        std::fs::write(ws.dir().join(rel), text).expect("write");
    }

    fn spaces(root: &Path, quota_bytes: u64) -> Workspaces {
        Workspaces::new(root, WorkspaceLimits { quota_bytes, ..WorkspaceLimits::default() })
            .expect("root")
    }

    #[test]
    fn checkpoint_and_restore_round_trip_and_quota_is_enforced() {
        let root = tempfile::tempdir().expect("tmp");
        // Ten blocks: the workspace (3 entries), one checkpoint (4 with its directory) and room
        // for a restore to be built beside it, but not a second checkpoint.
        let ws = spaces(root.path(), 10 * tree::BLOCK).create().expect("workspace");
        std::fs::create_dir(ws.dir().join("sub")).expect("mkdir");
        write(&ws, "a.txt", "first");
        write(&ws, "sub/b.txt", "12345");
        assert_eq!(ws.checkpoint("v1").expect("checkpoint"), 10);
        write(&ws, "a.txt", "second version");
        std::fs::remove_file(ws.dir().join("sub/b.txt")).expect("rm");
        assert_eq!(ws.restore("v1").expect("restore"), 10);
        let files: Vec<String> =
            ws.list().expect("list").into_iter().filter(|(_, i)| i.file).map(|(p, _)| p).collect();
        assert_eq!(files, ["a.txt", "sub/b.txt"]);
        assert_eq!(std::fs::read_to_string(ws.dir().join("a.txt")).expect("read"), "first");
        assert_eq!(ws.checkpoints().expect("names"), ["v1"]);
        assert!(
            matches!(ws.restore("nope"), Err(WorkspaceError::NoCheckpoint { existing, .. }) if existing == ["v1"])
        );
        assert!(matches!(ws.checkpoint("../x"), Err(WorkspaceError::BadName(_))));
        let err = ws.checkpoint("v2").expect_err("two copies do not fit").to_string();
        assert!(err.contains("quota") && err.contains("the quota is"), "{err}");
        assert_eq!(
            ws.checkpoints().expect("names"),
            ["v1"],
            "the refused checkpoint left nothing behind"
        );
    }

    #[test]
    fn an_interrupted_restore_is_finished_on_next_open() {
        let root = tempfile::tempdir().expect("tmp");
        let ws = spaces(root.path(), 1 << 20).create().expect("workspace");
        write(&ws, "a.txt", "old");
        // The crash came after the first rename of a restore: no workspace, the new copy beside it.
        std::fs::rename(ws.dir(), ws.path.join(OLD_WORKSPACE)).expect("rename");
        std::fs::create_dir(ws.path.join(NEW_WORKSPACE)).expect("mkdir");
        std::fs::write(ws.path.join(NEW_WORKSPACE).join("a.txt"), "new").expect("write");
        assert_eq!(ws.list().expect("list").len(), 1);
        assert_eq!(std::fs::read_to_string(ws.dir().join("a.txt")).expect("read"), "new");
        assert!(!ws.path.join(OLD_WORKSPACE).exists() && !ws.path.join(NEW_WORKSPACE).exists());
    }

    #[test]
    fn handles_are_unguessable_reopened_capped_and_expire() {
        let root = tempfile::tempdir().expect("tmp");
        let limits = WorkspaceLimits {
            max_workspaces: 2,
            idle_expiry: Duration::from_secs(3600),
            ..WorkspaceLimits::default()
        };
        let spaces = Workspaces::new(root.path(), limits).expect("root");
        let a = spaces.create().expect("a");
        let handle = a.handle().expect("handle").to_string();
        assert!(is_handle(&handle));
        write(&a, "kept.txt", "kept");
        let again = spaces.open(&handle).expect("reopen");
        assert_eq!(std::fs::read_to_string(again.dir().join("kept.txt")).expect("read"), "kept");
        let b = spaces.create().expect("b");
        assert_ne!(b.handle(), a.handle());
        let err = spaces.create().expect_err("third").to_string();
        assert!(err.contains("at most 2 workspaces") && err.contains("max_workspaces"), "{err}");
        for bad in ["../etc", "0123", &handle.to_uppercase()] {
            assert!(matches!(spaces.open(bad), Err(WorkspaceError::UnknownHandle(_))), "{bad}");
        }
        // Idle past the expiry (its time set back two hours): swept, unless in use.
        let old = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::open(b.path.clone()).and_then(|f| f.set_modified(old)).expect("age b");
        std::fs::File::open(a.path.clone()).and_then(|f| f.set_modified(old)).expect("age a");
        let held = spaces.lock(&handle);
        assert_eq!(spaces.sweep().expect("sweep"), 1, "only the idle workspace not in use");
        drop(held);
        assert!(spaces.open(b.handle().expect("b")).is_err() && spaces.open(&handle).is_ok());
        spaces.discard(again).expect("discard");
        assert!(spaces.handles().is_empty());
    }

    #[test]
    fn undo_run_removes_created_trees_and_cuts_appended_bytes() {
        let root = tempfile::tempdir().expect("tmp");
        let ws = spaces(root.path(), 1 << 20).create().expect("workspace");
        write(&ws, "log.txt", "before");
        let before = ws.list().expect("list");
        std::fs::create_dir_all(ws.dir().join("bomb/a/b")).expect("dirs");
        write(&ws, "bomb/a/b/f", "x");
        write(&ws, "new.txt", "");
        std::fs::OpenOptions::new()
            .append(true)
            .open(ws.dir().join("log.txt"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b" and appended"))
            .expect("append");
        let removed = ws.undo_run(&before).expect("undo");
        assert_eq!(removed, ["bomb", "new.txt"]);
        assert_eq!(ws.list().expect("list").keys().collect::<Vec<_>>(), ["log.txt"]);
        assert_eq!(std::fs::read_to_string(ws.dir().join("log.txt")).expect("read"), "before");
    }
}
