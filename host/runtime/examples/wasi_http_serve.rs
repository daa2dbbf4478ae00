//! A `wasi:http` proxy host as `wasmtime serve` is one: wasmtime-wasi-http (the code under
//! `wasmtime serve`), a fresh store and instance per request, preopened directories only where
//! given, fuel and a memory cap per request. The tests serve one-file MCP servers
//! (`wasm-host compose`) with it, to show they run on wasmtime's own `wasi:http` host as well as
//! under `jco serve`; the wasmtime CLI itself is not installed here.
//!
//! `wasi_http_serve SERVER.wasm --addr 127.0.0.1:8080 [--dir HOST::GUEST]… [--fuel N]
//! [--max-memory BYTES]`; prints `listening on ADDR` on stderr when ready.

use hyper::server::conn::http1;
use std::sync::Arc;
use tokio::net::TcpListener;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Result, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

struct Settings {
    dirs: Vec<(String, String)>,
    fuel: u64,
    max_memory: usize,
}

struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let server = args.next().ok_or_else(|| wasmtime::format_err!("usage: SERVER.wasm …"))?;
    let (mut addr, mut settings) = (
        "127.0.0.1:8080".to_string(),
        Settings { dirs: vec![], fuel: u64::MAX, max_memory: 1 << 30 },
    );
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| wasmtime::format_err!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value,
            "--dir" => {
                let (host, guest) = value.split_once("::").unwrap_or((&value, &value));
                settings.dirs.push((host.into(), guest.into()));
            }
            "--fuel" => settings.fuel = value.parse()?,
            "--max-memory" => settings.max_memory = value.parse()?,
            other => wasmtime::bail!("unknown flag {other}"),
        }
    }
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, &server)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    let shared = Arc::new((pre, settings));
    loop {
        let (client, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { handle(&shared.0, &shared.1, req).await }
            });
            let io = wasmtime_wasi_http::io::TokioIo::new(client);
            if let Err(e) = http1::Builder::new().serve_connection(io, service).await {
                eprintln!("connection: {e}");
            }
        });
    }
}

/// One request: a new store (fuel, memory cap, the preopens) and a new instance.
async fn handle(
    pre: &ProxyPre<RequestState>,
    settings: &Settings,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<HyperOutgoingBody>> {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stderr();
    for (host, guest) in &settings.dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly)?;
    }
    let state = RequestState {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new().memory_size(settings.max_memory).build(),
    };
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|s| &mut s.limits);
    store.set_fuel(settings.fuel)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let req = store.data_mut().http().new_incoming_request(Scheme::Http, req)?;
    let out = store.data_mut().http().new_response_outparam(sender)?;
    let pre = pre.clone();
    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy.wasi_http_incoming_handler().call_handle(store, req, out).await
    });
    match receiver.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(code.into()),
        Err(_) => {
            let why = match task.await {
                Ok(Ok(())) => wasmtime::format_err!("the handler set no response"),
                Ok(Err(e)) => e,
                Err(e) => e.into(),
            };
            eprintln!("request failed: {why:#}");
            Err(why)
        }
    }
}
