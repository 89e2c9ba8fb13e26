//! Black-box tests of the `http11` binary: the server's conventions (the `listening on` line, a
//! clean stop on SIGTERM and Ctrl-C with exit code 0), the client against it, one-line errors
//! with hints for what the outside world does, and usage errors with exit code 2.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command as Process;
use std::time::Duration;

use assert_cmd::Command;
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;

fn http11() -> Command {
    let mut command = Command::cargo_bin("http11").expect("the http11 binary is built");
    command
        .env_remove("HTTP11_ADDR")
        .timeout(Duration::from_secs(20));
    command
}

fn start_server(args: &[&str]) -> ServerProcess {
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("http11"));
    command.env_remove("HTTP11_ADDR").arg("serve").args(args);
    ServerProcess::start(command).expect("the server starts")
}

fn expect_failure(args: &[&str], error: &str, hint: &str) {
    course_testkit::cli::expect_failure(http11(), args, error, hint);
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    http11()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Example: cargo run -p http11 --"));
    for sub in ["serve", "get"] {
        http11()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "Example: cargo run -p http11 -- {sub}"
            )));
    }
}

#[test]
fn the_server_serves_the_www_folder_and_stops_on_sigterm() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--addr", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let index = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/www/index.html"))
        .expect("www/index.html");
    // From another folder: the default root does not depend on the working directory.
    http11()
        .current_dir(std::env::temp_dir())
        .args(["get", &format!("http://{addr}/")])
        .assert()
        .success()
        .stdout(index);
    http11()
        .env("HTTP11_ADDR", &addr)
        .args(["get", "-i", "/style.css"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("HTTP/1.1 200 OK\n"))
        .stdout(predicate::str::contains("\nContent-Type: text/css"))
        .stdout(predicate::str::contains("\nDate:").not());
    http11()
        .args(["get", &addr, "/echo", "-X", "POST", "-d", "hello"])
        .assert()
        .success()
        .stdout("hello\n");
    http11()
        .args(["get", &addr, "/echo", "--repeat", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("GET /echo HTTP/1.1").count(3));

    let (status, stderr) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "stopped\n", "a quiet log for clients that behave");
}

#[test]
fn ctrl_c_stops_the_server_with_a_client_connected() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--addr", "127.0.0.1:0"]);
    let mut idle = std::net::TcpStream::connect(server.addr).expect("connect");
    idle.write_all(b"GET / HTTP/1.1\r\n")
        .expect("half a request");
    let (status, stderr) = server.interrupt().expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.trim_end().ends_with("stopped"), "stderr: {stderr}");
    let mut rest = Vec::new();
    idle.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = idle.read_to_end(&mut rest);
}

#[test]
fn the_server_logs_one_line_per_client_that_goes_wrong() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--addr", "127.0.0.1:0"]);
    let mut bad = std::net::TcpStream::connect(server.addr).expect("connect");
    bad.write_all(b"GET / HTTP/1.1\nHost: x\n\n").expect("send");
    let mut answer = Vec::new();
    bad.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = bad.read_to_end(&mut answer);
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400 "));
    let (status, stderr) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one line for the client, then stopped: {stderr}"
    );
    assert!(lines[0].contains(": 400 Bad Request: "), "{stderr}");
}

#[test]
fn a_redirect_is_printed_not_followed() {
    let root = std::env::temp_dir().join(format!("http11-cli-{}", std::process::id()));
    std::fs::create_dir_all(root.join("dir")).expect("mkdir");
    std::fs::write(root.join("dir/index.html"), "in dir\n").expect("write");
    let server = start_server(&["--addr", "127.0.0.1:0", "--root", &root.to_string_lossy()]);
    http11()
        .args(["get", &format!("{}/dir", server.addr)])
        .assert()
        .success()
        .stderr("301 Moved Permanently: redirect to /dir/ (not followed)\n");
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn a_client_without_a_server_is_told_how_to_start_one() {
    let free = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    expect_failure(
        &["get", &format!("http://{free}/")],
        "Connection refused",
        "nothing listens there: is the server running? Start it with:\ncargo run -p http11 -- serve",
    );
}

#[test]
fn a_silent_server_makes_the_client_time_out() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    expect_failure(
        &["get", &addr, "/", "--timeout", "1"],
        "timed out after 1s while reading the response head",
        "the server did not answer in time",
    );
}

#[test]
fn a_peer_that_is_not_http_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let _ = conn.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
        }
    });
    expect_failure(
        &["get", &addr],
        "malformed response: not an HTTP/1.x status line",
        "the peer does not speak HTTP/1.1",
    );
}

#[test]
fn a_busy_port_and_a_bad_address_are_reported() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = holder.local_addr().expect("addr").to_string();
    expect_failure(
        &["serve", "--addr", &addr],
        "Address already in use",
        "another program listens on that port",
    );
    expect_failure(
        &["serve", "--addr", "localhost"],
        "bad address \"localhost\"",
        "write the address as HOST:PORT",
    );
    expect_failure(
        &["get", "https://127.0.0.1/"],
        "this client speaks http, not https",
        "write the address as HOST:PORT",
    );
    expect_failure(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--root",
            "/nonexistent/folder",
        ],
        "/nonexistent/folder is not a folder",
        "give --root a folder that exists",
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        vec!["serve", "--max-connections", "0"],
        vec!["serve", "--idle-timeout", "18446744073709551615"],
        vec!["get", "-X", "GE T"],
        vec!["get", "--repeat", "0"],
        vec!["get", "/a", "/b"],
        vec!["get", "127.0.0.1:1", "no-slash"],
        vec!["nope"],
    ] {
        http11()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide = course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!(
        "CARGO_BIN_EXE_http11"
    )));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
