//! Wrong on purpose, exercise 3: answers one request per connection and closes, as HTTP/1.0 did by
//! default.
//!
//! Must fail: answers_requests_in_turn_on_one_connection, answers_pipelined_requests_in_order

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> io::Result<()> {
    for stream in listener.incoming() {
        let _ = stream.and_then(serve_connection);
    }
    Ok(())
}

fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 4096];
    while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&pending).into_owned();
    let target = head.split(' ').nth(1).unwrap_or("");
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{target}",
        target.len()
    );
    stream.write_all(reply.as_bytes())
}
