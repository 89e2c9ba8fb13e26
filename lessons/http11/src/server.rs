//! The server: static files under a root folder, and two teaching routes, over HTTP/1.1.
//!
//! It is built in the TCP lesson's layers, each readable on its own:
//! - [`run`]: the accept loop, the connection limit (extra clients get `503`) and shutdown;
//! - `serve_client`: one connection's loop: read what arrived, answer every whole request
//!   in it with one write, close when a request asks to, or fails to parse;
//! - `Connection`: one socket with its parser and the clocks that bound what a client may
//!   cost: idle between requests, a request's head, its body, the connection's lifetime;
//! - `answer`: one request to one response: the routes, methods, files and conditional
//!   requests. It never touches the socket.
//!
//! Routes: `GET /echo` answers with the request head it received, as text; `POST /echo`
//! answers with the body it read; every other path is a file under [`Config::root`],
//! for `GET` and `HEAD`.
//!
//! The server logs one line on stderr for each client that goes wrong (a malformed request,
//! a timeout, a disconnect mid-response, a turned-away connection), and nothing for clients
//! that behave.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown as Direction, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::path::{self, PathError};
use crate::request::{Limits, Method, ParseError, Parser, Request, Version};
use crate::response::{Response, http_date, reason};
use crate::shutdown::Shutdown;

// ANCHOR: config
/// What the server serves, and the limits that bound what one client can cost.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder served: `/` is `root/index.html`. Nothing outside it is ever served.
    pub root: PathBuf,
    /// Limits on one request: its line, its header fields, its body.
    pub limits: Limits,
    /// A keep-alive connection with no request under way is closed after this long.
    pub idle_timeout: Duration,
    /// A request's head must arrive whole within this long of its first byte, or the
    /// client gets `408` and the connection closes: a client that trickles a byte now and
    /// then cannot hold its thread (slowloris).
    pub header_timeout: Duration,
    /// Once the head is in, the body gets this much longer.
    pub body_timeout: Duration,
    /// A client that does not read our responses for this long is disconnected.
    pub write_timeout: Duration,
    /// How many connections are served at once; more are answered `503` and closed.
    pub max_connections: usize,
    /// How many requests one connection may make; the last is answered with
    /// `Connection: close`.
    pub max_requests: usize,
    /// A connection is closed after this long, after the response under way.
    pub lifetime: Duration,
}
// ANCHOR_END: config

impl Config {
    /// The defaults, serving `root`.
    pub fn new(root: impl Into<PathBuf>) -> Config {
        Config {
            root: root.into(),
            limits: Limits::default(),
            idle_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: 64,
            max_requests: 1000,
            lifetime: Duration::from_secs(300),
        }
    }
}

/// A read or write that gave up because its timeout ran out.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Where to connect to reach a listener bound to `addr`: loopback for the unspecified
/// address.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if !addr.ip().is_unspecified() {
        return addr;
    }
    let loopback: IpAddr = match addr {
        SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(loopback, addr.port())
}

/// The open connections, so that shutdown can close them and wake their threads.
type Clients = Arc<Mutex<HashMap<u64, TcpStream>>>;

// ANCHOR: run
/// Serves HTTP on `listener` until `shutdown` is triggered, then closes every connection,
/// waits for their threads and returns.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    shutdown.wake_by_connecting_to(reachable(listener.local_addr()?));
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
                std::thread::sleep(Duration::from_millis(50)); // let clients finish
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // that was the wake-up connection
        }
        threads.retain(|t| !t.is_finished());
        if threads.len() >= config.max_connections {
            let max = config.max_connections;
            eprintln!("{peer}: turned away with 503, {max} connections already");
            turn_away(stream);
            continue;
        }
        match spawn_client(id, stream, peer, &clients, &config) {
            Ok(thread) => threads.push(thread),
            Err(e) => eprintln!("{peer}: dropped: {e}"),
        }
    }

    // Wake every connection's thread: shutting a socket down ends its pending read.
    for stream in lock(&clients).values() {
        let _ = stream.shutdown(Direction::Both);
    }
    for thread in threads {
        let _ = thread.join();
    }
    Ok(())
}
// ANCHOR_END: run

/// Registers the connection, so that shutdown can reach it, and serves it on a thread of
/// its own.
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
            let _registered = registered; // unregistered when the thread ends, even by a panic
            if let Err(e) = serve_client(stream, &config) {
                eprintln!("{peer}: {e}");
            }
        })
}

/// A connection's entry in the registry, removed when dropped.
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

