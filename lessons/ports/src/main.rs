//! `cargo run -p ports -- <subcommand>`: the Ports lesson on the command line.

mod listening_cli;
mod scan_cli;

use std::io;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "Ports: what identifies a service, who is listening, and a port scanner",
    after_help = "Example: cargo run -p ports -- port four-tuple"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show, on loopback, what a port number identifies and what it does not.
    #[command(after_help = "Example: cargo run -p ports -- port four-tuple")]
    Port {
        /// Which demonstration to run.
        demo: PortDemo,
    },
    /// Show, on loopback, how binding a port can fail, and what the options change.
    #[command(after_help = "Example: cargo run -p ports -- bind in-use")]
    Bind {
        /// Which demonstration to run.
        demo: BindDemo,
    },
    #[command(flatten)]
    Listening(listening_cli::Command),
    #[command(flatten)]
    Scan(scan_cli::Command),
}

#[derive(Clone, Copy, ValueEnum)]
enum PortDemo {
    /// Three connections to one listening port, told apart by their 4-tuples.
    FourTuple,
    /// The same port number bound over TCP and over UDP at once.
    SameNumber,
    /// Port 0, the ports clients get, and this system's ephemeral range.
    Ephemeral,
}

#[derive(Clone, Copy, ValueEnum)]
enum BindDemo {
    /// A second listener on a port in use.
    InUse,
    /// What SO_REUSEADDR and SO_REUSEPORT change.
    Reuse,
    /// Ports below 1024, with and without the privilege to bind them.
    Privileged,
    /// 127.0.0.1, 0.0.0.0 and [::]: which addresses reach each listener.
    Interfaces,
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
        Command::Port { demo } => {
            let mut out = io::stdout().lock();
            match demo {
                PortDemo::FourTuple => ports::port::four_tuple(&mut out),
                PortDemo::SameNumber => ports::port::same_number(&mut out),
                PortDemo::Ephemeral => ports::port::ephemeral(&mut out),
            }
            .context("the demonstration failed")
        }
        Command::Bind { demo } => {
            let mut out = io::stdout().lock();
            match demo {
                BindDemo::InUse => ports::binding::in_use(&mut out),
                BindDemo::Reuse => ports::binding::reuse(&mut out),
                BindDemo::Privileged => ports::binding::privileged(&mut out),
                BindDemo::Interfaces => ports::binding::interfaces(&mut out),
            }
            .context("the demonstration failed")
        }
        Command::Listening(command) => listening_cli::run(command),
        Command::Scan(command) => scan_cli::run(command),
    }
}

/// The hint for an error: a resolver's, or else one of the subcommands'.
fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    let resolve_hint = err.chain().find_map(|cause| {
        cause.downcast_ref::<ports::ResolveError>()?;
        Some("an address is HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080")
    });
    resolve_hint
        .or_else(|| listening_cli::hint(err))
        .or_else(|| scan_cli::hint(err))
}
