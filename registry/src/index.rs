//! The local registry: the blob store plus a package index (`index.json`: name → versions →
//! digest, description, yanked) under one home directory (`$WASM_HOST_HOME`).
//!
//! Writers take an exclusive lock on `index.lock` for the read-modify-write of the index; the
//! index is replaced atomically (temp file, fsync, rename, fsync of the directory), so readers
//! and a crash see the old index or the new one, never a mix. Blobs are written before the index
//! names them. (An index that loads without parsing, rkyv, comes with the index benchmark.)

use crate::resolve::{Published, Reference, ResolveError, check_publish};
use crate::{BlobStore, StoreError};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const INDEX: &str = "index.json";
const LOCK: &str = "index.lock";

/// Registry errors.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Blob store problem.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Resolution or immutability.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The bytes are not a publishable component.
    #[error("not publishable: {0}")]
    Component(String),
    /// The index file is unreadable.
    #[error("index {path}: {why}")]
    Index {
        /// Its path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A version that is not in the index.
    #[error("{0} is not published here")]
    NotPublished(String),
}

/// One published version in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Semver version.
    pub version: String,
    /// Hex sha256 of the component.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// The manifest's description.
    pub description: String,
    /// Not chosen by ranges any more; still installable by exact version.
    pub yanked: bool,
}

/// What a reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    /// Package name.
    pub name: String,
    /// The chosen version.
    pub version: String,
    /// Its digest.
    pub digest: String,
    /// The verified blob on disk.
    pub path: PathBuf,
}

/// The result of a publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishOutcome {
    /// Package name (from the manifest).
    pub name: String,
    /// Version (from the manifest).
    pub version: String,
    /// Digest of the bytes.
    pub digest: String,
    /// The same bytes were already published under this version (nothing changed).
    pub unchanged: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct IndexFile {
    packages: BTreeMap<String, Vec<Entry>>,
}

/// A local registry rooted at one home directory.
pub struct Registry {
    root: PathBuf,
    dir: Dir,
    blobs: BlobStore,
}

impl Registry {
    /// Opens (creating if needed) the registry at `home`.
    pub fn open(home: &Path) -> Result<Self, RegistryError> {
        let blobs = BlobStore::open(home)?;
        let dir = Dir::open_ambient_dir(home, ambient_authority()).map_err(|e| index_err(home, e))?;
        Ok(Registry { root: home.to_path_buf(), dir, blobs })
    }

    /// Publishes a component: its manifest gives name and version; its WIT imports must be ones
    /// this host accepts. The same bytes again are a no-op; other bytes under a published
    /// version are refused.
    pub fn publish(&self, bytes: &[u8]) -> Result<PublishOutcome, RegistryError> {
        let info = wasm_host_meta::inspect(bytes).map_err(|e| RegistryError::Component(e.to_string()))?;
        info.check_imports().map_err(|e| RegistryError::Component(e.to_string()))?;
        let manifest = info.manifest.ok_or_else(|| RegistryError::Component("no wasm-host manifest (build it with `wasm-host build`)".into()))?;
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let versions = index.packages.entry(manifest.name.clone()).or_default();
        let unchanged = check_publish(&manifest.name, &manifest.version, &info.sha256, &published(versions))?;
        let digest = self.blobs.put(bytes)?;
        if !unchanged {
            versions.push(Entry { version: manifest.version.to_string(), digest: digest.clone(), size: bytes.len() as u64, description: manifest.description.clone(), yanked: false });
            self.write_index(&index)?;
        }
        Ok(PublishOutcome { name: manifest.name, version: manifest.version.to_string(), digest, unchanged })
    }

