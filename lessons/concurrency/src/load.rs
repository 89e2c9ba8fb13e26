//! A load generator: N keep-alive connections, each asking `GET /` again as soon as the last
//! answer is in, and what came of it: requests per second and latency percentiles.
//!
//! In the order it runs:
//! - [`run`] builds a Tokio runtime (one thread, or `threads` workers) and calls [`run_async`];
//! - [`run_async`] spawns one task per connection and waits for them all;
//! - each task runs a *closed loop* on its connection: send a request, read its response,
//!   record the latency, repeat, until the duration is over or the `requests` are done. After
//!   an error it reconnects, waiting a little longer each time, so that a server that refuses
//!   does not make the generator spin at 100% CPU;
//! - every response is read exactly as far as its `Content-Length` says ([`parse_head`], a
//!   pure function over bytes), so the next one starts where it should on the same connection;
//! - the counts and a latency histogram ([`hdrhistogram`]) come back as a [`Report`], whose
//!   `Display` is what the `load` subcommand prints.
//!
//! A closed loop measures the latency a client *waits*, with `connections` requests in flight
//! at most. It cannot send faster than the server answers, so a slow server gets fewer
//! requests, not a queue: read its requests per second together with its latency.
//!
//! The generator must cost less than the servers it measures: per request it allocates
//! nothing (the request bytes are built once, each connection reuses one read buffer, and
//! the head parser only looks at bytes), and it never holds a lock across an `.await`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The largest response head read; a longer one is an error (`response too large`).
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest response body accepted; a longer one is an error (`response too large`).
/// Bodies are counted and discarded as they arrive, never kept whole.
pub const MAX_BODY: usize = 1024 * 1024;
/// The longest latency the histogram tells apart from longer ones (when `timeout` is
/// shorter; otherwise `timeout` is).
pub const LATENCY_MAX: Duration = Duration::from_secs(60);
/// How long a connection waits before it reconnects after its first error in a row; the
/// wait doubles with every error after it, up to [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(1);
/// The longest wait before reconnecting.
pub const BACKOFF_MAX: Duration = Duration::from_millis(100);

/// Bytes read from the socket at a time (the buffer grows past this only for a long head).
const READ_CHUNK: usize = 2048;

// ANCHOR: config
/// What to load, how hard, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Connections open at once; each has at most one request in flight.
    pub connections: usize,
    /// Stop after this long (requests under way at that moment are not counted).
    pub duration: Option<Duration>,
    /// Stop after this many requests in all connections together, answered or failed.
    /// With neither `duration` nor `requests`, the run lasts [`LoadConfig::new`]'s 5 s.
    pub requests: Option<u64>,
    /// The path of every `GET`.
    pub path: String,
    /// A connect, or a response, that takes longer than this is an error (`timed out`).
    pub timeout: Duration,
    /// Tokio worker threads: 1 runs every connection on the calling thread.
    pub threads: usize,
}
// ANCHOR_END: config

impl LoadConfig {
    /// One connection asking `GET /` for 5 seconds, with a 5 s timeout, on one thread.
    pub fn new(addr: SocketAddr) -> LoadConfig {
        LoadConfig {
            addr,
            connections: 1,
            duration: Some(Duration::from_secs(5)),
            requests: None,
            path: "/".to_string(),
            timeout: Duration::from_secs(5),
            threads: 1,
        }
    }
}

/// What a run measured.
#[derive(Clone)]
pub struct Report {
    /// The server loaded.
    pub addr: SocketAddr,
    /// The connections asked for.
    pub connections: usize,
    /// The request count asked for, if the run was bounded by a count.
    pub requests: Option<u64>,
    /// Requests answered with a 2xx status.
    pub ok: u64,
    /// Failed requests by kind: `connection refused`, `connection reset`, `timed out`,
    /// `closed early`, `malformed response`, `unframed response`, `response too large`,
    /// `status 503`, ...
    pub errors: BTreeMap<String, u64>,
    /// From the first connect to the end of the last connection.
    pub elapsed: Duration,
    /// The latency of every 2xx response, in microseconds: from the first byte of the
    /// request written to the last byte of the response read.
    pub latency: Histogram<u64>,
}