// ANCHOR: serve_client
/// Serves one connection until the client closes it, asks to close, errs or times out.
/// The responses to all the requests one read brought (pipelining) go out in one write,
/// in order.
fn serve_client(stream: TcpStream, config: &Config) -> io::Result<()> {
    let mut connection = Connection::new(stream, config)?;
    loop {
        let batch = match connection.read_requests() {
            Ok(Some(batch)) => batch,
            Ok(None) => return connection.finish(),
            Err(Stall::Idle) => return Ok(()), // an idle keep-alive connection: just close
            Err(Stall::Request(why)) => {
                let response = error_response(408, &why);
                return Err(connection.refuse(&response, format!("408 Request Timeout: {why}")));
            }
            Err(Stall::Io(e)) => return Err(e),
        };
        let mut out = Vec::new();
        let mut close = false;
        for request in &batch.requests {
            connection.served += 1;
            let last = connection.served >= config.max_requests || connection.too_old();
            close = last || !request.keep_alive();
            let reply = answer(request, config, close);
            connection.send_reply(&mut out, reply)?;
            if close {
                break; // what came after a close is not answered
            }
        }
        if let (false, Some(e)) = (close, batch.error) {
            connection.send(&out)?;
            let why = parse_error_text(&e);
            let response = error_response(e.status(), &why);
            return Err(connection.refuse(
                &response,
                format!("{} {}: {why}", e.status(), reason(e.status())),
            ));
        }
        connection.send(&out)?;
        if close {
            return connection.finish();
        }
    }
}
// ANCHOR_END: serve_client

/// Why a connection stopped waiting for the client.
enum Stall {
    /// No request under way, and none came within the idle timeout (or the lifetime ended).
    Idle,
    /// A request began but did not arrive whole in time.
    Request(String),
    Io(io::Error),
}

/// What one read brought: the requests it completed, then maybe the error that ends the
/// connection.
struct Batch {
    requests: Vec<Request>,
    error: Option<ParseError>,
}

/// A response ready to send: its bytes, and maybe a file to stream after them.
struct Reply {
    bytes: Vec<u8>,
    file: Option<(File, u64)>,
}

// ANCHOR: connection
// ANCHOR: connection_struct
/// One client's connection: a socket, its request parser, and the clocks that bound how
/// long the client may take.
struct Connection {
    stream: TcpStream,
    parser: Parser,
    config: Config,
    opened: Instant,
    /// When the last response went out (or the connection opened): the idle clock.
    last_answer: Instant,
    /// When the request now partly buffered began, and whether its head is whole.
    request_started: Option<Instant>,
    head_done: bool,
    /// The last bytes of the request under way, to find the end of its head across reads.
    tail: Vec<u8>,
    served: usize,
    buf: Vec<u8>,
}
// ANCHOR_END: connection_struct

impl Connection {
    fn new(stream: TcpStream, config: &Config) -> io::Result<Connection> {
        stream.set_write_timeout(Some(config.write_timeout))?;
        Ok(Connection {
            stream,
            parser: Parser::new(config.limits),
            config: config.clone(),
            opened: Instant::now(),
            last_answer: Instant::now(),
            request_started: None,
            head_done: false,
            tail: Vec::new(),
            served: 0,
            buf: vec![0; 16 * 1024],
        })
    }

    fn too_old(&self) -> bool {
        self.opened.elapsed() >= self.config.lifetime
    }

