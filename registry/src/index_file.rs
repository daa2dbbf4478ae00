//! The on-disk package index, `index.rkyv`: name → versions → digest, size, description, tools,
//! signatures, yanked. It is an rkyv archive, so a reader validates the bytes once (bytecheck) and
//! resolves straight from them without deserializing the other packages; writers deserialize,
//! change and write a whole new file (temp, fsync, rename, fsync of the directory).

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

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
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

/// The whole index.
#[derive(Debug, Default, Serialize, Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct IndexFile {
    /// [`FORMAT`].
    pub format: u32,
    /// Package name → its versions in publish order.
    pub packages: BTreeMap<String, Vec<Entry>>,
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

    /// The archived index after one validation pass (bytecheck), or `None` when there is none yet.
    /// Call it once per operation: each call validates again.
    pub fn archived(&self) -> Result<Option<&ArchivedIndexFile>, String> {
        let Some(bytes) = &self.bytes else { return Ok(None) };
        let index = rkyv::access::<ArchivedIndexFile, RkyvError>(bytes).map_err(|e| format!("not a wasm-host index: {e}"))?;
        if index.format != FORMAT {
            return Err(format!("index format {} is not the format {FORMAT} this wasm-host reads", index.format));
        }
        Ok(Some(index))
    }

    /// The whole index, deserialized (for writers and listings).
    pub fn to_index(&self) -> Result<IndexFile, String> {
        match self.archived()? {
            Some(a) => rkyv::deserialize::<IndexFile, RkyvError>(a).map_err(|e| e.to_string()),
            None => Ok(IndexFile { format: FORMAT, packages: BTreeMap::new() }),
        }
    }
}

impl IndexFile {
    /// The archived bytes.
    pub fn to_bytes(&self) -> Result<AlignedVec, String> {
        rkyv::to_bytes::<RkyvError>(self).map_err(|e| e.to_string())
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

impl ArchivedEntry {
    /// The owned entry.
    pub fn to_entry(&self) -> Entry {
        // Deserializing an archived entry cannot fail: it holds only strings, numbers and bools.
        rkyv::deserialize::<Entry, RkyvError>(self).unwrap_or_else(|_| unreachable!("infallible"))
    }
}
