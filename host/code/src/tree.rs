//! Walking, measuring, copying and removing directory trees that a guest made, without
//! recursion: each walk keeps an explicit stack of at most [`MAX_DEPTH`] open directories, so a
//! deep tree can exhaust neither the host's stack nor its file descriptors.
//!
//! Every entry costs at least one [`BLOCK`]: a directory or an empty file is not free, so a
//! directory bomb meets the byte quota as well as the entry cap.

use cap_std::fs::{Dir, Metadata};
use std::ffi::OsString;
use std::io;
use std::time::SystemTime;

/// What each entry costs at least against a quota, in bytes (a file system block).
pub const BLOCK: u64 = 4096;
/// The deepest directory nesting a workspace may hold (`/workspace/a/b/...`: 32 levels).
pub const MAX_DEPTH: usize = 32;

/// What a walk found at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryInfo {
    /// Length in bytes (0 for directories).
    pub len: u64,
    /// Modification time.
    pub modified: Option<SystemTime>,
    /// Whether it is a directory.
    pub dir: bool,
    /// Whether it is a regular file (not a directory, symlink or special file).
    pub file: bool,
}

impl EntryInfo {
    fn of(meta: &Metadata) -> Self {
        EntryInfo {
            len: if meta.is_file() { meta.len() } else { 0 },
            modified: meta.modified().ok().map(cap_std::time::SystemTime::into_std),
            dir: meta.is_dir(),
            file: meta.is_file(),
        }
    }

    /// What this entry costs against a quota: its length rounded up to whole blocks, at least one.
    pub fn charge(&self) -> u64 {
        self.len.div_ceil(BLOCK).max(1) * BLOCK
    }
}

/// What a visitor wants after seeing an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Go on, into the entry if it is a directory.
    Descend,
    /// Go on, but not into this directory.
    Skip,
    /// End the walk (a cap was reached).
    Stop,
}

/// How a walk ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkEnd {
    /// The visitor stopped it.
    pub stopped: bool,
    /// Some directory nests deeper than [`MAX_DEPTH`]; its contents were not visited.
    pub too_deep: bool,
}

/// One open directory of a walk: its handle, the names left to visit, its path.
struct Level {
    dir: Dir,
    names: std::vec::IntoIter<OsString>,
    prefix: String,
}

fn level(dir: Dir, prefix: String) -> io::Result<Level> {
    let mut names: Vec<OsString> =
        dir.entries()?.filter_map(Result::ok).map(|e| e.file_name()).collect();
    names.sort();
    Ok(Level { dir, names: names.into_iter(), prefix })
}

/// Visits every entry under `root` depth-first (a directory, then its contents, then its next
/// sibling; symlinks are not followed) with its path relative to `root`. Directories deeper than
/// [`MAX_DEPTH`] are visited but not entered.
pub fn walk(root: &Dir, visit: &mut dyn FnMut(&str, &EntryInfo) -> Visit) -> io::Result<WalkEnd> {
    let mut end = WalkEnd::default();
    let mut stack = vec![level(root.try_clone()?, String::new())?];
    while let Some(top) = stack.last_mut() {
        let Some(name) = top.names.next() else {
            stack.pop();
            continue;
        };
        let Ok(meta) = top.dir.symlink_metadata(&name) else { continue };
        let shown = name.to_string_lossy();
        let rel = if top.prefix.is_empty() {
            shown.into_owned()
        } else {
            format!("{}/{shown}", top.prefix)
        };
        let info = EntryInfo::of(&meta);
        match visit(&rel, &info) {
            Visit::Stop => return Ok(WalkEnd { stopped: true, ..end }),
            Visit::Skip => continue,
            Visit::Descend if !info.dir => continue,
            Visit::Descend => {}
        }
        let sub = top.dir.open_dir(&name)?;
        if stack.len() >= MAX_DEPTH {
            end.too_deep = true;
            continue;
        }
        stack.push(level(sub, rel)?);
    }
    Ok(end)
}

