//! The client: connect, send a message, say "I am done sending", read the whole reply.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::framing::{Decoder, FrameDecoder, encode_frame};

/// A step of the exchange that failed, and the OS error behind it.
#[derive(Debug)]
pub struct ClientError {
    pub step: String,
    pub source: io::Error,
    /// What the server had sent before the failure: a reset can arrive right after a reply.
    pub partial_reply: Vec<u8>,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not {}", self.step)
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn failed(step: impl Into<String>) -> impl FnOnce(io::Error) -> ClientError {
    let step = step.into();
    move |source| ClientError {
        step,
        source,
        partial_reply: Vec::new(),
    }
}

// ANCHOR: exchange
/// Sends `message` to the first of `addrs` that accepts a connection and returns
/// everything the server sends back until it closes. Every step waits at most `timeout`;
/// a reply longer than `max_reply` bytes is an error.
pub fn exchange(
    addrs: &[SocketAddr],
    message: &[u8],
    timeout: Duration,
    max_reply: usize,
) -> Result<Vec<u8>, ClientError> {
    let (mut stream, addr) = connect_first(addrs, timeout)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(failed("set a read timeout"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(failed("set a write timeout"))?;

    // write_all loops until every byte is handed to the OS: one write() may take only
    // part.
    stream
        .write_all(message)
        .map_err(failed(format!("send to {addr}")))?;
    // Half-close: tell the server we are done sending, so that it can finish and close.
    // If that fails, the server has already closed or reset the connection; its reply may
    // still be waiting to be read, so read on and let the read report the failure.
    let _ = stream.shutdown(Shutdown::Write);

    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let step = format!("read the reply from {addr}");
    loop {
        let source = match stream.read(&mut buf) {
            Ok(0) => return Ok(reply), // the server closed: the reply is complete
            Ok(n) if reply.len() + n <= max_reply => {
                reply.extend_from_slice(&buf[..n]);
                continue;
            }
            Ok(_) => io::Error::new(
                ErrorKind::InvalidData,
                format!("more than {max_reply} bytes"),
            ),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if crate::is_timeout(&e) => {
                io::Error::new(ErrorKind::TimedOut, format!("no reply within {timeout:?}"))
            }
            Err(e) => e,
        };
        return Err(ClientError {
            step,
            source,
            partial_reply: reply,
        });
    }
}
// ANCHOR_END: exchange

// ANCHOR: connect_first
/// Tries each address in turn (a name such as `localhost` may resolve to `::1` and
/// `127.0.0.1`, and the server may listen on only one of them); the last error if none
/// accepts.
fn connect_first(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ClientError> {
    let none = io::Error::new(ErrorKind::InvalidInput, "no address to try");
    let mut last = failed("connect")(none);
    for &addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok((stream, addr)),
            Err(e) => last = failed(format!("connect to {addr}"))(e),
        }
    }
    Err(last)
}
// ANCHOR_END: connect_first

/// How the client frames its message, to match the server's `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The bytes as they are (`--mode raw`).
    Raw,
    /// The message and a newline (`--mode lines`).
    Line,
    /// One length-prefixed frame (`--mode frames`); each frame of the reply is printed on a line.
    Frame,
}

// ANCHOR: request
/// The `client` subcommand: resolves `target`, sends `message` framed as `framing`, and
/// prints the reply on `out`. If the exchange fails midway, what did arrive is printed
/// first.
pub fn request(
    target: &str,
    message: &str,
    framing: Framing,
    timeout: Duration,
    out: &mut dyn Write,
) -> Result<()> {
    let addrs = crate::resolve(target)?;
    let sent = match framing {
        Framing::Raw => message.as_bytes().to_vec(),
        Framing::Line => format!("{message}\n").into_bytes(),
        Framing::Frame => encode_frame(message.as_bytes()),
    };
    let reply = match exchange(&addrs, &sent, timeout, 1 << 20) {
        Ok(reply) => reply,
        Err(e) => {
            out.write_all(&e.partial_reply)?;
            return Err(e.into());
        }
    };
    if reply.is_empty() {
        bail!(NoReply);
    }
    // The lines server answers a bad line in the same stream as its echoes (in-band): a
    // reply that is not our line and starts with `error: ` is a refusal. An echo of a
    // line that itself starts with `error: ` is still an echo.
    if framing == Framing::Line && reply != sent {
        let text = String::from_utf8_lossy(&reply);
        if let Some(why) = text.strip_prefix("error: ") {
            bail!(RefusedLine(why.trim_end().to_string()));
        }
    }
    let reply = if framing == Framing::Frame {
        unframe(&reply)?
    } else {
        reply
    };
    out.write_all(&reply)?;
    if !reply.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}
// ANCHOR_END: request

/// The server closed the connection without a byte of reply.
#[derive(Debug)]
pub struct NoReply;

impl fmt::Display for NoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server closed the connection without replying")
    }
}

