//! Exercise 3: Keep the connection alive (reference solution).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> io::Result<()> {
    for stream in listener.incoming() {
        // One connection's failure (a reset, say) is not the server's.
        let _ = stream.and_then(serve_connection);
    }
    Ok(())
}

// ANCHOR: solution
fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // Answer every whole request already buffered, in order, in one write.
        let mut replies = Vec::new();
        let mut close = false;
        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buffer.drain(..end + 4).collect();
            let head = String::from_utf8_lossy(&head);
            let target = head.split(' ').nth(1).unwrap_or("");
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                target.len()
            );
            replies.extend_from_slice(reply.as_bytes());
            replies.extend_from_slice(target.as_bytes());
            close = head.lines().any(|line| {
                let (name, value) = line.split_once(':').unwrap_or(("", ""));
                name.eq_ignore_ascii_case("connection")
                    && value.trim().eq_ignore_ascii_case("close")
            });
            if close {
                break; // what came after it is not answered
            }
        }
        stream.write_all(&replies)?;
        if close {
            return Ok(());
        }
        // Then wait for more: a read may bring part of a request, or several.
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
// ANCHOR_END: solution
