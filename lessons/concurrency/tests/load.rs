//! The load generator against real loopback servers written here, each misbehaving in one way:
//! exact request counts, keep-alive and `Connection: close`, and every kind of error the
//! report counts (a refused port, a reset, an early close, silence, a 503, a chunked or
//! oversized or garbled response), through the library and through the `load` subcommand,
//! whose errors are one line and a hint, never a panic.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use concurrency::load::{self, LoadConfig, Report};
use course_testkit::net::closed_addr;
use predicates::prelude::*;

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, world!\n";

/// What a test server has seen.
#[derive(Default)]
struct Seen {
    connections: AtomicU64,
    requests: AtomicU64,
}

/// Starts a server on `127.0.0.1:0`: each connection gets a thread of its own that runs
/// `handle(stream, seen)`. The threads end with the test process; every read they make has
/// a timeout, so none waits for ever.
fn server<F>(handle: F) -> (SocketAddr, Arc<Seen>)
where
    F: Fn(TcpStream, &Seen) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let seen = Arc::new(Seen::default());
    let handle = Arc::new(handle);
    let counts = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let (handle, counts) = (Arc::clone(&handle), Arc::clone(&counts));
            std::thread::spawn(move || {
                let timeout = Some(Duration::from_secs(10));
                if stream.set_read_timeout(timeout).is_ok()
                    && stream.set_write_timeout(timeout).is_ok()
                {
                    handle(stream, &counts);
                }
            });
        }
    });
    (addr, seen)
}

/// Reads one request head (the generator sends no bodies, and one request at a time);
/// false when the client closed or went quiet.
fn read_request(stream: &mut TcpStream, seen: &Seen) -> bool {
    let mut head = Vec::new();
    let mut byte = [0; 512];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
    }
    assert!(
        head.starts_with(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:"),
        "{head:?}"
    );
    seen.requests.fetch_add(1, Ordering::SeqCst);
    true
}

/// A keep-alive server that answers every request with `response`.
fn answering(response: &'static [u8]) -> (SocketAddr, Arc<Seen>) {
    server(move |mut stream, seen| {
        while read_request(&mut stream, seen) {
            if stream.write_all(response).is_err() {
                return;
            }
        }
    })
}

/// A server that reads one request on each connection, answers `response`, and closes.
fn answering_once(response: &'static [u8]) -> (SocketAddr, Arc<Seen>) {
    server(move |mut stream, seen| {
        if read_request(&mut stream, seen) {
            let _ = stream.write_all(response);
        }
    })
}

fn config(addr: SocketAddr, connections: usize, requests: u64) -> LoadConfig {
    LoadConfig {
        connections,
        duration: None,
        requests: Some(requests),
        timeout: Duration::from_secs(5),
        ..LoadConfig::new(addr)
    }
}

fn errors(report: &Report) -> Vec<(&str, u64)> {
    report
        .errors
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect()
}

fn run(config: &LoadConfig) -> Report {
    load::run(config).expect("the runtime starts")
}

#[test]
fn counts_exactly_the_requests_asked_for() {
    let (addr, seen) = answering(HELLO);
    let report = run(&config(addr, 4, 1000));
    assert_eq!((report.ok, errors(&report)), (1000, vec![]), "{report}");
    assert_eq!(
        seen.requests.load(Ordering::SeqCst),
        1000,
        "the server's count"
    );
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        4,
        "keep-alive: 4 connections"
    );
    assert_eq!(report.latency.len(), 1000, "one latency per response");
    let (p50, p99, max) = (
        report.percentile(50.0),
        report.percentile(99.0),
        report.max(),
    );
    assert!(Duration::ZERO < p50 && p50 <= p99 && p99 <= max, "{report}");
    assert!(max < Duration::from_secs(5), "{report}");
    let rate = report.requests_per_second();
    let expected = 1000.0 / report.elapsed.as_secs_f64();
    assert!(
        (rate - expected).abs() < 1e-6 * expected,
        "{rate} vs {expected}"
    );
}

#[test]
fn several_threads_count_exactly_too() {
    let (addr, seen) = answering(HELLO);
    let report = run(&LoadConfig {
        threads: 2,
        ..config(addr, 8, 500)
    });
    assert_eq!((report.ok, errors(&report)), (500, vec![]), "{report}");
    assert_eq!(seen.requests.load(Ordering::SeqCst), 500);
}