    // ANCHOR: read_requests
    /// Waits for the next read, within whichever clock runs out first, and parses what it
    /// brought. `Ok(None)` is the end of the stream.
    fn read_requests(&mut self) -> Result<Option<Batch>, Stall> {
        let n = loop {
            let wait = self.time_left()?;
            self.stream
                .set_read_timeout(Some(wait))
                .map_err(Stall::Io)?;
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => continue, // `time_left` says which clock it was
                Err(e) => return Err(Stall::Io(e)),
            }
        };
        let bytes = &self.buf[..n];
        self.parser.push(bytes);
        let mut batch = Batch {
            requests: Vec::new(),
            error: None,
        };
        loop {
            match self.parser.next_request() {
                Ok(Some(request)) => batch.requests.push(request),
                Ok(None) => break,
                Err(e) => {
                    batch.error = Some(e);
                    break;
                }
            }
        }
        self.restart_clocks(n, !batch.requests.is_empty());
        Ok(Some(batch))
    }

    // ANCHOR_END: read_requests

    // ANCHOR: clocks
    /// After a read of `n` bytes: the request clock runs while a request is partly
    /// buffered, from its first byte. Its head is whole once a CRLF CRLF came. (After a
    /// read that also finished a request, the clock restarts with this read, and the
    /// next request's head counts as not whole yet: a pipelined request gets the header
    /// timeout for its body too, which errs on the strict side.)
    fn restart_clocks(&mut self, n: usize, finished_one: bool) {
        if !self.parser.in_progress() {
            self.request_started = None;
            self.tail.clear();
            return;
        }
        if finished_one || self.request_started.is_none() {
            self.request_started = Some(Instant::now());
            self.head_done = false;
            self.tail.clear();
            if finished_one {
                return;
            }
        }
        if !self.head_done {
            self.tail.extend_from_slice(&self.buf[..n]);
            self.head_done = self.tail.windows(4).any(|w| w == b"\r\n\r\n");
            let keep = self.tail.len().saturating_sub(3);
            self.tail.drain(..keep);
        }
    }

    /// How long the next read may wait: until the first clock runs out. Between requests:
    /// the idle timeout; during one: the header timeout, plus the body timeout once the
    /// head is in; always: the lifetime.
    fn time_left(&self) -> Result<Duration, Stall> {
        let lifetime = self.config.lifetime.saturating_sub(self.opened.elapsed());
        let (clock, since, stall) = match self.request_started {
            None => (self.config.idle_timeout, self.last_answer, None),
            Some(started) => {
                let mut limit = self.config.header_timeout;
                let mut what = "request head";
                if self.head_done {
                    limit += self.config.body_timeout;
                    what = "request body";
                }
                let why = format!("{what} not complete within {limit:?}");
                (limit, started, Some(why))
            }
        };
        let left = clock.saturating_sub(since.elapsed()).min(lifetime);
        if !left.is_zero() {
            return Ok(left);
        }
        Err(match stall {
            Some(why) => Stall::Request(why),
            None => Stall::Idle,
        })
    }

    // ANCHOR_END: clocks

    /// Adds a reply to `out`; a file body is streamed instead when it is large, after
    /// `out` is sent.
    fn send_reply(&mut self, out: &mut Vec<u8>, reply: Reply) -> io::Result<()> {
        out.extend_from_slice(&reply.bytes);
        let Some((mut file, len)) = reply.file else {
            return Ok(());
        };
        self.send(out)?;
        out.clear();
        let mut left = len;
        let mut chunk = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let got = file.read(&mut chunk[..want])?;
            if got == 0 {
                return Err(io::Error::other("file shrank while it was being sent"));
            }
            self.send(&chunk[..got])?;
            left -= got as u64;
            if self.too_old() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    "connection open for too long",
                ));
            }
        }
        Ok(())
    }

    /// Sends bytes; a write that times out means the client does not read what we send.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.last_answer = Instant::now();
        let sent = self.stream.write_all(bytes).map_err(|e| {
            if is_timeout(&e) {
                io::Error::new(
                    ErrorKind::TimedOut,
                    "not reading our responses (write timed out)",
                )
            } else {
                io::Error::new(e.kind(), format!("disconnected mid-response: {e}"))
            }
        });
        self.last_answer = Instant::now();
        sent
    }

    // ANCHOR: refuse
    /// Sends an error response and closes. Before the close it reads, and discards, what
    /// the client still sends, for at most a second and 64 KiB: closing with unread input
    /// would send a reset, and the client could lose the response.
    fn refuse(&mut self, response: &[u8], why: String) -> io::Error {
        let _ = self.stream.write_all(response);
        let _ = self.stream.shutdown(Direction::Write);
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = io::copy(
            &mut Read::take(&mut self.stream, 64 * 1024),
            &mut io::sink(),
        );
        io::Error::new(ErrorKind::InvalidData, why)
    }

    // ANCHOR_END: refuse

    /// The client closed its side, or we answered a request that asked to close. A
    /// request left half-way means the client vanished mid-request.
    fn finish(mut self) -> io::Result<()> {
        let half_way = self.parser.in_progress();
        let _ = self.stream.shutdown(Direction::Write);
        // Drain briefly, so that our last response is not lost to a reset.
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(200)));
        let _ = io::copy(
            &mut Read::take(&mut self.stream, 64 * 1024),
            &mut io::sink(),
        );
        if half_way {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "closed mid-request",
            ));
        }
        Ok(())
    }
}
// ANCHOR_END: connection

