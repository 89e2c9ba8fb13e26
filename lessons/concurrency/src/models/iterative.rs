//! The iterative model: one connection at a time, on the thread that accepts.
//!
//! The accept loop takes a connection and serves it until it closes, keep-alive requests
//! and all; only then does it accept the next. This is the seed's server, and the Rust
//! Book's first one: the simplest there is.
//!
//! **Cost.** One thread and one 4 KiB buffer, whatever the load.
//!
//! **The catch.** While it waits for one client, every other client waits too. Their
//! connections are already open (the kernel completed the handshakes and holds them in the
//! listen queue, so their `connect` succeeded), but nobody reads what they send. A client
//! that is slow, or just idle between keep-alive requests, holds the whole server; the
//! clocks bound how long (the idle and header timeouts), but not below them.
//! `demo slow-client` shows a fast client waiting out a slow client's silence.
//!
//! **Right for.** A server with one client by design (a test fixture, a debug endpoint one
//! person reads), and as the baseline the other models are measured against.
//!
//! The [`Connection`] here, one socket with its responder and its clocks, is what the
//! threads and pool models run too: they change which thread runs it, not what it does.
//!
//! **Shutdown.** A thread blocked in `read` cannot see a flag. So a read waits at most a
//! [`TICK`] (100 ms) and then looks at the shutdown flag: an idle connection closes within a
//! tick, and a request under way gets [`Config::drain_timeout`] to finish. The cost is that
//! an idle connection wakes its thread ten times a second, which is nothing next to a
//! request. (The HTTP lesson's server shut its connections' sockets down from the accept
//! loop instead; here there is no other thread to do that.)
//!
//! The server logs one line on stderr for each client that goes wrong (a malformed
//! request, a timeout, a disconnect mid-request, a panic), and nothing for clients that
//! behave.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr};
use std::net::{TcpListener, TcpStream};
use std::panic;
use std::time::{Duration, Instant};

use super::reachable;
use crate::responder::{self, Flow, Responder};
use crate::{Config, Shutdown};

/// The longest a blocked read waits before it looks at the shutdown flag again.
pub(crate) const TICK: Duration = Duration::from_millis(100);

/// After a refusal or a close, how long we read and discard what the client still sends.
const LINGER: Duration = Duration::from_millis(250);
/// The most we read and discard then.
const LINGER_BYTES: usize = 64 * 1024;

// ANCHOR: run
/// Serves HTTP on `listener`, one connection at a time, until `shutdown` is triggered.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    shutdown.wake_by_connecting_to(reachable(listener.local_addr()?));
    while !shutdown.is_triggered() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e);
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // the wake-up connection, or a client that came too late
        }
        // Serve this client to the end before accepting the next. A panic in the
        // responder ends this connection (unwinding drops, and so closes, its socket),
        // not the server.
        let served = panic::catch_unwind(|| serve_connection(stream, peer, &shutdown, &config));
        if served.is_err() {
            eprintln!("{peer}: panicked; connection closed, serving the next");
        }
    }
    Ok(())
}
// ANCHOR_END: run

/// A failed `accept` is not fatal: a connection reset while it waited in the queue, or no
/// file descriptor left until some connection closes. Log it, and pause so as not to spin.
pub(crate) fn accept_failed(e: &io::Error) {
    eprintln!("accept failed: {e}");
    if e.kind() != ErrorKind::Interrupted {
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ANCHOR: serve_connection
/// Serves one connection until it closes: because the client closed, or asked to, or sent
/// a malformed request, or a clock ran out, or the server is stopping.
pub(crate) fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: &Shutdown,
    config: &Config,
) {
    let mut connection = Connection::new(stream, peer, config);
    while connection.step(shutdown, TICK) != Step::Closed {}
}
// ANCHOR_END: serve_connection

// ANCHOR: connection
/// One client's connection: its socket, its responder, and the clocks that bound how long
/// the client may take. Dropping it closes the socket.
pub(crate) struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    responder: Responder,
    /// What one read brings: up to 4 KiB.
    buf: Vec<u8>,
    /// The responses to write.
    out: Vec<u8>,
    idle_timeout: Duration,
    header_timeout: Duration,
    drain_timeout: Duration,
    /// Since when nothing is under way: the connection opened, or a response went out.
    idle_since: Instant,
    /// When the first byte of the request under way arrived.
    request_since: Option<Instant>,
    /// When this connection first saw that the server is stopping.
    stopping_since: Option<Instant>,
    /// The read timeout the socket has now: set again only when it changes, so that a busy
    /// connection makes one system call per read, not two.
    read_timeout: Option<Duration>,
    /// How much of `out` is written, and by when all of it must be.
    written: usize,
    send_by: Instant,
    /// The connection ends once `out` is written (the client asked, or was refused).
    close_after_send: bool,
    /// Closing: our side is shut, and from the first step after that, until when we read
    /// and discard what the client still sends.
    closing: bool,
    linger_until: Option<Instant>,
    discarded: usize,
    /// The longest a whole `out` may take to write, and the write timeout the socket has now.
    write_timeout: Duration,
    socket_write_timeout: Duration,
}
// ANCHOR_END: connection

