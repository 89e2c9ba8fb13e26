//! A sans-IO HTTP/1.1 request parser (RFC 9112): bytes in, whole requests or a precise error
//! out. It never reads a socket, so it is tested without one, byte by byte.
//!
//! How strict, and why: whatever the other side sends, the parser answers with a request or
//! with a [`ParseError`] that names its status code; it never panics. Where RFC 9112 lets a
//! recipient be lenient, it is strict when leniency could let two parsers on one path (a proxy
//! and this server) see different requests in the same bytes: request smuggling (§11.2).
//!
//! The API (`Limits`, `Method`, `Version`, `Request`, `ParseError`, `Parser` with `push`,
//! `next_request` and `in_progress`) is the lead's contract, unchanged; added: `Method::as_str`,
//! `Version::as_str`, `Display` for `ParseError`, and `Parser::buffered`.

use std::fmt;

// ANCHOR: limits
/// Limits on what one request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest request line (method, target, version), without its CRLF: else 414.
    pub max_request_line: usize,
    /// The most bytes of header fields, all lines together (without their CRLFs): else 431.
    pub max_header_bytes: usize,
    /// The most header field lines: else 431.
    pub max_headers: usize,
    /// The longest body: else 413.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_body: 1024 * 1024,
        }
    }
}
// ANCHOR_END: limits

// ANCHOR: types
/// The request methods of RFC 9110 §9.3 and PATCH (RFC 5789); any other token is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target as sent (origin form `/path?query`, or `*`, or absolute form).
    pub target: String,
    pub version: Version,
    /// Header fields in order, names as sent; compare names ASCII case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why bytes are not an acceptable request, and which status answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// 400, with a short reason for the log and the response body.
    BadRequest(&'static str),
    /// 414: the request line is longer than the limit.
    UriTooLong,
    /// 431: too many header fields, or too many bytes of them.
    HeadersTooLarge,
    /// 413: the body is longer than the limit.
    PayloadTooLarge,
    /// 501: a transfer coding we do not implement.
    NotImplemented(&'static str),
    /// 505: an HTTP version other than 1.0 or 1.1.
    VersionNotSupported,
}
// ANCHOR_END: types

impl ParseError {
    /// The status code that answers this error.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::BadRequest(_) => 400,
            ParseError::UriTooLong => 414,
            ParseError::HeadersTooLarge => 431,
            ParseError::PayloadTooLarge => 413,
            ParseError::NotImplemented(_) => 501,
            ParseError::VersionNotSupported => 505,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::BadRequest(why) => write!(f, "bad request: {why}"),
            ParseError::UriTooLong => f.write_str("the request line is too long"),
            ParseError::HeadersTooLarge => f.write_str("the header fields are too large"),
            ParseError::PayloadTooLarge => f.write_str("the body is too large"),
            ParseError::NotImplemented(why) => write!(f, "not implemented: {why}"),
            ParseError::VersionNotSupported => f.write_str("HTTP version not supported"),
        }
    }
}

impl std::error::Error for ParseError {}

impl Method {
    /// The method's name as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(name) => name,
        }
    }
}

impl Version {
    pub fn as_str(&self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl Request {
    /// The value of the first header field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    // ANCHOR: keep_alive
    /// Whether the connection stays open after this exchange (RFC 9112 §9.3): HTTP/1.1
    /// unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let options = self
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim);
        let (mut close, mut keep_alive) = (false, false);
        for option in options {
            close |= option.eq_ignore_ascii_case("close");
            keep_alive |= option.eq_ignore_ascii_case("keep-alive");
        }
        match self.version {
            Version::Http11 => !close,
            Version::Http10 => keep_alive && !close,
        }
    }
    // ANCHOR_END: keep_alive
}

/// The longest chunk-size line (size and extensions) a chunked body may have.
const MAX_CHUNK_LINE: usize = 1024;

/// What the parser has read of the current request, and what it expects next.
#[derive(Debug)]
enum State {
    /// Before or inside the request line; `skipped` says whether an empty line came first.
    RequestLine { skipped: bool },
    /// Inside the header section.
    Headers(Head),
    /// The head is complete; a body of exactly this many bytes follows.
    Body(Head, usize),
    /// Chunked body: a chunk-size line is next.
    ChunkSize(Head, Vec<u8>),
    /// Chunked body: this many bytes of a chunk's data are still to come.
    ChunkData(Head, Vec<u8>, usize),
    /// Chunked body: the CRLF after a chunk's data.
    ChunkEnd(Head, Vec<u8>),
    /// Chunked body: after the last chunk, the trailer section.
    Trailers(Head, Vec<u8>),
    /// An error ended the connection; every call returns it again.
    Failed(ParseError),
}

/// The request line and the header fields, while the rest of the request arrives.
#[derive(Debug)]
struct Head {
    method: Method,
    target: String,
    version: Version,
    headers: Vec<(String, String)>,
    /// Bytes of header (and trailer) field lines so far, without their CRLFs.
    field_bytes: usize,
    /// Field lines so far.
    fields: usize,
}

impl Head {
    fn into_request(self, body: Vec<u8>) -> Request {
        Request {
            method: self.method,
            target: self.target,
            version: self.version,
            headers: self.headers,
            body,
        }
    }
}

// ANCHOR: parser
/// An incremental parser: push bytes as they arrive; take whole requests out.
///
/// `buf[start..]` holds the current request's bytes; `pos` is where the part not yet parsed
/// begins (the current line, or the body), and `scanned` how far the current line has been
/// examined. Each byte is examined once, so the work is linear in the bytes pushed.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    buf: Vec<u8>,
    start: usize,
    pos: usize,
    scanned: usize,
    state: State,
    /// Bytes moved to the front of `buf` by compaction, in all (the tests bound it).
    moved: usize,
}
// ANCHOR_END: parser

