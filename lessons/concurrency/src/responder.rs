//! The HTTP/1.1 responder every model runs. It is sans-IO: a model reads bytes from a socket
//! and hands them to [`Responder::feed`], which appends to `out` the response to every request
//! those bytes complete; the model writes `out`. So the five models share one behaviour,
//! keep-alive and pipelining included, and differ only in how they wait for sockets.
//!
//! Routes: `GET /` and `HEAD /` answer `200` with the seed's `Hello, world!`; other paths get
//! `404`; other methods `405` with `Allow` (RFC 9110 §15.5.6). A malformed request gets the
//! status the HTTP lesson's parser names, and the connection closes.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http11::request::{Method, Parser, Request};
use http11::response::{http_date, reason};

use crate::Config;

/// The body of `GET /`.
pub const HELLO: &[u8] = b"Hello, world!\n";

/// What the model does with the connection once `out` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Wait for the next request.
    KeepOpen,
    /// Close: the client asked to, the request was malformed, or the server is stopping.
    Close,
}

// ANCHOR: responder
/// One connection's HTTP state: the bytes of a request not yet complete.
#[derive(Debug)]
pub struct Responder {
    parser: Parser,
    panic_route: bool,
}

impl Responder {
    pub fn new(config: &Config) -> Responder {
        Responder {
            parser: Parser::new(config.limits),
            panic_route: config.panic_route,
        }
    }

    /// Takes the bytes that arrived and appends to `out` the response to each request they
    /// complete, in order (pipelined requests are answered in the order they came). With
    /// `closing` (the server is stopping), the next response says `Connection: close`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>, closing: bool) -> Flow {
        self.parser.push(bytes);
        loop {
            match self.parser.next_request() {
                Ok(Some(request)) => {
                    let keep_alive = request.keep_alive() && !closing;
                    self.answer(&request, keep_alive, out);
                    if !keep_alive {
                        return Flow::Close;
                    }
                }
                Ok(None) => return Flow::KeepOpen,
                Err(error) => {
                    let why = format!("{error}\n");
                    write_response(out, error.status(), None, why.as_bytes(), false, false);
                    return Flow::Close;
                }
            }
        }
    }

    /// True while part of a request has arrived: the header clock runs, and a stopping
    /// server lets it finish.
    pub fn in_progress(&self) -> bool {
        self.parser.in_progress()
    }

    fn answer(&self, request: &Request, keep_alive: bool, out: &mut Vec<u8>) {
        let head_only = request.method == Method::Head;
        let (status, extra, body): (u16, Option<&str>, &[u8]) =
            match (&request.method, request.target.as_str()) {
                (Method::Get | Method::Head, "/") => (200, None, HELLO),
                (Method::Get, "/panic") if self.panic_route => {
                    panic!("GET /panic: a deliberate panic (--panic-route)")
                }
                (Method::Get | Method::Head, _) => (404, None, b"not found\n"),
                _ => (405, Some("Allow: GET, HEAD"), b"only GET and HEAD\n"),
            };
        write_response(out, status, extra, body, keep_alive, head_only);
    }
}
// ANCHOR_END: responder

/// `408 Request Timeout`: a request did not arrive whole in time (RFC 9110 §15.5.9).
pub fn timed_out() -> Vec<u8> {
    let mut out = Vec::new();
    let body = b"the request took too long to arrive\n";
    write_response(&mut out, 408, None, body, false, false);
    out
}

/// `503 Service Unavailable`: the server is at its limit; come back in a second
/// (RFC 9110 §15.6.4, `Retry-After` §10.2.3).
pub fn busy() -> Vec<u8> {
    let mut out = Vec::new();
    let body = b"too many connections, try again soon\n";
    write_response(&mut out, 503, Some("Retry-After: 1"), body, false, false);
    out
}

