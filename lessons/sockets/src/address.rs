//! Socket addresses: an IP address plus a port, and turning `host:port` text into them.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

// ANCHOR: resolve
/// Resolves `target` (`HOST:PORT`) into every socket address it names, in the order the
/// system resolver returns them. `HOST` is an IPv4 address, a bracketed IPv6 address or a
/// name.
pub fn resolve(target: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    // `to_socket_addrs` parses IP literals itself and asks the system resolver
    // (getaddrinfo on Unix) for names: /etc/hosts first, then DNS.
    let addrs: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|source| ResolveError {
            target: target.to_string(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        let source = io::Error::new(io::ErrorKind::NotFound, "the name has no addresses");
        return Err(ResolveError {
            target: target.to_string(),
            source,
        });
    }
    Ok(addrs)
}
// ANCHOR_END: resolve

// ANCHOR: describe
/// One line describing an address: which family, which IP, which port.
pub fn describe(addr: &SocketAddr) -> String {
    let family = match addr {
        SocketAddr::V4(_) => "IPv4",
        SocketAddr::V6(_) => "IPv6",
    };
    // `to_canonical` turns an IPv4-mapped address (::ffff:127.0.0.1) into plain IPv4.
    let scope = match addr.ip().to_canonical() {
        ip if ip.is_loopback() => "loopback: this machine only",
        ip if ip.is_unspecified() => "unspecified: every interface",
        IpAddr::V6(v6) if v6.is_unicast_link_local() => "link-local: this link only",
        _ => "reachable beyond this machine, if routed",
    };
    format!(
        "{family}  ip {:<15}  port {:<5}  ({scope})",
        addr.ip(),
        addr.port()
    )
}
// ANCHOR_END: describe

/// A target that did not resolve: malformed text, or a name the resolver does not know.
#[derive(Debug)]
pub struct ResolveError {
    pub target: String,
    pub source: io::Error,
}

impl ResolveError {
    /// True when the text is not `HOST:PORT` at all, rather than a name with no address.
    pub fn is_malformed(&self) -> bool {
        self.source.kind() == io::ErrorKind::InvalidInput
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {:?}", self.target)
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        assert_eq!(
            resolve("127.0.0.1:7878").expect("literal"),
            ["127.0.0.1:7878".parse().expect("addr")]
        );
        assert_eq!(
            resolve("[::1]:80").expect("literal"),
            ["[::1]:80".parse().expect("addr")]
        );
    }

    #[test]
    fn localhost_resolves_to_loopback_only() {
        // RFC 6761 section 6.3: "localhost" names loopback addresses (some add ::1).
        let addrs = resolve("localhost:7878").expect("localhost resolves");
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 7878),
            "{addrs:?}"
        );
    }

    #[test]
    fn text_without_a_port_is_malformed() {
        let err = resolve("127.0.0.1").expect_err("no port");
        assert!(err.is_malformed(), "{err}");
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
    }

    #[test]
    fn describe_names_family_and_scope() {
        let v6: SocketAddr = "[::1]:80".parse().expect("addr");
        assert!(
            describe(&v6).starts_with("IPv6  ip ::1"),
            "{}",
            describe(&v6)
        );
        assert!(describe(&v6).contains("loopback"));
        let any: SocketAddr = "0.0.0.0:80".parse().expect("addr");
        assert!(describe(&any).contains("every interface"));
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:80".parse().expect("addr");
        assert!(
            describe(&mapped).contains("loopback"),
            "{}",
            describe(&mapped)
        );
        let link: SocketAddr = "[fe80::1]:80".parse().expect("addr");
        assert!(
            describe(&link).contains("link-local"),
            "{}",
            describe(&link)
        );
    }
}
