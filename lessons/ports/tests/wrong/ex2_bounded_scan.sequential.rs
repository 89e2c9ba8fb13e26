// A plausible attempt that is correct but tries one port after another: `concurrency` is
// ignored, and every silent port costs a whole timeout on its own.
//! Must fail: several_at_once_not_one_by_one

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

pub fn scan(ip: IpAddr, ports: &[u16], _concurrency: usize, timeout: Duration) -> Vec<u16> {
    let mut open: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|&port| TcpStream::connect_timeout(&SocketAddr::new(ip, port), timeout).is_ok())
        .collect();
    open.sort_unstable();
    open
}
