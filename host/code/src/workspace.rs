//! Per-session workspaces: a directory preopened read-write into the runner as `/workspace`,
//! a size quota, and named checkpoints.
//!
//! Layout under the root: `<root>/<session>/workspace/` (what programs see) and
//! `<root>/<session>/checkpoints/<name>/`. The quota covers both. Every directory the host opens
//! here is opened through cap-std, relative to the session directory. Checkpoints and restores
//! build the new tree beside the old one, fsync it, and swap it in by rename, so a crash leaves
//! the old state or the new one; a restore interrupted between its two renames is finished or
//! undone the next time the workspace is opened.

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The guest path of the workspace.
pub const GUEST_PATH: &str = "/workspace";
/// Default quota per session: 64 MiB.
pub const DEFAULT_QUOTA_BYTES: u64 = 64 << 20;

const WORKSPACE: &str = "workspace";
const CHECKPOINTS: &str = "checkpoints";
const OLD_WORKSPACE: &str = ".old-workspace";
const NEW_WORKSPACE: &str = ".new-workspace";

/// Why a workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A checkpoint name that is not `[A-Za-z0-9_.-]{1,64}` or starts with `.`.
    #[error("checkpoint name {0:?} must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.' and not start with '.'")]
    BadName(String),
    /// No checkpoint by that name.
    #[error("no checkpoint named {name:?}; existing: {existing:?}")]
    NoCheckpoint {
        /// The name asked for.
        name: String,
        /// The checkpoints there are.
        existing: Vec<String>,
    },
    /// The operation would take the session over its quota.
    #[error("workspace quota exceeded: the session would use {needed} bytes, its quota is {quota} bytes")]
    Quota {
        /// Bytes the session would use.
        needed: u64,
        /// The quota, in bytes.
        quota: u64,
    },
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

/// Where session workspaces live, and their quota.
#[derive(Debug)]
pub struct Workspaces {
    root: PathBuf,
    quota_bytes: u64,
    next: AtomicU64,
}

impl Workspaces {
    /// Workspaces under `root` (created if missing), each limited to `quota_bytes`.
    pub fn new(root: &Path, quota_bytes: u64) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(root).map_err(io_err(root))?;
        let root = root.canonicalize().map_err(io_err(root))?;
        Ok(Workspaces { root, quota_bytes, next: AtomicU64::new(0) })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The quota per session, in bytes.
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// A new, empty session workspace with a unique name (`s<unix seconds>-<pid>-<n>`).
    pub fn create(&self) -> Result<Workspace, WorkspaceError> {
        let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let name = format!("s{secs}-{}-{}", std::process::id(), self.next.fetch_add(1, Ordering::SeqCst));
        let root = Dir::open_ambient_dir(&self.root, ambient_authority()).map_err(io_err(&self.root))?;
        root.create_dir(&name).map_err(io_err(&name))?;
        sync_dir(&root).map_err(io_err(&name))?;
        Workspace::open(&self.root.join(&name), self.quota_bytes)
    }
}

/// One session's workspace.
#[derive(Debug)]
pub struct Workspace {
    path: PathBuf,
    session: Dir,
    quota_bytes: u64,
}

/// One file in a workspace: path relative to it, size in bytes, modification time.
pub type Listing = BTreeMap<String, (u64, Option<SystemTime>)>;

