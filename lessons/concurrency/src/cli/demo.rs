//! `demo slow-client`: a server, a slow client and a fast one in one process, to see what a
//! slow client does to a fast one under each model.
//!
//! The slow client sends half a request head and goes silent for `--wait-ms`; meanwhile a
//! fast client sends a whole `GET /` and times its answer. The iterative model answers it
//! only once the slow client has finished; every other model answers at once. The output
//! differs between models only in its wording and its durations.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use concurrency::chat::{self, ChatConfig};
use concurrency::{Config, Model, Shutdown};

use super::serve::ModelName;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    demo: Demo,
}

#[derive(clap::Subcommand)]
enum Demo {
    /// A slow client goes silent: is a fast one answered meanwhile?
    ///
    /// The slow client sends half a request head and stays silent for --wait-ms; a fast
    /// client sends GET / meanwhile and times its answer.
    #[command(after_help = "Example: cargo run -p concurrency -- demo slow-client --model threads")]
    SlowClient(SlowClient),
    /// Three clients in the chat room: what each one says, and what each one hears.
    #[command(after_help = "Example: cargo run -p concurrency -- demo chat")]
    Chat,
}

#[derive(clap::Args)]
struct SlowClient {
    /// The server model.
    #[arg(long, value_enum, default_value_t = ModelName::Iterative)]
    model: ModelName,
    /// How long the slow client stays silent, in milliseconds.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    wait_ms: u64,
}

pub fn run(args: Args) -> Result<()> {
    match args.demo {
        Demo::SlowClient(demo) => slow_client(demo.model.into(), demo.wait_ms),
        Demo::Chat => chat(),
    }
}

// ANCHOR: slow_client
/// Runs `model` on a free port, the two clients against it, and stops it.
fn slow_client(model: Model, wait_ms: u64) -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").context("could not listen on 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let wait = Duration::from_millis(wait_ms);
    // This demo is about waiting, so the slow client is not cut off by a 408.
    let config = Config {
        header_timeout: wait + Duration::from_secs(5),
        ..Config::default()
    };
    let shutdown = Shutdown::new();
    let handle = shutdown.clone();
    let server = thread::Builder::new()
        .name("server".into())
        .spawn(move || concurrency::serve(model, listener, handle, config))?;

    let clients = two_clients(addr, wait);
    shutdown.trigger();
    let served = server.join().map_err(|_| anyhow!("the server panicked"))?;
    // If the server failed, that is the story, not what the clients saw.
    served.with_context(|| format!("the {} server failed", model.name()))?;
    let (took, meanwhile) = clients?;

    println!("slow client: sent half a request, then nothing for {wait_ms} ms");
    if meanwhile {
        println!(
            "fast client: answered in {}, while the slow client waited",
            human(took)
        );
    } else {
        println!(
            "fast client: answered in {}, after the slow client's wait",
            human(took)
        );
    }
    Ok(())
}
// ANCHOR_END: slow_client

// ANCHOR: two_clients
/// The slow client sends half a request head, then waits; the fast client sends a whole
/// request meanwhile. Returns how long the fast client waited for its answer, and whether
/// the answer came while the slow client was still silent.
fn two_clients(addr: SocketAddr, wait: Duration) -> Result<(Duration, bool)> {
    let limit = wait + Duration::from_secs(10);
    let mut slow = connect(addr, limit).context("the slow client could not connect")?;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: demo\r\n")
        .context("the slow client could not send")?;

    let (answered, fast) = mpsc::channel();
    thread::spawn(move || {
        let started = Instant::now();
        let asked = connect(addr, limit).and_then(|mut fast| {
            ask(
                &mut fast,
                b"GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n",
            )
        });
        let _ = answered.send(asked.map(|()| started.elapsed()));
    });

    let silent_until = Instant::now() + wait;
    let early = fast.recv_timeout(wait).ok();
    // Not a synchronisation: the slow client's silence lasts `wait`, answered or not.
    thread::sleep(silent_until.saturating_duration_since(Instant::now()));
    ask(&mut slow, b"Connection: close\r\n\r\n").context("the slow client got no answer")?;
    drop(slow); // closed at once: the server need not wait for it to go
    let meanwhile = early.is_some();
    let took = match early {
        Some(took) => took,
        None => fast
            .recv_timeout(limit)
            .map_err(|_| anyhow!("the fast client got no answer within {limit:?}"))?,
    };
    let took = took.context("the fast client got no answer")?;
    Ok((took, meanwhile))
}
// ANCHOR_END: two_clients

