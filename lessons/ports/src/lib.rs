//! Lesson 4: Ports.
//!
//! In the order the chapter meets them:
//! - [`port`]: what a port is: the 4-tuple, the same number over TCP and UDP, many connections
//!   to one listening port, and ephemeral ports.
//! - [`binding`]: what goes wrong when binding: a port in use, `SO_REUSEADDR` and
//!   `SO_REUSEPORT`, privileged ports, and who can reach `127.0.0.1`, `0.0.0.0` and `::`.
//! - [`services`]: service names and port numbers from the system's services database.
//! - [`listening`]: who is listening on this machine, read from the OS.
//! - [`spec`]: port specifications such as `20-25,80,443`.
//! - [`scan`]: a TCP connect scanner with bounded concurrency.

pub mod binding;
pub mod listening;
pub mod port;
pub mod scan;
pub mod services;
pub mod spec;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

// ANCHOR: helpers
/// A read or connect that gave up because its timeout expired: `WouldBlock` or `TimedOut`
/// depending on the system and the call. (The other lessons have the same function; each
/// lesson stands alone.)
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
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
