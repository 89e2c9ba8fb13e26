// A plausible attempt with a bounded pool of workers that returns the open ports in the
// order it was given them, not from lowest to highest.
//! Must fail: returns_the_open_ports_from_lowest_to_highest

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

pub fn scan(ip: IpAddr, ports: &[u16], concurrency: usize, timeout: Duration) -> Vec<u16> {
    let next = AtomicUsize::new(0);
    let open = Mutex::new(vec![false; ports.len()]);
    thread::scope(|s| {
        for _ in 0..concurrency.min(ports.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&port) = ports.get(i) else { break };
                    if TcpStream::connect_timeout(&SocketAddr::new(ip, port), timeout).is_ok() {
                        open.lock().unwrap()[i] = true;
                    }
                }
            });
        }
    });
    let open = open.into_inner().unwrap();
    ports
        .iter()
        .zip(open)
        .filter(|(_, o)| *o)
        .map(|(&p, _)| p)
        .collect()
}
