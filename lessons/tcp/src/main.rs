//! `cargo run -p tcp -- <subcommand>`: the TCP lesson on the command line.

use std::io::{self, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use tcp::client::{self, Framing};
use tcp::server::{self, Config, Mode};
use tcp::shutdown::Shutdown;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "TCP: an echo server and its client, byte streams, framing and timeouts",
    after_help = "Example: cargo run -p tcp -- server\n  \
                  then, in a second terminal: cargo run -p tcp -- client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show, on loopback, how opening and closing connections can fail.
    #[command(after_help = "Example: cargo run -p tcp -- connection time-wait")]
    Connection {
        /// Which demonstration to run.
        demo: ConnectionDemo,
    },
    /// Show, on loopback, that TCP carries a stream of bytes, not messages.
    #[command(after_help = "Example: cargo run -p tcp -- stream merge")]
    Stream {
        /// Which demonstration to run.
        demo: Demo,
    },
    /// Send bytes over loopback for a while and report the throughput.
    #[command(after_help = "Example: cargo run --release -p tcp -- bulk --seconds 3 --buffer 64K")]
    Bulk {
        /// How long to send, in seconds.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Bytes per write and per read: 4096, 64K, 1M...
        #[arg(long, default_value = "64K", value_parser = tcp::bulk::parse_size)]
        buffer: usize,
    },
    /// Time small request/reply exchanges: two writes with Nagle's algorithm on, then off
    /// (TCP_NODELAY), then one vectored write.
    #[command(after_help = "Example: cargo run -p tcp -- nagle --exchanges 20")]
    Nagle {
        /// How many request/reply round trips to time, each way.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        exchanges: u32,
    },
    /// Listen with a small backlog, connect clients that are never accepted, and wait for
    /// Ctrl-C: a listener whose accept queue you can watch with `ss -ltn`.
    #[command(after_help = "Example: cargo run -p tcp -- backlog\n  \
                            then, in a second terminal: ss -ltn 'sport = :7878'")]
    Backlog {
        /// Where to listen. Port 0 lets the OS choose a free port.
        #[arg(long, env = "TCP_ADDR", default_value = "127.0.0.1:7878")]
        addr: String,
        /// The backlog passed to listen(): how many connections may wait to be accepted.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=1024))]
        backlog: u16,
        /// How many clients connect (and are never accepted).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(0..=64))]
        clients: u16,
    },
    /// Run the echo server until Ctrl-C.
    #[command(after_help = "Example: cargo run -p tcp -- server --addr 127.0.0.1:7878")]
    Server {
        /// Where to listen. Port 0 lets the OS choose a free port.
        #[arg(long, env = "TCP_ADDR", default_value = "127.0.0.1:7878")]
        addr: String,
        /// raw: echo bytes as they come; lines: echo UTF-8 lines, refusing bad ones;
        /// frames: echo length-prefixed frames.
        #[arg(long, value_enum, default_value_t = ModeArg::Raw)]
        mode: ModeArg,
        /// Drop a client that sends nothing for this many seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        idle_timeout: u64,
        /// In lines and frames mode, drop a client whose message is not complete this many
        /// seconds after its first byte (a client that trickles bytes to hold a thread).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        message_timeout: u64,
        /// Serve at most this many clients at once.
        #[arg(long, default_value_t = 64, value_parser = at_least_one)]
        max_clients: usize,
        /// In lines and frames mode, the longest message accepted, in bytes (at most 16 MiB).
        #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..=16 * 1024 * 1024))]
        max_line: u32,
    },
    /// Send a message to the server and print its reply.
    #[command(
        after_help = "Example: cargo run -p tcp -- client --addr 127.0.0.1:7878 'Hello, world!'"
    )]
    Client {
        /// Where the server listens.
        #[arg(long, env = "TCP_ADDR", default_value = "127.0.0.1:7878")]
        addr: String,
        /// What to send.
        #[arg(default_value = "Hello, world!")]
        message: String,
        /// Give up on any step after this many seconds.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        timeout: u64,
        /// End the message with a newline, as a `--mode lines` server expects.
        #[arg(long, conflicts_with = "frame")]
        line: bool,
        /// Send the message as one length-prefixed frame, as a `--mode frames` server expects,
        /// and print each frame of the reply on a line.
        #[arg(long)]
        frame: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ConnectionDemo {
    /// A refused connect, and one that times out.
    RefusedVsTimeout,
    /// A port kept busy by TIME-WAIT, and SO_REUSEADDR.
    TimeWait,
}

#[derive(Clone, Copy, ValueEnum)]
enum Demo {
    /// Several writes arrive in one read.
    Merge,
    /// One write arrives in several reads.
    Split,
    /// A loop that ignores end of stream spins.
    Spin,
    /// A write may take only part of the buffer; write_all does not.
    Partial,
    /// A BufWriter sends nothing until flushed.
    Flush,
    /// Both sides write without reading: a deadlock.
    Deadlock,
    /// Closing with unread data resets the connection.
    Reset,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Raw,
    Lines,
    Frames,
}

// ANCHOR: main
fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = hint_for(&err) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

fn run(command: Command) -> Result<()> {
    match command {
        Command::Bulk { seconds, buffer } => {
            if !(seconds > 0.0 && seconds <= 600.0) {
                anyhow::bail!("--seconds must be more than 0 and at most 600, not {seconds}");
            }
            let t = tcp::bulk::transfer(Duration::from_secs_f64(seconds), buffer)
                .context("the transfer failed")?;
            println!(
                "{} bytes in {:.2?} with {buffer}-byte buffers: {:.2} Gbit/s",
                t.bytes,
                t.elapsed,
                t.bits_per_second() / 1e9
            );
            Ok(())
        }
        Command::Nagle { exchanges } => {
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{exchanges} request/reply exchanges, each request a 2-byte header and a \
                 2-byte body:"
            )?;
            use tcp::nagle::Sending;
            for (label, sending) in [
                ("two writes, Nagle on (the default)", Sending::TwoWrites),
                ("two writes, TCP_NODELAY on", Sending::TwoWritesNoDelay),
                ("one write_vectored, Nagle on", Sending::OneVectoredWrite),
            ] {
                let each = tcp::nagle::average_round_trip(sending, exchanges)
                    .with_context(|| format!("the exchange with {label} failed"))?;
                writeln!(out, "  {label:<36}{each:.1?} per exchange")?;
            }
            Ok(())
        }
        Command::Connection { demo } => {
            let mut out = io::stdout().lock();
            match demo {
                ConnectionDemo::RefusedVsTimeout => tcp::connection::refused_vs_timeout(&mut out),
                ConnectionDemo::TimeWait => tcp::connection::time_wait(&mut out),
            }
            .context("the demonstration failed")?;
            Ok(())
        }
        Command::Stream { demo } => {
            let mut out = io::stdout().lock();
            match demo {
                Demo::Merge => tcp::stream::writes_merge(&mut out),
                Demo::Split => tcp::stream::reads_split(&mut out),
                Demo::Spin => tcp::stream::ignoring_eof_spins(&mut out),
                Demo::Partial => tcp::stream::writes_can_be_partial(&mut out),
                Demo::Flush => tcp::stream::bufwriter_needs_flush(&mut out),
                Demo::Deadlock => tcp::stream::both_writing_deadlock(&mut out),
                Demo::Reset => tcp::stream::unread_data_resets(&mut out),
            }
            .context("the demonstration failed")?;
            Ok(())
        }
        Command::Backlog {
            addr,
            backlog,
            clients,
        } => queue_up(&addr, backlog, clients),
        Command::Server {
            addr,
            mode,
            idle_timeout,
            message_timeout,
            max_clients,
            max_line,
        } => {
            let config = Config {
                mode: match mode {
                    ModeArg::Raw => Mode::Raw,
                    ModeArg::Lines => Mode::Lines,
                    ModeArg::Frames => Mode::Frames,
                },
                idle_timeout: Duration::from_secs(idle_timeout),
                message_timeout: Duration::from_secs(message_timeout),
                max_clients,
                max_line: max_line as usize,
                ..Config::default()
            };
            serve(&addr, config)
        }
        Command::Client {
            addr,
            message,
            timeout,
            line,
            frame,
        } => {
            let framing = match (line, frame) {
                (true, _) => Framing::Line,
                (_, true) => Framing::Frame,
                _ => Framing::Raw,
            };
            let timeout = Duration::from_secs(timeout);
            client::request(&addr, &message, framing, timeout, &mut io::stdout().lock())
        }
    }
}

