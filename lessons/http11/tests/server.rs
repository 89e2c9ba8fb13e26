//! The server over loopback: an in-process server on `127.0.0.1:0`, stopped by its shutdown
//! handle, serving a temporary root; every exchange bounded in time.

use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use http11::client::{Client, ClientError, Response};
use http11::server::{self, Config};
use http11::shutdown::Shutdown;
use std::io::{Read, Write};

const STEP: Duration = course_testkit::net::STEP_TIMEOUT;
const SECRET: &str = "the secret outside the root";

/// A temporary folder: `root/` (served) and `secret.txt` beside it (never served).
struct Site {
    dir: PathBuf,
}

impl Site {
    fn new() -> Site {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "http11-server-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(dir.join("secret.txt"), SECRET).expect("write");
        std::fs::write(root.join("index.html"), "<h1>home</h1>\n").expect("write");
        std::fs::write(root.join("a.txt"), "hello\n").expect("write");
        std::fs::write(root.join("style.css"), "body {}\n").expect("write");
        std::fs::write(root.join("sub/index.html"), "<p>sub</p>\n").expect("write");
        let big: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        std::fs::write(root.join("big.bin"), big).expect("write");
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("link.txt"));
            let _ = std::os::unix::fs::symlink(&dir, root.join("up"));
        }
        Site { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Running {
    addr: SocketAddr,
    shutdown: Shutdown,
    done: Receiver<std::io::Result<()>>,
    _site: Site,
}

impl Running {
    fn start() -> Running {
        Running::with(|_| {})
    }

    /// Starts a server on a fresh site, with `change` applied to the default config.
    fn with(change: impl FnOnce(&mut Config)) -> Running {
        let site = Site::new();
        let mut config = Config::new(site.root());
        change(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let handle = shutdown.clone();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || tx.send(server::run(listener, handle, config)));
        Running {
            addr,
            shutdown,
            done,
            _site: site,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.addr.to_string(), STEP).expect("connect")
    }

    /// One request with `Connection: close`.
    fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        let mut c = self.client();
        c.send(method, target, headers, b"", false).expect("send");
        c.read_response(method == "HEAD").expect("a response")
    }

    /// Sends `bytes` in one write and reads one response (`head` for a HEAD request), then
    /// expects the server to close the connection; returns the response and what came
    /// after it.
    fn raw(&self, bytes: &[u8]) -> (Response, Vec<u8>) {
        let mut c = self.client();
        c.send_raw(bytes).expect("send");
        let response = c.read_response(false).expect("a response");
        let rest = c.read_to_close().expect("the server closes");
        (response, rest)
    }

    fn stop(self) {
        self.shutdown.trigger();
        match self.done.recv_timeout(STEP) {
            Ok(result) => result.expect("run returns Ok"),
            Err(e) => panic!("the server did not stop within {STEP:?}: {e}"),
        }
    }
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[test]
fn get_serves_a_file_with_its_metadata() {
    let server = Running::start();
    let r = server.request("GET", "/a.txt", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, b"hello\n");
    assert_eq!(r.header("content-length"), Some("6"));
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{r:?}"
    );
    for field in ["date", "etag", "last-modified"] {
        assert!(r.header(field).is_some(), "no {field}: {r:?}");
    }
    assert!(
        r.header("date").is_some_and(|d| d.ends_with(" GMT")),
        "{r:?}"
    );
    let css = server.request("GET", "/style.css", &[]);
    assert_eq!(
        css.header("content-type")
            .map(|t| t.starts_with("text/css")),
        Some(true)
    );
    let home = server.request("GET", "/", &[]);
    assert_eq!(
        (home.status, text(&home.body)),
        (200, "<h1>home</h1>\n".into())
    );
    assert!(
        home.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    server.stop();
}

#[test]
fn head_answers_the_same_head_without_a_body() {
    let server = Running::start();
    let get = server.request("GET", "/a.txt", &[]);
    let mut c = server.client();
    c.send_raw(b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    let head = c.read_response(true).expect("response");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("6"), "{head:?}");
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
    // Nothing after the head: the next bytes are the close.
    assert_eq!(c.read_to_close().expect("close"), b"");
    server.stop();
}

#[test]
fn a_matching_etag_gets_304_without_a_body() {
    let server = Running::start();
    let first = server.request("GET", "/a.txt", &[]);
    let etag = first.header("etag").expect("an etag").to_string();
    let weak = etag.trim_start_matches("W/").to_string();
    let listed = format!("\"other\", {etag}");
    for value in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let r = server.request("GET", "/a.txt", &[("If-None-Match", value)]);
        assert_eq!(r.status, 304, "If-None-Match: {value}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        if let Some(length) = r.header("content-length") {
            assert_eq!(
                length, "6",
                "a 304's Content-Length is the 200's (RFC 9110 §8.6)"
            );
        }
    }
    let other = server.request("GET", "/a.txt", &[("If-None-Match", "\"nope\"")]);
    assert_eq!(
        (other.status, other.body.as_slice()),
        (200, b"hello\n".as_slice())
    );
    let last_modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let since = server.request("GET", "/a.txt", &[("If-Modified-Since", &last_modified)]);
    assert_eq!(since.status, 304);
    server.stop();
}

