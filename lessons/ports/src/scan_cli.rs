//! The `scan` subcommands of `cargo run -p ports -- ...`, in their own file beside `main.rs`.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use ports::scan::{self, FileLimit, PortResult, ScanError, State};
use ports::services::{Protocol, Services};
use ports::spec;

#[derive(Subcommand)]
pub enum Command {
    /// Scan a host's TCP ports: which are open, closed or filtered.
    #[command(after_help = "Example: cargo run -p ports -- scan 127.0.0.1 --ports 20-25,80,443")]
    Scan {
        /// A name or an address; only loopback without --allow-remote.
        host: String,
        /// Ports: 20-25,80,443 or - for all.
        #[arg(long, short, value_name = "SPEC", default_value = "-", value_parser = port_spec)]
        ports: PortList,
        /// Connection attempts at a time, 1-4096.
        #[arg(long, value_name = "N", default_value_t = 512,
              value_parser = clap::value_parser!(u16).range(1..=4096))]
        concurrency: u16,
        /// Wait per connection, in ms, 1-60000.
        #[arg(long, value_name = "MS", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..=60_000))]
        timeout_ms: u64,
        /// Allow a target that is not this machine.
        #[arg(long)]
        allow_remote: bool,
    },
    /// Scan one port of each kind, opened on 127.0.0.1.
    #[command(after_help = "Example: cargo run -p ports -- scan-demo")]
    ScanDemo,
}

/// The ports a `--ports` specification names, sorted, each once.
#[derive(Clone)]
pub struct PortList(Vec<u16>);

fn port_spec(text: &str) -> Result<PortList, String> {
    spec::parse(text)
        .map(PortList)
        .map_err(|e| format!("{e}\n\nhint: {}", e.hint()))
}

/// A target that is not this machine, refused before anything is sent to it.
#[derive(Debug)]
struct NotLoopback {
    host: String,
    ip: IpAddr,
}

impl fmt::Display for NotLoopback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host == self.ip.to_string() {
            write!(f, "refusing to scan {}: not a loopback address", self.ip)
        } else {
            let (host, ip) = (&self.host, self.ip);
            write!(f, "refusing to scan {host} ({ip}): not a loopback address")
        }
    }
}

impl std::error::Error for NotLoopback {}

/// A host name that did not resolve.
#[derive(Debug)]
struct UnknownHost(String);

impl fmt::Display for UnknownHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {:?}", self.0)
    }
}

impl std::error::Error for UnknownHost {}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Scan {
            host,
            ports,
            concurrency,
            timeout_ms,
            allow_remote,
        } => {
            let ip = target(&host, allow_remote)?;
            let timeout = Duration::from_millis(timeout_ms);
            scan_and_report(ip, &ports.0, concurrency.into(), timeout)
        }
        Command::ScanDemo => demo(),
    }
}

// ANCHOR: target
/// Resolves `host` and checks that it is this machine (127.0.0.0/8 or ::1) unless
/// `allow_remote`: nothing is sent anywhere before this returns.
fn target(host: &str, allow_remote: bool) -> Result<IpAddr> {
    let with_port = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:0"),
        _ => format!("{host}:0"),
    };
    let addrs = ports::resolve(&with_port).map_err(|e| {
        let source = e.downcast::<ports::ResolveError>().map(|e| e.source);
        match source {
            Ok(source) => anyhow::Error::new(source).context(UnknownHost(host.into())),
            Err(e) => e,
        }
    })?;
    let ip = addrs[0].ip();
    if !ip.is_loopback() && !allow_remote {
        anyhow::bail!(NotLoopback {
            host: host.into(),
            ip,
        });
    }
    if addrs.len() > 1 {
        let others: Vec<String> = addrs[1..].iter().map(|a| a.ip().to_string()).collect();
        eprintln!("note: {host} is also {} (not scanned)", others.join(", "));
    }
    Ok(ip)
}
// ANCHOR_END: target

// ANCHOR: scan_and_report
/// Fits the concurrency to the open-file limit, scans with a progress bar when standard
/// error is a terminal, and prints the report.
fn scan_and_report(ip: IpAddr, ports: &[u16], wanted: usize, timeout: Duration) -> Result<()> {
    let limit = scan::fit_to_file_limit(wanted).context("could not read the open-file limit")?;
    if let FileLimit::Lowered {
        concurrency, limit, ..
    } = limit
    {
        eprintln!("note: the open-file limit is {limit} (ulimit -n), so the scan tries");
        eprintln!("      {concurrency} ports at a time, not {wanted}");
    }
    let concurrency = limit.concurrency().min(ports.len().max(1));
    let n = ports.len();
    let s = if n == 1 { "" } else { "s" };
    let ms = timeout.as_millis();
    println!("scanning {ip}: {n} port{s}, {concurrency} at a time, timeout {ms}ms");
    let bar = if io::stderr().is_terminal() {
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} ports, {elapsed}")
            .expect("a valid template");
        ProgressBar::new(ports.len() as u64).with_style(style)
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let results = scan::scan(ip, ports, concurrency, timeout, &|_| bar.inc(1));
    bar.finish_and_clear();
    let results = results.context(format!("the scan of {ip} stopped"))?;
    report(ip, &results, start.elapsed(), &mut io::stdout().lock())?;
    Ok(())
}
// ANCHOR_END: scan_and_report

/// A state with at most this many ports has them listed one by one (open ports always are),
/// as nmap does: the closed ports of a full scan would fill screens.
const LIST_AT_MOST: usize = 25;