// ANCHOR: answer
/// One request to one response, without touching the socket. `close` says this response
/// ends the connection.
fn answer(request: &Request, config: &Config, close: bool) -> Reply {
    let head_only = request.method == Method::Head;
    let mut extra: Vec<(&str, String)> = Vec::new();
    if close {
        extra.push(("Connection", "close".into()));
    } else if request.version == Version::Http10 {
        extra.push(("Connection", "keep-alive".into()));
    }
    let hosts = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .count();
    if (request.version == Version::Http11 && hosts != 1) || hosts > 1 {
        return small(
            400,
            &extra,
            b"a request needs exactly one Host field\n",
            TEXT,
            head_only,
        );
    }
    let Some(path) = origin_path(&request.target) else {
        return small(400, &extra, b"bad request target\n", TEXT, head_only);
    };
    if let Method::Other(_) = request.method {
        return small(501, &extra, b"unknown method\n", TEXT, head_only);
    }
    let route_path = path.split('?').next().unwrap_or("");
    if route_path == "/echo" {
        return echo(request, &extra);
    }
    match request.method {
        Method::Get | Method::Head => serve_file(request, path, config, &extra),
        _ => {
            extra.push(("Allow", "GET, HEAD".into()));
            small(
                405,
                &extra,
                b"this path allows GET and HEAD\n",
                TEXT,
                head_only,
            )
        }
    }
}
// ANCHOR_END: answer

const TEXT: &str = "text/plain; charset=utf-8";

/// The path and query of a request target: origin form as it is, absolute form
/// (`http://host/path`, RFC 9112 §3.2.2) without its scheme and authority.
fn origin_path(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let rest = target.strip_prefix("http://")?;
    rest.find('/').map(|i| &rest[i..]).or(Some("/"))
}

// ANCHOR: echo
/// `GET /echo`: the request head as the parser saw it, as text. `POST /echo`: the body.
fn echo(request: &Request, extra: &[(&str, String)]) -> Reply {
    match request.method {
        Method::Get | Method::Head => {
            let version = match request.version {
                Version::Http10 => "HTTP/1.0",
                Version::Http11 => "HTTP/1.1",
            };
            let method = request.method.as_str();
            let mut text = format!("{method} {} {version}\n", request.target);
            for (name, value) in &request.headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            let head_only = request.method == Method::Head;
            small(200, extra, text.as_bytes(), TEXT, head_only)
        }
        Method::Post => small(200, extra, &request.body, "application/octet-stream", false),
        _ => {
            let mut extra = extra.to_vec();
            extra.push(("Allow", "GET, HEAD, POST".into()));
            small(
                405,
                &extra,
                b"/echo allows GET, HEAD and POST\n",
                TEXT,
                false,
            )
        }
    }
}
// ANCHOR_END: echo

/// Files up to this size go out in the same write as the other responses of their batch;
/// larger ones are streamed, 64 KiB at a time.
const IN_ONE_WRITE: u64 = 256 * 1024;

// ANCHOR: serve_file
/// `GET` or `HEAD` of a file under the root. A target that is not a well-formed path
/// (bad percent-encoding, not UTF-8) is `400`. A path that `path::resolve` refuses (`..`,
/// backslash, NUL, a symlink leading out) is answered like a missing file, `404`: a `403`
/// would tell a prober which paths exist outside the root, and help no honest client.
fn serve_file(request: &Request, target: &str, config: &Config, extra: &[(&str, String)]) -> Reply {
    let head_only = request.method == Method::Head;
    let not_found = || small(404, extra, b"not found\n", TEXT, head_only);
    let file_path = match path::resolve(&config.root, target) {
        Ok(file_path) => file_path,
        Err(e @ (PathError::BadPercent | PathError::NotUtf8)) => {
            let body = format!("bad request target: {e}\n");
            return small(400, extra, body.as_bytes(), TEXT, head_only);
        }
        Err(_) => return not_found(),
    };
    if file_path.is_dir() {
        // `resolve` gives `index.html` for `/dir/`; for `/dir` the browser must come back
        // with the slash, or the relative links in `dir/index.html` would miss.
        let path_only = target.split('?').next().unwrap_or("/");
        let mut extra = extra.to_vec();
        extra.push(("Location", format!("{path_only}/")));
        return small(301, &extra, b"moved\n", TEXT, head_only);
    }
    let Ok(file) = File::open(&file_path) else {
        return not_found();
    };
    let Ok(meta) = file.metadata() else {
        return not_found();
    };
    if !meta.is_file() {
        return not_found();
    }
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let etag = path::etag(meta.len(), modified);
    let last_modified = http_date(modified);
    let mut fields = extra.to_vec();
    fields.push(("ETag", etag.clone()));
    fields.push(("Last-Modified", last_modified.clone()));
    // Revalidate every time: a reload costs one 304 and no body.
    fields.push(("Cache-Control", "no-cache".into()));
    if not_modified(request, &etag, &last_modified) {
        return Reply {
            bytes: respond(304, &fields, None, head_only),
            file: None,
        };
    }
    let content_type = path::mime_type(&file_path);
    let len = meta.len();
    if head_only {
        return Reply {
            bytes: respond(200, &fields, Some((Body::Length(len), content_type)), true),
            file: None,
        };
    }
    if len <= IN_ONE_WRITE {
        let mut bytes = Vec::new();
        if file.take(len).read_to_end(&mut bytes).is_err() || bytes.len() as u64 != len {
            return not_found();
        }
        return Reply {
            bytes: respond(
                200,
                &fields,
                Some((Body::Bytes(&bytes), content_type)),
                false,
            ),
            file: None,
        };
    }
    Reply {
        bytes: respond(200, &fields, Some((Body::Length(len), content_type)), true),
        file: Some((file, len)),
    }
}
// ANCHOR_END: serve_file

