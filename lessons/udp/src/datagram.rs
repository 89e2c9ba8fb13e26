//! Demonstrations of what a datagram socket does, each on loopback and each in a few lines:
//!
//! - [`boundaries_kept`]: three sends arrive as three receives (TCP would merge them).
//! - [`connect_filters_and_refuses`]: `connect` on a UDP socket sets a default peer, drops
//!   datagrams from anyone else, and reports an ICMP "port unreachable" as
//!   `ConnectionRefused` on a later call; an unconnected socket hears nothing of it.
//! - [`truncation`]: a buffer smaller than the datagram silently cuts it, and on Linux
//!   `MSG_TRUNC` tells the real size.
//! - [`largest`]: the largest payload over IPv4 is 65,507 bytes; one byte more is refused.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::is_timeout;

/// How long a demonstration waits for a datagram that may never come.
const WAIT: Duration = Duration::from_millis(300);

/// Two sockets on loopback, each bound to a port the OS chose.
fn pair() -> io::Result<(UdpSocket, UdpSocket)> {
    let a = UdpSocket::bind("127.0.0.1:0")?;
    let b = UdpSocket::bind("127.0.0.1:0")?;
    b.set_read_timeout(Some(WAIT))?;
    Ok((a, b))
}

/// A loopback address where no socket is bound: bound once to learn a free port, then closed.
fn closed_port() -> io::Result<SocketAddr> {
    UdpSocket::bind("127.0.0.1:0")?.local_addr()
}

// ANCHOR: boundaries
/// Sends three datagrams, then reads three times: each read returns exactly one datagram.
pub fn boundaries_kept(out: &mut impl Write) -> io::Result<()> {
    let (sender, receiver) = pair()?;
    let to = receiver.local_addr()?;
    for message in ["one", "two", "three"] {
        sender.send_to(message.as_bytes(), to)?;
    }
    writeln!(out, "sent 3 datagrams: \"one\", \"two\", \"three\"")?;
    let mut buf = [0u8; 1500];
    for i in 1..=3 {
        let (n, from) = receiver.recv_from(&mut buf)?;
        let text = String::from_utf8_lossy(&buf[..n]);
        writeln!(out, "receive {i}: {n} bytes {text:?} from {from}")?;
    }
    writeln!(
        out,
        "each receive returned one whole datagram; TCP would have merged them\n\
         (compare: cargo run -p tcp -- stream merge)"
    )?;
    Ok(())
}
// ANCHOR_END: boundaries

// ANCHOR: connect
/// `connect` on a UDP socket sends no packet: it sets the default peer, so `send` and `recv`
/// need no address, and the kernel drops datagrams from any other address. It also lets the
/// kernel report an ICMP "port unreachable" from that peer on a later call.
pub fn connect_filters_and_refuses(out: &mut impl Write) -> io::Result<()> {
    let (peer, socket) = pair()?;
    let stranger = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(peer.local_addr()?)?;
    stranger.send_to(b"from a stranger", socket.local_addr()?)?;
    peer.send_to(b"from the peer", socket.local_addr()?)?;
    let mut buf = [0u8; 1500];
    let n = socket.recv(&mut buf)?;
    let text = String::from_utf8_lossy(&buf[..n]);
    writeln!(out, "connected to the peer; received only: {text:?}")?;

    let nobody = closed_port()?;
    socket.connect(nobody)?;
    let sent = socket.send(b"anyone there?")?;
    writeln!(out, "connected to {nobody}, where nothing listens")?;
    writeln!(
        out,
        "  send: Ok({sent}): the datagram left; nothing is known yet"
    )?;
    match socket.recv(&mut buf) {
        Err(e) => writeln!(out, "  recv: {:?}: {e}", e.kind())?,
        Ok(n) => writeln!(out, "  recv: Ok({n}), unexpected")?,
    }

    let unconnected = UdpSocket::bind("127.0.0.1:0")?;
    unconnected.set_read_timeout(Some(WAIT))?;
    unconnected.send_to(b"anyone there?", nobody)?;
    writeln!(out, "the same from an unconnected socket, with send_to:")?;
    match unconnected.recv_from(&mut buf) {
        Err(e) if is_timeout(&e) => writeln!(
            out,
            "  recv_from: timed out: the refusal is not reported to an\n  \
             unconnected socket (on Linux), so only a timeout tells you"
        )?,
        Err(e) => writeln!(out, "  recv_from: {:?}: {e}", e.kind())?,
        Ok((n, from)) => writeln!(out, "  recv_from: Ok({n}) from {from}, unexpected")?,
    }
    Ok(())
}
// ANCHOR_END: connect

