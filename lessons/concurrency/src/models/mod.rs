//! The five server models. Each one runs the same [`Responder`](crate::responder::Responder)
//! on every connection; they differ in how they wait for many sockets at once.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::thread;
use std::time::Duration;

use http11::request::Limits;

use crate::Shutdown;

pub mod iterative;
pub mod pool;
pub mod readiness;
pub mod tasks;
pub mod threads;

// ANCHOR: model
/// How the server runs its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// One connection at a time, on the thread that accepts.
    Iterative,
    /// A new thread for every connection.
    Threads,
    /// A fixed set of worker threads, fed by a bounded queue of connections.
    Pool,
    /// One thread that waits for whichever socket is ready (`mio`: epoll on Linux).
    Poll,
    /// Async tasks on Tokio's multi-threaded runtime.
    Async,
}
// ANCHOR_END: model

impl Model {
    /// Every model, in the chapter's order.
    pub const ALL: [Model; 5] = [
        Model::Iterative,
        Model::Threads,
        Model::Pool,
        Model::Poll,
        Model::Async,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Model::Iterative => "iterative",
            Model::Threads => "threads",
            Model::Pool => "pool",
            Model::Poll => "poll",
            Model::Async => "async",
        }
    }
}

// ANCHOR: config
/// The limits that bound what one client, and all of them together, can cost a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Limits on one request's line, header fields and body.
    pub limits: Limits,
    /// A keep-alive connection with no request under way is closed after this long.
    pub idle_timeout: Duration,
    /// A request must arrive whole within this long of its first byte, or the client gets
    /// `408` and the connection closes (a slow client, slowloris, cannot hold it longer).
    pub header_timeout: Duration,
    /// A response must be written whole within this long: a client that does not read our
    /// responses, or reads them too slowly, is disconnected.
    pub write_timeout: Duration,
    /// Connections served at once (threads, poll, async); more are answered `503`.
    pub max_connections: usize,
    /// Pool: the worker threads. By default one per core, as many as the async runtime
    /// and axum have: no wait holds a worker for long, so more would only take turns for
    /// the same cores.
    pub workers: usize,
    /// Pool: connections that may wait for a worker; more are answered `503`.
    pub queue: usize,
    /// On shutdown, how long requests under way may take before their connections close.
    pub drain_timeout: Duration,
    /// Answer `GET /panic` by panicking, to show that one connection's panic does not stop
    /// the server. Off unless asked for.
    pub panic_route: bool,
}
// ANCHOR_END: config

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits {
                max_request_line: 4 * 1024,
                max_header_bytes: 8 * 1024,
                max_headers: 64,
                max_body: 64 * 1024,
            },
            idle_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            max_connections: 1024,
            workers: thread::available_parallelism().map_or(1, NonZeroUsize::get),
            queue: 1024,
            drain_timeout: Duration::from_secs(5),
            panic_route: false,
        }
    }
}

// ANCHOR: serve
/// Serves HTTP on `listener` with `model` until `shutdown` is triggered, then finishes the
/// requests under way (within [`Config::drain_timeout`]) and returns.
pub fn serve(
    model: Model,
    listener: TcpListener,
    shutdown: Shutdown,
    config: Config,
) -> io::Result<()> {
    match model {
        Model::Iterative => iterative::run(listener, shutdown, config),
        Model::Threads => threads::run(listener, shutdown, config),
        Model::Pool => pool::run(listener, shutdown, config),
        Model::Poll => readiness::run(listener, shutdown, config),
        Model::Async => tasks::run(listener, shutdown, config),
    }
}
// ANCHOR_END: serve

/// Where to connect to reach a listener bound to `addr`, to wake its `accept` at shutdown:
/// loopback for the unspecified address (`0.0.0.0` or `::`).
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    if !addr.ip().is_unspecified() {
        return addr;
    }
    let loopback: IpAddr = match addr {
        SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(loopback, addr.port())
}

/// The client went away (a reset, or a pipe it closed): worth no log line.
pub(crate) fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
