//! The client: connect, send a message, say "I am done sending", read the whole reply.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

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
/// Sends `message` to `addr` and returns everything the server sends back until it closes.
/// Every step waits at most `timeout`; a reply longer than `max_reply` bytes is an error.
pub fn exchange(
    addr: SocketAddr,
    message: &[u8],
    timeout: Duration,
    max_reply: usize,
) -> Result<Vec<u8>, ClientError> {
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(failed(format!("connect to {addr}")))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(failed("set a read timeout"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(failed("set a write timeout"))?;

    // write_all loops until every byte is handed to the OS: one write() may take only part.
    stream
        .write_all(message)
        .map_err(failed(format!("send to {addr}")))?;
    // Half-close: tell the server we are done sending, so that it can finish and close. If that
    // fails, the server has already closed or reset the connection; its reply may still be
    // waiting to be read, so read on and let the read report the failure.
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
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
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

/// What to try next, for the error kinds a TCP client meets.
pub fn hint(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::ConnectionRefused => {
            "nothing listens there: is the server running? Start it with: cargo run -p tcp -- server"
        }
        ErrorKind::TimedOut => {
            "the server did not answer in time: is it busy, or is something dropping the packets?"
        }
        // A reset can surface at any step: as a reset while reading, a broken pipe while writing,
        // or "not connected" when it arrived before our shutdown.
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::NotConnected => "the server closed the connection abruptly: look at its log",
        ErrorKind::InvalidData => {
            "the reply was not what this client expects: is that the echo server?"
        }
        _ => return None,
    })
}
