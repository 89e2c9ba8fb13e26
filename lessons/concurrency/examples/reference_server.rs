//! The production reference for the benchmark: the lesson's hello-world on axum (over hyper
//! and Tokio), written the way a production service would be.
//!
//! `GET /` answers `Hello, world!` as text/plain, over HTTP/1.1 keep-alive. The benchmark
//! (`examples/bench.rs`) runs it beside the five models and reports each model's requests per
//! second as a ratio to this one.
//!
//! Run it: `cargo run --release -p concurrency --example reference_server -- --addr
//! 127.0.0.1:8000`, then `curl -i http://127.0.0.1:8000/`. Ctrl-C or SIGTERM stops it.

use std::future::Future;
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::thread;

use axum::Router;
use axum::routing::get;
use clap::Parser;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    about = "Hello, world on axum: the benchmark's production reference",
    after_help = "Example: cargo run --release -p concurrency --example reference_server\n  \
                  (it listens on a free port and prints where; --addr 127.0.0.1:8000 chooses)"
)]
struct Cli {
    /// Where to listen. Port 0 lets the OS choose a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
}

// ANCHOR: app
/// One route. A `&'static str` answer is sent as `text/plain; charset=utf-8`.
fn app() -> Router {
    Router::new().route("/", get(|| async { "Hello, world!\n" }))
}
// ANCHOR_END: app

// ANCHOR: main
fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    // One socket per connection: lift the soft limit on open files (often 1,024) to the hard
    // limit, or the server refuses connections long before it runs out of anything else.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("warning: could not raise the open-file limit: {e}");
    }
    // One worker thread per core (Tokio's default, said out loud): tasks move between them.
    let workers = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&cli.addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: is another server on that port? try --addr 127.0.0.1:0");
            ExitCode::FAILURE
        }
    }
}

/// Listens on `addr`, says so on stdout, and serves until Ctrl-C or SIGTERM; then stops
/// accepting, lets the requests under way finish, closes idle connections and returns.
async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("could not listen on {addr}: {e}")))?;
    let stop = stop_signal()?; // installed before we say we listen: no signal is lost
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?; // a script waits for this line before connecting
    axum::serve(listener, app())
        .with_graceful_shutdown(stop)
        .await
}
// ANCHOR_END: main

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
fn stop_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