// ANCHOR: conditional
/// Whether the client's copy is current (RFC 9110 §13.1.2, §13.1.3): `If-None-Match` lists
/// entity tags compared weakly (`W/"x"` matches `"x"`), or is `*`; only without it does
/// `If-Modified-Since` count, here when it names exactly our `Last-Modified` date, as
/// browsers send it back.
fn not_modified(request: &Request, etag: &str, last_modified: &str) -> bool {
    let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    if let Some(tags) = request.header("if-none-match") {
        return tags.trim() == "*" || tags.split(',').any(|tag| weak(tag) == weak(etag));
    }
    request
        .header("if-modified-since")
        .is_some_and(|since| since.trim() == last_modified)
}
// ANCHOR_END: conditional

/// A response body: bytes to send, or only the length of a body sent apart (HEAD, files).
enum Body<'a> {
    Bytes(&'a [u8]),
    Length(u64),
}

/// A response with a small in-memory body.
fn small(
    status: u16,
    extra: &[(&str, String)],
    body: &[u8],
    content_type: &str,
    head_only: bool,
) -> Reply {
    Reply {
        bytes: respond(
            status,
            extra,
            Some((Body::Bytes(body), content_type)),
            head_only,
        ),
        file: None,
    }
}

/// The bytes of a response: status line, `Date`, the given fields, `Content-Type` and
/// `Content-Length` when there is a body, the empty line, and the body unless `head_only`.
fn respond(
    status: u16,
    fields: &[(&str, String)],
    body: Option<(Body<'_>, &str)>,
    head_only: bool,
) -> Vec<u8> {
    let mut response = Response::new(status).header("Date", &http_date(SystemTime::now()));
    for (name, value) in fields {
        response = response.header(name, value);
    }
    match body {
        Some((Body::Bytes(bytes), content_type)) => {
            response = response.body(bytes.to_vec(), content_type);
            response.to_bytes(head_only)
        }
        Some((Body::Length(len), content_type)) => {
            response = response
                .header("Content-Type", content_type)
                .header("Content-Length", &len.to_string());
            response.to_bytes(true)
        }
        None => response.to_bytes(true),
    }
}

/// An error response that closes the connection.
fn error_response(status: u16, why: &str) -> Vec<u8> {
    let mut extra = vec![("Connection", "close".to_string())];
    if status == 503 {
        extra.push(("Retry-After", "1".into()));
    }
    let body = format!("{status} {}: {why}\n", reason(status));
    respond(
        status,
        &extra,
        Some((Body::Bytes(body.as_bytes()), TEXT)),
        false,
    )
}

fn parse_error_text(e: &ParseError) -> String {
    match e {
        ParseError::BadRequest(why) => (*why).to_string(),
        ParseError::UriTooLong => "request line too long".into(),
        ParseError::HeadersTooLarge => "header fields too large".into(),
        ParseError::PayloadTooLarge => "body too large".into(),
        ParseError::NotImplemented(why) => (*why).to_string(),
        ParseError::VersionNotSupported => "HTTP version not supported".into(),
    }
}

/// Answers a connection the server has no room for with `503` and closes it, without
/// making the accept loop wait: it reads (and discards) only what the client has already
/// sent, so that the close does not reset the connection and lose the response.
fn turn_away(mut stream: TcpStream) {
    let response = error_response(503, "too many connections, try again later");
    // A fresh connection's send buffer is empty: this write does not block.
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let _ = stream.write_all(&response);
    let _ = stream.shutdown(Direction::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
}

/// A poisoned lock only means a client thread panicked; the map is still usable.
fn lock(clients: &Clients) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
    clients.lock().unwrap_or_else(|e| e.into_inner())
}
