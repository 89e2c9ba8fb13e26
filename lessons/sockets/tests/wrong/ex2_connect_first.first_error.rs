//! Wrong on purpose, exercise 2: Connect to the first address that answers, returning the first error instead of
//! the last.
//!
//! Must fail: returns_the_last_error_when_all_fail

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub fn connect_first(addrs: &[SocketAddr], timeout: Duration) -> io::Result<TcpStream> {
    let mut first_error = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses")))
}
