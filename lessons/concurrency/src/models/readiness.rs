//! The readiness loop (the `poll` model): one thread, every socket non-blocking, and one
//! system call that waits until *some* socket is ready.
//!
//! The blocking models give each connection a thread that sleeps in `read` until its client
//! sends something. Here no call ever sleeps on one socket. The loop registers the listener
//! and every connection with the kernel (`epoll` on Linux, `kqueue` on macOS, through `mio`),
//! asks "which of these can I read or write now?", and serves exactly those, each until it
//! would block. A connection is then a small struct in a table, not a thread: its socket, its
//! [`Responder`], the output not yet written, and its deadlines. Waiting for a slow client
//! costs the memory of that struct and nothing else.
//!
//! What it costs: the code the blocking models get for free from the thread's stack. Where a
//! thread simply waits in `read` or `write_all`, this loop must remember where each
//! connection stands (half a request in, half a response out), restart it from there on the
//! next event, and keep its timers itself. And everything runs on one core: one slow
//! handler (a long computation, a blocking file read) stalls every client.
//!
//! When it is right: many connections that mostly wait (chat, keep-alive HTTP, proxies), on
//! one thread, with handlers that never block. This is what an async runtime does
//! underneath: Tokio's reactor is this loop (on `mio`), and the `async` model's tasks are
//! these per-connection structs, written as straight-line code that the compiler turns into
//! state machines.

use std::collections::BTreeSet;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

use super::{is_disconnect, reachable};
use crate::responder::{self, Flow, Responder};
use crate::{Config, Shutdown};

/// The listener's token; connection `i` of the table is `Token(i + 1)`.
const LISTENER: Token = Token(0);

/// One read buffer serves every connection: the loop reads one socket at a time, and the
/// bytes go into that connection's responder before the next read.
const READ_BUF: usize = 16 * 1024;

/// Reads per connection per turn of the loop: a client that streams requests without pause
/// must not keep the loop from everyone else. The connection is served again on the next
/// turn.
const READS_PER_TURN: usize = 16;

/// After our last response, how long we read (and throw away) what the client still sends
/// before we close: closing a socket with unread input sends a reset, which can destroy the
/// response on its way.
const LINGER: Duration = Duration::from_secs(1);

/// After a failed `accept` (a full file table), wait this long before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

// ANCHOR: run
/// Serves HTTP on `listener` from one thread until `shutdown` is triggered, then lets the
/// requests under way finish (within [`Config::drain_timeout`]) and returns.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let mut server = EventLoop::new(mio::net::TcpListener::from_std(listener), config)?;
    shutdown.wake_by_connecting_to(reachable(addr));
    server.run(&shutdown)
}
// ANCHOR_END: run

// ANCHOR: event_loop_struct
/// Everything the loop knows: the sockets it waits on, and each connection's state.
struct EventLoop {
    poll: Poll,
    /// `None` once shutdown began: no more connections are accepted.
    listener: Option<mio::net::TcpListener>,
    /// The connections, by token. A closed connection leaves a `None`, reused by the next.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    /// Every connection's next deadline, in time order (see [`EventLoop::expire`]).
    timers: BTreeSet<(Instant, Token)>,
    /// Connections that stopped at [`READS_PER_TURN`] and may have more to read.
    again: Vec<Token>,
    buf: Box<[u8]>,
    config: Config,
    /// Set when shutdown begins: the loop ends then, or when no connection is left.
    drain_until: Option<Instant>,
    accept_retry: Option<Instant>,
}
// ANCHOR_END: event_loop_struct