impl std::error::Error for NoReply {}

/// A lines-mode server answered `error: ...`.
#[derive(Debug)]
pub struct RefusedLine(pub String);

impl fmt::Display for RefusedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server refused the line: {}", self.0)
    }
}

impl std::error::Error for RefusedLine {}

/// The payloads of the frames in `reply`, one per line.
fn unframe(reply: &[u8]) -> Result<Vec<u8>> {
    let mut decoder = FrameDecoder::new(reply.len());
    decoder.push(reply);
    let mut lines = Vec::new();
    while let Some(payload) = decoder.next_message().context("the reply is not a frame")? {
        lines.extend_from_slice(&payload);
        lines.push(b'\n');
    }
    decoder.finish().context("the reply ended inside a frame")?;
    Ok(lines)
}

// ANCHOR: hint
/// What to try next after a client error: the first error in the chain that has a hint.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    if err.is::<NoReply>() {
        return Some(
            "it may have too many clients, or have refused the request: \
             look at its log",
        );
    }
    if err.is::<RefusedLine>() {
        return Some(
            "send a shorter line of UTF-8 text, \
             or start the server with a larger --max-line",
        );
    }
    err.chain().find_map(|cause| {
        if let Some(resolve) = cause.downcast_ref::<crate::ResolveError>() {
            return Some(if resolve.source.kind() == ErrorKind::InvalidInput {
                "write the address as HOST:PORT, \
                 for example 127.0.0.1:7878 or localhost:7878"
            } else {
                "check the spelling of the name, \
                 and that this machine can reach its DNS server\n\
                 (names in /etc/hosts, such as localhost, resolve offline)"
            });
        }
        Some(match cause.downcast_ref::<io::Error>()?.kind() {
            ErrorKind::ConnectionRefused => {
                "nothing listens there: is the server running? Start it with:\n\
                 cargo run -p tcp -- server"
            }
            ErrorKind::TimedOut => {
                "the server did not answer in time: is it busy, or is something dropping\n\
                 the packets?"
            }
            // A reset can surface at any step: as a reset while reading, a broken pipe
            // while writing, or "not connected" when it arrived before our shutdown.
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected => {
                "the server closed the connection abruptly: look at its log"
            }
            ErrorKind::InvalidData => {
                "the reply was not what this client expects: is that the echo server?"
            }
            _ => return None,
        })
    })
}
// ANCHOR_END: hint

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_does_not_resolve_gets_the_same_hint_as_in_the_sockets_lesson() {
        // Built by hand: a real failed lookup would ask a DNS server beyond this machine.
        let err = anyhow::Error::new(crate::ResolveError {
            target: "locahost:7878".into(),
            source: io::Error::new(ErrorKind::NotFound, "Name or service not known"),
        });
        assert!(hint(&err).is_some_and(|h| h.starts_with("check the spelling of the name")));
    }

    #[test]
    fn an_echoed_line_that_starts_with_error_is_not_a_refusal() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let echo = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept()?;
            let mut line = Vec::new();
            conn.read_to_end(&mut line)?;
            conn.write_all(&line)
        });
        let mut out = Vec::new();
        request(
            &addr,
            "error: not really",
            Framing::Line,
            Duration::from_secs(5),
            &mut out,
        )
        .expect("an echo, not a refusal");
        assert_eq!(out, b"error: not really\n");
        echo.join().expect("no panic").expect("echoed");
    }
}