impl Report {
    /// Successful requests per second of the run.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency that `q` percent of successful requests did not exceed (`q` in 0..=100);
    /// zero when no request succeeded.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latency.is_empty() {
            return Duration::ZERO;
        }
        let q = if q.is_nan() {
            100.0
        } else {
            q.clamp(0.0, 100.0)
        };
        Duration::from_micros(self.latency.value_at_percentile(q))
    }

    /// The longest latency of a successful request; zero when none succeeded.
    pub fn max(&self) -> Duration {
        if self.latency.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.latency.max())
    }

    /// Failed requests, of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The histogram's thousands of counters would drown the rest: its summary instead.
        f.debug_struct("Report")
            .field("addr", &self.addr)
            .field("connections", &self.connections)
            .field("requests", &self.requests)
            .field("ok", &self.ok)
            .field("errors", &self.errors)
            .field("elapsed", &self.elapsed)
            .field("p50", &self.percentile(50.0))
            .field("max", &self.max())
            .finish()
    }
}

// ANCHOR: display
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let connections = plural(self.connections as u64, "connection");
        let elapsed = human(self.elapsed);
        match self.requests {
            Some(n) => {
                let requests = plural(n, "request");
                writeln!(f, "{connections} to {}: {requests} in {elapsed}", self.addr)?;
            }
            None => writeln!(f, "{connections} to {} for {elapsed}", self.addr)?,
        }
        let errors = plural(self.error_count(), "error");
        writeln!(f, "requests: {} ok, {errors}", self.ok)?;
        for (kind, n) in &self.errors {
            writeln!(f, "errors: {n} {kind}")?;
        }
        // The transcript checker replaces `<number> (varies by system)`.
        let rate = self.requests_per_second();
        writeln!(f, "requests per second: {rate:.0} (varies by system)")?;
        if self.latency.is_empty() {
            write!(f, "latency: none measured (no request succeeded)")
        } else {
            let p = |q| human(self.percentile(q));
            let (p50, p90, p99, max) = (p(50.0), p(90.0), p(99.0), human(self.max()));
            write!(f, "latency: p50 {p50}, p90 {p90}, p99 {p99}, max {max}")
        }
    }
}
// ANCHOR_END: display

/// `0.12 ms` below a second, `2.00 s` from a second up.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.2} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// Runs the load on a runtime of its own: the calling thread alone when `threads` is 1,
/// else `threads` workers. Fails only if the runtime cannot start; everything the server
/// does is counted in the report.
pub fn run(config: &LoadConfig) -> io::Result<Report> {
    let mut builder = if config.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(config.threads);
        builder
    };
    let runtime = builder.enable_all().build()?;
    Ok(runtime.block_on(run_async(config)))
}

/// What every connection task shares: the request, when to stop, and where to count.
struct Shared {
    addr: SocketAddr,
    request: Box<[u8]>,
    timeout: Duration,
    deadline: Option<Instant>,
    /// `(issued, total)`: a task takes a ticket before each request.
    tickets: Option<(AtomicU64, u64)>,
    /// A few tallies, so that worker threads seldom wait for each other's lock.
    tallies: Vec<Mutex<Tally>>,
}

/// The counts of some of the connections.
struct Tally {
    ok: u64,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
}

impl Tally {
    fn new(latency_max: Duration) -> Tally {
        let high = u64::try_from(latency_max.max(LATENCY_MAX).as_micros()).unwrap_or(u64::MAX);
        Tally {
            ok: 0,
            errors: BTreeMap::new(),
            // 3 significant figures: 1.234 ms and 1.235 ms are told apart.
            latency: Histogram::new_with_bounds(1, high, 3)
                .expect("1, at least 60 s and 3 figures are valid histogram bounds"),
        }
    }

    fn record_ok(&mut self, latency: Duration) {
        self.ok += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros); // longer than the top counts as the top
    }

    fn record_error(&mut self, kind: &str) {
        match self.errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(kind.to_string(), 1);
            }
        }
    }
}

