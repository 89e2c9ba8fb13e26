//! Exercise 2: A line echo server (solution).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

// ANCHOR: solution
pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        match connection {
            // A thread per client: a silent client blocks only its own thread.
            Ok(stream) => {
                std::thread::spawn(move || {
                    if let Err(e) = echo_lines(stream) {
                        eprintln!("line echo: a client failed: {e}");
                    }
                });
            }
            Err(e) => eprintln!("line echo: accept failed: {e}"),
        }
    }
    Ok(())
}

/// The longest line a client may send; longer ones end the connection, so memory stays bounded.
const MAX_LINE: u64 = 64 * 1024;

fn echo_lines(stream: TcpStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    // BufReader collects bytes until a whole line is there, however they arrive.
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        // read_until returns 0 at end of stream; a line without `\n` only comes just before it.
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(()); // end of stream, or a line too long: dropping the stream closes it
        }
        writer.write_all(&line)?;
    }
}
// ANCHOR_END: solution
