//! A sans-IO HTTP/1.1 request parser (RFC 9112): bytes in, whole requests or a precise error
//! out. It never reads a socket, so it is tested without one, byte by byte.
//!
//! API contract (shared by the server and the exercises; fill in the bodies):

/// Limits on what one request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest request line (method, target, version), without its CRLF: else 414.
    pub max_request_line: usize,
    /// The most bytes of header fields, all lines together: else 431.
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

impl Request {
    /// The value of the first header field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after this exchange (RFC 9112 §9.3): HTTP/1.1
    /// unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        todo!()
    }
}

/// An incremental parser: push bytes as they arrive; take whole requests out.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    buf: Vec<u8>,
}

impl Parser {
    pub fn new(limits: Limits) -> Parser {
        Parser {
            limits,
            buf: Vec::new(),
        }
    }

    /// Adds bytes that arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole request, `Ok(None)` if more bytes are needed, or the error that ends
    /// the connection (after its error response). Work is linear in the bytes pushed.
    pub fn next_request(&mut self) -> Result<Option<Request>, ParseError> {
        let _ = self.limits;
        todo!()
    }

    /// True when some bytes of a request that is not complete yet have arrived: the server's
    /// header-read timeout runs only then (an idle keep-alive connection has none).
    pub fn in_progress(&self) -> bool {
        !self.buf.is_empty()
    }
}
