// A plausible attempt that retries with backoff, but takes the first datagram that arrives
// as the answer: a late or duplicate reply, a scrap, or a stranger's datagram.
//! Must fail: ignores_a_reply_to_another_request, ignores_a_duplicate_of_the_last_reply, ignores_a_datagram_too_short, ignores_a_datagram_from_a_stranger

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

pub const FIRST_TIMEOUT: Duration = Duration::from_millis(100);
pub const ATTEMPTS: u32 = 5;

pub fn request(
    socket: &UdpSocket,
    server: SocketAddr,
    id: u32,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let mut datagram = id.to_be_bytes().to_vec();
    datagram.extend_from_slice(payload);
    let mut buf = [0u8; 2048];
    let mut timeout = FIRST_TIMEOUT;
    for _ in 0..ATTEMPTS {
        socket.send_to(&datagram, server)?;
        socket.set_read_timeout(Some(timeout))?;
        match socket.recv_from(&mut buf) {
            Ok((n, _)) => return Ok(buf[4.min(n)..n].to_vec()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        timeout *= 2;
    }
    Err(io::Error::new(ErrorKind::TimedOut, "no reply"))
}
