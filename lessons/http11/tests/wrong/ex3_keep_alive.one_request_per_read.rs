//! Wrong on purpose, exercise 3: reads, answers the first request in what it read, and drops the
//! rest: pipelined requests are lost.
//!
//! Must fail: answers_pipelined_requests_in_order

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
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..n]);
        let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue; // a request in several reads is kept
        };
        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
        pending.clear(); // the mistake: whatever came after the first request is gone
        let target = head.split(' ').nth(1).unwrap_or("");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{target}",
            target.len()
        );
        stream.write_all(reply.as_bytes())?;
        if head.to_ascii_lowercase().contains("\r\nconnection: close") {
            return Ok(());
        }
    }
}
