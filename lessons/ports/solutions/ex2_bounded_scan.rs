//! Exercise 2: Scan with a bounded number of connections.
//!
//! The reference solution. The chapter shows the part between the anchors.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

// ANCHOR: solution
pub fn scan(ip: IpAddr, ports: &[u16], concurrency: usize, timeout: Duration) -> Vec<u16> {
    let next = AtomicUsize::new(0); // the index of the next port to try, shared
    let open = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..concurrency.min(ports.len()) {
            s.spawn(|| {
                // Each worker takes the next untried port until there is none left.
                while let Some(&port) = ports.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let addr = SocketAddr::new(ip, port);
                    if TcpStream::connect_timeout(&addr, timeout).is_ok() {
                        open.lock().unwrap().push(port);
                    }
                }
            });
        }
    });
    let mut open = open.into_inner().unwrap();
    open.sort_unstable();
    open
}
// ANCHOR_END: solution
