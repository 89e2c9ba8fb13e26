//! Wrong on purpose, exercise 1: four threads take turns at `accept`, each serving its client
//! to the end: a fixed number of threads serves only that many clients that stay connected.
//!
//! Must fail: answers_twenty_clients_at_once

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(listener: TcpListener) -> io::Result<()> {
    let mut threads = Vec::new();
    for _ in 0..4 {
        let listener = listener.try_clone()?;
        threads.push(std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve_client(stream);
            }
        }));
    }
    for thread in threads {
        let _ = thread.join();
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