#[test]
fn missing_files_are_404_and_folders_need_their_slash() {
    let server = Running::start();
    assert_eq!(server.request("GET", "/nope.txt", &[]).status, 404);
    assert_eq!(server.request("HEAD", "/nope.txt", &[]).status, 404);
    let sub = server.request("GET", "/sub", &[]);
    assert_eq!((sub.status, sub.header("location")), (301, Some("/sub/")));
    let index = server.request("GET", "/sub/", &[]);
    assert_eq!(
        (index.status, text(&index.body)),
        (200, "<p>sub</p>\n".into())
    );
    let query = server.request("GET", "/a.txt?x=1", &[]);
    assert_eq!(query.status, 200);
    server.stop();
}

#[test]
fn known_methods_a_path_does_not_allow_get_405_with_allow() {
    let server = Running::start();
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = server.request(method, "/a.txt", &[]);
        assert_eq!(
            (r.status, r.header("allow")),
            (405, Some("GET, HEAD")),
            "{method}"
        );
    }
    let r = server.request("DELETE", "/echo", &[]);
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, HEAD, POST"))
    );
    server.stop();
}

#[test]
fn unknown_methods_get_501() {
    let server = Running::start();
    for method in ["BREW", "get"] {
        assert_eq!(server.request(method, "/", &[]).status, 501, "{method}");
    }
    server.stop();
}

#[test]
fn echo_answers_with_the_head_or_the_body() {
    let server = Running::start();
    let r = server.request("GET", "/echo?x=1", &[("X-Test", "yes")]);
    let shown = text(&r.body);
    assert!(shown.starts_with("GET /echo?x=1 HTTP/1.1\n"), "{shown}");
    assert!(shown.contains("\nX-Test: yes\n"), "{shown}");
    let mut c = server.client();
    c.send("POST", "/echo", &[], b"a body\x00\xff", false)
        .expect("send");
    let posted = c.read_response(false).expect("response");
    assert_eq!(
        (posted.status, posted.body.as_slice()),
        (200, b"a body\x00\xff".as_slice())
    );
    server.stop();
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = Running::start();
    let mut c = server.client();
    for i in 0..5 {
        c.send("GET", "/a.txt", &[], b"", true).expect("send");
        let r = c
            .read_response(false)
            .expect("a response on the same connection");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, b"hello\n".as_slice()),
            "request {i}"
        );
        assert!(r.keep_alive(), "request {i}: {r:?}");
    }
    c.send("GET", "/echo", &[], b"", false).expect("send");
    let last = c.read_response(false).expect("response");
    assert_eq!(last.header("connection"), Some("close"));
    assert_eq!(c.read_to_close().expect("the server closes"), b"");
    server.stop();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Running::start();
    let mut c = server.client();
    c.send_raw(
        b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n\
          HEAD /style.css HTTP/1.1\r\nHost: t\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc\
          GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n\
          GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .expect("send");
    let a = c.read_response(false).expect("1st");
    let css = c.read_response(true).expect("2nd");
    let posted = c.read_response(false).expect("3rd");
    let missing = c.read_response(false).expect("4th");
    assert_eq!((a.status, a.body.as_slice()), (200, b"hello\n".as_slice()));
    assert_eq!((css.status, css.header("content-length")), (200, Some("8")));
    assert_eq!(posted.body, b"abc");
    assert_eq!(
        (missing.status, missing.header("connection")),
        (404, Some("close"))
    );
    // The request after `Connection: close` is not answered.
    assert_eq!(c.read_to_close().expect("the server closes"), b"");
    server.stop();
}

