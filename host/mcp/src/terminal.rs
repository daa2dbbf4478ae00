//! The operator's terminal: `request_access` questions asked on the server's controlling
//! terminal (`/dev/tty`), when the operator turned it on (`--grant-terminal`, `[access]
//! terminal = true`). Meant for `serve --http` run by a person at a terminal; a stdio server
//! started by a client usually shares the client's terminal, which is why it is off by default.
//!
//! Questions are asked one at a time. Input typed before a question is discarded, so an answer
//! counts only for the question on screen; anything but `y` or `yes` declines. The agent's text
//! (its reason, the path it names) is shown with control characters escaped, so it cannot move
//! the cursor, recolour or rewrite the question.

use rustix::fs::{Mode, OFlags};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// Longest agent text shown on the terminal, in characters.
const MAX_SHOWN: usize = 300;
/// Longest answer line read, in bytes.
const MAX_ANSWER: usize = 256;

/// Asks the operator on a terminal device, one question at a time.
pub(crate) struct TerminalPrompt {
    device: PathBuf,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl TerminalPrompt {
    /// A prompt on the process's controlling terminal.
    pub(crate) fn controlling() -> TerminalPrompt {
        TerminalPrompt::on(Path::new("/dev/tty"))
    }

    /// A prompt on `device` (a terminal).
    pub(crate) fn on(device: &Path) -> TerminalPrompt {
        TerminalPrompt { device: device.into(), one_at_a_time: tokio::sync::Mutex::new(()) }
    }

    /// Shows `question` and waits up to `within` for a line: `Ok(true)` for `y`/`yes`,
    /// `Ok(false)` for anything else; [`Unanswered`] when there is no terminal or no answer.
    pub(crate) async fn ask(&self, question: &str, within: Duration) -> Result<bool, Unanswered> {
        let _turn = self.one_at_a_time.lock().await;
        let tty = open(&self.device).map_err(|e| {
            Unanswered::NoTerminal(format!("no operator terminal ({}: {e})", self.device.display()))
        })?;
        // Type-ahead from before the question was shown must not answer it.
        let _ = rustix::termios::tcflush(&tty, rustix::termios::QueueSelector::IFlush);
        let shown = format!(
            "\r\nwasm-host: {}\r\nGrant it? [y/N] (answer within {} s): ",
            escaped(question),
            within.as_secs()
        );
        (&tty)
            .write_all(shown.as_bytes())
            .map_err(|e| Unanswered::Failed(format!("writing to the terminal: {e}")))?;
        let answer = tokio::time::timeout(within, read_line(tty)).await;
        match answer {
            Ok(Ok(line)) => Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")),
            Ok(Err(e)) => Err(Unanswered::Failed(format!("reading the operator's answer: {e}"))),
            Err(_) => Err(Unanswered::Failed(format!(
                "no answer from the operator within {} s",
                within.as_secs()
            ))),
        }
    }
}

/// Why a question got no answer.
#[derive(Debug)]
pub(crate) enum Unanswered {
    /// No terminal to ask on (the caller may ask someone else).
    NoTerminal(String),
    /// Asked, but no answer came (timeout, read error): counts as a refusal.
    Failed(String),
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unanswered::NoTerminal(why) | Unanswered::Failed(why) => f.write_str(why),
        }
    }
}

/// Opens a terminal device for reading and writing without blocking (so a wait can be dropped
/// when it times out) and without making it the controlling terminal.
fn open(device: &Path) -> std::io::Result<std::fs::File> {
    let flags = OFlags::RDWR | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(device, flags, Mode::empty())?;
    if !rustix::termios::isatty(&fd) {
        return Err(std::io::Error::other("not a terminal"));
    }
    Ok(std::fs::File::from(fd))
}

/// Reads up to a newline (at most [`MAX_ANSWER`] bytes kept).
async fn read_line(tty: std::fs::File) -> std::io::Result<String> {
    let tty = AsyncFd::new(tty)?;
    let mut line = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        let mut ready = tty.readable().await?;
        match ready.try_io(|f| f.get_ref().read(&mut buf)) {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(Ok(n)) => {
                let chunk = &buf[..n];
                let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
                let take = &chunk[..end.unwrap_or(n)];
                let room = MAX_ANSWER.saturating_sub(line.len());
                line.extend_from_slice(&take[..take.len().min(room)]);
                if end.is_some() {
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
            }
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
}

/// `text` on one line, cut to [`MAX_SHOWN`] characters, with control and hidden characters
/// (escape sequences, bidi overrides) shown escaped instead of acted on.
fn escaped(text: &str) -> String {
    let one_line: String = text
        .chars()
        .take(MAX_SHOWN)
        .map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c })
        .collect();
    let mut out = wasm_host_runtime::sanitize_for_terminal(&one_line);
    if text.chars().nth(MAX_SHOWN).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_text_cannot_drive_the_terminal() {
        let shown = escaped("read \x1b[2K\x1b[1Agranted\r\nGrant it? y\u{9b}31m \u{202e}fdp");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains("\\u{202e}"), "bidi overrides escaped too: {shown:?}");
        assert!(shown.contains("\\u{1b}[2K"), "{shown:?}");
        assert_eq!(escaped(&"x".repeat(1000)).chars().count(), MAX_SHOWN + 1);
    }

    #[tokio::test]
    async fn no_terminal_is_an_error_naming_the_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("not-a-tty");
        std::fs::write(&file, "y\n").expect("write");
        for device in [file.as_path(), Path::new("/nonexistent/tty")] {
            let why = TerminalPrompt::on(device)
                .ask("q", Duration::from_secs(1))
                .await
                .expect_err("not a terminal");
            assert!(matches!(why, Unanswered::NoTerminal(_)), "{why:?}");
            assert!(why.to_string().contains(&device.display().to_string()), "{why}");
        }
    }
}
