//! The semver policy for the interfaces a component imports.
//!
//! - `wasm-host:*` — ours, at [`HOST_WIT_VERSION`]. An import is accepted when it is
//!   semver-compatible with it: same major, and for 0.x the same minor. Any patch is accepted
//!   (patches add no API), so a host at 0.1.0 loads components built against 0.1.0–0.1.∞ and a
//!   host at 0.1.7 loads those built against 0.1.0.
//! - `wasi:*@0.2.x` — provided by wasmtime-wasi (CLI, filesystem, clocks, random, I/O, sockets
//!   (denied unless granted) and `wasi:http`). WASI 0.3 is not offered yet.
//! - anything else is not provided by this host and is refused.

use semver::Version;

/// Our WIT package.
pub const HOST_WIT_PACKAGE: &str = "wasm-host:mcp";

/// The version of [`HOST_WIT_PACKAGE`] this host implements.
pub const HOST_WIT_VERSION: Version = Version::new(0, 1, 0);

/// The WASI line this host provides.
const WASI_VERSION: Version = Version::new(0, 2, 0);

/// Whether the host can satisfy one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportVerdict {
    /// Provided; the host will link it.
    Accepted,
    /// Not provided; the reason names the import, the host's version and what it accepts.
    Rejected(String),
}

/// Judges one component-level import name such as `wasm-host:mcp/log@0.1.0`.
pub fn check_import(name: &str) -> ImportVerdict {
    let (path, version) = match name.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (name, None),
    };
    let Some((package, _iface)) = path.split_once('/') else {
        return ImportVerdict::Rejected(format!(
            "imports `{name}`, which is not an interface this host provides"
        ));
    };
    let (wanted, family) = if package.starts_with("wasm-host:") {
        (HOST_WIT_VERSION, package)
    } else if package.starts_with("wasi:") {
        (WASI_VERSION, "wasi")
    } else {
        return ImportVerdict::Rejected(format!(
            "imports `{name}`, which this host does not provide"
        ));
    };
    let Some(v) = version else {
        return ImportVerdict::Rejected(format!(
            "imports `{name}` without a version; this host provides {family}@{wanted}"
        ));
    };
    let Ok(v) = Version::parse(v) else {
        return ImportVerdict::Rejected(format!("imports `{name}` with an unparsable version"));
    };
    if compatible(&wanted, &v) {
        ImportVerdict::Accepted
    } else {
        let accepts = if wanted.major == 0 {
            format!("{}.{}.x", wanted.major, wanted.minor)
        } else {
            format!("{}.x", wanted.major)
        };
        ImportVerdict::Rejected(format!(
            "imports `{name}`, but this host provides {family}@{wanted} and accepts {accepts}"
        ))
    }
}

/// Cargo-style compatibility, ignoring patch: same major, and the same minor while major is 0.
fn compatible(host: &Version, import: &Version) -> bool {
    host.major == import.major
        && (host.major != 0 || host.minor == import.minor)
        && import.pre.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatible_patches_are_accepted() {
        for ok in [
            "wasm-host:mcp/log@0.1.0",
            "wasm-host:mcp/tools@0.1.9",
            "wasi:cli/environment@0.2.3",
            "wasi:http/types@0.2.6",
        ] {
            assert_eq!(check_import(ok), ImportVerdict::Accepted, "{ok}");
        }
    }

    #[test]
    fn incompatible_versions_are_rejected_with_the_reason() {
        let ImportVerdict::Rejected(why) = check_import("wasm-host:mcp/log@0.2.0") else {
            panic!("accepted 0.2.0")
        };
        assert!(why.contains("wasm-host:mcp/log@0.2.0") && why.contains("accepts 0.1.x"), "{why}");
        for bad in [
            "wasm-host:mcp/log@1.0.0",
            "wasm-host:mcp/log@0.1.0-rc1",
            "wasi:cli/environment@0.3.0",
            "wasm-host:mcp/log",
            "acme:evil/backdoor@1.0.0",
            "nonsense",
        ] {
            assert!(matches!(check_import(bad), ImportVerdict::Rejected(_)), "{bad}");
        }
    }
}
