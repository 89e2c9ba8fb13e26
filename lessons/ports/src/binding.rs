//! Binding a port: what fails, and what the options change. Each demonstration binds only
//! loopback addresses and ports the system chose.
//!
//! - [`in_use`]: a port in use is refused for an overlapping address (`0.0.0.0` overlaps
//!   `127.0.0.1`), not for another one.
//! - [`reuse`]: what `SO_REUSEADDR` and `SO_REUSEPORT` change. std sets the first on Unix
//!   listeners; socket2 sets neither.
//! - [`privileged`]: who may bind the ports below 1024 on this system, and why.
//! - [`interfaces`]: which addresses reach a listener on `127.0.0.1`, `0.0.0.0` and `[::]`.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, SockRef, Socket, Type};

/// What a bind returned, in a few words for a demonstration's output.
fn outcome<T>(result: io::Result<T>) -> String {
    match result {
        Ok(_) => "bound".to_string(),
        Err(e) => format!("{e}"),
    }
}

// ANCHOR: in_use
/// A second bind of a port in use fails for an overlapping address, and succeeds for another.
pub fn in_use(out: &mut impl Write) -> io::Result<()> {
    let first = TcpListener::bind("127.0.0.1:0")?;
    let port = first.local_addr()?.port();
    writeln!(out, "listening on 127.0.0.1:{port}")?;
    for addr in [
        SocketAddr::from(([127, 0, 0, 1], port)),
        SocketAddr::from(([0, 0, 0, 0], port)),
        SocketAddr::from(([127, 0, 0, 2], port)),
    ] {
        let result = TcpListener::bind(addr);
        writeln!(out, "  bind {addr}: {}", outcome(result))?;
    }
    writeln!(
        out,
        "0.0.0.0 means every address, 127.0.0.1 included: it overlaps. 127.0.0.2 is\n\
         another loopback address (on Linux all of 127.0.0.0/8 is), so it does not."
    )?;
    Ok(())
}
// ANCHOR_END: in_use

/// A listening socket made with socket2, with the reuse options chosen.
fn listener(addr: SocketAddr, reuse_address: bool, reuse_port: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(reuse_address)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(reuse_port)?;
    #[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
    let _ = reuse_port;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket)
}

// ANCHOR: reuse
/// What the two reuse options change for a second listener on the same port.
pub fn reuse(out: &mut impl Write) -> io::Result<()> {
    let std_listener = TcpListener::bind("127.0.0.1:0")?;
    let plain = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    writeln!(
        out,
        "SO_REUSEADDR on a std TcpListener: {}; on a new socket2 Socket: {}",
        SockRef::from(&std_listener).reuse_address()?,
        plain.reuse_address()?
    )?;
    drop(std_listener);

    let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    let first = listener(any, true, false)?;
    let addr = first
        .local_addr()?
        .as_socket()
        .ok_or(io::ErrorKind::Other)?;
    let second = listener(addr, true, false);
    writeln!(out, "two listeners on {addr}, both with SO_REUSEADDR:")?;
    writeln!(out, "  second bind: {}", outcome(second))?;
    drop(first);

    let first = listener(any, false, true)?;
    let addr = first
        .local_addr()?
        .as_socket()
        .ok_or(io::ErrorKind::Other)?;
    let second = listener(addr, false, true)?;
    writeln!(out, "two listeners on {addr}, both with SO_REUSEPORT:")?;
    writeln!(out, "  second bind: bound")?;
    let mut accepted = 0;
    for _ in 0..10 {
        let _client = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        accepted += usize::from(accept_one(&first)? || accept_one(&second)?);
    }
    writeln!(
        out,
        "  10 clients connected; the two listeners accepted {accepted} between them:\n  \
         the kernel picks one listener per connection, by a hash of its 4-tuple"
    )?;
    Ok(())
}

