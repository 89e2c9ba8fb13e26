//! `cargo run -p http11 -- <subcommand>`: the HTTP lesson on the command line.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use http11::client::{self, Client, ClientError};
use http11::server::{self, Config};
use http11::shutdown::Shutdown;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "HTTP/1.1 from raw TCP: a static file server and a client",
    after_help = "Example: cargo run -p http11 -- serve\n  \
                  then, in a second terminal: cargo run -p http11 -- get /"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the files of a folder over HTTP/1.1 until Ctrl-C, with the routes GET /echo
    /// (the request head, as text) and POST /echo (the body).
    #[command(
        after_help = "Example: cargo run -p http11 -- serve --root lessons/http11/www\n  \
                            (and to choose where it listens: --addr 127.0.0.1:8000)"
    )]
    Serve {
        /// Where to listen. Port 0 lets the OS choose a free port.
        #[arg(long, env = "HTTP11_ADDR", default_value = "127.0.0.1:8000")]
        addr: String,
        /// The folder to serve [default: the lesson's www/ folder]
        #[arg(long)]
        root: Option<PathBuf>,
        /// Close a keep-alive connection idle for this many seconds.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        idle_timeout: u64,
        /// Answer 408 to a request whose head is not whole this many seconds after its
        /// first byte (a slow client holding a thread: slowloris).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Serve at most this many connections at once; answer more with 503.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_connections: u32,
    },
    /// Send one request and print the response's body (with -i, its head first). A text
    /// body that does not end with a newline gets one. Redirects are not followed: their
    /// Location is printed.
    #[command(after_help = "Example: cargo run -p http11 -- get http://127.0.0.1:8000/ -i")]
    Get {
        /// A URL (http://HOST:PORT/PATH), an address (HOST:PORT), or a path (/PATH) on
        /// --addr.
        #[arg(default_value = "/")]
        target: String,
        /// The path to request, when TARGET is an address.
        path: Option<String>,
        /// Where the server listens, when TARGET is a path.
        #[arg(long, env = "HTTP11_ADDR", default_value = "127.0.0.1:8000")]
        addr: String,
        /// The request method.
        #[arg(short = 'X', long, default_value = "GET", value_parser = method)]
        method: String,
        /// A request body (sent with Content-Length).
        #[arg(short = 'd', long, default_value = "")]
        data: String,
        /// Print the status line and header fields before the body (all but Date, which
        /// changes every second; curl -i shows it).
        #[arg(short = 'i', long)]
        include: bool,
        /// Send the request this many times on one keep-alive connection.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        repeat: u32,
        /// Give up on any step after this many seconds.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
    },
}

/// A method is a token (RFC 9110 §9.1, §5.6.2) of at most 20 characters.
fn method(text: &str) -> Result<String, String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if text.is_empty() || text.len() > 20 || !text.bytes().all(token) {
        return Err(format!(
            "{text:?} is not a method name, such as GET or POST"
        ));
    }
    Ok(text.to_string())
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
            if err.is::<Usage>() {
                return ExitCode::from(2); // a usage error, as clap's own
            }
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve {
            addr,
            root,
            idle_timeout,
            header_timeout,
            max_connections,
        } => {
            let root =
                root.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www"));
            if !root.is_dir() {
                bail!(NoRoot(root));
            }
            let config = Config {
                idle_timeout: Duration::from_secs(idle_timeout),
                header_timeout: Duration::from_secs(header_timeout),
                max_connections: max_connections as usize,
                ..Config::new(root)
            };
            serve(&addr, config)
        }
        Command::Get {
            target,
            path,
            addr,
            method,
            data,
            include,
            repeat,
            timeout,
        } => {
            let (addr, path) = if target.starts_with('/') {
                if path.is_some() {
                    bail!(usage("give either a path or an address and a path"));
                }
                (addr, target)
            } else {
                let (addr, url_path) = client::split_url(&target)?;
                (addr, path.unwrap_or(url_path))
            };
            if !path.starts_with('/')
                || path.contains(|c: char| c.is_whitespace() || c.is_control())
            {
                bail!(usage(
                    "the path starts with / and has no spaces (percent-encode them: %20)"
                ));
            }
            fetch(
                &addr,
                &method,
                &path,
                data.as_bytes(),
                include,
                repeat,
                Duration::from_secs(timeout),
            )
        }
    }
}

// ANCHOR: serve
fn serve(addr: &str, config: Config) -> Result<()> {
    let bind_to = resolve(addr)?;
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

// ANCHOR: fetch
/// Sends the request `repeat` times on one connection and prints each response: the head
/// with `include`, then the body. A redirect is reported, not followed.
fn fetch(
    addr: &str,
    method: &str,
    path: &str,
    body: &[u8],
    include: bool,
    repeat: u32,
    timeout: Duration,
) -> Result<()> {
    let mut client = Client::connect(addr, timeout)?;
    for i in 1..=repeat {
        let keep_alive = i < repeat;
        client.send(method, path, &[], body, keep_alive)?;
        let response = client.read_response(method == "HEAD")?;
        let mut out = io::stdout().lock();
        if include {
            writeln!(out, "{}", response.head_text(false))?;
        }
        out.write_all(&response.body)?;
        // Text that does not end its last line would run into the shell's prompt.
        let text = std::str::from_utf8(&response.body).is_ok();
        if text && !response.body.is_empty() && !response.body.ends_with(b"\n") {
            writeln!(out)?;
        }
        out.flush()?;
        drop(out);
        if (300..400).contains(&response.status) {
            let location = response.header("location").unwrap_or("(no Location field)");
            eprintln!(
                "{} {}: redirect to {location} (not followed)",
                response.status, response.reason
            );
        }
        if keep_alive && !response.keep_alive() {
            bail!("the server closed the connection after request {i} of {repeat}");
        }
    }
    Ok(())
}
// ANCHOR_END: fetch

/// The first address `addr` names.
fn resolve(addr: &str) -> Result<SocketAddr> {
    let mut addrs = addr
        .to_socket_addrs()
        .map_err(|source| ClientError::Address {
            addr: addr.to_string(),
            source,
        })?;
    addrs
        .next()
        .with_context(|| format!("{addr} names no address"))
}

#[derive(Debug)]
struct NoRoot(PathBuf);

impl std::fmt::Display for NoRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not a folder", self.0.display())
    }
}

impl std::error::Error for NoRoot {}

#[derive(Debug)]
struct Usage(&'static str);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(why: &'static str) -> Usage {
    Usage(why)
}

/// The hint for an error of the server's (binding, the root) or of the client's.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if cause.is::<NoRoot>() {
            return Some("give --root a folder that exists, such as lessons/http11/www");
        }
        if cause.is::<Usage>() {
            return Some(
                "for example: get /echo, get 127.0.0.1:8000 /echo, \
                         or get http://127.0.0.1:8000/echo",
            );
        }
        if let Some(client) = cause.downcast_ref::<ClientError>() {
            return Some(client.hint());
        }
        match cause.downcast_ref::<io::Error>()?.kind() {
            io::ErrorKind::AddrInUse => Some(
                "another program listens on that port: stop it, or choose another\n\
                 with --addr 127.0.0.1:0",
            ),
            io::ErrorKind::PermissionDenied => {
                Some("ports below 1024 are privileged: use 8000 or another port from 1024 up")
            }
            io::ErrorKind::AddrNotAvailable => {
                Some("this machine has no such IP address: listen on 127.0.0.1")
            }
            io::ErrorKind::BrokenPipe => Some("the output was closed before the body was printed"),
            _ => None,
        }
    })
}
