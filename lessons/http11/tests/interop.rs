//! Real peers: `curl` and Python's `http.client` against our server, and our client against
//! Python's `http.server` (the seed's server) and against hand-written responses that use
//! chunked coding and end-of-stream bodies. Everything on loopback, on free ports.
//!
//! The chapter's `curl -v` session is `captures/curl-v.txt`; a test runs the same command
//! and compares. After a deliberate change, regenerate it with
//! `UPDATE_TRANSCRIPTS=1 cargo test -p http11 --test interop`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use course_testkit::process::{ServerProcess, require};
use http11::client::{self, Client};

const TIMEOUT: Duration = Duration::from_secs(5);

fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("www")
}

/// The lesson's binary serving `www/` on a free port, as the chapter runs it.
fn serve() -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_http11"));
    command
        .env_remove("HTTP11_ADDR")
        .args(["serve", "--addr", "127.0.0.1:0"]);
    ServerProcess::start(command).expect("the server starts")
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs")
}

#[test]
fn curl_gets_the_page_and_its_head() {
    if require("curl", "apt-get install curl").is_none() {
        return;
    }
    let server = serve();
    let url = format!("http://{}/", server.addr);
    let page = curl(&["-s", &url]);
    assert!(page.status.success());
    let index = std::fs::read(www().join("index.html")).expect("index.html");
    assert_eq!(page.stdout, index);

    let head = curl(&["-sI", &url]);
    let text = String::from_utf8_lossy(&head.stdout).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let length = format!("\r\nContent-Length: {}\r\n", index.len());
    assert!(text.contains(&length), "HEAD tells GET's length: {text}");
    assert!(text.contains("\r\nETag: W/\""), "{text}");

    // Two URLs on one command line: curl keeps the connection and reuses it.
    let css = format!("http://{}/style.css", server.addr);
    let both = curl(&["-sv", &url, &css, "-o", "/dev/null", "-o", "/dev/null"]);
    let log = String::from_utf8_lossy(&both.stderr).to_lowercase();
    assert!(log.contains("re-using existing connection"), "{log}");
}

/// What must differ between runs of `curl -v`: the port, dates, the ETag (it holds the
/// file's modification time) and curl's version. `*` lines are curl's own commentary, which
/// changes between versions of curl: only the request and response lines are compared.
fn normalize(output: &str, port: u16) -> String {
    let mut out = String::new();
    for line in output.lines() {
        let line = line.replace(&format!(":{port}"), ":8000");
        let line = line.replace(&format!("port {port} "), "port 8000 ");
        let line = match line.split_once(": ") {
            Some((name, _)) if name == "< Date" || name == "< Last-Modified" => {
                format!("{name}: Tue, 01 Dec 2026 12:00:00 GMT")
            }
            Some(("< ETag", _)) => "< ETag: W/\"90-674c4b60.0\"".to_string(),
            Some(("> User-Agent", _)) => "> User-Agent: curl/7.88.1".to_string(),
            _ => line,
        };
        out.push_str(line.trim_end_matches('\r').trim_end());
        out.push('\n');
    }
    out
}

fn compared(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('*')).collect()
}

