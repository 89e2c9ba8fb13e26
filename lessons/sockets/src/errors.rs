//! The errors a socket program meets, provoked on purpose on loopback, and how to tell them apart.
//!
//! Each `provoke_*` function does what a real program would do and returns the error it ran into,
//! so the command line reports it exactly as it would report a real failure.

use std::fmt;
use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::SockRef;

// ANCHOR: socket_error
/// An operation that failed, and the OS error behind it.
#[derive(Debug)]
pub struct SocketError {
    /// What we tried, e.g. `connect to 127.0.0.1:7878`.
    pub action: String,
    pub source: io::Error,
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not {}", self.action)
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// For `map_err`: wraps an `io::Error` with what we were trying to do, as in
/// `listener.accept().map_err(failed("accept"))?`.
pub fn failed(action: impl Into<String>) -> impl FnOnce(io::Error) -> SocketError {
    let action = action.into();
    move |source| SocketError { action, source }
}
// ANCHOR_END: socket_error

/// How long the timeout demonstration waits.
pub const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// The address the "not available" demonstration binds: 192.0.2.1 is in TEST-NET-1, reserved for
/// documentation (RFC 5737 section 3), so no machine owns it. Binding sends no packet.
pub const FOREIGN_ADDR: &str = "192.0.2.1:0";

// ANCHOR: refused
/// Connects to a loopback port where nothing listens: the OS answers at once with a reset (RST),
/// which `connect` reports as `ConnectionRefused`.
pub fn provoke_refused(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let addr = free_port()?;
    log(format!(
        "nothing listens on {addr} (bound it and closed it again); connecting"
    ));
    TcpStream::connect(addr).map_err(failed(format!("connect to {addr}")))?;
    Ok(())
}
// ANCHOR_END: refused

// ANCHOR: in_use
/// Binds a port that a listener of ours already holds: `AddrInUse`.
pub fn provoke_in_use(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let first = TcpListener::bind("127.0.0.1:0").map_err(failed("bind 127.0.0.1:0"))?;
    let addr = first
        .local_addr()
        .map_err(failed("read the listener's address"))?;
    log(format!(
        "a first listener holds {addr}; binding it a second time"
    ));
    let _second = TcpListener::bind(addr).map_err(failed(format!("bind {addr}")))?;
    Ok(())
}
// ANCHOR_END: in_use

// ANCHOR: not_available
/// Binds an IP address this machine does not have: `AddrNotAvailable`.
pub fn provoke_not_available(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    log(format!(
        "binding {FOREIGN_ADDR}, an address no machine owns (RFC 5737)"
    ));
    TcpListener::bind(FOREIGN_ADDR).map_err(failed(format!("bind {FOREIGN_ADDR}")))?;
    Ok(())
}
// ANCHOR_END: not_available

// ANCHOR: timed_out
/// Reads from a connection whose peer never writes, with a read timeout: the read gives up.
/// On Unix the error kind is `WouldBlock` (EAGAIN), not `TimedOut`; on Windows it is `TimedOut`.
pub fn provoke_timed_out(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let (mut client, _server) = loopback_pair()?;
    client
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(failed("set a read timeout"))?;
    log(format!(
        "connected; reading with a {READ_TIMEOUT:?} timeout from a peer that never writes"
    ));
    let mut buf = [0u8; 64];
    client
        .read(&mut buf)
        .map_err(failed(format!("read within {READ_TIMEOUT:?}")))?;
    Ok(())
}
// ANCHOR_END: timed_out

// ANCHOR: would_block
/// Reads from a non-blocking socket that has no data yet: `WouldBlock`, at once.
pub fn provoke_would_block(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let (mut client, _server) = loopback_pair()?;
    client
        .set_nonblocking(true)
        .map_err(failed("switch to non-blocking mode"))?;
    log("connected; reading from a non-blocking socket before the peer wrote anything".into());
    let mut buf = [0u8; 64];
    client.read(&mut buf).map_err(failed("read"))?;
    Ok(())
}
// ANCHOR_END: would_block

// ANCHOR: reset
/// Reads from a connection whose peer aborted it: with `SO_LINGER` set to zero, closing a socket
/// sends RST instead of FIN, and the reader gets `ConnectionReset` instead of end of stream.
pub fn provoke_reset(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let (mut client, server) = loopback_pair()?;
    client
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(failed("set a read timeout"))?;
    SockRef::from(&server)
        .set_linger(Some(Duration::ZERO))
        .map_err(failed("set SO_LINGER"))?;
    drop(server);
    log("connected; the server side closed with SO_LINGER 0 (a reset); reading".into());
    let mut buf = [0u8; 64];
    client.read(&mut buf).map_err(failed("read"))?;
    Ok(())
}
// ANCHOR_END: reset

// ANCHOR: is_timeout
/// True for the errors a timed-out read or write returns: `WouldBlock` on Unix, `TimedOut` on
/// Windows.
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
// ANCHOR_END: is_timeout

// ANCHOR: permission_denied
/// Binds port 80. On Unix, ports below 1024 need privileges (root, `CAP_NET_BIND_SERVICE`, or a
/// lowered `net.ipv4.ip_unprivileged_port_start` on Linux); without them: `PermissionDenied`.
pub fn provoke_permission_denied(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    log("binding 127.0.0.1:80, a privileged port".into());
    TcpListener::bind("127.0.0.1:80").map_err(failed("bind 127.0.0.1:80"))?;
    log("bound it: this user may bind privileged ports (root, or a capability allows it)".into());
    Ok(())
}
// ANCHOR_END: permission_denied

// ANCHOR: hint
/// What to try next, for the error kinds a socket program meets most.
pub fn hint(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::ConnectionRefused => {
            "nothing listens on that address and port: is the server running, on that port and IP version?"
        }
        ErrorKind::AddrInUse => {
            "another socket holds this address: stop the other program, choose another port, or use port 0 to let the OS pick a free one"
        }
        ErrorKind::AddrNotAvailable => {
            "this machine has no such IP address: bind 127.0.0.1 (this machine only) or one that `ip address` lists"
        }
        ErrorKind::PermissionDenied => {
            "ports below 1024 are privileged on Unix: use a port from 1024 up, such as 7878"
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            "nothing arrived in time: after a read timeout the peer sent nothing (Unix reports it as `Resource temporarily unavailable`); on a non-blocking socket, wait until it is readable and try again"
        }
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            "the peer closed the connection abruptly (it crashed, or closed with data unread)"
        }
        _ => return None,
    })
}
// ANCHOR_END: hint

