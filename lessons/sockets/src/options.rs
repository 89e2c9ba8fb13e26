//! Socket options: what `std::net` sets for you, what it lets you change, and what needs `socket2`.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

/// One option's name and its current value, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
}

fn setting(name: &'static str, value: impl Into<String>) -> Setting {
    Setting {
        name,
        value: value.into(),
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Buffer sizes depend on the OS and its settings; the output says so, and the book's transcript
/// checker knows that `(varies by system)` values differ from machine to machine.
fn bytes_varying(n: usize) -> String {
    format!("{n} bytes (varies by system)")
}

// ANCHOR: listener_options
/// The options of a listener made by `std::net::TcpListener::bind`.
pub fn listener_settings(listener: &TcpListener) -> io::Result<Vec<Setting>> {
    let sock = SockRef::from(listener); // borrow the socket; socket2 reads what std cannot
    Ok(vec![
        setting("SO_REUSEADDR", on_off(sock.reuse_address()?)),
        setting("SO_RCVBUF", bytes_varying(sock.recv_buffer_size()?)),
    ])
}
// ANCHOR_END: listener_options

// ANCHOR: stream_options
/// The options of a connected TCP stream.
pub fn stream_settings(stream: &TcpStream) -> io::Result<Vec<Setting>> {
    let sock = SockRef::from(stream);
    // The hop limit has a different name, and option, in IPv6.
    let hops = match stream.local_addr()? {
        SocketAddr::V4(_) => setting("IP_TTL", sock.ttl_v4()?.to_string()),
        SocketAddr::V6(_) => setting("IPV6_UNICAST_HOPS", sock.unicast_hops_v6()?.to_string()),
    };
    let timeout = match stream.read_timeout()? {
        Some(t) => format!("{t:?}"),
        None => "none (a read waits forever)".to_string(),
    };
    #[allow(unused_mut)] // only Linux and macOS add a row below
    let mut settings = vec![
        setting("TCP_NODELAY", on_off(stream.nodelay()?)), // std reads and sets it
        hops,                                              // std sets IP_TTL; socket2 reads both
        setting("read timeout", timeout),                  // std: SO_RCVTIMEO
        setting("SO_KEEPALIVE", on_off(sock.keepalive()?)), // socket2 only, from here on
        setting("SO_RCVBUF", bytes_varying(sock.recv_buffer_size()?)),
        setting("SO_SNDBUF", bytes_varying(sock.send_buffer_size()?)),
    ];
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    settings.push(setting(
        "TCP_KEEPIDLE",
        format!("{:?}", sock.tcp_keepalive_time()?),
    ));
    Ok(settings)
}
// ANCHOR_END: stream_options

// ANCHOR: tuned_listener
/// A listener built option by option with `socket2`, for what `TcpListener::bind` does not let
/// you choose: the backlog, buffer sizes and, for IPv6, whether IPv4 clients are accepted too.
pub fn tuned_listener(
    addr: SocketAddr,
    backlog: i32,
    recv_buffer: usize,
) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?; // rebind at once after a restart, despite TIME_WAIT
    // Set before listen() so that accepted connections inherit it. On Linux a fixed size also
    // turns off the kernel's automatic tuning of the receive buffer (tcp(7)).
    socket.set_recv_buffer_size(recv_buffer)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?; // IPv6 only: an explicit choice instead of the OS default
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?; // how many finished handshakes may wait for accept()
    Ok(socket.into())
}
// ANCHOR_END: tuned_listener

/// The settings that [`tuned_listener`] changed, read back from the socket.
pub fn tuned_settings(listener: &TcpListener) -> io::Result<Vec<Setting>> {
    let sock = SockRef::from(listener);
    let mut settings = vec![
        setting("SO_REUSEADDR", on_off(sock.reuse_address()?)),
        setting("SO_RCVBUF", bytes_varying(sock.recv_buffer_size()?)),
    ];
    if listener.local_addr()?.is_ipv6() {
        settings.push(setting("IPV6_V6ONLY", on_off(sock.only_v6()?)));
    }
    Ok(settings)
}

/// How long a connection may sit idle before keepalive probes start. The system default is
/// usually two hours (Linux: `net.ipv4.tcp_keepalive_time`), too late to be of use.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

// ANCHOR: tune_stream
/// Changes the options a client usually wants: no Nagle delay for small messages, a bounded wait
/// for reads, and keepalive probes, after a minute of silence, to notice a peer that vanished.
pub fn tune_stream(stream: &TcpStream, read_timeout: Duration) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(read_timeout))?;
    let keepalive = TcpKeepalive::new().with_time(KEEPALIVE_IDLE);
    SockRef::from(stream).set_tcp_keepalive(&keepalive)?; // also turns SO_KEEPALIVE on
    Ok(())
}
// ANCHOR_END: tune_stream

/// Formats settings one per line, indented, names aligned.
pub fn format_settings(settings: &[Setting]) -> String {
    settings
        .iter()
        .map(|s| format!("  {:<14}{}\n", s.name, s.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(settings: &'a [Setting], name: &str) -> &'a str {
        &settings
            .iter()
            .find(|s| s.name == name)
            .expect("setting present")
            .value
    }

    #[test]
    fn std_listeners_reuse_the_address_on_unix() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let settings = listener_settings(&listener).expect("readable");
        let expected = if cfg!(unix) { "on" } else { "off" };
        assert_eq!(value(&settings, "SO_REUSEADDR"), expected);
    }

    #[test]
    fn tuning_a_stream_is_visible_when_read_back() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let stream = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        assert_eq!(
            value(&stream_settings(&stream).expect("read"), "TCP_NODELAY"),
            "off"
        );
        tune_stream(&stream, Duration::from_secs(2)).expect("tune");
        let after = stream_settings(&stream).expect("read");
        assert_eq!(value(&after, "TCP_NODELAY"), "on");
        assert_eq!(value(&after, "SO_KEEPALIVE"), "on");
        assert_eq!(value(&after, "read timeout"), "2s");
    }

    #[test]
    fn a_tuned_ipv4_listener_accepts() {
        let listener =
            tuned_listener("127.0.0.1:0".parse().expect("addr"), 16, 64 * 1024).expect("tuned");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).expect("connect");
        listener.accept().expect("accept");
        assert_eq!(
            value(&tuned_settings(&listener).expect("read"), "SO_REUSEADDR"),
            "on"
        );
    }
}
