//! Black-box tests of `listening` and `service`: the sockets this test opens on loopback are
//! listed with this test's own pid, and `ss` (iproute2), which reads the same kernel tables
//! another way (netlink), agrees on their address, port and pid; service names come from
//! /etc/services or, said so, from the built-in table; and every bad input is one error line
//! with a hint (exit 1) or a usage error (exit 2).

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use course_testkit::process::require;
use predicates::prelude::*;

fn ports() -> Command {
    Command::cargo_bin("ports").expect("the ports binary is built")
}

/// The listing's rows for `args`, each as (proto, local address, service, process). Checks on
/// the way that every line fits 80 columns.
fn listing(args: &[&str]) -> Vec<[String; 4]> {
    let output = ports().arg("listening").args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "listening failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "longer than 80 columns: {line}");
    }
    let mut lines = stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("proto local address"), "{stdout}");
    lines
        .filter(|line| line.starts_with("tcp ") || line.starts_with("udp "))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let word = |i: usize| words.get(i).copied().unwrap_or_default().to_string();
            [word(0), word(1), word(2), word(3)]
        })
        .collect()
}

/// The row for `addr` over `proto`, if the listing has one.
fn row<'a>(rows: &'a [[String; 4]], proto: &str, addr: SocketAddr) -> Option<&'a [String; 4]> {
    rows.iter()
        .find(|r| r[0] == proto && r[1] == addr.to_string())
}

/// The sockets a test opens: TCP listeners and UDP sockets on 127.0.0.1 and, where the machine
/// has it, ::1, each on a port the OS chose.
struct Opened {
    tcp: Vec<TcpListener>,
    udp: Vec<UdpSocket>,
}

impl Opened {
    fn new() -> Opened {
        let mut opened = Opened {
            tcp: vec![TcpListener::bind("127.0.0.1:0").unwrap()],
            udp: vec![UdpSocket::bind("127.0.0.1:0").unwrap()],
        };
        match (TcpListener::bind("[::1]:0"), UdpSocket::bind("[::1]:0")) {
            (Ok(tcp), Ok(udp)) => {
                opened.tcp.push(tcp);
                opened.udp.push(udp);
            }
            _ => eprintln!("NOTE: this machine has no IPv6 loopback; testing IPv4 only"),
        }
        opened
    }

    fn addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        let tcp = self.tcp.iter().map(|l| ("tcp", l.local_addr().unwrap()));
        let udp = self.udp.iter().map(|s| ("udp", s.local_addr().unwrap()));
        tcp.chain(udp).collect()
    }
}

/// The owner column starts with this test's pid. (A process this test forks for a moment
/// holds the sockets too until it execs, and would show as `+1`, after ours: a higher pid.)
fn owned_by_us(row: &[String; 4]) -> bool {
    row[3].starts_with(&format!("{}/", std::process::id()))
}

#[test]
fn our_tcp_listeners_and_udp_sockets_are_listed_with_our_pid() {
    let opened = Opened::new();
    let rows = listing(&[]);
    for (proto, addr) in opened.addrs() {
        let found = row(&rows, proto, addr);
        let found = found.unwrap_or_else(|| panic!("{proto} {addr} not listed: {rows:?}"));
        assert!(owned_by_us(found), "{proto} {addr}: {found:?}");
    }
}

#[test]
fn the_rows_are_sorted_by_port() {
    let _opened = Opened::new();
    let rows = listing(&[]);
    let port = |r: &[String; 4]| -> u16 {
        let (_, port) = r[1].rsplit_once(':').unwrap();
        port.parse().unwrap()
    };
    let ports: Vec<u16> = rows.iter().map(port).collect();
    assert!(ports.is_sorted(), "{ports:?}");
}

#[test]
fn tcp_and_udp_filter_the_listing() {
    let opened = Opened::new();
    let tcp_only = listing(&["--tcp"]);
    let udp_only = listing(&["--udp"]);
    assert!(tcp_only.iter().all(|r| r[0] == "tcp"), "{tcp_only:?}");
    assert!(udp_only.iter().all(|r| r[0] == "udp"), "{udp_only:?}");
    let both = listing(&["--tcp", "--udp"]);
    for (proto, addr) in opened.addrs() {
        let filtered = if proto == "tcp" { &tcp_only } else { &udp_only };
        assert!(row(filtered, proto, addr).is_some(), "{proto} {addr}");
        assert!(row(&both, proto, addr).is_some(), "{proto} {addr}");
    }
}

/// What `ss -l` leaves out, `listening` leaves out too: a TCP connection (both of its ends),
/// and a connected UDP socket.
#[test]
fn connections_and_connected_udp_sockets_are_not_listed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server_side, _) = listener.accept().unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.connect(peer.local_addr().unwrap()).unwrap();
    let rows = listing(&[]);
    assert!(row(&rows, "tcp", listener.local_addr().unwrap()).is_some());
    assert!(row(&rows, "tcp", client.local_addr().unwrap()).is_none());
    assert!(row(&rows, "udp", udp.local_addr().unwrap()).is_none());
    assert!(row(&rows, "udp", peer.local_addr().unwrap()).is_some());
    drop(server_side);
}

