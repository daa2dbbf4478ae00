//! The stdio front: a bounded line reader between the real stdin and rmcp, and one writer that
//! owns stdout.
//!
//! rmcp drops an oversized line silently, answers malformed JSON with "Invalid request" and
//! ignores a request whose params do not deserialize. This transport reads each line itself,
//! parsing it once: too long (memory stays bounded: the rest of the line is skipped, not
//! buffered) → -32600 naming the limit; not JSON → -32700; a request rmcp cannot read → -32602
//! (known method) or -32601 (unknown method), each with the request's id when it has one. Only
//! messages that pass reach rmcp. Our answers and rmcp's go through one queue to the single
//! stdout writer, so each message is written whole.

use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, GetPromptRequestParams,
    InitializeRequestParams, JsonRpcMessage, ReadResourceRequestParams, SetLevelRequestParams,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Methods a client may call on this server; a request for one of these that fails to
/// deserialize has bad params rather than an unknown method.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "logging/setLevel",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "server/discover",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

/// An rmcp transport over a byte input and a message queue to the output writer: each line is
/// read with a size bound, checked, and parsed once; bad lines are answered here.
///
/// Cancel-safe: rmcp polls `receive()` inside a `select!` and drops it when another branch
/// wins, so everything read so far (the partial line, the bytes skipped of an oversized one,
/// an answer not yet queued) lives here, not in the future, and the next call goes on with it.
pub struct CheckedLines<R> {
    input: BufReader<R>,
    out: mpsc::Sender<Vec<u8>>,
    max_line: usize,
    /// The line being read, at most `max_line` bytes, without its newline.
    line: Vec<u8>,
    /// Bytes of the line being read that were past `max_line` and dropped.
    skipped: usize,
    /// An error answer decided but not yet queued to `out`.
    pending: Option<Vec<u8>>,
}

impl<R: AsyncRead + Unpin + Send> CheckedLines<R> {
    /// Reads from `input`; answers (rmcp's and ours) go to `out`, whose receiver should be
    /// drained by [`write_lines`].
    pub fn new(input: R, out: mpsc::Sender<Vec<u8>>, max_line: usize) -> Self {
        CheckedLines {
            input: BufReader::with_capacity(64 << 10, input),
            out,
            max_line,
            line: Vec::new(),
            skipped: 0,
            pending: None,
        }
    }

    /// The next message rmcp should see, or `None` at end of input. Cancel-safe (see the type).
    async fn next_message(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            if self.pending.is_some() {
                // Reserve first: a drop while waiting for room keeps the answer in `pending`.
                let permit = self.out.reserve().await;
                if let (Ok(permit), Some(answer)) = (permit, self.pending.take()) {
                    permit.send(answer);
                }
            }
            let complete = match self.read_line().await {
                Ok(complete) => complete,
                Err(e) => {
                    tracing::warn!(error = %e, "reading stdin");
                    return None;
                }
            };
            // From here to the end of the iteration nothing awaits, so taking the line is safe.
            let line = std::mem::take(&mut self.line);
            let skipped = std::mem::take(&mut self.skipped);
            if !complete && line.is_empty() && skipped == 0 {
                return None;
            }
            if skipped > 0 {
                self.pending = Some(too_large(line.len() + skipped, self.max_line));
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match check(&line) {
                Checked::Pass(msg) => return Some(*msg),
                Checked::Drop => {}
                Checked::Answer(a) => self.pending = Some(a),
            }
        }
    }

    /// Reads on with the current line into `self.line`, keeping at most `max_line` bytes and
    /// counting the rest in `self.skipped`. Returns whether a newline ended it (false: end of
    /// input). State changes only between awaits, so a drop loses nothing.
    async fn read_line(&mut self) -> std::io::Result<bool> {
        loop {
            let buf = self.input.fill_buf().await?;
            if buf.is_empty() {
                return Ok(false);
            }
            let (chunk, found) = match memchr(buf) {
                Some(i) => (&buf[..i], Some(i)),
                None => (buf, None),
            };
            let room = self.max_line.saturating_sub(self.line.len());
            let kept = if self.skipped == 0 { room.min(chunk.len()) } else { 0 };
            self.line.extend_from_slice(&chunk[..kept]);
            self.skipped += chunk.len() - kept;
            let used = found.map_or(buf.len(), |i| i + 1);
            self.input.consume(used);
            if found.is_some() {
                return Ok(true);
            }
        }
    }
}

