//! What a port is, shown on loopback.
//!
//! A port is a 16-bit number in the TCP and UDP headers (RFC 9293 §3.1, RFC 768). It does not
//! name a program. The kernel finds the socket a segment belongs to by the protocol and both
//! ends' addresses and ports: the *4-tuple* (with the protocol, a 5-tuple). So one listening
//! port serves any number of connections, and TCP port 53 and UDP port 53 are two sockets.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};

// ANCHOR: four_tuple
/// Three clients connect to one listening port: three connections, one port on the server's
/// side, told apart by the clients' ports.
pub fn four_tuple(out: &mut impl Write) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    writeln!(out, "one listener on {addr}")?;
    let clients = (0..3)
        .map(|_| TcpStream::connect(addr))
        .collect::<io::Result<Vec<_>>>()?;
    for i in 0..clients.len() {
        // The server's view of each connection is the client's, mirrored.
        let (served, _) = listener.accept()?;
        writeln!(
            out,
            "connection {}: tcp {} -> {}",
            i + 1,
            served.peer_addr()?,
            served.local_addr()?
        )?;
    }
    writeln!(
        out,
        "the same server port three times: each connection is the 4-tuple\n\
         (source address, source port, destination address, destination port)"
    )?;
    Ok(())
}
// ANCHOR_END: four_tuple

// ANCHOR: same_number
/// Binds one port number over TCP and over UDP at once, and talks to each.
pub fn same_number(out: &mut impl Write) -> io::Result<()> {
    let tcp = TcpListener::bind("127.0.0.1:0")?;
    let addr = tcp.local_addr()?;
    let udp = UdpSocket::bind(addr)?; // the same address and port, another protocol
    writeln!(out, "bound tcp {addr} and udp {}", udp.local_addr()?)?;

    let mut client = TcpStream::connect(addr)?;
    let (mut served, _) = tcp.accept()?;
    client.write_all(b"over tcp")?;
    let mut buf = [0u8; 64];
    let n = served.read(&mut buf)?;
    writeln!(
        out,
        "tcp socket received {:?}",
        String::from_utf8_lossy(&buf[..n])
    )?;

    let sender = UdpSocket::bind("127.0.0.1:0")?;
    sender.send_to(b"over udp", addr)?;
    let (n, _) = udp.recv_from(&mut buf)?;
    writeln!(
        out,
        "udp socket received {:?}",
        String::from_utf8_lossy(&buf[..n])
    )?;

    match TcpListener::bind(addr) {
        Err(e) => writeln!(out, "a second tcp listener on {addr}: {e}")?,
        Ok(_) => writeln!(out, "a second tcp listener on {addr}: bound, unexpectedly")?,
    }
    Ok(())
}
// ANCHOR_END: same_number

// ANCHOR: ephemeral
/// Port 0 and the ports clients get: both from the system's ephemeral range.
pub fn ephemeral(out: &mut impl Write) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    writeln!(out, "bound port 0, got {}", listener.local_addr()?)?;
    for i in 1..=3 {
        let client = TcpStream::connect(listener.local_addr()?)?;
        writeln!(out, "client {i} connects from {}", client.local_addr()?)?;
    }
    match ephemeral_range() {
        Some((first, last)) => writeln!(
            out,
            "this system's ephemeral range, from /proc/sys/net/ipv4/ip_local_port_range:\n  \
             first {first} (varies by system)\n  last {last} (varies by system)\n\
             IANA suggests 49152 to 65535 (RFC 6335, section 6)"
        )?,
        None => writeln!(out, "this system's ephemeral range could not be read here")?,
    }
    Ok(())
}

/// The first and last port of the range the system hands out for port 0 and to clients:
/// Linux's `net.ipv4.ip_local_port_range`. `None` where it cannot be read.
pub fn ephemeral_range() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut numbers = text.split_whitespace().map(str::parse::<u16>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(first)), Some(Ok(last))) => Some((first, last)),
        _ => None,
    }
}
// ANCHOR_END: ephemeral

#[cfg(test)]
mod tests {
    use super::*;

    fn run(demo: fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        demo(&mut out).expect("the demonstration runs on loopback");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn three_connections_share_the_server_port() {
        let text = run(four_tuple);
        let server_ports: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("connection "))
            .filter_map(|l| l.rsplit(':').next())
            .collect();
        assert_eq!(server_ports.len(), 3, "{text}");
        assert!(server_ports.iter().all(|p| *p == server_ports[0]), "{text}");
    }

    #[test]
    fn tcp_and_udp_hold_the_same_number() {
        let text = run(same_number);
        assert!(text.contains("tcp socket received \"over tcp\""), "{text}");
        assert!(text.contains("udp socket received \"over udp\""), "{text}");
        assert!(text.contains("Address already in use"), "{text}");
    }

    #[test]
    fn ephemeral_ports_fall_in_the_systems_range() {
        let Some((first, last)) = ephemeral_range() else {
            return; // not Linux: nothing to compare with
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(
            (first..=last).contains(&port),
            "{port} not in {first}-{last}"
        );
        assert!(run(ephemeral).contains("(varies by system)"));
    }
}
