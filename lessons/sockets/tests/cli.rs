//! Black-box tests of the `sockets` binary: what a user sees, and that the outside world (bad
//! input, busy or privileged ports, foreign addresses) gets a one-line error, a hint and exit
//! code 1, never a panic. Everything stays on loopback; no name here reaches DNS.

use std::net::TcpListener;

use assert_cmd::Command;
use predicates::prelude::*;

fn sockets() -> Command {
    Command::cargo_bin("sockets").expect("the sockets binary is built")
}

/// The widest line the program prints: errors and hints are wrapped to fit a terminal.
const WIDTH: usize = 80;

fn expect_failure(args: &[&str], error: &str, hint: &str) {
    let assert = course_testkit::cli::expect_failure(sockets(), args, error, hint)
        .stderr(predicate::str::starts_with("error: could not "));
    let output = assert.get_output();
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        assert!(
            line.chars().count() <= WIDTH,
            "`sockets {}` printed a line wider than {WIDTH} columns:\n{line}",
            args.join(" ")
        );
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["resolve", "byte-order", "walk", "options", "provoke"] {
        sockets()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "Example: cargo run -p sockets -- {sub}"
            )));
    }
    sockets()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("provoke"))
        .stdout(predicate::str::contains("Example: cargo run -p sockets --"));
}

#[test]
fn usage_errors_exit_with_code_2() {
    sockets().assert().code(2);
    sockets().args(["provoke", "gremlins"]).assert().code(2);
}

#[test]
fn byte_order_explains_what_it_accepts() {
    for bad in ["[::1]:80", "127.0.0.1", "8080"] {
        expect_failure(
            &["byte-order", bad],
            "as an IPv4 address and port",
            "write an IPv4 address and a port",
        );
    }
}

#[test]
fn resolving_an_ip_literal_lists_it() {
    sockets()
        .args(["resolve", "[::1]:7878"])
        .assert()
        .success()
        .stdout(predicate::str::contains("IPv6  ip ::1"));
}

#[test]
fn a_target_without_a_port_is_reported_with_the_expected_form() {
    expect_failure(
        &["resolve", "localhost"],
        "invalid socket address",
        "write the address as HOST:PORT",
    );
}

#[test]
fn an_unresolvable_name_is_reported() {
    // `bad_host!` is not a valid host name, so the system resolver rejects it without asking DNS.
    expect_failure(
        &["resolve", "bad_host!:80"],
        "could not resolve \"bad_host!:80\"",
        "check the spelling",
    );
}

#[test]
fn a_busy_port_is_reported() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = holder.local_addr().expect("addr").to_string();
    expect_failure(
        &["walk", "--addr", &addr],
        "Address already in use",
        "another socket holds this address",
    );
    expect_failure(
        &["options", "--addr", &addr],
        "Address already in use",
        "another socket holds this address",
    );
}

#[test]
fn an_address_this_machine_lacks_is_reported() {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine has it, and bind() sends nothing.
    expect_failure(
        &["walk", "--addr", "192.0.2.1:0"],
        "192.0.2.1",
        "if binding: this machine has no such IP address",
    );
}

#[test]
fn a_privileged_port_is_reported() {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok());
    let mut cmd = if course_testkit::is_root() {
        // root may bind port 80 because it holds CAP_NET_BIND_SERVICE: run the binary without
        // that capability. (Running it as another user would need a copy it can read, and
        // executing a file just written races with other test threads forking: ETXTBSY.)
        let Some(setpriv) = course_testkit::process::which("setpriv") else {
            return skip(
                "running as root without `setpriv` (apt-get install util-linux) to drop privileges",
            );
        };
        let mut cmd = Command::new(setpriv);
        cmd.args([
            "--bounding-set=-net_bind_service",
            "--inh-caps=-net_bind_service",
        ])
        .arg(assert_cmd::cargo::cargo_bin("sockets"));
        cmd
    } else {
        sockets()
    };
    let assert = cmd.args(["walk", "--addr", "127.0.0.1:80"]).assert();
    if start.is_some_and(|s| s <= 80) {
        // This system lets anyone bind port 80 (containers often lower the limit to 0).
        assert
            .success()
            .stdout(predicate::str::contains("listener on 127.0.0.1:80"));
    } else {
        assert
            .code(1)
            .stderr(predicate::str::contains("Permission denied"))
            .stderr(predicate::str::contains(
                "hint: ports below 1024 are privileged",
            ));
    }
}

#[test]
fn each_provoked_error_is_the_one_announced() {
    for (which, error, hint) in [
        (
            "refused",
            "Connection refused",
            "nothing listens on that address",
        ),
        (
            "in-use",
            "Address already in use",
            "another socket holds this address",
        ),
        (
            "not-available",
            "bind 192.0.2.1:0",
            "if binding: this machine has no such IP address",
        ),
        (
            "timed-out",
            "could not read within 200ms",
            "nothing arrived in time",
        ),
        ("would-block", "could not read:", "nothing arrived in time"),
        (
            "reset",
            "Connection reset by peer",
            "the peer aborted the connection (RST)",
        ),
        (
            "broken-pipe",
            "could not write again: Broken pipe",
            "the peer closed the connection and reads no more",
        ),
    ] {
        expect_failure(&["provoke", which], error, hint);
    }
}

#[test]
fn the_walk_works_on_ipv4_and_ipv6_loopback_and_the_unspecified_address() {
    for addr in ["127.0.0.1:0", "[::1]:0", "0.0.0.0:0"] {
        sockets()
            .args(["walk", "--addr", addr])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "server read 0 bytes: end of stream",
            ));
    }
}

#[test]
fn the_options_of_an_ipv6_socket_line_up() {
    let assert = sockets()
        .args(["options", "--addr", "[::1]:0"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let hops = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("IPV6_UNICAST_HOPS"))
        .unwrap_or_else(|| panic!("no IPV6_UNICAST_HOPS line in:\n{stdout}"));
    // Where a setting's value starts: after the name and the two or more spaces that follow it.
    let column = |line: &str| {
        let name_end = 2 + line[2..].find("  ").unwrap_or(line.len() - 2);
        line.len() - line[name_end..].trim_start().len()
    };
    for line in stdout.lines().filter(|l| l.starts_with("  ")) {
        assert_eq!(
            column(line),
            column(hops),
            "values do not line up:\n{stdout}"
        );
    }
    assert!(hops.contains("IPV6_UNICAST_HOPS  "), "{hops}");
}

#[test]
#[cfg(target_os = "linux")]
fn running_out_of_file_descriptors_is_reported() {
    // With at most 5 descriptors (stdin, stdout, stderr and two more), the walk's listener and
    // client fit, but the socket that accept() makes does not: EMFILE.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 5 && exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("sockets"));
    course_testkit::cli::expect_failure(
        cmd,
        &["walk"],
        "Too many open files",
        "this process has as many files and sockets open as it may",
    );
}

/// Skips loudly outside CI; under CI a skip is a failure.
fn skip(why: &str) {
    assert!(!course_testkit::under_ci(), "cannot run under CI: {why}");
    eprintln!("SKIPPED: {why}");
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide = course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!(
        "CARGO_BIN_EXE_sockets"
    )));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
