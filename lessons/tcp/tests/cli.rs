//! Black-box tests of the `tcp` binary: the server's conventions (the `listening on` line, a clean
//! stop on SIGTERM with exit code 0), one-line errors with hints for the outside world, and a
//! real `nc` as a client, exactly as the chapter shows it.

use std::net::TcpListener;
use std::process::Command as Process;

use assert_cmd::Command;
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;

fn tcp() -> Command {
    Command::cargo_bin("tcp").expect("the tcp binary is built")
}

fn start_server(args: &[&str]) -> ServerProcess {
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("tcp"));
    command.arg("server").args(args);
    ServerProcess::start(command).expect("the server starts")
}

fn expect_failure(args: &[&str], error: &str, hint: &str) {
    course_testkit::cli::expect_failure(tcp(), args, error, hint);
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    tcp()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Example: cargo run -p tcp --"));
    for sub in [
        "server",
        "client",
        "backlog",
        "stream",
        "connection",
        "nagle",
        "bulk",
    ] {
        tcp()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example: cargo run "))
            .stdout(predicate::str::contains(format!("-p tcp -- {sub}")));
    }
}

#[test]
fn the_client_says_hello_world_by_default_and_the_server_stops_on_sigterm() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start_server(&["--addr", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    tcp()
        .args(["client", "--addr", &addr])
        .assert()
        .success()
        .stdout("Hello, world!\n");
    tcp()
        .args(["client", "--addr", &addr, "two words"])
        .assert()
        .success()
        .stdout("two words\n");

    let (status, stderr) = server.terminate().expect("the server exits");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.trim_end().ends_with("stopped"), "stderr: {stderr}");
}

#[test]
fn lines_mode_is_selectable() {
    let server = start_server(&["--addr", "127.0.0.1:0", "--mode", "lines"]);
    tcp()
        .args(["client", "--addr", &server.addr.to_string(), "bad\u{7f}\n"])
        .assert()
        .success()
        .stdout("bad\u{7f}\n");
}

/// The chapter's `nc` session, against `server --mode lines`, on a free port instead of 7878:
///
/// ```text
/// $ printf 'hello\n' | nc -N 127.0.0.1 7878
/// hello
/// ```
#[test]
fn netcat_talks_to_the_lines_server_as_the_chapter_shows() {
    // `-N` (close the connection once stdin ends) is OpenBSD netcat's.
    if require("nc", "apt-get install netcat-openbsd").is_none() {
        return;
    }
    let server = start_server(&["--addr", "127.0.0.1:0", "--mode", "lines"]);
    let port = server.addr.port();
    Command::new("sh")
        .args(["-c", &format!("printf 'hello\\n' | nc -N 127.0.0.1 {port}")])
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .success()
        .stdout("hello\n");
}

#[test]
fn a_client_without_a_server_is_told_how_to_start_one() {
    let free = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    expect_failure(
        &["client", "--addr", &free.to_string()],
        "Connection refused",
        "nothing listens there: is the server running? Start it with:\ncargo run -p tcp -- server",
    );
}

#[test]
fn a_busy_port_is_reported() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = holder.local_addr().expect("addr").to_string();
    expect_failure(
        &["server", "--addr", &addr],
        "Address already in use",
        "another program listens on that port",
    );
}

#[test]
fn a_bad_address_is_reported() {
    expect_failure(
        &["server", "--addr", "localhost"],
        "could not resolve \"localhost\"",
        "write the address as HOST:PORT",
    );
    expect_failure(
        &["client", "--addr", "127.0.0.1:99999"],
        "invalid port value",
        "write the address as HOST:PORT",
    );
}

#[test]
fn a_silent_server_makes_the_client_time_out() {
    // A listener that accepts (in the kernel's queue) but never replies.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    expect_failure(
        &["client", "--addr", &addr, "--timeout", "1"],
        "no reply within 1s",
        "the server did not answer in time",
    );
}

#[test]
fn a_server_that_resets_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        if let Ok((conn, _)) = listener.accept() {
            // SO_LINGER 0: close with RST.
            let _ = socket2::SockRef::from(&conn).set_linger(Some(std::time::Duration::ZERO));
        }
    });
    // Depending on when the reset arrives, the client meets it while writing, shutting down or
    // reading; every case is reported the same way.
    expect_failure(
        &["client", "--addr", &addr],
        "could not ",
        "the server closed the connection abruptly",
    );
}

#[test]
fn limits_out_of_range_are_usage_errors() {
    // `--max-line usize::MAX` once overflowed `max_line + 1` in a client thread.
    for args in [
        ["server", "--max-line", "18446744073709551615"],
        ["server", "--max-line", "0"],
        ["server", "--max-clients", "0"],
    ] {
        tcp()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("panicked").not());
    }
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide =
        course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!("CARGO_BIN_EXE_tcp")));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