#[test]
fn a_duration_bounds_the_run() {
    let (addr, _) = answering(HELLO);
    let report = run(&LoadConfig {
        connections: 2,
        duration: Some(Duration::from_millis(300)),
        ..LoadConfig::new(addr)
    });
    assert!(report.ok > 0 && report.errors.is_empty(), "{report}");
    assert!(report.elapsed >= Duration::from_millis(300), "{report}");
    assert!(report.elapsed < Duration::from_secs(3), "{report}");
}

#[test]
fn run_async_runs_inside_a_runtime_of_the_caller() {
    let (addr, _) = answering(HELLO);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let report = runtime.block_on(load::run_async(&config(addr, 2, 50)));
    assert_eq!((report.ok, errors(&report)), (50, vec![]), "{report}");
}

#[test]
fn connection_close_makes_it_reconnect() {
    let (addr, seen) =
        answering_once(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye");
    let report = run(&config(addr, 2, 20));
    assert_eq!((report.ok, errors(&report)), (20, vec![]), "{report}");
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        20,
        "one connection per request"
    );
}

#[test]
fn responses_split_large_or_interim_are_read_whole() {
    // A byte at a time: the head parser waits for the empty line across reads.
    let (addr, _) = server(|mut stream, seen| {
        while read_request(&mut stream, seen) {
            let _ = stream.set_nodelay(true);
            for byte in HELLO {
                if stream.write_all(&[*byte]).is_err() {
                    return;
                }
            }
        }
    });
    let report = run(&config(addr, 1, 5));
    assert_eq!((report.ok, errors(&report)), (5, vec![]), "{report}");

    // A 512 KiB body, counted and thrown away over many reads, on one connection.
    let (addr, seen) = server(|mut stream, seen| {
        let body = vec![b'x'; 512 * 1024];
        while read_request(&mut stream, seen) {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
                return;
            }
        }
    });
    let report = run(&config(addr, 2, 10));
    assert_eq!((report.ok, errors(&report)), (10, vec![]), "{report}");
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);

    // A 100 Continue before the final response is skipped (RFC 9110 §15.2).
    let (addr, _) =
        answering(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-Test: yes\r\n\r\n");
    let report = run(&config(addr, 1, 5));
    assert_eq!((report.ok, errors(&report)), (5, vec![]), "{report}");
}

#[test]
fn a_503_is_an_error_by_status_on_the_same_connection() {
    let (addr, seen) = answering(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    let report = run(&config(addr, 1, 10));
    assert_eq!(
        (report.ok, errors(&report)),
        (0, vec![("status 503", 10)]),
        "{report}"
    );
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        1,
        "a 503 keeps the connection"
    );
    assert!(report.latency.is_empty(), "only 2xx latencies are measured");
    assert_eq!(report.max(), Duration::ZERO);
}

#[test]
fn a_refused_port_is_counted_with_backoff() {
    let addr = closed_addr();
    let report = run(&LoadConfig {
        connections: 2,
        duration: Some(Duration::from_millis(500)),
        ..LoadConfig::new(addr)
    });
    assert_eq!(report.ok, 0, "{report}");
    assert_eq!(
        report.errors.keys().collect::<Vec<_>>(),
        ["connection refused"]
    );
    let refused = report.error_count();
    // Without the backoff, two connections refused on loopback try thousands of times.
    assert!(
        (2..=100).contains(&refused),
        "{refused} attempts in 0.5 s: {report}"
    );
    assert!(report.elapsed < Duration::from_secs(3), "{report}");
}

#[test]
fn a_reset_is_counted_and_the_connection_redone() {
    let (addr, seen) = server(|mut stream, seen| {
        if read_request(&mut stream, seen) {
            // SO_LINGER 0: close sends RST instead of FIN.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
    });
    let report = run(&config(addr, 1, 5));
    assert_eq!(
        (report.ok, errors(&report)),
        (0, vec![("connection reset", 5)]),
        "{report}"
    );
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        5,
        "one new connection per error"
    );
}

#[test]
fn closing_before_or_inside_a_response_is_closed_early() {
    let (addr, _) = server(|mut stream, seen| {
        if read_request(&mut stream, seen) && seen.connections.load(Ordering::SeqCst) % 2 == 0 {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
        }
    });
    let report = run(&config(addr, 1, 4));
    assert_eq!(
        (report.ok, errors(&report)),
        (0, vec![("closed early", 4)]),
        "{report}"
    );
}