/// The answer to a line of `size` bytes or more, over the limit of `max`.
fn too_large(size: usize, max: usize) -> Vec<u8> {
    tracing::warn!(bytes = size, limit = max, "stdio message over the size limit; skipped");
    let msg = format!(
        "message too large: {size} bytes or more, over the limit of {max} bytes per stdio message ({} MiB); it was skipped",
        max >> 20
    );
    error_line(Value::Null, -32600, msg)
}

impl<R: AsyncRead + Unpin + Send + 'static> Transport<RoleServer> for CheckedLines<R> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        async move {
            let mut bytes = serde_json::to_vec(&item)?;
            bytes.push(b'\n');
            out.send(bytes).await.map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout writer gone")
            })
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.next_message()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// What to do with one line.
enum Checked {
    /// Hand this message to rmcp.
    Pass(Box<ClientJsonRpcMessage>),
    /// Ignore it (a malformed notification: notifications get no answer).
    Drop,
    /// Answer with this error line instead.
    Answer(Vec<u8>),
}

/// Parses a line once and decides what to do with it.
fn check(line: &[u8]) -> Checked {
    match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        // rmcp reads a known method with params it cannot type as a custom request, then
        // answers "method not found"; catch that here.
        Ok(JsonRpcMessage::Request(r)) => match &r.request {
            ClientRequest::CustomRequest(c) if KNOWN_METHODS.contains(&c.method.as_str()) => {
                let params = c.params.clone().unwrap_or(Value::Null);
                Checked::Answer(error_line(
                    json!(r.id),
                    -32602,
                    format!(
                        "invalid params for {}: {}",
                        c.method,
                        params_error(&c.method, &params)
                    ),
                ))
            }
            _ => Checked::Pass(Box::new(JsonRpcMessage::Request(r))),
        },
        Ok(other) => Checked::Pass(Box::new(other)),
        Err(_) => match diagnose(line) {
            a if a.is_empty() => Checked::Drop,
            a => Checked::Answer(a),
        },
    }
}

/// The error answer for a line that is not a message rmcp can read (empty: no answer).
fn diagnose(line: &[u8]) -> Vec<u8> {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            return error_line(Value::Null, -32700, format!("parse error: not valid JSON ({e})"));
        }
    };
    if value.is_array() {
        return error_line(
            Value::Null,
            -32600,
            "invalid request: JSON-RPC batches are not supported by MCP".into(),
        );
    }
    let id = value.get("id").cloned();
    let method = value.get("method").and_then(Value::as_str);
    match (id, method) {
        (Some(id), Some(m)) if KNOWN_METHODS.contains(&m) => {
            let why = params_error(m, value.get("params").unwrap_or(&Value::Null));
            error_line(id, -32602, format!("invalid params for {m}: {why}"))
        }
        (Some(id), Some(m)) => error_line(id, -32601, format!("method not found: {m}")),
        (None, Some(m)) => {
            tracing::warn!(method = m, "ignoring a malformed notification");
            Vec::new()
        }
        (id, None) => error_line(
            id.unwrap_or(Value::Null),
            -32600,
            "invalid request: not a JSON-RPC 2.0 request, notification or response".into(),
        ),
    }
}

/// Why `params` do not fit `method`, as serde tells it for the methods whose params are typed.
fn params_error(method: &str, params: &Value) -> String {
    fn why<T: serde::de::DeserializeOwned>(params: &Value) -> Option<String> {
        serde_json::from_value::<T>(params.clone()).err().map(|e| e.to_string())
    }
    let found = match method {
        "tools/call" => why::<CallToolRequestParams>(params),
        "initialize" => why::<InitializeRequestParams>(params),
        "logging/setLevel" => why::<SetLevelRequestParams>(params),
        "resources/read" => why::<ReadResourceRequestParams>(params),
        "prompts/get" => why::<GetPromptRequestParams>(params),
        _ => None,
    };
    found.unwrap_or_else(|| format!("params {params} do not match the method's schema"))
}

