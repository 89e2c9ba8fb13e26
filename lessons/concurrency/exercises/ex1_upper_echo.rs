//! Exercise 1: One slow client must not block the others.
//!
//! `serve` accepts connections on `listener` forever. Each client sends lines (each ends
//! with `\n`), and gets every line back upper-cased (ASCII letters only: `to_ascii_uppercase`),
//! `\n` included, as soon as the line is complete. When a client closes its sending side (a
//! read returns 0), the server closes the connection.
//!
//! `serve_client` below already does all of that for one client. What is missing is how
//! `serve` runs it: called right here, in the accept loop, it would answer the first client
//! and leave every client that connects after it waiting until the first one leaves. A
//! client that connects and then stays silent (a slow phone, a forgotten `nc`, an attacker)
//! would stop the whole server. Serve every client at the same time as the others.
//!
//! Check your work: `cargo exercise concurrency ex1`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Serves every client of `listener`, until the process ends.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        let stream = connection?;
        // `serve_client(stream)?;` here would serve this client well, and make everyone
        // who connects after it wait until it leaves.
        todo!("serve this client without making the next one wait")
    }
    Ok(())
}

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
