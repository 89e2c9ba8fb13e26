//! Nagle's algorithm meets delayed ACK: the ~40 ms stall of write-write-read exchanges.
//!
//! Nagle's algorithm (RFC 896; RFC 9293, section 3.7.4) holds back a small segment while earlier
//! data is unacknowledged. Delayed ACK (RFC 1122, section 4.2.3.2; RFC 9293, section 3.8.6.3)
//! lets the receiver wait before acknowledging, hoping to piggyback the ACK on a reply. A client
//! that sends one request in two small writes and then waits for the reply gets both at once: its
//! second write waits for an ACK, the server's ACK waits for the rest of the request. On Linux the
//! wait ends when the delayed-ACK timer fires, after about 40 ms.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The request's two halves, written separately on purpose.
const HEADER: &[u8] = b"ab";
const BODY: &[u8] = b"cd";

// ANCHOR: exchange
/// Runs `exchanges` request/reply round trips over one loopback connection, each request written
/// in two small writes, and returns the average time per round trip.
pub fn average_round_trip(nodelay: bool, exchanges: u32) -> io::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || answer_requests(listener));

    let mut client = TcpStream::connect(addr)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    client.set_nodelay(nodelay)?; // true: send every write at once, never wait for an ACK
    let mut reply = [0u8; 1];
    let started = Instant::now();
    for _ in 0..exchanges {
        client.write_all(HEADER)?;
        client.write_all(BODY)?; // with Nagle on, held back until HEADER is acknowledged
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
