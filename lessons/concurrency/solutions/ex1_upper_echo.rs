//! Exercise 1: One slow client must not block the others (solution).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

// ANCHOR: solution
/// Serves every client of `listener`, until the process ends.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            // One failed accept (the client already left, or no file descriptor to spare
            // right now) is no reason to stop serving everyone else.
            Err(e) => {
                eprintln!("upper echo: accept failed: {e}");
                continue;
            }
        };
        // A thread per client: a silent client blocks only its own thread, and the loop is
        // back in `accept` at once.
        let spawned = std::thread::Builder::new().spawn(move || {
            if let Err(e) = serve_client(stream) {
                eprintln!("upper echo: a client failed: {e}");
            }
        });
        if let Err(e) = spawned {
            // The closure, and the stream in it, is dropped: that client is closed.
            eprintln!("upper echo: no thread for a client: {e}");
        }
    }
    Ok(())
}
// ANCHOR_END: solution

/// The longest line a client may send; a longer one ends its connection.
const MAX_LINE: u64 = 64 * 1024;

/// Answers each line `stream` sends with the line upper-cased, until the client closes.
fn serve_client(stream: TcpStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        // 0 bytes: the client closed its side. A last line without `\n` is not answered,
        // and neither is one longer than MAX_LINE: the connection ends.
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        writer.write_all(&line.to_ascii_uppercase())?;
    }
}
