//! `load`: N keep-alive connections against a server; requests per second and latency.
//!
//! Before it starts, it checks what would make the run meaningless: open files or local ports
//! too few for `--connections`, or nothing listening at `--addr`. Each is an error with a hint
//! at once, instead of a report full of failures five seconds later.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result};
use concurrency::load::{self, LoadConfig, Report};

/// Files a process holds besides its connections: stdio, the runtime's epoll and wakers.
const SPARE_FILES: u64 = 32;

#[derive(clap::Args)]
pub struct Args {
    /// The server, as HOST:PORT.
    #[arg(
        long,
        env = "CONCURRENCY_ADDR",
        default_value = "127.0.0.1:8080",
        value_name = "HOST:PORT"
    )]
    addr: String,
    /// Connections open at once, each with one request in flight.
    #[arg(short, long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    connections: u64,
    /// Seconds to run, such as 5 or 0.5 [default: 5].
    #[arg(short, long, value_name = "SECONDS", value_parser = seconds,
          conflicts_with = "requests")]
    duration: Option<Duration>,
    /// Stop after this many requests, over all connections together.
    #[arg(short = 'n', long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,
    /// The path to GET.
    #[arg(long, default_value = "/", value_parser = path)]
    path: String,
    /// Seconds a connect or a response may take before it counts as `timed out`.
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = seconds)]
    timeout: Duration,
    /// Worker threads of the generator (1: every connection on one thread).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: u64,
}

fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds, such as 5 or 0.5"))?;
    if !(0.001..=86_400.0).contains(&secs) {
        return Err("give between 0.001 and 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A path that fits in a request line: it starts with `/` and has no space or control byte.
fn path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a path starts with / and has no spaces, such as /index.html".into());
    }
    Ok(text.to_string())
}

// ANCHOR: run
pub fn run(args: Args) -> Result<()> {
    let addr = super::resolve(&args.addr)?;
    let mut config = LoadConfig::new(addr);
    config.connections = args.connections as usize; // at most 100 000
    config.requests = args.requests;
    config.duration = match args.requests {
        Some(_) => None,
        None => Some(args.duration.unwrap_or(Duration::from_secs(5))),
    };
    config.path = args.path;
    config.timeout = args.timeout;
    config.threads = args.threads as usize; // at most 1024

    check_limits(args.connections)?;
    probe(addr, config.timeout)?; // nothing listening: say so now, not after the run

    let report = load::run(&config).context("could not start the runtime")?;
    let refused = report
        .errors
        .get("connection refused")
        .copied()
        .unwrap_or(0);
    if report.ok == 0 && refused > 0 && refused == report.error_count() {
        probe(addr, config.timeout)?; // the server went away: its error, not a report
    }
    println!("{report}");
    if report.error_count() > 0 {
        return Err(Failed::from(&report).into());
    }
    if report.ok == 0 {
        return Err(Unanswered.into()); // every request was still under way at the end
    }
    Ok(())
}
// ANCHOR_END: run

/// Connects once, to fail early with the reason nothing can be loaded.
fn probe(addr: SocketAddr, timeout: Duration) -> Result<()> {
    match TcpStream::connect_timeout(&addr, timeout) {
        Ok(_) => Ok(()),
        Err(source) => Err(ConnectFailed { addr, source }.into()),
    }
}

/// Raises the soft limit on open files to the hard one, and checks the connections fit in it
/// and in the local ports one address can connect from.
fn check_limits(connections: u64) -> Result<()> {
    let files =
        rlimit::increase_nofile_limit(u64::MAX).context("could not raise the open-file limit")?;
    if connections + SPARE_FILES > files {
        return Err(TooMany::Files {
            connections,
            needed: connections + SPARE_FILES,
            limit: files,
        }
        .into());
    }
    if let Some(ports) = local_ports()
        && connections > ports
    {
        return Err(TooMany::Ports { connections, ports }.into());
    }
    Ok(())
}

/// How many local ports a connection to one server address can use (Linux).
fn local_ports() -> Option<u64> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = range.split_whitespace().map(|n| n.parse::<u64>().ok());
    let (low, high) = (bounds.next()??, bounds.next()??);
    high.checked_sub(low).map(|n| n + 1)
}

/// Nothing could be connected to.
#[derive(Debug)]
struct ConnectFailed {
    addr: SocketAddr,
    source: io::Error,
}

impl fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not connect to {}", self.addr)
    }
}

impl std::error::Error for ConnectFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// More connections than this process or machine can open.
#[derive(Debug)]
enum TooMany {
    Files {
        connections: u64,
        needed: u64,
        limit: u64,
    },
    Ports {
        connections: u64,
        ports: u64,
    },
}

impl fmt::Display for TooMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TooMany::Files {
                connections,
                needed,
                limit,
            } => write!(
                f,
                "--connections {connections} needs {needed} open files; the limit is {limit}"
            ),
            TooMany::Ports { connections, ports } => write!(
                f,
                "--connections {connections} needs {connections} local ports; \
                 this machine has {ports}"
            ),
        }
    }
}

impl std::error::Error for TooMany {}

/// The run ended before any response arrived, and nothing failed either.
#[derive(Debug)]
struct Unanswered;

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no response arrived before the run ended")
    }
}

impl std::error::Error for Unanswered {}

/// Some requests failed; the report above says which and how.
#[derive(Debug)]
struct Failed {
    failed: u64,
    total: u64,
    /// The most frequent kind of error.
    worst: String,
}

impl From<&Report> for Failed {
    fn from(report: &Report) -> Failed {
        let failed = report.error_count();
        let worst = report
            .errors
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(kind, _)| kind.clone())
            .unwrap_or_default();
        Failed {
            failed,
            total: failed + report.ok,
            worst,
        }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} requests failed", self.failed, self.total)
    }
}

impl std::error::Error for Failed {}

// ANCHOR: hint
/// What to try, for the errors of `load`.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(connect) = cause.downcast_ref::<ConnectFailed>() {
            return Some(match connect.source.kind() {
                io::ErrorKind::ConnectionRefused => "is the server running? Start it with:\n\
                     cargo run -p concurrency -- serve"
                    .to_string(),
                io::ErrorKind::TimedOut => "nothing answered: is the address right? \
                     Raise --timeout to wait longer"
                    .to_string(),
                _ => "is the address right? The server runs on this machine with:\n\
                     cargo run -p concurrency -- serve"
                    .to_string(),
            });
        }
        if let Some(too_many) = cause.downcast_ref::<TooMany>() {
            return Some(match too_many {
                TooMany::Files { .. } => "use fewer --connections, or raise the hard limit \
                     (ulimit -Hn, as root)"
                    .to_string(),
                TooMany::Ports { .. } => "use fewer --connections, or widen the range:\n\
                     sysctl net.ipv4.ip_local_port_range"
                    .to_string(),
            });
        }
        if cause.is::<Unanswered>() {
            return Some(
                "the server is slow or overloaded: run longer with --duration,\n\
                 or use fewer --connections"
                    .to_string(),
            );
        }
        let failed = cause.downcast_ref::<Failed>()?;
        Some(match failed.worst.as_str() {
            "timed out" => "the server answered too slowly: raise --timeout,\n\
                 or use fewer --connections"
                .to_string(),
            kind if kind.starts_with("status 5") => "the server answered with errors: \
                 is it at its limit? Its log may say"
                .to_string(),
            _ => "the errors: lines above say how requests failed; the server's log \
                 may say why"
                .to_string(),
        })
    })
}
// ANCHOR_END: hint
