//! Exercise 1: Read an address off the wire (solution).

use std::net::{Ipv4Addr, SocketAddrV4};

// ANCHOR: solution
pub fn decode(bytes: &[u8]) -> Option<SocketAddrV4> {
    // A slice pattern checks the length and names the bytes in one step: no indexing, no panic.
    let &[a, b, c, d, hi, lo] = bytes else {
        return None;
    };
    Some(SocketAddrV4::new(
        Ipv4Addr::new(a, b, c, d),
        u16::from_be_bytes([hi, lo]),
    ))
}
// ANCHOR_END: solution