/// A loopback address where nothing listens: bound to learn a free port, then released.
fn free_port() -> Result<SocketAddr, SocketError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(failed("bind 127.0.0.1:0"))?;
    listener
        .local_addr()
        .map_err(failed("read the listener's address"))
}

/// A connected client and its server side, on loopback.
fn loopback_pair() -> Result<(TcpStream, TcpStream), SocketError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(failed("bind 127.0.0.1:0"))?;
    let addr = listener
        .local_addr()
        .map_err(failed("read the listener's address"))?;
    let client = TcpStream::connect(addr).map_err(failed(format!("connect to {addr}")))?;
    let (server, _) = listener.accept().map_err(failed("accept"))?;
    Ok((client, server))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(provoke: fn(&mut dyn FnMut(String)) -> Result<(), SocketError>) -> ErrorKind {
        provoke(&mut |_| {})
            .expect_err("the demonstration provokes an error")
            .source
            .kind()
    }

    #[test]
    fn each_demonstration_provokes_its_error() {
        assert_eq!(kind_of(provoke_refused), ErrorKind::ConnectionRefused);
        assert_eq!(kind_of(provoke_in_use), ErrorKind::AddrInUse);
        assert_eq!(kind_of(provoke_not_available), ErrorKind::AddrNotAvailable);
        assert_eq!(kind_of(provoke_would_block), ErrorKind::WouldBlock);
        assert_eq!(kind_of(provoke_reset), ErrorKind::ConnectionReset);
        let timeout = provoke_timed_out(&mut |_| {})
            .expect_err("times out")
            .source;
        assert!(is_timeout(&timeout), "{timeout:?}");
    }

    #[test]
    fn every_provoked_kind_has_a_hint() {
        for kind in [
            ErrorKind::ConnectionRefused,
            ErrorKind::AddrInUse,
            ErrorKind::AddrNotAvailable,
            ErrorKind::PermissionDenied,
            ErrorKind::TimedOut,
            ErrorKind::WouldBlock,
        ] {
            assert!(hint(kind).is_some(), "{kind:?} has no hint");
        }
        assert_eq!(hint(ErrorKind::Other), None);
    }
}