impl Shared {
    fn new(config: &LoadConfig, started: Instant) -> Shared {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
            config.path, config.addr
        );
        // Neither bound given: the default duration, rather than a run that never ends.
        let duration = match (config.duration, config.requests) {
            (None, None) => Some(Duration::from_secs(5)),
            (duration, _) => duration,
        };
        let shards = (config.threads.max(1) * 4).min(config.connections.max(1));
        Shared {
            addr: config.addr,
            request: request.into_bytes().into_boxed_slice(),
            timeout: config.timeout,
            deadline: duration.and_then(|d| started.checked_add(d)),
            tickets: config.requests.map(|total| (AtomicU64::new(0), total)),
            tallies: (0..shards)
                .map(|_| Mutex::new(Tally::new(config.timeout)))
                .collect(),
        }
    }

    /// Whether the connection may send one more request: the deadline has not passed and,
    /// with a request count, a ticket is left. Exactly `total` tickets are ever given out.
    fn may_send(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        match &self.tickets {
            None => true,
            Some((issued, total)) => issued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < *total).then_some(n + 1)
                })
                .is_ok(),
        }
    }

    fn tally(&self, id: usize) -> std::sync::MutexGuard<'_, Tally> {
        let shard = &self.tallies[id % self.tallies.len()];
        // A lock is poisoned only by a panic while held; the counts are still whole.
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

// ANCHOR: run_async
/// Runs the load on the current Tokio runtime: one task per connection.
pub async fn run_async(config: &LoadConfig) -> Report {
    let started = Instant::now();
    let shared = Arc::new(Shared::new(config, started));
    let tasks: Vec<_> = (0..config.connections)
        .map(|id| tokio::spawn(connection(Arc::clone(&shared), id)))
        .collect();
    let mut lost = 0;
    for task in tasks {
        if task.await.is_err() {
            lost += 1; // the task panicked: a bug here, never the server's doing
        }
    }
    let elapsed = started.elapsed();

    let mut report = Report {
        addr: config.addr,
        connections: config.connections,
        requests: config.requests,
        ok: 0,
        errors: BTreeMap::new(),
        elapsed,
        latency: Tally::new(config.timeout).latency,
    };
    for tally in &shared.tallies {
        let tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
        report.ok += tally.ok;
        for (kind, n) in &tally.errors {
            *report.errors.entry(kind.clone()).or_insert(0) += n;
        }
        // Every tally has the same bounds as the report's, so adding cannot overflow them.
        let _ = report.latency.add(&tally.latency);
    }
    if lost > 0 {
        report.errors.insert("load task failed".to_string(), lost);
    }
    report
}
// ANCHOR_END: run_async

// ANCHOR: connection
/// One connection's closed loop: request, response, record, repeat; reconnect after an error.
async fn connection(shared: Arc<Shared>, id: usize) {
    let mut conn: Option<Conn> = None;
    let mut backoff = Duration::ZERO;
    while shared.may_send() {
        let attempt = exchange(&mut conn, &shared);
        let outcome = match shared.deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, attempt).await {
                Ok(outcome) => outcome,
                Err(_) => break, // time is up: the request under way is not counted
            },
            None => attempt.await,
        };
        match outcome {
            Ok(answer) => {
                backoff = Duration::ZERO;
                if answer.close {
                    conn = None; // the server said `Connection: close`: the next one reconnects
                }
                if (200..300).contains(&answer.status) {
                    shared.tally(id).record_ok(answer.latency);
                } else {
                    shared
                        .tally(id)
                        .record_error(&format!("status {}", answer.status));
                }
            }
            Err(kind) => {
                shared.tally(id).record_error(&kind);
                conn = None; // where the next response starts is unknown: start afresh
                backoff = (backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                let wake = Instant::now() + backoff;
                let wake = shared.deadline.map_or(wake, |deadline| wake.min(deadline));
                tokio::time::sleep_until(wake).await;
            }
        }
    }
}
// ANCHOR_END: connection

/// One response, as far as the loop cares.
struct Answer {
    status: u16,
    close: bool,
    latency: Duration,
}

/// A connection and what has been read from it but not yet used.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A failed request, as the short text the report counts it by.
type Failure = Cow<'static, str>;

