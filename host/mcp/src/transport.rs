//! The two transports: stdio (nothing but MCP on stdout; lines capped at 16 MiB) and streamable
//! HTTP at `/mcp` (Host and Origin checked against loopback plus the operator's allowed hosts
//! and origins, 4 MiB body cap, 30 s to send a request's headers, a non-empty bearer token
//! required off loopback), with Prometheus metrics at `GET /metrics`.

use crate::{McpServer, stdio};
use anyhow::Context;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::convert::Infallible;
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
    let routes = Routes {
        mcp: service,
        metrics,
        expected_auth: opts.token.map(|t| format!("Bearer {t}").into_bytes().into()),
    };
    ready(bound);
    accept_loop(listener, Arc::new(routes), shutdown).await;
    Ok(())
}

/// Response type of every route (rmcp's, so its responses pass through unchanged).
type Reply = hyper::Response<http_body_util::combinators::BoxBody<bytes::Bytes, Infallible>>;

/// What the HTTP server routes to: `/mcp` (and below) to rmcp's service, `GET /metrics` to the
/// Prometheus text, everything else 404; all of it behind the bearer token when one is set.
struct Routes {
    mcp: StreamableHttpService<McpServer, LocalSessionManager>,
    metrics: McpServer,
    expected_auth: Option<Arc<[u8]>>,
}

impl Routes {
    async fn handle(&self, req: hyper::Request<hyper::body::Incoming>) -> Reply {
        if let Some(expected) = &self.expected_auth {
            let given = req.headers().get(hyper::header::AUTHORIZATION).map(|v| v.as_bytes());
            if !constant_time_eq(given.unwrap_or_default(), expected) {
                return text(
                    hyper::StatusCode::UNAUTHORIZED,
                    "text/plain",
                    "missing or wrong bearer token".into(),
                );
            }
        }
        let path = req.uri().path();
        if path == "/mcp" || path.starts_with("/mcp/") {
            let mut mcp = self.mcp.clone();
            return match tower_service::Service::call(&mut mcp, req).await {
                Ok(reply) => reply,
                Err(never) => match never {},
            };
        }
        if path == "/metrics" && req.method() == hyper::Method::GET {
            let body = self.metrics.metrics_text();
            return text(hyper::StatusCode::OK, "text/plain; version=0.0.4", body);
        }
        text(hyper::StatusCode::NOT_FOUND, "text/plain", "not found: MCP is at /mcp".into())
    }
}

/// A plain response with `body`.
fn text(status: hyper::StatusCode, content_type: &'static str, body: String) -> Reply {
    use http_body_util::BodyExt;
    let mut reply = hyper::Response::new(
        http_body_util::Full::new(bytes::Bytes::from(body)).map_err(|never| match never {}).boxed(),
    );
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    reply
}

/// Accepts HTTP/1.1 connections until `shutdown`, each served on its own task; on shutdown every
/// open connection finishes the request it is in and closes.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    routes: Arc<Routes>,
    shutdown: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accepting an HTTP connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (routes, shutdown) = (routes.clone(), shutdown.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let routes = routes.clone();
                async move { Ok::<_, Infallible>(routes.handle(req).await) }
            });
            // The timer enables hyper's 30 s limit on reading a request's headers, so a client
            // that opens connections and never finishes a request cannot hold them.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
