//! The production way, side by side: our server and the axum example, each on `127.0.0.1:0`
//! serving the same folder, asked the same questions by our client and by reqwest. Where
//! the answers agree, the test says so; where the servers differ, a test below shows how,
//! and a comment says why.
//!
//! The examples are compiled into this test as modules, so there is one copy of their code;
//! their `main` and command line go unused here.

#[allow(dead_code)]
#[path = "../examples/axum_server.rs"]
mod axum_server;
#[allow(dead_code)]
#[path = "../examples/reqwest_client.rs"]
mod reqwest_client;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use http11::client::{self, Client, Response};
use http11::server::{self, Config};
use http11::shutdown::Shutdown;

const STEP: Duration = course_testkit::net::STEP_TIMEOUT;

/// A temporary copy of the lesson's `www/`, with a folder `sub/` (for the redirect of
/// `/sub`), and `secret.txt` beside the root with a symlink to it inside (unix).
struct Site {
    dir: PathBuf,
}

impl Site {
    fn new() -> Site {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "http11-production-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
        for name in ["index.html", "style.css"] {
            std::fs::copy(www.join(name), root.join(name)).expect("copy www");
        }
        std::fs::write(root.join("sub/index.html"), "<p>sub</p>\n").expect("write");
        std::fs::write(dir.join("secret.txt"), "the secret outside the root\n").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("link.txt")).expect("link");
        Site { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.root().join(name)).expect("read")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Our server, on a thread of its own.
struct Ours {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Ours {
    fn start(config: Config) -> Ours {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let handle = shutdown.clone();
        let thread = std::thread::spawn(move || server::run(listener, handle, config));
        Ours {
            addr,
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The axum example, on a tokio runtime on a thread of its own, stopped as Ctrl-C would.
struct Axum {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Axum {
    fn start(settings: axum_server::Settings) -> Axum {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = ready.send(());
                let shutdown = async {
                    let _ = stopped.await;
                };
                axum_server::serve(listener, &settings, shutdown)
                    .await
                    .expect("serve");
            });
        });
        is_ready.recv_timeout(STEP).expect("the axum server starts");
        Axum {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Axum {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Both servers on the same site, with the same limits.
struct Both {
    ours: Ours,
    axum: Axum,
    site: Site,
}

impl Both {
    fn start() -> Both {
        Both::with(|_, _| {})
    }

    fn with(change: impl FnOnce(&mut Config, &mut axum_server::Settings)) -> Both {
        let site = Site::new();
        let mut config = Config::new(site.root());
        let mut settings = axum_server::Settings::new(site.root());
        change(&mut config, &mut settings);
        assert_eq!(
            config.limits.max_body, settings.body_limit,
            "the same body limit"
        );
        Both {
            ours: Ours::start(config),
            axum: Axum::start(settings),
            site,
        }
    }

    /// (name, address) of each server, ours first.
    fn servers(&self) -> [(&'static str, SocketAddr); 2] {
        [("ours", self.ours.addr), ("axum", self.axum.addr)]
    }
}

/// What we compare of an answer: the status, two header fields, the body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    content_length: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn from_ours(r: &Response) -> Answer {
        Answer {
            status: r.status,
            content_type: r.header("content-type").map(str::to_string),
            content_length: r.header("content-length").map(str::to_string),
            body: r.body.clone(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request with our client (`Connection: close`).
fn ours(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    client::request(&addr.to_string(), method, target, headers, body, STEP)
        .unwrap_or_else(|e| panic!("our client, {method} {target} to {addr}: {e}"))
}

/// One request with the reqwest example's client.
fn reqwest(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let url = format!("http://{addr}{target}");
    runtime.block_on(async {
        let client = reqwest_client::client(STEP).expect("a reqwest client");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = client.request(method, &url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("reqwest, {url}: {e:?}"));
        let field = |name: &str| {
            let value = response.headers().get(name)?;
            Some(value.to_str().expect("a text field").to_string())
        };
        let (content_type, content_length) = (field("content-type"), field("content-length"));
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("the body").to_vec();
        Answer {
            status,
            content_type,
            content_length,
            body,
        }
    })
}

/// Asks both servers with both clients; checks each answer with `check`, and that the two
/// clients saw the same answer from each server.
fn ask_all(both: &Both, method: &str, target: &str, body: &[u8], check: impl Fn(&str, &Answer)) {
    for (name, addr) in both.servers() {
        let by_ours = Answer::from_ours(&ours(addr, method, target, &[], body));
        let by_reqwest = reqwest(addr, method, target, &[], body);
        check(&format!("{name} server, our client"), &by_ours);
        check(&format!("{name} server, reqwest"), &by_reqwest);
        assert_eq!(
            by_ours, by_reqwest,
            "{method} {target} to the {name} server"
        );
    }
}

#[test]
fn both_serve_a_file_with_its_type_and_length() {
    let both = Both::start();
    for (target, file, mime) in [
        ("/style.css", "style.css", "text/css"),
        ("/", "index.html", "text/html"),
    ] {
        let bytes = both.site.file(file);
        ask_all(&both, "GET", target, b"", |who, a| {
            assert_eq!(a.status, 200, "{who}: GET {target}: {a:?}");
            assert_eq!(a.body, bytes, "{who}: GET {target}");
            assert_eq!(a.content_length, Some(bytes.len().to_string()), "{who}");
            // Ours says `text/css; charset=utf-8`, ServeDir `text/css`.
            let ty = a.content_type.as_deref().unwrap_or("");
            assert!(ty.starts_with(mime), "{who}: GET {target}: type {ty:?}");
        });
    }
}

#[test]
fn both_answer_head_with_the_length_and_no_body() {
    let both = Both::start();
    let len = both.site.file("index.html").len().to_string();
    ask_all(&both, "HEAD", "/index.html", b"", |who, a| {
        assert_eq!(a.status, 200, "{who}: {a:?}");
        assert_eq!(a.content_length.as_deref(), Some(len.as_str()), "{who}");
        assert!(a.body.is_empty(), "{who}: a body for HEAD: {a:?}");
    });
}

#[test]
fn both_answer_404_for_a_missing_file_and_for_paths_leaving_the_root() {
    let both = Both::start();
    ask_all(&both, "GET", "/missing.txt", b"", |who, a| {
        assert_eq!(a.status, 404, "{who}: {a:?}");
    });
    // Our client sends the target as written; reqwest's URL parser would remove the dot
    // segments before sending (`/../Cargo.toml` goes out as `/Cargo.toml`).
    for target in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/sub/..%2f..%2fCargo.toml",
    ] {
        for (name, addr) in both.servers() {
            let r = ours(addr, "GET", target, &[], b"");
            assert_eq!(r.status, 404, "{name} server, GET {target}: {r:?}");
        }
    }
}

#[test]
fn both_echo_the_request_head_ours_as_sent_axum_in_lowercase() {
    let both = Both::start();
    let mut heads = Vec::new();
    for (name, addr) in both.servers() {
        let r = ours(addr, "GET", "/echo?x=1", &[("X-Course", "production")], b"");
        assert_eq!(r.status, 200, "{name}: {r:?}");
        let text = String::from_utf8_lossy(&r.body).replace(&addr.to_string(), "ADDR");
        heads.push((name, text));
    }
    let (ours_text, axum_text) = (&heads[0].1, &heads[1].1);
    // Ours shows each field as it came; hyper keeps header names in the `http` crate's
    // `HeaderName`, always lowercase, so axum cannot show the client's spelling.
    assert!(ours_text.contains("\nHost: ADDR\n"), "{ours_text}");
    assert!(
        ours_text.contains("\nX-Course: production\n"),
        "{ours_text}"
    );
    assert!(axum_text.contains("\nhost: ADDR\n"), "{axum_text}");
    assert!(
        axum_text.contains("\nx-course: production\n"),
        "{axum_text}"
    );
    // Otherwise the same: the request line, and the same fields (in any order).
    let lines = |text: &str| {
        let mut lines: Vec<String> = text.to_lowercase().lines().map(str::to_string).collect();
        lines[1..].sort();
        lines
    };
    assert_eq!(lines(ours_text), lines(axum_text));
    assert!(
        ours_text.starts_with("GET /echo?x=1 HTTP/1.1\n"),
        "{ours_text}"
    );
}

#[test]
fn both_echo_a_posted_body() {
    let both = Both::start();
    let body = b"a body for the echo, with bytes \x00\xff too";
    ask_all(&both, "POST", "/echo", body, |who, a| {
        assert_eq!(a.status, 200, "{who}: {a:?}");
        assert_eq!(a.body, body, "{who}");
        assert_eq!(
            a.content_type.as_deref(),
            Some("application/octet-stream"),
            "{who}"
        );
    });
}

#[test]
fn both_answer_413_to_a_body_over_the_limit() {
    // A small limit, so that the whole request fits in the socket buffers and neither
    // client is still writing when the server answers and closes.
    let both = Both::with(|config, settings| {
        config.limits.max_body = 1024;
        settings.body_limit = 1024;
    });
    let within = vec![b'x'; 1024];
    ask_all(&both, "POST", "/echo", &within, |who, a| {
        assert_eq!(a.status, 200, "{who}: {}", a.text());
    });
    let over = vec![b'x'; 4096];
    ask_all(&both, "POST", "/echo", &over, |who, a| {
        assert_eq!(a.status, 413, "{who}: {}", a.text());
    });
}

#[test]
fn both_revalidate_by_last_modified_and_neither_client_follows_a_redirect() {
    let both = Both::start();
    for (name, addr) in both.servers() {
        let first = ours(addr, "GET", "/style.css", &[], b"");
        let date = first
            .header("last-modified")
            .expect("Last-Modified")
            .to_string();
        let again = ours(
            addr,
            "GET",
            "/style.css",
            &[("If-Modified-Since", &date)],
            b"",
        );
        assert_eq!(again.status, 304, "{name}: {again:?}");
        assert!(again.body.is_empty(), "{name}: {again:?}");
        let by_reqwest = reqwest(
            addr,
            "GET",
            "/style.css",
            &[("If-Modified-Since", &date)],
            b"",
        );
        assert_eq!(by_reqwest.status, 304, "{name}: {by_reqwest:?}");
        // Only ours sends an ETag (ServeDir has Last-Modified alone).
        assert_eq!(
            first.header("etag").is_some(),
            name == "ours",
            "{name}: {first:?}"
        );
    }
    // A folder without its slash: ours answers 301 (moved for good), ServeDir 307. Both
    // clients hand the redirect back instead of following it.
    for ((name, addr), status) in both.servers().into_iter().zip([301, 307]) {
        let r = ours(addr, "GET", "/sub", &[], b"");
        assert_eq!(
            (r.status, r.header("location")),
            (status, Some("/sub/")),
            "{name}"
        );
        let a = reqwest(addr, "GET", "/sub", &[], b"");
        assert_eq!(a.status, status, "{name}, reqwest: {a:?}");
    }
}

/// Sends `bytes` as they are and reads one response, or says what happened instead.
fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Result<Response, String> {
    let mut c = Client::connect(&addr.to_string(), wait).map_err(|e| e.to_string())?;
    c.send_raw(bytes).map_err(|e| e.to_string())?;
    c.read_response(false).map_err(|e| e.to_string())
}

// Where the servers differ. Each difference is a choice of hyper's or axum's, not a bug
// in either server; the chapter's table explains them.

#[test]
fn differ_on_a_missing_or_repeated_host() {
    let both = Both::start();
    for request in [
        &b"GET /style.css HTTP/1.1\r\n\r\n"[..],
        b"GET /style.css HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ] {
        let shown = String::from_utf8_lossy(request);
        // RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without
        // Host, or with more than one. Ours does.
        let r = raw(both.ours.addr, request, STEP).expect("our server answers");
        assert_eq!(r.status, 400, "ours, {shown:?}: {r:?}");
        // hyper leaves Host to the application, and ServeDir does not look at it.
        let r = raw(both.axum.addr, request, STEP).expect("axum answers");
        assert_eq!(r.status, 200, "axum, {shown:?}: {r:?}");
    }
}

#[test]
fn differ_on_an_unknown_method() {
    let both = Both::start();
    let request = b"BREW /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    // Ours: a method it does not know is 501 Not Implemented (RFC 9110 section 15.6.2).
    let r = raw(both.ours.addr, request, STEP).expect("ours answers");
    assert_eq!(r.status, 501, "ours: {r:?}");
    // axum's router: any method its route lacks is 405, with the methods it has in Allow.
    let r = raw(both.axum.addr, request, STEP).expect("axum answers");
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET,HEAD,POST")),
        "axum: {r:?}"
    );
}

#[test]
fn differ_on_a_body_announced_over_the_limit_but_not_sent() {
    let both = Both::with(|_, settings| settings.request_timeout = Duration::from_secs(1));
    let request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
    // Ours refuses by the Content-Length field, before reading any of the body.
    let r = raw(both.ours.addr, request, STEP).expect("ours answers");
    assert_eq!(r.status, 413, "ours: {r:?}");
    // axum counts the body's bytes as they arrive: it waits for them, and here the request
    // timeout answers first.
    let r = raw(both.axum.addr, request, STEP).expect("axum answers");
    assert_eq!(r.status, 408, "axum: {r:?}");
}

#[test]
fn differ_on_a_head_that_never_ends_slowloris() {
    let both = Both::with(|config, _| config.header_timeout = Duration::from_secs(1));
    let request = b"GET /style.css HTTP/1.1\r\nHost: x\r\n";
    // Ours: the head must be whole within the header timeout, or 408.
    let r = raw(both.ours.addr, request, STEP).expect("ours answers");
    assert_eq!(r.status, 408, "ours: {r:?}");
    // `axum::serve` gives hyper no timer, and hyper's header read timeout needs one: the
    // connection just waits. (hyper-util's server builder, with a timer, has the timeout.)
    let wait = Duration::from_secs(2);
    let r = raw(both.axum.addr, request, wait);
    let waited = r.as_ref().is_err_and(|e| e.contains("timed out"));
    assert!(waited, "axum, expected no answer within {wait:?}: {r:?}");
}

#[test]
fn differ_on_expect_100_continue() {
    let both = Both::start();
    let head =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    let wait = Duration::from_secs(1);
    // hyper answers `100 Continue` as soon as the handler starts reading the body, so a
    // client that asked may send it (RFC 9110 section 10.1.1).
    let mut c = Client::connect(&both.axum.addr.to_string(), wait).expect("connect");
    c.send_raw(head).expect("send");
    let r = c.read_response(false).expect("an interim response");
    assert_eq!(r.status, 100, "axum: {r:?}");
    c.send_raw(b"hello").expect("send the body");
    let r = c.read_response(false).expect("the response");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"hello"[..]),
        "axum: {r:?}"
    );
    // Ours ignores Expect: the client waits (curl for a second), then sends the body anyway.
    let mut c = Client::connect(&both.ours.addr.to_string(), wait).expect("connect");
    c.send_raw(head).expect("send");
    let r = c.read_response(false);
    let waited = r
        .as_ref()
        .is_err_and(|e| e.to_string().contains("timed out"));
    assert!(waited, "ours, expected no answer within {wait:?}: {r:?}");
    c.send_raw(b"hello").expect("send the body");
    let r = c.read_response(false).expect("the response");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"hello"[..]),
        "ours: {r:?}"
    );
}

#[cfg(unix)]
#[test]
fn differ_on_a_symlink_leading_out_of_the_root() {
    let both = Both::start();
    // Ours resolves the path and refuses one that leaves the root, symlinks included.
    let r = ours(both.ours.addr, "GET", "/link.txt", &[], b"");
    assert_eq!(r.status, 404, "ours: {r:?}");
    // ServeDir refuses `..` in the path, but opens what a symlink inside the root names.
    let r = ours(both.axum.addr, "GET", "/link.txt", &[], b"");
    assert_eq!(r.status, 200, "axum: {r:?}");
    assert_eq!(r.body, b"the secret outside the root\n");
}
