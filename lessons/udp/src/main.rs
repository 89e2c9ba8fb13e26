//! `cargo run -p udp -- <subcommand>`: the UDP lesson on the command line.

mod dns_cli;

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use udp::client::{Client, Event, Retry};
use udp::relay::{Faults, Log, RunningRelay};
use udp::shutdown::Shutdown;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "UDP: datagrams, an echo server and its client, loss and retries, ping, and DNS",
    after_help = "Example: cargo run -p udp -- server\n  \
                  then, in a second terminal: cargo run -p udp -- client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show, on loopback, what a datagram socket does.
    #[command(after_help = "Example: cargo run -p udp -- datagram boundaries")]
    Datagram {
        /// Which demonstration to run.
        demo: DatagramDemo,
    },
    /// Run the echo server until Ctrl-C: every datagram goes back to its sender.
    #[command(after_help = "Example: cargo run -p udp -- server --addr 127.0.0.1:7979")]
    Server {
        /// Where to listen. Port 0 lets the OS choose a free port.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:7979")]
        addr: String,
    },
    /// Send a request to the echo server and print the reply, retrying on loss.
    #[command(
        after_help = "Example: cargo run -p udp -- client 'Hello, world!' --drop 0.5 --seed 3"
    )]
    Client {
        /// Where the server listens.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:7979")]
        addr: String,
        /// What to send.
        #[arg(default_value = "Hello, world!")]
        message: String,
        #[command(flatten)]
        retry: RetryArgs,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Send probes to the echo server and print their round-trip times, as ping does.
    #[command(after_help = "Example: cargo run -p udp -- ping --count 10 --drop 0.2 --seed 1")]
    Ping {
        /// Where the server listens.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:7979")]
        addr: String,
        /// How many probes to send.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        count: u32,
        /// Milliseconds to pause between probes.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=60_000))]
        interval_ms: u64,
        /// Milliseconds to wait for each probe's reply.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        timeout_ms: u64,
        /// Bytes per probe, its 4-byte id included.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(4..=65_507))]
        size: u64,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Relay datagrams to a server, dropping, duplicating and delaying them on purpose.
    #[command(
        after_help = "Example: cargo run -p udp -- relay --to 127.0.0.1:7979 --drop 0.3, then:\n  \
                      cargo run -p udp -- client --addr 127.0.0.1:7980"
    )]
    Relay {
        /// Where the relay listens for clients.
        #[arg(long, default_value = "127.0.0.1:7980")]
        addr: String,
        /// The server to relay to.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:7979")]
        to: String,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Send numbered datagrams through a lossy relay and show what arrives, in what order.
    #[command(after_help = "Example: cargo run -p udp -- lossy --seed 7")]
    Lossy {
        /// How many datagrams to send.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
        #[command(flatten)]
        faults: LossyFaultArgs,
    },
    #[command(flatten)]
    Dns(dns_cli::DnsCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum DatagramDemo {
    /// Three sends are three receives: boundaries are kept.
    Boundaries,
    /// A connected UDP socket: only its peer is heard, and a refusal is reported.
    Connect,
    /// A buffer smaller than the datagram cuts it, silently.
    Truncation,
    /// The largest datagram over IPv4, and one byte more.
    Largest,
}

#[derive(Args)]
struct RetryArgs {
    /// Milliseconds to wait for the first reply; each retry waits twice as long.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    timeout_ms: u64,
    /// How many times to send the request, the first included.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: u32,
}

#[derive(Args)]
struct FaultArgs {
    /// Go through a relay that drops this share of datagrams (0 to 1), each way.
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    drop: f64,
    /// ...and sends this share of the rest twice.
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    duplicate: f64,
    /// ...and delays each copy by 0, 1/4, 1/2, 3/4 or all of this many milliseconds.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    delay_ms: u64,
    /// The seed that decides which datagrams meet which fault, and the retries' jitter.
    /// The same seed replays the same run.
    #[arg(long)]
    seed: Option<u64>,
}

/// The `lossy` demonstration's faults: the same options, with defaults that show each fault.
#[derive(Args)]
struct LossyFaultArgs {
    /// The share of datagrams dropped (0 to 1).
    #[arg(long, default_value_t = 0.2, value_parser = probability)]
    drop: f64,
    /// The share of the rest sent twice.
    #[arg(long, default_value_t = 0.2, value_parser = probability)]
    duplicate: f64,
    /// Each copy is delayed by 0, 1/4, 1/2, 3/4 or all of this many milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    delay_ms: u64,
    /// The seed that decides which datagrams meet which fault.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl FaultArgs {
    fn faults(&self, seed: u64) -> Faults {
        Faults {
            drop: self.drop,
            duplicate: self.duplicate,
            delay: Duration::from_millis(self.delay_ms),
            seed,
        }
    }
}

fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a number from 0 to 1")),
    }
}

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

