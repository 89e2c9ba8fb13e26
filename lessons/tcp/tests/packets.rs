//! Seeing what the kernel does, as the TCP chapter shows it: the segments of a connection on the
//! wire (`tcpdump -i lo`) and a listener's accept queue (`ss -ltn`).
//!
//! Each test runs the lesson's programs (and the seed's server) on a free port, watches them with
//! the real tool, and checks what the chapter says about the output. The chapter shows one such
//! run, kept in `captures/`; the test checks that the file still tells the same story (the same
//! segments in each direction, the same queue), since timestamps, ports, sequence numbers and
//! window sizes vary, and so does the order in which the two sides' segments interleave.
//! Regenerate the files from a real run with:
//! `UPDATE_TRANSCRIPTS=1 cargo test -p tcp --test packets`.
//!
//! tcpdump needs root (CI runs as root); elsewhere these tests skip with a note, or fail under CI.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use course_testkit::process::require;

/// How long any one wait may take: for a tool to start, for a segment to show up.
const WAIT: Duration = Duration::from_secs(10);

fn tcp_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tcp")
}

/// A child process whose stdout and stderr lines arrive on channels; killed when dropped.
struct Watched {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every line received so far, stdout and stderr apart.
    out_lines: Vec<String>,
    err_lines: Vec<String>,
}

impl Watched {
    fn start(mut command: Command) -> Watched {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        Watched {
            child,
            stdout,
            stderr,
            out_lines: Vec::new(),
            err_lines: Vec::new(),
        }
    }

    /// Collects lines until `done(stdout lines, stderr lines)` holds; panics after [`WAIT`].
    fn wait_until(&mut self, what: &str, done: impl Fn(&[String], &[String]) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Ok(line) = self.stderr.try_recv() {
                self.err_lines.push(line);
            }
            while let Ok(line) = self.stdout.try_recv() {
                self.out_lines.push(line);
            }
            if done(&self.out_lines, &self.err_lines) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {WAIT:?} for {what}; stdout so far:\n{}\nstderr so far:\n{}",
                self.out_lines.join("\n"),
                self.err_lines.join("\n")
            );
            // Block on stdout for a short while: new lines end the wait at once.
            if let Ok(line) = self
                .stdout
                .recv_timeout(left.min(Duration::from_millis(20)))
            {
                self.out_lines.push(line);
            }
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// True when this process may capture packets. Under CI not being root is a failure.
fn may_capture() -> bool {
    let euid = course_testkit::effective_uid();
    if euid == Some(0) {
        return true;
    }
    assert!(
        !course_testkit::under_ci(),
        "tcpdump needs root, and CI runs as root: this run is not (effective uid {euid:?})"
    );
    eprintln!("SKIPPED: capturing packets needs root (run the tests as root, or with sudo)");
    false
}

/// A server that prints `listening on ADDR` first: started, and its port read from that line.
fn start_server(command: Command) -> (Watched, u16) {
    let mut server = Watched::start(command);
    server.wait_until("`listening on ADDR`", |out, _| !out.is_empty());
    let port = server.out_lines[0]
        .strip_prefix("listening on ")
        .and_then(|a| a.trim().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .unwrap_or_else(|| panic!("not `listening on ADDR`: {:?}", server.out_lines[0]));
    (server, port)
}

/// `tcpdump -i lo -n -t -l 'tcp port PORT'`, once it says it is capturing. `-l` flushes each
/// line (a terminal needs no `-l`: tcpdump flushes lines for a terminal anyway).
fn start_tcpdump(tcpdump: &Path, port: u16) -> Watched {
    let mut command = Command::new(tcpdump);
    command.args(["-i", "lo", "-n", "-t", "-l", &format!("tcp port {port}")]);
    let mut capture = Watched::start(command);
    capture.wait_until("tcpdump's `listening on lo`", |_, err| {
        err.iter().any(|l| l.starts_with("listening on lo"))
    });
    capture
}

/// One segment as tcpdump prints it.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    from_server: bool,
    flags: String,
    /// The sequence numbers, as printed: `1:14` for data, `14` for a FIN.
    seq: Option<String>,
    ack: Option<u64>,
    length: u64,
}

fn parse_segment(line: &str, server_port: u16) -> Result<Segment, String> {
    let bad = || format!("not a TCP segment line: {line:?}");
    let port = |end: &str| -> Result<u16, String> {
        let (_, port) = end.rsplit_once('.').ok_or_else(bad)?;
        port.parse().map_err(|_| bad())
    };
    let rest = line.strip_prefix("IP ").ok_or_else(bad)?;
    let (from, rest) = rest.split_once(" > ").ok_or_else(bad)?;
    let (to, rest) = rest.split_once(": Flags [").ok_or_else(bad)?;
    let (flags, fields) = rest.split_once(']').ok_or_else(bad)?;
    let (from, to) = (port(from)?, port(to)?);
    if from != server_port && to != server_port {
        return Err(format!("neither port is {server_port}: {line:?}"));
    }
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name))
            .map(str::to_string)
    };
    Ok(Segment {
        from_server: from == server_port,
        flags: flags.to_string(),
        seq: field("seq "),
        ack: field("ack ").and_then(|a| a.parse().ok()),
        length: field("length ")
            .and_then(|l| l.parse().ok())
            .ok_or_else(bad)?,
    })
}

