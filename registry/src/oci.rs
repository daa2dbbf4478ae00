//! Push and pull components through an OCI distribution registry, in the CNCF Wasm OCI artifact
//! layout (<https://tag-runtime.cncf.io/wgs/wasm/deliverables/wasm-oci-artifact/>): one layer of
//! media type `application/wasm` holding the component, and a config of media type
//! `application/vnd.wasm.config.v0+json` naming its architecture (`wasm`), OS (`wasip2`), layer
//! digests and WIT imports and exports, so other Wasm tooling (wkg, wasmtime, Spin) can use them.
//!
//! What wasm-host needs besides travels in manifest annotations: the standard
//! `org.opencontainers.image.{title,version,description}`, plus `dev.wasm-host.signatures` and
//! `dev.wasm-host.tools` (JSON). The client is `oci-client` with native TLS (OpenSSL); loopback registries are
//! spoken to over plain HTTP, others over HTTPS unless `insecure` is set.

use crate::sign::Signature;
use crate::{Incoming, Registry, RegistryError};
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Media type of the component layer.
pub const WASM_LAYER: &str = "application/wasm";
/// Media type of the CNCF Wasm config.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
const SIGNATURES: &str = "dev.wasm-host.signatures";
const TOOLS: &str = "dev.wasm-host.tools";
const TITLE: &str = "org.opencontainers.image.title";
const VERSION: &str = "org.opencontainers.image.version";
const DESCRIPTION: &str = "org.opencontainers.image.description";

/// OCI errors.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The local registry refused something.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Not an `oci://HOST/REPO:TAG` reference.
    #[error("`{0}` is not an OCI reference; expected oci://HOST[:PORT]/REPOSITORY[:TAG]")]
    BadReference(String),
    /// The remote registry failed or refused.
    #[error("{reference}: {why}")]
    Remote {
        /// The reference.
        reference: String,
        /// What went wrong (with the underlying error chain).
        why: String,
    },
    /// The artifact is not a Wasm component in the CNCF layout, or does not match its digests.
    #[error("{reference}: {why}")]
    NotWasm {
        /// The reference.
        reference: String,
        /// What is wrong.
        why: String,
    },
}

/// How to reach the remote registry.
#[derive(Debug, Clone, Default)]
pub struct OciOptions {
    /// Plain HTTP even for a non-loopback registry.
    pub insecure: bool,
    /// Basic-auth user name (anonymous when `None`).
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    /// Package name.
    pub name: String,
    /// Version pushed.
    pub version: String,
    /// Hex sha256 of the component (the layer digest).
    pub digest: String,
    /// Where the manifest can be pulled.
    pub manifest_url: String,
}

/// The CNCF Wasm OCI config (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    architecture: String,
    os: String,
    layer_digests: Vec<String>,
    component: WasmComponent,
}

#[derive(Debug, Serialize, Deserialize)]
struct WasmComponent {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

/// Parses `oci://HOST[:PORT]/REPO[:TAG]`.
pub fn parse(target: &str) -> Result<Reference, OciError> {
    let rest =
        target.strip_prefix("oci://").ok_or_else(|| OciError::BadReference(target.to_string()))?;
    rest.parse::<Reference>().map_err(|_| OciError::BadReference(target.to_string()))
}

fn client(reference: &Reference, opts: &OciOptions) -> (Client, RegistryAuth) {
    let host = reference.registry().to_string();
    let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
    let loopback = name == "localhost"
        || name == "[::1]"
        || name.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.is_loopback());
    let protocol = if opts.insecure || loopback {
        ClientProtocol::HttpsExcept(vec![host.clone()])
    } else {
        ClientProtocol::Https
    };
    let auth = match (&opts.username, &opts.password) {
        (Some(u), Some(p)) => RegistryAuth::Basic(u.clone(), p.clone()),
        _ => RegistryAuth::Anonymous,
    };
    (Client::new(ClientConfig { protocol, ..ClientConfig::default() }), auth)
}

/// Pushes what `package` (`name@version` or a range) resolves to in `registry` to `target`.
pub async fn push(
    registry: &Registry,
    package: &str,
    target: &str,
    opts: &OciOptions,
) -> Result<Pushed, OciError> {
    let reference = parse(target)?;
    let (resolved, entry, bytes) = registry.fetch(package)?;
    let info =
        wasm_host_meta::inspect(&bytes).map_err(|e| RegistryError::Component(e.to_string()))?;
    let layer_digest = format!("sha256:{}", entry.digest);
    let config = WasmConfig {
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest],
        component: WasmComponent {
            exports: info.interfaces.exports.clone(),
            imports: info.interfaces.imports.clone(),
            target: None,
        },
    };
    let remote = |why: String| OciError::Remote { reference: target.to_string(), why };
    let config = Config::new(
        serde_json::to_vec(&config).map_err(|e| remote(e.to_string()))?,
        WASM_CONFIG.to_string(),
        None,
    );
    let layers = vec![ImageLayer::new(bytes, WASM_LAYER.to_string(), None)];
    let mut annotations = BTreeMap::from([
        (TITLE.to_string(), resolved.name.clone()),
        (VERSION.to_string(), resolved.version.clone()),
        (DESCRIPTION.to_string(), entry.description.clone()),
    ]);
    annotations.insert(
        SIGNATURES.to_string(),
        serde_json::to_string(&entry.signatures).map_err(|e| remote(e.to_string()))?,
    );
    annotations.insert(
        TOOLS.to_string(),
        serde_json::to_string(&entry.tools).map_err(|e| remote(e.to_string()))?,
    );
    let mut manifest = OciImageManifest::build(&layers, &config, Some(annotations));
    manifest.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
    let (client, auth) = client(&reference, opts);
    let response = client
        .push(&reference, &layers, config, &auth, Some(manifest))
        .await
        .map_err(|e| remote(error_chain(&e)))?;
    Ok(Pushed {
        name: resolved.name,
        version: resolved.version,
        digest: entry.digest,
        manifest_url: response.manifest_url,
    })
}

