//! Exercise 2: Connect to the first address that answers.
//!
//! A name such as `localhost` often resolves to several addresses (`::1` and `127.0.0.1`).
//! Try `addrs` in order, waiting at most `timeout` for each, and return the first connection that
//! succeeds. If none does, return the last error; if `addrs` is empty, return an error of kind
//! `InvalidInput`. Do not panic.
//!
//! Check your work: `cargo exercise sockets ex2`.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub fn connect_first(addrs: &[SocketAddr], timeout: Duration) -> io::Result<TcpStream> {
    todo!(
        "connect to the first of {} addresses that answers",
        addrs.len()
    )
}
