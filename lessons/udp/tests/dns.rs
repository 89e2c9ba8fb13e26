//! DNS over real loopback sockets: our responder and our client against each other, against
//! hostile packets, and against real peers (`dig` asks our responder; our client asks
//! `dnsmasq`); and the `dns`, `respond` and `dns-bytes` subcommands as a user runs them.
//!
//! Every socket is on 127.0.0.1 with port 0, and every wait has a deadline.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;
use udp::dns::client::{self, LookupError};
use udp::dns::message::{self, Header, Message, RData, Rcode, RecordType, decode, encode_query};
use udp::dns::responder::{self, Stats, Table};
use udp::shutdown::Shutdown;

const WAIT: Duration = Duration::from_secs(5);

const TABLE: &str = "192.0.2.10 www.example.test\n\
                     192.0.2.11 www.example.test\n\
                     2001:db8::10 www.example.test\n\
                     198.51.100.25 v4only.example.test\n";

/// Our responder on a thread, on `127.0.0.1:0`; stopped and joined when dropped or finished.
struct Responder {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<(io::Result<Stats>, String)>>,
}

impl Responder {
    fn start() -> Responder {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = socket.local_addr().expect("bound");
        let shutdown = Shutdown::new();
        let table = Table::parse(TABLE).expect("the test table parses");
        let stop = shutdown.clone();
        let thread = std::thread::spawn(move || {
            let mut log = Vec::new();
            let stats = responder::serve(socket, stop, table, &mut log);
            (stats, String::from_utf8_lossy(&log).into_owned())
        });
        Responder {
            addr,
            shutdown,
            thread: Some(thread),
        }
    }

