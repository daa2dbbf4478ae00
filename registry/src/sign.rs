//! Signatures: ed25519 keys, the statement a publisher signs, and the trust store.
//!
//! A signature covers the statement `wasm-host-signature-v1\nNAME\nVERSION\nsha256:DIGEST\n`. The
//! manifest (name, version, description, capabilities) is a custom section inside the component,
//! so the digest covers all of it; naming name and version again binds the signature to the index
//! entry, so an entry moved to another name, version or blob no longer verifies.
//!
//! Keys are text: a public key is `ed25519:<64 hex>`, a secret key file holds
//! `ed25519-secret:<64 hex>` (mode 0600). Trusted keys live in `<home>/trust.json`.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// Signature and key errors.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A key that does not parse.
    #[error("`{0}` is not an ed25519 public key (expected ed25519:<64 hex digits>)")]
    BadPublicKey(String),
    /// A secret key file that does not parse.
    #[error("{0}: not a wasm-host secret key (expected ed25519-secret:<64 hex digits>)")]
    BadSecretKey(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The system's random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// One signature over a published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signer's public key, `ed25519:<hex>`.
    pub key: String,
    /// The ed25519 signature, hex (128 digits).
    pub signature: String,
}

/// The exact bytes a signature covers.
pub fn statement(name: &str, version: &str, digest: &str) -> Vec<u8> {
    format!("wasm-host-signature-v1\n{name}\n{version}\nsha256:{digest}\n").into_bytes()
}

/// A secret signing key.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A new key from the system's random source.
    pub fn generate() -> Result<Self, SignError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SignError::Random(e.to_string()))?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads a key file written by [`SecretKey::save`].
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SignError::Io { path: path.display().to_string(), source })?;
        let bad = || SignError::BadSecretKey(path.display().to_string());
        let hex_text = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let seed: [u8; 32] =
            hex::decode(hex_text).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Writes the key to a new file readable only by its owner; never overwrites.
    pub fn save(&self, path: &Path) -> Result<(), SignError> {
        use std::io::Write;
        let io = |source| SignError::Io { path: path.display().to_string(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(path).map_err(io)?;
        f.write_all(format!("{SECRET_PREFIX}{}\n", hex::encode(self.0.to_bytes())).as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io)
    }

    /// The matching public key, `ed25519:<hex>`.
    pub fn public(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", hex::encode(self.0.verifying_key().to_bytes()))
    }

    /// Signs name@version with this digest.
    pub fn sign(&self, name: &str, version: &str, digest: &str) -> Signature {
        self.sign_statement(&statement(name, version, digest))
    }

    /// Signs any statement (see [`statement`] and [`crate::artifacts::statement`]).
    pub fn sign_statement(&self, statement: &[u8]) -> Signature {
        Signature { key: self.public(), signature: hex::encode(self.0.sign(statement).to_bytes()) }
    }
}

/// Parses `ed25519:<hex>` (surrounding whitespace allowed).
pub fn parse_public(text: &str) -> Result<VerifyingKey, SignError> {
    let bad = || SignError::BadPublicKey(text.trim().to_string());
    let bytes: [u8; 32] = text
        .trim()
        .strip_prefix(PUBLIC_PREFIX)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

/// Whether `sig` is a valid signature by its key over name@version with this digest.
pub fn verify(sig: &Signature, name: &str, version: &str, digest: &str) -> bool {
    verify_statement(sig, &statement(name, version, digest))
}

/// Whether `sig` is a valid signature by its key over `statement`.
pub fn verify_statement(sig: &Signature, statement: &[u8]) -> bool {
    let Ok(key) = parse_public(&sig.key) else { return false };
    let Some(bytes) = hex::decode(&sig.signature).ok().and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify(statement, &ed25519_dalek::Signature::from_bytes(&bytes)).is_ok()
}

/// A trusted key with the operator's label for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// `ed25519:<hex>`.
    pub key: String,
    /// A label (the key file's name, or `--name`).
    pub name: String,
}

/// Where a named key lives under a home: `<home>/keys/<name>.key`.
pub fn key_path(home: &Path, name: &str) -> PathBuf {
    home.join("keys").join(format!("{name}.key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_name_version_and_digest() {
        let key = SecretKey::generate().expect("key");
        let sig = key.sign("csv", "1.0.0", "ab");
        assert!(verify(&sig, "csv", "1.0.0", "ab"));
        assert!(!verify(&sig, "csv", "1.0.1", "ab"), "another version");
        assert!(!verify(&sig, "json", "1.0.0", "ab"), "another name");
        assert!(!verify(&sig, "csv", "1.0.0", "cd"), "another digest");
        let other = SecretKey::generate().expect("key");
        assert!(
            !verify(&Signature { key: other.public(), ..sig.clone() }, "csv", "1.0.0", "ab"),
            "another key"
        );
        assert!(parse_public(&key.public()).is_ok());
        assert!(parse_public("ed25519:zz").is_err() && parse_public("rsa:00").is_err());
    }
}
