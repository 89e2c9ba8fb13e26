//! The echo server: accepts many clients at once, one thread each, and echoes what they send.
//!
//! It is built in layers, each readable on its own:
//! - [`run`]: the accept loop, the client limit and shutdown;
//! - [`serve_client`]: one client's loop, a few lines: read messages, send the replies;
//! - `Connection`: one socket with its decoder and the clocks that bound what a client may cost;
//! - [`Mode`]: what a message is and what its reply is. Three modes:
//!   - [`Mode::Raw`] echoes bytes as they arrive, whatever they are. The seed tutorial's Python
//!     client speaks this: it sends `Hello, world!` and reads the reply.
//!   - [`Mode::Lines`] reads UTF-8 lines (with [`LineDecoder`]) and echoes each line. It answers a
//!     line that is too long, or not UTF-8, with an `error: ...` line and closes that connection.
//!   - [`Mode::Frames`] reads length-prefixed frames (with [`FrameDecoder`]) and echoes each one.
//!     A frame that is too long closes the connection: the protocol has no way to say why.
//!
//! The server logs one line on stderr for each client it drops or turns away, and nothing for
//! clients that behave.
//!
//! Each client's time and memory are bounded (see [`Config`]), and so is the number of clients
//! served at once. That is not the same as "no client can lock others out": `max_clients`
//! clients that behave well enough hold every slot until their lifetime ends. One client's
//! failure never stops the server.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::framing::{Decoder, FrameDecoder, FrameError, LineDecoder, RawDecoder, encode_frame};
use crate::is_timeout;
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
    /// payload in [`Mode::Frames`]. (The name is the lines mode's; it limits frames too.)
    pub max_line: usize,
    /// How many clients are served at once; more are turned away.
    pub max_clients: usize,
    /// A connection is closed this long after it opened, however well it behaves. Without it a
    /// client that sends a short message just before each timeout would hold its thread forever,
    /// and [`Config::max_clients`] such clients would lock everyone else out.
    pub lifetime: Duration,
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
            lifetime: Duration::from_secs(600),
        }
    }
}

// ANCHOR: mode
impl Mode {
    /// The decoder that finds this mode's messages in the byte stream.
    fn decoder(self, max_message: usize) -> Box<dyn Decoder + Send> {
        match self {
            Mode::Raw => Box::new(RawDecoder::default()),
            Mode::Lines => Box::new(LineDecoder::new(max_message)),
            Mode::Frames => Box::new(FrameDecoder::new(max_message)),
        }
    }

    /// Appends the reply to `message` to `out`, or says why the message is refused.
    fn reply(self, message: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Mode::Raw => out.extend_from_slice(message),
            Mode::Lines => {
                if std::str::from_utf8(message).is_err() {
                    return Err("line is not valid UTF-8".to_string());
                }
                out.extend_from_slice(message);
                out.push(b'\n');
            }
            Mode::Frames => out.extend_from_slice(&encode_frame(message)),
        }
        Ok(())
    }

    /// Whether the protocol can carry an error message (lines can; raw bytes and frames
    /// cannot).
    fn can_explain(self) -> bool {
        self == Mode::Lines
    }
}
// ANCHOR_END: mode

/// The open connections, so that shutdown can close them and wake their threads. Keyed by a
/// number of the server's own: a peer address can come back once its connection is gone.
type Clients = Arc<Mutex<HashMap<u64, TcpStream>>>;

// ANCHOR: run
/// Serves clients on `listener` until `shutdown` is triggered, then closes every
/// connection, waits for the client threads and returns. Logs one line per event on
/// stderr.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    let local = listener.local_addr()?;
    shutdown.wake_by_connecting_to(crate::reachable(local));
    let clients: Clients = Arc::default();
    let mut threads: Vec<JoinHandle<()>> = Vec::new();

    for id in 0u64.. {
        if shutdown.is_triggered() {
            break;
        }
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
        match spawn_client(id, stream, peer, &clients, &config) {
            Ok(thread) => threads.push(thread),
            Err(e) => eprintln!("{peer}: dropped: {e}"),
        }
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
/// Registers the client, so that shutdown can reach its connection, and serves it on a
/// thread of its own. A client that cannot be registered, or given a thread, is closed at
/// once.
fn spawn_client(
    id: u64,
    stream: TcpStream,
    peer: SocketAddr,
    clients: &Clients,
    config: &Config,
) -> io::Result<JoinHandle<()>> {
    let registered = Registered::new(id, &stream, clients)?;
    let config = config.clone();
    std::thread::Builder::new()
        .name(format!("client {peer}"))
        .spawn(move || {
            // Unregistered when the thread ends, even by a panic.
            let _registered = registered;
            // Quiet when all goes well; one line when a client is dropped.
            if let Err(e) = serve_client(stream, &config) {
                eprintln!("{peer}: dropped: {e}");
            }
        })
}

/// A client's entry in the registry, removed when dropped.
struct Registered {
    id: u64,
    clients: Clients,
}

impl Registered {
    fn new(id: u64, stream: &TcpStream, clients: &Clients) -> io::Result<Registered> {
        lock(clients).insert(id, stream.try_clone()?);
        Ok(Registered {
            id,
            clients: Arc::clone(clients),
        })
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.clients).remove(&self.id);
    }
}
// ANCHOR_END: spawn_client