/// What a [`Connection::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Something was done: bytes came (and were answered if they completed a request), or
    /// an answer went out.
    Read,
    /// A wait ran out first: nothing new came, or the client is slow to take our answer or
    /// to close. The next step looks at the clocks.
    Waited,
    /// The connection is over; drop it.
    Closed,
}

/// Why we stopped waiting for the client's bytes.
enum Stall {
    /// The client closed its side.
    Eof,
    /// No request under way for the idle timeout.
    Idle,
    /// A request began, and did not arrive whole within the header timeout (slowloris).
    Slow,
    /// The server is stopping, and no request is under way.
    Stopping,
    /// The server is stopping, and the request under way did not finish in time.
    Drained,
    Failed(io::Error),
}

impl Connection {
    pub(crate) fn new(stream: TcpStream, peer: SocketAddr, config: &Config) -> Connection {
        Connection {
            stream,
            peer,
            responder: Responder::new(config),
            buf: vec![0; 4096],
            out: Vec::new(),
            idle_timeout: config.idle_timeout,
            header_timeout: config.header_timeout,
            drain_timeout: config.drain_timeout,
            idle_since: Instant::now(),
            request_since: None,
            stopping_since: None,
            read_timeout: None,
            written: 0,
            send_by: Instant::now(),
            close_after_send: false,
            closing: false,
            linger_until: None,
            discarded: 0,
            write_timeout: config.write_timeout,
            socket_write_timeout: Duration::ZERO, // none set yet
        }
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The socket, to refuse a connection that was never served.
    pub(crate) fn into_stream(self) -> TcpStream {
        self.stream
    }

    // ANCHOR: step
    /// Waits up to `wait` for the client's next bytes and answers every request they
    /// complete. Unless it returns `Step::Closed`, call it again. A step waits at most `wait`
    /// for bytes, and at most `wait` for the client to take an answer or to see a close:
    /// what the client is slow to take goes on at the next step.
    pub(crate) fn step(&mut self, shutdown: &Shutdown, wait: Duration) -> Step {
        if self.closing {
            return self.linger(wait);
        }
        if self.out.is_empty() {
            let n = match self.read(shutdown, wait) {
                Ok(Some(n)) => n,
                Ok(None) => return Step::Waited,
                Err(stall) => return self.stalled(stall, wait),
            };
            let arrived = Instant::now();
            self.request_since.get_or_insert(arrived);
            let closing = shutdown.is_triggered(); // then the response says Connection: close
            let flow = self.responder.feed(&self.buf[..n], &mut self.out, closing);
            if !self.out.is_empty() {
                self.send_by = arrived + self.write_timeout;
                // Bytes left over are the start of the next request: its clock starts now.
                self.request_since = Some(arrived);
            }
            if !self.responder.in_progress() {
                self.request_since = None;
            }
            self.close_after_send = flow == Flow::Close;
            if self.close_after_send
                && let Some(why) = refusal(&self.out)
            {
                eprintln!("{}: {why}", self.peer);
            }
        }
        self.finish(wait)
    }

    /// Writes what is left of `out`, for at most `wait`; once it is all written, starts
    /// to close the connection if it should, else makes ready for the next request.
    fn finish(&mut self, wait: Duration) -> Step {
        match self.send(wait) {
            // An answer went out: the idle clock starts again. Bytes that answer nothing (an
            // empty line, half a request) do not restart it.
            Ok(true) if !self.out.is_empty() => self.idle_since = Instant::now(),
            Ok(true) => {}
            Ok(false) => return Step::Waited, // the rest at the next step
            Err(e) => {
                self.write_failed(&e);
                return Step::Closed;
            }
        }
        if self.close_after_send {
            self.start_closing();
        } else {
            self.out.clear();
            self.written = 0;
        }
        Step::Read
    }
    // ANCHOR_END: step

    // ANCHOR: read
    /// Reads what the client sends next, within whichever clock runs out first: the idle
    /// timeout between requests, the header timeout from a request's first byte, and the
    /// drain timeout once the server is stopping. It waits at most `wait` (a [`TICK`] or
    /// less), so that it notices a shutdown; `Ok(None)`: `wait` passed with nothing new.
    /// Once the idle clock has run out, or the server is stopping with no request under
    /// way, it still takes what has arrived, without waiting
    /// ([`read_waiting`](Self::read_waiting)).
    fn read(&mut self, shutdown: &Shutdown, wait: Duration) -> Result<Option<usize>, Stall> {
        let now = Instant::now();
        let (mut deadline, mut stall) = match self.request_since {
            None => (self.idle_since + self.idle_timeout, Stall::Idle),
            Some(since) => (since + self.header_timeout, Stall::Slow),
        };
        if shutdown.is_triggered() {
            if !self.responder.in_progress() {
                return self.read_waiting(Stall::Stopping);
            }
            let stopping = *self.stopping_since.get_or_insert(now);
            if stopping + self.drain_timeout < deadline {
                (deadline, stall) = (stopping + self.drain_timeout, Stall::Drained);
            }
        }
        if now >= deadline {
            return match stall {
                // A request may have come in time and waited for a worker to look.
                Stall::Idle => self.read_waiting(Stall::Idle),
                _ => Err(stall),
            };
        }
        self.set_read_timeout(Some((deadline - now).min(wait)))
            .map_err(Stall::Failed)?;
        match self.stream.read(&mut self.buf) {
            Ok(0) => Err(Stall::Eof),
            Ok(n) => Ok(Some(n)),
            // Either way, the next step looks at the clocks again.
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(Stall::Failed(e)),
        }
    }
    // ANCHOR_END: read

    /// Reads without waiting: what has already arrived, else `otherwise`. Once the server
    /// is stopping, a request that has arrived was sent before the client could know; once
    /// the idle clock has run out, one may have come in time.
    fn read_waiting(&mut self, otherwise: Stall) -> Result<Option<usize>, Stall> {
        self.stream.set_nonblocking(true).map_err(Stall::Failed)?;
        let read = self.stream.read(&mut self.buf);
        self.stream.set_nonblocking(false).map_err(Stall::Failed)?;
        match read {
            Ok(0) => Err(Stall::Eof),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                Err(otherwise)
            }
            Err(e) => Err(Stall::Failed(e)),
        }
    }

