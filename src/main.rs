//! `cargo run` at the workspace root: build the book, then serve it on loopback with the HTTP
//! lesson's own server (`lessons/http11`), until Ctrl-C. `cargo run -- --build-only` only
//! builds it and says where to open `index.html`.

use std::io::{self, ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use http11::server::{self, Config};
use http11::shutdown::Shutdown;

/// The port `cargo run` serves the book on, unless told otherwise. No lesson uses it.
const DEFAULT_PORT: u16 = 3000;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "Build the course's book, then serve it on 127.0.0.1 with the HTTP lesson's server",
    after_help = "Example: cargo run, then open the URL it prints; \
                  cargo run -- --build-only to build it and open the file instead"
)]
struct Cli {
    /// Serve on this port of 127.0.0.1; 0 lets the OS choose a free port. [default: 3000,
    /// or a free port if 3000 is busy]
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Build the book, print where its index.html is, and exit.
    #[arg(long, conflicts_with = "port")]
    build_only: bool,
    /// Build into this folder instead of book/build (for tests).
    #[arg(long, hide = true, value_name = "DIR")]
    build_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Listen first, so that a busy port is reported before the build, not after.
    let listener = match (!cli.build_only).then(|| listen(cli.port)).transpose() {
        Ok(listener) => listener,
        Err(err) => return report(&err, cli.port),
    };
    let Some(html_dir) = build(root, cli.build_dir.as_deref()) else {
        return ExitCode::FAILURE;
    };
    let Some(listener) = listener else {
        println!(
            "the book is built: open {}",
            html_dir.join("index.html").display()
        );
        return ExitCode::SUCCESS;
    };
    match serve_book(&html_dir, listener) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err, cli.port),
    }
}

/// Prints a runtime error as one chain, with a hint where there is one: exit code 1.
fn report(err: &anyhow::Error, port: Option<u16>) -> ExitCode {
    eprintln!("error: {err:#}");
    if let Some(hint) = hint_for(err, port) {
        eprintln!("hint: {hint}");
    }
    ExitCode::FAILURE
}

/// Builds the book and prints every problem mdBook reported; the HTML folder if there were
/// none.
fn build(root: &Path, build_dir: Option<&Path>) -> Option<PathBuf> {
    // mdBook renders an include of a missing anchor as nothing, silently: report those first.
    let mut problems = course::chapters::broken_includes(&course::chapters::chapters(root));
    let report = match course::build_book(&root.join(course::BOOK_DIR), build_dir) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err:#}");
            return None;
        }
    };
    problems.extend(report.problems);
    for problem in &problems {
        eprintln!("{problem}");
    }
    if !problems.is_empty() {
        let index = report.html_dir.join("index.html");
        eprintln!(
            "error: {} problem(s) in the book, listed above (what was built is in {})",
            problems.len(),
            index.display()
        );
        return None;
    }
    Some(report.html_dir)
}

// ANCHOR: serve_book
/// Serves the built book on `listener` with the HTTP lesson's server, until Ctrl-C or
/// SIGTERM.
fn serve_book(html_dir: &Path, listener: TcpListener) -> Result<()> {
    course::add_favicon_ico(html_dir).context("could not write favicon.ico")?;
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    // Ctrl-C (SIGINT) and, with ctrlc's `termination` feature, SIGTERM and SIGHUP.
    ctrlc::set_handler(move || on_signal.trigger())
        .context("could not install the Ctrl-C handler")?;

    let url = format!("http://{}/", listener.local_addr()?);
    let mut out = io::stdout().lock();
    writeln!(out, "serving the book (Ctrl-C stops it) at {url}")?;
    out.flush()?; // a script or test waits for this line before connecting
    drop(out);

    server::run(listener, shutdown, Config::new(html_dir)).context("the server failed")?;
    eprintln!("stopped");
    Ok(())
}
// ANCHOR_END: serve_book

/// Listens on 127.0.0.1: on `port` if given, else on the default port, or on a free port
/// if the default one is busy.
fn listen(port: Option<u16>) -> Result<TcpListener> {
    let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let wanted = at(port.unwrap_or(DEFAULT_PORT));
    match TcpListener::bind(wanted) {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == ErrorKind::AddrInUse && port.is_none() => {
            println!("port {DEFAULT_PORT} is busy, so the book gets a free port instead");
            TcpListener::bind(at(0)).with_context(|| format!("could not listen on {}", at(0)))
        }
        Err(e) => Err(e).with_context(|| format!("could not listen on {wanted}")),
    }
}

fn hint_for(err: &anyhow::Error, port: Option<u16>) -> Option<String> {
    let kind = err
        .chain()
        .find_map(|c| c.downcast_ref::<io::Error>())?
        .kind();
    match kind {
        ErrorKind::AddrInUse => Some(format!(
            "another program listens on port {}: stop it, or choose\n\
             another port with --port N (--port 0 picks a free one)",
            port.unwrap_or(DEFAULT_PORT)
        )),
        ErrorKind::PermissionDenied => {
            Some("ports below 1024 are privileged: use --port 3000, or another from 1024 up".into())
        }
        _ => None,
    }
}