// ANCHOR: truncation
/// A receive buffer smaller than the datagram: the rest is discarded, without an error.
pub fn truncation(out: &mut impl Write) -> io::Result<()> {
    let (sender, receiver) = pair()?;
    let to = receiver.local_addr()?;
    let datagram = [b'x'; 100];
    sender.send_to(&datagram, to)?;
    sender.send_to(b"next", to)?;
    let mut small = [0u8; 16];
    let (n, _) = receiver.recv_from(&mut small)?;
    writeln!(
        out,
        "sent 100 bytes, read into a 16-byte buffer: got {n} bytes, no error"
    )?;
    let (n, _) = receiver.recv_from(&mut small)?;
    let text = String::from_utf8_lossy(&small[..n]);
    writeln!(out, "the next read: {text:?}: the other 84 bytes are gone")?;
    #[cfg(target_os = "linux")]
    {
        sender.send_to(&datagram, to)?;
        let (real, kept) = peek_size_then_read(&receiver, &mut small)?;
        writeln!(
            out,
            "with MSG_PEEK | MSG_TRUNC (Linux): the datagram is {real} bytes, so read it\n\
             into a buffer that size: got {kept} bytes"
        )?;
    }
    Ok(())
}
// ANCHOR_END: truncation

// ANCHOR: msg_trunc
/// Linux: asks the size of the next datagram without taking it (`MSG_PEEK`), with
/// `MSG_TRUNC` making the call return the datagram's real length rather than the bytes
/// copied. Then reads it into a buffer of that size. Returns both sizes.
#[cfg(target_os = "linux")]
pub fn peek_size_then_read(socket: &UdpSocket, probe: &mut [u8]) -> io::Result<(usize, usize)> {
    use std::mem::MaybeUninit;
    let mut peek = vec![MaybeUninit::<u8>::uninit(); probe.len()];
    let flags = libc::MSG_PEEK | libc::MSG_TRUNC;
    let real = socket2::SockRef::from(socket).recv_with_flags(&mut peek, flags)?;
    let mut buf = vec![0u8; real];
    let (kept, _) = socket.recv_from(&mut buf)?;
    Ok((real, kept))
}
// ANCHOR_END: msg_trunc

// ANCHOR: largest
/// The largest UDP payload over IPv4: 65,535 (the IPv4 total length is 16 bits) minus a
/// 20-byte IPv4 header and the 8-byte UDP header.
pub const MAX_IPV4_PAYLOAD: usize = 65_535 - 20 - 8;

/// Sends the largest datagram IPv4 allows to itself, then one byte more.
pub fn largest(out: &mut impl Write) -> io::Result<()> {
    let (sender, receiver) = pair()?;
    let to = receiver.local_addr()?;
    let mut buf = vec![0u8; crate::MAX_DATAGRAM];
    let biggest = vec![b'x'; MAX_IPV4_PAYLOAD];
    sender.send_to(&biggest, to)?;
    let (n, _) = receiver.recv_from(&mut buf)?;
    writeln!(out, "sent {MAX_IPV4_PAYLOAD} bytes, received {n}")?;
    let too_big = vec![b'x'; MAX_IPV4_PAYLOAD + 1];
    match sender.send_to(&too_big, to) {
        Err(e) => writeln!(out, "sent {} bytes: {e}", too_big.len())?,
        Ok(n) => writeln!(out, "sent {} bytes: Ok({n}), unexpected", too_big.len())?,
    }
    Ok(())
}
// ANCHOR_END: largest

#[cfg(test)]
mod tests {
    use super::*;

    fn run(demo: fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        demo(&mut out).expect("the demonstration runs on loopback");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn three_sends_are_three_receives() {
        let text = run(boundaries_kept);
        assert!(text.contains("receive 1: 3 bytes \"one\""), "{text}");
        assert!(text.contains("receive 3: 5 bytes \"three\""), "{text}");
    }

    #[test]
    fn a_connected_socket_filters_and_hears_the_refusal() {
        let text = run(connect_filters_and_refuses);
        assert!(text.contains("received only: \"from the peer\""), "{text}");
        assert!(text.contains("recv: ConnectionRefused"), "{text}");
        assert!(text.contains("recv_from: timed out"), "{text}");
    }

    #[test]
    fn a_small_buffer_truncates_silently() {
        let text = run(truncation);
        assert!(text.contains("got 16 bytes, no error"), "{text}");
        assert!(text.contains("the next read: \"next\""), "{text}");
        #[cfg(target_os = "linux")]
        assert!(text.contains("the datagram is 100 bytes"), "{text}");
    }

    #[test]
    fn the_largest_ipv4_datagram_and_one_byte_more() {
        let text = run(largest);
        assert!(text.contains("sent 65507 bytes, received 65507"), "{text}");
        assert!(
            text.contains("sent 65508 bytes: Message too long"),
            "{text}"
        );
    }
}