fn connect(addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, limit)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    Ok(stream)
}

/// Sends `bytes` (the request, or its end) and reads the answer to the end of the stream
/// (the request says `Connection: close`); it must be `200`.
fn ask(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    if !answer.starts_with(b"HTTP/1.1 200 ") {
        let got = String::from_utf8_lossy(&answer);
        let first = got.lines().next().unwrap_or("nothing");
        return Err(io::Error::other(format!("expected 200, got {first:?}")));
    }
    Ok(())
}

/// A duration a reader takes in at a glance: `0.41 ms`, `12 ms`, `1.00 s`.
fn human(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

// ANCHOR: chat
/// Runs the chat room on a free port, and three clients in turn: each line a client sends,
/// and each line a client hears, is printed as it happens.
fn chat() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").context("could not listen on 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let shutdown = Shutdown::new();
    let handle = shutdown.clone();
    let room = thread::Builder::new()
        .name("room".into())
        .spawn(move || chat::run(listener, handle, ChatConfig::default()))?;
    let talked = conversation(addr);
    shutdown.trigger();
    let ran = room.join().map_err(|_| anyhow!("the chat room panicked"))?;
    ran.context("the chat room failed")?;
    talked
}

/// The conversation: each client reads what it must hear before the next one speaks, so the
/// order of the lines is always the same.
fn conversation(addr: SocketAddr) -> Result<()> {
    let mut a = Member::join(addr, "A")?;
    a.hear(2)?; // the welcome, and the commands
    let mut b = Member::join(addr, "B")?;
    b.hear(2)?;
    a.hear(1)?; // B joined
    let mut c = Member::join(addr, "C")?;
    c.hear(2)?;
    a.hear(1)?;
    b.hear(1)?;
    a.say("/name ada")?;
    a.hear(1)?;
    b.hear(1)?;
    c.hear(1)?;
    a.say("hello, room")?;
    b.hear(1)?;
    c.hear(1)?;
    b.say("/quit")?;
    b.hear(1)?;
    a.hear(1)?;
    c.hear(1)?;
    Ok(())
}

/// One client of the demo: its socket, and the letter the demo prints it under (the room
/// names it `guest-N` until it says `/name`).
struct Member {
    name: &'static str,
    lines: BufReader<TcpStream>,
}

impl Member {
    fn join(addr: SocketAddr, name: &'static str) -> Result<Member> {
        let stream = connect(addr, Duration::from_secs(5))
            .with_context(|| format!("{name} could not connect to the room"))?;
        Ok(Member {
            name,
            lines: BufReader::new(stream),
        })
    }

    fn say(&mut self, line: &str) -> Result<()> {
        println!("{} says:  {line}", self.name);
        let stream = self.lines.get_mut();
        stream
            .write_all(format!("{line}\n").as_bytes())
            .with_context(|| format!("{} could not send", self.name))
    }

    /// Reads and prints `count` lines from the room.
    fn hear(&mut self, count: usize) -> Result<()> {
        for _ in 0..count {
            let mut line = String::new();
            let read = self.lines.read_line(&mut line);
            let n = read.with_context(|| format!("{} heard nothing", self.name))?;
            if n == 0 {
                return Err(anyhow!("{}: the room closed the connection", self.name));
            }
            println!("{} hears: {}", self.name, line.trim_end());
        }
        Ok(())
    }
}
// ANCHOR_END: chat
