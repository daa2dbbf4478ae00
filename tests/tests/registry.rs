//! The local registry with real components: publish, resolve by name and range, immutable
//! versions, yank, remove, tampered blobs, concurrent publishers.

use wasm_host_meta::{embed_manifest, inspect};
use wasm_host_registry::{Registry, RegistryError};
use wasm_host_tests::{guest, scratch};

/// `name`'s component re-stamped as `version`.
fn as_version(name: &str, version: &str) -> Vec<u8> {
    let bytes = std::fs::read(guest(name)).expect("read");
    let mut manifest = inspect(&bytes).expect("inspect").manifest.expect("manifest");
    manifest.version = semver::Version::parse(version).expect("version");
    embed_manifest(&bytes, &manifest).expect("embed")
}

#[test]
fn publish_resolve_yank_and_remove_by_name_and_range() {
    let home = scratch();
    let reg = Registry::open(home.path()).expect("open");
    for v in ["0.1.0", "0.1.3", "0.2.0", "1.0.0"] {
        let out = reg.publish(&as_version("grep", v)).expect("publish");
        assert_eq!((out.name.as_str(), out.version.as_str(), out.unchanged), ("grep", v, false));
    }
    let resolved = |r: &str| reg.resolve(r).map(|x| x.version);
    assert_eq!(resolved("grep").expect("latest"), "1.0.0");
    assert_eq!(resolved("grep@^0.1").expect("caret"), "0.1.3");
    assert_eq!(resolved("grep@0.1.0").expect("exact"), "0.1.0");
    assert_eq!(resolved("grep@>=0.1, <1").expect("range"), "0.2.0");
    let r = reg.resolve("grep@~0.1").expect("tilde");
    assert_eq!(std::fs::read(&r.path).expect("blob"), as_version("grep", "0.1.3"), "the path holds the published bytes");

    assert!(reg.publish(&as_version("grep", "0.1.3")).expect("again").unchanged, "the same bytes again change nothing");
    let mut other = as_version("grep", "0.1.3");
    other.extend_from_slice(&[0x00, 0x03, 0x01, b'x', b'y']);
    let err = reg.publish(&other).expect_err("rug pull");
    assert!(matches!(err, RegistryError::Resolve(wasm_host_registry::resolve::ResolveError::Immutable { .. })), "{err}");

    reg.set_yanked("grep", "1.0.0", true).expect("yank");
    assert_eq!(resolved("grep").expect("latest non-yanked"), "0.2.0");
    assert_eq!(resolved("grep@1.0.0").expect("exact still works"), "1.0.0");
    let err = reg.resolve("grep@^1").expect_err("only a yanked match").to_string();
    assert!(err.contains("available: 0.1.0, 0.1.3, 0.2.0, 1.0.0 (yanked)"), "{err}");
    reg.remove("grep", "0.2.0").expect("remove");
    assert_eq!(resolved("grep").expect("after remove"), "0.1.3");
    assert!(matches!(reg.remove("grep", "9.9.9"), Err(RegistryError::NotPublished(_))));
    assert!(matches!(reg.resolve("nope"), Err(RegistryError::Resolve(_))));
}

#[test]
fn tampered_blobs_are_refused_and_reported_and_non_components_are_not_published() {
    let home = scratch();
    let reg = Registry::open(home.path()).expect("open");
    let out = reg.publish(&std::fs::read(guest("csv")).expect("read")).expect("publish");
    std::fs::write(home.path().join("blobs/sha256").join(&out.digest), b"tampered").expect("tamper");
    let err = reg.resolve("csv").expect_err("tampered").to_string();
    assert!(err.contains("corrupt"), "{err}");
    let problems = reg.verify().expect("verify");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].0 == format!("csv@{}", out.version) && problems[0].1.contains("corrupt"), "{problems:?}");
    assert!(matches!(reg.publish(b"not wasm"), Err(RegistryError::Component(_))));
}

#[test]
fn concurrent_publishers_all_land_in_the_index() {
    let home = scratch();
    let names = ["grep", "csv", "json-query", "report"];
    let bytes: Vec<Vec<u8>> = names.iter().flat_map(|n| ["0.1.0", "0.2.0", "0.3.0"].map(|v| as_version(n, v))).collect();
    std::thread::scope(|s| {
        for chunk in bytes.chunks(3) {
            let root = home.path();
            s.spawn(move || {
                let reg = Registry::open(root).expect("open");
                for b in chunk {
                    reg.publish(b).expect("publish");
                }
            });
        }
    });
    let list = Registry::open(home.path()).expect("open").list().expect("list");
    for n in names {
        assert_eq!(list[n].len(), 3, "{n}: {:?}", list[n]);
    }
}
