//! The local registry: the blob store, the package index ([`crate::index_file`]) and the trust
//! store (`trust.json`) under one home directory (`$WASM_HOST_HOME`).
//!
//! Writers take an exclusive lock on `index.lock` for the read-modify-write of the index; the
//! index is replaced atomically, so readers and a crash see the old index or the new one. Blobs
//! are written before the index names them. Everything a publish or install brings is checked
//! (manifest, WIT imports, signatures, immutability) before anything is written, so a refusal
//! leaves the store untouched.

use crate::index_file::{Entry, LoadedIndex, write_atomic};
use crate::resolve::{Published, Reference, ResolveError, check_publish};
use crate::sign::{Signature, TrustedKey, verify};
use crate::{BlobStore, StoreError};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LOCK: &str = "index.lock";
const TRUST: &str = "trust.json";

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
    /// The index or trust file is unreadable or unwritable.
    #[error("{path}: {why}")]
    Index {
        /// Its path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A version that is not in the index.
    #[error("{0} is not published here")]
    NotPublished(String),
    /// A signature that does not verify: the component or its index entry was changed.
    #[error(
        "{package}: the signature by {key} does not match its name, version and sha256:{digest}; the component or its index entry was tampered with"
    )]
    BadSignature {
        /// name@version.
        package: String,
        /// The signer's public key.
        key: String,
        /// The digest it was checked against.
        digest: String,
    },
    /// `require_signatures` is on and nothing trusted signed this.
    #[error(
        "{package} is {why}, and require_signatures is on; refusing it (trust the signer with `wasm-host trust add PUBKEY`)"
    )]
    NotTrusted {
        /// name@version.
        package: String,
        /// "unsigned", or which untrusted keys signed it.
        why: String,
    },
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
    /// The keys whose valid signatures it carries (trusted or not).
    pub signed_by: Vec<String>,
}

/// The result of a publish or install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishOutcome {
    /// Package name (from the manifest).
    pub name: String,
    /// Version (from the manifest).
    pub version: String,
    /// Digest of the bytes.
    pub digest: String,
    /// The same bytes were already published under this version (signatures may have been added).
    pub unchanged: bool,
}

/// A component coming into the registry, with what travels beside it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// The component.
    pub bytes: Vec<u8>,
    /// Signatures over it (from `publish --sign`, a bundle or an OCI manifest).
    pub signatures: Vec<Signature>,
    /// Its tool names, when known.
    pub tools: Vec<String>,
}

/// A local registry rooted at one home directory.
pub struct Registry {
    pub(crate) root: PathBuf,
    pub(crate) dir: Dir,
    blobs: BlobStore,
    require_signatures: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct TrustFile {
    keys: Vec<TrustedKey>,
}

impl Registry {
    /// Opens (creating if needed) the registry at `home`. Signatures are checked when present
    /// but not required; see [`Registry::require_signatures`].
    pub fn open(home: &Path) -> Result<Self, RegistryError> {
        let blobs = BlobStore::open(home)?;
        let dir = Dir::open_ambient_dir(home, ambient_authority()).map_err(|e| io_err(home, e))?;
        Ok(Registry { root: home.to_path_buf(), dir, blobs, require_signatures: false })
    }

    /// With `true`, every install and every resolution needs a valid signature by a trusted key.
    pub fn require_signatures(mut self, require: bool) -> Self {
        self.require_signatures = require;
        self
    }

    /// Publishes one component; see [`Registry::install`].
    pub fn publish(&self, incoming: Incoming) -> Result<PublishOutcome, RegistryError> {
        let mut out = self.install(vec![incoming])?;
        Ok(out.remove(0))
    }

    /// Installs components: each one's manifest gives name and version, its WIT imports must be
    /// ones this host accepts, its signatures must verify (and one be trusted when required), and
    /// a published version keeps its bytes. All are checked before anything is written; then the
    /// blobs are stored and the index is replaced once, so either all land or none.
    pub fn install(&self, incoming: Vec<Incoming>) -> Result<Vec<PublishOutcome>, RegistryError> {
        let trusted = self.trusted()?;
        let _lock = self.lock()?;
        let mut index = self.load()?.to_index().map_err(|why| self.index_err(why))?;
        let mut outcomes = Vec::new();
        let mut blobs = Vec::new();
        for item in incoming {
            let info = wasm_host_meta::inspect(&item.bytes)
                .map_err(|e| RegistryError::Component(e.to_string()))?;
            info.check_imports().map_err(|e| RegistryError::Component(e.to_string()))?;
            let manifest = info.manifest.ok_or_else(|| {
                RegistryError::Component(
                    "no wasm-host manifest (build it with `wasm-host build`)".into(),
                )
            })?;
            let (name, version) = (manifest.name.clone(), manifest.version.to_string());
            self.check_signatures(&trusted, &name, &version, &info.sha256, &item.signatures)?;
            let versions = index.packages.entry(name.clone()).or_default();
            let unchanged =
                check_publish(&name, &manifest.version, &info.sha256, &published(versions))?;
            if unchanged {
                let entry = versions
                    .iter_mut()
                    .find(|e| e.version == version)
                    .ok_or_else(|| RegistryError::NotPublished(format!("{name}@{version}")))?;
                for s in item.signatures {
                    if !entry.signatures.contains(&s) {
                        entry.signatures.push(s);
                    }
                }
            } else {
                versions.push(Entry {
                    version: version.clone(),
                    digest: info.sha256.clone(),
                    size: info.size,
                    description: manifest.description.clone(),
                    capabilities: manifest.capabilities.clone(),
                    tools: item.tools,
                    signatures: item.signatures,
                    yanked: false,
                });
            }
            outcomes.push(PublishOutcome { name, version, digest: info.sha256, unchanged });
            blobs.push(item.bytes);
        }
        for bytes in &blobs {
            self.blobs.put(bytes)?;
        }
        index.write(&self.dir).map_err(|why| self.index_err(why))?;
        Ok(outcomes)
    }

