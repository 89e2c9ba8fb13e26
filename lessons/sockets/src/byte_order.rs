//! Network byte order: multi-byte numbers travel most significant byte first, big-endian.

use std::net::SocketAddrV4;

// ANCHOR: wire_bytes
/// An IPv4 socket address as six bytes in network byte order (big-endian): the four
/// address bytes, then the port's two. In a packet the two parts travel apart, the
/// address in the IP header and the port in the TCP or UDP header; protocols that carry
/// an address inside a message, such as SOCKS5 (RFC 1928, section 4), put them side by
/// side like this.
pub fn wire_bytes(addr: SocketAddrV4) -> [u8; 6] {
    // octets() is already in network order: 127.0.0.1 -> 7f 00 00 01.
    let [a, b, c, d] = addr.ip().octets();
    let [hi, lo] = addr.port().to_be_bytes(); // 8080 = 0x1f90 -> 1f 90
    [a, b, c, d, hi, lo]
}
// ANCHOR_END: wire_bytes

// ANCHOR: misread
/// What a program gets if it reads a big-endian port with this machine's native order:
/// the classic bug in C code that forgets `ntohs`. On a little-endian machine, port 8080
/// reads back as 36895.
pub fn misread_port(port: u16) -> u16 {
    u16::from_ne_bytes(port.to_be_bytes())
}
// ANCHOR_END: misread

/// `little-endian` or `big-endian`: the order this machine keeps numbers in memory.
pub fn native_order() -> &'static str {
    if cfg!(target_endian = "little") {
        "little-endian"
    } else {
        "big-endian"
    }
}

/// Bytes as lowercase hex pairs: `7f 00 00 01`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_8080_on_the_wire() {
        let addr: SocketAddrV4 = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(wire_bytes(addr), [0x7f, 0, 0, 1, 0x1f, 0x90]);
        assert_eq!(hex(&wire_bytes(addr)), "7f 00 00 01 1f 90");
    }

    #[test]
    fn misreading_swaps_bytes_on_little_endian_machines() {
        let expected = if cfg!(target_endian = "little") {
            0x901f
        } else {
            0x1f90
        };
        assert_eq!(misread_port(0x1f90), expected);
        assert_eq!(
            misread_port(0x0101),
            0x0101,
            "a palindrome survives either order"
        );
    }
}
