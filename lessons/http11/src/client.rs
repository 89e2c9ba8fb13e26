//! A client on raw TCP: one request out, one response in, read exactly as RFC 9112 §6.3 says.
//!
//! - [`request`] sends one request with `Connection: close` and reads its response;
//!   [`Client`] keeps one connection open for several.
//! - The response head is parsed strictly, within [`Limits`]: a status line
//!   `HTTP/1.x NNN reason`, header fields `name: value`, each line ending in CRLF.
//! - The body is read by `Transfer-Encoding: chunked`, by `Content-Length`, or to the end of
//!   the stream, in that order of precedence; HEAD, 1xx, 204 and 304 responses have none.
//! - Redirects are never followed: a 3xx is returned like any response, `Location` and all.
//!
//! Every failure is a [`ClientError`] that says which step failed; [`ClientError::hint`] says
//! what to try.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// What one response may cost the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of status line and header fields together.
    pub max_head: usize,
    /// The most header field lines.
    pub max_headers: usize,
    /// The longest body.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 100,
            max_body: 64 * 1024 * 1024,
        }
    }
}

/// One response, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the server keeps the connection open after this response (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        let close = has_token(self.header("connection"), "close");
        match self.version.as_str() {
            "HTTP/1.1" => !close,
            _ => has_token(self.header("connection"), "keep-alive"),
        }
    }

    /// The status line and header fields as they came, one per line (`\n`), without `Date`
    /// when `with_date` is false.
    pub fn head_text(&self, with_date: bool) -> String {
        let mut text = format!("{} {} {}\n", self.version, self.status, self.reason);
        for (name, value) in &self.headers {
            if with_date || !name.eq_ignore_ascii_case("date") {
                text.push_str(&format!("{name}: {value}\n"));
            }
        }
        text
    }
}

fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Which step of an exchange failed.
#[derive(Debug)]
pub enum ClientError {
    /// The address is not `HOST:PORT`, or the name does not resolve.
    Address { addr: String, source: io::Error },
    /// Nothing listens there.
    Refused { addr: String, source: io::Error },
    /// A step took longer than the timeout.
    Timeout { step: &'static str, after: Duration },
    /// Any other failure of the connection.
    Io {
        step: &'static str,
        source: io::Error,
    },
    /// The peer's bytes are not an HTTP/1.1 response (or exceed a limit).
    Malformed(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Address { addr, source } => write!(f, "bad address {addr:?}: {source}"),
            ClientError::Refused { addr, source } => {
                write!(f, "could not connect to {addr}: {source}")
            }
            ClientError::Timeout { step, after } => {
                write!(f, "timed out after {after:?} while {step}")
            }
            ClientError::Io { step, source } => write!(f, "failed while {step}: {source}"),
            ClientError::Malformed(why) => write!(f, "malformed response: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// What to try next, for a person at a terminal.
    pub fn hint(&self) -> &'static str {
        match self {
            ClientError::Address { .. } => {
                "write the address as HOST:PORT or http://HOST:PORT/PATH,\n\
                 for example 127.0.0.1:8000 or http://localhost:8000/"
            }
            ClientError::Refused { .. } => {
                "nothing listens there: is the server running? Start it with:\n\
                 cargo run -p http11 -- serve"
            }
            ClientError::Timeout { .. } => {
                "the server did not answer in time: is it an HTTP server, and is it busy?\n\
                 Raise --timeout to wait longer"
            }
            ClientError::Io { .. } => "the server closed the connection abruptly: look at its log",
            ClientError::Malformed(_) => {
                "the peer does not speak HTTP/1.1 (is it an HTTPS port? this client\n\
                 speaks plain HTTP only)"
            }
        }
    }
}

fn malformed<T>(why: impl Into<String>) -> Result<T, ClientError> {
    Err(ClientError::Malformed(why.into()))
}

/// Splits `http://host:port/path`, `host:port/path` or `host:port` into the address and
/// the path (`/` when there is none). `https://` is refused: this client has no TLS.
pub fn split_url(url: &str) -> Result<(String, String), ClientError> {
    let bad = |why: &str| ClientError::Address {
        addr: url.to_string(),
        source: io::Error::new(ErrorKind::InvalidInput, why.to_string()),
    };
    if url.starts_with("https://") {
        return Err(bad("this client speaks http, not https"));
    }
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("expected HOST:PORT"));
    }
    // No port: HTTP's default, 80 (RFC 9110 §4.2.1).
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.contains(']'));
    let addr = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((addr, path.to_string()))
}