// ANCHOR: serve
fn serve(addr: &str, config: Config) -> Result<()> {
    let bind_to = tcp::resolve(addr)?[0];
    let listening = TcpListener::bind(bind_to);
    let listener = listening.with_context(|| format!("could not listen on {bind_to}"))?;
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    // Ctrl-C (SIGINT) and, with the `termination` feature, SIGTERM and SIGHUP.
    ctrlc::set_handler(move || on_signal.trigger())
        .context("could not install the Ctrl-C handler")?;

    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?; // a script or test waits for this line before connecting
    drop(out);

    server::run(listener, shutdown, config).context("the server failed")?;
    eprintln!("stopped");
    Ok(())
}
// ANCHOR_END: serve

/// The `backlog` subcommand: connections that wait in the accept queue until Ctrl-C.
fn queue_up(addr: &str, backlog: u16, clients: u16) -> Result<()> {
    let bind_to = tcp::resolve(addr)?[0];
    let listening = tcp::connection::listen_with_backlog(bind_to, backlog.into());
    let listener = listening.with_context(|| format!("could not listen on {bind_to}"))?;
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .context("could not install the Ctrl-C handler")?;
    let local = listener
        .local_addr()?
        .as_socket()
        .context("not an IP address")?;

    let mut out = io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    out.flush()?;
    drop(out);
    // The rest is a log, on stderr, as the echo server's is.
    let mut log = io::stderr().lock();
    writeln!(log, "with a backlog of {backlog}, and never accepting")?;
    let queued = tcp::connection::connect_clients(tcp::reachable(local), clients.into());
    for (i, client) in queued.iter().enumerate() {
        match client {
            Ok(_) => writeln!(log, "client {}: connected", i + 1)?,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                writeln!(log, "client {}: {e} (the queue is full)", i + 1)?
            }
            Err(e) => writeln!(log, "client {}: {e}", i + 1)?,
        }
    }
    writeln!(
        log,
        "see the queue with: ss -ltn 'sport = :{}'",
        local.port()
    )?;
    writeln!(log, "press Ctrl-C to stop")?;
    drop(log);

    let _ = stopped.recv(); // until Ctrl-C
    drop((queued, listener));
    eprintln!("stopped");
    Ok(())
}

/// For counts and sizes that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number of at least 1")),
    }
}

/// The hint for an error of the server's (binding) or else of the client's.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    let server_hint =
        err.chain()
            .find_map(|cause| match cause.downcast_ref::<io::Error>()?.kind() {
                io::ErrorKind::AddrInUse => Some(
                    "another program listens on that port: stop it, or choose another\n\
                 with --addr 127.0.0.1:0",
                ),
                io::ErrorKind::PermissionDenied => {
                    Some("ports below 1024 are privileged: use 7878 or another port from 1024 up")
                }
                io::ErrorKind::AddrNotAvailable => {
                    Some("this machine has no such IP address: listen on 127.0.0.1")
                }
                _ => None,
            });
    server_hint.or_else(|| client::hint(err))
}
