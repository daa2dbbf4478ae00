//! Outbound HTTP (`wasi:http`) limited to the hosts of the effective grant.
//!
//! A request is checked twice before any connection is made:
//! 1. by name and port: the host must match a granted pattern, and a pattern without a port
//!    allows only the scheme's default port (80 for http, 443 for https);
//! 2. by address: the name is resolved here, and every address it resolves to must be public.
//!    Loopback, private, link-local, shared (CGNAT), unspecified, multicast and cloud-metadata
//!    addresses are refused unless a grant names that address literally (`127.0.0.1:8080`).
//!
//! A plain-http request then goes to the checked address itself (the `Host` header keeps the
//! name), so a second DNS answer cannot send it elsewhere. An https request is sent by name; its
//! certificate must match that name, which an internal service rebound under it cannot present.
//! The guest sees no redirects (wasi:http does not follow them), so each hop is checked on its own.
//! Refusals are kept for the call log up to [`MAX_DENIAL_RECORDS`], then only counted.

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasm_host_policy::EffectiveGrant;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Refused requests recorded (for the call log) per call; later ones are only counted.
pub const MAX_DENIAL_RECORDS: usize = 16;
/// Longest a name resolution may take before the request is refused.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Refused requests of one call: the first [`MAX_DENIAL_RECORDS`], then a count.
#[derive(Debug, Default)]
pub(crate) struct Denials {
    records: Vec<String>,
    more: u64,
}

impl Denials {
    fn record(&mut self, what: String) {
        // The host's own log gets the same bounded record as the call's log.
        if self.records.len() < MAX_DENIAL_RECORDS {
            tracing::warn!(request = %what, "outbound HTTP denied");
            self.records.push(what);
        } else {
            self.more += 1;
        }
    }

    /// The log lines that describe the refusals.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.records.iter().map(|r| format!("outbound HTTP denied: {r}")).collect();
        if self.more > 0 {
            out.push(format!("outbound HTTP denied: {} more request(s) not shown (at most {MAX_DENIAL_RECORDS} are listed per call)", self.more));
        }
        out
    }
}

/// The allow-list checks in front of the default sender.
pub(crate) struct AllowListHooks {
    grant: Arc<EffectiveGrant>,
    /// Requests refused, for the call log (shared with the checks that run after resolution).
    pub denied: Arc<Mutex<Denials>>,
}

impl AllowListHooks {
    pub(crate) fn new(grant: Arc<EffectiveGrant>) -> Self {
        AllowListHooks { grant, denied: Arc::default() }
    }
}

/// Why an address may not be reached without a grant naming it, if it may not.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            match () {
                _ if v4.is_loopback() => Some("a loopback address"),
                _ if v4.is_unspecified() || a == 0 => Some("an unspecified address"),
                _ if v4 == std::net::Ipv4Addr::new(169, 254, 169, 254) => {
                    Some("the cloud metadata address")
                }
                _ if v4.is_link_local() => Some("a link-local address"),
                _ if v4.is_private() => Some("a private address"),
                _ if a == 100 && (64..128).contains(&b) => {
                    Some("a shared (carrier-grade NAT) address")
                }
                _ if v4.is_broadcast() || v4.is_multicast() || a >= 240 => {
                    Some("a broadcast, multicast or reserved address")
                }
                _ => None,
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_reason(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            match () {
                _ if v6.is_loopback() => Some("a loopback address"),
                _ if v6.is_unspecified() => Some("an unspecified address"),
                _ if v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) => {
                    Some("the cloud metadata address")
                }
                _ if first & 0xffc0 == 0xfe80 => Some("a link-local address"),
                _ if first & 0xfe00 == 0xfc00 => Some("a private (unique local) address"),
                _ if v6.is_multicast() => Some("a multicast address"),
                _ => None,
            }
        }
    }
}

/// Resolves `host` (a name or an IP literal) and checks every address; the first allowed one.
async fn checked_address(
    grant: &EffectiveGrant,
    host: &str,
    port: u16,
    default_port: u16,
) -> std::result::Result<IpAddr, String> {
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await
            {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                Ok(Err(e)) => return Err(format!("{host}: cannot resolve the name ({e})")),
                Err(_) => {
                    return Err(format!(
                        "{host}: name resolution took longer than {RESOLVE_TIMEOUT:?}"
                    ));
                }
            }
        }
    };
    // Every address must pass, so a name that mixes public and internal answers is refused.
    for ip in &addrs {
        if let Some(why) = non_public_reason(*ip)
            && !grant.names_address(*ip, port, default_port)
        {
            return Err(format!(
                "{host}:{port} resolves to {ip}, {why}; only a grant naming that address allows it (--allow-host {ip}:{port})"
            ));
        }
    }
    addrs.first().copied().ok_or_else(|| format!("{host}: the name has no addresses"))
}

type Response = http::Response<WasiBody>;
type IoFuture = Box<dyn Future<Output = Result<()>> + Send>;

impl WasiHttpHooks for AllowListHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(Response, IoFuture)>> + Send> {
        _ = fut;
        let uri = request.uri().clone();
        let https = uri.scheme_str() == Some("https");
        let default_port = if https { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
        let denied = self.denied.clone();
        let deny = move |why: String| {
            if let Ok(mut d) = denied.lock() {
                d.record(why);
            }
            Err(Error::HttpRequestDenied)
        };
        let Some(host) = host.filter(|h| self.grant.allows_request(h, port, default_port)) else {
            return Box::new(std::future::ready(deny(format!(
                "{uri}: host or port not granted (--allow-host HOST[:PORT]; without a port only {default_port})"
            ))));
        };
        let grant = self.grant.clone();
        Box::new(async move {
            let ip = match checked_address(&grant, &host, port, default_port).await {
                Ok(ip) => ip,
                Err(why) => return deny(why),
            };
            if !https {
                // Connect to the address that was checked; the Host header keeps the name.
                if let Some(authority) = uri.authority()
                    && let Ok(value) = http::HeaderValue::from_str(authority.as_str())
                {
                    request.headers_mut().entry(http::header::HOST).or_insert(value);
                }
                let literal =
                    if ip.is_ipv6() { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") };
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                match http::Uri::builder()
                    .scheme("http")
                    .authority(literal)
                    .path_and_query(path)
                    .build()
                {
                    Ok(pinned) => *request.uri_mut() = pinned,
                    Err(_) => return Err(Error::HttpRequestUriInvalid),
                }
            }
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as IoFuture))
        })
    }
}

type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named_and_public_ones_pass() {
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("fe80::1", "link-local"),
            ("fd12::1", "unique local"),
            ("fd00:ec2::254", "metadata"),
        ] {
            let reason =
                non_public_reason(ip.parse().expect("ip")).unwrap_or_else(|| panic!("{ip} passed"));
            assert!(reason.contains(why), "{ip}: {reason}");
        }
        for ip in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "100.128.0.1"] {
            assert_eq!(non_public_reason(ip.parse().expect("ip")), None, "{ip}");
        }
    }

    #[test]
    fn denial_records_are_bounded() {
        let mut d = Denials::default();
        for i in 0..100_000 {
            d.record(format!("http://x/{i}"));
        }
        let lines = d.lines();
        assert_eq!(lines.len(), MAX_DENIAL_RECORDS + 1);
        assert!(
            lines[MAX_DENIAL_RECORDS].contains(&format!("{} more", 100_000 - MAX_DENIAL_RECORDS)),
            "{lines:?}"
        );
    }
}