impl EventLoop {
    fn new(mut listener: mio::net::TcpListener, config: Config) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(EventLoop {
            poll,
            listener: Some(listener),
            conns: Vec::new(),
            free: Vec::new(),
            open: 0,
            timers: BTreeSet::new(),
            again: Vec::new(),
            buf: vec![0; READ_BUF].into_boxed_slice(),
            config,
            drain_until: None,
            accept_retry: None,
        })
    }

    // ANCHOR: event_loop
    /// The loop: wait for readiness (or the nearest deadline), serve the connections that
    /// are ready, expire the ones whose clock ran out, then accept.
    fn run(&mut self, shutdown: &Shutdown) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut ready: Vec<Token> = Vec::new();
        loop {
            if shutdown.is_triggered() {
                self.begin_shutdown(Instant::now());
            }
            if let Some(until) = self.drain_until
                && (self.open == 0 || Instant::now() >= until)
            {
                return Ok(()); // what is still open closes as `self` drops
            }
            let timeout = self.timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    continue; // a signal arrived; just wait again
                }
                return Err(e);
            }
            let now = Instant::now();
            let mut listener_ready = false;
            ready.append(&mut self.again);
            for event in &events {
                match event.token() {
                    LISTENER => listener_ready = true,
                    token => {
                        if event.is_read_closed()
                            && let Some(conn) = self.conn(token)
                        {
                            conn.read_closed = true;
                        }
                        ready.push(token);
                    }
                }
            }
            // Connections before the listener: a client that closed is gone before a new
            // one asks for its place.
            for token in ready.drain(..) {
                self.serve(token, now);
            }
            self.expire(now);
            if listener_ready || self.accept_retry.is_some_and(|at| at <= now) {
                self.accept_retry = None;
                self.accept_all(shutdown, now);
            }
        }
    }
    // ANCHOR_END: event_loop

    /// How long `poll` may wait: until the nearest deadline, or for ever if there is none
    /// (an event will come: a connection, data, or the shutdown's wake-up connection).
    fn timeout(&self, now: Instant) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        let next = [
            self.timers.first().map(|&(at, _)| at),
            self.drain_until,
            self.accept_retry,
        ];
        let next = next.into_iter().flatten().min()?;
        Some(next.saturating_duration_since(now))
    }

    // ANCHOR: accept
    /// Accepts every connection waiting in the listener's queue. Edge-triggered readiness
    /// (see [`Conn::serve`]) means: until `accept` says `WouldBlock`, or no event reminds us.
    fn accept_all(&mut self, shutdown: &Shutdown, now: Instant) {
        while let Some(listener) = &self.listener {
            if shutdown.is_triggered() {
                self.begin_shutdown(now); // the connection that woke us is the signal's
                return;
            }
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // The client gave up while it waited in the queue: not our problem.
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // A full file table (EMFILE): the connection stays queued; try later.
                    eprintln!("accept failed: {e}");
                    self.accept_retry = Some(now + ACCEPT_RETRY);
                    return;
                }
            };
            if shutdown.is_triggered() {
                continue; // drop the wake-up connection; the check above stops the loop
            }
            if self.open >= self.config.max_connections {
                let max = self.config.max_connections;
                eprintln!("{peer}: turned away with 503, {max} connections already");
                turn_away(stream);
                continue;
            }
            if let Err(e) = self.add(stream, peer, now) {
                eprintln!("{peer}: dropped: {e}");
            }
        }
    }
    // ANCHOR_END: accept

    /// Puts a new connection in the table and registers it for reading.
    fn add(&mut self, mut stream: TcpStream, peer: SocketAddr, now: Instant) -> io::Result<()> {
        // Each response leaves in one write; Nagle's algorithm would hold a small write back
        // until the client's ACK of the previous one, and the client delays its ACKs: the
        // 40 ms stall. Our writes are whole responses, so there is nothing to coalesce.
        stream.set_nodelay(true)?;
        let index = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let token = Token(index + 1);
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            self.free.push(index);
            return Err(e);
        }
        self.conns[index] = Some(Conn::new(stream, peer, &self.config, now));
        self.open += 1;
        self.schedule(token);
        Ok(())
    }

    fn conn(&mut self, token: Token) -> Option<&mut Conn> {
        let index = token.0.checked_sub(1)?;
        self.conns.get_mut(index)?.as_mut()
    }

    // ANCHOR: serve
    /// Serves one connection that the kernel says is ready. A panic in the responder (the
    /// `/panic` route) is caught here: that connection closes, the loop goes on. Without
    /// `catch_unwind` one bad request would end the only thread, and every client with it.
    fn serve(&mut self, token: Token, now: Instant) {
        let closing = self.drain_until.is_some();
        let (config, buf, registry) = (&self.config, &mut self.buf, self.poll.registry());
        let Some(conn) = token
            .0
            .checked_sub(1)
            .and_then(|index| self.conns.get_mut(index)?.as_mut())
        else {
            return; // closed earlier in this turn
        };
        let peer = conn.peer;
        let served = panic::catch_unwind(AssertUnwindSafe(|| {
            conn.serve(buf, config, registry, token, now, closing)
        }));
        match served {
            Ok(Ok(Next::Wait)) => self.schedule(token),
            Ok(Ok(Next::Again)) => {
                self.again.push(token);
                self.schedule(token);
            }
            Ok(Ok(Next::Close)) => self.close(token),
            Ok(Err(e)) => {
                if !is_disconnect(&e) {
                    eprintln!("{peer}: {e}");
                }
                self.close(token);
            }
            Err(_) => {
                eprintln!("{peer}: the handler panicked; connection closed");
                self.close(token);
            }
        }
    }
    // ANCHOR_END: serve

    // ANCHOR: timers
    /// Every connection has one entry in `timers`, at or before its real deadline. A
    /// deadline that moves later (the idle clock restarts after every response) leaves the
    /// entry where it is: when the entry comes due, the connection is checked and, if its
    /// deadline has moved, filed again. So a busy connection touches the set about once per
    /// idle timeout, not once per request. Only a deadline that moves earlier refiles now.
    ///
    /// (The simpler way, a sweep over every connection each 100 ms, costs a wake-up ten
    /// times a second and a pass over the whole table; deadlines fire up to 100 ms late. A
    /// runtime like Tokio keeps a timer wheel: like this set, but O(1) per timer.)
    fn schedule(&mut self, token: Token) {
        let Some(conn) = self.conn(token) else {
            return;
        };
        let (_, due) = conn.clock();
        let filed = conn.timer;
        if filed.is_some_and(|at| at <= due) {
            return;
        }
        conn.timer = Some(due);
        if let Some(at) = filed {
            self.timers.remove(&(at, token));
        }
        self.timers.insert((due, token));
    }

    /// Acts on every clock that ran out: an idle connection closes, a request that took too
    /// long gets `408`, a client that does not read our responses is dropped.
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, token)) = self.timers.first() {
            if at > now {
                return;
            }
            self.timers.pop_first();
            let timeout = self.config.header_timeout;
            let Some(conn) = self.conn(token) else {
                continue;
            };
            conn.timer = None;
            let (clock, due) = conn.clock();
            if due > now {
                self.schedule(token); // the deadline moved; file it again
                continue;
            }
            match clock {
                Clock::Idle | Clock::Linger => self.close(token),
                Clock::Request => {
                    eprintln!("{}: 408: request not complete in {timeout:?}", conn.peer);
                    conn.out.extend_from_slice(&responder::timed_out());
                    conn.request_until = None;
                    conn.last = true;
                    self.serve(token, now); // writes the 408, then lingers
                }
                Clock::Write => {
                    eprintln!("{}: not reading our responses; closed", conn.peer);
                    self.close(token);
                }
            }
        }
    }
    // ANCHOR_END: timers

    /// Forgets a connection. Dropping its socket closes it.
    fn close(&mut self, token: Token) {
        let Some(slot) = token.0.checked_sub(1).and_then(|i| self.conns.get_mut(i)) else {
            return;
        };
        let Some(mut conn) = slot.take() else {
            return;
        };
        if let Some(at) = conn.timer {
            self.timers.remove(&(at, token));
        }
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.free.push(token.0 - 1);
        self.open -= 1;
    }

    // ANCHOR: shutdown
    /// Stops accepting, and serves every connection once more as a stopping server: each
    /// reads what has already arrived (bytes whose event may still be on its way), a
    /// connection with nothing under way then closes, and the others may finish: their
    /// next response says `Connection: close`.
    fn begin_shutdown(&mut self, now: Instant) {
        if self.drain_until.is_some() {
            return;
        }
        self.drain_until = Some(now + self.config.drain_timeout);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        } // dropped: new connections are refused
        for index in 0..self.conns.len() {
            self.serve(Token(index + 1), now);
        }
    }
    // ANCHOR_END: shutdown
}