    /// Resolves `name[@req]` to a verified blob.
    pub fn resolve(&self, reference: &str) -> Result<Resolved, RegistryError> {
        let reference = Reference::parse(reference)?;
        let index = self.read_index()?;
        let entries = index.packages.get(&reference.name).map(Vec::as_slice).unwrap_or_default();
        let chosen = reference.resolve(&published(entries))?.clone();
        self.blobs.get(&chosen.digest)?; // verified: a tampered blob is refused here
        Ok(Resolved { name: reference.name, version: chosen.version.to_string(), path: self.root.join("blobs/sha256").join(&chosen.digest), digest: chosen.digest })
    }

    /// Every package and its versions.
    pub fn list(&self) -> Result<BTreeMap<String, Vec<Entry>>, RegistryError> {
        Ok(self.read_index()?.packages)
    }

    /// Marks `name@version` yanked (or not).
    pub fn set_yanked(&self, name: &str, version: &str, yanked: bool) -> Result<(), RegistryError> {
        self.update(name, version, |versions, i| versions[i].yanked = yanked)
    }

    /// Removes `name@version` from the index (its blob stays until no version names it).
    pub fn remove(&self, name: &str, version: &str) -> Result<(), RegistryError> {
        self.update(name, version, |versions, i| {
            versions.remove(i);
        })
    }

    /// Checks every indexed blob against its digest; returns `(name@version, problem)` pairs.
    pub fn verify(&self) -> Result<Vec<(String, String)>, RegistryError> {
        let mut problems = Vec::new();
        for (name, versions) in self.list()? {
            for e in versions {
                if let Err(err) = self.blobs.get(&e.digest) {
                    problems.push((format!("{name}@{}", e.version), err.to_string()));
                }
            }
        }
        Ok(problems)
    }

    fn update(&self, name: &str, version: &str, change: impl FnOnce(&mut Vec<Entry>, usize)) -> Result<(), RegistryError> {
        let _lock = self.lock()?;
        let mut index = self.read_index()?;
        let versions = index.packages.get_mut(name).ok_or_else(|| RegistryError::NotPublished(format!("{name}@{version}")))?;
        let i = versions.iter().position(|e| e.version == version).ok_or_else(|| RegistryError::NotPublished(format!("{name}@{version}")))?;
        change(versions, i);
        if versions.is_empty() {
            index.packages.remove(name);
        }
        self.write_index(&index)
    }

    /// An exclusive lock for writers, released when dropped.
    fn lock(&self) -> Result<std::fs::File, RegistryError> {
        let f = self.dir.create(LOCK).map_err(|e| index_err(&self.root.join(LOCK), e))?.into_std();
        f.lock().map_err(|e| index_err(&self.root.join(LOCK), e))?;
        Ok(f)
    }

    fn read_index(&self) -> Result<IndexFile, RegistryError> {
        match self.dir.read(INDEX) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::Index { path: self.root.join(INDEX).display().to_string(), why: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IndexFile::default()),
            Err(e) => Err(index_err(&self.root.join(INDEX), e)),
        }
    }

    fn write_index(&self, index: &IndexFile) -> Result<(), RegistryError> {
        let path = self.root.join(INDEX);
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| RegistryError::Index { path: path.display().to_string(), why: e.to_string() })?;
        let tmp = format!(".{INDEX}.{}.tmp", std::process::id());
        let mut f = self.dir.create(&tmp).map_err(|e| index_err(&path, e))?;
        f.write_all(&bytes).and_then(|()| f.sync_all()).map_err(|e| index_err(&path, e))?;
        self.dir.rename(&tmp, &self.dir, INDEX).map_err(|e| index_err(&path, e))?;
        self.dir.open(".").and_then(|d| d.sync_all()).map_err(|e| index_err(&path, e))
    }
}

fn index_err(path: &Path, e: std::io::Error) -> RegistryError {
    RegistryError::Index { path: path.display().to_string(), why: e.to_string() }
}

fn published(entries: &[Entry]) -> Vec<Published> {
    entries
        .iter()
        .filter_map(|e| Some(Published { version: semver::Version::parse(&e.version).ok()?, digest: e.digest.clone(), yanked: e.yanked }))
        .collect()
}
