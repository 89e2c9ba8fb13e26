//! Lesson 2: TCP.
//!
//! In the order the chapter meets them:
//! - [`stream`]: demonstrations that TCP is a byte stream.
//! - [`connection`]: refused vs timed out, and TIME-WAIT, seen from the code.
//! - [`client`]: the client (it also talks to the seed tutorial's Python server).
//! - [`server`]: an echo server for many clients, with bounded cost per client.
//! - [`shutdown`]: stopping a blocking server cleanly.
//! - [`framing`]: finding messages in a byte stream (lines, length prefixes), sans-IO.
//! - [`nagle`]: the stall of small writes under Nagle's algorithm and delayed ACK.
//! - [`bulk`]: bulk transfer throughput and the buffer size.

pub mod bulk;
pub mod client;
pub mod connection;
pub mod framing;
pub mod nagle;
pub mod server;
pub mod shutdown;
pub mod stream;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

// ANCHOR: helpers
/// A read or write that gave up because its timeout expired: `WouldBlock` on Unix, `TimedOut`
/// on Windows. (The Sockets lesson has the same function; each lesson stands alone.)
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Where to connect to reach a listener bound to `addr`: loopback for the unspecified address.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => (Ipv4Addr::LOCALHOST, a.port()).into(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => (Ipv6Addr::LOCALHOST, a.port()).into(),
        _ => addr,
    }
}
/// Resolves `HOST:PORT` into every address it names, as the Sockets lesson does: an IP literal
/// directly, a name through the system resolver.
pub fn resolve(target: &str) -> anyhow::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|source| ResolveError {
            target: target.to_string(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        anyhow::bail!(ResolveError {
            target: target.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "the name has no addresses"),
        });
    }
    Ok(addrs)
}

/// A target that did not resolve: malformed text, or a name the resolver does not know.
#[derive(Debug)]
pub struct ResolveError {
    pub target: String,
    pub source: io::Error,
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not resolve {:?}", self.target)
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

// ANCHOR_END: helpers
