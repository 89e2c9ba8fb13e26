//! The echo server: accepts many clients at once, one thread each, and echoes what they send.
//!
//! Two modes:
//! - [`Mode::Raw`] echoes bytes as they arrive, whatever they are. The seed tutorial's Python client
//!   speaks this: it sends `Hello, world!` and reads the reply.
//! - [`Mode::Lines`] reads UTF-8 lines (with [`LineDecoder`]) and echoes each line. It answers a
//!   line that is too long, or not UTF-8, with an `error: ...` line and closes that connection.
//! - [`Mode::Frames`] reads length-prefixed frames (with [`FrameDecoder`]) and echoes each one. A
//!   frame that is too long closes the connection: the protocol has no way to say why.
//!
//! The server logs one line on stderr for each client it drops or turns away, and nothing for
//! clients that behave.
//!
//! Every client costs bounded time and memory: an idle client is dropped after
//! [`Config::idle_timeout`], a line is at most [`Config::max_line`] bytes, and at most
//! [`Config::max_clients`] connections are served at once. One client's failure never stops the
//! server.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::framing::{FrameDecoder, FrameError, LineDecoder, encode_frame};
use crate::shutdown::Shutdown;

/// What the server does with the bytes it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Raw,
    Lines,
    Frames,
}

/// Limits that bound what one client can cost the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// A client that sends nothing for this long is disconnected.
    pub idle_timeout: Duration,
    /// A message (a line or a frame) must arrive whole within this long of its first byte. This
    /// stops a client that trickles a byte now and then from holding its thread forever
    /// (slowloris).
    pub message_timeout: Duration,
    /// A client that does not read our replies for this long is disconnected.
    pub write_timeout: Duration,
    /// The longest message accepted: a line in [`Mode::Lines`] (without its line ending), a
    /// payload in [`Mode::Frames`].
    pub max_line: usize,
    /// How many clients are served at once; more are turned away.
    pub max_clients: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Raw,
            idle_timeout: Duration::from_secs(30),
            message_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_line: 8 * 1024,
            max_clients: 64,
        }
    }
}

/// The open connections, so that shutdown can close them and wake their threads.
type Clients = Arc<Mutex<HashMap<SocketAddr, TcpStream>>>;

// ANCHOR: run
/// Serves clients on `listener` until `shutdown` is triggered, then closes every connection, waits
/// for the client threads and returns. Logs one line per event on stderr.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    let local = listener.local_addr()?;
    shutdown.wake_by_connecting_to(crate::reachable(local));
    let clients: Clients = Arc::default();
    let mut threads: Vec<JoinHandle<()>> = Vec::new();

    while !shutdown.is_triggered() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A connection that died in the queue, or a full file table: not fatal.
            Err(e) => {
                eprintln!("accept failed: {e}");
                // Out of file descriptors, say: give the clients a moment to finish.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // that was the wake-up connection
        }
        threads.retain(|t| !t.is_finished());
        if threads.len() >= config.max_clients {
            eprintln!(
                "{peer}: turned away, {} clients already",
                config.max_clients
            );
            turn_away(stream, config.mode);
            continue;
        }
        threads.push(spawn_client(stream, peer, &clients, &config));
    }

    // Wake every client thread: shutting a socket down ends its pending read.
    for stream in lock(&clients).values() {
        let _ = stream.shutdown(Direction::Both);
    }
    for thread in threads {
        let _ = thread.join();
    }
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: spawn_client
fn spawn_client(
    stream: TcpStream,
    peer: SocketAddr,
    clients: &Clients,
    config: &Config,
) -> JoinHandle<()> {
    if let Ok(clone) = stream.try_clone() {
        lock(clients).insert(peer, clone);
    }
    let clients = Arc::clone(clients);
    let config = config.clone();
    std::thread::spawn(move || {
        // Quiet when all goes well; one line when a client is dropped.
        if let Err(e) = serve_client(stream, &config) {
            eprintln!("{peer}: dropped: {e}");
        }
        lock(&clients).remove(&peer);
    })
}
// ANCHOR_END: spawn_client

