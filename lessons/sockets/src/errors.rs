//! The errors a socket program meets, provoked on purpose on loopback, and how to tell
//! them apart.
//!
//! Each `provoke_*` function does what a real program would do and returns the error it
//! ran into, so the command line reports it exactly as it would report a real failure.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

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

/// The address the "not available" demonstration binds. 192.0.2.1 is in TEST-NET-1,
/// reserved for documentation (RFC 5737 section 3): no machine owns it. Binding sends
/// nothing.
pub const FOREIGN_ADDR: &str = "192.0.2.1:0";

// ANCHOR: refused
/// Connects to a loopback port where nothing listens: the OS answers at once with a reset
/// (RST), which `connect` reports as `ConnectionRefused`.
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
/// Reads, with a read timeout, from a connection whose peer never writes: the read gives
/// up. The error kind is `WouldBlock` (EAGAIN) on Unix, and `TimedOut` on Windows.
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
    log("connected; reading from a non-blocking socket before the peer wrote".into());
    let mut buf = [0u8; 64];
    client.read(&mut buf).map_err(failed("read"))?;
    Ok(())
}
// ANCHOR_END: would_block

// ANCHOR: reset
/// Reads from a connection whose peer aborted it. With `SO_LINGER` set to zero, closing
/// a socket sends RST, not FIN, and the reader gets `ConnectionReset`, not end of stream.
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

// ANCHOR: broken_pipe
/// Writes to a connection whose peer has closed it. The first write is accepted and sent;
/// the peer's system has no socket left for it and answers with a reset (RST); the next
/// write fails with `BrokenPipe` (EPIPE). Rust ignores SIGPIPE: the process lives on.
pub fn provoke_broken_pipe(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    let (mut client, server) = loopback_pair()?;
    client
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(failed("set a read timeout"))?;
    drop(server); // an orderly close: FIN
    let n = client.read(&mut [0u8; 64]).map_err(failed("read"))?;
    log(format!(
        "connected; the server side closed (the client read {n} bytes)"
    ));
    client.write_all(b"hello?\n").map_err(failed("write"))?;
    log("first write accepted; the peer answers it with a reset; writing again".into());
    let deadline = Instant::now() + READ_TIMEOUT;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10)); // time for the reset to arrive
        client
            .write_all(b"hello?\n")
            .map_err(failed("write again"))?;
    }
    log(format!(
        "every write succeeded for {READ_TIMEOUT:?}: no reset arrived"
    ));
    Ok(())
}
// ANCHOR_END: broken_pipe

// ANCHOR: is_timeout
/// True for the errors a timed-out read or write returns: `WouldBlock` on Unix,
/// `TimedOut` on Windows.
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
// ANCHOR_END: is_timeout

// ANCHOR: permission_denied
/// Binds port 80. On Linux, ports below 1024 need a privilege: root, the capability
/// `CAP_NET_BIND_SERVICE`, or a lowered `net.ipv4.ip_unprivileged_port_start`. Without
/// it, binding fails with `PermissionDenied`.
pub fn provoke_permission_denied(log: &mut dyn FnMut(String)) -> Result<(), SocketError> {
    log("binding 127.0.0.1:80, a privileged port".into());
    TcpListener::bind("127.0.0.1:80").map_err(failed("bind 127.0.0.1:80"))?;
    log("bound it: this user may bind privileged ports (root, or a capability)".into());
    Ok(())
}
// ANCHOR_END: permission_denied

// ANCHOR: hint
/// What to try next, for the errors a socket program meets most.
pub fn hint(err: &io::Error) -> Option<&'static str> {
    if is_too_many_open_files(err) {
        return Some(
            "this process has as many files and sockets open as it may: close those it \
             no longer needs (a leak?), or raise the limit with `ulimit -n`",
        );
    }
    Some(match err.kind() {
        ErrorKind::ConnectionRefused => {
            "nothing listens on that address and port, or a firewall rejected the \
             connection: is the server running, on that port and IP version?"
        }
        ErrorKind::AddrInUse => {
            "another socket holds this address: stop the other program, choose another \
             port, or use port 0 to let the OS pick a free one"
        }
        ErrorKind::AddrNotAvailable => {
            "if binding: this machine has no such IP address; bind 127.0.0.1 or one \
             that `ip address` lists. If connecting: no local port is free, often \
             because many recent connections wait in TIME-WAIT; reuse connections"
        }
        ErrorKind::PermissionDenied => {
            "ports below 1024 are privileged on this system: use a port from 1024 up, \
             such as 7878"
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            "nothing arrived in time. After a read timeout, the peer sent nothing \
             (Unix calls it `Resource temporarily unavailable`). On a non-blocking \
             socket, wait until it is ready, then try again"
        }
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            "the peer aborted the connection (RST): it closed with data still unread, \
             or its host restarted and forgot the connection"
        }
        ErrorKind::BrokenPipe => {
            "the peer closed the connection and reads no more: stop writing to it"
        }
        ErrorKind::Interrupted => {
            "a signal interrupted the call before it did anything: call it again \
             (read_exact and write_all already do)"
        }
        ErrorKind::HostUnreachable => {
            "no route to that host: it may be down, or a router or firewall on the way \
             rejected the packets"
        }
        ErrorKind::NetworkUnreachable => {
            "this machine has no route to that network (an IPv6 address on an \
             IPv4-only network?): check the address and `ip route`"
        }
        _ => return None,
    })
}

