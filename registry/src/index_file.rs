//! The on-disk package index, `index.rkyv`: name → versions → digest, size, description, tools,
//! signatures, yanked. It is an rkyv archive, so a reader validates the bytes once (bytecheck) and
//! resolves straight from them without deserializing the other packages; writers deserialize,
//! change and write a whole new file (temp, fsync, rename, fsync of the directory).
//! `wasm-host bench registry` measures open + resolve over 10,000 packages against JSON.

use crate::sign::Signature;
use cap_std::fs::Dir;
use rkyv::rancor::Error as RkyvError;
use rkyv::util::AlignedVec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The index file's name under the home.
pub const INDEX: &str = "index.rkyv";
/// Bumped when the archived layout changes; an index with another number is refused.
pub const FORMAT: u32 = 1;

/// One published version, as the rest of the registry sees it.
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
    /// The names of its tools, when the publisher listed them (for `search`).
    pub tools: Vec<String>,
    /// Signatures over name, version and digest.
    pub signatures: Vec<Signature>,
    /// Not chosen by ranges any more; still installable by exact version.
    pub yanked: bool,
}

/// The whole index, owned (for writers, listings and the benchmark's JSON baseline).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IndexFile {
    /// Package name → its versions in publish order.
    pub packages: BTreeMap<String, Vec<Entry>>,
}

/// What is archived: resolution reads only names, versions, digests and yanked flags, so those
/// are the validated structure; the rest of each entry is a JSON blob (`meta`) parsed only for
/// the version chosen. That keeps the bytes validated per load small (about 60 per version).
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Stored {
    format: u32,
    packages: BTreeMap<String, Vec<Record>>,
}

#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Record {
    version: String,
    digest: [u8; 32],
    yanked: bool,
    meta: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    size: u64,
    description: String,
    tools: Vec<String>,
    signatures: Vec<Signature>,
}

/// An index read from disk: aligned bytes, validated when accessed.
pub struct LoadedIndex {
    bytes: Option<AlignedVec>,
}

impl LoadedIndex {
    /// Reads `INDEX` in `dir`; a missing file is an empty index.
    pub fn read(dir: &Dir) -> std::io::Result<Self> {
        let mut file = match dir.open(INDEX) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LoadedIndex { bytes: None }),
            Err(e) => return Err(e),
        };
        let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
        let mut bytes = AlignedVec::with_capacity(len);
        bytes.extend_from_reader(&mut file)?;
        Ok(LoadedIndex { bytes: Some(bytes) })
    }

    /// The archive after one validation pass (bytecheck); `None` when there is no index yet.
    fn stored(&self) -> Result<Option<&ArchivedStored>, String> {
        let Some(bytes) = &self.bytes else { return Ok(None) };
        let index = rkyv::access::<ArchivedStored, RkyvError>(bytes).map_err(|e| format!("not a wasm-host index: {e}"))?;
        if index.format != FORMAT {
            return Err(format!("index format {} is not the format {FORMAT} this wasm-host reads", index.format));
        }
        Ok(Some(index))
    }

    /// The versions of `name` (version, digest, yanked; in publish order) and a way to get any of
    /// them in full, from one validation of the archive.
    pub fn package(&self, name: &str) -> Result<Package<'_>, String> {
        Ok(Package { records: self.stored()?.and_then(|s| s.packages.get(name)).map(|v| v.as_slice()).unwrap_or_default() })
    }

    /// The whole index, owned.
    pub fn to_index(&self) -> Result<IndexFile, String> {
        let mut packages = BTreeMap::new();
        for (name, records) in self.stored()?.into_iter().flat_map(|s| s.packages.iter()) {
            let entries = records.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
            packages.insert(name.to_string(), entries);
        }
        Ok(IndexFile { packages })
    }
}

/// One package's archived versions.
pub struct Package<'a> {
    records: &'a [ArchivedRecord],
}

impl Package<'_> {
    /// Each version's (version, hex digest, yanked), in publish order.
    pub fn versions(&self) -> impl Iterator<Item = (&str, String, bool)> {
        self.records.iter().map(|r| (r.version.as_str(), hex::encode(r.digest), r.yanked))
    }

    /// The full entry of `version`, if published.
    pub fn entry(&self, version: &str) -> Result<Option<Entry>, String> {
        self.records.iter().find(|r| r.version.as_str() == version).map(entry).transpose()
    }
}

fn entry(r: &ArchivedRecord) -> Result<Entry, String> {
    let meta: Meta = serde_json::from_slice(r.meta.as_slice()).map_err(|e| format!("entry {}: {e}", r.version.as_str()))?;
    Ok(Entry { version: r.version.to_string(), digest: hex::encode(r.digest), size: meta.size, description: meta.description, tools: meta.tools, signatures: meta.signatures, yanked: r.yanked })
}

impl IndexFile {
    /// The archived bytes.
    pub fn to_bytes(&self) -> Result<AlignedVec, String> {
        let mut packages = BTreeMap::new();
        for (name, entries) in &self.packages {
            let mut records = Vec::with_capacity(entries.len());
            for e in entries {
                let digest: [u8; 32] = hex::decode(&e.digest).ok().and_then(|d| d.try_into().ok()).ok_or_else(|| format!("{name}@{}: digest `{}` is not a sha256", e.version, e.digest))?;
                let meta = serde_json::to_vec(&Meta { size: e.size, description: e.description.clone(), tools: e.tools.clone(), signatures: e.signatures.clone() }).map_err(|e| e.to_string())?;
                records.push(Record { version: e.version.clone(), digest, yanked: e.yanked, meta });
            }
            packages.insert(name.clone(), records);
        }
        rkyv::to_bytes::<RkyvError>(&Stored { format: FORMAT, packages }).map_err(|e| e.to_string())
    }

    /// Writes the index into `dir` atomically.
    pub fn write(&self, dir: &Dir) -> Result<(), String> {
        write_atomic(dir, INDEX, &self.to_bytes()?).map_err(|e| e.to_string())
    }
}

/// Replaces `name` in `dir` with `bytes`: temp file, fsync, rename, fsync of the directory.
pub fn write_atomic(dir: &Dir, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = format!(".{name}.{}.{:?}.tmp", std::process::id(), std::thread::current().id());
    let mut f = dir.create(&tmp)?;
    f.write_all(bytes).and_then(|()| f.sync_all())?;
    drop(f);
    dir.rename(&tmp, dir, name)?;
    dir.open(".").and_then(|d| d.sync_all())
}