#[test]
fn a_request_sent_a_byte_at_a_time_is_served() {
    let server = Running::start();
    let mut c = server.client();
    for byte in b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" {
        c.send_raw(&[*byte]).expect("send");
    }
    let r = c.read_response(false).expect("response");
    assert_eq!(r.body, b"hello\n");
    server.stop();
}

#[test]
fn http_1_0_closes_unless_it_asks_for_keep_alive() {
    let server = Running::start();
    let (r, rest) = server.raw(b"GET /a.txt HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, rest.as_slice()), (200, b"".as_slice()));
    let mut c = server.client();
    c.send_raw(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .expect("send");
    let kept = c.read_response(false).expect("response");
    assert_eq!(kept.header("connection"), Some("keep-alive"));
    c.send_raw(b"GET /a.txt HTTP/1.0\r\n\r\n").expect("send");
    assert_eq!(c.read_response(false).expect("2nd").status, 200);
    server.stop();
}

/// Sends `request`, expects `status` with `Connection: close`, then the close.
fn expect_refused(server: &Running, request: &[u8], status: u16) {
    let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
    let (r, rest) = server.raw(request);
    assert_eq!(r.status, status, "{shown:?}: {r:?}");
    assert_eq!(r.header("connection"), Some("close"), "{shown:?}");
    assert!(rest.is_empty(), "{shown:?}: more after the error: {rest:?}");
}

#[test]
fn malformed_requests_get_their_status_and_a_close() {
    let server = Running::with(|c| {
        c.limits.max_body = 1000;
        c.limits.max_headers = 20;
        c.limits.max_header_bytes = 2000;
        c.limits.max_request_line = 500;
    });
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(600));
    let many: String = (0..30).map(|i| format!("X-{i}: y\r\n")).collect();
    let many_fields = format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n");
    let large_field = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "y".repeat(3000)
    );
    let cases: Vec<(&str, Vec<u8>, u16)> =
        vec![
        ("bare LF", b"GET / HTTP/1.1\nHost: t\n\n".to_vec(), 400),
        ("bare CR", b"GET / HTTP/1.1\rHost: t\r\n\r\n".to_vec(), 400),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n".to_vec(), 400),
        ("no Host", b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), 400),
        ("a bad request line", b"GET /\r\nHost: t\r\n\r\n".to_vec(), 400),
        ("too long a target", long_target.into_bytes(), 414),
        ("too many fields", many_fields.into_bytes(), 431),
        ("too large a field", large_field.into_bytes(), 431),
        (
            "too large a body",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n".to_vec(),
            413,
        ),
        (
            "a bad Content-Length",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n".to_vec(),
            400,
        ),
        (
            "Content-Lengths that disagree",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
                .to_vec(),
            400,
        ),
        (
            "Content-Length and Transfer-Encoding",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            400,
        ),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_vec(), 505),
        ("a non-UTF-8 target", b"GET /\xff\xfe HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 400),
    ];
    for (what, request, status) in cases {
        eprintln!("case: {what}");
        expect_refused(&server, &request, status);
    }
    server.stop();
}