// ANCHOR: serve_client
/// Serves one client until it closes its side, misbehaves or fails.
fn serve_client(mut stream: TcpStream, config: &Config) -> io::Result<()> {
    stream.set_write_timeout(Some(config.write_timeout))?;
    let mut lines = LineDecoder::new(config.max_line);
    let mut frames = FrameDecoder::new(config.max_line);
    let mut buf = [0u8; 16 * 1024];
    // When the message being received began: it must be complete within `message_timeout`.
    let mut message_started: Option<Instant> = None;
    loop {
        let wait = match message_started {
            None => config.idle_timeout,
            Some(started) => match config.message_timeout.checked_sub(started.elapsed()) {
                Some(left) if !left.is_zero() => left.min(config.idle_timeout),
                _ => {
                    return Err(io::Error::new(
                        ErrorKind::TimedOut,
                        "message not complete in time",
                    ));
                }
            },
        };
        stream.set_read_timeout(Some(wait))?;
        let n = match stream.read(&mut buf) {
            Ok(0) => break, // end of stream: the client is done sending
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) && message_started.is_some() => continue, // checked above
            Err(e) if is_timeout(&e) => {
                return Err(io::Error::new(ErrorKind::TimedOut, "idle for too long"));
            }
            Err(e) => return Err(e),
        };
        let mut completed = 0; // messages finished by this read
        let buffered = match config.mode {
            Mode::Raw => {
                write_reply(&mut stream, &buf[..n])?;
                0
            }
            Mode::Lines => {
                lines.push(&buf[..n]);
                while let Some(line) = lines.next_line().map_err(|e| refuse(&mut stream, &e))? {
                    let text = std::str::from_utf8(&line)
                        .map_err(|_| refuse(&mut stream, &"line is not valid UTF-8"))?;
                    write_reply(&mut stream, format!("{text}\n").as_bytes())?;
                    completed += 1;
                }
                lines.buffered()
            }
            Mode::Frames => {
                frames.push(&buf[..n]);
                // The frame protocol has no room for an error message: a bad frame just ends the
                // connection (and is logged).
                while let Some(payload) = frames.next_frame().map_err(invalid)? {
                    write_reply(&mut stream, &encode_frame(&payload))?;
                    completed += 1;
                }
                frames.buffered()
            }
        };
        // The clock runs for the message now partly buffered: it started with this read if this
        // read also finished a message (or there was none), else earlier.
        message_started = match (buffered, completed, message_started) {
            (0, _, _) => None,
            (_, 0, Some(started)) => Some(started),
            _ => Some(Instant::now()),
        };
    }
    // The stream ended: a partial message left in a decoder means the client vanished mid-message.
    let unfinished = match config.mode {
        Mode::Raw => Ok(()),
        Mode::Lines => lines.finish(),
        Mode::Frames => frames.finish(),
    };
    unfinished.map_err(|e| io::Error::new(ErrorKind::UnexpectedEof, e))?;
    // Our side is done too: shutdown sends FIN; the drop closes the socket.
    stream.shutdown(Direction::Write)
}
// ANCHOR_END: serve_client

/// A read or write that gave up because its timeout expired: `WouldBlock` on Unix, `TimedOut`
/// on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Sends a reply; a write that times out means the client does not read what we send.
fn write_reply(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).map_err(|e| {
        if is_timeout(&e) {
            io::Error::new(
                ErrorKind::TimedOut,
                "not reading our replies (write timed out)",
            )
        } else {
            e
        }
    })
}

/// Tells a misbehaving client why it is being dropped, where the protocol allows (lines), and
/// returns the error to log. Before the close it reads, and discards, what the client still
/// sends, for at most a second and 64 KiB: closing with unread input would send a reset, and the
/// client could lose the error line.
fn refuse(stream: &mut TcpStream, why: &dyn std::fmt::Display) -> io::Error {
    let _ = stream.write_all(format!("error: {why}\n").as_bytes());
    let _ = stream.shutdown(Direction::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = io::copy(&mut Read::take(&mut *stream, 64 * 1024), &mut io::sink());
    io::Error::new(ErrorKind::InvalidData, why.to_string())
}

fn invalid(e: FrameError) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, e)
}

/// Closes a connection the server has no room for, saying so in lines mode. Like [`refuse`], it
/// first reads what the client already sent (for at most 100 ms here: the accept loop waits
/// meanwhile), so that the close does not reset the connection and lose the message.
fn turn_away(mut stream: TcpStream, mode: Mode) {
    if mode == Mode::Lines {
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = stream.write_all(b"error: server busy, try again later\n");
    }
    let _ = stream.shutdown(Direction::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = io::copy(&mut Read::take(&mut stream, 64 * 1024), &mut io::sink());
}

/// A poisoned lock only means a client thread panicked; the map is still usable.
fn lock(clients: &Clients) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, TcpStream>> {
    clients.lock().unwrap_or_else(|e| e.into_inner())
}
