//! Black-box tests of the `udp` binary: the servers' conventions (the `listening on` line, a
//! clean stop on SIGTERM with exit code 0), one-line errors with hints for the outside world,
//! and `nc -u` as a real client of the echo server.

use std::net::UdpSocket;
use std::process::Command as Process;
use std::time::Duration;

use assert_cmd::Command;
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;

fn udp() -> Command {
    Command::cargo_bin("udp").expect("the udp binary is built")
}

fn start(args: &[&str]) -> ServerProcess {
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("udp"));
    command.args(args);
    ServerProcess::start(command).expect("the server starts")
}

fn expect_failure(args: &[&str], error: &str, hint: &str) -> assert_cmd::assert::Assert {
    course_testkit::cli::expect_failure(udp(), args, error, hint)
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    udp()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Example: cargo run -p udp --"));
    for sub in ["datagram", "server", "client", "ping", "relay", "lossy"] {
        udp()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "Example: cargo run -p udp -- {sub}"
            )));
    }
}

#[test]
fn the_client_gets_its_echo_and_the_server_stops_on_sigterm() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start(&["server", "--addr", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    udp()
        .args(["client", "--addr", &addr])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "reply after 1 try: \"Hello, world!\"\n",
        ));
    let (status, stderr) = server.terminate().expect("the server stops");
    assert!(status.success(), "exit status {status:?}, stderr: {stderr}");
    assert_eq!(stderr, "stopped\n");
}

#[test]
fn the_server_answers_on_ipv6_loopback() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let server = start(&["server", "--addr", "[::1]:0"]);
    let addr = server.addr.to_string();
    udp()
        .args(["client", "--addr", &addr, "v6"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("reply after 1 try: \"v6\"\n"));
}

/// Empty, garbage, truncated-looking and maximum-size datagrams are just bytes to echo: the
/// server answers each unchanged, and then still answers the next client.
#[test]
fn the_server_echoes_any_datagram_and_keeps_serving() {
    let server = start(&["server", "--addr", "127.0.0.1:0"]);
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    socket.connect(server.addr).expect("connect");
    let largest = vec![0xAB; 65_507];
    let cases: [&[u8]; 5] = [
        b"",
        b"\xff\x00garbage\x00\xfe",
        b"\x00",
        b"\x00\x00\x00",
        &largest,
    ];
    let mut buf = vec![0u8; 65_536];
    for case in cases {
        socket.send(case).expect("send");
        let n = socket.recv(&mut buf).expect("an echo within 5 s");
        assert_eq!(&buf[..n], case, "a {}-byte datagram", case.len());
    }
    udp()
        .args(["client", "--addr", &server.addr.to_string(), "still there?"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("\"still there?\"\n"));
}

#[test]
fn a_client_with_no_server_is_refused_with_a_hint() {
    let nobody = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .to_string();
    expect_failure(
        &["client", "--addr", &nobody],
        "the server's host refused the request",
        "nothing listens on that port: is the server running?",
    );
    expect_failure(
        &["ping", "--addr", &nobody, "--count", "1"],
        "Connection refused",
        "nothing listens on that port: is the server running?",
    );
}

#[test]
fn a_client_whose_every_request_is_lost_gives_up_with_a_hint() {
    let server = start(&["server", "--addr", "127.0.0.1:0"]);
    let addr = server.addr.to_string();
    let args = [
        "client",
        "--addr",
        &addr,
        "--drop",
        "1",
        "--seed",
        "1",
        "--attempts",
        "3",
        "--timeout-ms",
        "20",
    ];
    expect_failure(
        &args,
        "no reply after 3 tries",
        "the server (or the network) lost every request or reply",
    )
    .stdout(predicate::str::contains("try 3: no reply"));
}

#[test]
fn a_busy_port_and_bad_arguments_are_reported() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("an address").to_string();
    expect_failure(
        &["server", "--addr", &addr],
        "could not bind",
        "another program uses that UDP port",
    );
    expect_failure(
        &["relay", "--addr", &addr],
        "could not bind",
        "another program uses that UDP port",
    );
    expect_failure(
        &["client", "--addr", "7979"],
        "could not resolve \"7979\"",
        "an address is HOST:PORT",
    );
    // No name lookups here: the tests send nothing beyond loopback, not even to a resolver.
    for bad in [
        &["client", "--drop", "1.5"][..],
        &["client", "--attempts", "0"],
        &["ping", "--count", "0"],
        &["ping", "--size", "70000"],
        &["datagram", "nonsense"],
    ] {
        udp()
            .args(bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn the_relay_subcommand_relays_and_logs_each_fate() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let server = start(&["server", "--addr", "127.0.0.1:0"]);
    let to = server.addr.to_string();
    let relay = start(&["relay", "--addr", "127.0.0.1:0", "--to", &to, "--seed", "1"]);
    udp()
        .args(["client", "--addr", &relay.addr.to_string(), "via the relay"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("\"via the relay\"\n"));
    let (status, stderr) = relay.interrupt().expect("the relay stops");
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("relay: client -> server #1: passed")
            && stderr.contains("relay: server -> client #1: passed"),
        "{stderr}"
    );
}

/// `nc -u` (netcat-openbsd) as the client: what the chapter shows.
#[test]
fn nc_gets_its_datagram_back() {
    let Some(nc) = require("nc", "apt-get install netcat-openbsd") else {
        return;
    };
    let server = start(&["server", "--addr", "127.0.0.1:0"]);
    let port = server.addr.port().to_string();
    // -q 1 would wait after EOF; -w 1 ends a second after the last datagram.
    let out = Process::new(nc)
        .args(["-u", "-w", "1", "127.0.0.1", &port])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"hello over UDP\n")?;
            child.wait_with_output()
        })
        .expect("nc runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello over UDP\n");
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide =
        course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!("CARGO_BIN_EXE_udp")));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
