//! The local registry with real components: publish, resolve by name and range, immutable
//! versions, yank, remove, tampered blobs, concurrent publishers.

use wasm_host_meta::{embed_manifest, inspect};
use wasm_host_registry::{Incoming, Registry, RegistryError};
use wasm_host_tests::{guest, scratch};

fn incoming(bytes: Vec<u8>) -> Incoming {
    Incoming { bytes, ..Incoming::default() }
}

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
        let out = reg.publish(incoming(as_version("grep", v))).expect("publish");
        assert_eq!((out.name.as_str(), out.version.as_str(), out.unchanged), ("grep", v, false));
    }
    let resolved = |r: &str| reg.resolve(r).map(|x| x.version);
    assert_eq!(resolved("grep").expect("latest"), "1.0.0");
    assert_eq!(resolved("grep@^0.1").expect("caret"), "0.1.3");
    assert_eq!(resolved("grep@0.1.0").expect("exact"), "0.1.0");
    assert_eq!(resolved("grep@>=0.1, <1").expect("range"), "0.2.0");
    let r = reg.resolve("grep@~0.1").expect("tilde");
    assert_eq!(
        std::fs::read(&r.path).expect("blob"),
        as_version("grep", "0.1.3"),
        "the path holds the published bytes"
    );

    assert!(
        reg.publish(incoming(as_version("grep", "0.1.3"))).expect("again").unchanged,
        "the same bytes again change nothing"
    );
    let mut other = as_version("grep", "0.1.3");
    other.extend_from_slice(&[0x00, 0x03, 0x01, b'x', b'y']);
    let err = reg.publish(incoming(other)).expect_err("rug pull");
    assert!(
        matches!(
            err,
            RegistryError::Resolve(wasm_host_registry::resolve::ResolveError::Immutable { .. })
        ),
        "{err}"
    );

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
    let out = reg.publish(incoming(std::fs::read(guest("csv")).expect("read"))).expect("publish");
    std::fs::write(home.path().join("blobs/sha256").join(&out.digest), b"tampered")
        .expect("tamper");
    let err = reg.resolve("csv").expect_err("tampered").to_string();
    assert!(err.contains("corrupt"), "{err}");
    let problems = reg.verify().expect("verify");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].0 == format!("csv@{}", out.version) && problems[0].1.contains("corrupt"),
        "{problems:?}"
    );
    assert!(matches!(
        reg.publish(incoming(b"not wasm".to_vec())),
        Err(RegistryError::Component(_))
    ));
}

#[test]
fn concurrent_publishers_all_land_in_the_index() {
    let home = scratch();
    let names = ["grep", "csv", "json-query", "report"];
    let bytes: Vec<Vec<u8>> =
        names.iter().flat_map(|n| ["0.1.0", "0.2.0", "0.3.0"].map(|v| as_version(n, v))).collect();
    std::thread::scope(|s| {
        for chunk in bytes.chunks(3) {
            let root = home.path();
            s.spawn(move || {
                let reg = Registry::open(root).expect("open");
                for b in chunk {
                    reg.publish(incoming(b.clone())).expect("publish");
                }
            });
        }
    });
    let list = Registry::open(home.path()).expect("open").list().expect("list");
    for n in names {
        assert_eq!(list[n].len(), 3, "{n}: {:?}", list[n]);
    }
}

