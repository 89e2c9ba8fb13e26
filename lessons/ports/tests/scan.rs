//! The scanner, black-box: against listeners each test opens on 127.0.0.1:0 or [::1]:0 (and
//! closes), a silent port (a listener with a full queue), bad port specifications, a target that
//! is not loopback (refused before anything is sent), and open-file limits lower than the
//! concurrency asked for. Every scan here names the ports it tries: none scans ports the test did
//! not open, so it never knocks on another program's listener.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::process::Command as Process;
use std::time::Duration;

use assert_cmd::Command;
use course_testkit::net::{closed_addr, silent_addr};
use course_testkit::process::require;
use ports::scan::{PortResult, State, scan};
use predicates::prelude::*;

fn bin() -> Command {
    Command::cargo_bin("ports").expect("the ports binary is built")
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("a bound listener").port()
}

/// Runs `scan` with `args` and returns its standard output, expecting success.
fn scan_ok(args: &[&str]) -> String {
    let out = bin().arg("scan").args(args).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
    }
    stdout
}

/// The line for `port` in a report, with its spaces squeezed: `PORT/tcp STATE SERVICE`.
fn line_for(stdout: &str, port: u16) -> Option<String> {
    let prefix = format!("{port}/tcp ");
    let line = stdout.lines().find(|l| l.starts_with(&prefix))?;
    Some(line.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn finds_open_closed_and_filtered_ports_on_ipv4() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = closed_addr().port();
    let silent = silent_addr().expect("a silent port");
    let (open_port, silent_port) = (port_of(&open), silent.addr.port());
    let spec = format!("{open_port},{closed},{silent_port}");
    let stdout = scan_ok(&["127.0.0.1", "--ports", &spec, "--timeout-ms", "300"]);
    let open_line = line_for(&stdout, open_port).expect("a line for the open port");
    assert!(
        open_line.starts_with(&format!("{open_port}/tcp open ")),
        "{stdout}"
    );
    let silent_line = line_for(&stdout, silent_port).expect("a line for the silent port");
    assert!(silent_line.contains(" filtered "), "{stdout}");
    let closed_line = line_for(&stdout, closed).expect("a few closed ports are listed");
    assert!(closed_line.contains(" closed "), "{stdout}");
    assert!(
        stdout.contains("127.0.0.1: 1 open, 1 closed, 1 filtered, in "),
        "{stdout}"
    );
}

#[test]
fn finds_a_listener_on_ipv6_loopback() {
    let Ok(open) = TcpListener::bind("[::1]:0") else {
        eprintln!("SKIPPED: this machine has no IPv6 loopback (::1)");
        return;
    };
    let port = port_of(&open);
    let stdout = scan_ok(&["::1", "--ports", &port.to_string()]);
    assert!(
        stdout.starts_with("scanning ::1: 1 port, 1 at a time"),
        "{stdout}"
    );
    assert!(line_for(&stdout, port).is_some_and(|l| l.contains(" open ")));
    assert!(
        stdout.contains("::1: 1 open, 0 closed, 0 filtered"),
        "{stdout}"
    );
}

#[test]
fn a_listener_that_never_accepts_is_open() {
    // Nobody calls accept: the kernel completes the handshake into the queue all the same.
    let idle = TcpListener::bind("127.0.0.1:0").unwrap();
    let results = scan(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        &[port_of(&idle)],
        1,
        Duration::from_secs(5),
        &|_| {},
    )
    .unwrap();
    assert_eq!(results[0].state, State::Open);
}

#[test]
fn the_library_returns_every_port_in_the_order_asked() {
    let listeners: Vec<TcpListener> = (0..20)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut ports: Vec<u16> = listeners.iter().map(port_of).collect();
    let closed: Vec<u16> = (0..20).map(|_| closed_addr().port()).collect();
    ports.extend(&closed);
    ports.reverse(); // any order: the results follow it
    let results = scan(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        &ports,
        3,
        Duration::from_secs(5),
        &|_| {},
    )
    .unwrap();
    let got: Vec<u16> = results.iter().map(|r| r.port).collect();
    assert_eq!(got, ports);
    for PortResult { port, state } in results {
        let expected = if closed.contains(&port) {
            State::Closed
        } else {
            State::Open
        };
        assert_eq!(state, expected, "port {port}");
    }
}

#[test]
fn concurrency_bounds_the_attempts_in_flight() {
    // Six silent ports, 400 ms each, two at a time: three rounds, at least 1.2 s; with one
    // thread per port it would take 0.4 s, sequentially 2.4 s.
    let silent: Vec<_> = (0..6)
        .map(|_| silent_addr().expect("a silent port"))
        .collect();
    let ports: Vec<u16> = silent.iter().map(|s| s.addr.port()).collect();
    let start = std::time::Instant::now();
    let timeout = Duration::from_millis(400);
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let results = scan(localhost, &ports, 2, timeout, &|_| {}).unwrap();
    let took = start.elapsed();
    assert!(results.iter().all(|r| r.state == State::Filtered));
    assert!(took >= timeout * 3, "took {took:?}");
    assert!(
        took < timeout * 6,
        "took {took:?}: no faster than one at a time"
    );
}

#[test]
fn bad_specifications_are_usage_errors_with_hints() {
    let cases = [
        ("0", "port 0 at column 1", "ports are 1 to 65535"),
        (
            "80,65536",
            "65536 at column 4 is above 65535",
            "ports are 1 to 65535",
        ),
        (
            "25-20",
            "25-20 at column 1 is reversed",
            "write the lower port first",
        ),
        (
            "80,,443",
            "empty item at column 4",
            "a spec is ports and ranges",
        ),
        (
            "80,443,",
            "trailing comma at column 7",
            "a spec is ports and ranges",
        ),
        (
            "http",
            "\"http\" at column 1 is not a port number",
            "a spec is",
        ),
        ("20-", "a port is missing at column 4", "a spec is"),
        ("", "the port specification is empty", "a spec is"),
    ];
    for (spec, error, hint) in cases {
        bin()
            .args(["scan", "127.0.0.1", "--ports", spec])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(error))
            .stderr(predicate::str::contains(format!("\nhint: {hint}")))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn bad_numbers_are_usage_errors() {
    for args in [
        ["--concurrency", "0"],
        ["--concurrency", "5000"],
        ["--timeout-ms", "0"],
        ["--timeout-ms", "soon"],
    ] {
        bin()
            .args(["scan", "127.0.0.1", "--ports", "80"])
            .args(args)
            .assert()
            .code(2)
            .stdout("");
    }
}

#[test]
fn a_target_that_is_not_loopback_is_refused() {
    for (target, shown) in [("192.0.2.1", "192.0.2.1"), ("2001:db8::1", "2001:db8::1")] {
        course_testkit::cli::expect_failure(
            bin(),
            &["scan", target, "--ports", "80"],
            &format!("error: refusing to scan {shown}: not a loopback address"),
            "scan only machines you own or have permission to test",
        )
        .stdout(""); // not even the "scanning" line that precedes the first connection
    }
}

/// The connection attempts a run of the binary makes, as strace shows them.
fn traced_connects(args: &[&str]) -> Option<String> {
    let strace = require("strace", "install it with: apt-get install strace")?;
    // One log per call: the tests of this file run as threads of one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("ports-scan-{}-{call}.strace", std::process::id());
    let log = std::env::temp_dir().join(name);
    let status = Process::new(strace)
        .args(["-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o"])
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin("ports"))
        .args(args)
        .output()
        .expect("strace runs");
    assert!(status.status.code().is_some(), "the binary was killed");
    let trace = std::fs::read_to_string(&log).expect("strace wrote its log");
    let _ = std::fs::remove_file(&log);
    Some(trace)
}

#[test]
fn a_refused_target_is_sent_nothing() {
    // The method works: a loopback scan shows its connect.
    let Some(trace) = traced_connects(&["scan", "127.0.0.1", "--ports", "1"]) else {
        return;
    };
    assert!(
        trace.contains("127.0.0.1"),
        "strace shows connects: {trace}"
    );
    let trace = traced_connects(&["scan", "192.0.2.1", "--ports", "80"]).unwrap();
    assert!(!trace.contains("192.0.2.1"), "something was sent: {trace}");
    assert!(
        !trace.contains("connect("),
        "a connection was tried: {trace}"
    );
}

/// A host name that cannot be resolved: one error line, a hint, exit 1. The name's first
/// label is 64 bytes, over DNS's limit of 63 (RFC 1035 §2.3.4), so the C library refuses it
/// without asking any server: strace shows no connect except to the local name-service
/// cache's Unix socket, and nothing sent.
#[test]
fn an_unresolvable_host_is_an_error_with_a_hint_and_no_query() {
    let host = format!("{}.invalid", "a".repeat(64));
    let Some(trace) = traced_connects(&["scan", &host, "--ports", "80"]) else {
        return;
    };
    let network: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("connect(") || l.contains("send"))
        .filter(|l| !l.contains("AF_UNIX"))
        .collect();
    assert!(
        network.is_empty(),
        "the lookup reached the network: {network:?}"
    );
    course_testkit::cli::expect_failure(
        bin(),
        &["scan", &host, "--ports", "80"],
        &format!("could not resolve \"{host}\""),
        "HOST is a name or an address",
    );
}

