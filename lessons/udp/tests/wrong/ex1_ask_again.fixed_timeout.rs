// A plausible attempt that checks ids, but retries at a fixed interval: no backoff.
//! Must fail: waits_twice_as_long_before_each_retry

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
    socket.connect(server)?;
    let mut datagram = id.to_be_bytes().to_vec();
    datagram.extend_from_slice(payload);
    let mut buf = [0u8; 2048];
    socket.set_read_timeout(Some(FIRST_TIMEOUT))?;
    for _ in 0..ATTEMPTS {
        socket.send(&datagram)?;
        loop {
            match socket.recv(&mut buf) {
                Ok(n) if n >= 4 && buf[..4] == id.to_be_bytes() => return Ok(buf[4..n].to_vec()),
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => return Err(e),
            }
        }
    }
    Err(io::Error::new(ErrorKind::TimedOut, "no reply"))
}