impl Workspace {
    /// The workspace kept in the session directory `dir` (created if missing, with its
    /// `workspace/` and `checkpoints/`), limited to `quota_bytes`. Reopening keeps its files.
    pub fn open(dir: &Path, quota_bytes: u64) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.canonicalize().map_err(io_err(dir))?;
        let session = Dir::open_ambient_dir(&path, ambient_authority()).map_err(io_err(&path))?;
        let ws = Workspace { path, session, quota_bytes };
        ws.recover()?;
        for sub in [WORKSPACE, CHECKPOINTS] {
            if ws.session.symlink_metadata(sub).is_err() {
                ws.session.create_dir(sub).map_err(io_err(sub))?;
            }
        }
        sync_dir(&ws.session).map_err(io_err("."))?;
        Ok(ws)
    }

    /// The host directory programs see as `/workspace`.
    pub fn dir(&self) -> PathBuf {
        self.path.join(WORKSPACE)
    }

    /// The quota, in bytes, over the workspace and its checkpoints.
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// Finishes or undoes a restore that a crash interrupted.
    fn recover(&self) -> Result<(), WorkspaceError> {
        let exists = |p: &str| self.session.symlink_metadata(p).is_ok();
        if !exists(WORKSPACE) && (exists(NEW_WORKSPACE) || exists(OLD_WORKSPACE)) {
            let from = if exists(NEW_WORKSPACE) { NEW_WORKSPACE } else { OLD_WORKSPACE };
            self.session.rename(from, &self.session, WORKSPACE).map_err(io_err(WORKSPACE))?;
        }
        for leftover in [OLD_WORKSPACE, NEW_WORKSPACE] {
            if exists(leftover) {
                self.session.remove_dir_all(leftover).map_err(io_err(leftover))?;
            }
        }
        Ok(())
    }

    /// Every regular file in the workspace (symlinks and special files are skipped).
    pub fn list(&self) -> Result<Listing, WorkspaceError> {
        self.recover()?;
        let dir = self.session.open_dir(WORKSPACE).map_err(io_err(WORKSPACE))?;
        let mut out = Listing::new();
        walk(&dir, "", &mut |rel, meta| {
            out.insert(rel.to_string(), (meta.len(), meta.modified().ok().map(cap_std::time::SystemTime::into_std)));
        })
        .map_err(io_err(WORKSPACE))?;
        Ok(out)
    }

    /// Bytes used by the workspace and its checkpoints.
    pub fn used_bytes(&self) -> Result<u64, WorkspaceError> {
        let mut total = 0;
        walk(&self.session, "", &mut |_, meta| total += meta.len()).map_err(io_err("."))?;
        Ok(total)
    }

    /// Removes files (paths relative to the workspace); missing ones are ignored.
    pub fn remove_files<'a>(&self, files: impl IntoIterator<Item = &'a str>) -> Result<(), WorkspaceError> {
        let dir = self.session.open_dir(WORKSPACE).map_err(io_err(WORKSPACE))?;
        for f in files {
            match dir.remove_file(f) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(f)(e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Names of the checkpoints, sorted.
    pub fn checkpoints(&self) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.session.open_dir(CHECKPOINTS).map_err(io_err(CHECKPOINTS))?;
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

    /// Saves the workspace as checkpoint `name` (replacing one of that name); returns its size.
    pub fn checkpoint(&self, name: &str) -> Result<u64, WorkspaceError> {
        check_name(name)?;
        self.recover()?;
        let size: u64 = self.list()?.values().map(|(len, _)| len).sum();
        let replaced = self.checkpoint_size(name)?;
        let needed = self.used_bytes()? - replaced + size;
        if needed > self.quota_bytes {
            return Err(WorkspaceError::Quota { needed, quota: self.quota_bytes });
        }
        let checkpoints = self.session.open_dir(CHECKPOINTS).map_err(io_err(CHECKPOINTS))?;
        let tmp = format!(".tmp-{name}");
        let old = format!(".old-{name}");
        for leftover in [&tmp, &old] {
            if checkpoints.symlink_metadata(leftover).is_ok() {
                checkpoints.remove_dir_all(leftover).map_err(io_err(leftover))?;
            }
        }
        let from = self.session.open_dir(WORKSPACE).map_err(io_err(WORKSPACE))?;
        checkpoints.create_dir(&tmp).map_err(io_err(&tmp))?;
        copy_tree(&from, &checkpoints.open_dir(&tmp).map_err(io_err(&tmp))?).map_err(io_err(&tmp))?;
        if replaced > 0 || checkpoints.symlink_metadata(name).is_ok() {
            checkpoints.rename(name, &checkpoints, &old).map_err(io_err(name))?;
        }
        checkpoints.rename(&tmp, &checkpoints, name).map_err(io_err(name))?;
        sync_dir(&checkpoints).map_err(io_err(CHECKPOINTS))?;
        if checkpoints.symlink_metadata(&old).is_ok() {
            checkpoints.remove_dir_all(&old).map_err(io_err(&old))?;
        }
        Ok(size)
    }

    /// Replaces the workspace with checkpoint `name`; returns the restored size in bytes.
    pub fn restore(&self, name: &str) -> Result<u64, WorkspaceError> {
        check_name(name)?;
        self.recover()?;
        let checkpoints = self.session.open_dir(CHECKPOINTS).map_err(io_err(CHECKPOINTS))?;
        let from = checkpoints.open_dir(name).map_err(|_| WorkspaceError::NoCheckpoint {
            name: name.to_string(),
            existing: self.checkpoints().unwrap_or_default(),
        })?;
        let current: u64 = self.list()?.values().map(|(len, _)| len).sum();
        let size = self.checkpoint_size(name)?;
        let needed = (self.used_bytes()? + size).saturating_sub(current);
        if needed > self.quota_bytes {
            return Err(WorkspaceError::Quota { needed, quota: self.quota_bytes });
        }
        self.session.create_dir(NEW_WORKSPACE).map_err(io_err(NEW_WORKSPACE))?;
        copy_tree(&from, &self.session.open_dir(NEW_WORKSPACE).map_err(io_err(NEW_WORKSPACE))?).map_err(io_err(NEW_WORKSPACE))?;
        self.session.rename(WORKSPACE, &self.session, OLD_WORKSPACE).map_err(io_err(WORKSPACE))?;
        self.session.rename(NEW_WORKSPACE, &self.session, WORKSPACE).map_err(io_err(WORKSPACE))?;
        sync_dir(&self.session).map_err(io_err("."))?;
        self.session.remove_dir_all(OLD_WORKSPACE).map_err(io_err(OLD_WORKSPACE))?;
        Ok(size)
    }

    fn checkpoint_size(&self, name: &str) -> Result<u64, WorkspaceError> {
        let checkpoints = self.session.open_dir(CHECKPOINTS).map_err(io_err(CHECKPOINTS))?;
        let Ok(dir) = checkpoints.open_dir(name) else { return Ok(0) };
        let mut total = 0;
        walk(&dir, "", &mut |_, meta| total += meta.len()).map_err(io_err(name))?;
        Ok(total)
    }
}

fn check_name(name: &str) -> Result<(), WorkspaceError> {
    let ok = !name.is_empty() && name.len() <= 64 && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok { Ok(()) } else { Err(WorkspaceError::BadName(name.to_string())) }
}

/// Visits every regular file under `dir` (not following symlinks) with its path relative to `dir`.
fn walk(dir: &Dir, prefix: &str, visit: &mut dyn FnMut(&str, &cap_std::fs::Metadata)) -> io::Result<()> {
    for entry in dir.entries()? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        let meta = dir.symlink_metadata(&name)?;
        if meta.is_dir() {
            walk(&dir.open_dir(&name)?, &rel, visit)?;
        } else if meta.is_file() {
            visit(&rel, &meta);
        }
    }
    Ok(())
}

/// Copies regular files and directories from `from` into the empty `to`, fsyncing each file and
/// directory; symlinks and special files are not copied.
fn copy_tree(from: &Dir, to: &Dir) -> io::Result<()> {
    for entry in from.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        let meta = from.symlink_metadata(&name)?;
        if meta.is_dir() {
            to.create_dir(&name)?;
            copy_tree(&from.open_dir(&name)?, &to.open_dir(&name)?)?;
        } else if meta.is_file() {
            from.copy(&name, to, &name)?;
            to.open(&name)?.sync_all()?;
        }
    }
    sync_dir(to)
}

