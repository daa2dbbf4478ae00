//! Loading: semver policy on imports (docs/SECURITY.md row 24), truncated and oversize binaries,
//! capability checks at load time, and the compile cache.

use wasm_host_policy::{Grants, HostPattern};
use wasm_host_runtime::{LoadError, LoadOptions, Runtime, RuntimeConfig};
use wasm_host_tests::{dir, guest, runtime, scratch, test_limits};

/// The grep component with one import's version replaced (same length, so the binary stays valid).
fn grep_importing(version: &str) -> Vec<u8> {
    let bytes = std::fs::read(guest("grep")).expect("grep.wasm");
    let from = b"wasm-host:mcp/types@0.1.0";
    let to = format!("wasm-host:mcp/types@{version}");
    assert_eq!(from.len(), to.len());
    let pos = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("grep imports wasm-host:mcp/types@0.1.0");
    let mut patched = bytes.clone();
    patched[pos..pos + from.len()].copy_from_slice(to.as_bytes());
    patched
}

fn grep_grants() -> Grants {
    Grants { dirs: vec![dir(&std::env::temp_dir(), "/data", true)], ..Default::default() }
}

#[tokio::test]
async fn an_incompatible_import_version_is_refused_naming_the_import() {
    let opts = LoadOptions { grants: grep_grants(), limits: test_limits(), ..Default::default() };
    let err = runtime()
        .load_bytes(&grep_importing("0.2.0"), opts)
        .await
        .expect_err("0.2.0 refused")
        .to_string();
    assert!(err.contains("wasm-host:mcp/types@0.2.0") && err.contains("accepts 0.1.x"), "{err}");
}

#[tokio::test]
async fn a_compatible_newer_patch_version_loads() {
    let opts = LoadOptions { grants: grep_grants(), limits: test_limits(), ..Default::default() };
    let c = runtime().load_bytes(&grep_importing("0.1.7"), opts).await.expect("0.1.7 accepted");
    assert_eq!(c.tools.len(), 4);
}

#[tokio::test]
async fn truncated_binaries_are_refused() {
    let bytes = std::fs::read(guest("grep")).expect("grep.wasm");
    for cut in [0, 3, 100, bytes.len() / 3, bytes.len() - 10] {
        let opts = LoadOptions { grants: grep_grants(), ..Default::default() };
        let err =
            runtime().load_bytes(&bytes[..cut], opts).await.expect_err("truncated").to_string();
        assert!(
            err.contains("malformed")
                || err.contains("truncated")
                || err.contains("not a WebAssembly component"),
            "cut {cut}: {err}"
        );
    }
}

#[tokio::test]
async fn oversize_binaries_are_refused_naming_the_limit() {
    let rt =
        Runtime::new(RuntimeConfig { max_component_bytes: 1 << 20, ..RuntimeConfig::default() })
            .expect("runtime");
    let err = rt.load_file(&guest("grep"), LoadOptions::default()).await.expect_err("too big");
    assert!(matches!(err, LoadError::TooLarge { limit, .. } if limit == 1 << 20), "{err}");
    assert!(err.to_string().contains("max_component_bytes"));
}

#[tokio::test]
async fn a_core_module_is_not_a_component() {
    let core = wat::parse_str("(module (func (export \"run\")))").expect("wat");
    let err = runtime()
        .load_bytes(&core, LoadOptions::default())
        .await
        .expect_err("core module")
        .to_string();
    assert!(err.contains("core module"), "{err}");
}

#[tokio::test]
async fn a_missing_directory_grant_is_named() {
    let err = runtime()
        .load_file(&guest("grep"), LoadOptions::default())
        .await
        .expect_err("no /data")
        .to_string();
    assert!(err.contains("directory /data") && err.contains("--dir"), "{err}");
}

