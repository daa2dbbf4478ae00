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
use std::io::{Read, Seek, SeekFrom, Write};
use wasm_host_policy::Requests;

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
    /// What its manifest asks for (directories, hosts, env, memory, time): shown before install.
    #[serde(default)]
    pub capabilities: Requests,
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

/// The file starts with this, then the archive's length (u64 little-endian), the archive, and
/// the metadata section.
const MAGIC: &[u8; 8] = b"WHINDEX\0";

/// What is archived: resolution reads only names, versions, digests and yanked flags, so those
/// are the validated structure; the rest of each entry (size, description, tools, signatures) is
/// JSON in a section after the archive, read with one positioned read for the version chosen.
/// A load therefore reads and validates about 100 bytes per version, whatever the metadata.
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
    /// Where its metadata is in the metadata section: offset and length in bytes.
    meta: (u64, u32),
}

#[derive(Serialize, Deserialize)]
struct Meta {
    size: u64,
    description: String,
    #[serde(default)]
    capabilities: Requests,
    tools: Vec<String>,
    signatures: Vec<Signature>,
}

/// An index read from disk: the archive (aligned, validated when accessed) and the open file for
/// metadata reads.
pub struct LoadedIndex {
    archive: Option<(AlignedVec, std::fs::File, u64)>,
}

impl LoadedIndex {
    /// Reads the archive part of `INDEX` in `dir`; a missing file is an empty index.
    pub fn read(dir: &Dir) -> std::io::Result<Self> {
        let mut file = match dir.open(INDEX) {
            Ok(f) => f.into_std(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LoadedIndex { archive: None });
            }
            Err(e) => return Err(e),
        };
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a wasm-host index (bad header; if an older wasm-host wrote it, move it aside and publish again)",
            )
        };
        let mut head = [0u8; 16];
        file.read_exact(&mut head).map_err(|_| bad())?;
        let len = u64::from_le_bytes(head[8..].try_into().unwrap_or_default());
        let file_len = file.metadata()?.len();
        if &head[..8] != MAGIC || len > file_len.saturating_sub(16) {
            return Err(bad());
        }
        let mut bytes = AlignedVec::with_capacity(len as usize);
        bytes.extend_from_reader(&mut (&mut file).take(len))?;
        Ok(LoadedIndex { archive: Some((bytes, file, 16 + len)) })
    }

    /// The archive after one validation pass (bytecheck); `None` when there is no index yet.
    fn stored(&self) -> Result<Option<(&ArchivedStored, MetaSection<'_>)>, String> {
        let Some((bytes, file, meta_at)) = &self.archive else { return Ok(None) };
        let index = rkyv::access::<ArchivedStored, RkyvError>(bytes)
            .map_err(|e| format!("not a wasm-host index: {e}"))?;
        if index.format != FORMAT {
            return Err(format!(
                "index format {} is not the format {FORMAT} this wasm-host reads",
                index.format
            ));
        }
        Ok(Some((index, MetaSection { file, at: *meta_at })))
    }

    /// The versions of `name` (version, digest, yanked; in publish order) and a way to get any of
    /// them in full, from one validation of the archive.
    pub fn package(&self, name: &str) -> Result<Package<'_>, String> {
        Ok(match self.stored()? {
            Some((s, meta)) => Package {
                records: s.packages.get(name).map(|v| v.as_slice()).unwrap_or_default(),
                meta: Some(meta),
            },
            None => Package { records: &[], meta: None },
        })
    }

    /// The whole index, owned.
    pub fn to_index(&self) -> Result<IndexFile, String> {
        let mut packages = BTreeMap::new();
        if let Some((s, meta)) = self.stored()? {
            for (name, records) in s.packages.iter() {
                let entries =
                    records.iter().map(|r| entry(r, &meta)).collect::<Result<Vec<_>, _>>()?;
                packages.insert(name.to_string(), entries);
            }
        }
        Ok(IndexFile { packages })
    }
}

/// The metadata section of an open index file.
struct MetaSection<'a> {
    file: &'a std::fs::File,
    at: u64,
}

/// One package's archived versions.
pub struct Package<'a> {
    records: &'a [ArchivedRecord],
    meta: Option<MetaSection<'a>>,
}

impl Package<'_> {
    /// Each version's (version, hex digest, yanked), in publish order.
    pub fn versions(&self) -> impl Iterator<Item = (&str, String, bool)> {
        self.records.iter().map(|r| (r.version.as_str(), hex::encode(r.digest), r.yanked))
    }

    /// The full entry of `version`, if published.
    pub fn entry(&self, version: &str) -> Result<Option<Entry>, String> {
        match (&self.meta, self.records.iter().find(|r| r.version.as_str() == version)) {
            (Some(meta), Some(r)) => entry(r, meta).map(Some),
            _ => Ok(None),
        }
    }
}