fn run(command: Command) -> Result<()> {
    match command {
        Command::Datagram { demo } => {
            let mut out = io::stdout().lock();
            match demo {
                DatagramDemo::Boundaries => udp::datagram::boundaries_kept(&mut out),
                DatagramDemo::Connect => udp::datagram::connect_filters_and_refuses(&mut out),
                DatagramDemo::Truncation => udp::datagram::truncation(&mut out),
                DatagramDemo::Largest => udp::datagram::largest(&mut out),
            }
            .context("the demonstration failed")
        }
        Command::Server { addr } => {
            let socket = bind(&addr)?;
            serve(socket, |socket, shutdown| {
                udp::server::run(socket, shutdown).map(|_| ())
            })
        }
        Command::Relay { addr, to, faults } => {
            let server = server_addr(&to)?;
            let socket = bind(&addr)?;
            let seed = faults.seed.unwrap_or_else(udp::random::seed_from_clock);
            let faults = faults.faults(seed);
            serve(socket, move |socket, shutdown| {
                udp::relay::run(socket, server, faults, shutdown, Log::Stderr).map(|_| ())
            })
        }
        Command::Client {
            addr,
            message,
            retry,
            faults,
        } => {
            let retry = Retry {
                first_timeout: Duration::from_millis(retry.timeout_ms),
                attempts: retry.attempts,
                ..Retry::default()
            };
            request(&addr, &message, retry, &faults)
        }
        Command::Ping {
            addr,
            count,
            interval_ms,
            timeout_ms,
            size,
            faults,
        } => {
            let config = udp::ping::Config {
                count,
                interval: Duration::from_millis(interval_ms),
                timeout: Duration::from_millis(timeout_ms),
                size: size as usize,
            };
            let seed = faults.seed.unwrap_or_else(udp::random::seed_from_clock);
            let server = server_addr(&addr)?;
            let (target, _relay) = through_relay(server, &faults, seed)?;
            udp::ping::ping(server, target, config, seed, &mut io::stdout())
                .with_context(|| format!("the ping of {server} failed"))
                .map(|_| ())
        }
        Command::Lossy { count, faults } => {
            let faults = Faults {
                drop: faults.drop,
                duplicate: faults.duplicate,
                delay: Duration::from_millis(faults.delay_ms),
                seed: faults.seed,
            };
            udp::relay::numbered_through(count, faults, &mut io::stdout().lock())
                .context("the demonstration failed")
        }
        Command::Dns(command) => dns_cli::run(command),
    }
}

/// The address where `addr`'s server is reached (loopback for the unspecified address).
fn server_addr(addr: &str) -> Result<SocketAddr> {
    Ok(udp::reachable(udp::resolve(addr)?[0]))
}