/// What a tree uses: bytes charged (see [`EntryInfo::charge`]), content bytes and entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes charged against a quota.
    pub charged: u64,
    /// Bytes of file content.
    pub content: u64,
    /// Files, directories and other entries.
    pub entries: u64,
    /// Whether the tree nests deeper than [`MAX_DEPTH`] (the walk stopped there).
    pub too_deep: bool,
}

/// Measures the tree under `root`, stopping once it holds more than `max_entries` entries.
pub fn usage(root: &Dir, max_entries: u64) -> io::Result<Usage> {
    let mut u = Usage::default();
    let end = walk(root, &mut |_, info| {
        u.charged += info.charge();
        u.content += info.len;
        u.entries += 1;
        if u.entries <= max_entries { Visit::Descend } else { Visit::Stop }
    })?;
    Ok(Usage { too_deep: end.too_deep, ..u })
}

/// Copies regular files and directories from `from` into the empty `to`, fsyncing each file and
/// directory; symlinks and special files are not copied. Fails on a tree deeper than [`MAX_DEPTH`].
pub fn copy(from: &Dir, to: &Dir) -> io::Result<()> {
    let mut dirs = Vec::new();
    let mut failed = None;
    let end = walk(from, &mut |rel, info| {
        let step = if info.dir {
            dirs.push(rel.to_string());
            to.create_dir(rel)
        } else if info.file {
            from.copy(rel, to, rel).and_then(|_| to.open(rel)?.sync_all())
        } else {
            Ok(())
        };
        match step {
            Ok(()) => Visit::Descend,
            Err(e) => {
                failed = Some(io::Error::new(e.kind(), format!("{rel}: {e}")));
                Visit::Stop
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if end.too_deep {
        return Err(io::Error::other(format!("the tree nests deeper than {MAX_DEPTH} levels")));
    }
    for d in dirs.iter().rev() {
        to.open_dir(d).and_then(|d| sync_dir(&d))?;
    }
    sync_dir(to)
}

/// Removes `name` (a file, or a directory tree of any depth) from `parent`, using `trash` (a
/// directory on the same file system) to cut trees deeper than [`MAX_DEPTH`]: the directory at
/// the depth limit is renamed away and removed from there. Each removal works in its own
/// directory inside `trash`, so removals running at once never touch each other's entries.
pub fn remove(parent: &Dir, name: &str, trash: &Dir) -> io::Result<()> {
    let meta = match parent.symlink_metadata(name) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return parent.remove_file(name);
    }
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let fresh = || {
        format!(
            "t{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    };
    let own_name = fresh();
    trash.create_dir(&own_name)?;
    let own = trash.open_dir(&own_name)?;
    parent.rename(name, &own, fresh())?;
    empty(&own, &fresh)?;
    trash.remove_dir(&own_name)
}

/// Removes every entry of `bin` (trees of any depth: parts deeper than [`MAX_DEPTH`] become new
/// entries of `bin`), without recursion.
fn empty(bin: &Dir, fresh: &dyn Fn() -> String) -> io::Result<()> {
    loop {
        let pending: Vec<OsString> =
            bin.entries()?.filter_map(Result::ok).map(|e| e.file_name()).collect();
        if pending.is_empty() {
            return Ok(());
        }
        for top in pending {
            let mut stack = vec![(bin.open_dir(&top)?, top.clone())];
            while let Some((dir, _)) = stack.last() {
                let next = dir.entries()?.filter_map(Result::ok).next();
                match next {
                    None => {
                        let (_, name) = stack.pop().unwrap_or_else(|| unreachable!());
                        let above = stack.last().map_or(bin, |(d, _)| d);
                        above.remove_dir(&name)?;
                    }
                    Some(entry) => {
                        let child = entry.file_name();
                        if !dir.symlink_metadata(&child)?.is_dir() {
                            dir.remove_file(&child)?;
                        } else if stack.len() >= MAX_DEPTH {
                            dir.rename(&child, bin, fresh())?;
                        } else {
                            let sub = dir.open_dir(&child)?;
                            stack.push((sub, child));
                        }
                    }
                }
            }
        }
    }
}

/// Makes renames and creations in `dir` durable (cap-std's own handle may be `O_PATH`, which
/// cannot be fsynced, so `.` is opened for reading).
pub fn sync_dir(dir: &Dir) -> io::Result<()> {
    dir.open(".")?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;

    fn open(p: &std::path::Path) -> Dir {
        Dir::open_ambient_dir(p, ambient_authority()).expect("open")
    }

    #[test]
    fn a_tree_deeper_than_the_limit_is_measured_as_too_deep_and_removed_whole() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut deep = tmp.path().join("ws");
        for _ in 0..3 * MAX_DEPTH + 5 {
            deep.push("d");
        }
        std::fs::create_dir_all(&deep).expect("deep tree");
        std::fs::write(deep.join("leaf.txt"), "x").expect("leaf");
        std::fs::create_dir(tmp.path().join("trash")).expect("trash");
        let root = open(tmp.path());
        let u = usage(&root.open_dir("ws").expect("ws"), 1_000_000).expect("usage");
        assert!(u.too_deep && u.entries as usize >= MAX_DEPTH, "{u:?}");
        remove(&root, "ws", &root.open_dir("trash").expect("trash")).expect("remove");
        assert!(!tmp.path().join("ws").exists());
        assert_eq!(
            std::fs::read_dir(tmp.path().join("trash")).expect("trash").count(),
            0,
            "the trash is empty again"
        );
    }

    /// The soak found it: two workspaces removed at once through one trash directory, and one
    /// removal emptied the other's half-removed tree, which then failed with "No such file".
    #[test]
    fn concurrent_removals_through_one_trash_all_succeed() {
        let tmp = tempfile::tempdir().expect("tmp");
        for i in 0..16 {
            let mut p = tmp.path().join(format!("ws{i}"));
            for j in 0..40 {
                p.push(format!("d{j}"));
                std::fs::create_dir_all(&p).expect("dir");
                for k in 0..5 {
                    std::fs::write(p.join(format!("f{k}")), "x").expect("file");
                }
            }
        }
        std::fs::create_dir(tmp.path().join("trash")).expect("trash");
        let root = open(tmp.path());
        let trash = root.open_dir("trash").expect("trash");
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..16)
                .map(|i| {
                    let (root, trash) = (&root, &trash);
                    s.spawn(move || remove(root, &format!("ws{i}"), trash))
                })
                .collect();
            for (i, w) in workers.into_iter().enumerate() {
                w.join().expect("thread").unwrap_or_else(|e| panic!("removing ws{i}: {e}"));
            }
        });
        for i in 0..16 {
            assert!(!tmp.path().join(format!("ws{i}")).exists());
        }
        assert_eq!(
            std::fs::read_dir(tmp.path().join("trash")).expect("trash").count(),
            0,
            "the trash is empty again"
        );
    }

    #[test]
    fn empty_files_and_directories_cost_a_block_each() {
        let tmp = tempfile::tempdir().expect("tmp");
        for i in 0..10 {
            std::fs::create_dir(tmp.path().join(format!("d{i}"))).expect("dir");
            std::fs::write(tmp.path().join(format!("d{i}/empty")), "").expect("file");
        }
        std::fs::write(tmp.path().join("five-k"), vec![0u8; 5000]).expect("file");
        let u = usage(&open(tmp.path()), 1_000).expect("usage");
        assert_eq!((u.entries, u.content, u.charged), (21, 5000, 20 * BLOCK + 2 * BLOCK));
        assert_eq!(
            usage(&open(tmp.path()), 5).expect("usage").entries,
            6,
            "the walk stops past the entry cap"
        );
    }
}
