//! Exercise 2: Connect to the first address that answers (solution).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

// ANCHOR: solution
pub fn connect_first(addrs: &[SocketAddr], timeout: Duration) -> io::Result<TcpStream> {
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")
    }))
}
// ANCHOR_END: solution
