//! The on-disk cache of precompiled components.
//!
//! An artifact is named `<component sha256>-<engine compatibility hash>.cwasm`, so a different
//! wasmtime version or engine configuration never sees another's artifacts. Only files this host
//! wrote are deserialized: the directory must be private (owned by the effective user, no group
//! or other permissions; a directory we create gets 0700), every write goes to a temp file that
//! is fsynced and renamed into place (a crash leaves no half-written artifact), and a file that
//! is group/world-writable or not owned by the effective user is ignored and recompiled. A
//! shared directory (`/tmp`, another user's) is refused outright: a `.cwasm` is native code.

use crate::error::LoadError;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, DirBuilder};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The default cache directory: `$XDG_CACHE_HOME/wasm-host` or `~/.cache/wasm-host`; with neither
/// variable set, none (never a shared directory such as `/tmp`: a cached artifact is native code).
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if base.is_none() {
        tracing::warn!(
            "neither XDG_CACHE_HOME nor HOME is set: compiling without a cache (set --cache-dir to keep compiled code)"
        );
    }
    base.map(|b| b.join("wasm-host"))
}

/// Precompiled-artifact cache in one directory.
#[derive(Debug)]
pub struct CompileCache {
    path: PathBuf,
    dir: Dir,
    engine_key: String,
    /// Owner of the cache directory (created by us); artifacts must have the same owner.
    owner: Option<u32>,
}

impl CompileCache {
    /// Opens (creating it if needed, mode 0700) the cache directory for `engine`.
    pub(crate) fn open(path: &Path, engine: &Engine) -> Result<Self, LoadError> {
        let err = |e: std::io::Error| LoadError::Cache(format!("{}: {e}", path.display()));
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        cap_std::fs::DirBuilderExt::mode(&mut builder, 0o700);
        let (parent, leaf) = match (path.parent(), path.file_name()) {
            (Some(p), Some(l)) if !p.as_os_str().is_empty() => (p, Path::new(l)),
            _ => (Path::new("."), path),
        };
        std::fs::create_dir_all(parent).map_err(err)?;
        let parent_dir = Dir::open_ambient_dir(parent, ambient_authority()).map_err(err)?;
        match parent_dir.create_dir_with(leaf, &builder) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(e)),
        }
        let dir = parent_dir.open_dir(leaf).map_err(err)?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        #[cfg(feature = "compiler")]
        engine.precompile_compatibility_hash().hash(&mut h);
        // Without a compiler the engine has no compile settings to hash; wasmtime still checks
        // every artifact it maps.
        #[cfg(not(feature = "compiler"))]
        (
            engine.is_pulley(),
            crate::aot::HOST_TARGET,
            crate::aot::WASMTIME_VERSION,
            crate::aot::ENGINE_SETTINGS,
        )
            .hash(&mut h);
        #[cfg(unix)]
        let owner = {
            use cap_std::fs::MetadataExt;
            let meta = dir.dir_metadata().map_err(err)?;
            let me = rustix::process::geteuid().as_raw();
            if meta.uid() != me || meta.mode() & 0o077 != 0 {
                return Err(LoadError::Cache(format!(
                    "{}: not a private directory (owner uid {}, mode {:o}; it must be owned by uid {me} with no group or other permissions, e.g. mode 700), so its precompiled code is not trusted; use --cache-dir DIR or --no-cache",
                    path.display(),
                    meta.uid(),
                    meta.mode() & 0o7777
                )));
            }
            Some(me)
        };
        #[cfg(not(unix))]
        let owner = None;
        Ok(CompileCache {
            path: path.to_path_buf(),
            dir,
            engine_key: format!("{:016x}", h.finish()),
            owner,
        })
    }

    /// The cache directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file_name(&self, sha256: &str) -> String {
        format!("{sha256}-{}.cwasm", self.engine_key)
    }

    /// The cached artifact for `sha256`, if present and trustworthy.
    pub(crate) fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let name = self.file_name(sha256);
        let meta = self.dir.metadata(&name).ok()?;
        if !self.trusted(&meta) {
            tracing::warn!(file = %name, "ignoring a cached artifact not written privately by this user");
            return None;
        }
        let path = self.path.join(&name);
        // SAFETY: `deserialize_file` trusts its input to be an artifact wasmtime produced. The file
        // is named by the component hash and this engine's compatibility hash, lives in our private
        // cache directory, is owned by us and not writable by others, and was renamed into place
        // only after a complete, fsynced write by `put` (wasmtime re-checks engine compatibility).
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "discarding an unusable cached artifact");
                let _ = self.dir.remove_file(&name);
                None
            }
        }
    }

    #[cfg(unix)]
    fn trusted(&self, meta: &cap_std::fs::Metadata) -> bool {
        use cap_std::fs::MetadataExt;
        meta.is_file() && meta.mode() & 0o022 == 0 && Some(meta.uid()) == self.owner
    }

    #[cfg(not(unix))]
    fn trusted(&self, meta: &cap_std::fs::Metadata) -> bool {
        meta.is_file()
    }

    /// Stores `artifact` (from `Component::serialize`) for `sha256`: temp file, fsync, rename,
    /// fsync the directory.
    pub(crate) fn put(&self, sha256: &str, artifact: &[u8]) -> Result<(), LoadError> {
        let name = self.file_name(sha256);
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = format!(".{name}.{}.{seq}.tmp", std::process::id());
        let err = |e: std::io::Error| {
            LoadError::Cache(format!("writing {}: {e}", self.path.join(&name).display()))
        };
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        cap_std::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = self.dir.open_with(&tmp, &opts).map_err(err)?;
        let written = f.write_all(artifact).and_then(|()| f.sync_all());
        if let Err(e) = written {
            let _ = self.dir.remove_file(&tmp);
            return Err(err(e));
        }
        drop(f);
        self.dir.rename(&tmp, &self.dir, &name).map_err(err)?;
        // Make the rename itself durable.
        self.dir.open(".").and_then(|d| d.sync_all()).map_err(err)?;
        Ok(())
    }
}