#[test]
fn a_wrong_signature_a_tampered_index_entry_and_unsigned_versions_are_refused() {
    use wasm_host_registry::sign::SecretKey;
    let home = scratch();
    let reg = Registry::open(home.path()).expect("open");
    let key = SecretKey::generate().expect("key");
    let (a, b, c) =
        (as_version("grep", "0.1.0"), as_version("grep", "0.2.0"), as_version("grep", "0.3.0"));
    let (da, db) = (wasm_host_meta::sha256_hex(&a), wasm_host_meta::sha256_hex(&b));
    reg.publish(Incoming {
        bytes: a,
        signatures: vec![key.sign("grep", "0.1.0", &da)],
        tools: vec![],
    })
    .expect("signed");
    reg.publish(incoming(b)).expect("unsigned");

    // A signature made for other bytes: refused, nothing stored.
    let index_before = std::fs::read(home.path().join("index.rkyv")).expect("index");
    let err = reg
        .publish(Incoming {
            bytes: c.clone(),
            signatures: vec![key.sign("grep", "0.3.0", &da)],
            tools: vec![],
        })
        .expect_err("wrong signature");
    assert!(matches!(err, RegistryError::BadSignature { .. }), "{err}");
    assert_eq!(
        std::fs::read(home.path().join("index.rkyv")).expect("index"),
        index_before,
        "the index is untouched"
    );
    assert!(
        !home.path().join("blobs/sha256").join(wasm_host_meta::sha256_hex(&c)).exists(),
        "no blob stored"
    );

    // Untrusted or unsigned under require_signatures.
    let strict = Registry::open(home.path()).expect("open").require_signatures(true);
    assert!(matches!(strict.resolve("grep@0.2.0"), Err(RegistryError::NotTrusted { .. })));
    assert!(
        matches!(strict.resolve("grep@0.1.0"), Err(RegistryError::NotTrusted { .. })),
        "signed, but by a key not trusted"
    );
    strict.trust(&key.public(), "ci").expect("trust");
    assert_eq!(strict.resolve("grep@^0.1").expect("trusted").version, "0.1.0");
    let err = strict.install(vec![incoming(c)]).expect_err("unsigned install");
    assert!(err.to_string().contains("grep@0.3.0 is unsigned"), "{err}");

    // Point 0.1.0's index entry at 0.2.0's blob (the digest is 32 raw bytes in the archive, so it
    // stays valid): the blob verifies against the entry's digest, the signature does not.
    let raw = std::fs::read(home.path().join("index.rkyv")).expect("index");
    let (ra, rb) = (hex_bytes(&da), hex_bytes(&db));
    let at = raw.windows(32).position(|w| w == ra.as_slice()).expect("digest in the index");
    let mut tampered = raw.clone();
    tampered[at..at + 32].copy_from_slice(&rb);
    std::fs::write(home.path().join("index.rkyv"), tampered).expect("tamper");
    let err = reg.resolve("grep@0.1.0").expect_err("tampered entry");
    assert!(
        matches!(err, RegistryError::BadSignature { .. }) && err.to_string().contains("tampered"),
        "{err}"
    );
    let problems = reg.verify().expect("verify");
    assert!(
        problems.iter().any(|(p, why)| p == "grep@0.1.0" && why.contains("does not match")),
        "{problems:?}"
    );
    // A garbled index is an error naming the file, never a panic.
    std::fs::write(home.path().join("index.rkyv"), b"garbage").expect("garble");
    let err = reg.list().expect_err("garbled").to_string();
    assert!(err.contains("index.rkyv") && err.contains("not a wasm-host index"), "{err}");
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// grep with its `wasm-host:mcp/types` import re-versioned (same length, so the binary stays valid).
fn grep_importing(version: &str) -> Vec<u8> {
    let bytes = std::fs::read(guest("grep")).expect("grep.wasm");
    let (from, to) = (b"wasm-host:mcp/types@0.1.0", format!("wasm-host:mcp/types@{version}"));
    let pos = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("grep imports wasm-host:mcp/types@0.1.0");
    let mut patched = bytes.clone();
    patched[pos..pos + from.len()].copy_from_slice(to.as_bytes());
    let mut manifest = inspect(&patched).expect("inspect").manifest.expect("manifest");
    manifest.version = semver::Version::parse(&format!("{version}-imports")).expect("version");
    embed_manifest(&patched, &manifest).expect("embed")
}

#[test]
fn installs_check_wit_imports_and_land_all_or_nothing() {
    let home = scratch();
    let reg = Registry::open(home.path()).expect("open");
    let batch = vec![incoming(as_version("csv", "0.5.0")), incoming(grep_importing("0.2.0"))];
    let err = reg.install(batch).expect_err("an incompatible import").to_string();
    assert!(
        err.contains("wasm-host:mcp/types@0.2.0") && err.contains("accepts 0.1.x"),
        "names the import: {err}"
    );
    assert!(reg.list().expect("list").is_empty(), "nothing of the batch landed");
    assert_eq!(
        std::fs::read_dir(home.path().join("blobs/sha256")).expect("ls").count(),
        0,
        "no blob stored"
    );
    let out = reg
        .install(vec![incoming(as_version("csv", "0.5.0")), incoming(grep_importing("0.1.7"))])
        .expect("a newer patch import is compatible");
    assert_eq!(out.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["csv", "grep"]);
}

/// Re-packs `entries` (name, bytes) as a tar file at `path`.
fn write_tar(path: &std::path::Path, entries: &[(String, Vec<u8>)]) {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        // Written raw so `..` survives: a hostile bundle is not made by a well-behaved packer.
        header.as_gnu_mut().expect("gnu").name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, bytes.as_slice()).expect("append");
    }
    std::fs::write(path, tar.into_inner().expect("tar")).expect("write");
}

