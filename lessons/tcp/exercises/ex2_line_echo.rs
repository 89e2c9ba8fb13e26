//! Exercise 2: A line echo server.
//!
//! Accept connections on `listener` forever and serve each client at the same time as the
//! others: read the bytes it sends, and each time a line is complete (it ends with `\n`),
//! send that line back, `\n` included. When the client shuts down its sending side (your
//! read returns `Ok(0)`), close the connection. Bytes may arrive one at a time or many
//! lines at once; a client that stays silent must not keep the others waiting, and a
//! client that sends a line without end must not make you buffer it without end: close
//! its connection once the line is too long.
//!
//! Check your work: `cargo exercise tcp ex2`.

use std::io;
use std::net::TcpListener;

pub fn serve(listener: TcpListener) -> io::Result<()> {
    todo!(
        "echo every line of every client of {}",
        listener.local_addr()?
    )
}