/// What the chapter says about a capture, in a form that does not vary between runs: the three
/// segments of the handshake; then, for each side, every segment that is more than an ACK (data,
/// FIN, RST) with its relative sequence numbers; and the last segment.
#[derive(Debug, PartialEq)]
struct Story {
    handshake: Vec<String>,
    client: Vec<String>,
    server: Vec<String>,
    last: String,
}

fn describe(s: &Segment) -> String {
    let side = if s.from_server { "server" } else { "client" };
    let mut text = format!("{side} [{}]", s.flags);
    if s.flags != "." {
        if let Some(seq) = s.seq.as_ref().filter(|_| !s.flags.contains('S')) {
            text.push_str(&format!(" seq {seq}"));
        }
    } else if let Some(ack) = s.ack {
        text.push_str(&format!(" ack {ack}"));
    }
    if s.length > 0 {
        text.push_str(&format!(" length {}", s.length));
    }
    text
}

fn story(segments: &[Segment]) -> Story {
    let more_than_ack = |from_server: bool| {
        segments
            .iter()
            .filter(|s| s.from_server == from_server && s.flags != ".")
            .map(describe)
            .collect()
    };
    Story {
        handshake: segments.iter().take(3).map(describe).collect(),
        client: more_than_ack(false),
        server: more_than_ack(true),
        last: segments.last().map(describe).unwrap_or_default(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A capture as the chapter shows it: the command, tcpdump's two lines on stderr, then the
/// segments, each wrapped before its options so that it fits the page.
fn capture_file(command: &str, header: &[String], segment_lines: &[String]) -> String {
    let mut text = format!("$ {command}\n");
    for line in header {
        text.push_str(line);
        text.push('\n');
    }
    for line in segment_lines {
        match line.split_once(" options [") {
            Some((head, options)) => text.push_str(&format!("{head}\n    options [{options}\n")),
            None => text.push_str(&format!("{line}\n")),
        }
    }
    text
}

/// Reads a capture file back: (command, header lines, segment lines unwrapped).
fn read_capture_file(text: &str) -> (String, Vec<String>, Vec<String>) {
    let mut lines = text.lines();
    let command = lines
        .next()
        .and_then(|l| l.strip_prefix("$ "))
        .unwrap_or_default()
        .to_string();
    let (mut header, mut segments) = (Vec::new(), Vec::<String>::new());
    for line in lines {
        if let Some(rest) = line.strip_prefix("    ") {
            if let Some(last) = segments.last_mut() {
                last.push(' ');
                last.push_str(rest);
            }
        } else if line.starts_with("IP ") {
            segments.push(line.to_string());
        } else {
            header.push(line.to_string());
        }
    }
    (command, header, segments)
}

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

fn updating() -> bool {
    std::env::var("UPDATE_TRANSCRIPTS").is_ok_and(|v| v == "1")
}

/// Writes `real` to `captures/NAME` when updating; otherwise checks that the file `check` accepts
/// the file's text as telling the same story. Either way, the file must be shown by a chapter and
/// fit the page.
fn keep_or_check(name: &str, real: &str, check: impl Fn(&str) -> Result<(), String>) {
    let path = captures_dir().join(name);
    let shown = format!("lessons/tcp/captures/{name}");
    for line in real.lines() {
        assert!(
            line.chars().count() <= 100,
            "a line of {shown} would not fit the page: {line:?}"
        );
    }
    if updating() {
        std::fs::create_dir_all(captures_dir()).expect("create captures/");
        std::fs::write(&path, real).unwrap_or_else(|e| panic!("cannot write {shown}: {e}"));
        eprintln!("updated {shown}");
    }
    let chapters = course_testkit::book_mentions(&shown);
    assert!(
        !chapters.is_empty(),
        "no chapter in book/src includes {shown}"
    );
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if let Err(why) = check(&text) {
        panic!(
            "{shown} (shown at {}) does not tell what a real run shows: {why}\n\
             a real run printed:\n{real}\n\
             If the program changed on purpose, regenerate with:\n  \
             UPDATE_TRANSCRIPTS=1 cargo test -p tcp --test packets\n",
            chapters.join(", ")
        );
    }
}

/// Checks a capture file against a real capture: the same command and tcpdump header, and
/// segments that tell `expected`'s story.
fn check_capture_file(
    text: &str,
    command: &str,
    header: &[String],
    port: u16,
    expected: &impl Fn(&Story) -> Result<(), String>,
) -> Result<(), String> {
    let (file_command, file_header, file_segments) = read_capture_file(text);
    if file_command != command {
        return Err(format!("its command is {file_command:?}, not {command:?}"));
    }
    if file_header != header {
        return Err(format!(
            "its tcpdump lines are {file_header:?}, not {header:?}"
        ));
    }
    let segments: Result<Vec<Segment>, String> = file_segments
        .iter()
        .map(|l| parse_segment(l, port))
        .collect();
    expected(&story(&segments?))
}

/// Captures what `exchange` does to port `port` until `done` says the story is complete, and
/// returns tcpdump's header lines and the segment lines with `port` written as `shown_port`.
fn capture(
    tcpdump: &Path,
    port: u16,
    shown_port: u16,
    exchange: impl FnOnce(),
    done: impl Fn(&[Segment]) -> bool,
) -> (Vec<String>, Vec<String>, Vec<Segment>) {
    let mut capturing = start_tcpdump(tcpdump, port);
    exchange();
    let parse_all = |lines: &[String]| -> Vec<Segment> {
        lines
            .iter()
            .map(|l| parse_segment(l, port).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    };
    capturing.wait_until("the last segment of the exchange", |out, _| {
        done(&parse_all(out))
    });
    let segments = parse_all(&capturing.out_lines);
    let shown_lines = capturing
        .out_lines
        .iter()
        .map(|l| {
            l.replace(
                &format!("127.0.0.1.{port}:"),
                &format!("127.0.0.1.{shown_port}:"),
            )
            .replace(
                &format!("127.0.0.1.{port} "),
                &format!("127.0.0.1.{shown_port} "),
            )
        })
        .collect();
    (capturing.err_lines.clone(), shown_lines, segments)
}

fn compare(what: &str, got: &[String], expected: &[&str]) -> Result<(), String> {
    if got == strings(expected).as_slice() {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {got:?}"))
    }
}

/// The chapter's first capture: the lesson's client says `Hello, world!` to its server.
fn hello_story(s: &Story) -> Result<(), String> {
    compare(
        "the handshake",
        &s.handshake,
        &["client [S]", "server [S.]", "client [.] ack 1"],
    )?;
    compare(
        "the client's segments",
        &s.client,
        &[
            "client [S]",
            "client [P.] seq 1:14 length 13",
            "client [F.] seq 14",
        ],
    )?;
    compare(
        "the server's segments",
        &s.server,
        &[
            "server [S.]",
            "server [P.] seq 1:14 length 13",
            "server [F.] seq 14",
        ],
    )?;
    compare(
        "the last segment",
        std::slice::from_ref(&s.last),
        &["client [.] ack 15"],
    )
}

#[test]
fn a_connection_opens_carries_data_and_closes_with_a_fin_from_each_side() {
    let Some(tcpdump) = require("tcpdump", "apt-get install tcpdump") else {
        return;
    };
    if !may_capture() {
        return;
    }
    let mut server = Command::new(tcp_bin());
    server.args(["server", "--addr", "127.0.0.1:0"]);
    let (_server, port) = start_server(server);
    let addr = format!("127.0.0.1:{port}");
    let (header, lines, segments) = capture(
        &tcpdump,
        port,
        7878,
        || {
            let out = Command::new(tcp_bin())
                .args(["client", "--addr", &addr])
                .output()
                .expect("the client runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, world!\n");
        },
        |segments| segments.len() >= 3 && hello_story(&story(segments)).is_ok(),
    );
    let real_story = story(&segments);
    hello_story(&real_story).unwrap_or_else(|e| panic!("{e}\n{real_story:#?}"));

    let command = "sudo tcpdump -i lo -n -t 'tcp port 7878'";
    let real = capture_file(command, &header, &lines);
    keep_or_check("handshake.txt", &real, |text| {
        check_capture_file(text, command, &header, 7878, &hello_story)
    });
}

/// More than the 1024 bytes the seed's server reads with its one `recv`.
const TOO_MUCH: usize = 2000;

/// The chapter's second capture: the seed's server closes with bytes unread.
fn reset_story(s: &Story) -> Result<(), String> {
    compare(
        "the handshake",
        &s.handshake,
        &["client [S]", "server [S.]", "client [.] ack 1"],
    )?;
    let request = format!("client [P.] seq 1:{} length {TOO_MUCH}", TOO_MUCH + 1);
    let fin = format!("client [F.] seq {}", TOO_MUCH + 1);
    // The client's FIN follows its request at once, and goes out before the server's reset
    // every time we looked; if the reset came first, there would be no FIN to send.
    let client: Vec<&str> = s.client.iter().map(String::as_str).collect();
    if client != ["client [S]", &request, &fin] && client != ["client [S]", &request] {
        return Err(format!(
            "the client's segments: expected [S], {request:?} and perhaps {fin:?}, got {client:?}"
        ));
    }
    let server: Vec<&str> = s.server.iter().map(String::as_str).collect();
    match server.as_slice() {
        ["server [S.]", "server [P.] seq 1:14 length 13", rest @ ..]
            if !rest.is_empty() && rest.iter().all(|r| r.starts_with("server [R")) => {}
        _ => {
            return Err(format!(
                "the server's segments: expected [S.], 13 bytes and a reset, got {server:?}"
            ));
        }
    }
    // A side sends nothing after its reset, so a pure ACK of the server's that tcpdump prints
    // after the reset was sent before it: a loopback capture can swap two segments (their TS
    // values show the true order). The server's last segment that is more than an ACK is the
    // reset (checked above).
    let swapped_ack = s.last.starts_with("server [.]");
    if s.last.starts_with("server [R") || swapped_ack {
        Ok(())
    } else {
        Err(format!(
            "the last segment is {:?}, not the server's reset",
            s.last
        ))
    }
}

#[test]
fn the_seed_server_resets_a_connection_it_closes_with_bytes_unread() {
    let (Some(tcpdump), Some(python)) = (
        require("tcpdump", "apt-get install tcpdump"),
        require("python3", "apt-get install python3"),
    ) else {
        return;
    };
    if !may_capture() {
        return;
    }
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed");
    let mut server = Command::new(python);
    server
        .arg(seed.join("on_port.py"))
        .arg("0")
        .arg(seed.join("server.py"));
    let (_server, port) = start_server(server);
    let addr = format!("127.0.0.1:{port}");
    let (header, lines, segments) = capture(
        &tcpdump,
        port,
        8080,
        || {
            let out = Command::new(tcp_bin())
                .args(["client", "--addr", &addr, &"x".repeat(TOO_MUCH)])
                .output()
                .expect("the client runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && stderr.contains("reset"),
                "the client should report a reset; it printed:\n{stderr}"
            );
        },
        |segments| reset_story(&story(segments)).is_ok(),
    );
    let real_story = story(&segments);
    reset_story(&real_story).unwrap_or_else(|e| panic!("{e}\n{real_story:#?}"));

    let command = "sudo tcpdump -i lo -n -t 'tcp port 8080'";
    let real = capture_file(command, &header, &lines);
    keep_or_check("reset.txt", &real, |text| {
        check_capture_file(text, command, &header, 8080, &reset_story)
    });
}

/// `ss -ltn 'sport = :PORT'`: the header and the listener's row, as the chapter shows them.
fn ss_listener(ss: &Path, port: u16) -> Vec<String> {
    let out = Command::new(ss)
        .args(["-ltn", &format!("sport = :{port}")])
        .output()
        .expect("ss runs");
    assert!(out.status.success(), "ss failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// The listener's (Recv-Q, Send-Q), from `ss` output.
fn queues(lines: &[String]) -> Option<(u32, u32)> {
    let row: Vec<&str> = lines.get(1)?.split_whitespace().collect();
    match row.as_slice() {
        ["LISTEN", recv_q, send_q, ..] => Some((recv_q.parse().ok()?, send_q.parse().ok()?)),
        _ => None,
    }
}

/// Runs `tcp backlog` and waits until `ss` shows `recv_q` connections in its queue; returns
/// the server, its port and what `ss` printed.
fn queue_up(ss: &Path, args: &[&str], recv_q: u32) -> (Watched, u16, Vec<String>) {
    let mut command = Command::new(tcp_bin());
    command
        .args(["backlog", "--addr", "127.0.0.1:0"])
        .args(args);
    let (mut server, port) = start_server(command);
    server.wait_until("`press Ctrl-C to stop` on stderr", |_, err| {
        err.iter().any(|l| l == "press Ctrl-C to stop")
    });
    // Each client's connect has returned, but the listener's kernel may still be handling the
    // last ACK of a handshake: look again until the queue is as long as it will get.
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = ss_listener(ss, port);
        let queued = queues(&shown);
        if queued.is_some_and(|(r, _)| r == recv_q) {
            return (server, port, shown);
        }
        assert!(
            Instant::now() < deadline,
            "after {WAIT:?}, ss shows {queued:?} (Recv-Q, Send-Q), not Recv-Q {recv_q}:\n{}",
            shown.join("\n")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ss_shows_a_listeners_accept_queue_and_backlog() {
    let Some(ss) = require("ss", "apt-get install iproute2") else {
        return;
    };
    let (server, port, shown) = queue_up(&ss, &[], 3);
    assert_eq!(queues(&shown), Some((3, 4)), "{}", shown.join("\n"));
    assert!(
        server
            .err_lines
            .iter()
            .filter(|l| l.ends_with(": connected"))
            .count()
            == 3,
        "{:?}",
        server.err_lines
    );
    drop(server);

    // The chapter shows the listener on 7878: write it so, and pad the column back.
    let real_port = format!(":{port}");
    let padding = " ".repeat(real_port.len().saturating_sub(":7878".len()));
    let mut real = String::from("$ ss -ltn 'sport = :7878'\n");
    for line in &shown {
        let line = line.replace(&real_port, &format!(":7878{padding}"));
        real.push_str(line.trim_end());
        real.push('\n');
    }
    keep_or_check("backlog.txt", &real, |text| {
        let words = |t: &str| -> Vec<Vec<String>> {
            t.lines()
                .map(|l| l.split_whitespace().map(str::to_string).collect())
                .collect()
        };
        if words(text) == words(&real) {
            Ok(())
        } else {
            Err("its words differ from the real run's".to_string())
        }
    });
}

#[test]
fn the_accept_queue_holds_one_more_than_the_backlog_then_connects_time_out() {
    let Some(ss) = require("ss", "apt-get install iproute2") else {
        return;
    };
    let (server, _port, shown) = queue_up(&ss, &["--backlog", "4", "--clients", "6"], 5);
    assert_eq!(queues(&shown), Some((5, 4)), "{}", shown.join("\n"));
    let said: Vec<&str> = server.err_lines.iter().map(String::as_str).collect();
    assert!(
        said.iter().filter(|l| l.ends_with(": connected")).count() == 5
            && said
                .iter()
                .any(|l| l.starts_with("client 6: connection timed out")),
        "{said:?}"
    );
}