fn read_tar(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).expect("open"));
    let mut out = Vec::new();
    for e in archive.entries().expect("entries") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).expect("read");
        out.push((name, bytes));
    }
    out
}

#[test]
fn hostile_bundles_are_refused_before_anything_is_stored() {
    use wasm_host_registry::bundle;
    let publisher = scratch();
    let reg = Registry::open(publisher.path()).expect("open");
    reg.publish(incoming(as_version("csv", "1.0.0"))).expect("publish");
    reg.publish(incoming(as_version("grep", "1.0.0"))).expect("publish");
    let dir = scratch();
    let good = dir.path().join("good.bundle");
    let packed =
        bundle::create(&reg, &["csv@^1".into(), "grep".into()], &good, &mut Default::default())
            .expect("bundle");
    assert_eq!(packed.len(), 2);
    let entries = read_tar(&good);
    assert_eq!(entries.len(), 4, "contents, lock, two blobs");

    let target = scratch();
    let empty = Registry::open(target.path()).expect("open");
    type Case<'a> = (&'a str, Vec<(String, Vec<u8>)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "an extra entry that escapes",
            entries.iter().cloned().chain([("../../escaped".to_string(), b"x".to_vec())]).collect(),
            "not listed",
        ),
        (
            "a missing component",
            entries
                .iter()
                .filter(|(n, _)| !n.starts_with("blobs/") || n.ends_with(&packed[0].sha256))
                .cloned()
                .collect(),
            "is missing",
        ),
        (
            "no lock file",
            entries.iter().filter(|(n, _)| n != "wasm-host.lock").cloned().collect(),
            "no wasm-host.lock",
        ),
        (
            "a swapped component",
            entries
                .iter()
                .map(|(n, b)| {
                    if n.ends_with(&packed[0].sha256) {
                        (n.clone(), std::fs::read(guest("json-query")).expect("read"))
                    } else {
                        (n.clone(), b.clone())
                    }
                })
                .collect(),
            "hashes to",
        ),
        (
            "garbled contents",
            entries
                .iter()
                .map(|(n, b)| {
                    if n == bundle::CONTENTS {
                        (n.clone(), b"{".to_vec())
                    } else {
                        (n.clone(), b.clone())
                    }
                })
                .collect(),
            bundle::CONTENTS,
        ),
    ];
    for (what, files, expected) in cases {
        let path = dir.path().join("hostile.bundle");
        write_tar(&path, &files);
        let err = bundle::install(&empty, &path).expect_err(what).to_string();
        assert!(err.contains(expected), "{what}: {err}");
        assert!(empty.list().expect("list").is_empty(), "{what}: nothing installed");
        assert!(
            !dir.path().parent().expect("parent").join("escaped").exists()
                && !target.path().join("escaped").exists(),
            "{what}: nothing extracted"
        );
    }
    let installed = bundle::install(&empty, &good).expect("the good bundle installs");
    assert_eq!(installed.len(), 2);
    assert_eq!(empty.resolve("grep@^1").expect("resolve").digest, packed[1].sha256);
}