impl Parser {
    pub fn new(limits: Limits) -> Parser {
        Parser {
            limits,
            buf: Vec::new(),
            start: 0,
            pos: 0,
            scanned: 0,
            state: State::RequestLine { skipped: false },
            moved: 0,
        }
    }

    // ANCHOR: push
    /// Adds bytes that arrived.
    ///
    /// The bytes of requests already returned are dropped here, between requests and only
    /// once they are at least as many as the bytes kept: so each byte is moved at most once
    /// on average, even when one push brings a thousand pipelined requests.
    pub fn push(&mut self, bytes: &[u8]) {
        let kept = self.buf.len() - self.start;
        if self.start > 0 && self.start >= kept {
            self.buf.drain(..self.start);
            self.moved += kept;
            self.pos -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }
    // ANCHOR_END: push

    /// The next whole request, `Ok(None)` if more bytes are needed, or the error that ends
    /// the connection (after its error response). Work is linear in the bytes pushed.
    pub fn next_request(&mut self) -> Result<Option<Request>, ParseError> {
        if let State::Failed(error) = &self.state {
            return Err(error.clone());
        }
        let state = std::mem::replace(&mut self.state, State::RequestLine { skipped: false });
        match self.advance(state) {
            Ok((state, request)) => {
                self.state = state;
                if request.is_some() {
                    self.start = self.pos;
                }
                Ok(request)
            }
            Err(error) => {
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// True when some bytes of a request that is not complete yet have arrived: the server's
    /// header-read timeout runs only then (an idle keep-alive connection has none).
    pub fn in_progress(&self) -> bool {
        self.buf.len() > self.start
    }

    /// How many bytes of requests not yet returned are buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    // ANCHOR: advance
    /// Runs the state machine as far as the buffered bytes allow: the new state, and the
    /// request if one was completed.
    fn advance(&mut self, mut state: State) -> Result<(State, Option<Request>), ParseError> {
        loop {
            state = match state {
                State::RequestLine { skipped } => {
                    if self.buf.get(self.pos) == Some(&0x16) && !skipped {
                        // A TLS record of type 22, handshake: a ClientHello.
                        return Err(ParseError::BadRequest(
                            "this looks like TLS: a ClientHello sent to a plain HTTP port \
                             (use http://, not https://)",
                        ));
                    }
                    let max = self.limits.max_request_line;
                    let Some(end) = self.scan_line(max, ParseError::UriTooLong)? else {
                        return Ok((State::RequestLine { skipped }, None));
                    };
                    let line = &self.buf[self.pos..end];
                    if line.is_empty() && !skipped {
                        // RFC 9112 §2.2: SHOULD ignore at least one empty line before it.
                        self.next_line(end);
                        State::RequestLine { skipped: true }
                    } else {
                        let head = parse_request_line(line)?;
                        self.next_line(end);
                        State::Headers(head)
                    }
                }
                State::Headers(mut head) => {
                    let Some(end) = self.scan_field_line(&head)? else {
                        return Ok((State::Headers(head), None));
                    };
                    let line = &self.buf[self.pos..end];
                    if line.is_empty() {
                        self.next_line(end);
                        match body_length(&head, &self.limits)? {
                            BodyLength::Fixed(0) => return Ok(self.done(head, Vec::new())),
                            BodyLength::Fixed(len) => State::Body(head, len),
                            BodyLength::Chunked => State::ChunkSize(head, Vec::new()),
                        }
                    } else {
                        head.headers.push(parse_field_line(line)?);
                        head.field_bytes += line.len();
                        head.fields += 1;
                        self.next_line(end);
                        State::Headers(head)
                    }
                }
                State::Body(head, len) => {
                    let Some(body) = self.buf.get(self.pos..self.pos + len) else {
                        return Ok((State::Body(head, len), None));
                    };
                    let body = body.to_vec();
                    self.skip_to(self.pos + len);
                    return Ok(self.done(head, body));
                }
                State::ChunkSize(head, body) => {
                    let too_long = ParseError::BadRequest("a chunk-size line is too long");
                    let Some(end) = self.scan_line(MAX_CHUNK_LINE, too_long)? else {
                        return Ok((State::ChunkSize(head, body), None));
                    };
                    let size = parse_chunk_size(&self.buf[self.pos..end])?;
                    if size > self.limits.max_body - body.len() {
                        return Err(ParseError::PayloadTooLarge);
                    }
                    self.next_line(end);
                    match size {
                        0 => State::Trailers(head, body),
                        size => State::ChunkData(head, body, size),
                    }
                }
                State::ChunkData(head, mut body, left) => {
                    let n = left.min(self.buf.len() - self.pos);
                    body.extend_from_slice(&self.buf[self.pos..self.pos + n]);
                    self.skip_to(self.pos + n);
                    match left - n {
                        0 => State::ChunkEnd(head, body),
                        left => return Ok((State::ChunkData(head, body, left), None)),
                    }
                }
                State::ChunkEnd(head, body) => {
                    let got = &self.buf[self.pos..self.buf.len().min(self.pos + 2)];
                    if !b"\r\n".starts_with(got) {
                        return Err(ParseError::BadRequest("chunk data is not followed by CRLF"));
                    }
                    if got.len() < 2 {
                        return Ok((State::ChunkEnd(head, body), None));
                    }
                    self.skip_to(self.pos + 2);
                    State::ChunkSize(head, body)
                }
                State::Trailers(mut head, body) => {
                    let Some(end) = self.scan_field_line(&head)? else {
                        return Ok((State::Trailers(head, body), None));
                    };
                    let line = &self.buf[self.pos..end];
                    if line.is_empty() {
                        self.next_line(end);
                        return Ok(self.done(head, body));
                    }
                    // Checked like a header field, then dropped: RFC 9112 §7.1.2 lets a
                    // recipient discard trailer fields, and we use none.
                    parse_field_line(line)?;
                    head.field_bytes += line.len();
                    head.fields += 1;
                    self.next_line(end);
                    State::Trailers(head, body)
                }
                State::Failed(error) => return Err(error),
            }
        }
    }
    // ANCHOR_END: advance

    /// The request is complete: back to waiting for a request line.
    fn done(&mut self, head: Head, body: Vec<u8>) -> (State, Option<Request>) {
        (
            State::RequestLine { skipped: false },
            Some(head.into_request(body)),
        )
    }

    /// Moves past a line whose content ended at `end`, and its CRLF.
    fn next_line(&mut self, end: usize) {
        self.skip_to(end + 2);
    }

    /// Moves past body bytes, up to `end`.
    fn skip_to(&mut self, end: usize) {
        self.pos = end;
        self.scanned = end;
    }

    /// Scans a header or trailer field line within what is left of the limits.
    fn scan_field_line(&mut self, head: &Head) -> Result<Option<usize>, ParseError> {
        let left = self
            .limits
            .max_header_bytes
            .saturating_sub(head.field_bytes);
        let end = self.scan_line(left, ParseError::HeadersTooLarge)?;
        if let Some(end) = end
            && end > self.pos
            && head.fields >= self.limits.max_headers
        {
            return Err(ParseError::HeadersTooLarge);
        }
        Ok(end)
    }

    // ANCHOR: scan_line
    /// Examines the current line (from `pos`) from where the last call stopped. `Some(end)`
    /// when it is complete: its content is `buf[pos..end]`, followed by CRLF. The errors come
    /// from the first byte that makes the line wrong, so they do not depend on how the bytes
    /// were cut into pushes.
    ///
    /// Line endings are CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF as a line
    /// terminator and replace a bare CR with SP; we refuse both (400): a proxy in front of us
    /// that split lines differently would see other header fields than we do.
    fn scan_line(&mut self, max: usize, too_long: ParseError) -> Result<Option<usize>, ParseError> {
        while let Some(&byte) = self.buf.get(self.scanned) {
            let i = self.scanned;
            let after_cr = i > self.pos && self.buf[i - 1] == b'\r';
            match byte {
                b'\n' if after_cr => {
                    self.scanned = i + 1;
                    return Ok(Some(i - 1));
                }
                b'\n' => return Err(ParseError::BadRequest("a line ends in LF without CR")),
                _ if after_cr => return Err(ParseError::BadRequest("a CR without LF after it")),
                b'\r' => {}
                _ if i + 1 - self.pos > max => return Err(too_long),
                _ => {}
            }
            self.scanned = i + 1;
        }
        Ok(None)
    }
    // ANCHOR_END: scan_line
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(Limits::default())
    }
}

/// `tchar` of RFC 9110 §5.6.2: the characters of a token (a method, a field name).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// Without the optional whitespace (OWS: SP and HTAB, RFC 9110 §5.6.3) at either end.
fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

// ANCHOR: request_line
/// `method SP request-target SP HTTP-version` (RFC 9112 §3), exactly one SP each.
fn parse_request_line(line: &[u8]) -> Result<Head, ParseError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadRequest(
            "the request line is not: method SP target SP version",
        ));
    };
    if !is_token(method) {
        return Err(ParseError::BadRequest("the method is not a token"));
    }
    if target.is_empty() || !target.iter().all(|b| b.is_ascii_graphic()) {
        return Err(ParseError::BadRequest(
            "the target is empty or holds a byte that is not visible ASCII",
        ));
    }
    let version = match version {
        b"HTTP/1.1" => Version::Http11,
        b"HTTP/1.0" => Version::Http10,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err(ParseError::VersionNotSupported);
        }
        _ => return Err(ParseError::BadRequest("the version is not HTTP/x.y")),
    };
    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        b"PUT" => Method::Put,
        b"DELETE" => Method::Delete,
        b"CONNECT" => Method::Connect,
        b"OPTIONS" => Method::Options,
        b"TRACE" => Method::Trace,
        b"PATCH" => Method::Patch,
        other => Method::Other(ascii(other)), // the server answers 501
    };
    Ok(Head {
        method,
        target: ascii(target),
        version,
        headers: Vec::new(),
        field_bytes: 0,
        fields: 0,
    })
}
// ANCHOR_END: request_line

