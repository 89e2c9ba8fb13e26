//! Lesson 3: UDP.
//!
//! In the order the chapter meets them:
//! - [`datagram`]: demonstrations of what a datagram socket does: boundaries kept, `connect`
//!   and the refusals it reports, truncation, the largest datagram.
//! - [`server`]: an echo server that answers every datagram, whatever it holds.
//! - [`relay`]: a relay that drops, duplicates, delays and reorders datagrams on purpose, so
//!   you can watch what UDP does not promise.
//! - [`client`]: a request/response client that survives loss: a request id, a timeout,
//!   retransmission with exponential backoff and jitter, and duplicate replies discarded.
//! - [`ping`]: a UDP ping built on the same request, with a summary like `ping`'s.
//! - [`dns`]: DNS, the binary protocol most UDP traffic carries: a sans-IO codec, a client
//!   and a tiny authoritative responder.
//! - [`shutdown`]: stopping a blocking UDP server cleanly.
//! - [`random`]: the small seeded generator behind the relay's faults and the client's jitter.

pub mod client;
pub mod datagram;
pub mod dns;
pub mod ping;
pub mod random;
pub mod relay;
pub mod server;
pub mod shutdown;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The largest datagram a socket can be asked to receive: a UDP length field is 16 bits
/// (RFC 768), so no datagram is longer than 65,535 bytes with its 8-byte header.
pub const MAX_DATAGRAM: usize = 65_536;

// ANCHOR: helpers
/// A read that gave up because its timeout expired: `WouldBlock` on Unix, `TimedOut` on
/// Windows. (The Sockets and TCP lessons have the same function; each lesson stands alone.)
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Where to send to reach a socket bound to `addr`: loopback for the unspecified address.
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

/// The unspecified address of `addr`'s family with port 0: where a client socket binds to
/// send to `addr` from a port the OS chooses.
pub fn any_port_for(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// Resolves `HOST:PORT` into every address it names: an IP literal directly, a name through
/// the system resolver.
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
// ANCHOR_END: helpers

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