// ANCHOR: exchange
/// Sends one request on `conn` (connecting first if there is no connection) and reads its
/// response, within the timeout.
async fn exchange(conn: &mut Option<Conn>, shared: &Shared) -> Result<Answer, Failure> {
    let conn = match conn {
        Some(conn) => conn,
        None => {
            let connect = TcpStream::connect(shared.addr);
            let stream = match tokio::time::timeout(shared.timeout, connect).await {
                Ok(stream) => stream.map_err(|e| io_failure(&e))?,
                Err(_) => return Err("timed out".into()),
            };
            // Without it, a small request can wait for the ACK of the last one (Nagle).
            stream.set_nodelay(true).map_err(|e| io_failure(&e))?;
            conn.insert(Conn {
                stream,
                buf: Vec::new(),
            })
        }
    };
    let started = Instant::now();
    let answer = tokio::time::timeout(shared.timeout, conn.request(&shared.request)).await;
    let (status, close) = answer.map_err(|_| Failure::from("timed out"))??;
    Ok(Answer {
        status,
        close,
        latency: started.elapsed(),
    })
}
// ANCHOR_END: exchange

impl Conn {
    /// Writes the request and reads one final response: its status, and whether the server
    /// closes the connection after it.
    async fn request(&mut self, request: &[u8]) -> Result<(u16, bool), Failure> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| io_failure(&e))?;
        loop {
            let mut searched = 0;
            let head = loop {
                if let Some(head) = parse_head(&self.buf, &mut searched)? {
                    break head;
                }
                self.fill().await?;
            };
            self.skip(head.head_len + head.body_len).await?;
            // 1xx responses are interim (RFC 9110 §15.2): the final one follows.
            if !(100..200).contains(&head.status) {
                return Ok((head.status, head.close));
            }
        }
    }

    /// Reads what has arrived into the buffer; the end of the stream here is `closed early`.
    async fn fill(&mut self) -> Result<(), Failure> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err("closed early".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(io_failure(&e)),
        }
    }

    /// Consumes `n` bytes of the stream: what the buffer holds, then reads that are thrown
    /// away, so that a large body never sits in memory whole.
    async fn skip(&mut self, mut n: usize) -> Result<(), Failure> {
        while self.buf.len() < n {
            n -= self.buf.len();
            self.buf.clear();
            self.fill().await?;
        }
        self.buf.drain(..n); // what is left belongs to the next response
        Ok(())
    }
}

/// The kind of an I/O error, as the report counts it.
fn io_failure(err: &io::Error) -> Failure {
    use io::ErrorKind::*;
    match err.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset | ConnectionAborted => "connection reset".into(),
        // The server had closed its end before the request went out, or mid-response.
        BrokenPipe | UnexpectedEof => "closed early".into(),
        TimedOut => "timed out".into(),
        // On connect: every local port towards this server is taken.
        AddrNotAvailable => "no free local port".into(),
        _ => {
            // "Too many open files (os error 24)" -> "too many open files"
            let text = err.to_string();
            let text = text.split(" (os error").next().unwrap_or("");
            let mut short: String = text.chars().take(40).collect();
            if let Some(first) = short.get(..1) {
                let lower = first.to_ascii_lowercase();
                short.replace_range(..1, &lower);
            }
            short.into()
        }
    }
}

/// What a response head says: how long it is, how long its body is, and what comes after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// The bytes of the head, with its final empty line.
    pub head_len: usize,
    /// The bytes of the body that follows (`Content-Length`; 0 for 1xx, 204 and 304).
    pub body_len: usize,
    /// The server closes the connection after this response.
    pub close: bool,
}