/// `ss`'s rows for our own sockets: local address as ss writes it, and the pids in its
/// `users:(("name",pid=N,fd=M),...)` column.
fn ss(tool: &Path, flags: &str) -> Vec<(String, BTreeSet<u32>)> {
    let output = Process::new(tool).arg(flags).output().unwrap();
    assert!(output.status.success(), "ss {flags} failed: {output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| {
            // State Recv-Q Send-Q Local:Port Peer:Port [Process]
            let words: Vec<&str> = line.split_whitespace().collect();
            let local = words.get(3)?.to_string();
            let users = words.get(5..).unwrap_or_default().join(" ");
            let pids = users
                .split("pid=")
                .skip(1)
                .filter_map(|rest| rest.split(',').next()?.parse().ok())
                .collect();
            Some((local, pids))
        })
        .collect()
}

#[test]
fn ss_agrees_on_the_address_port_and_pid_of_our_sockets() {
    let Some(tool) = require("ss", "apt-get install iproute2") else {
        return;
    };
    let opened = Opened::new();
    let rows = listing(&[]);
    let (ss_tcp, ss_udp) = (ss(&tool, "-lntpH"), ss(&tool, "-lnupH"));
    for (proto, addr) in opened.addrs() {
        let theirs = if proto == "tcp" { &ss_tcp } else { &ss_udp };
        let shown = addr.to_string();
        let Some((_, pids)) = theirs.iter().find(|(local, _)| *local == shown) else {
            panic!("ss -l does not list {proto} {shown}: {theirs:?}");
        };
        let ours = row(&rows, proto, addr).unwrap_or_else(|| panic!("{proto} {shown}"));
        assert!(
            pids.contains(&std::process::id()),
            "ss: {proto} {shown} held by {pids:?}"
        );
        assert!(owned_by_us(ours), "ours: {ours:?}");
    }
}

/// Whether /etc/services is here; outside CI, a test that needs it skips, saying so.
fn system_services() -> bool {
    let here = Path::new("/etc/services").is_file();
    if !here {
        assert!(
            !course_testkit::under_ci(),
            "/etc/services is missing under CI: apt-get install netbase"
        );
        eprintln!("SKIPPED: no /etc/services (apt-get install netbase)");
    }
    here
}

#[test]
fn a_port_finds_its_names_over_tcp_and_udp() {
    if !system_services() {
        return;
    }
    ports()
        .args(["service", "443"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^https +443/tcp\b").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^https +443/udp\b").unwrap())
        .stdout(predicate::str::ends_with("(from /etc/services)\n"));
}

#[test]
fn a_name_or_alias_finds_its_ports() {
    if !system_services() {
        return;
    }
    let lines = |args: &[&str]| -> Vec<String> {
        let output = ports().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let mut lines: Vec<String> = stdout.lines().map(str::to_string).collect();
        assert_eq!(lines.pop().as_deref(), Some("(from /etc/services)"));
        lines
            .iter()
            .map(|l| l.split(" #").next().unwrap().trim_end().to_string())
            .collect()
    };
    assert_eq!(
        lines(&["service", "domain"]),
        ["domain       53/tcp", "domain       53/udp"]
    );
    assert_eq!(
        lines(&["service", "53", "--proto", "udp"]),
        ["domain       53/udp"]
    );
    assert_eq!(lines(&["service", "WWW"]), ["http         80/tcp    www"]);
    assert_eq!(
        lines(&["service", "https", "--proto", "tcp"]),
        ["https        443/tcp"]
    );
}

#[test]
fn the_built_in_table_says_that_it_is_used() {
    ports()
        .args(["service", "--built-in", "23"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("telnet       23/tcp"))
        .stdout(predicate::str::ends_with(
            "(from the built-in table of well-known ports, not /etc/services)\n",
        ));
}

#[test]
fn a_services_file_given_is_the_one_read() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!("services-{}", std::process::id()));
    std::fs::write(
        &file,
        "# a test's table\nlesson 4242/udp  four # for the test\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    ports()
        .args(["service", "four", "--services", path])
        .assert()
        .success()
        .stdout(format!(
            "lesson       4242/udp  four # for the test\n(from {path})\n"
        ));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn names_and_ports_not_in_the_database_are_errors_with_hints() {
    let expect_failure = |args: &[&str], error: &str, hint: &str| {
        course_testkit::cli::expect_failure(ports(), args, error, hint);
    };
    expect_failure(
        &["service", "--built-in", "nosuch"],
        "error: no service named \"nosuch\" over tcp or udp in the built-in table",
        "a name is spelled as in /etc/services",
    );
    expect_failure(
        &["service", "--built-in", "22", "--proto", "udp"],
        "error: no service name for port 22 over udp in the built-in table",
        "most ports have no registered name",
    );
    expect_failure(
        &["service", "443", "--services", "/nonexistent/services"],
        "error: could not read the services file /nonexistent/services: No such file",
        "a services file has lines of NAME PORT/PROTOCOL",
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let cases: [&[&str]; 9] = [
        &["service", "0"],
        &["service", "65536"],
        &["service", "99999999999999999999"],
        &["service", "%%"],
        &["service", ""],
        &["service", "-5"],
        &["service", "443", "--proto", "sctp"],
        &[
            "service",
            "443",
            "--built-in",
            "--services",
            "/etc/services",
        ],
        &["listening", "--all"],
    ];
    for args in cases {
        ports()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error: "))
            .stderr(predicate::str::contains("panicked").not());
    }
    ports()
        .args(["service", "0"])
        .assert()
        .stderr(predicate::str::contains("a service port is 1 to 65535"));
}

#[test]
fn both_subcommands_have_help_with_an_example() {
    for sub in ["listening", "service"] {
        ports()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "Example: cargo run -p ports -- {sub}"
            )));
    }
}
