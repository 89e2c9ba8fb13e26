//! Lesson 2: TCP.
//!
//! - [`bulk`]: bulk transfer throughput and the buffer size.
//! - [`connection`]: refused vs timed out, and TIME-WAIT, seen from the code.
//! - [`framing`]: finding messages in a byte stream (lines, length prefixes), sans-IO.
//! - [`server`]: an echo server for many clients, with bounded cost per client.
//! - [`client`]: the client that talks to it (or to the seed tutorial's Python server).
//! - [`shutdown`]: stopping a blocking server cleanly.
//! - [`stream`]: demonstrations that TCP is a byte stream.
//! - [`nagle`]: the stall of small writes under Nagle's algorithm and delayed ACK.

pub mod bulk;
pub mod client;
pub mod connection;
pub mod framing;
pub mod nagle;
pub mod server;
pub mod shutdown;
pub mod stream;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where to connect to reach a listener bound to `addr`: loopback for the unspecified address.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => (Ipv4Addr::LOCALHOST, a.port()).into(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => (Ipv6Addr::LOCALHOST, a.port()).into(),
        _ => addr,
    }
}