    /// Resolves `name[@req]` to a verified blob (and, when required, a trusted signature).
    pub fn resolve(&self, reference: &str) -> Result<Resolved, RegistryError> {
        self.fetch(reference).map(|(resolved, _, _)| resolved)
    }

    /// [`Registry::resolve`], also returning the chosen entry and the verified bytes it read, for
    /// callers that ship them (push, bundle): one index read and one blob read in all.
    pub fn fetch(&self, reference: &str) -> Result<(Resolved, Entry, Vec<u8>), RegistryError> {
        let reference = Reference::parse(reference)?;
        let entry = self.resolve_entry(&reference)?;
        let bytes = self.blobs.get(&entry.digest)?; // verified: a tampered blob is refused here
        self.check_signatures(
            &self.trusted()?,
            &reference.name,
            &entry.version,
            &entry.digest,
            &entry.signatures,
        )?;
        let signed_by = entry.signatures.iter().map(|s| s.key.clone()).collect();
        let resolved = Resolved {
            path: self.blob_path(&entry.digest),
            name: reference.name,
            version: entry.version.clone(),
            digest: entry.digest.clone(),
            signed_by,
        };
        Ok((resolved, entry, bytes))
    }

    /// The index entry a reference chooses, from the index alone (no blob read): the fast path
    /// the index benchmark measures.
    pub fn resolve_entry(&self, reference: &Reference) -> Result<Entry, RegistryError> {
        let loaded = self.load()?;
        let package = loaded.package(&reference.name).map_err(|why| self.index_err(why))?;
        let candidates: Vec<Published> = package
            .versions()
            .filter_map(|(v, digest, yanked)| {
                Some(Published { version: semver::Version::parse(v).ok()?, digest, yanked })
            })
            .collect();
        let chosen = reference.resolve(&candidates)?.version.to_string();
        package
            .entry(&chosen)
            .map_err(|why| self.index_err(why))?
            .ok_or_else(|| RegistryError::NotPublished(format!("{}@{chosen}", reference.name)))
    }

    /// Where the blob with this digest is stored.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root.join("blobs/sha256").join(digest)
    }

    /// Every package and its versions.
    pub fn list(&self) -> Result<BTreeMap<String, Vec<Entry>>, RegistryError> {
        Ok(self.load()?.to_index().map_err(|why| self.index_err(why))?.packages)
    }

    /// Packages whose name, description or tool names contain `query` (any case), each with its
    /// newest non-yanked version.
    pub fn search(&self, query: &str) -> Result<Vec<(String, Entry)>, RegistryError> {
        let q = query.to_lowercase();
        let hit = |name: &str, e: &Entry| {
            name.to_lowercase().contains(&q)
                || e.description.to_lowercase().contains(&q)
                || e.tools.iter().any(|t| t.to_lowercase().contains(&q))
        };
        let mut out = Vec::new();
        for (name, versions) in self.list()? {
            let newest = versions
                .iter()
                .filter(|e| !e.yanked)
                .max_by_key(|e| semver::Version::parse(&e.version).ok());
            if let Some(e) = newest.filter(|e| hit(&name, e)) {
                out.push((name, e.clone()));
            }
        }
        Ok(out)
    }

    /// Marks `name@version` yanked (or not).
    pub fn set_yanked(&self, name: &str, version: &str, yanked: bool) -> Result<(), RegistryError> {
        self.update(name, version, |versions, i| versions[i].yanked = yanked)
    }

    /// Removes `name@version` from the index (its blob stays).
    pub fn remove(&self, name: &str, version: &str) -> Result<(), RegistryError> {
        self.update(name, version, |versions, i| {
            versions.remove(i);
        })
    }

    /// Checks every indexed blob against its digest and every signature against its entry;
    /// returns `(name@version, problem)` pairs.
    pub fn verify(&self) -> Result<Vec<(String, String)>, RegistryError> {
        let trusted = self.trusted()?;
        let mut problems = Vec::new();
        for (name, versions) in self.list()? {
            for e in versions {
                let checked =
                    self.blobs.get(&e.digest).map_err(RegistryError::from).and_then(|_| {
                        self.check_signatures(&trusted, &name, &e.version, &e.digest, &e.signatures)
                    });
                if let Err(err) = checked {
                    problems.push((format!("{name}@{}", e.version), err.to_string()));
                }
            }
        }
        Ok(problems)
    }