// ANCHOR: request
/// Sends one request with `Connection: close` and returns the response. `headers` are sent
/// after `Host` (and `Content-Length` when there is a body). Every step waits at most what
/// is left of `timeout`.
pub fn request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, ClientError> {
    let mut client = Client::connect(addr, timeout)?;
    client.send(method, target, headers, body, false)?;
    client.read_response(method == "HEAD")
}

/// `GET` of `url` (`http://host:port/path` or `host:port/path`).
pub fn get(url: &str, timeout: Duration) -> Result<Response, ClientError> {
    let (addr, path) = split_url(url)?;
    request(&addr, "GET", &path, &[], &[], timeout)
}
// ANCHOR_END: request

/// One connection to a server, for one request or several in turn.
pub struct Client {
    stream: TcpStream,
    /// What `Host` says: the address as the user wrote it.
    host: String,
    timeout: Duration,
    /// Bytes read but not used yet: the start of the next response.
    buf: Vec<u8>,
    limits: Limits,
}

impl Client {
    /// Connects to the first address `addr` resolves to that accepts, within `timeout` each.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Client, ClientError> {
        let resolved: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|source| ClientError::Address {
                addr: addr.to_string(),
                source,
            })?
            .collect();
        let mut last = None;
        for candidate in &resolved {
            match TcpStream::connect_timeout(candidate, timeout) {
                Ok(stream) => {
                    return Ok(Client {
                        stream,
                        host: addr.to_string(),
                        timeout,
                        buf: Vec::new(),
                        limits: Limits::default(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        let source = last.unwrap_or_else(|| io::Error::new(ErrorKind::NotFound, "no address"));
        Err(match source.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ClientError::Timeout {
                step: "connecting",
                after: timeout,
            },
            _ => ClientError::Refused {
                addr: addr.to_string(),
                source,
            },
        })
    }

    /// Replaces the default limits on what a response may cost.
    pub fn with_limits(mut self, limits: Limits) -> Client {
        self.limits = limits;
        self
    }

    // ANCHOR: send
    /// Writes one request in one write: request line, `Host`, `Content-Length` if there is
    /// a body, `Connection: keep-alive` or `close`, the caller's header fields, the empty
    /// line, the body.
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        keep_alive: bool,
    ) -> Result<(), ClientError> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        head.push_str(&format!("Connection: {connection}\r\n"));
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        let io_error = |source: io::Error| ClientError::Io {
            step: "sending the request",
            source,
        };
        self.stream
            .set_write_timeout(Some(self.timeout))
            .map_err(io_error)?;
        self.stream.write_all(&bytes).map_err(|e| {
            if crate::server::is_timeout(&e) {
                ClientError::Timeout {
                    step: "sending the request",
                    after: self.timeout,
                }
            } else {
                io_error(e)
            }
        })
    }
    // ANCHOR_END: send

    /// Writes `bytes` as they are: for experiments (several requests in one write, a
    /// malformed one) and tests.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.stream
            .write_all(bytes)
            .map_err(|source| ClientError::Io {
                step: "sending",
                source,
            })
    }

    /// Reads until the server closes the connection, and returns what came that no
    /// response has used.
    pub fn read_to_close(&mut self) -> Result<Vec<u8>, ClientError> {
        let deadline = Instant::now() + self.timeout;
        while self.fill(deadline, "waiting for the server to close")? > 0 {
            if self.buf.len() > self.limits.max_body {
                return malformed("more than the body limit before the close");
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    // ANCHOR: read_response
    /// Reads one response: the head, then the body as RFC 9112 §6.3 frames it. `to_head`
    /// says the request was HEAD: its response has no body, whatever `Content-Length` says.
    pub fn read_response(&mut self, to_head: bool) -> Result<Response, ClientError> {
        let deadline = Instant::now() + self.timeout;
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end + 4;
            }
            if self.buf.len() > self.limits.max_head {
                return malformed(format!("head longer than {} bytes", self.limits.max_head));
            }
            if self.fill(deadline, "reading the response head")? == 0 {
                return if self.buf.is_empty() {
                    malformed("the server closed the connection without a response")
                } else {
                    malformed("the connection ended inside the response head")
                };
            }
        };
        let head: Vec<u8> = self.buf.drain(..head_end).collect();
        let mut response = parse_head(&head[..head_end - 4], &self.limits)?;
        let no_body = to_head
            || (100..200).contains(&response.status)
            || response.status == 204
            || response.status == 304;
        if no_body {
            return Ok(response);
        }
        let chunked = match response.header("transfer-encoding") {
            // Transfer-Encoding overrides Content-Length (§6.3 rule 3); chunked must be
            // the last coding, else the body runs to the end of the stream.
            Some(te) => te
                .rsplit(',')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked")),
            None => false,
        };
        response.body = if chunked {
            self.read_chunked(deadline)?
        } else if response.header("transfer-encoding").is_some() {
            self.read_to_end(deadline)?
        } else if let Some(length) = content_length(&response)? {
            self.read_exactly(length, deadline)?
        } else {
            self.read_to_end(deadline)?
        };
        Ok(response)
    }
    // ANCHOR_END: read_response

    /// One read into the buffer, within what is left of the deadline: the number of bytes,
    /// 0 at the end of the stream.
    fn fill(&mut self, deadline: Instant, step: &'static str) -> Result<usize, ClientError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout {
                    step,
                    after: self.timeout,
                });
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|source| ClientError::Io { step, source })?;
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if crate::server::is_timeout(&e) => continue,
                Err(source) => return Err(ClientError::Io { step, source }),
            }
        }
    }

    fn read_exactly(&mut self, length: usize, deadline: Instant) -> Result<Vec<u8>, ClientError> {
        if length > self.limits.max_body {
            return malformed(format!(
                "Content-Length {length} is over the limit of {} bytes",
                self.limits.max_body
            ));
        }
        while self.buf.len() < length {
            if self.fill(deadline, "reading the body")? == 0 {
                return malformed(format!(
                    "the connection ended after {} of {length} body bytes",
                    self.buf.len()
                ));
            }
        }
        Ok(self.buf.drain(..length).collect())
    }

    fn read_to_end(&mut self, deadline: Instant) -> Result<Vec<u8>, ClientError> {
        while self.fill(deadline, "reading the body")? > 0 {
            if self.buf.len() > self.limits.max_body {
                return malformed(format!("body over {} bytes", self.limits.max_body));
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    // ANCHOR: chunked
    /// Decodes a chunked body (RFC 9112 §7.1): `SIZE[;ext] CRLF data CRLF`, repeated, ending
    /// with a chunk of size 0 and the trailer section, whose fields are dropped.
    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, ClientError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size_text = line
                .split(';')
                .next()
                .unwrap_or("")
                .trim_end_matches([' ', '\t']);
            let size = parse_chunk_size(size_text)?;
            if body.len() + size > self.limits.max_body {
                return malformed(format!("chunked body over {} bytes", self.limits.max_body));
            }
            if size == 0 {
                // Trailer fields until the empty line.
                let mut trailers = 0;
                while !self.read_line(deadline)?.is_empty() {
                    trailers += 1;
                    if trailers > self.limits.max_headers {
                        return malformed("too many trailer fields");
                    }
                }
                return Ok(body);
            }
            let data = self.read_exactly(size + 2, deadline)?;
            if !data.ends_with(b"\r\n") {
                return malformed("a chunk's data does not end with CRLF");
            }
            body.extend_from_slice(&data[..size]);
        }
    }
    // ANCHOR_END: chunked

    /// One CRLF-terminated line of a chunked body, without its CRLF, at most 4 KiB.
    fn read_line(&mut self, deadline: Instant) -> Result<String, ClientError> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).take(end).collect();
                return String::from_utf8(line)
                    .map_err(|_| ClientError::Malformed("a chunk line is not text".into()));
            }
            if self.buf.len() > 4096 {
                return malformed("a chunk line longer than 4 KiB");
            }
            if self.fill(deadline, "reading a chunk")? == 0 {
                return malformed("the connection ended inside a chunked body");
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_chunk_size(text: &str) -> Result<usize, ClientError> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return malformed(format!("bad chunk size {text:?}"));
    }
    usize::from_str_radix(text, 16)
        .map_err(|_| ClientError::Malformed(format!("bad chunk size {text:?}")))
}

