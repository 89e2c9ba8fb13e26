//! Loopback helpers for black-box checks. Every operation has a timeout, so code under test that
//! hangs makes a check fail in seconds instead of hanging the suite.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// How long a check waits for any one network step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(3);

/// Binds a listener on `127.0.0.1:0` (the OS picks a free port).
pub fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 never fails on a working machine")
}

/// An address on loopback where nothing listens: bound once to learn a free port, then released.
/// A connect to it is refused.
pub fn closed_addr() -> SocketAddr {
    let l = listener();
    l.local_addr().expect("a bound listener has an address")
}

/// Connects to `addr` with [`STEP_TIMEOUT`] on connect, read and write.
pub fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, STEP_TIMEOUT)
        .map_err(|e| format!("could not connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(STEP_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(STEP_TIMEOUT)))
        .map_err(|e| format!("could not set timeouts: {e}"))?;
    Ok(stream)
}

/// Reads until the peer closes, at most `limit` bytes. Describes what happened if the peer did not
/// close in time, sent too much, or reset.
pub fn read_until_close(stream: &mut TcpStream, limit: usize) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.len() > limit {
                    return Err(format!("more than {limit} bytes: {}", show_bytes(&got)));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "{} and then no end of stream within {:?}: the connection was left open",
                    describe_received(&got),
                    STEP_TIMEOUT
                ));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(format!(
                    "{} and then an error: {e}",
                    describe_received(&got)
                ));
            }
        }
    }
}

fn describe_received(got: &[u8]) -> String {
    if got.is_empty() {
        "nothing".to_string()
    } else {
        show_bytes(got)
    }
}

/// Shows bytes as a quoted string when they are text, else as hex.
pub fn show_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("bytes {bytes:02x?}"),
    }
}
