//! `serve`: the responder on one of the five models, until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::{Context, Result};
use concurrency::{Config, Model};

#[derive(clap::Args)]
pub struct Args {
    /// How the server runs its connections.
    #[arg(long, value_enum, default_value_t = ModelName::Async)]
    model: ModelName,
    /// Where to listen, as HOST:PORT. Port 0 lets the OS choose a free port.
    #[arg(long, env = "CONCURRENCY_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Connections served at once (threads, poll, async); more are answered 503.
    #[arg(long, default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Pool: the worker threads [default: one per core]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    workers: Option<u64>,
    /// Pool: connections that may wait for a worker; more are answered 503.
    #[arg(long, default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    queue: u64,
    /// Seconds a keep-alive connection may stay idle between requests, such as 5 or 0.5.
    #[arg(long, default_value = "5", value_parser = seconds)]
    idle_timeout: Duration,
    /// Seconds a request may take to arrive whole, from its first byte (then 408).
    #[arg(long, default_value = "5", value_parser = seconds)]
    header_timeout: Duration,
    /// Answer GET /panic by panicking, to see one connection's panic leave the others be.
    #[arg(long)]
    panic_route: bool,
}

// ANCHOR: model_name
/// The `--model` values: the lesson's [`Model`], as clap spells them.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum ModelName {
    /// One connection at a time.
    Iterative,
    /// A thread per connection.
    Threads,
    /// A fixed pool of worker threads and a bounded queue.
    Pool,
    /// One thread, non-blocking sockets, mio (epoll).
    Poll,
    /// Tokio tasks.
    Async,
}

impl From<ModelName> for Model {
    fn from(name: ModelName) -> Model {
        match name {
            ModelName::Iterative => Model::Iterative,
            ModelName::Threads => Model::Threads,
            ModelName::Pool => Model::Pool,
            ModelName::Poll => Model::Poll,
            ModelName::Async => Model::Async,
        }
    }
}
// ANCHOR_END: model_name

/// Seconds, with a fraction if wanted: `5`, `0.5`.
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds, such as 5 or 0.5"))?;
    if !(0.001..=3600.0).contains(&secs) {
        return Err("give between 0.001 and 3600 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

// ANCHOR: run
pub fn run(args: Args) -> Result<()> {
    let model = Model::from(args.model);
    let defaults = Config::default();
    let config = Config {
        max_connections: args.max_connections as usize, // at most a million
        workers: args.workers.map_or(defaults.workers, |n| n as usize),
        queue: args.queue as usize,
        idle_timeout: args.idle_timeout,
        header_timeout: args.header_timeout,
        panic_route: args.panic_route,
        ..defaults
    };
    raise_open_file_limit();
    let (listener, shutdown) = super::listen(&args.addr)?; // prints `listening on ADDR`
    concurrency::serve(model, listener, shutdown, config)
        .with_context(|| format!("the {} server failed", model.name()))?;
    eprintln!("stopped");
    Ok(())
}
// ANCHOR_END: run

/// Each connection is a file descriptor, and the usual soft limit (1024) is below what the
/// threads, poll and async models can hold: raise it to the hard limit, which needs no
/// privilege.
fn raise_open_file_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("note: could not raise the open-file limit ({e}); it stays as it was");
    }
}

/// A hint for `serve`'s own errors. (A busy port's hint is the shared one.)
pub fn hint(err: &anyhow::Error) -> Option<String> {
    let text = format!("{err:#}");
    if text.starts_with("bad address") {
        return Some("write the address as HOST:PORT, for example 127.0.0.1:8080".into());
    }
    None
}
