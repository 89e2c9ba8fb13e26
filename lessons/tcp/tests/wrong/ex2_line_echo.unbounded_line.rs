//! Wrong on purpose, exercise 2: A line echo server that waits for a newline however long the line: a client that
//! never sends one fills the server's memory.
//!
//! Must fail: closes_a_line_that_never_ends

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> io::Result<()> {
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || echo_lines(stream));
    }
    Ok(())
}

fn echo_lines(stream: TcpStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        writer.write_all(&line)?;
    }
}