    /// Stops it; returns what it did and what it logged.
    fn finish(mut self) -> (Stats, String) {
        self.shutdown.trigger();
        let thread = self.thread.take().expect("not finished yet");
        let (stats, log) = thread.join().expect("the responder does not panic");
        (stats.expect("the responder returns Ok"), log)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lookup(server: SocketAddr, name: &str, rtype: RecordType) -> client::Answer {
    client::lookup(server, name, rtype, Duration::from_secs(2), 1).expect("an answer")
}

fn addresses(answer: &client::Answer) -> Vec<String> {
    let data = answer.message.answers.iter().map(|r| match &r.data {
        RData::A(ip) => ip.to_string(),
        RData::Aaaa(ip) => ip.to_string(),
        RData::Other(b) => format!("{b:?}"),
    });
    data.collect()
}

/// A client socket on loopback with a read timeout.
fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s
}

#[test]
fn our_client_and_responder_agree_on_every_kind_of_answer() {
    let r = Responder::start();
    let a = lookup(r.addr, "www.example.test", RecordType::A);
    assert_eq!(a.message.header.rcode(), Rcode::NoError);
    assert!(a.message.header.authoritative);
    assert_eq!(addresses(&a), ["192.0.2.10", "192.0.2.11"]);
    let aaaa = lookup(r.addr, "WWW.Example.Test.", RecordType::Aaaa);
    assert_eq!(addresses(&aaaa), ["2001:db8::10"]);
    let nx = lookup(r.addr, "nope.example.test", RecordType::A);
    assert_eq!(nx.message.header.rcode(), Rcode::NxDomain);
    assert!(nx.message.header.authoritative);
    let nodata = lookup(r.addr, "v4only.example.test", RecordType::Aaaa);
    assert_eq!(nodata.message.header.rcode(), Rcode::NoError);
    assert!(nodata.message.answers.is_empty());
    let (stats, log) = r.finish();
    assert_eq!((stats.answered, stats.refused, stats.ignored), (4, 0, 0));
    assert_eq!(log, "", "a responder logs only what goes wrong");
}

/// A query whose name is a pointer to itself at offset 12.
fn pointer_loop() -> Vec<u8> {
    let mut q = encode_query(0x0bad, "a", RecordType::A).expect("query");
    q.truncate(12);
    q.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    q
}

#[test]
fn hostile_packets_are_ignored_or_refused_and_the_responder_keeps_answering() {
    let r = Responder::start();
    let good = encode_query(0x600d, "www.example.test", RecordType::A).expect("query");
    let mut response = good.clone();
    response[2] |= 0x80; // QR: a response, which a server must never answer
    let mut garbage = vec![0u8; 64];
    let mut rng = udp::random::Random::new(5);
    garbage.iter_mut().for_each(|b| *b = rng.next_u64() as u8);
    garbage[2] &= 0x7f; // a "query", so that a header is read and it gets FORMERR
    garbage[2] &= 0x87; // opcode 0
    let mut huge = good.clone();
    huge.resize(65_507, 0); // the largest UDP payload over IPv4: trailing bytes, FORMERR
    // (what, bytes, the rcode of the reply, or None for silence)
    let cases: Vec<(&str, Vec<u8>, Option<Rcode>)> = vec![
        ("empty", vec![], None),
        ("11 bytes", good[..11].to_vec(), None),
        ("a response", response, None),
        (
            "truncated question",
            good[..20].to_vec(),
            Some(Rcode::FormErr),
        ),
        ("garbage", garbage, Some(Rcode::FormErr)),
        ("65,507 bytes", huge, Some(Rcode::FormErr)),
        ("pointer loop", pointer_loop(), Some(Rcode::FormErr)),
    ];
    let client = socket();
    for (what, bytes, want) in &cases {
        client.send_to(bytes, r.addr).expect("send");
        client.send_to(&good, r.addr).expect("send");
        // Datagrams on loopback arrive in order, so if the bad one is answered, its reply
        // comes first; if not, the first reply is the good one's.
        let mut buf = vec![0; 65_536];
        let (len, _) = client.recv_from(&mut buf).expect("a reply within 5 s");
        let first = decode(&buf[..len]).expect("our replies decode");
        match want {
            None => assert_eq!(first.header.id, 0x600d, "{what}: answered"),
            Some(rcode) => {
                assert_eq!(first.header.rcode(), *rcode, "{what}");
                assert!(first.header.response);
                assert_eq!(first.header.id, u16::from_be_bytes([bytes[0], bytes[1]]));
                let (len, _) = client.recv_from(&mut buf).expect("then the good reply");
                let second = decode(&buf[..len]).expect("decodes");
                assert_eq!(second.header.id, 0x600d, "{what}");
                assert_eq!(second.answers.len(), 2, "{what}");
            }
        }
    }
    let (stats, log) = r.finish();
    assert_eq!(stats.ignored, 3, "{log}");
    assert_eq!(stats.refused, 4, "{log}");
    assert_eq!(log.lines().count(), 7, "one line per bad packet:\n{log}");
    assert!(log.contains("a response, not a query"), "{log}");
    assert!(log.contains("does not point back"), "{log}");
}

/// A fake server: receives one query at a time and answers with what `replies` makes of it
/// (given the query's number, its bytes and who sent it).
fn fake_server(
    replies: impl Fn(usize, &[u8], SocketAddr) -> Vec<Vec<u8>> + Send + 'static,
) -> (SocketAddr, JoinHandle<()>) {
    let server = socket();
    server
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let addr = server.local_addr().expect("bound");
    let thread = std::thread::spawn(move || {
        let mut buf = vec![0; 65_536];
        for n in 0.. {
            let Ok((len, from)) = server.recv_from(&mut buf) else {
                return;
            };
            for reply in replies(n, &buf[..len], from) {
                let _ = server.send_to(&reply, from);
            }
        }
    });
    (addr, thread)
}

fn response_to(query: &[u8], edit: impl FnOnce(&mut Message)) -> Vec<u8> {
    let mut m = decode(query).expect("the client's query decodes");
    m.header = Header {
        response: true,
        ..m.header
    };
    edit(&mut m);
    message::encode(&m).expect("encodes")
}

#[test]
fn the_client_ignores_replies_that_do_not_match_its_query() {
    let (addr, _server) = fake_server(|_, q, _| {
        let wrong_id = response_to(q, |m| m.header.id = m.header.id.wrapping_add(1));
        let wrong_name = response_to(q, |m| m.questions[0].name = "evil.test.".into());
        let not_a_response = q.to_vec();
        let right = response_to(q, |m| m.header.rcode = Rcode::NxDomain.to_u8());
        vec![
            wrong_id,
            wrong_name,
            not_a_response,
            b"junk".to_vec(),
            right,
        ]
    });
    let answer = lookup(addr, "www.example.test", RecordType::A);
    assert_eq!(answer.message.header.rcode(), Rcode::NxDomain);
    assert_eq!((answer.ignored, answer.attempts), (4, 1));
}

#[test]
fn the_client_hears_nobody_but_its_server() {
    // A forger that knows the client's port and the query id, but sends from another address:
    // the connected socket never delivers it.
    let forger = socket();
    let (addr, _server) = fake_server(move |_, q, client| {
        let forged = response_to(q, |m| m.header.rcode = Rcode::Refused.to_u8());
        let _ = forger.send_to(&forged, client);
        vec![response_to(q, |_| ())]
    });
    let answer = lookup(addr, "www.example.test", RecordType::A);
    assert_eq!(answer.message.header.rcode(), Rcode::NoError);
}

#[test]
fn the_client_retries_after_a_timeout_and_reports_truncation() {
    let (addr, _server) = fake_server(|n, q, _| {
        if n == 0 {
            return vec![]; // the first query is "lost"
        }
        vec![response_to(q, |m| m.header.truncated = true)]
    });
    let answer = client::lookup(
        addr,
        "www.example.test",
        RecordType::A,
        Duration::from_millis(300),
        2,
    )
    .expect("an answer on the second try");
    assert_eq!(answer.attempts, 2);
    assert!(answer.truncated());
}

#[test]
fn the_client_gives_up_after_its_retries_or_at_once_when_refused() {
    let silent = socket(); // bound, never reads
    let started = Instant::now();
    let timeout = Duration::from_millis(200);
    let addr = silent.local_addr().expect("bound");
    let err = client::lookup(addr, "www.example.test", RecordType::A, timeout, 2).unwrap_err();
    assert!(
        matches!(err, LookupError::Timeout { attempts: 3, .. }),
        "{err}"
    );
    let took = started.elapsed();
    assert!(took >= timeout * 3 && took < WAIT, "{took:?}");

    let closed = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("bound");
    drop(closed);
    let err = client::lookup(closed_addr, "www.example.test", RecordType::A, timeout, 2);
    assert!(matches!(err, Err(LookupError::Refused { .. })), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Real peers.

/// `dig` asks our responder, as the chapter shows.
#[test]
fn dig_gets_authoritative_answers_from_our_responder() {
    let Some(dig) = require("dig", "apt-get install bind9-dnsutils") else {
        return;
    };
    let r = Responder::start();
    let dig = |name: &str, rtype: &str| {
        let out = Process::new(&dig)
            .args([
                &format!("@{}", r.addr.ip()),
                "-p",
                &r.addr.port().to_string(),
                name,
                rtype,
                "+norecurse",
                "+time=2",
                "+tries=1",
            ])
            .output()
            .expect("dig runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = dig("www.example.test", "A");
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains(";; flags: qr aa;"), "{out}");
    let answer_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("www.example.test.") && l.contains("\tA\t"))
        .collect();
    assert_eq!(answer_lines.len(), 2, "{out}");
    assert!(answer_lines[0].ends_with("192.0.2.10"), "{out}");
    assert!(answer_lines[0].contains("\t300\t"), "{out}");

    let out = dig("www.example.test", "AAAA");
    assert!(out.contains("\tAAAA\t2001:db8::10"), "{out}");
    let out = dig("nope.example.test", "A");
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("flags: qr aa;"), "{out}");
    let out = dig("v4only.example.test", "AAAA");
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 0"),
        "{out}"
    );
    let out = dig("www.example.test", "MX");
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 0"),
        "{out}"
    );
    // dig sends an EDNS OPT record by default: ignored, not refused, and logged as nothing.
    let (stats, log) = r.finish();
    assert_eq!(
        (stats.answered, stats.refused, stats.ignored),
        (5, 0, 0),
        "{log}"
    );
}