/// What the loop does with a connection after serving it.
enum Next {
    /// Wait for its next event (or its deadline).
    Wait,
    /// Serve it again on the next turn: it stopped at [`READS_PER_TURN`].
    Again,
    Close,
}

/// Which of a connection's clocks runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// Between requests: [`Config::idle_timeout`].
    Idle,
    /// Part of a request is in: [`Config::header_timeout`] from its first byte.
    Request,
    /// A response waits for the client to read: [`Config::write_timeout`].
    Write,
    /// Our side is closed; we wait for the client's: [`LINGER`].
    Linger,
}

// ANCHOR: conn
/// One connection: its socket, where its HTTP exchange stands, and its deadlines. This is
/// what a blocking model keeps on a thread's stack, made explicit.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    responder: Responder,
    /// Responses not yet written: `out[written..]`.
    out: Vec<u8>,
    written: usize,
    /// The responses in `out` end the connection.
    last: bool,
    /// Our side is shut: what still arrives is read and thrown away, until the client's EOF.
    lingering: bool,
    /// Registered for `WRITABLE` too, while a response waits for room in the send buffer.
    writable: bool,
    /// The kernel said the client closed its side: read to the end, even after a short
    /// read (its EOF came in the same event as its last bytes, and no event follows).
    read_closed: bool,
    idle_until: Instant,
    request_until: Option<Instant>,
    write_until: Option<Instant>,
    linger_until: Option<Instant>,
    /// Where this connection's entry in `EventLoop::timers` is.
    timer: Option<Instant>,
}
// ANCHOR_END: conn

