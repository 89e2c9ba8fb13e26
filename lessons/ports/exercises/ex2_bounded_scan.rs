//! Exercise 2: Scan with a bounded number of connections.
//!
//! Write `scan`: try a TCP connection to each of `ports` on `ip`, and return the ports where
//! the connection succeeded, from lowest to highest.
//!
//! - A connection that succeeds means an open port, even if the program there never calls
//!   `accept` or closes at once. A refused one means a closed port. One that gets no answer
//!   within `timeout` means a filtered port: give up on it after `timeout`, not later.
//! - Try up to `concurrency` ports at the same time (it is at least 1), never more: a fixed
//!   number of threads, each trying one port after another, not one thread per port. A
//!   thousand ports must not mean a thousand threads or a thousand sockets at once.
//!
//! Check your work: `cargo exercise ports ex2`.

use std::net::IpAddr;
use std::time::Duration;

pub fn scan(ip: IpAddr, ports: &[u16], concurrency: usize, timeout: Duration) -> Vec<u16> {
    todo!(
        "try {} ports of {ip}, {concurrency} at a time, each for at most {timeout:?}",
        ports.len()
    )
}