/// dnsmasq on a free loopback port, serving only `hosts`; killed when dropped.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
    hosts: PathBuf,
}

impl Dnsmasq {
    fn start(dnsmasq: &std::path::Path, hosts: &str) -> Dnsmasq {
        let file = std::env::temp_dir().join(format!(
            "udp-dns-test-{}-{}.hosts",
            std::process::id(),
            client::random_id()
        ));
        std::fs::write(&file, hosts).expect("write the hosts file");
        // A port that was free a moment ago; if dnsmasq loses the race, try another.
        for _ in 0..5 {
            let port = {
                let probe = UdpSocket::bind("127.0.0.1:0").expect("bind");
                probe.local_addr().expect("bound").port()
            };
            let mut command = Process::new(dnsmasq);
            command.args([
                "--keep-in-foreground",
                &format!("--port={port}"),
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                &format!("--addn-hosts={}", file.display()),
                "--pid-file=",
                "--conf-file=/dev/null",
                "--log-facility=-",
            ]);
            // As root, dnsmasq would switch to user `nobody`; stay who we are.
            if course_testkit::is_root() {
                command.arg("--user=root");
            }
            let child = command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("dnsmasq starts");
            let mut d = Dnsmasq {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                hosts: file.clone(),
            };
            if d.wait_until_it_answers() {
                return d;
            }
            let _ = d.child.kill();
            let _ = d.child.wait();
            std::mem::forget(d); // keep the file for the next try
        }
        panic!("dnsmasq did not start on a free loopback port in 5 tries");
    }