    /// The trusted keys (`trust.json`).
    pub fn trusted(&self) -> Result<Vec<TrustedKey>, RegistryError> {
        match self.dir.read(TRUST) {
            Ok(bytes) => serde_json::from_slice::<TrustFile>(&bytes).map(|t| t.keys).map_err(|e| {
                RegistryError::Index {
                    path: self.root.join(TRUST).display().to_string(),
                    why: e.to_string(),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err(&self.root.join(TRUST), e)),
        }
    }

    /// Trusts `key` (`ed25519:<hex>`) under a label; trusting it again relabels it.
    pub fn trust(&self, key: &str, name: &str) -> Result<(), RegistryError> {
        crate::sign::parse_public(key).map_err(|e| RegistryError::Component(e.to_string()))?;
        self.change_trust(|keys| {
            keys.retain(|k| k.key != key.trim());
            keys.push(TrustedKey { key: key.trim().to_string(), name: name.to_string() });
            true
        })
    }

    /// Stops trusting a key given by value or label; false when no key matched.
    pub fn untrust(&self, key_or_name: &str) -> Result<bool, RegistryError> {
        let mut found = false;
        self.change_trust(|keys| {
            let before = keys.len();
            keys.retain(|k| k.key != key_or_name && k.name != key_or_name);
            found = keys.len() != before;
            found
        })?;
        Ok(found)
    }

    fn change_trust(
        &self,
        change: impl FnOnce(&mut Vec<TrustedKey>) -> bool,
    ) -> Result<(), RegistryError> {
        let _lock = self.lock()?;
        let mut file = TrustFile { keys: self.trusted()? };
        if change(&mut file.keys) {
            let bytes =
                serde_json::to_vec_pretty(&file).map_err(|e| self.index_err(e.to_string()))?;
            write_atomic(&self.dir, TRUST, &bytes)
                .map_err(|e| io_err(&self.root.join(TRUST), e))?;
        }
        Ok(())
    }

    /// Every signature present must verify; when required, one must be by a trusted key.
    fn check_signatures(
        &self,
        trusted: &[TrustedKey],
        name: &str,
        version: &str,
        digest: &str,
        signatures: &[Signature],
    ) -> Result<(), RegistryError> {
        let package = format!("{name}@{version}");
        if let Some(bad) = signatures.iter().find(|s| !verify(s, name, version, digest)) {
            return Err(RegistryError::BadSignature {
                package,
                key: bad.key.clone(),
                digest: digest.to_string(),
            });
        }
        if self.require_signatures
            && !signatures.iter().any(|s| trusted.iter().any(|t| t.key == s.key))
        {
            let why = if signatures.is_empty() {
                "unsigned".to_string()
            } else {
                format!(
                    "signed only by keys not trusted here ({})",
                    signatures.iter().map(|s| s.key.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(RegistryError::NotTrusted { package, why });
        }
        Ok(())
    }

    fn update(
        &self,
        name: &str,
        version: &str,
        change: impl FnOnce(&mut Vec<Entry>, usize),
    ) -> Result<(), RegistryError> {
        let _lock = self.lock()?;
        let mut index = self.load()?.to_index().map_err(|why| self.index_err(why))?;
        let versions = index
            .packages
            .get_mut(name)
            .ok_or_else(|| RegistryError::NotPublished(format!("{name}@{version}")))?;
        let i = versions
            .iter()
            .position(|e| e.version == version)
            .ok_or_else(|| RegistryError::NotPublished(format!("{name}@{version}")))?;
        change(versions, i);
        if versions.is_empty() {
            index.packages.remove(name);
        }
        index.write(&self.dir).map_err(|why| self.index_err(why))
    }

    /// An exclusive lock for writers, released when dropped.
    fn lock(&self) -> Result<std::fs::File, RegistryError> {
        let f = self.dir.create(LOCK).map_err(|e| io_err(&self.root.join(LOCK), e))?.into_std();
        f.lock().map_err(|e| io_err(&self.root.join(LOCK), e))?;
        Ok(f)
    }

    fn load(&self) -> Result<LoadedIndex, RegistryError> {
        LoadedIndex::read(&self.dir).map_err(|e| self.index_err(e.to_string()))
    }

    fn index_err(&self, why: String) -> RegistryError {
        RegistryError::Index {
            path: self.root.join(crate::index_file::INDEX).display().to_string(),
            why,
        }
    }
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> RegistryError {
    RegistryError::Index { path: path.display().to_string(), why: e.to_string() }
}

fn published(entries: &[Entry]) -> Vec<Published> {
    entries
        .iter()
        .filter_map(|e| {
            Some(Published {
                version: semver::Version::parse(&e.version).ok()?,
                digest: e.digest.clone(),
                yanked: e.yanked,
            })
        })
        .collect()
}