/// Accepts one waiting connection if there is one, without blocking.
fn accept_one(listener: &Socket) -> io::Result<bool> {
    listener.set_nonblocking(true)?;
    // On loopback the handshake is done when connect returns: the connection is already
    // waiting in one of the two queues.
    match listener.accept() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: reuse

// ANCHOR: privileged
/// Who may bind the ports below the system's threshold, and what happens here.
pub fn privileged(out: &mut impl Write) -> io::Result<()> {
    let threshold = unprivileged_port_start();
    match threshold {
        Some(0) => writeln!(out, "this system lets anyone bind any port (threshold 0)")?,
        Some(n) => writeln!(
            out,
            "ports below {n} (varies by system) need a privilege here: root, or the\n\
             capability CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start)"
        )?,
        None => writeln!(out, "no threshold to read here; most systems use 1024")?,
    }
    let port = threshold.unwrap_or(1024).clamp(1, 1024) - 1;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let privileged = may_bind_privileged();
    writeln!(
        out,
        "this process has CAP_NET_BIND_SERVICE: {}",
        match privileged {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown here",
        }
    )?;
    writeln!(out, "bind {addr}: {}", outcome(TcpListener::bind(addr)))?;
    Ok(())
}

/// Linux's `net.ipv4.ip_unprivileged_port_start`: the first port anyone may bind.
pub fn unprivileged_port_start() -> Option<u16> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").ok()?;
    text.trim().parse().ok()
}

/// Whether this process holds CAP_NET_BIND_SERVICE (capability 10) in its effective set,
/// read from `/proc/self/status`. `None` where that cannot be read.
pub fn may_bind_privileged() -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let effective = u64::from_str_radix(hex, 16).ok()?;
    Some(effective & (1 << 10) != 0)
}
// ANCHOR_END: privileged

// ANCHOR: interfaces
/// Listens on `127.0.0.1`, `0.0.0.0` and `[::]` in turn, and tries to reach each from
/// `127.0.0.1`, `127.0.0.2` and `[::1]`.
pub fn interfaces(out: &mut impl Write) -> io::Result<()> {
    let ipv6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok();
    let mut binds: Vec<SocketAddr> = vec![
        (Ipv4Addr::LOCALHOST, 0).into(),
        (Ipv4Addr::UNSPECIFIED, 0).into(),
    ];
    if ipv6 {
        binds.push((Ipv6Addr::UNSPECIFIED, 0).into());
    } else {
        writeln!(out, "(this machine has no IPv6 loopback: [::] is left out)")?;
    }
    for bind in binds {
        let listener = TcpListener::bind(bind)?;
        let port = listener.local_addr()?.port();
        writeln!(out, "listening on {}:", listener.local_addr()?)?;
        let mut froms = vec![
            SocketAddr::from(([127, 0, 0, 1], port)),
            SocketAddr::from(([127, 0, 0, 2], port)),
        ];
        if ipv6 {
            froms.push((Ipv6Addr::LOCALHOST, port).into());
        }
        for to in froms {
            let result = TcpStream::connect_timeout(&to, Duration::from_secs(2));
            let seen = match &result {
                Ok(_) => match listener.accept() {
                    Ok((_, peer)) => format!("connected; the server sees {}", peer.ip()),
                    Err(e) => format!("connected, but accept failed: {e}"),
                },
                Err(e) => format!("{e}"),
            };
            writeln!(out, "  to {}: {seen}", to.ip())?;
        }
    }
    Ok(())
}
// ANCHOR_END: interfaces

#[cfg(test)]
mod tests {
    use super::*;

    fn run(demo: fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        demo(&mut out).expect("the demonstration runs on loopback");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn an_overlapping_bind_is_refused_another_address_is_not() {
        let text = run(in_use);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("  bind ")).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("Address already in use"), "{text}");
        assert!(lines[1].contains("Address already in use"), "{text}");
        assert!(lines[2].ends_with("bound"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reuseaddr_does_not_share_a_listening_port_reuseport_does() {
        let text = run(reuse);
        assert!(
            text.contains("std TcpListener: true; on a new socket2 Socket: false"),
            "{text}"
        );
        assert!(
            text.contains("second bind: Address already in use"),
            "{text}"
        );
        assert!(text.contains("accepted 10 between them"), "{text}");
    }

    #[test]
    fn loopback_only_is_reached_from_its_own_address_only() {
        let text = run(interfaces);
        let section = |head: &str| -> String {
            text.split("listening on ")
                .find(|s| s.starts_with(head))
                .unwrap_or_default()
                .to_string()
        };
        let loopback = section("127.0.0.1:");
        assert!(loopback.contains("to 127.0.0.1: connected"), "{text}");
        assert!(
            loopback.contains("to 127.0.0.2: Connection refused"),
            "{text}"
        );
        let any = section("0.0.0.0:");
        assert!(any.contains("to 127.0.0.2: connected"), "{text}");
    }
}
