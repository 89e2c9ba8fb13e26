//! Exercise 3: Keep the connection alive.
//!
//! `serve` accepts connections on `listener`, one after another, and answers every request
//! on each, for as long as the client keeps the connection open (HTTP/1.1's default,
//! RFC 9112 §9.3). The requests are `GET`s without a body: a request line, header fields,
//! an empty line, every line ending in CRLF. The answer to each is
//! `HTTP/1.1 200 OK\r\nContent-Length: N\r\n\r\n` followed by the request's target (its
//! path, such as `/a`) as the body, N bytes long.
//!
//! - One read may bring several requests (a client that *pipelines* sends them in one
//!   write), or part of one: keep what you read in a buffer, answer each whole request in
//!   order, and keep the rest for the next read.
//! - After a request with the field `Connection: close` (name and value in any case),
//!   answer it, then close the connection, even if more requests came after it.
//! - When the client closes its side (a read returns 0), close yours.
//! - A connection's error (a reset) ends that connection, not the server.
//!
//! Check your work: `cargo exercise http11 ex3`.

use std::io;
use std::net::TcpListener;

/// Serves every connection of `listener`, one at a time, until the process ends.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    todo!("serve {listener:?}")
}
