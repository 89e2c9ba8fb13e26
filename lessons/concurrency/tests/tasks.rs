//! The async model (tasks on Tokio) over loopback: the behaviours every model shares, and
//! the ones that depend on how the tasks are run (permits back after a panic, backpressure
//! from a client that does not read). Every wait is bounded.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use concurrency::{Config, Model, Shutdown, serve};

const MODEL: Model = Model::Async;
const STEP: Duration = Duration::from_secs(5);
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

struct Server {
    addr: SocketAddr,
    shutdown: Shutdown,
    done: Receiver<io::Result<()>>,
}

impl Server {
    fn start(change: impl FnOnce(&mut Config)) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let mut config = Config::default();
        change(&mut config);
        let shutdown = Shutdown::new();
        let handle = shutdown.clone();
        let (tx, done) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(serve(MODEL, listener, handle, config));
        });
        Server {
            addr,
            shutdown,
            done,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, STEP).expect("connect");
        stream.set_read_timeout(Some(STEP)).expect("read timeout");
        stream.set_write_timeout(Some(STEP)).expect("write timeout");
        stream
    }

    /// Triggers shutdown and waits for `run` to return; how long it took.
    fn stop(&self) -> Duration {
        let started = Instant::now();
        self.shutdown.trigger();
        let result = self
            .done
            .recv_timeout(Duration::from_secs(10))
            .expect("run did not return within 10 s of shutdown");
        result.expect("run returned an error");
        started.elapsed()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Reads one whole response (head and `Content-Length` body) from `stream`, keeping what
/// follows in `pending`. `None` at EOF before any byte of it.
fn response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end + 4]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().expect("Content-Length"));
            let total = end + 4 + len;
            if pending.len() >= total {
                let text = String::from_utf8_lossy(&pending[..total]).into_owned();
                pending.drain(..total);
                return Some(text);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) if pending.is_empty() => return None,
            Ok(0) => panic!(
                "EOF inside a response: {:?}",
                String::from_utf8_lossy(pending)
            ),
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading a response: {e} (got so far {pending:?})"),
        }
    }
}

/// Reads until EOF (or a reset); what came.
fn until_eof(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!(
                "waiting for EOF: {e} (got {:?})",
                String::from_utf8_lossy(&all)
            ),
        }
    }
}

fn status(response: &str) -> &str {
    response.get(9..12).unwrap_or(response)
}

#[test]
fn answers_keeps_alive_and_pipelines_in_order() {
    let server = Server::start(|_| {});
    let mut client = server.connect();
    let mut pending = Vec::new();
    for _ in 0..3 {
        client.write_all(GET).expect("send");
        let r = response(&mut client, &mut pending).expect("a response");
        assert_eq!(status(&r), "200", "{r}");
        assert!(r.ends_with("\r\n\r\nHello, world!\n"), "{r}");
    }
    client
        .write_all(
            concat!(
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /no HTTP/1.1\r\nHost: x\r\n\r\n",
                "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .as_bytes(),
        )
        .expect("send");
    let mut statuses = Vec::new();
    let all = until_eof(&mut client);
    let text = String::from_utf8_lossy(&all);
    for (i, _) in text.match_indices("HTTP/1.1 ") {
        statuses.push(&text[i + 9..i + 12]);
    }
    assert_eq!(statuses, ["200", "404", "200", "200"], "{text}");
    let last = concat!(
        "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n",
        "Content-Length: 14\r\n\r\nHello, world!\n",
    );
    assert!(text.ends_with(last), "{text}");
}

#[test]
fn one_byte_at_a_time_and_malformed() {
    let server = Server::start(|_| {});
    let mut client = server.connect();
    for byte in GET {
        client.write_all(&[*byte]).expect("send a byte");
    }
    let r = response(&mut client, &mut Vec::new()).expect("a response");
    assert_eq!(status(&r), "200", "{r}");
    let mut bad = server.connect();
    bad.write_all(b"hello there\r\n\r\n").expect("send");
    let got = String::from_utf8_lossy(&until_eof(&mut bad)).into_owned();
    assert!(got.starts_with("HTTP/1.1 400 "), "{got}");
}

#[test]
fn idle_and_slow_clients_are_timed_out_without_delaying_others() {
    let timeout = Duration::from_secs(1);
    let server = Server::start(|c| {
        c.idle_timeout = timeout;
        c.header_timeout = timeout;
    });
    let started = Instant::now();
    let mut idle = server.connect();
    let mut slow = server.connect();
    slow.write_all(b"GET / HTTP/1.1\r\n").expect("send");
    // A fresh client is served at once meanwhile.
    let mut fresh = server.connect();
    fresh.write_all(GET).expect("send");
    let r = response(&mut fresh, &mut Vec::new()).expect("a response");
    assert_eq!(status(&r), "200", "{r}");
    assert!(started.elapsed() < timeout, "the fresh client waited");
    // The slow one trickles a byte now and then: the clock runs from its first byte.
    let trickle = thread::spawn(move || {
        for _ in 0..30 {
            if slow.write_all(b"X").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(50)); // pacing, not synchronisation
        }
        slow
    });
    assert!(until_eof(&mut idle).is_empty());
    assert!(started.elapsed() >= timeout, "idle closed early");
    let mut slow = trickle.join().expect("trickle");
    let got = String::from_utf8_lossy(&until_eof(&mut slow)).into_owned();
    assert!(got.starts_with("HTTP/1.1 408 "), "{got}");
}

