//! The two transports: stdio (nothing but MCP on stdout; lines capped at 16 MiB) and streamable
//! HTTP at `/mcp` (Host and Origin checked against loopback plus the operator's allowed hosts
//! and origins, 4 MiB body cap, a non-empty bearer token required off loopback), with Prometheus
//! metrics at `GET /metrics`.

use crate::{McpServer, stdio};
use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Largest stdio message, in bytes (plus its newline).
pub const MAX_STDIO_LINE: usize = 16 << 20;

/// Serves MCP over this process's stdin/stdout until the client closes the stream.
pub async fn serve_stdio(server: McpServer) -> anyhow::Result<()> {
    serve_stdio_on(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves MCP over any byte streams with the stdio framing (one JSON message per line), checking
/// every line before rmcp sees it (see the `stdio` module).
async fn serve_stdio_on(
    server: McpServer,
    input: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    output: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
) -> anyhow::Result<()> {
    let (queue, queued) = tokio::sync::mpsc::channel(64);
    let writer = tokio::spawn(stdio::write_lines(output, queued));
    let transport = stdio::CheckedLines::new(input, queue, MAX_STDIO_LINE);
    let result = match server.serve(transport).await {
        Ok(running) => running.waiting().await.map(drop).context("MCP stdio session"),
        Err(e) => Err(anyhow::Error::new(e).context("MCP initialization over stdio")),
    };
    // rmcp dropped the transport (and with it the queue's sender): the writer drains and ends.
    let _ = writer.await;
    result
}

/// Streamable HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Address to bind. Loopback unless a token is set.
    pub addr: SocketAddr,
    /// Bearer token required on every request (mandatory off loopback).
    pub token: Option<String>,
    /// Largest request body, in bytes. Default 4 MiB; larger bodies get 413.
    pub max_body: usize,
    /// `Host` header values accepted besides loopback ones (`mcp.example.com`, `10.0.0.5:8080`;
    /// without a port, any port). A non-loopback bind needs the names remote clients use.
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted besides local ones (`https://mcp.example.com`).
    pub allowed_origins: Vec<String>,
}

/// Binds `opts.addr` and serves MCP at `/mcp` until `shutdown` fires. Calls `ready` with the bound
/// address once listening (port 0 picks a free port).
pub async fn serve_http(
    server: McpServer,
    opts: HttpOptions,
    shutdown: CancellationToken,
    ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    if opts.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        anyhow::bail!(
            "refusing an empty bearer token: --token / WASM_HOST_TOKEN must be a secret, e.g. `openssl rand -hex 32`"
        );
    }
    if !opts.addr.ip().is_loopback() && opts.token.is_none() {
        anyhow::bail!(
            "refusing to listen on {} (not loopback) without a bearer token: set --token or WASM_HOST_TOKEN",
            opts.addr
        );
    }
    if opts.addr.ip().is_unspecified() && opts.allowed_hosts.is_empty() {
        anyhow::bail!(
            "listening on {} needs --allowed-host (or [server] allowed_hosts): the name or address remote clients use in their Host header, e.g. --allowed-host mcp.example.com; other Host values get 403 (DNS rebinding protection)",
            opts.addr
        );
    }
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("binding {}", opts.addr))?;
    let bound = listener.local_addr()?;
    let port = bound.port();
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    hosts.extend([
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ]);
    if !bound.ip().is_loopback() && !bound.ip().is_unspecified() {
        hosts.extend([bound.ip().to_string(), bound.to_string()]);
    }
    hosts.extend(opts.allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()));
    let mut origins: Vec<String> =
        ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"].map(String::from).to_vec();
    origins.extend(opts.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(opts.max_body)
        .with_cancellation_token(shutdown.child_token());
    let metrics = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(server.new_session()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mut app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    metrics.metrics_text(),
                )
            }),
        )
        .nest_service("/mcp", service);
    if let Some(token) = opts.token {
        let expected: Arc<str> = format!("Bearer {token}").into();
        app = app.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let expected = expected.clone();
                async move {
                    let given = req
                        .headers()
                        .get(axum::http::header::AUTHORIZATION)
                        .map(|v| v.as_bytes().to_vec())
                        .unwrap_or_default();
                    if constant_time_eq(&given, expected.as_bytes()) {
                        Ok(next.run(req).await)
                    } else {
                        Err((axum::http::StatusCode::UNAUTHORIZED, "missing or wrong bearer token"))
                    }
                }
            },
        ));
    }
    ready(bound);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled_owned().await })
        .await
        .context("HTTP server")?;
    Ok(())
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