#[test]
fn curl_v_session_matches_the_capture_the_chapter_shows() {
    if require("curl", "apt-get install curl").is_none() {
        return;
    }
    let Some(script) = require("script", "apt-get install bsdutils") else {
        return;
    };
    let server = serve();
    let port = server.addr.port();
    let command = "curl -v http://127.0.0.1:8000/style.css";
    // Through `script`, which gives curl a terminal: curl prints what a reader sees
    // (no progress meter, no `[144 bytes data]` notes), its log and the body interleaved.
    let run = command.replace(":8000", &format!(":{port}"));
    let real = Command::new(script)
        .args(["-qec", &run, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    assert!(real.status.success());
    let real = format!(
        "$ {command}\n{}",
        normalize(&String::from_utf8_lossy(&real.stdout), port)
    );
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/curl-v.txt");
    if std::env::var("UPDATE_TRANSCRIPTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(capture.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&capture, &real).expect("write the capture");
        eprintln!("updated {}", capture.display());
        return;
    }
    let shown = std::fs::read_to_string(&capture).unwrap_or_default();
    assert_eq!(
        compared(&shown),
        compared(&real),
        "{} does not match a real run; regenerate with\n\
         UPDATE_TRANSCRIPTS=1 cargo test -p http11 --test interop",
        capture.display()
    );
}

#[test]
fn python_http_client_talks_to_our_server() {
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let server = serve();
    let script = r#"
import http.client, sys
host, port = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host, port, timeout=5)
for path in ["/", "/style.css"]:  # two requests, one connection
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    print(r.status, r.reason, path, len(body), r.getheader("Content-Type"))
etag = r.getheader("ETag")
conn.request("GET", "/style.css", headers={"If-None-Match": etag})
r = conn.getresponse(); r.read()
print(r.status, r.reason)
conn.request("HEAD", "/")
r = conn.getresponse(); r.read()
print(r.status, "HEAD", r.getheader("Content-Length"))
conn.request("POST", "/echo", body=b"from python")
r = conn.getresponse()
print(r.status, r.read().decode())
conn.request("BREW", "/")
r = conn.getresponse(); r.read()
print(r.status, r.reason)
conn.close()
"#;
    let out = Command::new(python)
        .args(["-c", script, "127.0.0.1", &server.addr.port().to_string()])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = std::fs::metadata(www().join("index.html"))
        .expect("index")
        .len();
    let css = std::fs::metadata(www().join("style.css"))
        .expect("css")
        .len();
    let expected = format!(
        "200 OK / {index} text/html; charset=utf-8\n\
         200 OK /style.css {css} text/css; charset=utf-8\n\
         304 Not Modified\n\
         200 HEAD {index}\n\
         200 from python\n\
         501 Not Implemented\n"
    );
    assert_eq!(stdout, expected);
}

/// Python's `http.server` on a free port, serving `dir`; killed when dropped.
struct PythonServer {
    child: Child,
    addr: SocketAddr,
}

impl PythonServer {
    fn start(python: &Path, dir: &Path) -> PythonServer {
        let mut child = Command::new(python)
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "0",
                "--directory",
            ])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // "Serving HTTP on 127.0.0.1 port 45678 (http://127.0.0.1:45678/) ..."
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .expect("http.server says where");
        let port: u16 = line
            .split("port ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        PythonServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn our_client_talks_to_python_http_server() {
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("http11-interop-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("hello.txt"), "Hello, world!\n").expect("write");
    let server = PythonServer::start(&python, &dir);
    let addr = server.addr.to_string();

    let r = client::get(&format!("http://{addr}/hello.txt"), TIMEOUT).expect("GET");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"Hello, world!\n".as_slice())
    );
    assert_eq!(
        r.version, "HTTP/1.0",
        "http.server answers HTTP/1.0 by default"
    );
    assert_eq!(r.header("content-length"), Some("14"));

    let head = client::request(&addr, "HEAD", "/hello.txt", &[], b"", TIMEOUT).expect("HEAD");
    assert_eq!((head.status, head.body.len()), (200, 0));
    let missing = client::get(&format!("{addr}/nope"), TIMEOUT).expect("404");
    assert_eq!(missing.status, 404);
    // A folder without its slash: a redirect, returned and not followed.
    let moved = client::get(&format!("{addr}/sub"), TIMEOUT).expect("301");
    assert_eq!(
        (moved.status, moved.header("location")),
        (301, Some("/sub/"))
    );

    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// A one-connection server that reads a request head and answers with `response`, then
/// closes.
fn answer_once(response: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let _ = conn.set_read_timeout(Some(TIMEOUT));
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                seen.push(byte[0]);
            }
            let _ = conn.write_all(response);
        }
    });
    addr
}

#[test]
fn our_client_decodes_chunked_bodies_and_reads_to_the_end_of_the_stream() {
    let chunked = answer_once(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nHello\r\n8;ext=1\r\n, world!\r\n0\r\nTrailer: x\r\n\r\n",
    );
    let r = client::get(&chunked.to_string(), TIMEOUT).expect("chunked");
    assert_eq!(r.body, b"Hello, world!");

    let to_close = answer_once(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    let r = client::get(&to_close.to_string(), TIMEOUT).expect("to the end");
    assert_eq!(r.body, b"until the end");

    let short = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    let e = client::get(&short.to_string(), TIMEOUT).expect_err("a short body");
    assert!(e.to_string().contains("after 3 of 10 body bytes"), "{e}");

    let bad_chunk = answer_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    let e = client::get(&bad_chunk.to_string(), TIMEOUT).expect_err("a bad chunk size");
    assert!(e.to_string().contains("bad chunk size"), "{e}");

    let too_big = answer_once(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n");
    let e = client::get(&too_big.to_string(), TIMEOUT).expect_err("over the limit");
    assert!(e.to_string().contains("over the limit"), "{e}");
}

#[test]
fn our_client_keeps_one_connection_for_several_requests() {
    let server = serve();
    let mut c = Client::connect(&server.addr.to_string(), TIMEOUT).expect("connect");
    for _ in 0..3 {
        c.send("GET", "/style.css", &[], b"", true).expect("send");
        let r = c.read_response(false).expect("response");
        assert!(r.keep_alive() && r.status == 200);
    }
}