#[test]
fn many_keep_alive_clients_at_once() {
    let server = Server::start(|_| {});
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let mut client = server.connect();
            thread::spawn(move || {
                let mut pending = Vec::new();
                for _ in 0..20 {
                    client.write_all(GET).expect("send");
                    let r = response(&mut client, &mut pending).expect("a response");
                    assert_eq!(status(&r), "200", "{r}");
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
}

#[test]
fn over_the_limit_gets_503_and_the_others_go_on() {
    let server = Server::start(|c| c.max_connections = 2);
    let mut a = server.connect();
    let mut b = server.connect();
    for client in [&mut a, &mut b] {
        client.write_all(GET).expect("send");
        let r = response(client, &mut Vec::new()).expect("a response");
        assert_eq!(status(&r), "200", "{r}");
    }
    let mut c = server.connect();
    let got = String::from_utf8_lossy(&until_eof(&mut c)).into_owned();
    assert!(got.starts_with("HTTP/1.1 503 "), "{got}");
    assert!(got.contains("\r\nRetry-After: 1\r\n"), "{got}");
    a.write_all(GET).expect("send");
    let r = response(&mut a, &mut Vec::new()).expect("a response");
    assert_eq!(status(&r), "200", "{r}");
}

#[test]
fn a_panic_closes_only_its_connection() {
    let server = Server::start(|c| c.panic_route = true);
    let mut other = server.connect();
    for _ in 0..3 {
        let mut client = server.connect();
        client
            .write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        assert!(until_eof(&mut client).is_empty());
    }
    other.write_all(GET).expect("send");
    let r = response(&mut other, &mut Vec::new()).expect("a response");
    assert_eq!(status(&r), "200", "{r}");
}

#[test]
fn shutdown_finishes_the_request_under_way_and_closes_idle_ones() {
    let server = Server::start(|_| {});
    let mut idle = server.connect();
    idle.write_all(GET).expect("send");
    response(&mut idle, &mut Vec::new()).expect("a response");
    let mut half = server.connect();
    // One write: a whole request and half of the next. Once the first is answered, the
    // server holds the half.
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHo")
        .expect("send");
    response(&mut half, &mut Vec::new()).expect("a response");
    let stopping = {
        let shutdown = server.shutdown.clone();
        thread::spawn(move || shutdown.trigger())
    };
    assert!(until_eof(&mut idle).is_empty(), "idle: EOF");
    half.write_all(b"st: x\r\n\r\n").expect("send the rest");
    let got = String::from_utf8_lossy(&until_eof(&mut half)).into_owned();
    assert!(got.starts_with("HTTP/1.1 200 "), "{got}");
    assert!(got.contains("\r\nConnection: close\r\n"), "{got}");
    stopping.join().expect("trigger");
    assert!(server.stop() < Duration::from_secs(2));
}

#[test]
fn shutdown_with_idle_connections_is_prompt() {
    let server = Server::start(|_| {});
    let mut clients: Vec<TcpStream> = (0..5).map(|_| server.connect()).collect();
    for client in &mut clients {
        client.write_all(GET).expect("send");
        response(client, &mut Vec::new()).expect("a response");
    }
    assert!(server.stop() < Duration::from_secs(2), "slow shutdown");
    for client in &mut clients {
        assert!(until_eof(client).is_empty());
    }
}

/// Thousands of pipelined requests, read late: the responses outgrow the socket buffers,
/// and the task waits in `write_all` while the others go on.
#[test]
fn a_flood_of_pipelined_requests_is_answered_whole_and_in_order() {
    const N: usize = 30_000;
    let server = Server::start(|_| {});
    let mut client = server.connect();
    let mut writer = client.try_clone().expect("clone");
    let (wrote, written) = mpsc::channel();
    let flood = thread::spawn(move || {
        let mut batch = Vec::new();
        for i in 0..N {
            let path = if i % 2 == 0 { "/" } else { "/no" };
            batch.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
            if batch.len() > 64 * 1024 || i == N - 1 {
                writer.write_all(&batch).expect("send the flood");
                batch.clear();
                let _ = wrote.send(());
            }
        }
        writer
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send the last");
    });
    // Let the server's output pile up before we read.
    for _ in 0..4 {
        written.recv_timeout(STEP).expect("the flood stalled");
    }
    let mut other = server.connect();
    other.write_all(GET).expect("send");
    let r = response(&mut other, &mut Vec::new()).expect("another client's response");
    assert_eq!(status(&r), "200", "{r}");
    let mut pending = Vec::new();
    for i in 0..N {
        let r = response(&mut client, &mut pending).unwrap_or_else(|| panic!("EOF at {i}"));
        let want = if i % 2 == 0 { "200" } else { "404" };
        assert_eq!(status(&r), want, "response {i}: {r}");
    }
    let r = response(&mut client, &mut pending).expect("the last response");
    assert!(r.contains("Connection: close"), "{r}");
    assert!(
        response(&mut client, &mut pending).is_none(),
        "EOF after the last"
    );
    flood.join().expect("flood");
}

/// A client that sends requests but never reads is dropped after the write timeout, and
/// does not hold up anyone else meanwhile.
#[test]
fn a_client_that_never_reads_is_dropped() {
    let server = Server::start(|c| c.write_timeout = Duration::from_millis(300));
    let client = server.connect();
    let mut writer = client.try_clone().expect("clone");
    let flood = thread::spawn(move || {
        let batch = GET.repeat(2000);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            match writer.write_all(&batch) {
                Ok(()) => {}
                // Our own write timeout: the server stopped reading; keep pushing.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true, // reset or broken pipe: the server closed it
            }
        }
        false
    });
    let mut other = server.connect();
    other.write_all(GET).expect("send");
    let r = response(&mut other, &mut Vec::new()).expect("another client's response");
    assert_eq!(status(&r), "200", "{r}");
    assert!(
        flood.join().expect("flood"),
        "the server kept a client that never reads"
    );
    drop(client);
}

/// A panicking task gives its permit back: after more panics than there are permits, the
/// server still takes as many connections as its limit.
#[test]
fn permits_come_back_after_panics() {
    let server = Server::start(|c| {
        c.panic_route = true;
        c.max_connections = 2;
    });
    for _ in 0..5 {
        let mut client = server.connect();
        client
            .write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let got = until_eof(&mut client);
        // The permit drops just after the socket: a client may come a moment too soon.
        assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 503 "),
            "{got:?}"
        );
    }
    let deadline = Instant::now() + STEP;
    loop {
        let mut a = server.connect();
        let mut b = server.connect();
        let mut statuses = Vec::new();
        for client in [&mut a, &mut b] {
            client.write_all(GET).expect("send");
            let r = response(client, &mut Vec::new()).expect("a response");
            statuses.push(status(&r).to_string());
        }
        if statuses == ["200", "200"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "permits not returned: {statuses:?}"
        );
    }
}