/// EMFILE, "Too many open files": the process has reached its limit of file descriptors
/// (`ulimit -n`), and every socket is one. `std` gives it no `ErrorKind` of its own.
fn is_too_many_open_files(err: &io::Error) -> bool {
    const EMFILE: Option<i32> = if cfg!(any(target_os = "linux", target_os = "macos")) {
        Some(24)
    } else if cfg!(windows) {
        Some(10024) // WSAEMFILE
    } else {
        None
    };
    EMFILE.is_some_and(|code| err.raw_os_error() == Some(code))
}
// ANCHOR_END: hint

// ANCHOR: wrap
/// `label: text`, wrapped between words so that no line is longer than `width` characters
/// (a single longer word stays whole), later lines indented to where the text starts. A
/// short group in brackets, such as `(os error 11)`, is kept on one line.
pub fn wrap(label: &str, text: &str, width: usize) -> String {
    let indent = " ".repeat(label.chars().count() + 1);
    let mut lines = Vec::new();
    let mut line = format!("{label}:");
    let mut words_on_line = 0;
    for word in unbreakable_words(text) {
        if words_on_line > 0 && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            words_on_line = 0;
        }
        line.push(' ');
        line.push_str(&word);
        words_on_line += 1;
    }
    lines.push(line);
    lines.join("\n")
}
// ANCHOR_END: wrap

/// The words of `text`, with each short bracketed group of words joined into one.
fn unbreakable_words(text: &str) -> Vec<String> {
    const SHORT_GROUP: usize = 20;
    let mut words: Vec<String> = Vec::new();
    let mut group: Option<String> = None;
    for word in text.split_whitespace() {
        match group.take() {
            Some(mut open) => {
                open.push(' ');
                open.push_str(word);
                if open.chars().count() > SHORT_GROUP {
                    // Too long to keep together: its words may go on separate lines.
                    words.extend(open.split(' ').map(str::to_string));
                } else if word.ends_with(')') {
                    words.push(open);
                } else {
                    group = Some(open);
                }
            }
            None if word.starts_with('(') && !word.ends_with(')') => {
                group = Some(word.to_string());
            }
            None => words.push(word.to_string()),
        }
    }
    words.extend(group.iter().flat_map(|g| g.split(' ').map(str::to_string)));
    words
}
// ANCHOR_END: wrap

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
        assert_eq!(kind_of(provoke_broken_pipe), ErrorKind::BrokenPipe);
        let timeout = provoke_timed_out(&mut |_| {})
            .expect_err("times out")
            .source;
        assert!(is_timeout(&timeout), "{timeout:?}");
    }

    #[test]
    fn every_kind_in_the_chapter_has_a_hint() {
        for kind in [
            ErrorKind::ConnectionRefused,
            ErrorKind::AddrInUse,
            ErrorKind::AddrNotAvailable,
            ErrorKind::PermissionDenied,
            ErrorKind::TimedOut,
            ErrorKind::WouldBlock,
            ErrorKind::ConnectionReset,
            ErrorKind::BrokenPipe,
            ErrorKind::Interrupted,
            ErrorKind::HostUnreachable,
            ErrorKind::NetworkUnreachable,
        ] {
            assert!(hint(&kind.into()).is_some(), "{kind:?} has no hint");
        }
        assert_eq!(hint(&ErrorKind::Other.into()), None);
    }

    #[test]
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn too_many_open_files_has_a_hint() {
        let emfile = io::Error::from_raw_os_error(24);
        assert!(
            hint(&emfile).is_some_and(|h| h.contains("ulimit -n")),
            "{emfile}"
        );
    }

    #[test]
    fn an_address_hint_covers_bind_and_connect() {
        let hint = hint(&ErrorKind::AddrNotAvailable.into()).expect("a hint");
        assert!(
            hint.contains("If connecting") && hint.contains("if binding"),
            "{hint}"
        );
    }

    #[test]
    fn wrap_keeps_lines_short_and_indents_the_rest() {
        let text = "one two three four five six seven eight nine ten";
        assert_eq!(
            wrap("hint", text, 20),
            "hint: one two three\n      four five six\n      seven eight\n      nine ten"
        );
        assert_eq!(wrap("error", "short", 80), "error: short");
        // A short group in brackets stays together; a long one may break.
        assert_eq!(
            wrap(
                "error",
                "could not read: Resource unavailable (os error 11)",
                50
            ),
            "error: could not read: Resource unavailable\n       (os error 11)"
        );
        assert_eq!(
            wrap("hint", "a (b c d e f g h i j k) z", 12),
            "hint: a (b c\n      d e f\n      g h i\n      j k) z"
        );
        // A word longer than the line stays whole, on a line of its own.
        assert_eq!(
            wrap("e", "a abcdefghijklmnop b", 10),
            "e: a\n   abcdefghijklmnop\n   b"
        );
    }
}
