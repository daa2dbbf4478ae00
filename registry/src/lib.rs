//! The registry's storage layer: a content-addressed store of component blobs.
//!
//! Blobs live at `blobs/sha256/<hex>` under the store root, opened through cap-std so nothing
//! outside the root is touched. Writes are crash-safe: temp file in the same directory, fsync,
//! rename, fsync of the directory — after a crash a blob is either absent or complete. Reads
//! verify the digest, so a tampered or truncated blob is reported, never returned.
//!
//! [`resolve`]: package references (`csv@^1.2`) and semver resolution over published versions,
//! and the rule that a published version never changes. [`Registry`]: the store plus the package
//! index ([`index_file`], rkyv) and trust store, with publish, install, resolve, search, yank,
//! remove and verify. [`sign`]: ed25519 keys and signatures. [`oci`]: push and pull through an
//! OCI registry in the CNCF Wasm artifact layout. [`bundle`]: offline bundles. [`artifacts`]: precompiled artifacts and their signatures. [`lock`]: the
//! `wasm-host.lock` format.
//!
//! ```
//! use wasm_host_registry::resolve::{Published, Reference};
//!
//! let published = |v: &str, yanked| Published { version: v.parse().unwrap(), digest: String::new(), yanked };
//! let versions = [published("1.2.0", false), published("1.4.1", false), published("1.5.0", true), published("2.0.0", false)];
//! let wanted = Reference::parse("csv@^1.2").unwrap();
//! // The newest match that is not yanked.
//! assert_eq!(wanted.resolve(&versions).unwrap().version.to_string(), "1.4.1");
//! assert!(Reference::parse("csv@^x").is_err());
//! ```

pub mod artifacts;
pub mod bundle;
mod index;
pub mod index_file;
pub mod lock;
#[cfg(feature = "oci")]
pub mod oci;
pub mod resolve;
pub mod sign;

pub use index::{Incoming, PublishOutcome, Registry, RegistryError, Resolved};
pub use index_file::Entry;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system error, with the operation.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a hex sha256.
    #[error("`{0}` is not a sha256 digest (64 lowercase hex characters)")]
    BadDigest(String),
    /// The blob's content no longer matches its name.
    #[error("blob {expected} is corrupt: its content hashes to {actual}")]
    Corrupt {
        /// The digest asked for.
        expected: String,
        /// The digest of what is stored.
        actual: String,
    },
}

/// A content-addressed blob store rooted at one directory.
pub struct BlobStore {
    blobs: Dir,
}

impl BlobStore {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let io = |op: &str| {
            let op = format!("{op} {}", root.display());
            move |source| StoreError::Io { op, source }
        };
        std::fs::create_dir_all(root).map_err(io("creating"))?;
        let dir = Dir::open_ambient_dir(root, ambient_authority()).map_err(io("opening"))?;
        dir.create_dir_all("blobs/sha256").map_err(io("creating blobs/sha256 in"))?;
        let blobs = dir.open_dir("blobs/sha256").map_err(io("opening blobs/sha256 in"))?;
        Ok(BlobStore { blobs })
    }

    /// Stores `bytes` and returns their hex sha256. Storing the same bytes twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let digest = hex::encode(Sha256::digest(bytes));
        if self.get(&digest).is_ok() {
            return Ok(digest);
        }
        let tmp = format!(".{digest}.{}.tmp", std::process::id());
        let io = |op: &'static str| move |source| StoreError::Io { op: op.to_string(), source };
        let mut f = self.blobs.create(&tmp).map_err(io("creating a temp blob"))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io("writing a blob"))?;
        drop(f);
        self.blobs.rename(&tmp, &self.blobs, &digest).map_err(io("renaming a blob into place"))?;
        self.blobs
            .open(".")
            .and_then(|d| d.sync_all())
            .map_err(io("syncing the blob directory"))?;
        Ok(digest)
    }

    /// The blob named `digest`, verified.
    pub fn get(&self, digest: &str) -> Result<Vec<u8>, StoreError> {
        if digest.len() != 64
            || !digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(StoreError::BadDigest(digest.to_string()));
        }
        let bytes = self
            .blobs
            .read(digest)
            .map_err(|source| StoreError::Io { op: format!("reading blob {digest}"), source })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != digest {
            return Err(StoreError::Corrupt { expected: digest.to_string(), actual });
        }
        Ok(bytes)
    }

    /// Whether a blob named `digest` is present (not verified).
    pub fn contains(&self, digest: &str) -> bool {
        self.blobs.metadata(digest).is_ok_and(|m| m.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_then_get_round_trips_by_digest() {
        let root = tempfile::tempdir().expect("tmp");
        let store = BlobStore::open(root.path()).expect("open");
        let d = store.put(b"component bytes").expect("put");
        assert_eq!(d, hex::encode(Sha256::digest(b"component bytes")));
        assert_eq!(store.get(&d).expect("get"), b"component bytes");
        assert_eq!(store.put(b"component bytes").expect("again"), d);
        assert!(store.contains(&d));
        let leftovers: Vec<_> = std::fs::read_dir(root.path().join("blobs/sha256"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[test]
    fn tampered_blobs_and_bad_digests_are_errors() {
        let root = tempfile::tempdir().expect("tmp");
        let store = BlobStore::open(root.path()).expect("open");
        let d = store.put(b"original").expect("put");
        std::fs::write(root.path().join("blobs/sha256").join(&d), b"tampered").expect("tamper");
        assert!(matches!(store.get(&d), Err(StoreError::Corrupt { .. })));
        assert!(matches!(store.get("../../etc/passwd"), Err(StoreError::BadDigest(_))));
        assert!(matches!(store.get(&"0".repeat(64)), Err(StoreError::Io { .. })));
    }
}