/// Runs the binary with `args` under `bash -c 'ulimit ...; <setup>; exec ports ...'`.
fn with_limit(limit: &str, setup: &str, args: &str) -> Command {
    let bin = assert_cmd::cargo::cargo_bin("ports");
    let script = format!("ulimit {limit} || exit 99; {setup} exec \"$0\" {args}");
    let mut command = Command::new("bash");
    command.arg("-c").arg(script).arg(bin);
    command
}

#[test]
fn a_concurrency_above_the_open_file_limit_is_lowered() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = port_of(&open);
    let args = format!("scan 127.0.0.1 --ports {port} --concurrency 1000");
    // Soft and hard limit 64: the scan cannot raise it, so it uses 64 - 16 sockets.
    let out = with_limit("-n 64", "", &args).assert().success();
    let out = out.get_output();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains("note: the open-file limit is 64 (ulimit -n)")
            && stderr.contains("48 ports at a time, not 1000"),
        "{stderr}"
    );
    assert!(stdout.contains(" 1 open, "), "{stdout}");
}

#[test]
fn a_soft_open_file_limit_is_raised() {
    let hard = rlimit::Resource::NOFILE.get().unwrap().1;
    if hard < 300 {
        eprintln!("SKIPPED: the hard open-file limit is {hard}, below 300");
        return;
    }
    let listeners: Vec<TcpListener> = (0..200)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let spec: Vec<String> = listeners.iter().map(|l| port_of(l).to_string()).collect();
    let args = format!(
        "scan 127.0.0.1 --ports {} --concurrency 200",
        spec.join(",")
    );
    // A soft limit of 64 under a higher hard limit: the scan raises the soft one to 216.
    let out = with_limit("-Sn 64", "", &args).assert().success();
    let out = out.get_output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("200 ports, 200 at a time"), "{stdout}");
    assert!(stdout.contains(": 200 open, 0 closed"), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn running_out_of_file_descriptors_is_an_error_not_a_panic() {
    // A limit of 24 would allow 8 sockets, but the process inherits 19 open files besides its
    // standard input, output and error: 2 are left (the dynamic loader needs them at start).
    // Three silent ports hold a socket each for a second, so the third attempt finds none.
    let silent: Vec<_> = (0..3)
        .map(|_| silent_addr().expect("a silent port"))
        .collect();
    let spec: Vec<String> = silent.iter().map(|s| s.addr.port().to_string()).collect();
    let setup = (3..22)
        .map(|fd| format!("exec {fd}</dev/null; "))
        .collect::<String>();
    let args = format!(
        "scan 127.0.0.1 --ports {} --concurrency 8 --timeout-ms 1000",
        spec.join(",")
    );
    with_limit("-n 24", &setup, &args)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: the scan of 127.0.0.1 stopped: out of file descriptors while trying port",
        ))
        .stderr(predicate::str::contains("Too many open files"))
        .stderr(predicate::str::contains(
            "\nhint: try a lower --concurrency",
        ))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn help_shows_the_example_within_80_columns() {
    let out = bin().args(["scan", "--help"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("Example: cargo run -p ports -- scan 127.0.0.1 --ports 20-25,80,443"));
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
    }
}

#[test]
fn the_demo_shows_one_port_of_each_kind() {
    let out = bin().arg("scan-demo").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("127.0.0.1: 2 open, 1 closed, 1 filtered"),
        "{stdout}"
    );
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
    }
}
