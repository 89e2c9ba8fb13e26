//! Exercise 1: Ask until you get an answer.
//!
//! The reference solution. The chapter shows the part between the anchors.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The wait for a reply to the first send; each retry waits twice as long.
pub const FIRST_TIMEOUT: Duration = Duration::from_millis(100);
/// How many times to send the request, the first included.
pub const ATTEMPTS: u32 = 5;

// ANCHOR: solution
pub fn request(
    socket: &UdpSocket,
    server: SocketAddr,
    id: u32,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    // Only the server's datagrams reach a connected socket.
    socket.connect(server)?;
    let mut datagram = id.to_be_bytes().to_vec();
    datagram.extend_from_slice(payload);
    let mut buf = vec![0u8; 65_536];
    let mut timeout = FIRST_TIMEOUT;
    for _ in 0..ATTEMPTS {
        socket.send(&datagram)?;
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => return Err(e),
            };
            // A reply to another request, or a scrap: not ours, keep waiting.
            if n >= 4 && buf[..4] == id.to_be_bytes() {
                return Ok(buf[4..n].to_vec());
            }
        }
        timeout *= 2;
    }
    Err(io::Error::new(
        ErrorKind::TimedOut,
        "no reply after every attempt",
    ))
}
// ANCHOR_END: solution