/// Pulls the component at `target` (at most [`crate::bundle::MAX_COMPONENT`] bytes, checked from
/// the manifest before downloading), checked against the manifest's layer digest and the CNCF
/// layout (config media type, `architecture: wasm`, `layerDigests` naming the layer); the caller
/// installs it (where signatures and imports are checked).
pub async fn pull(target: &str, opts: &OciOptions) -> Result<Incoming, OciError> {
    let reference = parse(target)?;
    let not_wasm = |why: String| OciError::NotWasm { reference: target.to_string(), why };
    let (client, auth) = client(&reference, opts);
    // The manifest is fetched once; its sizes bound every download that follows, so a hostile
    // registry can neither send an unbounded blob nor swap the manifest between two fetches.
    let (manifest, _) = client
        .pull_image_manifest(&reference, &auth)
        .await
        .map_err(|e| OciError::Remote { reference: target.to_string(), why: error_chain(&e) })?;
    if let Some(big) =
        manifest.layers.iter().find(|l| l.size < 0 || l.size as u64 > crate::bundle::MAX_COMPONENT)
    {
        return Err(not_wasm(format!(
            "a layer of {} bytes; the limit for a component is {} bytes",
            big.size,
            crate::bundle::MAX_COMPONENT
        )));
    }
    if let Some(other) = manifest.layers.iter().find(|l| l.media_type != WASM_LAYER) {
        return Err(not_wasm(format!(
            "a layer of media type {}; a Wasm component artifact has one {WASM_LAYER} layer",
            other.media_type
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(not_wasm(format!(
            "{} layers; a Wasm component artifact has one",
            manifest.layers.len()
        )));
    };
    if manifest.config.media_type != WASM_CONFIG {
        return Err(not_wasm(format!(
            "config media type is {}, not {WASM_CONFIG}",
            manifest.config.media_type
        )));
    }
    if manifest.config.size < 0 || manifest.config.size as u64 > MAX_CONFIG {
        return Err(not_wasm(format!(
            "a config of {} bytes; the limit is {MAX_CONFIG} bytes",
            manifest.config.size
        )));
    }
    let fetch_err = |what: &str, e: &dyn std::error::Error| OciError::Remote {
        reference: target.to_string(),
        why: format!("{what}: {}", error_chain(e)),
    };
    let bytes = fetch(&client, &reference, layer)
        .await
        .map_err(|e| fetch_err("the component layer", &e))?;
    let config_bytes = fetch(&client, &reference, &manifest.config)
        .await
        .map_err(|e| fetch_err("the config", &e))?;
    let config: WasmConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| not_wasm(format!("the {WASM_CONFIG} config does not parse: {e}")))?;
    if config.architecture != "wasm" || !config.layer_digests.contains(&layer.digest) {
        return Err(not_wasm(format!(
            "the config names architecture {:?} and layers {:?}, not this wasm layer {}",
            config.architecture, config.layer_digests, layer.digest
        )));
    }
    let notes = manifest.annotations.clone().unwrap_or_default();
    let signatures: Vec<Signature> = match notes.get(SIGNATURES) {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| not_wasm(format!("{SIGNATURES}: {e}")))?
        }
        None => Vec::new(),
    };
    let tools: Vec<String> =
        notes.get(TOOLS).and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    Ok(Incoming { bytes, signatures, tools })
}

/// Largest config blob accepted, in bytes.
const MAX_CONFIG: u64 = 1 << 20;

/// Downloads the blob `descriptor` names, keeping at most the size it declares (more is an
/// error, not a bigger buffer); `oci-client` checks the digest.
async fn fetch(
    client: &Client,
    reference: &Reference,
    descriptor: &oci_client::manifest::OciDescriptor,
) -> Result<Vec<u8>, oci_client::errors::OciDistributionError> {
    let limit = u64::try_from(descriptor.size).unwrap_or(0);
    let mut out = Bounded { data: Vec::with_capacity(limit.min(MAX_CONFIG) as usize), limit };
    client.pull_blob(reference, descriptor, &mut out).await?;
    Ok(out.data)
}

/// A buffer that refuses to grow past `limit` bytes.
struct Bounded {
    data: Vec<u8>,
    limit: u64,
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.data.len() as u64 + buf.len() as u64 > self.limit {
            let limit = self.limit;
            return std::task::Poll::Ready(Err(std::io::Error::other(format!(
                "the registry sent more than the {limit} bytes the manifest declares"
            ))));
        }
        self.data.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_blob_longer_than_its_descriptor_is_refused_without_growing() {
        let mut out = Bounded { data: Vec::new(), limit: 10 };
        out.write_all(b"0123456789").await.expect("exactly the declared size");
        let err = out.write_all(b"x").await.expect_err("one byte more");
        assert!(err.to_string().contains("more than the 10 bytes"), "{err}");
        assert_eq!(out.data.len(), 10);
    }
}
