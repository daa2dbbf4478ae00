//! Outbound HTTP (docs/SECURITY.md rows 13 and 34): only granted hosts and ports are reached, and
//! a granted name is checked again after resolution. A canary listener on loopback counts
//! connections, so a denial is proven by zero connections, not by an error alone.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasm_host_policy::{Grants, HostPattern};
use wasm_host_runtime::{Catalog, Executor, LoadedComponent, Output};
use wasm_host_tests::{load, runtime, test_limits};

/// A loopback HTTP server answering `ok` and counting connections.
async fn canary() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ncanary",
                    )
                    .await;
            });
        }
    });
    (port, hits)
}

async fn get(c: &LoadedComponent, authority: &str) -> Result<Output, String> {
    get_logged(c, authority).await.0
}

/// The result, and the call's log lines.
async fn get_logged(c: &LoadedComponent, authority: &str) -> (Result<Output, String>, Vec<String>) {
    let out = Executor::new(runtime(), Arc::new(Catalog::new()))
        .call_component(c, "get", &json!({"authority": authority}).to_string())
        .await;
    (out.result.map_err(|e| e.to_string()), out.log.into_iter().map(|l| l.text).collect())
}

/// http-rust asks for `127.0.0.1` and `localhost`; both must be granted, in some form.
fn grant(ip: &str, name: &str) -> Grants {
    Grants {
        hosts: vec![
            HostPattern::parse(ip).expect("pattern"),
            HostPattern::parse(name).expect("pattern"),
        ],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn granted_host_and_port_is_reached() {
    let (port, hits) = canary().await;
    let c =
        load("http-rust", grant(&format!("127.0.0.1:{port}"), "localhost:1"), test_limits()).await;
    let out = get(&c, &format!("127.0.0.1:{port}")).await.expect("allowed");
    let v: Value = serde_json::from_str(out.as_str()).expect("json");
    assert_eq!((v["status"].as_u64(), v["body"].as_str()), (Some(200), Some("canary")));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_else_is_denied_before_connecting() {
    let (port, hits) = canary().await;
    // Only a different port of the same host is granted.
    let c = load("http-rust", grant("127.0.0.1:1", "localhost:1"), test_limits()).await;
    let attempts = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("0x7f000001:{port}"),
        format!("2130706433:{port}"),
        "169.254.169.254".to_string(),
        format!("allowed.com@127.0.0.1:{port}"),
        "example.com".to_string(),
    ];
    for authority in &attempts {
        let err = get(&c, authority).await.expect_err(authority);
        assert!(err.contains("denied") || err.contains("invalid"), "{authority}: {err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary saw no connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_name_that_resolves_to_loopback_is_refused() {
    // Row 34: the name is granted with the right port, but it resolves to 127.0.0.1, which no
    // grant names; before the address check, the canary answered.
    let (port, hits) = canary().await;
    let c =
        load("http-rust", grant("127.0.0.1:1", &format!("localhost:{port}")), test_limits()).await;
    let (result, log) = get_logged(&c, &format!("localhost:{port}")).await;
    let err = result.expect_err("a loopback address behind a granted name");
    assert!(err.contains("denied"), "{err}");
    assert!(
        log.iter().any(|l| l.contains("resolves to") && l.contains("loopback")),
        "the log says why: {log:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary saw no connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_without_a_port_allows_only_the_default_port() {
    // Row 6: `--allow-host NAME` without a port used to allow every port of NAME.
    let (port, hits) = canary().await;
    let c = load("http-rust", grant("127.0.0.1", "localhost"), test_limits()).await;
    for authority in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (result, log) = get_logged(&c, &authority).await;
        assert!(result.expect_err(&authority).contains("denied"));
        assert!(log.iter().any(|l| l.contains("without a port only 80")), "{log:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary saw no connection");
}
