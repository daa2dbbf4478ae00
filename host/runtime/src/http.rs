//! Outbound HTTP (`wasi:http`) limited to the hosts of the effective grant. Everything else —
//! other hosts, IP literals not granted, user-info tricks such as `allowed.com@evil` — is
//! refused with `HttpRequestDenied` before any connection is made. The guest sees no redirects
//! (wasi:http does not follow them), so each hop is checked on its own.

use std::future::Future;
use wasm_host_policy::EffectiveGrant;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The allow-list check in front of the default sender.
pub(crate) struct AllowListHooks {
    pub grant: std::sync::Arc<EffectiveGrant>,
    /// Requests refused, for the call log.
    pub denied: Vec<String>,
}

impl AllowListHooks {
    fn allowed(&self, uri: &http::Uri) -> bool {
        let Some(host) = uri.host() else { return false };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("http") => Some(80),
            _ => Some(443),
        });
        self.grant.allows_host(&host, port)
    }
}

type Response = http::Response<WasiBody>;
type IoFuture = Box<dyn Future<Output = Result<()>> + Send>;

impl WasiHttpHooks for AllowListHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response, IoFuture)>> + Send> {
        _ = fut;
        if !self.allowed(request.uri()) {
            self.denied.push(request.uri().to_string());
            tracing::warn!(uri = %request.uri(), "outbound HTTP denied: host not granted");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as IoFuture))
        })
    }
}

type Result<T> = std::result::Result<T, Error>;