    /// Asks until dnsmasq answers, for at most 10 seconds; false if it exited or never did.
    fn wait_until_it_answers(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_exited)) = self.child.try_wait() {
                return false;
            }
            let short = Duration::from_millis(100);
            match client::lookup(self.addr, "www.example.test", RecordType::A, short, 0) {
                Ok(_) => return true,
                // Not listening yet: the refusal comes at once, so wait a little.
                Err(LookupError::Refused { .. }) => std::thread::sleep(short),
                Err(_) => {}
            }
        }
        false
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.hosts);
    }
}

#[test]
fn our_client_gets_answers_from_dnsmasq() {
    let Some(dnsmasq) = require("dnsmasq", "apt-get install dnsmasq-base") else {
        return;
    };
    let d = Dnsmasq::start(
        &dnsmasq,
        "192.0.2.10 www.example.test\n2001:db8::10 www.example.test\n",
    );
    let a = lookup(d.addr, "www.example.test", RecordType::A);
    assert_eq!(a.message.header.rcode(), Rcode::NoError);
    assert_eq!(addresses(&a), ["192.0.2.10"]);
    let aaaa = lookup(d.addr, "WWW.EXAMPLE.TEST", RecordType::Aaaa);
    assert_eq!(addresses(&aaaa), ["2001:db8::10"]);
    // A name it does not know, and no upstream server to ask: dnsmasq refuses.
    let other = lookup(d.addr, "nope.example.test", RecordType::A);
    assert_eq!(other.message.header.rcode(), Rcode::Refused);

    // The CLI against dnsmasq too, as a user would run it.
    udp()
        .args(["dns", "www.example.test", "--server", &d.addr.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(";; status: NOERROR"))
        .stdout(predicate::str::contains("IN A     192.0.2.10"));
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn udp() -> Command {
    let mut c = Command::cargo_bin("udp").expect("the udp binary is built");
    c.env_remove("UDP_ADDR");
    c
}

fn expect_failure(args: &[&str], error: &str, hint: &str) -> assert_cmd::assert::Assert {
    course_testkit::cli::expect_failure(udp(), args, error, hint)
}

#[test]
fn every_dns_subcommand_has_help_with_an_example() {
    for sub in ["dns", "respond", "dns-bytes"] {
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
fn respond_and_dns_work_together_and_respond_stops_on_sigterm() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("udp"));
    command.args(["respond", "--addr", "127.0.0.1:0"]);
    let server = ServerProcess::start(command).expect("the responder starts");
    let addr = server.addr.to_string();
    udp()
        .args(["dns", "www.example.test", "--server", &addr])
        .assert()
        .success()
        .stdout(predicate::str::contains(";; status: NOERROR"))
        .stdout(predicate::str::contains(";; flags: qr aa rd;"))
        .stdout(predicate::str::contains("300 IN A     192.0.2.10"));
    udp()
        .args(["dns", "nowhere.example.test", "--type", "AAAA"])
        .env("UDP_ADDR", &addr)
        .assert()
        .success()
        .stdout(predicate::str::contains(";; status: NXDOMAIN"));
    let (status, stderr) = server.terminate().expect("the responder exits");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "stopped\n");
}

#[test]
fn dns_bytes_labels_a_query_and_its_response() {
    udp()
        .args(["dns-bytes", "www.example.test", "--type", "AAAA"])
        .assert()
        .success()
        .stdout(predicate::str::contains("query, 34 bytes:"))
        .stdout(predicate::str::contains("0000  12 34"))
        .stdout(predicate::str::contains(
            "pointer to 0x000c: www.example.test.",
        ))
        .stdout(predicate::str::contains("address 2001:db8::10"));
}

#[test]
fn a_lookup_with_no_server_fails_with_a_hint() {
    let closed = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("bound").to_string();
    drop(closed);
    expect_failure(
        &["dns", "www.example.test", "--server", &closed_addr],
        "the query was refused",
        "is the responder running? start it with: cargo run -p udp -- respond",
    );
    let silent = socket();
    let silent_addr = silent.local_addr().expect("bound").to_string();
    let args = ["dns", "www.example.test", "--server", &silent_addr];
    let args = [&args[..], &["--timeout", "0.2", "--tries", "2"]].concat();
    expect_failure(
        &args,
        "no reply from 127.0.0.1:",
        "nothing answered: is --server right?",
    )
    .stderr(predicate::str::contains("after 2 tries of 200ms each"));
}

#[test]
fn bad_names_and_tables_fail_with_a_hint() {
    let long = "a".repeat(64);
    expect_failure(
        &["dns", &format!("{long}.test"), "--server", "127.0.0.1:9"],
        "a label of 64 bytes is too long",
        "a name is labels of 1 to 63 bytes",
    );
    let missing = std::env::temp_dir().join("udp-dns-test-no-such-table.txt");
    expect_failure(
        &[
            "respond",
            "--addr",
            "127.0.0.1:0",
            "--table",
            &missing.to_string_lossy(),
        ],
        "could not read the table",
        "a table has lines of ADDRESS NAME..., like /etc/hosts;",
    );
    let bad = std::env::temp_dir().join(format!("udp-dns-test-{}.bad", std::process::id()));
    std::fs::write(&bad, "192.0.2.1 ok.test\n192.0.2.300 bad.test\n").expect("write");
    expect_failure(
        &[
            "respond",
            "--addr",
            "127.0.0.1:0",
            "--table",
            &bad.to_string_lossy(),
        ],
        "line 2: \"192.0.2.300\" is not an IP address",
        "a table has lines",
    );
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["dns", "x.test", "--timeout", "0"][..],
        &["dns", "x.test", "--timeout", "61"],
        &["dns", "x.test", "--timeout", "NaN"],
        &["dns", "x.test", "--tries", "0"],
        &["dns", "x.test", "--type", "MX"],
        &["dns"],
        &["respond", "--nonsense"],
    ] {
        udp()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}