#[test]
fn bad_percent_encoding_is_400() {
    let server = Running::start();
    for target in ["/%zz", "/a%2", "/%ff%fe.txt"] {
        let r = server.request("GET", target, &[]);
        assert_eq!(r.status, 400, "{target}: {r:?}");
    }
    server.stop();
}

#[test]
fn a_tls_client_hello_gets_400_and_a_close() {
    let server = Running::start();
    // The first bytes of a TLS 1.2/1.3 ClientHello record (RFC 8446 §5.1).
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
    ];
    hello.extend((0..32).map(|i| i as u8));
    hello.extend_from_slice(b"\x00\x00\x04\x13\x01\x13\x02\x01\x00");
    let mut c = server.client();
    c.send_raw(&hello).expect("send");
    match c.read_response(false) {
        Ok(r) => assert_eq!(r.status, 400, "{r:?}"),
        // Closing without a response is also allowed: nothing there was HTTP.
        Err(ClientError::Malformed(_)) => {}
        Err(e) => panic!("{e}"),
    }
    // And the server still serves.
    assert_eq!(server.request("GET", "/a.txt", &[]).status, 200);
    server.stop();
}

#[test]
fn a_request_that_stalls_gets_408_within_the_timeout() {
    let server = Running::with(|c| c.header_timeout = Duration::from_millis(300));
    let started = Instant::now();
    let (r, rest) = server.raw(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n");
    let took = started.elapsed();
    assert_eq!((r.status, r.header("connection")), (408, Some("close")));
    assert!(rest.is_empty());
    assert!(
        took >= Duration::from_millis(250),
        "408 after only {took:?}"
    );
    assert!(took < Duration::from_secs(3), "408 after {took:?}");
    server.stop();
}

#[test]
fn a_trickling_client_gets_408_even_though_bytes_keep_coming() {
    let server = Running::with(|c| {
        c.header_timeout = Duration::from_millis(400);
        c.idle_timeout = Duration::from_millis(300);
    });
    let mut c = TcpStream::connect(server.addr).expect("connect");
    let started = Instant::now();
    let mut got = Vec::new();
    // A byte every 100 ms, until the answer begins: each byte resets no clock but the
    // request's, which started with the first.
    while got.is_empty() && started.elapsed() < Duration::from_secs(3) {
        if c.write_all(b"X").is_err() {
            break;
        }
        // Not synchronisation: the pace of a slow client, and a look for the answer.
        c.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let mut buf = [0u8; 1024];
        if let Ok(n) = c.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    c.set_read_timeout(Some(STEP)).expect("timeout");
    let _ = c.read_to_end(&mut got);
    assert!(text(&got).starts_with("HTTP/1.1 408 "), "{:?}", text(&got));
    assert!(started.elapsed() < Duration::from_secs(3));
    server.stop();
}

#[test]
fn a_body_that_stalls_gets_408() {
    let server = Running::with(|c| {
        c.header_timeout = Duration::from_millis(200);
        c.body_timeout = Duration::from_millis(200);
    });
    let started = Instant::now();
    let (r, _) = server.raw(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!(r.status, 408);
    assert!(started.elapsed() < Duration::from_secs(3));
    server.stop();
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Running::with(|c| c.idle_timeout = Duration::from_millis(300));
    let mut c = server.client();
    c.send("GET", "/a.txt", &[], b"", true).expect("send");
    assert_eq!(c.read_response(false).expect("response").status, 200);
    let started = Instant::now();
    assert_eq!(c.read_to_close().expect("closed, not reset"), b"");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(3),
        "{took:?}"
    );
    server.stop();
}

#[test]
fn a_client_that_disconnects_mid_response_does_not_hurt_others() {
    let server = Running::start();
    for _ in 0..3 {
        let mut c = TcpStream::connect(server.addr).expect("connect");
        c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("send");
        let mut some = [0u8; 1000];
        c.set_read_timeout(Some(STEP)).expect("timeout");
        let n = c.read(&mut some).expect("the response begins");
        assert!(text(&some[..n]).starts_with("HTTP/1.1 200 "));
        drop(c); // with unread data: a reset
    }
    let big = server.request("GET", "/big.bin", &[]);
    assert_eq!(big.body.len(), 4 * 1024 * 1024);
    assert!(
        big.body
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8)
    );
    server.stop();
}

#[test]
fn extra_connections_get_503_and_idle_ones_do_not_lock_others_out() {
    let server = Running::with(|c| {
        c.max_connections = 4;
        c.idle_timeout = Duration::from_millis(500);
    });
    // Three idle connections, each accepted: a request on a fourth is still served.
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    let mut fourth = server.client();
    fourth.send("GET", "/a.txt", &[], b"", true).expect("send");
    let started = Instant::now();
    assert_eq!(fourth.read_response(false).expect("served").status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    // Now four are open: a fifth is answered 503 at once.
    let started = Instant::now();
    let mut fifth = server.client();
    let busy = fifth.read_response(false).expect("a 503");
    assert_eq!(
        (busy.status, busy.header("connection")),
        (503, Some("close"))
    );
    assert!(busy.header("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_secs(2));
    // Once the idle ones time out, a new client is served again, within a bounded time.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = server.client();
        c.send("GET", "/a.txt", &[], b"", false).expect("send");
        match c.read_response(false) {
            Ok(r) if r.status == 200 => break,
            Ok(r) if r.status == 503 && Instant::now() < deadline => {}
            other => panic!("not served again: {other:?}"),
        }
        // Polling for the server's timeouts, bounded by `deadline`.
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(idle);
    server.stop();
}

#[test]
fn traversal_never_serves_a_file_outside_the_root() {
    let server = Running::start();
    let attempts = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/..%5csecret.txt",
        "/a.txt%00",
        "/a.txt%00.html",
        "//secret.txt",
        "/link.txt",
        "/up/secret.txt",
        "http://t/../secret.txt",
    ];
    for target in attempts {
        let mut c = server.client();
        let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        c.send_raw(request.as_bytes()).expect("send");
        let r = c.read_response(false).expect("a response");
        assert!(
            r.status == 400 || r.status == 404,
            "{target}: {} {}",
            r.status,
            text(&r.body)
        );
        assert!(
            !text(&r.body).contains(SECRET),
            "{target} served the secret"
        );
    }
    // Also over HTTP/1.0 without Host, and with an absolute path.
    for request in [
        "GET /../secret.txt HTTP/1.0\r\n\r\n",
        "GET /etc/passwd HTTP/1.0\r\n\r\n",
    ] {
        let (r, _) = server.raw(request.as_bytes());
        assert_eq!(r.status, 404, "{request:?}");
    }
    server.stop();
}

#[test]
fn shutdown_closes_keep_alive_connections_and_returns() {
    let server = Running::start();
    let mut c = server.client();
    c.send("GET", "/a.txt", &[], b"", true).expect("send");
    assert_eq!(c.read_response(false).expect("response").status, 200);
    let mut half = TcpStream::connect(server.addr).expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\n").expect("send");
    server.stop();
    // Both connections were ended by the server: a close or a reset, not a wait.
    let ended = c.read_to_close();
    assert!(
        !matches!(ended, Err(ClientError::Timeout { .. })),
        "{ended:?}"
    );
    let mut rest = Vec::new();
    half.set_read_timeout(Some(STEP)).expect("timeout");
    let read = half.read_to_end(&mut rest);
    assert!(
        read.as_ref()
            .map_or_else(|e| !course_testkit::net::is_timeout(e), |_| true)
    );
    let _ = half.shutdown(Direction::Both);
}
