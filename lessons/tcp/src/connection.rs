//! Opening and closing, seen from the code: a refused connect against one that times out, a
//! listener's accept queue, and the TIME-WAIT state that keeps a port busy after a close.

use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// How long the timeout demonstration waits for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

// ANCHOR: refused_vs_timeout
/// A closed port answers at once with RST: *refused*. A destination that never answers
/// leaves the SYN unacknowledged until `connect_timeout` gives up: *timed out*. Without a
/// timeout, the OS would retry the SYN for about two minutes (Linux:
/// `net.ipv4.tcp_syn_retries`).
pub fn refused_vs_timeout(out: &mut dyn Write) -> io::Result<()> {
    let closed = {
        let probe = TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?
    }; // bound, then dropped: nothing listens there now
    report(out, "a port where nothing listens", closed)?;

    let (silent, _keep_alive) = silent_listener()?;
    report(out, "a listener whose queue is full", silent)
}

fn report(out: &mut dyn Write, what: &str, addr: SocketAddr) -> io::Result<()> {
    let started = Instant::now();
    match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
        Ok(_) => writeln!(out, "{what}: connected (unexpectedly)"),
        Err(e) => writeln!(
            out,
            "{what}: {:?} after {:.1?}\n  {e}",
            e.kind(),
            started.elapsed()
        ),
    }
}

/// A loopback listener that never answers new connections: its accept queue (backlog 0) is full,
/// and Linux drops a SYN that finds the queue full. Keep the returned sockets alive while it must
/// stay silent.
fn silent_listener() -> io::Result<(SocketAddr, (Socket, Vec<TcpStream>))> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    listener.listen(0)?;
    let addr = listener
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("the listener has no IP address"))?;
    let mut queued = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => queued.push(stream),
            Err(e) if e.kind() == ErrorKind::TimedOut => return Ok((addr, (listener, queued))),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("the listener's queue never filled up"))
}
// ANCHOR_END: refused_vs_timeout

// ANCHOR: backlog
/// A listener that never accepts. Its kernel completes every handshake anyway and keeps
/// the new connection in the listener's *accept queue*, for `accept` to take. `backlog`
/// bounds that queue; once it is full, Linux drops new SYNs, and their connects time out.
pub fn listen_with_backlog(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let listener = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    #[cfg(unix)]
    listener.set_reuse_address(true)?; // as TcpListener::bind does on Unix
    listener.bind(&addr.into())?;
    listener.listen(backlog)?;
    Ok(listener)
}

/// Connects `n` clients to `addr`, each given [`CONNECT_TIMEOUT`] to get through.
pub fn connect_clients(addr: SocketAddr, n: usize) -> Vec<io::Result<TcpStream>> {
    let connect = || TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT);
    (0..n).map(|_| connect()).collect()
}
// ANCHOR_END: backlog

// ANCHOR: time_wait
/// The side that closes first keeps the connection in TIME-WAIT for a while (RFC 9293:
/// 4 minutes; Linux: 60 seconds). A server that closed first and restarts finds its port
/// still taken, unless it sets `SO_REUSEADDR` (which `TcpListener::bind` does on Unix).
pub fn time_wait(out: &mut dyn Write) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let client = TcpStream::connect(addr)?;
    let (server_side, _) = listener.accept()?;
    drop(server_side); // the server closes first: FIN from the server
    drop(client); // then the client: the server's side of the connection enters TIME-WAIT
    drop(listener); // the server "stops"
    writeln!(
        out,
        "the server closed a connection first, then stopped listening on {addr}"
    )?;

    for reuse in [false, true] {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_reuse_address(reuse)?;
        let result = socket.bind(&addr.into()).and_then(|()| socket.listen(128));
        let how = if reuse {
            "with SO_REUSEADDR"
        } else {
            "without SO_REUSEADDR"
        };
        match result {
            Ok(()) => writeln!(out, "listening there again {how}: works")?,
            Err(e) => writeln!(out, "listening there again {how}: {e}")?,
        }
    }
    Ok(())
}
// ANCHOR_END: time_wait
