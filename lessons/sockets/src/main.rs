//! `cargo run -p sockets -- <subcommand>`: the Sockets lesson on the command line.
//! Each subcommand demonstrates one part of the chapter on loopback.

use std::io::{self, Write};
use std::net::{AddrParseError, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use sockets::address::{self, ResolveError};
use sockets::{byte_order, errors, lifecycle, options};

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "Sockets: addresses, byte order, lifecycle, options and errors, on loopback",
    after_help = "Example: cargo run -p sockets -- walk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve HOST:PORT into socket addresses, as `connect` would.
    #[command(after_help = "Example: cargo run -p sockets -- resolve localhost:7878")]
    Resolve {
        /// What to resolve: 127.0.0.1:7878, [::1]:7878 or localhost:7878.
        target: String,
    },
    /// Show an IPv4 socket address as bytes in network byte order.
    #[command(after_help = "Example: cargo run -p sockets -- byte-order 127.0.0.1:8080")]
    ByteOrder {
        /// An IPv4 address and port, such as 127.0.0.1:8080.
        addr: String,
    },
    /// Walk through a connection's life: bind, listen, connect, accept, write, read,
    /// shutdown, close.
    #[command(after_help = "Example: cargo run -p sockets -- walk --addr 127.0.0.1:0")]
    Walk {
        /// Where the listener binds. Port 0 lets the OS choose a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
    },
    /// Show the options of a listener and a connected socket, before and after tuning.
    #[command(after_help = "Example: cargo run -p sockets -- options")]
    Options {
        /// Where the listener binds. Port 0 lets the OS choose a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
    },
    /// Provoke one socket error on purpose and report it as a real failure would be.
    #[command(after_help = "Example: cargo run -p sockets -- provoke refused")]
    Provoke {
        /// Which error to provoke.
        error: Provocation,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Provocation {
    /// Connect where nothing listens.
    Refused,
    /// Bind a port that is already bound.
    InUse,
    /// Bind an IP address this machine does not have.
    NotAvailable,
    /// Read with a timeout from a peer that never writes.
    TimedOut,
    /// Read from a non-blocking socket with no data.
    WouldBlock,
    /// Read from a connection the peer aborted with a reset.
    Reset,
    /// Write to a connection the peer has closed.
    BrokenPipe,
    /// Bind a privileged port (below 1024).
    PermissionDenied,
}

/// Error messages and hints are wrapped to fit a terminal.
const WIDTH: usize = 80;

// ANCHOR: main
fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", errors::wrap("error", &format!("{err:#}"), WIDTH));
            if let Some(hint) = hint_for(&err) {
                eprintln!("{}", errors::wrap("hint", hint, WIDTH));
            }
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

fn run(command: Command) -> Result<()> {
    let mut out = io::stdout().lock();
    match command {
        Command::Resolve { target } => {
            let addrs = address::resolve(&target)?;
            writeln!(
                out,
                "{target} resolves to {} address(es), in the order connect tries them:",
                addrs.len()
            )?;
            for addr in &addrs {
                writeln!(out, "  {}", address::describe(addr))?;
            }
        }
        Command::ByteOrder { addr } => {
            let addr: SocketAddrV4 = addr
                .parse()
                .with_context(|| format!("could not read {addr:?} as an IPv4 address and port"))?;
            let port = addr.port();
            writeln!(out, "{addr} as bytes in network byte order (big-endian):")?;
            writeln!(out, "  {}", byte_order::hex(&byte_order::wire_bytes(addr)))?;
            writeln!(
                out,
                "  address {} = {}",
                addr.ip(),
                byte_order::hex(&addr.ip().octets())
            )?;
            writeln!(
                out,
                "  port {port} = {port:#06x} = {}",
                byte_order::hex(&port.to_be_bytes())
            )?;
            writeln!(
                out,
                "this machine is {}: in its memory the port is {}",
                byte_order::native_order(),
                byte_order::hex(&port.to_ne_bytes())
            )?;
            writeln!(
                out,
                "reading the wire bytes in native order gives port {}",
                byte_order::misread_port(port)
            )?;
        }
        Command::Walk { addr } => {
            let bind_to = first_address(&addr)?;
            lifecycle::walk(bind_to, &mut out)?;
        }
        Command::Options { addr } => show_options(&addr, &mut out)?,
        Command::Provoke { error } => {
            let provoke = match error {
                Provocation::Refused => errors::provoke_refused,
                Provocation::InUse => errors::provoke_in_use,
                Provocation::NotAvailable => errors::provoke_not_available,
                Provocation::TimedOut => errors::provoke_timed_out,
                Provocation::WouldBlock => errors::provoke_would_block,
                Provocation::Reset => errors::provoke_reset,
                Provocation::BrokenPipe => errors::provoke_broken_pipe,
                Provocation::PermissionDenied => errors::provoke_permission_denied,
            };
            provoke(&mut |line| {
                let _ = writeln!(out, "{line}");
            })?;
        }
    }
    Ok(())
}

/// The first address `text` resolves to, for subcommands that bind.
fn first_address(text: &str) -> Result<SocketAddr> {
    let addrs = address::resolve(text)?;
    addrs
        .first()
        .copied()
        .with_context(|| format!("{text} resolved to no address"))
}

fn show_options(addr: &str, out: &mut dyn Write) -> Result<()> {
    let bind_to = first_address(addr)?;
    let listener =
        TcpListener::bind(bind_to).with_context(|| format!("could not bind {bind_to}"))?;
    let server_addr = listener.local_addr()?;
    writeln!(
        out,
        "std::net::TcpListener::bind({bind_to}) -> listening on {server_addr}"
    )?;
    write!(
        out,
        "{}",
        options::format_settings(&options::listener_settings(&listener)?)
    )?;

    let target = lifecycle::reachable(server_addr);
    let client = TcpStream::connect_timeout(&target, lifecycle::STEP_TIMEOUT)
        .with_context(|| format!("could not connect to {target}"))?;
    writeln!(
        out,
        "std::net::TcpStream::connect({target}), as std leaves it:"
    )?;
    write!(
        out,
        "{}",
        options::format_settings(&options::stream_settings(&client)?)
    )?;

    options::tune_stream(&client, lifecycle::STEP_TIMEOUT)?;
    writeln!(out, "the same stream after tune_stream:")?;
    write!(
        out,
        "{}",
        options::format_settings(&options::stream_settings(&client)?)
    )?;

    let tuned_at = SocketAddr::new(bind_to.ip(), 0);
    let tuned = options::tuned_listener(tuned_at, 16, 32 * 1024)
        .with_context(|| format!("could not build a tuned listener on {tuned_at}"))?;
    writeln!(
        out,
        "socket2 listener on {}, backlog 16, SO_RCVBUF set to 32768:",
        tuned.local_addr()?
    )?;
    write!(
        out,
        "{}",
        options::format_settings(&options::tuned_settings(&tuned)?)
    )?;
    Ok(())
}

// ANCHOR: hint_for
/// The hint for the first error in the chain that has one.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(resolve) = cause.downcast_ref::<ResolveError>() {
            return Some(if resolve.is_malformed() {
                "write the address as HOST:PORT, for example 127.0.0.1:7878, [::1]:7878 \
                 or localhost:7878"
            } else {
                "check the spelling of the name; if it is right, check this machine's \
                 network and DNS setup (names in /etc/hosts resolve without DNS)"
            });
        }
        if cause.is::<AddrParseError>() {
            return Some("write an IPv4 address and a port, for example 127.0.0.1:8080");
        }
        cause.downcast_ref::<io::Error>().and_then(errors::hint)
    })
}
// ANCHOR_END: hint_for