// ANCHOR: serve_client
/// Serves one client until it closes its side, misbehaves or fails: each read's messages
/// are answered with one write.
fn serve_client(stream: TcpStream, config: &Config) -> io::Result<()> {
    let mut connection = Connection::new(stream, config)?;
    while let Some(batch) = connection.read_messages()? {
        let mut replies = Vec::new();
        let mut refusal = batch.error.map(|e| e.to_string());
        for message in &batch.messages {
            if let Err(why) = config.mode.reply(message, &mut replies) {
                refusal = Some(why);
                break;
            }
        }
        connection.send(&replies)?;
        if let Some(why) = refusal {
            return Err(connection.refuse(&why));
        }
    }
    connection.finish()
}
// ANCHOR_END: serve_client

// ANCHOR: connection
/// One client's connection: a socket, the decoder of the server's mode, and the clocks
/// that bound how long the client may take.
struct Connection {
    stream: TcpStream,
    decoder: Box<dyn Decoder + Send>,
    config: Config,
    opened: Instant,
    last_read: Instant,
    /// When the message now partly buffered began: it must be whole within
    /// `message_timeout`.
    message_started: Option<Instant>,
    buf: Vec<u8>,
}

/// What one read brought: the messages it completed (maybe none), then maybe a framing
/// error.
struct Batch {
    messages: Vec<Vec<u8>>,
    error: Option<FrameError>,
}

impl Connection {
    fn new(stream: TcpStream, config: &Config) -> io::Result<Connection> {
        stream.set_write_timeout(Some(config.write_timeout))?;
        Ok(Connection {
            stream,
            decoder: config.mode.decoder(config.max_line),
            config: config.clone(),
            opened: Instant::now(),
            last_read: Instant::now(),
            message_started: None,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Waits for the next read, within whichever limit ends first, and decodes what it
    /// brought. `Ok(None)` is the end of the stream: the client is done sending.
    fn read_messages(&mut self) -> io::Result<Option<Batch>> {
        let n = loop {
            let wait = self.time_left()?;
            self.stream.set_read_timeout(Some(wait))?;
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // `time_left`, next time round, says which limit it was.
                Err(e) if is_timeout(&e) => continue,
                Err(e) => return Err(e),
            }
        };
        self.last_read = Instant::now();
        self.decoder.push(&self.buf[..n]);
        let mut batch = Batch {
            messages: Vec::new(),
            error: None,
        };
        loop {
            match self.decoder.next_message() {
                Ok(Some(message)) => batch.messages.push(message),
                Ok(None) => break,
                Err(e) => {
                    batch.error = Some(e);
                    break;
                }
            }
        }
        // The message clock runs for the message now partly buffered: it started with
        // this read if this read also finished a message (or there was none), else
        // earlier.
        self.message_started = match (self.decoder.buffered(), batch.messages.len()) {
            (0, _) => None,
            (_, 0) => self.message_started.or(Some(Instant::now())),
            _ => Some(Instant::now()),
        };
        Ok(Some(batch))
    }

    /// How long the next read may wait: until the first of the three limits runs out
    /// (idle since the last read, the message under way, the connection's lifetime). An
    /// error once one has.
    fn time_left(&self) -> io::Result<Duration> {
        let limits = [
            (
                self.config.idle_timeout,
                Some(self.last_read),
                "idle for too long",
            ),
            (
                self.config.message_timeout,
                self.message_started,
                "message not complete in time",
            ),
            (
                self.config.lifetime,
                Some(self.opened),
                "connection open for too long",
            ),
        ];
        let mut wait = Duration::MAX;
        for (limit, since, why) in limits {
            let Some(since) = since else { continue };
            let left = limit.saturating_sub(since.elapsed());
            if left.is_zero() {
                return Err(io::Error::new(ErrorKind::TimedOut, why));
            }
            wait = wait.min(left);
        }
        Ok(wait)
    }

    /// Sends replies; a write that times out means the client does not read what we send.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all(bytes).map_err(|e| {
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

    /// Tells a misbehaving client why it is being dropped, where the protocol allows, and
    /// returns the error to log. Before the close it reads, and discards, what the client
    /// still sends, for at most a second and 64 KiB: closing with unread input would send
    /// a reset, and the client could lose the error line.
    fn refuse(&mut self, why: &str) -> io::Error {
        if self.config.mode.can_explain() {
            let _ = self.stream.write_all(format!("error: {why}\n").as_bytes());
            let _ = self.stream.shutdown(Direction::Write);
            let _ = self.stream.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = io::copy(
                &mut Read::take(&mut self.stream, 64 * 1024),
                &mut io::sink(),
            );
        }
        io::Error::new(ErrorKind::InvalidData, why.to_string())
    }

    /// The stream ended: a partial message left in the decoder means the client vanished
    /// mid-message. Otherwise our side is done too: `shutdown` sends FIN now, whatever
    /// other handles exist. The socket itself closes when its last handle is dropped: the
    /// registry's, when the client's thread ends.
    fn finish(self) -> io::Result<()> {
        self.decoder
            .finish()
            .map_err(|e| io::Error::new(ErrorKind::UnexpectedEof, e))?;
        self.stream.shutdown(Direction::Write)
    }
}
// ANCHOR_END: connection

/// Closes a connection the server has no room for, saying so in lines mode, without making the
/// accept loop wait: it reads (and discards) only what the client has already sent, so that the
/// close does not reset the connection and lose the message.
fn turn_away(mut stream: TcpStream, mode: Mode) {
    if mode.can_explain() {
        // A fresh connection's send buffer is empty: this write does not block.
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = stream.write_all(b"error: server busy, try again later\n");
    }
    let _ = stream.shutdown(Direction::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break, // end of stream, nothing more yet (WouldBlock), or an error
            }
        }
    }
}

/// A poisoned lock only means a client thread panicked; the map is still usable.
fn lock(clients: &Clients) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
    clients.lock().unwrap_or_else(|e| e.into_inner())
}
