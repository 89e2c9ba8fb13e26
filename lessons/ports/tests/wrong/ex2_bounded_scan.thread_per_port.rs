// A plausible attempt that is correct and fast, but starts one thread per port: a scan of
// 65,535 ports would start 65,535 threads and open as many sockets at once.
//! Must fail: never_more_than_concurrency_at_once

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

pub fn scan(ip: IpAddr, ports: &[u16], _concurrency: usize, timeout: Duration) -> Vec<u16> {
    let mut open: Vec<u16> = thread::scope(|s| {
        let tries: Vec<_> = ports
            .iter()
            .map(|&port| {
                s.spawn(move || {
                    TcpStream::connect_timeout(&SocketAddr::new(ip, port), timeout)
                        .ok()
                        .map(|_| port)
                })
            })
            .collect();
        tries
            .into_iter()
            .filter_map(|t| t.join().ok().flatten())
            .collect()
    });
    open.sort_unstable();
    open
}
