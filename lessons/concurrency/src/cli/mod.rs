//! The subcommands, one module each, and what they share: resolving `--addr`, listening, and
//! stopping on Ctrl-C.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::{Context, Result};
use concurrency::Shutdown;

pub mod chat;
pub mod demo;
pub mod load;
pub mod serve;
pub mod state;

/// Resolves `HOST:PORT` to its first address.
pub fn resolve(addr: &str) -> Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("bad address {addr:?}"))?
        .next()
        .with_context(|| format!("bad address {addr:?}: it names no address"))
}

/// Binds `addr`, installs the Ctrl-C/SIGTERM handler that triggers the returned shutdown,
/// and prints `listening on ADDR` as the first line of stdout.
pub fn listen(addr: &str) -> Result<(TcpListener, Shutdown)> {
    let bind_to = resolve(addr)?;
    let listener =
        TcpListener::bind(bind_to).with_context(|| format!("could not listen on {bind_to}"))?;
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    // Ctrl-C (SIGINT) and, with the `termination` feature, SIGTERM and SIGHUP.
    ctrlc::set_handler(move || on_signal.trigger())
        .context("could not install the Ctrl-C handler")?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?; // a script or test waits for this line before connecting
    Ok((listener, shutdown))
}

/// A subcommand's own hints for its errors.
pub type Hints = fn(&anyhow::Error) -> Option<String>;

/// The subcommand that has no hints of its own.
pub fn no_hints(_: &anyhow::Error) -> Option<String> {
    None
}

/// A hint for the error, if one helps: the subcommand's own, else one for a failed bind.
pub fn hint_for(err: &anyhow::Error, own: Hints) -> Option<String> {
    if let Some(hint) = own(err) {
        return Some(hint);
    }
    if format!("{err:#}").starts_with("bad address") {
        return Some("write the address as HOST:PORT, for example 127.0.0.1:8080".into());
    }
    let io = err.chain().find_map(|e| e.downcast_ref::<io::Error>())?;
    match io.kind() {
        io::ErrorKind::AddrInUse => Some(
            "another program listens there: stop it, or pick another port\n\
             with --addr (port 0 lets the OS choose)"
                .into(),
        ),
        io::ErrorKind::PermissionDenied => {
            Some("ports below 1024 need privileges: pick a port from 1024 up with --addr".into())
        }
        io::ErrorKind::AddrNotAvailable => {
            Some("that address is not one of this machine's: try 127.0.0.1".into())
        }
        _ => None,
    }
}
