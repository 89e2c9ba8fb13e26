//! Exercise 2: A line echo server (solution).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// ANCHOR: solution
/// The longest line a client may send; longer ones end the connection, so memory stays
/// bounded.
const MAX_LINE: u64 = 64 * 1024;
/// At most this many clients at once, so threads (and their memory) stay bounded.
const MAX_CLIENTS: usize = 64;
/// A client silent for this long is dropped, so it cannot hold its thread forever.
const IDLE: Duration = Duration::from_secs(30);

pub fn serve(listener: TcpListener) -> io::Result<()> {
    let clients = Arc::new(AtomicUsize::new(0));
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("line echo: accept failed: {e}");
                continue;
            }
        };
        if clients.load(Ordering::SeqCst) >= MAX_CLIENTS {
            eprintln!("line echo: too many clients, turning one away");
            continue; // dropping `stream` closes it
        }
        // A thread per client: a silent client blocks only its own thread.
        clients.fetch_add(1, Ordering::SeqCst);
        let count = Arc::clone(&clients);
        let spawned = std::thread::Builder::new().spawn(move || {
            if let Err(e) = echo_lines(stream) {
                eprintln!("line echo: a client failed: {e}");
            }
            count.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            // The closure, and with it the stream, is dropped: that client is closed.
            clients.fetch_sub(1, Ordering::SeqCst);
            eprintln!("line echo: no thread for a client: {e}");
        }
    }
    Ok(())
}

fn echo_lines(stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    // `shutdown` or dropping both handles closes the connection; `writer` is a second
    // handle to the same socket, and both are dropped when this function returns.
    let mut writer = stream.try_clone()?;
    // BufReader collects bytes until a whole line is there, however they arrive.
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        // read_until returns 0 at end of stream; a line without `\n` only comes just
        // before it.
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            // End of stream, or a line too long: returning closes the connection.
            return Ok(());
        }
        writer.write_all(&line)?;
    }
}
// ANCHOR_END: solution
