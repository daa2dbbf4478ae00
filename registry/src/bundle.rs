//! Offline bundles: one tar file that carries components from one registry to another with no
//! network. Inside: `wasm-host-bundle.json` (name, version, sha256, description, tools and
//! signatures of each component), `wasm-host.lock` (the same pins as a lock file) and
//! `blobs/sha256/<hex>` (the components), and `artifacts/sha256/<hex>` (precompiled artifacts of
//! them, per target, signed: [`crate::artifacts`]). Reading never extracts to disk: every entry is
//! read into memory, bounded, and checked against the bundle's own digests and signatures before
//! [`Registry::install`] checks manifests, imports and signatures and installs all or nothing.

use crate::artifacts::{ArtifactTrust, BundledArtifact};
use crate::index_file::write_atomic;
use crate::lock::{LOCK_FILE, LockFile, Locked};
use crate::sign::Signature;
use crate::{Incoming, Registry, RegistryError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The bundle's table of contents.
pub const CONTENTS: &str = "wasm-host-bundle.json";
/// Largest component a bundle may carry or a pull may download: 256 MiB.
pub const MAX_COMPONENT: u64 = 256 << 20;
/// Most entries a bundle may have.
pub const MAX_ENTRIES: usize = 10_000;
/// Most bytes a bundle's entries may hold together (they are read into memory): 1 GiB.
pub const MAX_BUNDLE: u64 = 1 << 30;

/// Bundle errors.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The registry refused something.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The file is not a well-formed bundle.
    #[error("{path}: not a usable wasm-host bundle: {why}")]
    Malformed {
        /// The bundle file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// One component in a bundle's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledComponent {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Hex sha256 (its entry is `blobs/sha256/<sha256>`).
    pub sha256: String,
    /// The manifest's description.
    pub description: String,
    /// Tool names.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Signatures carried with it.
    #[serde(default)]
    pub signatures: Vec<Signature>,
    /// Precompiled artifacts of it, one per target (`bundle --precompile TRIPLE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<BundledArtifact>,
}

/// An artifact read from a bundle: checked against its digest and its signatures (none of which
/// may be bad), not yet against trust or the host.
#[derive(Debug, Clone)]
pub struct IncomingArtifact {
    /// The component's package name.
    pub name: String,
    /// The component's version.
    pub version: String,
    /// The component's hex sha256.
    pub component: String,
    /// The bundle's listing of it.
    pub listing: BundledArtifact,
    /// The artifact.
    pub bytes: Vec<u8>,
}

/// What a bundle holds, checked against itself.
#[derive(Debug, Clone)]
pub struct BundleContents {
    /// Its table of contents.
    pub components: Vec<BundledComponent>,
    /// The components, ready for [`Registry::install`].
    pub incoming: Vec<Incoming>,
    /// Their precompiled artifacts.
    pub artifacts: Vec<IncomingArtifact>,
}

/// Precompiled artifacts to carry, by component digest: each one's listing and bytes.
pub type Artifacts = BTreeMap<String, Vec<(BundledArtifact, Vec<u8>)>>;

#[derive(Serialize, Deserialize)]
struct Contents {
    format: u32,
    components: Vec<BundledComponent>,
}

/// Packs what `references` resolve to in `registry` into a bundle at `out` (written to a temp file
/// beside it, fsynced, renamed), with the `artifacts` given for each. Returns what it packed.
pub fn create(
    registry: &Registry,
    references: &[String],
    out: &Path,
    artifacts: &mut Artifacts,
) -> Result<Vec<BundledComponent>, BundleError> {
    let mut components = Vec::new();
    let mut blobs = BTreeMap::new();
    for r in references {
        let (resolved, entry, bytes) = registry.fetch(r)?;
        if components.iter().any(|c: &BundledComponent| c.sha256 == entry.digest) {
            continue;
        }
        let mut component = BundledComponent {
            name: resolved.name,
            version: resolved.version,
            sha256: entry.digest,
            description: entry.description,
            tools: entry.tools,
            signatures: entry.signatures,
            artifacts: Vec::new(),
        };
        for (listing, code) in artifacts.remove(&component.sha256).unwrap_or_default() {
            blobs.insert(format!("artifacts/sha256/{}", listing.sha256), code);
            component.artifacts.push(listing);
        }
        blobs.insert(format!("blobs/sha256/{}", component.sha256), bytes);
        components.push(component);
    }
    let lock = LockFile {
        component: components
            .iter()
            .map(|c| Locked {
                name: c.name.clone(),
                source: format!("{}@{}", c.name, c.version),
                version: c.version.clone(),
                sha256: c.sha256.clone(),
            })
            .collect(),
    };
    let contents =
        serde_json::to_vec_pretty(&Contents { format: 1, components: components.clone() })
            .map_err(|e| malformed(out, e.to_string()))?;
    let mut tar = tar::Builder::new(Vec::new());
    let io = |source| BundleError::Io { path: out.display().to_string(), source };
    append(&mut tar, CONTENTS, &contents).map_err(io)?;
    append(&mut tar, LOCK_FILE, lock.to_text().as_bytes()).map_err(io)?;
    for (entry, bytes) in &blobs {
        append(&mut tar, entry, bytes).map_err(io)?;
    }
    let bytes = tar.into_inner().map_err(io)?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| malformed(out, "the output needs a file name".into()))?
        .to_string_lossy()
        .to_string();
    let dir =
        cap_std::fs::Dir::open_ambient_dir(parent, cap_std::ambient_authority()).map_err(io)?;
    write_atomic(&dir, &name, &bytes).map_err(io)?;
    Ok(components)
}

fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0); // reproducible: the same components give the same bundle
    header.set_cksum();
    tar.append_data(&mut header, path, bytes)
}

/// Reads a bundle and checks it against itself: every listed component and artifact present with
/// its digest, every artifact signature valid, the lock agreeing, nothing else inside. Returns
/// what to install.
pub fn read(path: &Path) -> Result<BundleContents, BundleError> {
    let file = std::fs::File::open(path)
        .map_err(|source| BundleError::Io { path: path.display().to_string(), source })?;
    let mut archive = tar::Archive::new(file);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| malformed(path, e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| malformed(path, e.to_string()))?;
        let name =
            entry.path().map_err(|e| malformed(path, e.to_string()))?.to_string_lossy().to_string();
        if entry.size() > MAX_COMPONENT || files.len() >= MAX_ENTRIES {
            return Err(malformed(
                path,
                format!(
                    "{name} is {} bytes (limit {MAX_COMPONENT}) or there are over {MAX_ENTRIES} entries",
                    entry.size()
                ),
            ));
        }
        // The header's size is only a claim: reserve little up front, read at most the limit.
        let mut bytes = Vec::with_capacity(entry.size().min(16 << 20) as usize);
        entry
            .take(MAX_COMPONENT)
            .read_to_end(&mut bytes)
            .map_err(|e| malformed(path, e.to_string()))?;
        total += bytes.len() as u64;
        if total > MAX_BUNDLE {
            return Err(malformed(
                path,
                format!(
                    "its entries hold more than {MAX_BUNDLE} bytes together (the bundle limit)"
                ),
            ));
        }
        files.insert(name, bytes);
    }
    let contents: Contents = serde_json::from_slice(
        files.get(CONTENTS).ok_or_else(|| malformed(path, format!("no {CONTENTS}")))?,
    )
    .map_err(|e| malformed(path, format!("{CONTENTS}: {e}")))?;
    let lock = LockFile::parse(&String::from_utf8_lossy(
        files.get(LOCK_FILE).ok_or_else(|| malformed(path, format!("no {LOCK_FILE}")))?,
    ))
    .map_err(|e| malformed(path, format!("{LOCK_FILE}: {e}")))?;
    let mut incoming = Vec::new();
    let mut artifacts = Vec::new();
    for c in &contents.components {
        let blob_name = format!("blobs/sha256/{}", c.sha256);
        let bytes = files.remove(&blob_name).ok_or_else(|| {
            malformed(path, format!("{}@{}: {blob_name} is missing", c.name, c.version))
        })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != c.sha256 {
            return Err(malformed(
                path,
                format!(
                    "{}@{}: its component hashes to {actual}, the bundle says {}",
                    c.name, c.version, c.sha256
                ),
            ));
        }
        if !lock
            .component
            .iter()
            .any(|l| l.name == c.name && l.version == c.version && l.sha256 == c.sha256)
        {
            return Err(malformed(
                path,
                format!(
                    "{}@{} sha256:{} is not in the bundle's {LOCK_FILE}",
                    c.name, c.version, c.sha256
                ),
            ));
        }
        let manifest = wasm_host_meta::inspect(&bytes).ok().and_then(|i| i.manifest);
        if manifest.as_ref().is_none_or(|m| m.name != c.name || m.version.to_string() != c.version)
        {
            return Err(malformed(
                path,
                format!(
                    "{}@{}: the component's own manifest names something else",
                    c.name, c.version
                ),
            ));
        }
        incoming.push(Incoming { bytes, signatures: c.signatures.clone(), tools: c.tools.clone() });
        for listing in &c.artifacts {
            artifacts.push(take_artifact(path, &mut files, c, listing)?);
        }
    }
    files.remove(CONTENTS);
    files.remove(LOCK_FILE);
    if let Some(extra) = files.keys().next() {
        return Err(malformed(path, format!("{extra} is not listed in {CONTENTS}")));
    }
    Ok(BundleContents { components: contents.components, incoming, artifacts })
}

/// Takes one listed artifact out of the bundle's entries, checked against its digest and its
/// signatures: a signature that does not verify means the bundle was changed.
fn take_artifact(
    path: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
    c: &BundledComponent,
    listing: &BundledArtifact,
) -> Result<IncomingArtifact, BundleError> {
    let what = format!("{}@{}: the artifact for {}", c.name, c.version, listing.target);
    let entry = format!("artifacts/sha256/{}", listing.sha256);
    let bytes = files
        .remove(&entry)
        .ok_or_else(|| malformed(path, format!("{what}: {entry} is missing")))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != listing.sha256 {
        return Err(malformed(
            path,
            format!("{what} hashes to {actual}, the bundle says {}", listing.sha256),
        ));
    }
    if let ArtifactTrust::Bad(key) =
        crate::artifacts::trust(listing, &c.name, &c.version, &c.sha256, &[])
    {
        return Err(malformed(
            path,
            format!(
                "{what}: the signature by {key} does not match its component, target and sha256:{}; the artifact or its listing was tampered with",
                listing.sha256
            ),
        ));
    }
    Ok(IncomingArtifact {
        name: c.name.clone(),
        version: c.version.clone(),
        component: c.sha256.clone(),
        listing: listing.clone(),
        bytes,
    })
}

/// Installs a bundle's components into `registry`, all or none; its artifacts are left to the
/// host, which alone knows which fit it (see [`read`]).
pub fn install(
    registry: &Registry,
    path: &Path,
) -> Result<Vec<crate::PublishOutcome>, BundleError> {
    Ok(registry.install(read(path)?.incoming)?)
}

fn malformed(path: &Path, why: String) -> BundleError {
    BundleError::Malformed { path: path.display().to_string(), why }
}