fn entry(r: &ArchivedRecord, section: &MetaSection<'_>) -> Result<Entry, String> {
    let (offset, len) = (r.meta.0.to_native(), r.meta.1.to_native());
    let mut bytes = vec![0u8; len as usize];
    let mut file = section.file;
    file.seek(SeekFrom::Start(section.at + offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("entry {}: {e}", r.version.as_str()))?;
    let meta: Meta =
        serde_json::from_slice(&bytes).map_err(|e| format!("entry {}: {e}", r.version.as_str()))?;
    Ok(Entry {
        version: r.version.to_string(),
        digest: hex::encode(r.digest),
        size: meta.size,
        description: meta.description,
        capabilities: meta.capabilities,
        tools: meta.tools,
        signatures: meta.signatures,
        yanked: r.yanked,
    })
}

impl IndexFile {
    /// The file's bytes: header, archive, metadata section.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut packages = BTreeMap::new();
        let mut section = Vec::new();
        for (name, entries) in &self.packages {
            let mut records = Vec::with_capacity(entries.len());
            for e in entries {
                let digest: [u8; 32] =
                    hex::decode(&e.digest).ok().and_then(|d| d.try_into().ok()).ok_or_else(
                        || format!("{name}@{}: digest `{}` is not a sha256", e.version, e.digest),
                    )?;
                let meta = serde_json::to_vec(&Meta {
                    size: e.size,
                    description: e.description.clone(),
                    capabilities: e.capabilities.clone(),
                    tools: e.tools.clone(),
                    signatures: e.signatures.clone(),
                })
                .map_err(|e| e.to_string())?;
                records.push(Record {
                    version: e.version.clone(),
                    digest,
                    yanked: e.yanked,
                    meta: (section.len() as u64, meta.len() as u32),
                });
                section.extend_from_slice(&meta);
            }
            packages.insert(name.clone(), records);
        }
        let archive = rkyv::to_bytes::<RkyvError>(&Stored { format: FORMAT, packages })
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(16 + archive.len() + section.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(archive.len() as u64).to_le_bytes());
        out.extend_from_slice(&archive);
        out.extend_from_slice(&section);
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: &str, n: u8) -> Entry {
        Entry {
            version: version.into(),
            digest: hex::encode([n; 32]),
            size: n.into(),
            description: format!("d{n}"),
            capabilities: Requests::default(),
            tools: vec![format!("t{n}")],
            signatures: vec![],
            yanked: n.is_multiple_of(2),
        }
    }

    #[test]
    fn the_index_round_trips_and_reads_one_entry_without_the_others() {
        let root = tempfile::tempdir().expect("tmp");
        let dir = Dir::open_ambient_dir(root.path(), cap_std::ambient_authority()).expect("dir");
        let mut index = IndexFile::default();
        index.packages.insert("a".into(), vec![entry("1.0.0", 1), entry("1.1.0", 2)]);
        index.packages.insert("b".into(), vec![entry("0.1.0", 3)]);
        index.write(&dir).expect("write");
        let loaded = LoadedIndex::read(&dir).expect("read");
        assert_eq!(loaded.to_index().expect("owned").packages, index.packages);
        let a = loaded.package("a").expect("package");
        let versions: Vec<_> = a.versions().map(|(v, _, y)| (v.to_string(), y)).collect();
        assert_eq!(versions, [("1.0.0".to_string(), false), ("1.1.0".to_string(), true)]);
        assert_eq!(a.entry("1.1.0").expect("entry"), Some(entry("1.1.0", 2)));
        assert_eq!(a.entry("9.9.9").expect("none"), None);
        assert!(loaded.package("nope").expect("unknown").versions().next().is_none());
        // Truncated or foreign files are errors, not panics.
        for bad in [
            &b"WHI"[..],
            b"WHINDEX\0\xff\xff\xff\xff\xff\xff\xff\x7f",
            b"WHINDEX\0\x08\0\0\0\0\0\0\0garbage!",
        ] {
            std::fs::write(root.path().join(INDEX), bad).expect("write");
            let result =
                LoadedIndex::read(&dir).map_err(|e| e.to_string()).and_then(|l| l.to_index());
            assert!(result.is_err(), "{bad:?}");
        }
    }
}