// ANCHOR: report
/// Prints the ports worth listing, like nmap, then one line of counts.
fn report(
    ip: IpAddr,
    results: &[PortResult],
    took: Duration,
    out: &mut impl Write,
) -> io::Result<()> {
    let count = |s| results.iter().filter(|r| r.state == s).count();
    let (open, closed, filtered) = (
        count(State::Open),
        count(State::Closed),
        count(State::Filtered),
    );
    let few = |s| match s {
        State::Open => true,
        State::Closed => closed <= LIST_AT_MOST,
        State::Filtered => filtered <= LIST_AT_MOST,
    };
    let mut listed = results.iter().filter(|r| few(r.state)).peekable();
    if listed.peek().is_some() {
        writeln!(out, "{:<11} {:<9} SERVICE", "PORT", "STATE")?;
    }
    for r in listed {
        let state = match r.state {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
        };
        let port = format!("{}/tcp", r.port);
        writeln!(out, "{port:<11} {state:<9} {}", service(r.port))?;
    }
    let secs = took.as_secs_f64();
    writeln!(
        out,
        "{ip}: {open} open, {closed} closed, {filtered} filtered, in {secs:.2}s"
    )
}
// ANCHOR_END: report

/// The service name the system's services database gives `port` over TCP, or `unknown`.
fn service(port: u16) -> String {
    service_name(port).unwrap_or_else(|| "unknown".into())
}

/// The name of `port` over TCP in the system's services database (or the lesson's built-in
/// table when the file cannot be read), read once.
fn service_name(port: u16) -> Option<String> {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    let services = SERVICES.get_or_init(Services::load);
    services.name(port, Protocol::Tcp).map(str::to_string)
}

// ANCHOR: demo
/// Sets up one port of each kind on 127.0.0.1, says which is which, and scans them.
fn demo() -> Result<()> {
    let setup = "could not set up the demonstration's ports";
    let accepting = unnamed_listener().context(setup)?;
    let idle = unnamed_listener().context(setup)?; // listens, never calls accept
    let silent = silent_listener().context(setup)?;
    let closed = unnamed_listener().context(setup)?; // bound to learn a free port, then closed
    let closed_addr = closed.local_addr()?;
    drop(closed);
    let accepting_addr = accepting.local_addr()?;
    std::thread::spawn(move || {
        for stream in accepting.incoming() {
            drop(stream); // accept, then close at once
        }
    });
    let kinds = [
        (accepting_addr, "a listener that accepts, then closes"),
        (idle.local_addr()?, "a listener that never calls accept"),
        (silent.addr, "a listener whose queue is full: it drops SYNs"),
        (closed_addr, "a port bound, then released: nothing listens"),
    ];
    let mut out = io::stdout().lock();
    for (addr, what) in kinds {
        writeln!(out, "{addr:<16} {what}")?;
    }
    let ports: Vec<u16> = kinds.iter().map(|(addr, _)| addr.port()).collect();
    let ip = accepting_addr.ip();
    let timeout = Duration::from_millis(500);
    writeln!(
        out,
        "scanning them, in this order, timeout {}ms:",
        timeout.as_millis()
    )?;
    let start = Instant::now();
    let results = scan::scan(ip, &ports, ports.len(), timeout, &|_| {})?;
    report(ip, &results, start.elapsed(), &mut out)?;
    Ok(())
}
// ANCHOR_END: demo

/// A listener on 127.0.0.1 whose port has no service name, so that what the demonstration
/// prints does not depend on which ports the OS handed out.
fn unnamed_listener() -> io::Result<TcpListener> {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        if service_name(listener.local_addr()?.port()).is_none() {
            return Ok(listener);
        }
    }
}

/// A listener whose accept queue is full, so that Linux drops new SYNs (listen(2): "the
/// request may be ignored") and a connection attempt times out, as behind a firewall.
struct Silent {
    addr: SocketAddr,
    _listener: socket2::Socket,
    _queued: Vec<TcpStream>,
}

fn silent_listener() -> io::Result<Silent> {
    use socket2::{Domain, Socket, Type};
    loop {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        listener.listen(0)?; // the shortest queue the system allows
        let addr = listener
            .local_addr()?
            .as_socket()
            .ok_or(io::ErrorKind::Other)?;
        if service_name(addr.port()).is_some() {
            continue;
        }
        let mut queued = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => queued.push(stream),
                Err(e) if ports::is_timeout(&e) => {
                    return Ok(Silent {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let why = "the system queued 8 connections for a backlog of 0 and dropped none";
        return Err(io::Error::other(why));
    }
}

/// The hint for an error of these subcommands, if it has one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    // A context (UnknownHost wraps the resolver's error) is found by downcasting the
    // anyhow::Error itself, not by walking its chain.
    if err.downcast_ref::<UnknownHost>().is_some() {
        return Some("HOST is a name or an address, such as localhost, 127.0.0.1 or ::1");
    }
    err.chain().find_map(|cause| {
        if cause.is::<NotLoopback>() {
            return Some(
                "scan only machines you own or have permission to test;\n      \
                 for one of those, add --allow-remote",
            );
        }
        match cause.downcast_ref::<ScanError>()? {
            ScanError::OutOfFiles { .. } | ScanError::NoThreads(_) => {
                Some("try a lower --concurrency, or raise the limit with ulimit -n")
            }
            ScanError::OutOfLocalPorts { .. } => Some(
                "try a lower --concurrency, or wait a minute for closed connections\n      \
                 to leave TIME_WAIT",
            ),
            ScanError::Connect { .. } => None,
        }
    })
}
