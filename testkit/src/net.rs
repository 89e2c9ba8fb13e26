//! Loopback helpers for black-box checks. Every operation has a timeout, so code under test that
//! hangs makes a check fail in seconds instead of hanging the suite, and each says what it waits
//! for ([`crate::exercise::step`]) so that a report can name the step that hung.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// How long a check waits for any one network step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(5);

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

/// A loopback address whose connection attempts go unanswered, like a host behind a firewall that
/// drops packets: a listener with a full accept queue. Linux drops a SYN when the queue is full
/// (listen(2): "the request may be ignored"), so a connect to it times out instead of being
/// refused. Keep the value alive as long as the address must stay silent.
pub struct Silent {
    pub addr: SocketAddr,
    _listener: Socket,
    _queued: Vec<TcpStream>,
}

/// Builds a [`Silent`] address, or says why this system cannot.
pub fn silent_addr() -> Result<Silent, String> {
    let setup = |e: std::io::Error| format!("could not set up a silent listener: {e}");
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).map_err(setup)?;
    listener
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .map_err(setup)?;
    listener.listen(0).map_err(setup)?; // the shortest queue the OS allows
    let addr = listener
        .local_addr()
        .map_err(setup)?
        .as_socket()
        .ok_or("the silent listener has no IP address")?;
    let mut queued = Vec::new();
    // Fill the queue until a connect goes unanswered; nobody ever accepts.
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => queued.push(stream),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                return Ok(Silent {
                    addr,
                    _listener: listener,
                    _queued: queued,
                });
            }
            Err(e) => return Err(format!("could not fill the silent listener's queue: {e}")),
        }
    }
    Err("this system accepted 8 connections into a queue of 0 without dropping any".into())
}

/// Connects to `addr` with [`STEP_TIMEOUT`] on connect, read and write.
pub fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    crate::exercise::step(format!("connecting to {addr}"));
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
    crate::exercise::step("waiting for the reply and the end of stream");
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
            Err(e) if is_timeout(&e) => {
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

/// Sends `bytes` with one `write_all`, describing a failure.
pub fn send(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), String> {
    crate::exercise::step(format!("sending {}", show_bytes(bytes)));
    stream
        .write_all(bytes)
        .map_err(|e| format!("the connection failed while sending: {e}"))
}

/// True for the error a read or write with a timeout returns when the time is up: `WouldBlock` on
/// Unix, `TimedOut` on Windows.
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
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