#[test]
fn a_silent_server_times_out_within_the_timeout() {
    let (addr, _) = server(|mut stream, seen| {
        if read_request(&mut stream, seen) {
            let _ = stream.read(&mut [0; 1]); // until the client gives up (or 10 s)
        }
    });
    let report = run(&LoadConfig {
        timeout: Duration::from_millis(200),
        ..config(addr, 1, 2)
    });
    assert_eq!(
        (report.ok, errors(&report)),
        (0, vec![("timed out", 2)]),
        "{report}"
    );
    assert!(report.elapsed >= Duration::from_millis(400), "{report}");
    assert!(report.elapsed < Duration::from_secs(3), "{report}");
}

#[test]
fn a_connect_that_is_never_answered_times_out() {
    let silent = match course_testkit::net::silent_addr() {
        Ok(silent) => silent,
        Err(why) if !course_testkit::under_ci() => {
            eprintln!("SKIPPED a_connect_that_is_never_answered_times_out: {why}");
            return;
        }
        Err(why) => panic!("{why}"),
    };
    let report = run(&LoadConfig {
        timeout: Duration::from_millis(200),
        ..config(silent.addr, 1, 1)
    });
    assert_eq!(
        (report.ok, errors(&report)),
        (0, vec![("timed out", 1)]),
        "{report}"
    );
    assert!(report.elapsed < Duration::from_secs(3), "{report}");
}

#[test]
fn responses_it_cannot_frame_or_parse_are_errors_by_kind() {
    let cases: [(&'static [u8], &str); 5] = [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "unframed response",
        ),
        (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", "unframed response"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\nthe start",
            "response too large",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "malformed response"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx",
            "malformed response",
        ),
    ];
    for (response, kind) in cases {
        let (addr, _) = answering_once(response);
        let report = run(&config(addr, 1, 3));
        let shown = String::from_utf8_lossy(response);
        assert_eq!(
            (report.ok, errors(&report)),
            (0, vec![(kind, 3)]),
            "{shown:?}: {report}"
        );
    }
}

fn histogram(micros: &[u64]) -> hdrhistogram::Histogram<u64> {
    let mut h = hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    for &m in micros {
        h.record(m).expect("in range");
    }
    h
}

#[test]
fn the_report_reads_as_the_book_shows_it() {
    let report = Report {
        addr: "127.0.0.1:8080".parse().expect("an address"),
        connections: 64,
        requests: None,
        ok: 3,
        errors: BTreeMap::from([("connection reset".into(), 12), ("status 503".into(), 1)]),
        elapsed: Duration::from_millis(1500),
        latency: histogram(&[420, 1530, 2000]),
    };
    assert_eq!(
        report.to_string(),
        "64 connections to 127.0.0.1:8080 for 1.50 s\n\
         requests: 3 ok, 13 errors\n\
         errors: 12 connection reset\n\
         errors: 1 status 503\n\
         requests per second: 2 (varies by system)\n\
         latency: p50 1.53 ms, p90 2.00 ms, p99 2.00 ms, max 2.00 ms"
    );
    let one = Report {
        addr: "[::1]:80".parse().expect("an address"),
        connections: 1,
        requests: Some(1),
        ok: 0,
        errors: BTreeMap::from([("timed out".into(), 1)]),
        elapsed: Duration::from_millis(120),
        latency: histogram(&[]),
    };
    assert_eq!(
        one.to_string(),
        "1 connection to [::1]:80: 1 request in 120.00 ms\n\
         requests: 0 ok, 1 error\n\
         errors: 1 timed out\n\
         requests per second: 0 (varies by system)\n\
         latency: none measured (no request succeeded)"
    );
}

/// Checks what a real run printed: the lines of the book's transcript, each ≤ 80 columns.
fn assert_report_shape(stdout: &str, first_line: &str, ok: Option<u64>) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 4, "{stdout}");
    assert!(lines[0].starts_with(first_line), "{stdout}");
    assert!(
        lines[0].ends_with(" s") || lines[0].ends_with(" ms"),
        "{stdout}"
    );
    let requests = lines[1]
        .strip_prefix("requests: ")
        .expect("the requests line");
    let (count, errors) = requests.split_once(" ok, ").expect("ok, then errors");
    assert!(ok.is_none_or(|ok| count == ok.to_string()), "{stdout}");
    assert_eq!(errors, "0 errors", "{stdout}");
    let rate = lines[lines.len() - 2];
    let number = rate
        .strip_prefix("requests per second: ")
        .and_then(|r| r.strip_suffix(" (varies by system)"))
        .unwrap_or_else(|| panic!("the rate line: {stdout}"));
    assert!(number.bytes().all(|b| b.is_ascii_digit()), "{stdout}");
    let latency = lines[lines.len() - 1];
    assert!(
        latency.starts_with("latency: p50 ") && latency.ends_with(" ms"),
        "{stdout}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 80), "{stdout}");
}