fn error_line(id: Value, code: i64, message: String) -> Vec<u8> {
    let mut v = serde_json::to_vec(
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
    .unwrap_or_default();
    v.push(b'\n');
    v
}

/// Writes every queued message to `stdout`, flushing after each, until all senders are gone.
pub async fn write_lines(mut stdout: impl AsyncWrite + Unpin, mut queue: mpsc::Receiver<Vec<u8>>) {
    while let Some(msg) = queue.recv().await {
        if stdout.write_all(&msg).await.is_err() || stdout.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str) -> Option<Value> {
        match check(line.as_bytes()) {
            Checked::Answer(v) => Some(serde_json::from_slice(&v).expect("json")),
            Checked::Pass(_) | Checked::Drop => None,
        }
    }

    #[test]
    fn valid_messages_pass_and_bad_ones_get_the_right_code() {
        assert!(answer(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).is_none());
        assert!(answer(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_none());
        let a = answer("not json").expect("answer");
        assert_eq!((a["error"]["code"].as_i64(), a["id"].is_null()), (Some(-32700), true));
        let a = answer(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"wrong"}"#)
            .expect("answer");
        assert_eq!((a["error"]["code"].as_i64(), a["id"].as_i64()), (Some(-32602), Some(7)));
        assert!(a["error"]["message"].as_str().is_some_and(|m| m.contains("tools/call")), "{a}");
        let a = answer(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":3}}"#)
            .expect("answer");
        assert_eq!((a["error"]["code"].as_i64(), a["id"].as_i64()), (Some(-32602), Some(8)));
        assert!(a["error"]["message"].as_str().is_some_and(|m| m.contains("invalid type")), "{a}");
        let a = answer(r#"{"jsonrpc":"2.0","id":9,"method":"bogus/method"}"#);
        assert!(a.is_none(), "unknown methods go to rmcp, which answers -32601");
        let a = answer(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).expect("answer");
        assert_eq!(a["error"]["code"].as_i64(), Some(-32600));
        let a = answer(r#"{"id":3}"#).expect("answer");
        assert_eq!((a["error"]["code"].as_i64(), a["id"].as_i64()), (Some(-32600), Some(3)));
    }

    #[tokio::test]
    async fn an_oversized_line_is_skipped_with_an_error_and_the_next_one_passes() {
        let mut input = vec![b'x'; 1000];
        input.extend_from_slice(b"\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
        let (tx, mut rx) = mpsc::channel(8);
        let mut lines = CheckedLines::new(&input[..], tx, 100);
        let passed = lines.next_message().await.expect("the ping passes");
        assert!(
            matches!(passed, JsonRpcMessage::Request(ref r) if r.request.method() == "ping"),
            "{passed:?}"
        );
        assert!(lines.next_message().await.is_none(), "end of input");
        let err: Value = serde_json::from_slice(&rx.recv().await.expect("an error")).expect("json");
        assert_eq!(err["error"]["code"].as_i64(), Some(-32600));
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("1000 bytes") && m.contains("limit of 100")),
            "{err}"
        );
    }

    /// A `receive()` that rmcp drops mid-line (it polls it inside a `select!`) must not lose the
    /// part already read: the next call goes on with the same line.
    #[tokio::test]
    async fn a_receive_dropped_mid_line_loses_nothing() {
        use std::time::Duration;
        use tokio::time::timeout;
        let (mut writer, reader) = tokio::io::duplex(1 << 16);
        let (tx, mut rx) = mpsc::channel(8);
        let mut lines = CheckedLines::new(reader, tx, 100);
        let wait = Duration::from_millis(50);

        writer.write_all(br#"{"jsonrpc":"2.0","id":1,"#).await.expect("write");
        assert!(timeout(wait, lines.next_message()).await.is_err(), "half a line: still waiting");
        writer.write_all(b"\"method\":\"ping\"}\n").await.expect("write");
        let passed = timeout(wait, lines.next_message()).await.expect("not stuck");
        assert!(
            matches!(passed, Some(JsonRpcMessage::Request(ref r)) if r.request.method() == "ping"),
            "the ping split by a dropped receive passes whole: {passed:?}"
        );

        writer.write_all(&[b'x'; 150]).await.expect("write");
        assert!(timeout(wait, lines.next_message()).await.is_err(), "half a long line");
        writer.write_all(&[b'x'; 50]).await.expect("write");
        writer
            .write_all(b"\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n")
            .await
            .expect("write");
        drop(writer);
        let passed = timeout(wait, lines.next_message()).await.expect("not stuck");
        assert!(
            matches!(passed, Some(JsonRpcMessage::Request(ref r)) if r.id == rmcp::model::NumberOrString::Number(2)),
            "{passed:?}"
        );
        assert!(timeout(wait, lines.next_message()).await.expect("not stuck").is_none());
        let mut answers = Vec::new();
        while let Ok(a) = rx.try_recv() {
            answers.push(serde_json::from_slice::<Value>(&a).expect("json"));
        }
        assert_eq!(answers.len(), 1, "one answer, for the long line only: {answers:?}");
        assert_eq!(answers[0]["error"]["code"].as_i64(), Some(-32600), "{answers:?}");
        assert!(
            answers[0]["error"]["message"].as_str().is_some_and(|m| m.contains("200 bytes")),
            "the whole long line is counted: {answers:?}"
        );
    }
}