// ANCHOR: write_response
/// Appends a plain-text response to `out`: the status line, `Date`, `Connection`, the type,
/// one `extra` field if any, `Content-Length`, and the body (not for `HEAD`: the same head,
/// no body, RFC 9110 §9.3.2). Written straight into `out`, with no string built on the way:
/// at tens of thousands of responses a second, every allocation shows.
fn write_response(
    out: &mut Vec<u8>,
    status: u16,
    extra: Option<&str>,
    body: &[u8],
    keep_alive: bool,
    head_only: bool,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, usize::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    push_date(out);
    out.extend_from_slice(if keep_alive {
        b"\r\nConnection: keep-alive\r\n"
    } else {
        b"\r\nConnection: close\r\n"
    });
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    if let Some(field) = extra {
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    push_decimal(out, body.len());
    out.extend_from_slice(b"\r\n\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
}
// ANCHOR_END: write_response

/// Appends `n` in decimal digits.
fn push_decimal(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `Date` is required on most responses (RFC 9110 §6.6.1) and changes once a second, so each
/// thread formats it once a second rather than once a response.
fn push_date(out: &mut Vec<u8>) {
    thread_local! {
        static CACHE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != second {
            *cache = (second, http_date(now));
        }
        out.extend_from_slice(cache.1.as_bytes());
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(bytes: &[u8]) -> (String, Flow) {
        let mut responder = Responder::new(&Config::default());
        let mut out = Vec::new();
        let flow = responder.feed(bytes, &mut out, false);
        (String::from_utf8_lossy(&out).into_owned(), flow)
    }

    #[test]
    fn answers_hello_and_keeps_the_connection_open() {
        let (out, flow) = feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("\r\nConnection: keep-alive\r\n"), "{out}");
        assert!(out.contains("\r\nContent-Length: 14\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nHello, world!\n"), "{out}");
        assert_eq!(flow, Flow::KeepOpen);
    }

    #[test]
    fn answers_pipelined_requests_in_order_and_closes_when_asked() {
        let (out, flow) = feed(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n\
              HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n",
        );
        let statuses: Vec<&str> = out
            .match_indices("HTTP/1.1 ")
            .map(|(i, _)| &out[i + 9..i + 12])
            .collect();
        assert_eq!(statuses, ["200", "404", "200"], "{out}");
        assert!(out.ends_with("Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\n"), "{out}");
        assert_eq!(flow, Flow::Close);
    }

    #[test]
    fn waits_for_the_rest_of_a_request() {
        let mut responder = Responder::new(&Config::default());
        let mut out = Vec::new();
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n\r" {
            assert_eq!(responder.feed(&[*byte], &mut out, false), Flow::KeepOpen);
            assert!(out.is_empty() && responder.in_progress());
        }
        assert_eq!(responder.feed(b"\n", &mut out, false), Flow::KeepOpen);
        assert!(!out.is_empty() && !responder.in_progress());
    }

    #[test]
    fn refuses_garbage_and_other_methods() {
        let (out, flow) = feed(b"hello\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert_eq!(flow, Flow::Close);
        let (out, flow) = feed(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 405 "), "{out}");
        assert!(out.contains("\r\nAllow: GET, HEAD\r\n"), "{out}");
        assert_eq!(flow, Flow::KeepOpen);
    }

    #[test]
    fn writes_the_same_bytes_as_the_http_lessons_builder() {
        use http11::response::Response;
        for (status, extra, body, keep_alive, head_only) in [
            (200, None, HELLO, true, false),
            (200, None, HELLO, false, true),
            (
                405,
                Some(("Allow", "GET, HEAD")),
                &b"only GET and HEAD\n"[..],
                true,
                false,
            ),
            (
                503,
                Some(("Retry-After", "1")),
                &b"busy\n"[..],
                false,
                false,
            ),
        ] {
            let mut ours = Vec::new();
            let field = extra.map(|(name, value)| format!("{name}: {value}"));
            write_response(
                &mut ours,
                status,
                field.as_deref(),
                body,
                keep_alive,
                head_only,
            );
            let date = String::from_utf8_lossy(&ours)
                .lines()
                .find_map(|line| line.strip_prefix("Date: ").map(str::to_owned))
                .expect("a Date field");
            let connection = if keep_alive { "keep-alive" } else { "close" };
            let mut theirs = Response::new(status)
                .header("Date", &date)
                .header("Connection", connection)
                .body(body.to_vec(), "text/plain; charset=utf-8");
            if let Some((name, value)) = extra {
                theirs = theirs.header(name, value);
            }
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs.to_bytes(head_only))
            );
        }
    }

    #[test]
    fn a_stopping_server_closes_after_the_response() {
        let mut responder = Responder::new(&Config::default());
        let mut out = Vec::new();
        let flow = responder.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &mut out, true);
        assert_eq!(flow, Flow::Close);
        assert!(String::from_utf8_lossy(&out).contains("Connection: close"));
    }
}
