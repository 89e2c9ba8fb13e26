//! TCP is a byte stream: demonstrations on loopback, each with both ends in this process so that
//! its outcome does not depend on timing.

use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

// ANCHOR: pair
/// A connected pair on loopback: (client, server side).
pub fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for end in [&client, &server] {
        end.set_read_timeout(Some(Duration::from_secs(5)))?;
        end.set_write_timeout(Some(Duration::from_secs(5)))?;
    }
    Ok((client, server))
}
// ANCHOR_END: pair

/// Waits until `stream` has at least `n` bytes to read, without reading them: `peek` looks at
/// the received bytes and leaves them for the next `read`. `peek` blocks only while nothing at all
/// has arrived, so with some bytes there it pauses between looks instead of spinning.
fn wait_for_bytes(stream: &TcpStream, n: usize) -> io::Result<()> {
    let mut peek = vec![0u8; n];
    let deadline = Instant::now() + Duration::from_secs(5);
    while stream.peek(&mut peek)? < n {
        if Instant::now() > deadline {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                "the bytes did not arrive",
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

// ANCHOR: coalesce
/// Three writes, one read: the reader gets all the bytes that have arrived, with no trace
/// of where one write ended and the next began.
pub fn writes_merge(out: &mut dyn Write) -> io::Result<()> {
    let (mut client, mut server) = pair()?;
    for piece in ["Hel", "lo, ", "world!"] {
        client.write_all(piece.as_bytes())?;
        writeln!(out, "client wrote {:>2} bytes: {piece:?}", piece.len())?;
    }
    wait_for_bytes(&server, 13)?; // all three writes have arrived
    let mut buf = [0u8; 1024];
    let n = server.read(&mut buf)?;
    writeln!(
        out,
        "server read  {n:>2} bytes: {:?}",
        String::from_utf8_lossy(&buf[..n])
    )?;
    Ok(())
}
// ANCHOR_END: coalesce

// ANCHOR: split
/// One write, several reads: `read` returns at most the buffer's size.
pub fn reads_split(out: &mut dyn Write) -> io::Result<()> {
    let (mut client, mut server) = pair()?;
    client.write_all(b"Hello, world!")?;
    client.shutdown(Shutdown::Write)?;
    writeln!(
        out,
        "client wrote 13 bytes in one write, then shut down its side"
    )?;
    let mut buf = [0u8; 5]; // a small buffer, on purpose
    loop {
        let n = server.read(&mut buf)?;
        if n == 0 {
            writeln!(out, "server read   0 bytes: end of stream")?;
            return Ok(());
        }
        writeln!(
            out,
            "server read  {n:>2} bytes: {:?}",
            String::from_utf8_lossy(&buf[..n])
        )?;
    }
}
// ANCHOR_END: split

// ANCHOR: spin
/// Ignoring `Ok(0)` turns a read loop into a busy loop: after end of stream every `read`
/// returns 0 at once, forever. This one stops after a million.
pub fn ignoring_eof_spins(out: &mut dyn Write) -> io::Result<()> {
    let (client, mut server) = pair()?;
    drop(client); // the peer closes
    let mut buf = [0u8; 1024];
    let started = Instant::now();
    let mut zero_reads = 0;
    while zero_reads < 1_000_000 {
        if server.read(&mut buf)? == 0 {
            zero_reads += 1; // a buggy loop would just `continue` here, forever
        }
    }
    writeln!(
        out,
        "read returned 0 bytes {zero_reads} times in {:.0?}, using a whole CPU core",
        started.elapsed()
    )?;
    Ok(())
}
// ANCHOR_END: spin

// ANCHOR: partial_write
/// `write` may take only part of the buffer: here a non-blocking socket whose peer does
/// not read fills its buffers and takes no more. `write_all` loops until everything is
/// written.
pub fn writes_can_be_partial(out: &mut dyn Write) -> io::Result<()> {
    let (mut client, mut server) = pair()?;
    client.set_nonblocking(true)?;
    let big = vec![b'x'; 64 * 1024 * 1024];
    let n = client.write(&big)?;
    writeln!(
        out,
        "write of {} bytes took {n} bytes (varies by system)",
        big.len()
    )?;
    let mut sent = n;
    match client.write(&big[sent..]) {
        // Rare: the peer's kernel made room meanwhile. Those bytes are sent too: count
        // them.
        Ok(more) => {
            sent += more;
            writeln!(
                out,
                "the next write took {more} more bytes (varies by system)"
            )?;
        }
        Err(e) => writeln!(out, "the next write: {:?}, the buffers are full", e.kind())?,
    }

    // With a reader on the other side, write_all (on a blocking socket) gets everything
    // through.
    client.set_nonblocking(false)?;
    let reader = std::thread::spawn(move || {
        let mut sink = Vec::new();
        server.read_to_end(&mut sink).map(|_| sink.len())
    });
    client.write_all(&big[sent..])?;
    client.shutdown(Shutdown::Write)?;
    let received = reader
        .join()
        .map_err(|_| io::Error::other("the reader panicked"))??;
    writeln!(
        out,
        "write_all sent the rest; the reader got {received} bytes in all"
    )?;
    Ok(())
}
// ANCHOR_END: partial_write

// ANCHOR: bufwriter
/// A `BufWriter` collects small writes in memory and sends them in one go: only when its
/// buffer is full, when you call `flush`, or when it is dropped. Forget `flush` and the
/// peer waits. (A drop flushes, but throws away any error: flush yourself.)
pub fn bufwriter_needs_flush(out: &mut dyn Write) -> io::Result<()> {
    let (client, mut server) = pair()?;
    let mut writer = BufWriter::new(client);
    writer.write_all(b"ping\n")?;
    server.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = [0u8; 64];
    match server.read(&mut buf) {
        Err(e) if crate::is_timeout(&e) => {
            writeln!(out, "before flush: the server got nothing within 200ms")?;
        }
        other => writeln!(out, "before flush: unexpected {other:?}")?,
    }
    writer.flush()?;
    let n = server.read(&mut buf)?;
    writeln!(
        out,
        "after flush:  the server got {:?}",
        String::from_utf8_lossy(&buf[..n])
    )?;
    Ok(())
}
// ANCHOR_END: bufwriter

// ANCHOR: deadlock
/// Both ends write much more than the buffers hold, and neither reads: each `write_all`
/// waits for the other side to read, forever. Write timeouts turn the hang into errors.
/// The cure is to read while you write: here, a thread on each side drains what the other
/// sends.
pub fn both_writing_deadlock(out: &mut dyn Write) -> io::Result<()> {
    const LOTS: usize = 64 * 1024 * 1024;
    let wait = Duration::from_millis(500);
    let (mut client, mut server) = pair()?;
    client.set_write_timeout(Some(wait))?;
    server.set_write_timeout(Some(wait))?;
    // Each side keeps its socket open until both have given up: closing one with unread
    // data would reset the connection and end the other's wait early.
    let server_side = std::thread::spawn(move || {
        let result = server.write_all(&vec![1u8; LOTS]);
        (result, server)
    });
    let client_result = client.write_all(&vec![2u8; LOTS]);
    let (server_result, _server) = server_side
        .join()
        .map_err(|_| io::Error::other("the server side panicked"))?;
    for (who, result) in [("client", client_result), ("server", server_result)] {
        match result {
            Ok(()) => writeln!(out, "{who}: wrote {LOTS} bytes")?,
            Err(e) => writeln!(out, "{who}: write_all gave up after {wait:?}: {e}")?,
        }
    }

    // The fix: each side reads in its own thread while it writes.
    let (mut client, mut server) = pair()?;
    let drain = |mut stream: TcpStream| {
        let read_all = move || io::copy(&mut stream, &mut io::sink());
        std::thread::spawn(read_all)
    };
    let client_reader = drain(client.try_clone()?);
    let server_reader = drain(server.try_clone()?);
    let server_writer = std::thread::spawn(move || {
        server.write_all(&vec![1u8; LOTS])?;
        server.shutdown(Shutdown::Write)
    });
    client.write_all(&vec![2u8; LOTS])?;
    client.shutdown(Shutdown::Write)?;
    let joined = |r: std::thread::Result<io::Result<u64>>| {
        r.map_err(|_| io::Error::other("a reader panicked"))?
    };
    server_writer
        .join()
        .map_err(|_| io::Error::other("the server side panicked"))??;
    let to_client = joined(client_reader.join())?;
    let to_server = joined(server_reader.join())?;
    writeln!(
        out,
        "with a reader on each side: client got {to_client} bytes, server got {to_server}"
    )?;
    Ok(())
}
// ANCHOR_END: deadlock

// ANCHOR: reset
/// Closing a socket with received data still unread sends RST, not FIN (RFC 2525, section
/// 2.17, describes why). The peer first reads what was sent before the reset, then gets
/// `ConnectionReset` where it expected end of stream. Reading the request to its end
/// first avoids it.
pub fn unread_data_resets(out: &mut dyn Write) -> io::Result<()> {
    for read_it_all in [false, true] {
        let (mut client, mut server) = pair()?;
        client.write_all(b"ping ping")?;
        client.shutdown(Shutdown::Write)?;
        let mut request = Vec::new();
        if read_it_all {
            server.read_to_end(&mut request)?;
        } else {
            request.resize(4, 0);
            server.read_exact(&mut request)?; // 5 bytes stay unread
        }
        server.write_all(b"pong")?;
        drop(server);
        writeln!(
            out,
            "server read {} of 9 bytes, replied \"pong\" and closed",
            request.len()
        )?;
        let mut reply = [0u8; 64];
        loop {
            match client.read(&mut reply) {
                Ok(0) => {
                    writeln!(out, "  client read 0 bytes: end of stream")?;
                    break;
                }
                Ok(n) => writeln!(
                    out,
                    "  client read {n} bytes: {:?}",
                    String::from_utf8_lossy(&reply[..n])
                )?,
                Err(e) => {
                    writeln!(out, "  client read failed: {e}")?;
                    break;
                }
            }
        }
    }
    Ok(())
}
// ANCHOR_END: reset
