//! Lesson 2: TCP.
//!
//! In the order the chapter meets them:
//! - [`stream`]: demonstrations that TCP is a byte stream.
//! - [`connection`]: refused vs timed out, the accept queue, and TIME-WAIT, seen from the code.
//! - [`framing`]: finding messages in a byte stream (lines, length prefixes), sans-IO, in
//!   linear time.
//! - [`client`]: the client (it also talks to the seed tutorial's Python server), and the
//!   helpers below, which it meets first.
//! - [`server`]: an echo server for many clients, with bounded cost per client.
//! - [`shutdown`]: stopping a blocking server cleanly.
//! - [`nagle`]: the stall of small writes under Nagle's algorithm and delayed ACK, and
//!   two fixes.
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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

// ANCHOR: helpers
/// A read or write that gave up because its timeout expired: `WouldBlock` on Unix,
/// `TimedOut` on Windows. (The Sockets lesson has the same function; each lesson stands
/// alone.)
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Where to connect to reach a listener bound to `addr`: loopback for the unspecified
/// address.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    if !addr.ip().is_unspecified() {
        return addr;
    }
    let loopback: IpAddr = match addr {
        SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(loopback, addr.port())
}

/// Resolves `HOST:PORT` into every address it names, as the Sockets lesson does: an IP
/// literal directly, a name through the system resolver.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachable_replaces_only_the_unspecified_address() {
        let v4: SocketAddr = "0.0.0.0:7878".parse().expect("v4");
        let v6: SocketAddr = "[::]:7878".parse().expect("v6");
        assert_eq!(reachable(v4), "127.0.0.1:7878".parse().expect("loopback"));
        assert_eq!(reachable(v6), "[::1]:7878".parse().expect("loopback"));
        for kept in ["192.0.2.1:80", "[::1]:80", "[fe80::1%2]:80"] {
            let addr: SocketAddr = kept.parse().expect("an address");
            assert_eq!(reachable(addr), addr, "{kept}");
        }
    }
}
