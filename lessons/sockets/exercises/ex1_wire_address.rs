//! Exercise 1: Read an address off the wire.
//!
//! `bytes` holds an IPv4 socket address as a protocol message carries it: four address bytes,
//! then two port bytes, in network byte order. Return the address, or `None` if `bytes` is not
//! exactly six bytes long. Do not panic on bad input.
//!
//! Check your work: `cargo exercise sockets ex1`.

use std::net::SocketAddrV4;

pub fn decode(bytes: &[u8]) -> Option<SocketAddrV4> {
    todo!("decode {bytes:02x?} into an IPv4 socket address")
}
