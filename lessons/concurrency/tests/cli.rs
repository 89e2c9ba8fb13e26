//! Black-box tests of `serve` and `demo`: the server's conventions (the `listening on` line
//! first, one GET served, a clean stop on SIGTERM and Ctrl-C with exit code 0, a quiet log
//! for clients that behave), errors with hints, usage errors with exit code 2, and the
//! slow-client demo under the iterative and threads models.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command as Process;
use std::time::Duration;

use assert_cmd::Command;
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;

const STEP: Duration = course_testkit::net::STEP_TIMEOUT;

fn concurrency() -> Command {
    let mut command = Command::cargo_bin("concurrency").expect("the concurrency binary is built");
    command
        .env_remove("CONCURRENCY_ADDR")
        .timeout(Duration::from_secs(20));
    command
}

fn start_server(args: &[&str]) -> ServerProcess {
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("concurrency"));
    command
        .env_remove("CONCURRENCY_ADDR")
        .arg("serve")
        .args(args);
    ServerProcess::start(command).expect("the server starts")
}

/// Sends `request` on a new connection and reads until the server closes it.
fn exchange(server: &ServerProcess, request: &[u8]) -> String {
    let mut stream = TcpStream::connect_timeout(&server.addr, STEP).expect("connect");
    stream.set_read_timeout(Some(STEP)).expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .unwrap_or_else(|e| panic!("sent {request:?}, then: {e}"));
    String::from_utf8_lossy(&answer).into_owned()
}

const GET_AND_CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

/// `serve --model MODEL --addr 127.0.0.1:0`: `listening on` first, one GET answered, and
/// SIGTERM ends it with exit code 0 and `stopped`.
fn serves_and_stops_on_sigterm(model: &str) {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--model", model, "--addr", "127.0.0.1:0"]);
    assert!(server.addr.ip().is_loopback(), "{model}: {}", server.addr);
    let answer = exchange(&server, GET_AND_CLOSE);
    assert!(
        answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nHello, world!\n"),
        "{model}: sent GET /, expected 200 Hello, world!, got {answer:?}"
    );
    let (status, stderr) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0), "{model}: stderr: {stderr}");
    assert_eq!(
        stderr, "stopped\n",
        "{model}: a quiet log for a client that behaves"
    );
}

#[test]
fn serve_iterative_serves_and_stops_on_sigterm() {
    serves_and_stops_on_sigterm("iterative");
}

#[test]
fn serve_threads_serves_and_stops_on_sigterm() {
    serves_and_stops_on_sigterm("threads");
}

#[test]
fn serve_pool_serves_and_stops_on_sigterm() {
    serves_and_stops_on_sigterm("pool");
}

#[test]
fn serve_poll_serves_and_stops_on_sigterm() {
    serves_and_stops_on_sigterm("poll");
}

#[test]
fn serve_async_serves_and_stops_on_sigterm() {
    serves_and_stops_on_sigterm("async");
}

#[test]
fn the_default_model_is_async_on_the_env_address() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("concurrency"));
    command
        .env("CONCURRENCY_ADDR", "127.0.0.1:0")
        .args(["serve"]);
    let server = ServerProcess::start(command).expect("the server starts");
    let answer = exchange(&server, GET_AND_CLOSE);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    let (status, _) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn ctrl_c_stops_the_server_and_closes_an_idle_connection() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--model", "threads", "--addr", "127.0.0.1:0"]);
    let mut idle = TcpStream::connect_timeout(&server.addr, STEP).expect("connect");
    idle.set_read_timeout(Some(STEP)).expect("timeout");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("send");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !answer.ends_with(b"Hello, world!\n") {
        let n = idle.read(&mut chunk).expect("an answer");
        assert!(n > 0, "closed before the answer was whole: {answer:?}");
        answer.extend_from_slice(&chunk[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"), "{answer:?}");
    let (status, stderr) = server.interrupt().expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "stopped\n");
    // The idle keep-alive connection was closed by the server, not left open.
    let mut rest = Vec::new();
    let read = idle.read_to_end(&mut rest);
    assert!(read.is_ok() && rest.is_empty(), "{read:?} {rest:?}");
}

#[test]
fn the_server_logs_one_line_per_client_that_goes_wrong() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--model", "pool", "--addr", "127.0.0.1:0"]);
    let answer = exchange(&server, b"hello\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:?}");
    exchange(&server, GET_AND_CLOSE); // a good client: no line
    let (status, stderr) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one line for the bad client, then stopped: {stderr}"
    );
    assert!(lines[0].contains(": 400 Bad Request: "), "{stderr}");
    assert_eq!(lines[1], "stopped");
}

#[test]
fn a_busy_port_and_a_bad_address_are_reported_with_a_hint() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = holder.local_addr().expect("addr").to_string();
    course_testkit::cli::expect_failure(
        concurrency(),
        &["serve", "--model", "threads", "--addr", &addr],
        &format!("error: could not listen on {addr}: Address already in use"),
        "another program listens there",
    );
    course_testkit::cli::expect_failure(
        concurrency(),
        &["serve", "--addr", "localhost"],
        "bad address \"localhost\"",
        "write the address as HOST:PORT",
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        vec!["serve", "--model", "fibers"],
        vec!["serve", "--workers", "0"],
        vec!["serve", "--queue", "0"],
        vec!["serve", "--max-connections", "0"],
        vec!["serve", "--idle-timeout", "soon"],
        vec!["serve", "--header-timeout", "0"],
        vec!["demo"],
        vec!["demo", "slow-client", "--model", "fibers"],
        vec!["demo", "slow-client", "--wait-ms", "0"],
    ] {
        concurrency()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn serve_and_demo_have_help_with_an_example() {
    for sub in [&["serve"][..], &["demo", "slow-client"]] {
        let example = format!("Example: cargo run -p concurrency -- {}", sub.join(" "));
        concurrency()
            .args(sub)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains(example));
    }
}

/// Runs `demo slow-client --model MODEL --wait-ms 300` and returns its stdout.
fn demo(model: &str) -> String {
    let output = concurrency()
        .args(["demo", "slow-client", "--model", model, "--wait-ms", "300"])
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn demo_slow_client_holds_up_the_iterative_server() {
    let out = demo("iterative");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        "slow client: sent half a request, then nothing for 300 ms"
    );
    assert!(
        lines[1].starts_with("fast client: answered in ")
            && lines[1].ends_with(", after the slow client's wait"),
        "{out}"
    );
}

#[test]
fn demo_slow_client_does_not_hold_up_the_threads_server() {
    let out = demo("threads");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        "slow client: sent half a request, then nothing for 300 ms"
    );
    assert!(
        lines[1].starts_with("fast client: answered in ")
            && lines[1].ends_with(" ms, while the slow client waited"),
        "{out}"
    );
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide = course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!(
        "CARGO_BIN_EXE_concurrency"
    )));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
