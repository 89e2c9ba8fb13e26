//! Exercise 1: Ask until you get an answer.
//!
//! Write `request`: send `payload` to the echo server at `server` from `socket`, and return
//! the payload of its reply, however the network treats the datagrams.
//!
//! - The request is one datagram: `id` as 4 bytes in network byte order (big-endian), then
//!   `payload`. The server's reply starts with the same 4 bytes; return what follows them.
//! - Wait `FIRST_TIMEOUT` for a reply to the first send. No reply: send the same datagram
//!   again and wait twice as long (100, 200, 400, 800 ms...). Send at most `ATTEMPTS`
//!   times, then return an error of kind `ErrorKind::TimedOut`.
//! - Ignore, and keep waiting for the right reply: a reply with another id (it answers an
//!   earlier request, or is a duplicate), a datagram too short to hold an id, and any
//!   datagram that does not come from `server`.
//!
//! Check your work: `cargo exercise udp ex1`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// The wait for a reply to the first send; each retry waits twice as long.
pub const FIRST_TIMEOUT: Duration = Duration::from_millis(100);
/// How many times to send the request, the first included.
pub const ATTEMPTS: u32 = 5;

pub fn request(
    socket: &UdpSocket,
    server: SocketAddr,
    id: u32,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    todo!(
        "send request {id} ({} bytes) to {server} from {:?}, with retries",
        payload.len(),
        socket.local_addr()
    )
}
