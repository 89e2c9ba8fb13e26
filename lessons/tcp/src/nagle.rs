//! Nagle's algorithm meets delayed ACK: the ~40 ms stall of write-write-read exchanges.
//!
//! Nagle's algorithm (RFC 896; RFC 9293, section 3.7.4) holds back a small segment while
//! earlier data is unacknowledged. Delayed ACK (RFC 1122, section 4.2.3.2; RFC 9293,
//! section 3.8.6.3) lets the receiver wait before acknowledging, hoping to piggyback the
//! ACK on a reply. A client that sends one request in two small writes and then waits for
//! the reply gets both at once: its second write waits for an ACK, the server's ACK waits
//! for the rest of the request. On Linux the wait ends when the delayed-ACK timer fires,
//! after about 40 ms.

use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The request's two halves.
const HEADER: &[u8] = b"ab";
const BODY: &[u8] = b"cd";

/// How the client sends each request's header and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    /// Two writes, Nagle's algorithm on (the default): the body waits for the header's
    /// ACK.
    TwoWrites,
    /// Two writes with `TCP_NODELAY`: each write leaves at once, in a segment of its own.
    TwoWritesNoDelay,
    /// One `write_vectored` call with both, Nagle's algorithm on: one segment, nothing
    /// held.
    OneVectoredWrite,
}

// ANCHOR: exchange
/// Runs `exchanges` request/reply round trips over one loopback connection, sending each
/// request as `sending` says, and returns the average time per round trip.
pub fn average_round_trip(sending: Sending, exchanges: u32) -> io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || answer_requests(listener));

    let mut client = TcpStream::connect(addr)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    // TCP_NODELAY: every write leaves at once, without waiting for an ACK.
    client.set_nodelay(sending == Sending::TwoWritesNoDelay)?;
    let mut reply = [0u8; 1];
    let started = Instant::now();
    for _ in 0..exchanges {
        if sending == Sending::OneVectoredWrite {
            send_in_one_call(&mut client, HEADER, BODY)?;
        } else {
            client.write_all(HEADER)?;
            // With Nagle on, BODY is held back until HEADER is acknowledged.
            client.write_all(BODY)?;
        }
        client.read_exact(&mut reply)?;
    }
    let elapsed = started.elapsed();
    drop(client);
    server
        .join()
        .map_err(|_| io::Error::other("the server thread panicked"))??;
    Ok(elapsed / exchanges.max(1))
}

/// Reads 4-byte requests and answers each with one byte, until the client closes.
fn answer_requests(listener: TcpListener) -> io::Result<()> {
    let (mut conn, _) = listener.accept()?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = [0u8; 4];
    loop {
        match conn.read_exact(&mut request) {
            Ok(()) => conn.write_all(b"k")?,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: exchange

// ANCHOR: vectored
/// Sends `head` and `body` with one system call (`writev` on Unix), without first
/// copying them into one buffer: they leave together, so Nagle's algorithm has nothing to
/// hold back. Like `write`, `write_vectored` may take only part, so this loops until all
/// is sent.
pub fn send_in_one_call(out: &mut TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
    let mut parts = [IoSlice::new(head), IoSlice::new(body)];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        match out.write_vectored(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut parts, n), // drop what was sent
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
// ANCHOR_END: vectored

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_vectored_call_sends_header_and_body_in_order() {
        let (mut client, mut server) = crate::stream::pair().expect("a pair");
        send_in_one_call(&mut client, b"GET ", b"/index.html").expect("sent");
        drop(client);
        let mut got = Vec::new();
        server.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"GET /index.html");
    }

    #[test]
    fn a_vectored_write_larger_than_the_buffers_is_sent_whole() {
        // Several megabytes: `write_vectored` takes them in parts, and the loop sends the
        // rest.
        let (mut client, mut server) = crate::stream::pair().expect("a pair");
        let body = vec![7u8; 16 * 1024 * 1024];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            server.read_to_end(&mut got).map(|_| got)
        });
        send_in_one_call(&mut client, b"head", &body).expect("sent");
        drop(client);
        let got = reader.join().expect("no panic").expect("read");
        assert_eq!(got.len(), 4 + body.len());
        assert!(got.starts_with(b"head") && got[4..] == body[..]);
    }
}