impl Conn {
    fn new(stream: TcpStream, peer: SocketAddr, config: &Config, now: Instant) -> Conn {
        Conn {
            stream,
            peer,
            responder: Responder::new(config),
            out: Vec::new(),
            written: 0,
            last: false,
            lingering: false,
            read_closed: false,
            writable: false,
            idle_until: now + config.idle_timeout,
            request_until: None,
            write_until: None,
            linger_until: None,
            timer: None,
        }
    }

    /// The clock that runs now, and when it runs out.
    fn clock(&self) -> (Clock, Instant) {
        if let Some(at) = self.linger_until {
            (Clock::Linger, at)
        } else if let Some(at) = self.write_until {
            (Clock::Write, at)
        } else if let Some(at) = self.request_until {
            (Clock::Request, at)
        } else {
            (Clock::Idle, self.idle_until)
        }
    }

    /// Something is under way that a stopping server lets finish.
    fn busy(&self) -> bool {
        self.responder.in_progress() || self.written < self.out.len() || self.lingering
    }

    // ANCHOR: conn_serve
    /// Serves the connection until it would block: write what is pending; read; hand the
    /// bytes to the responder; write its answers (all the responses to one read's requests
    /// in one write); repeat.
    ///
    /// `mio`'s readiness is edge-triggered: the kernel reports a socket once when it
    /// *becomes* readable, not again while it stays readable. So one event means "read
    /// until `WouldBlock`"; stopping earlier leaves bytes that no further event announces.
    /// That is also why, after a blocked write drains, this goes on to read: the bytes that
    /// came meanwhile had their event while we were not reading. (One shortcut: a read that
    /// fills less than the buffer has emptied the socket, and the next byte to arrive
    /// brings a new event; so the read that would only say `WouldBlock` is skipped, one
    /// system call less per request. Tokio does the same.)
    fn serve(
        &mut self,
        buf: &mut [u8],
        config: &Config,
        registry: &Registry,
        token: Token,
        now: Instant,
        closing: bool,
    ) -> io::Result<Next> {
        let mut reads = 0;
        let mut emptied = false;
        loop {
            if self.written < self.out.len() {
                let drained = self.flush(config, now)?;
                self.want_writable(!drained, registry, token)?;
                if !drained {
                    return Ok(Next::Wait); // no reading while a response waits: backpressure
                }
            }
            if self.last && !self.lingering {
                // The last response is out: send FIN, then read until the client's.
                let _ = self.stream.shutdown(Direction::Write);
                self.lingering = true;
                self.request_until = None;
                self.linger_until = Some(now + LINGER);
            }
            if emptied {
                return Ok(self.wait(closing));
            }
            if reads == READS_PER_TURN {
                return Ok(Next::Again);
            }
            let n = match self.stream.read(buf) {
                Ok(0) => return Ok(Next::Close), // the client closed its side
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(self.wait(closing)),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            reads += 1;
            emptied = n < buf.len() && !self.read_closed;
            if !self.lingering {
                self.take(&buf[..n], config, now, closing);
            }
        }
    }

    /// Nothing more to read for now: wait for the next event. A stopping server closes a
    /// connection instead, once it has nothing under way.
    fn wait(&self, closing: bool) -> Next {
        if closing && !self.busy() {
            Next::Close
        } else {
            Next::Wait
        }
    }
    // ANCHOR_END: conn_serve

    // ANCHOR: take
    /// Hands bytes to the responder, and restarts the clocks: the request clock starts with
    /// a request's first byte (or when a read finished one request and began the next); the
    /// idle clock when no request is under way.
    fn take(&mut self, bytes: &[u8], config: &Config, now: Instant, closing: bool) {
        let was_in_progress = self.responder.in_progress();
        let before = self.out.len();
        let flow = self.responder.feed(bytes, &mut self.out, closing);
        let answered = self.out.len() > before;
        if flow == Flow::Close {
            self.last = true;
            self.request_until = None;
        } else if !self.responder.in_progress() {
            self.request_until = None;
            self.idle_until = now + config.idle_timeout;
        } else if !was_in_progress || answered {
            self.request_until = Some(now + config.header_timeout);
        }
    }
    // ANCHOR_END: take

    // ANCHOR: flush
    /// Writes what is pending until done (`true`) or the send buffer is full (`false`): a
    /// non-blocking write may take part of the bytes, and the rest waits for `WRITABLE`.
    fn flush(&mut self, config: &Config, now: Instant) -> io::Result<bool> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.write_until.get_or_insert(now + config.write_timeout);
                    return Ok(false);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // Keep the buffer for the next responses, unless a burst made it big.
        self.out.clear();
        if self.out.capacity() > 64 * 1024 {
            self.out = Vec::new();
        }
        self.written = 0;
        self.write_until = None;
        self.idle_until = now + config.idle_timeout;
        Ok(true)
    }
    // ANCHOR_END: flush

    /// Asks for `WRITABLE` events only while a response waits: otherwise every ACK that
    /// frees room in the send buffer could wake the loop for nothing.
    fn want_writable(&mut self, on: bool, registry: &Registry, token: Token) -> io::Result<()> {
        if self.writable != on {
            let interest = if on {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, token, interest)?;
            self.writable = on;
        }
        Ok(())
    }
}

/// Answers a connection there is no room for with `503` and closes it, without making the
/// loop wait: a fresh socket's send buffer is empty, so the write fits; then it reads (and
/// discards) what the client has already sent, so that the close does not reset the
/// connection and destroy the response.
fn turn_away(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.write(&responder::busy());
    let _ = stream.shutdown(Direction::Write);
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}