/// When faults are asked for, starts a relay in front of `server`: returns where to send,
/// and the relay (stopped when dropped).
fn through_relay(
    server: SocketAddr,
    faults: &FaultArgs,
    seed: u64,
) -> Result<(SocketAddr, Option<RunningRelay>)> {
    let faults = faults.faults(seed);
    if faults.is_none() {
        return Ok((server, None));
    }
    let relay =
        RunningRelay::start(server, faults, Log::Stdout).context("could not start the relay")?;
    println!(
        "through a relay at {} to {server}: drop {}, duplicate {},\n\
         delay up to {} ms, seed {seed}",
        relay.addr,
        faults.drop,
        faults.duplicate,
        faults.delay.as_millis()
    );
    Ok((relay.addr, Some(relay)))
}

// ANCHOR: request
fn request(addr: &str, message: &str, retry: Retry, faults: &FaultArgs) -> Result<()> {
    let seed = faults.seed.unwrap_or_else(udp::random::seed_from_clock);
    let server = server_addr(addr)?;
    let (target, _relay) = through_relay(server, faults, seed)?;
    let mut client = Client::connect(target, retry, seed)
        .with_context(|| format!("could not open a socket to send to {target}"))?;
    // One line at a time, never holding stdout: the relay's thread prints there too.
    let reply = client.request(message.as_bytes(), |event| match event {
        Event::Sent { attempt, timeout } => {
            println!("try {attempt}: sent, waiting up to {timeout:.0?}")
        }
        Event::TimedOut { attempt } => println!("try {attempt}: no reply"),
        Event::Discarded { id: Some(id) } => {
            println!("discarded a reply to another request (id {id})")
        }
        Event::Discarded { id: None } => println!("discarded a datagram too short"),
    });
    let reply = reply.with_context(|| format!("no answer from {server}"))?;
    let text = String::from_utf8_lossy(&reply.payload);
    let tries = if reply.attempts == 1 { "try" } else { "tries" };
    println!("reply after {} {tries}: {text:?}", reply.attempts);
    Ok(())
}
// ANCHOR_END: request

fn bind(addr: &str) -> Result<UdpSocket> {
    let bind_to = udp::resolve(addr)?[0];
    UdpSocket::bind(bind_to).with_context(|| format!("could not bind {bind_to}"))
}

/// Runs a UDP server on `socket` until Ctrl-C or SIGTERM, after the `listening on` line.
fn serve(socket: UdpSocket, run: impl FnOnce(UdpSocket, Shutdown) -> io::Result<()>) -> Result<()> {
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    // Ctrl-C (SIGINT) and, with the `termination` feature, SIGTERM and SIGHUP.
    ctrlc::set_handler(move || on_signal.trigger())
        .context("could not install the Ctrl-C handler")?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", socket.local_addr()?)?;
    out.flush()?; // a script or test waits for this line before sending
    drop(out);
    run(socket, shutdown).context("the server failed")?;
    eprintln!("stopped");
    Ok(())
}

/// The hint for a binding error, or else for a client's.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    let bind_hint = err
        .chain()
        .find_map(|cause| match cause.downcast_ref::<io::Error>()?.kind() {
            io::ErrorKind::AddrInUse => Some(
                "another program uses that UDP port: stop it, or choose another\n\
                     with --addr 127.0.0.1:0",
            ),
            io::ErrorKind::PermissionDenied => {
                Some("ports below 1024 are privileged: use 7979 or another port from 1024 up")
            }
            io::ErrorKind::AddrNotAvailable => {
                Some("this machine has no such IP address: use 127.0.0.1")
            }
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => Some(
                "nothing listens on that port: is the server running?\n\
                     start it with: cargo run -p udp -- server",
            ),
            _ => None,
        });
    let resolve_hint = err.chain().find_map(|cause| {
        cause.downcast_ref::<udp::ResolveError>()?;
        Some("an address is HOST:PORT, such as 127.0.0.1:7979 or [::1]:7979")
    });
    bind_hint
        .or(resolve_hint)
        .or_else(|| udp::client::hint(err))
        .or_else(|| dns_cli::hint(err))
}