// ANCHOR: parse_head
/// Parses the response head at the start of `buf`: `Ok(None)` until its empty line has
/// arrived. `searched` is how far an earlier call looked for it (start at 0), so that a head
/// arriving a byte at a time is not searched from the start each time.
///
/// Only `Content-Length` framing is accepted: a body sent chunked, or until the server
/// closes, is an `unframed response`. A closed loop needs to know where each response
/// ends without waiting for the connection to end.
pub fn parse_head(buf: &[u8], searched: &mut usize) -> Result<Option<Head>, Failure> {
    let from = searched.saturating_sub(3);
    let Some(end) = find(&buf[from.min(buf.len())..], b"\r\n\r\n").map(|at| from + at) else {
        *searched = buf.len();
        if buf.len() > MAX_HEAD {
            return Err("response too large".into());
        }
        return Ok(None);
    };
    if end > MAX_HEAD {
        return Err("response too large".into());
    }
    let malformed = || Failure::from("malformed response");
    // Every line ends in CRLF; a CR or LF anywhere else makes it `None`.
    let mut lines = buf[..end + 2]
        .split_inclusive(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r\n").filter(|l| !l.contains(&b'\r')));
    // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 §4)
    let status_line = lines.next().flatten().ok_or_else(malformed)?;
    let (version, rest) = match status_line {
        [
            b'H',
            b'T',
            b'T',
            b'P',
            b'/',
            b'1',
            b'.',
            minor @ (b'0' | b'1'),
            b' ',
            rest @ ..,
        ] => (*minor, rest),
        _ => return Err(malformed()),
    };
    let status = match rest {
        [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', tail @ ..]
            if tail.is_empty() || tail[0] == b' ' =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(malformed()),
    };
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = version == b'0'; // HTTP/1.0 closes unless it says keep-alive
    for line in lines {
        let line = line.ok_or_else(malformed)?; // a bare CR, or a line ending in LF alone
        let colon = line.iter().position(|&b| b == b':').ok_or_else(malformed)?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.is_empty() || !name.iter().all(|&b| is_token_byte(b)) {
            return Err(malformed()); // also a folded line (obs-fold), which starts with a space
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            for part in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                let n = parse_length(part).ok_or_else(malformed)?;
                if length.is_some_and(|l| l != n) {
                    return Err(malformed()); // two lengths: where does it end? (RFC 9112 §6.3)
                }
                length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version == b'0' {
                    close = false;
                }
            }
        }
    }
    // 1xx, 204 and 304 never have a body (RFC 9112 §6.3 rule 1).
    let body_len = if status < 200 || status == 204 || status == 304 {
        0
    } else if chunked {
        return Err("unframed response".into());
    } else {
        match length {
            Some(n) if n > MAX_BODY => return Err("response too large".into()),
            Some(n) => n,
            None => return Err("unframed response".into()),
        }
    };
    Ok(Some(Head {
        status,
        head_len: end + 4,
        body_len,
        close,
    }))
}
// ANCHOR_END: parse_head

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A `Content-Length` value: digits only, and not absurdly many.
fn parse_length(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `tchar` of RFC 9110 §5.6.2: what a field name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<Head>, Failure> {
        parse_head(text.as_bytes(), &mut 0)
    }

    #[test]
    fn reads_the_length_and_the_connection() {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!\n";
        let h = head(text).expect("valid").expect("complete");
        assert_eq!(h.status, 200);
        assert_eq!(h.head_len + h.body_len, text.len());
        assert!(!h.close);
        let h =
            head("HTTP/1.1 503 Busy\r\nconnection: Keep-Alive, CLOSE\r\ncontent-length: 0\r\n\r\n")
                .expect("valid")
                .expect("complete");
        assert_eq!((h.status, h.body_len, h.close), (503, 0, true));
    }

    #[test]
    fn http_1_0_closes_unless_it_keeps_alive() {
        let closes = head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").expect("valid");
        assert!(closes.expect("complete").close);
        let stays = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(!stays.expect("valid").expect("complete").close);
    }

    #[test]
    fn waits_for_the_empty_line_a_byte_at_a_time() {
        let text = b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n";
        let mut searched = 0;
        for end in 0..text.len() {
            assert_eq!(
                parse_head(&text[..end], &mut searched),
                Ok(None),
                "at {end}"
            );
        }
        let h = parse_head(text, &mut searched)
            .expect("valid")
            .expect("complete");
        assert_eq!((h.status, h.head_len, h.body_len), (204, text.len(), 0));
    }

    #[test]
    fn refuses_what_it_cannot_frame() {
        let unframed = Err(Failure::from("unframed response"));
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            unframed
        );
        assert_eq!(head("HTTP/1.1 200 OK\r\n\r\n"), unframed);
        let too_large = Err(Failure::from("response too large"));
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n"),
            too_large
        );
        assert_eq!(parse_head(&vec![b'a'; MAX_HEAD + 1], &mut 0), too_large);
    }

    #[test]
    fn refuses_what_is_not_a_response() {
        for text in [
            "SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad\rName: 0\r\n\r\n",
        ] {
            assert_eq!(
                head(text),
                Err(Failure::from("malformed response")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn durations_read_like_the_book() {
        assert_eq!(human(Duration::from_micros(120)), "0.12 ms");
        assert_eq!(human(Duration::from_micros(1530)), "1.53 ms");
        assert_eq!(human(Duration::from_secs(2)), "2.00 s");
    }
}