// ANCHOR: field_line
/// `field-name ":" OWS field-value OWS` (RFC 9112 §5).
fn parse_field_line(line: &[u8]) -> Result<(String, String), ParseError> {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return Err(ParseError::BadRequest(
            "a field line starts with whitespace (obs-fold, RFC 9112 §5.2)",
        ));
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(ParseError::BadRequest("a field line has no colon"));
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.ends_with(b" ") || name.ends_with(b"\t") {
        return Err(ParseError::BadRequest(
            "whitespace between a field name and its colon (RFC 9112 §5.1)",
        ));
    }
    if !is_token(name) {
        return Err(ParseError::BadRequest("a field name is not a token"));
    }
    let value = trim_ows(value);
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(ParseError::BadRequest(
            "a field value holds a control character",
        ));
    }
    let Ok(value) = String::from_utf8(value.to_vec()) else {
        return Err(ParseError::BadRequest("a field value is not UTF-8"));
    };
    Ok((ascii(name), value))
}
// ANCHOR_END: field_line

enum BodyLength {
    Fixed(usize),
    Chunked,
}

// ANCHOR: body_length
/// How long the body is (RFC 9112 §6.3), from the complete head; also checks `Host`.
fn body_length(head: &Head, limits: &Limits) -> Result<BodyLength, ParseError> {
    let values = |name: &'static str| {
        head.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; never more than one.
    match (values("host").count(), head.version) {
        (0, Version::Http11) => return Err(ParseError::BadRequest("no Host header field")),
        (2.., _) => return Err(ParseError::BadRequest("more than one Host header field")),
        _ => {}
    }
    if values("host").any(|host| host.contains([' ', '\t', '/', '?', '#', '@'])) {
        return Err(ParseError::BadRequest("an invalid Host header field"));
    }
    let has_length = values("content-length").next().is_some();
    if values("transfer-encoding").next().is_some() {
        if head.version == Version::Http10 {
            // RFC 9112 §6.1: 1.0 has no Transfer-Encoding; a 1.0 request with one is faulty.
            return Err(ParseError::BadRequest(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        if has_length {
            // RFC 9112 §6.1, §11.2: which one frames the body? Two parsers could disagree.
            return Err(ParseError::BadRequest(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        let codings: Vec<&str> = values("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(|c| c.trim_matches([' ', '\t']))
            .filter(|c| !c.is_empty())
            .collect();
        if codings.iter().any(|c| !c.eq_ignore_ascii_case("chunked")) {
            return Err(ParseError::NotImplemented(
                "a transfer coding other than chunked",
            ));
        }
        if codings.len() != 1 {
            // No coding at all, or chunked twice (RFC 9112 §7.1: MUST NOT).
            return Err(ParseError::BadRequest(
                "Transfer-Encoding is not just chunked",
            ));
        }
        return Ok(BodyLength::Chunked);
    }
    let mut length = None;
    for value in values("content-length") {
        // RFC 9110 §8.6: 1*DIGIT. A list such as `5, 5` is refused too (RFC 9112 §6.3 lets
        // a recipient accept one of identical values; we do not).
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::BadRequest("Content-Length is not a number"));
        }
        if length.is_some_and(|l| l != value) {
            return Err(ParseError::BadRequest("Content-Length values differ"));
        }
        length = Some(value);
    }
    let Some(length) = length else {
        return Ok(BodyLength::Fixed(0)); // §6.3: a request without either has no body
    };
    // Refused before a byte of the body arrives; the digits may not even fit a u64.
    match length.trim_start_matches('0').parse::<usize>() {
        Ok(len) if len <= limits.max_body => Ok(BodyLength::Fixed(len)),
        _ if length.trim_start_matches('0').is_empty() => Ok(BodyLength::Fixed(0)),
        _ => Err(ParseError::PayloadTooLarge),
    }
}
// ANCHOR_END: body_length

/// `chunk-size [ chunk-ext ]` (RFC 9112 §7.1): hexadecimal digits, then extensions, which
/// we check for control characters and ignore.
fn parse_chunk_size(line: &[u8]) -> Result<usize, ParseError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ParseError::BadRequest("a chunk size is not hexadecimal"));
    }
    let ext = trim_ows(&line[digits..]); // BWS before `;` (RFC 9112 §7.1.1)
    if !ext.is_empty() && !ext.starts_with(b";") {
        return Err(ParseError::BadRequest("a chunk size is not hexadecimal"));
    }
    if ext.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(ParseError::BadRequest(
            "a chunk extension holds a control character",
        ));
    }
    let mut size: usize = 0;
    for &b in &line[..digits] {
        let digit = (b as char).to_digit(16).unwrap_or(0) as usize;
        // Too many digits for a usize is also too large for any body limit.
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(digit))
            .ok_or(ParseError::PayloadTooLarge)?;
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParseError::*;

    /// What parsing `stream` gives: the requests, then the error that ended it, if any.
    type Outcome = (Vec<Request>, Option<ParseError>);

    /// Drains the parser: every request it can give, and the error if one ends it.
    fn drain(parser: &mut Parser, outcome: &mut Outcome) {
        if outcome.1.is_some() {
            return;
        }
        loop {
            match parser.next_request() {
                Ok(Some(request)) => outcome.0.push(request),
                Ok(None) => return,
                Err(error) => return outcome.1 = Some(error),
            }
        }
    }

    fn parse_in(pieces: &[&[u8]], limits: Limits) -> Outcome {
        let mut parser = Parser::new(limits);
        let mut outcome = (Vec::new(), None);
        for piece in pieces {
            parser.push(piece);
            drain(&mut parser, &mut outcome);
        }
        outcome
    }

    fn parse(stream: &[u8]) -> Outcome {
        parse_in(&[stream], Limits::default())
    }

    /// The error that `stream` ends with.
    fn error(stream: &[u8]) -> Option<ParseError> {
        parse(stream).1
    }

    fn one(stream: &[u8]) -> Request {
        let (mut requests, error) = parse(stream);
        assert_eq!(error, None, "{:?}", String::from_utf8_lossy(stream));
        assert_eq!(requests.len(), 1);
        requests.remove(0)
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_a_request_line_header_fields_and_no_body() {
        let r = one(b"GET /index.html?q=1 HTTP/1.1\r\nHost: a.test\r\nAccept:  */*\t \r\n\r\n");
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.target, "/index.html?q=1");
        assert_eq!(r.version, Version::Http11);
        assert_eq!(r.headers, headers(&[("Host", "a.test"), ("Accept", "*/*")]));
        assert_eq!(r.header("ACCEPT"), Some("*/*"));
        assert_eq!(r.body, b"");
    }

    #[test]
    fn every_method_of_rfc_9110_and_patch_and_other_tokens() {
        for (name, method) in [
            ("GET", Method::Get),
            ("HEAD", Method::Head),
            ("POST", Method::Post),
            ("PUT", Method::Put),
            ("DELETE", Method::Delete),
            ("CONNECT", Method::Connect),
            ("OPTIONS", Method::Options),
            ("TRACE", Method::Trace),
            ("PATCH", Method::Patch),
            ("BREW", Method::Other("BREW".into())),
            ("get", Method::Other("get".into())), // methods are case-sensitive
        ] {
            let r = one(format!("{name} * HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
            assert_eq!(r.method, method);
            assert_eq!(r.method.as_str(), name);
        }
        assert_eq!(
            error(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(BadRequest("the method is not a token"))
        );
    }

    #[test]
    fn the_request_line_has_exactly_one_space_between_its_parts() {
        let why = "the request line is not: method SP target SP version";
        for line in [
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 ",
            " GET / HTTP/1.1",
            "GET\t/ HTTP/1.1",
            "GET /",
            "GET / a HTTP/1.1",
        ] {
            let got = error(format!("{line}\r\nHost: a\r\n\r\n").as_bytes());
            assert!(matches!(got, Some(BadRequest(_))), "{line:?}: {got:?}");
            if line.contains("  ") || line.ends_with(' ') || line == "GET /" {
                assert_eq!(got, Some(BadRequest(why)), "{line:?}");
            }
        }
        assert_eq!(
            error(b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(BadRequest(
                "the target is empty or holds a byte that is not visible ASCII"
            ))
        );
        assert!(matches!(
            error("GET /é HTTP/1.1\r\n\r\n".as_bytes()),
            Some(BadRequest(_))
        ));
    }

    #[test]
    fn versions_other_than_1_0_and_1_1_are_505_and_garbage_is_400() {
        assert_eq!(one(b"GET / HTTP/1.0\r\n\r\n").version, Version::Http10);
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"] {
            let got = error(format!("GET / {version}\r\nHost: a\r\n\r\n").as_bytes());
            assert_eq!(got, Some(VersionNotSupported), "{version}");
        }
        for version in ["http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/x.1", "HTTPS/1.1"] {
            let got = error(format!("GET / {version}\r\nHost: a\r\n\r\n").as_bytes());
            assert_eq!(
                got,
                Some(BadRequest("the version is not HTTP/x.y")),
                "{version}"
            );
        }
    }

    #[test]
    fn header_fields_are_strict_about_whitespace_colons_and_control_characters() {
        let cases: [(&[u8], &str); 7] = [
            (
                b"Host : a",
                "whitespace between a field name and its colon (RFC 9112 §5.1)",
            ),
            (
                b"Host\t: a",
                "whitespace between a field name and its colon (RFC 9112 §5.1)",
            ),
            (b"Host a", "a field line has no colon"),
            (b": a", "a field name is not a token"),
            (b"Ho(st: a", "a field name is not a token"),
            (b"X: a\x00b", "a field value holds a control character"),
            (b"X: \xff", "a field value is not UTF-8"),
        ];
        for (line, why) in cases {
            let stream = [b"GET / HTTP/1.1\r\nHost: a\r\n", line, b"\r\n\r\n"].concat();
            assert_eq!(error(&stream), Some(BadRequest(why)), "{line:?}");
        }
        // HTAB and obs-text inside a value are fine; an empty value is fine.
        let r = one("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb é\r\nY:\r\n\r\n".as_bytes());
        assert_eq!(r.header("x"), Some("a\tb é"));
        assert_eq!(r.header("y"), Some(""));
    }

    #[test]
    fn obs_fold_is_400() {
        let obs_fold = "a field line starts with whitespace (obs-fold, RFC 9112 §5.2)";
        for stream in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n",
            b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", // whitespace after the request line
        ] {
            assert_eq!(error(stream), Some(BadRequest(obs_fold)));
        }
    }

    #[test]
    fn lines_end_in_crlf_only_bare_lf_and_bare_cr_are_400() {
        let bare_lf = Some(BadRequest("a line ends in LF without CR"));
        let bare_cr = Some(BadRequest("a CR without LF after it"));
        assert_eq!(error(b"GET / HTTP/1.1\nHost: a\r\n\r\n"), bare_lf);
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost: a\n\r\n"), bare_lf);
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost: a\r\n\n"), bare_lf);
        assert_eq!(error(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), bare_lf);
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), bare_cr);
        assert_eq!(error(b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"), bare_cr);
        assert_eq!(error(b"GET / HTTP/1.1\r\r\n"), bare_cr);
        // Refused as soon as the byte after the CR arrives, before any line ends.
        assert_eq!(
            parse_in(&[b"GET / HTTP/1.1\r", b"X"], Limits::default()).1,
            bare_cr
        );
    }

    #[test]
    fn one_empty_line_before_the_request_line_is_ignored() {
        assert_eq!(one(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").target, "/");
        let (requests, error) = parse(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\n\
              GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        );
        assert_eq!((requests.len(), error), (2, None));
        assert_eq!(
            parse(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").1,
            Some(BadRequest(
                "the request line is not: method SP target SP version"
            ))
        );
    }

    #[test]
    fn host_exactly_once_in_http_1_1_at_most_once_in_1_0() {
        assert_eq!(
            error(b"GET / HTTP/1.1\r\n\r\n"),
            Some(BadRequest("no Host header field"))
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
            Some(BadRequest("more than one Host header field"))
        );
        assert_eq!(
            error(b"GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"),
            Some(BadRequest("more than one Host header field"))
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            Some(BadRequest("an invalid Host header field"))
        );
        assert_eq!(one(b"GET / HTTP/1.0\r\n\r\n").headers, vec![]);
        assert_eq!(
            one(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").header("host"),
            Some("")
        );
    }

    #[test]
    fn a_body_by_content_length() {
        let r = one(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!(r.body, b"hello");
        let r = one(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello");
        assert_eq!(r.body, b"hello");
        let r = one(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.body, b"");
        // Repeated with the same value: one length, accepted (RFC 9112 §6.3 allows it).
        let r =
            one(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi");
        assert_eq!(r.body, b"hi");
        assert_eq!(
            parse(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"),
            (vec![], None)
        );
    }

    #[test]
    fn content_length_is_digits_only_one_value_and_not_a_list() {
        let not_a_number = Some(BadRequest("Content-Length is not a number"));
        for value in ["", "-1", "+5", "5 5", "5,5", "5, 5", "0x10", "1e3", "٣"] {
            let stream = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {value}\r\n\r\n");
            assert_eq!(error(stream.as_bytes()), not_a_number, "{value:?}");
        }
        assert_eq!(
            error(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Some(BadRequest("Content-Length values differ"))
        );
    }

    #[test]
    fn both_transfer_encoding_and_content_length_is_400() {
        assert_eq!(
            error(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\
                  Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            Some(BadRequest("both Transfer-Encoding and Content-Length"))
        );
    }

    #[test]
    fn transfer_encoding_chunked_only_and_not_in_http_1_0() {
        let te = |value: &str| {
            error(
                format!(
                    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {value}\r\n\r\n0\r\n\r\n"
                )
                .as_bytes(),
            )
        };
        assert_eq!(te("chunked"), None);
        assert_eq!(te("Chunked"), None);
        let other = Some(NotImplemented("a transfer coding other than chunked"));
        assert_eq!(te("gzip"), other);
        assert_eq!(te("gzip, chunked"), other);
        assert_eq!(te("chunked, identity"), other);
        let not_just = Some(BadRequest("Transfer-Encoding is not just chunked"));
        assert_eq!(te("chunked, chunked"), not_just);
        assert_eq!(te(""), not_just);
        assert_eq!(
            error(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Some(BadRequest("Transfer-Encoding in an HTTP/1.0 request"))
        );
    }

    #[test]
    fn a_chunked_body_is_decoded_with_extensions_and_trailers() {
        let r = one(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n1;name=value\r\n \r\nA \t; x\r\n0123456789\r\n\
              0\r\nExpires: never\r\n\r\n",
        );
        assert_eq!(r.body, b"hello 0123456789");
        let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        let cases: [(&[u8], ParseError); 5] = [
            (b"x\r\n", BadRequest("a chunk size is not hexadecimal")),
            (b"5 5\r\n", BadRequest("a chunk size is not hexadecimal")),
            (
                b"2\r\nhiX",
                BadRequest("chunk data is not followed by CRLF"),
            ),
            (
                b"2\r\nhi\rX",
                BadRequest("chunk data is not followed by CRLF"),
            ),
            (
                b"0\r\nX : y\r\n\r\n",
                BadRequest("whitespace between a field name and its colon (RFC 9112 §5.1)"),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(error(&[chunked, body].concat()), Some(expected), "{body:?}");
        }
    }

    #[test]
    fn pipelined_requests_come_out_one_by_one() {
        let stream = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\
            POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx\
            GET /3 HTTP/1.1\r\nHost: a\r\n\r\nGET /4 HTTP/1.1\r\n";
        let mut parser = Parser::default();
        parser.push(stream);
        for target in ["/1", "/2", "/3"] {
            assert_eq!(parser.next_request().unwrap().unwrap().target, target);
        }
        assert_eq!(parser.next_request(), Ok(None));
        assert!(parser.in_progress());
        parser.push(b"Host: a\r\n\r\n");
        assert_eq!(parser.next_request().unwrap().unwrap().target, "/4");
        assert!(!parser.in_progress());
        assert_eq!(parser.next_request(), Ok(None));
    }

    #[test]
    fn in_progress_only_while_a_request_is_incomplete() {
        let mut parser = Parser::default();
        assert!(!parser.in_progress());
        parser.push(b"G");
        assert!(parser.in_progress());
        assert_eq!(parser.next_request(), Ok(None));
        parser.push(b"ET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(parser.next_request().unwrap().is_some());
        assert!(!parser.in_progress());
    }

    #[test]
    fn an_error_is_final() {
        let mut parser = Parser::default();
        parser.push(b"GET / HTTP/1.1\n");
        let first = parser.next_request();
        assert!(first.is_err());
        parser.push(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(parser.next_request(), first);
    }

    #[test]
    fn a_tls_client_hello_is_recognised() {
        let hello = [
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ];
        for n in 1..=hello.len() {
            let got = parse(&hello[..n]).1;
            assert!(
                matches!(got, Some(BadRequest(why)) if why.starts_with("this looks like TLS: ")),
                "{got:?}"
            );
        }
    }

    fn small() -> Limits {
        Limits {
            max_request_line: 20,
            max_header_bytes: 30,
            max_headers: 3,
            max_body: 10,
        }
    }

    #[test]
    fn a_request_line_over_the_limit_is_414_before_it_ends() {
        // 20 bytes exactly is fine.
        let ok = parse_in(&[b"GET /234567 HTTP/1.1\r\nHost: a\r\n\r\n"], small());
        assert_eq!((ok.0.len(), ok.1), (1, None));
        let long = parse_in(&[b"GET /2345678 HTTP/1.1"], small());
        assert_eq!(long.1, Some(UriTooLong));
        // Not a byte more than the limit is buffered without an answer.
        let mut parser = Parser::new(small());
        parser.push(&[b'G'; 21]);
        assert_eq!(parser.next_request(), Err(UriTooLong));
    }

    #[test]
    fn too_many_or_too_large_header_fields_are_431() {
        let base = b"GET / HTTP/1.1\r\nHost: a\r\n";
        let three = [&base[..], b"B: 1\r\nC: 2\r\n\r\n"].concat();
        assert_eq!(parse_in(&[&three], small()).1, None);
        let four = [&base[..], b"B: 1\r\nC: 2\r\nD: 3\r\n\r\n"].concat();
        assert_eq!(parse_in(&[&four], small()).1, Some(HeadersTooLarge));
        // 7 + 23 = 30 bytes of fields is the limit; one more, before the line ends, is 431.
        let fits = [&base[..], b"X: 45678901234567890123\r\n\r\n"].concat();
        assert_eq!(parse_in(&[&fits], small()).1, None);
        let over = [&base[..], b"X: 456789012345678901234"].concat();
        assert_eq!(parse_in(&[&over], small()).1, Some(HeadersTooLarge));
        // Trailers count too.
        let trailers = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                         0\r\nX: 4567890123456789\r\n\r\n";
        assert_eq!(parse_in(&[trailers], small()).1, Some(HeadersTooLarge));
    }

    #[test]
    fn a_body_over_the_limit_is_413_before_it_arrives() {
        let small = || Limits {
            max_body: 10,
            ..Limits::default()
        };
        let head = |length: &str| {
            format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n")
        };
        assert_eq!(parse_in(&[head("10").as_bytes()], small()), (vec![], None));
        assert_eq!(
            parse_in(&[head("11").as_bytes()], small()).1,
            Some(PayloadTooLarge)
        );
        let huge = head("99999999999999999999999999999999");
        assert_eq!(
            parse_in(&[huge.as_bytes()], small()).1,
            Some(PayloadTooLarge)
        );
        let zeros = head("0000000000000000000000000000000");
        assert_eq!(parse_in(&[zeros.as_bytes()], small()).0.len(), 1);
        let chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        let fits = [&chunked[..], b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"].concat();
        assert_eq!(parse_in(&[&fits], small()).0[0].body, b"helloworld");
        // The chunk that would cross the limit is refused from its size line.
        let over = [&chunked[..], b"5\r\nhello\r\n6\r\n"].concat();
        assert_eq!(parse_in(&[&over], small()).1, Some(PayloadTooLarge));
        let huge = [&chunked[..], b"fffffffffffffffffffffff\r\n"].concat();
        assert_eq!(parse_in(&[&huge], small()).1, Some(PayloadTooLarge));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let ka = |stream: &[u8]| one(stream).keep_alive();
        assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
        ));
    }

    /// Streams that parse, that fail, and that fail after some requests: the cut tests run on
    /// all of them.
    fn streams() -> Vec<Vec<u8>> {
        let mut streams: Vec<Vec<u8>> = [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"\r\nGET /a?b HTTP/1.0\r\nUser-Agent: x\r\nConnection: keep-alive\r\n\r\n",
            b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
            b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
            b"GET / HTTP/1.1\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        // Everything pipelined in one stream; and a long head against the limits.
        streams.push(streams[..4].concat());
        streams.push([&streams[..4].concat()[..], &streams[4]].concat());
        let mut long = b"GET /".to_vec();
        long.extend([b'x'; 9000]);
        streams.push(long);
        streams
    }

    #[test]
    fn every_stream_parses_the_same_however_it_is_cut() {
        for stream in streams() {
            let whole = parse(&stream);
            for cut in 0..=stream.len() {
                let (a, b) = stream.split_at(cut);
                assert_eq!(
                    parse_in(&[a, b], Limits::default()),
                    whole,
                    "cut at {cut}: {:?}",
                    String::from_utf8_lossy(&stream)
                );
            }
            let bytes: Vec<&[u8]> = stream.chunks(1).collect();
            assert_eq!(parse_in(&bytes, Limits::default()), whole);
            let threes: Vec<&[u8]> = stream.chunks(3).collect();
            assert_eq!(parse_in(&threes, Limits::default()), whole);
        }
    }

    /// Linear work: each byte is examined once (the cursor never goes back), and compaction
    /// moves each byte at most once on average, whatever the cuts. Moving the rest of the
    /// buffer after every request instead would be quadratic in the requests per push.
    #[test]
    fn many_pipelined_requests_move_each_byte_at_most_once_on_average() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let stream = request.repeat(20_000);
        for piece in [1, 7, 1000, 64 * 1024, stream.len()] {
            let mut parser = Parser::default();
            let mut count = 0;
            for chunk in stream.chunks(piece) {
                parser.push(chunk);
                while let Some(r) = parser.next_request().expect("valid") {
                    assert_eq!(r.target, "/");
                    count += 1;
                }
            }
            assert_eq!(count, 20_000);
            assert!(
                parser.moved <= stream.len(),
                "pieces of {piece}: {}",
                parser.moved
            );
        }
    }

    #[test]
    fn a_large_head_sent_a_byte_at_a_time_is_examined_once() {
        // 100 header lines of 150 bytes, a byte per push: rescanning from the start on every
        // push would examine ~112 million bytes; a cursor examines 15 000.
        let mut stream = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..98 {
            stream.extend(format!("X-{i:03}: {}\r\n", "v".repeat(141)).as_bytes());
        }
        stream.extend(b"\r\n");
        let mut parser = Parser::default();
        let started = std::time::Instant::now();
        for &byte in &stream {
            parser.push(&[byte]);
            if let Some(r) = parser.next_request().expect("valid") {
                assert_eq!(r.headers.len(), 99);
            }
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    /// SplitMix64, seeded: the same cases on every run.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// The parser's promise, on many thousands of inputs: any bytes, cut anywhere, give
    /// requests or an error, never a panic, and quickly. A third are random bytes; the rest
    /// are valid streams with a few bytes changed, which reach deeper into the parser.
    #[test]
    fn never_panics_on_arbitrary_or_mutated_bytes() {
        let mut rng = Random(0x4854_5450);
        let good = streams();
        let interesting = b"\r\n :;,\t\x00\x7f\xff0fF-HTTP/1.chunked";
        let started = std::time::Instant::now();
        let (mut ok, mut err) = (0, 0);
        for case in 0..60_000 {
            let bytes: Vec<u8> = if case % 3 == 0 {
                let len = rng.below(120);
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                let mut b = good[case % good.len()].clone();
                for _ in 0..1 + rng.below(4) {
                    if b.is_empty() {
                        break;
                    }
                    let i = rng.below(b.len());
                    match rng.below(4) {
                        0 => b[i] = rng.next() as u8,
                        1 => b[i] = interesting[rng.below(interesting.len())],
                        2 => b.truncate(i),
                        _ => b.insert(i, interesting[rng.below(interesting.len())]),
                    }
                }
                b
            };
            let cut = rng.below(bytes.len() + 1);
            let (a, b) = bytes.split_at(cut);
            match parse_in(&[a, b], small()) {
                (_, Some(e)) => {
                    assert!([400, 413, 414, 431, 501, 505].contains(&e.status()));
                    err += 1
                }
                (_, None) => ok += 1,
            }
        }
        assert!(ok > 3_000 && err > 30_000, "{ok} parsed, {err} refused");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    /// Method, target, minor version and header fields: what both parsers report.
    type Parts = (String, String, u8, Vec<(String, String)>);

    // ANCHOR: httparse
    /// The same requests through `httparse`, the parser under `hyper`: where both accept,
    /// they must agree on method, target, version and header fields.
    ///
    /// Where they differ, on purpose (see `differs_from_httparse_on_purpose`):
    /// - a bare LF ends a line for httparse (RFC 9112 §2.2 allows it); for us it is 400;
    /// - httparse skips any number of empty lines (CRLF or LF) before the request line; we
    ///   skip one CRLF;
    /// - httparse parses one head and leaves meaning to its caller: a missing or repeated
    ///   `Host`, repeated `Content-Length`s, both `Content-Length` and `Transfer-Encoding`
    ///   are fine to it; to us they are 400;
    /// - httparse takes field values as bytes, obs-text included; we require UTF-8;
    /// - httparse refuses `HTTP/2.0` as a bad version; we answer 505.
    fn httparse_head(stream: &[u8]) -> Option<Parts> {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut fields);
        match request.parse(stream) {
            Ok(httparse::Status::Complete(_)) => Some((
                request.method?.to_string(),
                request.path?.to_string(),
                request.version?,
                request
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into()))
                    .collect(),
            )),
            _ => None,
        }
    }
    // ANCHOR_END: httparse

    fn our_head(stream: &[u8]) -> Option<Parts> {
        let r = parse(stream).0.into_iter().next()?;
        let minor = match r.version {
            Version::Http10 => 0,
            Version::Http11 => 1,
        };
        Some((r.method.as_str().to_string(), r.target, minor, r.headers))
    }

    #[test]
    fn agrees_with_httparse_on_valid_requests() {
        let valid: [&[u8]; 8] = [
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: example.com:8080\r\n\
              User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
            b"HEAD /index.html HTTP/1.0\r\n\r\n",
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            b"BREW /pot HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces:   v   \r\n\r\n",
            b"GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\nX-Tab:\tv\tw\r\n\r\n",
            b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n\
              Content-Length: 3\r\n\r\nabc",
            b"\r\nGET / HTTP/1.1\r\nhost: a\r\nCoNnEcTiOn: close\r\n\r\n",
        ];
        for stream in valid {
            let ours = our_head(stream);
            assert!(ours.is_some(), "{:?}", String::from_utf8_lossy(stream));
            assert_eq!(ours, httparse_head(stream));
        }
    }

    #[test]
    fn differs_from_httparse_on_purpose() {
        let lenient_there: [&[u8]; 8] = [
            b"GET / HTTP/1.1\nHost: a\n\n",
            b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: \xff\r\n\r\n",
        ];
        for stream in lenient_there {
            let name = String::from_utf8_lossy(stream);
            assert!(httparse_head(stream).is_some(), "httparse accepts {name:?}");
            assert_eq!(error(stream).map(|e| e.status()), Some(400), "{name:?}");
        }
        let version = b"GET / HTTP/2.0\r\nHost: a\r\n\r\n";
        assert_eq!(httparse_head(version), None);
        assert_eq!(error(version), Some(VersionNotSupported));
        // And both refuse obs-fold, whitespace before a colon, and a bare CR.
        for stream in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        ] {
            assert_eq!(httparse_head(stream), None);
            assert_eq!(error(stream).map(|e| e.status()), Some(400));
        }
    }
}
