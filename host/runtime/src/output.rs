//! Capped capture of a guest's stdout, stderr and log lines. Nothing a guest writes reaches the
//! host's own stdout (which may be the MCP stream).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
pub use wasm_host_policy::text::{escape_hidden, is_hidden_character};

/// Which stream a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
    /// The `wasm-host:mcp/log` import.
    Log,
}

/// One captured line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// Where it came from.
    pub stream: LogStream,
    /// `trace`..`error` for log lines; `info` for stdout, `warn` for stderr.
    pub level: &'static str,
    /// The text (lossy UTF-8), without the trailing newline.
    pub text: String,
}

/// What each kept line costs against the log cap on top of its text, in bytes: about what a
/// [`LogLine`] takes in memory, so a flood of empty lines is bounded like one of long lines.
pub const LOG_LINE_COST: u64 = 64;

/// The call's log: lines up to a byte cap (each line costs its text plus [`LOG_LINE_COST`]),
/// then a count of what was dropped.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    pub lines: Vec<LogLine>,
    pub bytes: u64,
    pub cap: u64,
    pub dropped_bytes: u64,
    pub dropped_lines: u64,
    partial: [Vec<u8>; 2],
}

impl CallLog {
    pub fn new(cap: u64) -> Self {
        CallLog { cap, ..Default::default() }
    }

    /// Records one complete line (its text cut to what is left of the cap), or counts it as
    /// dropped past the cap.
    pub fn push(&mut self, stream: LogStream, level: &'static str, text: &str) {
        let len = text.len() as u64;
        if self.bytes + LOG_LINE_COST > self.cap {
            self.dropped_bytes += len;
            self.dropped_lines += 1;
            return;
        }
        let room = self.cap - self.bytes - LOG_LINE_COST;
        let text = if len > room {
            self.dropped_bytes += len - room;
            cut(text.to_string(), room).0
        } else {
            text.to_string()
        };
        self.bytes += (text.len() as u64).min(room) + LOG_LINE_COST;
        self.lines.push(LogLine { stream, level, text });
    }

    /// Appends raw bytes from stdout/stderr, splitting them into lines.
    fn write(&mut self, stream: LogStream, data: &[u8]) {
        let idx = usize::from(stream == LogStream::Stderr);
        let level = if idx == 0 { "info" } else { "warn" };
        let mut partial = std::mem::take(&mut self.partial[idx]);
        for chunk in data.split_inclusive(|b| *b == b'\n') {
            if self.bytes + LOG_LINE_COST + partial.len() as u64 > self.cap {
                self.dropped_bytes += chunk.len() as u64;
                self.dropped_lines += u64::from(chunk.last() == Some(&b'\n'));
                continue;
            }
            partial.extend_from_slice(chunk);
            if partial.last() == Some(&b'\n') {
                partial.pop();
                self.push(stream, level, &String::from_utf8_lossy(&partial));
                partial.clear();
            }
        }
        self.partial[idx] = partial;
    }

    /// Flushes unterminated stdout/stderr text as final lines.
    pub fn finish(&mut self) {
        for (idx, stream) in [(0, LogStream::Stdout), (1, LogStream::Stderr)] {
            let rest = std::mem::take(&mut self.partial[idx]);
            if !rest.is_empty() {
                self.push(
                    stream,
                    if idx == 0 { "info" } else { "warn" },
                    &String::from_utf8_lossy(&rest),
                );
            }
        }
    }
}

/// A guest stdout or stderr that appends to the shared [`CallLog`].
#[derive(Clone)]
pub(crate) struct CapturedStream {
    pub log: Arc<Mutex<CallLog>>,
    pub stream: LogStream,
}

impl wasmtime_wasi::cli::IsTerminal for CapturedStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CapturedStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for CapturedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Ok(mut log) = self.log.lock() {
            log.write(self.stream, buf);
        }
        // Accept everything: past the cap bytes are counted and dropped, never an error the guest
        // could turn into a panic.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Makes guest text safe to print on a terminal: control characters (ANSI escapes) and hidden
/// characters ([`is_hidden_character`]) are shown escaped instead of being interpreted.
pub fn sanitize_for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_hidden_character(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Cuts `text` to at most `cap` bytes (on a character boundary) with a marker saying how much was cut.
pub fn cut(text: String, cap: u64) -> (String, bool) {
    let len = text.len() as u64;
    if len <= cap {
        return (text, false);
    }
    let mut end = cap as usize;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let marker =
        format!("\n…[output cut: {len} bytes, first {end} shown; the output limit is {cap} bytes]");
    (format!("{}{marker}", &text[..end]), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_split_and_capped() {
        let mut log = CallLog::new(2 * LOG_LINE_COST + 10);
        log.write(LogStream::Stdout, b"abc\nde");
        log.write(LogStream::Stdout, b"f\n0123456789\n");
        log.finish();
        assert_eq!(log.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["abc", "def"]);
        assert_eq!(log.dropped_bytes, 11, "the dropped line, with its newline");
        assert_eq!(log.dropped_lines, 1);
    }

    #[test]
    fn empty_log_lines_count_against_the_cap() {
        let mut log = CallLog::new(64 << 10);
        for _ in 0..1_000_000 {
            log.push(LogStream::Log, "info", "");
            log.write(LogStream::Stdout, b"\n");
        }
        log.finish();
        assert_eq!(
            log.lines.len() as u64,
            (64 << 10) / LOG_LINE_COST,
            "a million empty lines of each kind, kept up to the cap"
        );
        assert_eq!(log.dropped_lines, 2_000_000 - log.lines.len() as u64);
    }

    #[test]
    fn one_long_log_line_is_cut_to_the_cap() {
        let mut log = CallLog::new(1000);
        log.push(LogStream::Log, "info", &"x".repeat(1 << 20));
        assert_eq!(log.lines.len(), 1);
        assert!(
            log.lines[0].text.len() < 1200 && log.lines[0].text.contains("output cut"),
            "{}",
            log.lines[0].text.len()
        );
        assert!(log.bytes <= 1000);
    }

    #[test]
    fn hidden_characters_are_escaped_for_clients() {
        for c in [
            '\u{00ad}',
            '\u{180e}',
            '\u{2060}',
            '\u{2064}',
            '\u{fe0f}',
            '\u{e0100}',
            '\u{e01ef}',
            '\u{202e}',
            '\u{2066}',
            '\u{061c}',
        ] {
            assert!(is_hidden_character(c), "{:?}", c);
            let text = format!("read{c}me");
            let shown = escape_hidden(&text);
            assert!(!shown.contains(c) && shown.contains("\\u{"), "{shown}");
        }
        assert_eq!(escape_hidden("plain ünïcode ✓"), "plain ünïcode ✓");
    }

    #[test]
    fn cut_marks_what_was_removed() {
        let (s, cut_) = cut("héllo world".into(), 2);
        assert!(cut_);
        assert!(s.starts_with('h') && s.contains("output cut: 12 bytes"), "{s}");
        assert_eq!(cut("short".into(), 10), ("short".to_string(), false));
    }

    #[test]
    fn terminal_controls_are_escaped() {
        let s = sanitize_for_terminal("ok\u{1b}[31mred\u{202e}");
        assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{s}");
        assert!(s.contains("\\u{1b}"));
    }
}