#[tokio::test]
async fn network_not_granted_is_refused_at_load() {
    let err = runtime()
        .load_file(&guest("http-rust"), LoadOptions::default())
        .await
        .expect_err("no host")
        .to_string();
    assert!(err.contains("outbound HTTP to 127.0.0.1") && err.contains("--allow-host"), "{err}");
    let wrong = Grants {
        hosts: vec![HostPattern::parse("example.com").expect("pattern")],
        ..Default::default()
    };
    assert!(
        runtime()
            .load_file(&guest("http-rust"), LoadOptions { grants: wrong, ..Default::default() })
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_compile_cache_serves_a_second_runtime() {
    let cache = scratch();
    let config =
        RuntimeConfig { cache_dir: Some(cache.path().join("c")), ..RuntimeConfig::default() };
    let opts = LoadOptions { grants: grep_grants(), ..Default::default() };
    let first = Runtime::new(config.clone())
        .expect("runtime")
        .load_file(&guest("grep"), opts.clone())
        .await
        .expect("load");
    assert!(!first.from_cache);
    let second = Runtime::new(config.clone())
        .expect("runtime")
        .load_file(&guest("grep"), opts.clone())
        .await
        .expect("load");
    assert!(second.from_cache, "a new process-like runtime loads the precompiled artifact");
    // An artifact others could have written is never deserialized: recompiled instead.
    let artifact = std::fs::read_dir(cache.path().join("c"))
        .expect("ls")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .expect("artifact");
    std::fs::set_permissions(artifact.path(), std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod");
    let third =
        Runtime::new(config).expect("runtime").load_file(&guest("grep"), opts).await.expect("load");
    assert!(!third.from_cache, "a world-writable artifact is not trusted");
}

#[tokio::test]
async fn a_corrupt_cached_artifact_is_discarded_and_recompiled() {
    let cache = scratch();
    let config =
        RuntimeConfig { cache_dir: Some(cache.path().join("c")), ..RuntimeConfig::default() };
    let opts = LoadOptions { grants: grep_grants(), ..Default::default() };
    Runtime::new(config.clone())
        .expect("runtime")
        .load_file(&guest("grep"), opts.clone())
        .await
        .expect("load");
    let artifact = std::fs::read_dir(cache.path().join("c"))
        .expect("ls")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .expect("artifact");
    std::fs::write(artifact.path(), b"garbage").expect("corrupt");
    let again = Runtime::new(config)
        .expect("runtime")
        .load_file(&guest("grep"), opts)
        .await
        .expect("recompiled");
    assert!(!again.from_cache);
    assert_eq!(again.tools.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_component_compile_once() {
    // Regression: parallel first loads raced on one temp file name in the cache.
    let cache = scratch();
    let rt = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.path().join("c")),
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let loads = (0..4).map(|_| {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.load_file(
                &guest("grep"),
                LoadOptions { grants: grep_grants(), ..Default::default() },
            )
            .await
        })
    });
    let mut compiled = 0;
    for l in loads {
        let c = l.await.expect("task").expect("load");
        compiled += usize::from(!c.from_cache);
    }
    assert_eq!(compiled, 1, "one compile, three reuses");
    let files: Vec<_> = std::fs::read_dir(cache.path().join("c"))
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(files.len(), 1, "one artifact, no temp files: {files:?}");
}

#[tokio::test]
async fn row36_a_shared_or_foreign_cache_directory_is_never_trusted() {
    // Before the fix, a directory was trusted by its owner, whoever that was: a planted artifact
    // in a shared `/tmp/wasm-host` (world-writable, or owned by another user) was native code
    // the host would deserialize.
    let tmp = scratch();
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
        .expect("chmod");
    let err =
        Runtime::new(RuntimeConfig { cache_dir: Some(shared.clone()), ..RuntimeConfig::default() })
            .err()
            .expect("refused")
            .to_string();
    assert!(err.contains("not a private directory") && err.contains("--no-cache"), "{err}");
    // Owned by another user (the test runs as root in CI, so it can hand the directory away).
    if rustix::process::geteuid().is_root() {
        let foreign = tmp.path().join("foreign");
        std::fs::create_dir(&foreign).expect("mkdir");
        std::fs::set_permissions(&foreign, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).expect("chown");
        let err =
            Runtime::new(RuntimeConfig { cache_dir: Some(foreign), ..RuntimeConfig::default() })
                .err()
                .expect("refused")
                .to_string();
        assert!(err.contains("owner uid 65534"), "{err}");
    }
    // A private directory of ours is fine.
    let private = tmp.path().join("private");
    assert!(
        Runtime::new(RuntimeConfig { cache_dir: Some(private), ..RuntimeConfig::default() })
            .is_ok()
    );
}