    // ANCHOR: stalled
    /// Ends the connection after a stall; logs the ones that are the client's fault.
    fn stalled(&mut self, stall: Stall, wait: Duration) -> Step {
        let peer = self.peer;
        match stall {
            Stall::Eof if self.responder.in_progress() => {
                eprintln!("{peer}: closed the connection mid-request");
            }
            Stall::Eof | Stall::Idle | Stall::Stopping => {} // a normal end: just close
            Stall::Slow => {
                let limit = self.header_timeout;
                eprintln!(
                    "{peer}: 408 Request Timeout: the request was not whole within {limit:?}"
                );
                self.out = responder::timed_out();
                (self.written, self.close_after_send) = (0, true);
                self.send_by = Instant::now() + self.write_timeout;
                return self.finish(wait); // then it closes
            }
            Stall::Drained => {
                let limit = self.drain_timeout;
                eprintln!(
                    "{peer}: the server is stopping and the request was not whole within {limit:?}"
                );
            }
            Stall::Failed(e) => eprintln!("{peer}: {e}"),
        }
        Step::Closed
    }
    // ANCHOR_END: stalled

    /// Writes what is left of `out`, for at most `wait`: `Ok(true)` once it is all written,
    /// `Ok(false)` if the client is taking it slowly (a write that timed out, or wrote only
    /// part: it waited). All of it must go by `send_by`, the write timeout after the
    /// request: not `write_all`, whose timeout bounds each `write` call, so that a client
    /// that reads a little at a time could make it last for ever.
    fn send(&mut self, wait: Duration) -> io::Result<bool> {
        while self.written < self.out.len() {
            let left = self.send_by.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            let timeout = left.min(wait);
            if self.socket_write_timeout != timeout {
                self.stream.set_write_timeout(Some(timeout))?;
                self.socket_write_timeout = timeout;
            }
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    if self.written < self.out.len() {
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(false),
                Err(e) if is_timeout(&e) && timeout < left => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn write_failed(&self, e: &io::Error) {
        let peer = self.peer;
        if is_timeout(e) {
            eprintln!("{peer}: not reading our responses (the write timed out)");
        } else {
            eprintln!("{peer}: disconnected mid-response: {e}");
        }
    }

    /// Ends our side of the connection; from now on every step lingers.
    fn start_closing(&mut self) {
        let _ = self.stream.shutdown(Direction::Write);
        self.closing = true;
    }

    /// Reads and discards what the client still sends, for at most [`LINGER`] from the
    /// first linger step (not from the close: in the pool, the connection may wait in the
    /// queue meanwhile) and 64 KiB: closing with unread input makes the kernel send a reset,
    /// which can destroy our last response before the client reads it. One read per step, of
    /// at most `wait`; at the end, what has already arrived is read without waiting.
    fn linger(&mut self, wait: Duration) -> Step {
        let until = *self
            .linger_until
            .get_or_insert_with(|| Instant::now() + LINGER);
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || self.discarded >= LINGER_BYTES {
            self.discard_what_has_arrived();
            return Step::Closed;
        }
        if self.set_read_timeout(Some(left.min(wait))).is_err() {
            return Step::Closed;
        }
        match self.stream.read(&mut self.buf) {
            Ok(0) => Step::Closed, // the client closed too
            Ok(n) => {
                self.discarded += n;
                Step::Read
            }
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => Step::Waited,
            Err(_) => Step::Closed,
        }
    }

    /// The last of lingering: reads, without waiting, what is already there (up to the
    /// 64 KiB cap), so that closing does not find it unread.
    fn discard_what_has_arrived(&mut self) {
        while self.discarded < LINGER_BYTES {
            match self.read_waiting(Stall::Eof) {
                Ok(Some(n)) => self.discarded += n,
                _ => break, // the end, nothing more yet, or an error
            }
        }
    }

    /// Gives the socket's reads this timeout, unless they have it already: a busy
    /// connection then makes one system call per read, not two.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.read_timeout != timeout {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        Ok(())
    }
}

/// A read or write that gave up because its timeout ran out (`WouldBlock` on Unix,
/// `TimedOut` on Windows).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// When the last response in `out` refuses a request (a malformed one: the responder's own
/// routes answer 200, 404 or 405), its status line and reason, for the log.
fn refusal(out: &[u8]) -> Option<String> {
    let start = out.windows(9).rposition(|w| w == b"HTTP/1.1 ")?;
    let response = String::from_utf8_lossy(&out[start..]);
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status_line = head.lines().next()?.strip_prefix("HTTP/1.1 ")?;
    if ["200", "404", "405"]
        .iter()
        .any(|ok| status_line.starts_with(ok))
    {
        return None;
    }
    // `400 Bad Request: bad request: ...` says it twice.
    let (_, reason) = status_line.split_once(' ')?;
    let why = body.trim_end();
    let prefix = format!("{}: ", reason.to_lowercase());
    let why = why.strip_prefix(prefix.as_str()).unwrap_or(why);
    Some(format!("{status_line}: {why}"))
}
