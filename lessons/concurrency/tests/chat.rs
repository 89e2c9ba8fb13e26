//! The chat room over loopback: an in-process room on `127.0.0.1:0` and std clients with read
//! timeouts, so a room that hangs fails a test in seconds. Then the `chat` subcommand as a
//! process.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command as Process;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use concurrency::Shutdown;
use concurrency::chat::{self, ChatConfig};
use course_testkit::process::{ServerProcess, require};
use predicates::prelude::*;

const STEP: Duration = course_testkit::net::STEP_TIMEOUT;

/// A room running on a thread of the test, stopped when dropped.
struct Room {
    addr: SocketAddr,
    shutdown: Shutdown,
    done: mpsc::Receiver<std::io::Result<()>>,
}

fn start(config: ChatConfig) -> Room {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    let (report, done) = mpsc::channel();
    let handle = shutdown.clone();
    thread::spawn(move || {
        let _ = report.send(chat::run(listener, handle, config));
    });
    Room {
        addr,
        shutdown,
        done,
    }
}

impl Room {
    /// Triggers the shutdown and returns how long `run` took to return.
    fn stop(&self) -> Duration {
        let asked = Instant::now();
        self.shutdown.trigger();
        let result = self
            .done
            .recv_timeout(Duration::from_secs(10))
            .expect("the room returns after shutdown");
        result.expect("the room ran without error");
        asked.elapsed()
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// A client: lines in with a read timeout, lines out.
struct Client {
    name: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn on(stream: TcpStream, name: &str) -> Client {
        stream.set_read_timeout(Some(STEP)).expect("read timeout");
        stream.set_write_timeout(Some(STEP)).expect("write timeout");
        let writer = stream.try_clone().expect("clone");
        Client {
            name: name.into(),
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Connects without reading anything.
    fn connect(addr: SocketAddr, name: &str) -> Client {
        let stream = TcpStream::connect_timeout(&addr, STEP).expect("connect to the room");
        Client::on(stream, name)
    }

    /// Connects and reads the two welcome lines; returns the client and the first.
    fn join(addr: SocketAddr, name: &str) -> (Client, String) {
        let mut client = Client::connect(addr, name);
        let welcome = client.line();
        assert_eq!(client.line(), "/name NEW renames you, /quit leaves");
        (client, welcome)
    }

    /// The next line, without its `\n`; fails the test on a timeout or the end.
    fn line(&mut self) -> String {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => panic!("{}: the connection ended, a line was expected", self.name),
            Ok(_) => line.strip_suffix('\n').unwrap_or(&line).to_owned(),
            Err(e) => panic!("{}: no line within {STEP:?}: {e}", self.name),
        }
    }

    fn expect(&mut self, want: &str) {
        let got = self.line();
        assert_eq!(got, want, "{}: unexpected line", self.name);
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send to the room");
    }

    fn say(&mut self, text: &str) {
        self.send(format!("{text}\n").as_bytes());
    }

    /// Reads until the end of the stream (a reset counts too); returns the lines before it.
    fn until_end(&mut self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut lines = Vec::new();
        loop {
            assert!(
                Instant::now() < deadline,
                "{}: still connected after {within:?}; read {} lines, last {:?}",
                self.name,
                lines.len(),
                lines.last()
            );
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return lines,
                Ok(_) => lines.push(line.trim_end_matches('\n').to_owned()),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return lines,
                Err(e) => panic!("{}: no end within {STEP:?}: {e}", self.name),
            }
        }
    }
}

#[test]
fn clients_are_welcomed_and_hear_who_joins_and_leaves() {
    let room = start(ChatConfig::default());
    let (mut a, welcome) = Client::join(room.addr, "a");
    assert_eq!(welcome, "welcome, you are guest-1 (0 others here)");
    let (mut b, welcome) = Client::join(room.addr, "b");
    assert_eq!(welcome, "welcome, you are guest-2 (1 other here)");
    a.expect("* guest-2 joined");
    let (mut c, welcome) = Client::join(room.addr, "c");
    assert_eq!(welcome, "welcome, you are guest-3 (2 others here)");
    a.expect("* guest-3 joined");
    b.expect("* guest-3 joined");

    b.say("/quit");
    b.expect("bye");
    assert_eq!(b.until_end(STEP), Vec::<String>::new());
    a.expect("* guest-2 left");
    c.expect("* guest-2 left");

    drop(c); // leaving without a word: closing is enough
    a.expect("* guest-3 left");
}

#[test]
fn a_line_reaches_every_other_client_and_not_its_sender() {
    let room = start(ChatConfig::default());
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    let (mut c, _) = Client::join(room.addr, "c");
    a.expect("* guest-2 joined");
    a.expect("* guest-3 joined");
    b.expect("* guest-3 joined");

    a.say("hello, room");
    b.expect("guest-1: hello, room");
    c.expect("guest-1: hello, room");
    // The room sends in one order to all: had a got its own line, it would come first.
    b.say("marker");
    a.expect("guest-2: marker");
    c.expect("guest-2: marker");

    // Several lines in one write, a line in pieces, CRLF line ends, empty lines.
    a.send(b"one\r\ntwo\n\n");
    a.send(b"thr");
    a.send(b"ee\n");
    for line in ["guest-1: one", "guest-1: two", "guest-1: three"] {
        b.expect(line);
        c.expect(line);
    }
}

#[test]
fn bad_bytes_and_terminal_escapes_are_replaced() {
    let room = start(ChatConfig::default());
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    a.expect("* guest-2 joined");
    b.send(b"caf\xe9 \x1b[2J\n");
    a.expect("guest-2: caf\u{fffd} \u{fffd}[2J");
}

#[test]
fn name_renames_and_refuses_bad_or_taken_names() {
    let room = start(ChatConfig::default());
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    a.expect("* guest-2 joined");

    a.say("/name alice");
    a.expect("you are now alice");
    b.expect("* guest-1 is now alice");
    a.say("hi");
    b.expect("alice: hi");

    b.say("/name alice");
    b.expect("alice: that name is taken");
    b.say("/name two words");
    b.expect("bad name: use 1 to 20 letters, digits, _ or -");
    b.say("/name");
    b.expect("bad name: use 1 to 20 letters, digits, _ or -");
    b.say(&format!("/name {}", "x".repeat(21)));
    b.expect("bad name: use 1 to 20 letters, digits, _ or -");
    b.say("/name guest-7");
    b.expect("guest-7: names guest-... are given by the room");
    b.say("/nick bob");
    b.expect("unknown command /nick: try /name NEW or /quit");
    b.say("/name bob-2");
    b.expect("you are now bob-2");
    a.expect("* guest-2 is now bob-2");
    b.say("/quit");
    b.expect("bye");
    a.expect("* bob-2 left");
}

#[test]
fn a_line_too_long_disconnects_its_sender_and_the_others_go_on() {
    let room = start(ChatConfig::default());
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    let (mut c, _) = Client::join(room.addr, "c");
    a.expect("* guest-2 joined");
    a.expect("* guest-3 joined");
    b.expect("* guest-3 joined");

    // 1024 bytes is the limit, and allowed.
    let longest = "x".repeat(1024);
    b.say(&longest);
    a.expect(&format!("guest-2: {longest}"));
    c.expect(&format!("guest-2: {longest}"));
    b.say(&"y".repeat(1025));
    assert_eq!(b.until_end(STEP), ["line too long (max 1024 bytes)"]);
    a.expect("* guest-2 left");
    c.expect("* guest-2 left");

    // The room does not wait for the end of a line to refuse it.
    let (mut d, _) = Client::join(room.addr, "d");
    a.expect("* guest-4 joined");
    c.expect("* guest-4 joined");
    d.send(&[b'z'; 5000]);
    assert_eq!(d.until_end(STEP), ["line too long (max 1024 bytes)"]);
    a.expect("* guest-4 left");
    c.expect("* guest-4 left");

    c.say("still here");
    a.expect("guest-3: still here");
}

#[test]
fn a_client_that_floods_is_slowed_down_and_nobody_falls_behind() {
    let room = start(ChatConfig::default()); // 10 lines a second, a burst of 10
    let (mut b, _) = Client::join(room.addr, "b");
    let (mut c, _) = Client::join(room.addr, "c");
    let (mut a, _) = Client::join(room.addr, "a");
    b.expect("* guest-2 joined");
    b.expect("* guest-3 joined");
    c.expect("* guest-3 joined");
    // 5,000 lines in one go, from a thread: the room stops reading them, so the write may
    // wait until its timeout.
    let mut flood = a.writer.try_clone().expect("clone");
    let flooder = thread::spawn(move || {
        let lines: String = (0..5000)
            .map(|i| format!("{i:06} {}\n", "x".repeat(100)))
            .collect();
        let _ = flood.write_all(lines.as_bytes());
    });
    let want = |i: usize| format!("guest-3: {i:06} {}", "x".repeat(100));
    for i in 0..12 {
        b.expect(&want(i)); // the burst, then one line every 100 ms
    }
    // The others still talk, and hear each other between the flood's lines.
    c.say("can anyone hear me?");
    let mut next = 12;
    loop {
        let line = b.line();
        if line == "guest-2: can anyone hear me?" {
            break;
        }
        assert_eq!(line, want(next), "b");
        next += 1;
        assert!(
            next < 40,
            "b: c's line is not among the next 28 flood lines"
        );
    }
    a.expect("guest-2: can anyone hear me?"); // the flooder's own task still serves it
    let _ = a.writer.shutdown(std::net::Shutdown::Both); // ends the flood's write
    let _ = flooder.join();
}

#[test]
fn a_full_room_turns_the_next_client_away() {
    let room = start(ChatConfig {
        max_clients: 2,
        ..ChatConfig::default()
    });
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    a.expect("* guest-2 joined");
    let mut turned_away = Client::connect(room.addr, "third");
    assert_eq!(turned_away.until_end(STEP), ["room full, try again later"]);
    // Once someone leaves, there is room again.
    b.say("/quit");
    b.expect("bye");
    a.expect("* guest-2 left");
    let (_d, welcome) = Client::join(room.addr, "d");
    assert_eq!(welcome, "welcome, you are guest-4 (1 other here)");
    a.expect("* guest-4 joined");
}

#[test]
fn shutdown_says_goodbye_and_returns_within_two_seconds() {
    let room = start(ChatConfig::default());
    let (mut a, _) = Client::join(room.addr, "a");
    let (mut b, _) = Client::join(room.addr, "b");
    a.expect("* guest-2 joined");
    b.send(b"half a line, never ended"); // a client in the middle of a line
    let took = room.stop();
    assert!(took < Duration::from_secs(2), "run returned after {took:?}");
    // Goodbye, and nothing else: leaving at shutdown is not announced.
    for client in [&mut a, &mut b] {
        let lines = client.until_end(STEP);
        assert_eq!(lines, ["* the room is closing, goodbye"], "{}", client.name);
    }
}

/// The most a socket can hold for a client that does not read: the kernel's largest send
/// buffer (Linux grows it up to tcp_wmem's maximum, 4 MiB by default) and a little more.
fn socket_capacity() -> usize {
    let max_send_buffer = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20);
    max_send_buffer + (1 << 20)
}

/// A client whose kernel receive buffer is small (the default lets it take megabytes).
fn small_buffered(addr: SocketAddr, name: &str) -> Client {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF"); // before connect: the window
    socket.connect_timeout(&addr.into(), STEP).expect("connect");
    Client::on(socket.into(), name)
}

/// The heavy chat's lines: long, so that megabytes take fewer messages.
const LINE: usize = 4000;

/// The room for a heavy chat: lines of up to [`LINE`] bytes, and the write timeout given.
fn heavy_room(write_timeout: Duration) -> Room {
    start(ChatConfig {
        max_line: LINE,
        write_timeout,
        lines_per_second: 1_000_000, // bursts of 16 (a quarter of the backlog)
        ..ChatConfig::default()
    })
}

/// Line `i` of the heavy chat: its number, then filler, [`LINE`] bytes in all.
fn text(i: usize) -> String {
    format!("{i:06} {}", "x".repeat(LINE - 7))
}

/// The clients of a heavy chat, still connected, and what the chat saw.
struct Chatted {
    _a: Client,
    b: Client,
    _c: Client,
    /// The room's notices that `b` read between the lines.
    notices: Vec<String>,
    /// The lines sent.
    sent: usize,
}

/// A chatty sender `a`, a fast reader `b` that paces it, and a fast reader `c` on its own
/// thread. `a` sends numbered lines in bursts of 16, each read by `b` before the next, until
/// `enough(bytes sent, notices)`. Checks that `b` and `c` got every line, in order.
fn chat_heavily(room: &Room, mut enough: impl FnMut(usize, &[String]) -> bool) -> Chatted {
    let (mut b, _) = Client::join(room.addr, "b");
    let (mut c, _) = Client::join(room.addr, "c");
    let (mut a, _) = Client::join(room.addr, "a");
    b.expect("* guest-3 joined");
    b.expect("* guest-4 joined");
    c.expect("* guest-4 joined");

    let c_reader = thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            let line = c.line();
            if line == "guest-4: end" {
                return (c, got);
            }
            if let Some(text) = line.strip_prefix("guest-4: ") {
                got.push(text.to_owned());
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut notices = Vec::new();
    let mut sent = 0;
    while !enough(sent * (LINE + 10), &notices) {
        assert!(Instant::now() < deadline, "{sent} lines took over 60 s");
        let burst: String = (sent..sent + 16).map(|i| text(i) + "\n").collect();
        a.send(burst.as_bytes());
        for i in sent..sent + 16 {
            let line = loop {
                let line = b.line();
                if line.starts_with("* ") {
                    notices.push(line); // someone left, between two lines
                } else {
                    break line;
                }
            };
            assert!(
                line == format!("guest-4: {}", text(i)),
                "b: line {i}: {line:.20}..."
            );
        }
        sent += 16;
    }
    a.say("end");
    b.expect("guest-4: end");
    let (c, got) = c_reader.join().expect("c read every line");
    assert_eq!(got.len(), sent, "c got {} of {sent} lines", got.len());
    for (i, line) in got.iter().enumerate() {
        assert!(*line == text(i), "c: line {i} is {line:.20}...");
    }
    Chatted {
        _a: a,
        b,
        _c: c,
        notices,
        sent,
    }
}

/// The chat lines a slow client got: the first ones, in order, and not all. The last may
/// be cut short: a write that timed out had written part of it.
fn check_prefix(lines: &[String], sent: usize) {
    let chat: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("guest-4: "))
        .collect();
    assert!(chat.len() < sent, "the slow client got all {sent} lines");
    for (i, line) in chat.iter().enumerate() {
        let want = format!("guest-4: {}", text(i));
        let whole = **line == want || (i + 1 == chat.len() && want.starts_with(line.as_str()));
        assert!(whole, "slow: line {i} is {line:.20}...");
    }
}

#[test]
fn a_client_that_never_reads_is_disconnected_and_the_others_get_every_line() {
    let room = heavy_room(Duration::from_secs(1));
    let mut slow = small_buffered(room.addr, "slow"); // guest-1, and it never reads
    let capacity = socket_capacity();
    let left = "* guest-1 left".to_owned();
    let chatted = chat_heavily(&room, |bytes, notices| {
        bytes > capacity && notices.contains(&left)
    });
    assert_eq!(chatted.notices, [left]);
    // What it got: everything up to where its socket filled, in order, then the end.
    let lines = slow.until_end(Duration::from_secs(30));
    check_prefix(&lines, chatted.sent);
}

#[test]
fn a_client_that_falls_behind_is_told_and_disconnected() {
    let room = heavy_room(Duration::from_secs(30)); // it reads again long before this
    let mut slow = small_buffered(room.addr, "slow"); // guest-1, reading only later
    let capacity = socket_capacity();
    let mut chatted = chat_heavily(&room, |bytes, _| bytes > capacity + (1 << 20));
    // Its socket is full and a megabyte more is queued for it, far over the backlog of 64
    // lines: the room dropped lines it had not read. Now it reads.
    let lines = slow.until_end(Duration::from_secs(30));
    let last = lines.last().expect("some lines");
    let missed: u64 = last
        .strip_prefix("you fell ")
        .and_then(|rest| rest.strip_suffix(" messages behind, goodbye"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("slow: last line {last:?}"));
    assert!(missed > 0);
    check_prefix(&lines, chatted.sent);
    if chatted.notices.is_empty() {
        chatted.b.expect("* guest-1 left");
    } else {
        assert_eq!(chatted.notices, ["* guest-1 left"]);
    }
}

#[test]
fn shutdown_does_not_wait_for_a_client_that_does_not_read() {
    let room = heavy_room(Duration::from_secs(30));
    let _slow = small_buffered(room.addr, "slow"); // its task waits in a write, for 30 s
    let capacity = socket_capacity();
    let mut chatted = chat_heavily(&room, |bytes, _| bytes > capacity);
    let took = room.stop();
    assert!(took < Duration::from_secs(2), "run returned after {took:?}");
    let lines = chatted.b.until_end(STEP);
    assert_eq!(lines, ["* the room is closing, goodbye"]);
}

fn concurrency() -> Command {
    let mut command = Command::cargo_bin("concurrency").expect("the concurrency binary is built");
    command
        .env_remove("CONCURRENCY_ADDR")
        .timeout(Duration::from_secs(20));
    command
}

#[test]
fn the_chat_subcommand_relays_lines_and_stops_on_ctrl_c() {
    if require("kill", "apt-get install procps").is_none() {
        return;
    }
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("concurrency"));
    command
        .env("CONCURRENCY_ADDR", "127.0.0.1:0")
        .args(["chat", "--max-clients", "5"]);
    let server = ServerProcess::start(command).expect("the chat room starts");
    let (mut a, welcome) = Client::join(server.addr, "a");
    assert_eq!(welcome, "welcome, you are guest-1 (0 others here)");
    let (mut b, _) = Client::join(server.addr, "b");
    a.expect("* guest-2 joined");
    b.say("hello from b");
    a.expect("guest-2: hello from b");

    let (status, stderr) = server.interrupt().expect("the room stops");
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    assert!(stderr.ends_with("stopped\n"), "stderr: {stderr}");
    let lines = a.until_end(STEP);
    assert_eq!(
        lines,
        ["* the room is closing, goodbye"],
        "stderr: {stderr}"
    );
}

#[test]
fn the_chat_subcommand_has_help_and_explains_a_busy_port() {
    concurrency()
        .args(["chat", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Example: cargo run -p concurrency -- chat",
        ));
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    course_testkit::cli::expect_failure(
        concurrency(),
        &["chat", "--addr", &addr],
        &format!("could not listen on {addr}"),
        "another program listens there",
    );
    concurrency()
        .args(["chat", "--backlog", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--backlog"));
}