/// Makes renames and creations in `dir` durable (cap-std's own handle may be `O_PATH`, which
/// cannot be fsynced, so `.` is opened for reading).
fn sync_dir(dir: &Dir) -> io::Result<()> {
    dir.open(".")?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(ws: &Workspace, rel: &str, text: &str) {
        std::fs::write(ws.dir().join(rel), text).expect("write");
    }

    #[test]
    fn checkpoint_and_restore_round_trip_and_quota_is_enforced() {
        let root = tempfile::tempdir().expect("tmp");
        let spaces = Workspaces::new(root.path(), 100).expect("root");
        let ws = spaces.create().expect("workspace");
        std::fs::create_dir(ws.dir().join("sub")).expect("mkdir");
        write(&ws, "a.txt", "first");
        write(&ws, "sub/b.txt", "12345");
        assert_eq!(ws.checkpoint("v1").expect("checkpoint"), 10);
        write(&ws, "a.txt", "second version");
        std::fs::remove_file(ws.dir().join("sub/b.txt")).expect("rm");
        assert_eq!(ws.restore("v1").expect("restore"), 10);
        let files = ws.list().expect("list");
        assert_eq!(files.keys().collect::<Vec<_>>(), ["a.txt", "sub/b.txt"]);
        assert_eq!(std::fs::read_to_string(ws.dir().join("a.txt")).expect("read"), "first");
        assert_eq!(ws.checkpoints().expect("names"), ["v1"]);
        assert!(matches!(ws.restore("nope"), Err(WorkspaceError::NoCheckpoint { existing, .. }) if existing == ["v1"]));
        assert!(matches!(ws.checkpoint("../x"), Err(WorkspaceError::BadName(_))));
        write(&ws, "big.txt", &"x".repeat(80));
        assert!(matches!(ws.checkpoint("v2"), Err(WorkspaceError::Quota { quota: 100, .. })), "100 bytes cannot hold two copies");
        assert_eq!(ws.checkpoints().expect("names"), ["v1"], "the refused checkpoint left nothing behind");
    }

    #[test]
    fn an_interrupted_restore_is_finished_on_next_open() {
        let root = tempfile::tempdir().expect("tmp");
        let ws = Workspaces::new(root.path(), 1 << 20).expect("root").create().expect("workspace");
        write(&ws, "a.txt", "old");
        // The crash came after the first rename of a restore: no workspace, the new copy beside it.
        std::fs::rename(ws.dir(), ws.path.join(OLD_WORKSPACE)).expect("rename");
        std::fs::create_dir(ws.path.join(NEW_WORKSPACE)).expect("mkdir");
        std::fs::write(ws.path.join(NEW_WORKSPACE).join("a.txt"), "new").expect("write");
        assert_eq!(ws.list().expect("list").len(), 1);
        assert_eq!(std::fs::read_to_string(ws.dir().join("a.txt")).expect("read"), "new");
        assert!(!ws.path.join(OLD_WORKSPACE).exists() && !ws.path.join(NEW_WORKSPACE).exists());
    }
}
