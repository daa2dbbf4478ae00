//! The MCP streamable-HTTP handler of one-file servers (`wasm-host compose`).
//!
//! Exports `wasi:http/incoming-handler`; imports the composed tool components as slots `tool-0` ..
//! `tool-15` and the generated `config` (which component each slot holds). Every request is
//! answered on its own (no sessions): the stateless 2026-07-28 protocol (`server/discover`, the
//! version in each request's `_meta`) and 2025-11-25's `initialize` both work, since nothing is
//! kept between requests. Replies are `application/json`; there is no SSE stream (GET gets 405).
#![allow(unsafe_code)] // the canonical-ABI glue wit-bindgen and the export macros generate

mod rpc;
mod slots;

use std::io::Write;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::streams::StreamError;

/// The generated bindings: the slots, `config` and the shared `wasm-host:mcp/types`.
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit/mcp", "../../../wit/server"],
        world: "wasm-host:server/mcp-server",
        generate_all,
    });
}

/// Largest request body, in bytes (as `wasm-host serve --http`): 4 MiB; larger ones get 413.
const MAX_BODY: usize = 4 << 20;

struct Handler;

impl wasi::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (status, body) = respond(&request);
        send(out, status, body);
    }
}

wasi::http::proxy::export!(Handler);

/// The status and JSON body (if any) for `request`.
fn respond(request: &IncomingRequest) -> (u16, Option<String>) {
    match request.method() {
        Method::Post => {}
        // No server-initiated stream and no session to delete: the protocol allows 405 for both.
        _ => return (405, None),
    }
    let body = match read_body(request) {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let why =
                format!("request body larger than {MAX_BODY} bytes (the one-file server's cap)");
            return (
                413,
                Some(rpc::error_reply(serde_json::Value::Null, rpc::INVALID_REQUEST, &why)),
            );
        }
        Err(BodyError::Read(why)) => {
            return (
                400,
                Some(rpc::error_reply(serde_json::Value::Null, rpc::INVALID_REQUEST, &why)),
            );
        }
    };
    let version = header(request, "mcp-protocol-version");
    match rpc::handle(&body, version.as_deref()) {
        rpc::Reply::Accepted => (202, None),
        rpc::Reply::Json(status, text) => (status, Some(text)),
    }
}

/// The first value of header `name`, as text.
fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    let values = request.headers().get(name);
    values.first().map(|v| String::from_utf8_lossy(v).into_owned())
}

enum BodyError {
    TooLarge,
    Read(String),
}

/// The whole request body, at most [`MAX_BODY`] bytes.
fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, BodyError> {
    let unreadable = || BodyError::Read("the request body could not be read".into());
    let body = request.consume().map_err(|()| unreadable())?;
    let stream = body.stream().map_err(|()| unreadable())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(BodyError::Read(format!(
                    "reading the request body: {}",
                    e.to_debug_string()
                )));
            }
        }
        if bytes.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
    }
    Ok(bytes)
}

/// Sends `status` with `body` as `application/json` (nothing for 202 and 405).
fn send(out: ResponseOutparam, status: u16, body: Option<String>) {
    let headers = Fields::new();
    if body.is_some() {
        let _ = headers.set("content-type", &[b"application/json".to_vec()]);
    }
    if status == 405 {
        let _ = headers.set("allow", &[b"POST".to_vec()]);
    }
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    if let Some(text) = body
        && let Ok(mut stream) = outgoing.write()
    {
        // `write_all` goes through blocking-write-and-flush in chunks the host accepts.
        let _ = stream.write_all(text.as_bytes());
        let _ = stream.flush();
    }
    let _ = OutgoingBody::finish(outgoing, None);
}
