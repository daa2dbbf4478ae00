//! Precompiled artifacts in the registry: native code for one target, made by `wasm-host compile`
//! from a published component and carried in bundles beside it.
//!
//! An artifact is native code, so it is trusted only as far as its signer: a bundle's artifact
//! signature covers the statement
//! `wasm-host-artifact-v1\nNAME\nVERSION\nsha256:COMPONENT\nTARGET\nsha256:ARTIFACT\n`, binding the
//! code to the component it was compiled from and the target it was compiled for. Installed
//! artifacts live at `artifacts/<component sha256>/<target>.cwasm` under the home (written
//! atomically); the host decides which ones fit it (target, wasmtime, engine settings) before it
//! stores them, and loading checks the fit again.

use crate::index::io_err;
use crate::index_file::write_atomic;
use crate::sign::{SecretKey, Signature, TrustedKey, verify_statement};
use crate::{Registry, RegistryError, StoreError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where artifacts live under the home.
pub const ARTIFACTS: &str = "artifacts";

/// One precompiled artifact of a component, as a bundle lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledArtifact {
    /// The target triple it was compiled for, e.g. `aarch64-unknown-linux-gnu`.
    pub target: String,
    /// The wasmtime version that compiled it.
    pub wasmtime: String,
    /// The engine settings it was compiled with.
    pub settings: String,
    /// Hex sha256 of the artifact (its entry is `artifacts/sha256/<sha256>`).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Signatures over [`statement`].
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// The exact bytes an artifact signature covers.
pub fn statement(
    name: &str,
    version: &str,
    component: &str,
    target: &str,
    artifact: &str,
) -> Vec<u8> {
    format!(
        "wasm-host-artifact-v1\n{name}\n{version}\nsha256:{component}\n{target}\nsha256:{artifact}\n"
    )
    .into_bytes()
}

/// Hex sha256 of an artifact's bytes, as listings name it.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Signs the artifact `artifact` of `name@version` (component digest `component`) for `target`.
pub fn sign(
    key: &SecretKey,
    name: &str,
    version: &str,
    component: &str,
    target: &str,
    artifact: &str,
) -> Signature {
    key.sign_statement(&statement(name, version, component, target, artifact))
}

/// How far an artifact's signatures go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactTrust {
    /// Signed by this trusted key (its label).
    Trusted(String),
    /// Valid signatures, none by a trusted key (or none at all).
    Untrusted,
    /// A signature that does not verify: the artifact or its listing was changed.
    Bad(String),
}

/// Checks an artifact's signatures against `trusted`.
pub fn trust(
    artifact: &BundledArtifact,
    name: &str,
    version: &str,
    component: &str,
    trusted: &[TrustedKey],
) -> ArtifactTrust {
    let text = statement(name, version, component, &artifact.target, &artifact.sha256);
    if let Some(bad) = artifact.signatures.iter().find(|s| !verify_statement(s, &text)) {
        return ArtifactTrust::Bad(bad.key.clone());
    }
    artifact
        .signatures
        .iter()
        .find_map(|s| trusted.iter().find(|t| t.key == s.key))
        .map_or(ArtifactTrust::Untrusted, |t| ArtifactTrust::Trusted(t.name.clone()))
}

impl Registry {
    /// Where the artifact of component `digest` for `target` is (or would be) stored.
    pub fn artifact_path(&self, digest: &str, target: &str) -> PathBuf {
        self.root.join(ARTIFACTS).join(digest).join(format!("{target}.cwasm"))
    }

    /// The stored artifact of component `digest` for `target`, if there is one.
    pub fn artifact(&self, digest: &str, target: &str) -> Option<PathBuf> {
        Some(self.artifact_path(digest, target)).filter(|p| p.is_file())
    }

    /// Stores an artifact of component `digest` for `target` (temp file, fsync, rename), replacing
    /// any earlier one. The caller has checked that it fits the host and who signed it.
    pub fn put_artifact(
        &self,
        digest: &str,
        target: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, RegistryError> {
        let plain = |s: &str| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(StoreError::BadDigest(digest.to_string()).into());
        }
        if !plain(target) || target.starts_with('.') {
            return Err(RegistryError::Component(format!("`{target}` is not a target triple")));
        }
        let dir = PathBuf::from(ARTIFACTS).join(digest);
        self.dir.create_dir_all(&dir).map_err(|e| io_err(&self.root.join(&dir), e))?;
        let sub = self.dir.open_dir(&dir).map_err(|e| io_err(&self.root.join(&dir), e))?;
        let name = format!("{target}.cwasm");
        write_atomic(&sub, &name, bytes)
            .map_err(|e| io_err(&self.artifact_path(digest, target), e))?;
        Ok(self.artifact_path(digest, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(key: &SecretKey, target: &str) -> BundledArtifact {
        BundledArtifact {
            target: target.into(),
            wasmtime: "48.0.8".into(),
            settings: "s".into(),
            sha256: "bb".into(),
            size: 1,
            signatures: vec![sign(key, "csv", "1.0.0", "aa", target, "bb")],
        }
    }

    #[test]
    fn an_artifact_signature_binds_component_target_and_code() {
        let key = SecretKey::generate().expect("key");
        let label = [TrustedKey { key: key.public(), name: "alice".into() }];
        let a = artifact(&key, "x86_64-unknown-linux-gnu");
        assert_eq!(trust(&a, "csv", "1.0.0", "aa", &label), ArtifactTrust::Trusted("alice".into()));
        assert_eq!(trust(&a, "csv", "1.0.0", "aa", &[]), ArtifactTrust::Untrusted);
        let moved = BundledArtifact { target: "aarch64-unknown-linux-gnu".into(), ..a.clone() };
        assert!(matches!(trust(&moved, "csv", "1.0.0", "aa", &label), ArtifactTrust::Bad(_)));
        let other_code = BundledArtifact { sha256: "cc".into(), ..a.clone() };
        assert!(matches!(trust(&other_code, "csv", "1.0.0", "aa", &label), ArtifactTrust::Bad(_)));
        assert!(matches!(trust(&a, "csv", "1.0.0", "ff", &label), ArtifactTrust::Bad(_)));
    }
}
