//! Wrong on purpose, exercise 1: serves clients one at a time, as the accept loop does when it
//! calls `serve_client` itself: while a silent client is served, nobody else is.
//!
//! Must fail: answers_a_client_while_another_is_silent, answers_two_clients_taking_turns, answers_twenty_clients_at_once, answers_lines_however_they_arrive, keeps_serving_after_clients_leave, answers_and_closes_after_a_half_close

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        let stream = connection?;
        serve_client(stream)?;
    }
    Ok(())
}

const MAX_LINE: u64 = 64 * 1024;

fn serve_client(stream: TcpStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        writer.write_all(&line.to_ascii_uppercase())?;
    }
}