/// The one `Content-Length`, if any: several that differ, or one that is not a number, is
/// an error (RFC 9112 §6.3 rule 5).
fn content_length(response: &Response) -> Result<Option<usize>, ClientError> {
    let mut found: Option<usize> = None;
    for (name, value) in &response.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || part.len() > 15 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return malformed(format!("bad Content-Length {value:?}"));
            }
            let n: usize = part
                .parse()
                .map_err(|_| ClientError::Malformed(format!("bad Content-Length {value:?}")))?;
            if found.is_some_and(|f| f != n) {
                return malformed("Content-Length fields that disagree");
            }
            found = Some(n);
        }
    }
    Ok(found)
}

// ANCHOR: parse_head
/// Parses a response head (without its final empty line): strict about what would let
/// two readers disagree on where the message ends.
pub fn parse_head(head: &[u8], limits: &Limits) -> Result<Response, ClientError> {
    let text = std::str::from_utf8(head)
        .map_err(|_| ClientError::Malformed("the head is not UTF-8 text".into()))?;
    // Every line ends in CRLF: a CR or LF left inside a line is a bare one.
    if text.split("\r\n").any(|l| l.contains(['\r', '\n'])) {
        return malformed("a bare CR or LF in the head");
    }
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 §4)
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let reason = parts.next().unwrap_or("");
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        let shown: String = status_line.chars().take(40).collect();
        return malformed(format!("not an HTTP/1.x status line: {shown:?}"));
    }
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) || code.starts_with('0') {
        return malformed(format!("bad status code {code:?}"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| ClientError::Malformed("bad status code".into()))?;
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == limits.max_headers {
            return malformed(format!("more than {} header fields", limits.max_headers));
        }
        if line.starts_with([' ', '\t']) {
            return malformed("a folded header line (obs-fold)");
        }
        let Some((name, value)) = line.split_once(':') else {
            return malformed(format!("a header line without a colon: {line:?}"));
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return malformed(format!("bad header field name {name:?}"));
        }
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
    Ok(Response {
        version: version.to_string(),
        status,
        reason: reason.to_string(),
        headers,
        body: Vec::new(),
    })
}
// ANCHOR_END: parse_head

/// `tchar` of RFC 9110 §5.6.2: what a field name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Response, ClientError> {
        parse_head(text.as_bytes(), &Limits::default())
    }

    #[test]
    fn parses_a_status_line_and_fields() {
        let r = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b ").expect("ok");
        assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
        assert_eq!(r.header("content-length"), Some("5"));
        assert_eq!(r.header("x-a"), Some("b"));
        let empty_reason = head("HTTP/1.0 404 ").expect("ok");
        assert_eq!(empty_reason.reason, "");
        assert!(!empty_reason.keep_alive());
    }

    #[test]
    fn refuses_what_is_not_a_response() {
        for bad in [
            "SSH-2.0-OpenSSH",
            "HTTP/2 200 OK",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 2000 OK",
            "HTTP/1.1 200 OK\r\n folded",
            "HTTP/1.1 200 OK\r\nNo colon",
            "HTTP/1.1 200 OK\r\nBad name: x",
            "HTTP/1.1 200 OK\nX: y",
            "HTTP/1.1 200 OK\r\nX: a\rb",
        ] {
            assert!(
                matches!(head(bad), Err(ClientError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn splits_urls() {
        let split = |u| split_url(u).map_err(|e| e.to_string());
        assert_eq!(
            split("http://127.0.0.1:8000/a?b"),
            Ok(("127.0.0.1:8000".into(), "/a?b".into()))
        );
        assert_eq!(
            split("localhost:8000"),
            Ok(("localhost:8000".into(), "/".into()))
        );
        assert_eq!(
            split("example.com/x"),
            Ok(("example.com:80".into(), "/x".into()))
        );
        assert_eq!(split("[::1]:8000/"), Ok(("[::1]:8000".into(), "/".into())));
        assert!(split("https://example.com/").is_err());
        assert!(split("http:///x").is_err());
    }

    #[test]
    fn disagreeing_content_lengths_are_refused() {
        let r = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6").expect("ok");
        assert!(content_length(&r).is_err());
        let same = head("HTTP/1.1 200 OK\r\nContent-Length: 5, 5").expect("ok");
        assert_eq!(content_length(&same).expect("ok"), Some(5));
        let bad = head("HTTP/1.1 200 OK\r\nContent-Length: +5").expect("ok");
        assert!(content_length(&bad).is_err());
    }
}
