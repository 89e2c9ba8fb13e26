//! The life of a TCP connection's sockets, step by step, on loopback:
//!
//! ```text
//! server: socket -> bind -> listen -> accept ----> read / write -> close
//! client: socket ------------------> connect ----> read / write -> shutdown -> close
//! ```
//!
//! In Rust, `TcpListener::bind` does socket + bind + listen, `TcpStream::connect` does
//! socket + connect, and dropping the last handle to a socket closes it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::errors::{SocketError, failed};

/// No step of the walk may block longer than this; on loopback each takes microseconds.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the client sends.
pub const MESSAGE: &[u8] = b"hello\n";

/// Opens a listener on `bind_to`, connects a client to it, sends one line through, closes
/// the connection in order, and writes one line per step to `out`.
pub fn walk(bind_to: SocketAddr, out: &mut dyn Write) -> Result<(), SocketError> {
    // ANCHOR: say
    let mut say = |step: &str, what: String| {
        // If stdout is gone, no one is told; the walk itself still matters to the caller.
        let _ = writeln!(out, "{step:<24}{what}");
    };
    // ANCHOR_END: say

    // ANCHOR: listen
    // socket() + bind() + listen() in one call. Port 0 asks the OS for any free port.
    let listener = TcpListener::bind(bind_to).map_err(failed(format!("bind {bind_to}")))?;
    let server_addr = listener
        .local_addr()
        .map_err(failed("read the listener's address"))?;
    say("socket, bind, listen", format!("listener on {server_addr}"));
    // ANCHOR_END: listen

    // ANCHOR: connect
    // A listener on 0.0.0.0 or [::] listens on every interface; connect to one of them.
    let target = reachable(server_addr);
    // socket() + connect(): returns once the three-way handshake is complete.
    let mut client = TcpStream::connect_timeout(&target, STEP_TIMEOUT)
        .map_err(failed(format!("connect to {target}")))?;
    let client_addr = client
        .local_addr()
        .map_err(failed("read the client's address"))?;
    say(
        "socket, connect",
        format!("client {client_addr} connected to {target}"),
    );
    // ANCHOR_END: connect

    // ANCHOR: accept
    // accept() hands out a *new* socket for this connection; the listener listens on.
    let (mut server, peer) = listener.accept().map_err(failed("accept"))?;
    let server_local = server
        .local_addr()
        .map_err(failed("read the server side's address"))?;
    say("accept", format!("server side {server_local}, peer {peer}"));
    // ANCHOR_END: accept

    server
        .set_read_timeout(Some(STEP_TIMEOUT))
        .map_err(failed("set a read timeout"))?;

    // ANCHOR: exchange
    client.write_all(MESSAGE).map_err(failed("write"))?;
    let text = String::from_utf8_lossy(MESSAGE);
    say(
        "write",
        format!("client wrote {} bytes: {text:?}", MESSAGE.len()),
    );

    // One read() returns what has arrived so far: at least 1 byte, maybe fewer than were
    // sent. read_exact() reads until the buffer is full, or fails if the stream ends.
    let mut buf = [0u8; MESSAGE.len()];
    server.read_exact(&mut buf).map_err(failed("read"))?;
    let text = String::from_utf8_lossy(&buf);
    say(
        "read_exact",
        format!("server read {} bytes: {text:?}", buf.len()),
    );
    // ANCHOR_END: exchange

    // ANCHOR: shutdown
    // shutdown(Write) sends FIN: "I will send no more". The socket can still read.
    client
        .shutdown(Shutdown::Write)
        .map_err(failed("shut down the client's writing half"))?;
    say(
        "shutdown(Write)",
        "client sent FIN: it will write no more".into(),
    );

    // The peer sees the FIN as a read of 0 bytes: end of stream.
    let n = server
        .read(&mut buf)
        .map_err(failed("read after the shutdown"))?;
    say("read", format!("server read {n} bytes: end of stream"));
    // ANCHOR_END: shutdown

    // ANCHOR: close
    // Dropping a handle closes it (close() on Unix, closesocket() on Windows). The socket
    // itself closes with its last handle: a try_clone() of `client` would keep it open.
    drop(server);
    drop(client);
    drop(listener);
    say("close", "dropped server side, client and listener".into());
    // ANCHOR_END: close
    Ok(())
}

// ANCHOR: reachable
/// Where a client should connect to reach a listener bound to `addr`: the same port, and
/// loopback if the listener is on the unspecified address. 0.0.0.0 and [::] mean "every
/// interface"; as a destination, Linux and macOS treat them as loopback, Windows refuses.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}
// ANCHOR_END: reachable

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_goes_through_every_step_on_loopback() {
        let mut out = Vec::new();
        walk("127.0.0.1:0".parse().expect("addr"), &mut out).expect("loopback works");
        let out = String::from_utf8(out).expect("utf-8");
        for step in [
            "socket, bind, listen",
            "accept",
            "server read 6 bytes",
            "0 bytes: end of stream",
            "close",
        ] {
            assert!(out.contains(step), "missing {step:?} in:\n{out}");
        }
    }

    /// A connected client and the server side of its connection.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        (client, server)
    }

    #[test]
    fn a_clone_keeps_the_connection_open_after_a_drop() {
        let (client, mut server) = pair();
        let clone = client.try_clone().expect("a second handle");
        drop(client);
        // The clone still holds the socket: no FIN was sent, so the read times out.
        let err = server
            .read(&mut [0u8; 8])
            .expect_err("no end of stream yet");
        assert!(crate::errors::is_timeout(&err), "{err:?}");
        drop(clone);
        assert_eq!(server.read(&mut [0u8; 8]).expect("end of stream"), 0);
    }

    #[test]
    fn shutdown_acts_on_the_connection_whatever_other_handles_exist() {
        let (client, mut server) = pair();
        let clone = client.try_clone().expect("a second handle");
        client.shutdown(Shutdown::Write).expect("shutdown");
        assert_eq!(server.read(&mut [0u8; 8]).expect("end of stream"), 0);
        // The clone cannot write either: the connection's sending half is shut.
        assert!((&clone).write_all(b"x").is_err());
    }

    #[test]
    fn unspecified_addresses_are_reached_through_loopback() {
        assert_eq!(
            reachable("0.0.0.0:80".parse().expect("addr")),
            "127.0.0.1:80".parse().expect("addr")
        );
        assert_eq!(
            reachable("[::]:80".parse().expect("addr")),
            "[::1]:80".parse().expect("addr")
        );
        assert_eq!(
            reachable("127.0.0.1:80".parse().expect("addr")),
            "127.0.0.1:80".parse().expect("addr")
        );
    }
}