#[test]
fn a_real_report_has_the_shape_of_the_book() {
    let (addr, _) = answering(HELLO);
    let report = run(&config(addr, 4, 200));
    assert_report_shape(
        &report.to_string(),
        &format!("4 connections to {addr}: 200"),
        Some(200),
    );
}

fn concurrency() -> Command {
    let mut command = Command::cargo_bin("concurrency").expect("the concurrency binary is built");
    command
        .env_remove("CONCURRENCY_ADDR")
        .timeout(Duration::from_secs(20));
    command
}

fn assert_stderr_fits(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn the_subcommand_prints_the_report_and_exits_0() {
    let (addr, seen) = answering(HELLO);
    let output = concurrency()
        .args(["load", "-c", "4", "-n", "100", "--threads", "2"])
        .env("CONCURRENCY_ADDR", addr.to_string()) // as the transcript checker sets it
        .assert()
        .success()
        .stderr("")
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_report_shape(
        &stdout,
        &format!("4 connections to {addr}: 100 requests in "),
        Some(100),
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 100);

    let output = concurrency()
        .args(["load", "--addr", &addr.to_string(), "-c", "2", "-d", "0.3"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_report_shape(&stdout, &format!("2 connections to {addr} for "), None);
}

#[test]
fn no_server_is_one_error_line_and_a_hint() {
    let addr = closed_addr();
    let assert = course_testkit::cli::expect_failure(
        concurrency(),
        &["load", "--addr", &addr.to_string(), "-n", "10"],
        &format!("error: could not connect to {addr}: Connection refused"),
        "is the server running? Start it with:\ncargo run -p concurrency -- serve\n",
    );
    assert_stderr_fits(&assert.get_output().stderr);
    assert.stdout("");
}

#[test]
fn failed_requests_print_the_report_then_exit_1() {
    let (addr, _) = answering(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    let assert = course_testkit::cli::expect_failure(
        concurrency(),
        &["load", "--addr", &addr.to_string(), "-n", "5"],
        "error: 5 of 5 requests failed",
        "the server answered with errors",
    );
    assert_stderr_fits(&assert.get_output().stderr);
    assert.stdout(predicate::str::contains(
        "requests: 0 ok, 5 errors\nerrors: 5 status 503\n",
    ));

    let (addr, _) = server(|mut stream, seen| {
        if read_request(&mut stream, seen) {
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
    });
    course_testkit::cli::expect_failure(
        concurrency(),
        &["load", "--addr", &addr.to_string(), "-n", "3", "-c", "2"],
        "error: 3 of 3 requests failed",
        "the errors: lines above say how",
    )
    .stdout(predicate::str::contains("errors: 3 connection reset\n"));
}

#[test]
fn a_run_that_no_response_ends_is_an_error_too() {
    let (addr, _) = server(|mut stream, seen| {
        if read_request(&mut stream, seen) {
            let _ = stream.read(&mut [0; 1]); // never answers; returns when the client closes
        }
    });
    let assert = course_testkit::cli::expect_failure(
        concurrency(),
        &["load", "--addr", &addr.to_string(), "-d", "0.3"],
        "error: no response arrived before the run ended",
        "the server is slow or overloaded",
    );
    assert_stderr_fits(&assert.get_output().stderr);
    assert.stdout(predicate::str::contains("requests: 0 ok, 0 errors\n"));
}

#[test]
fn more_connections_than_open_files_fail_before_the_run() {
    let (addr, seen) = answering(HELLO);
    let bin = assert_cmd::cargo::cargo_bin("concurrency");
    let mut command = Command::new("sh");
    command
        .env_remove("CONCURRENCY_ADDR")
        .timeout(Duration::from_secs(20))
        // Lower both limits to 200 for this process, which the binary cannot raise again.
        .args(["-c", "ulimit -n 200 && exec \"$0\" \"$@\""])
        .arg(bin);
    let addr = addr.to_string();
    let assert = course_testkit::cli::expect_failure(
        command,
        &["load", "--addr", &addr, "-c", "1000"],
        "error: --connections 1000 needs 1032 open files; the limit is 200",
        "use fewer --connections, or raise the hard limit",
    );
    assert_stderr_fits(&assert.get_output().stderr);
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        0,
        "no connection was made"
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["load", "-n", "5", "-d", "1"][..],
        &["load", "-c", "0"],
        &["load", "-c", "100001"],
        &["load", "-d", "soon"],
        &["load", "--path", "no-slash"],
        &["load", "--path", "/a b"],
        &["load", "-n", "0"],
    ] {
        concurrency()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}
