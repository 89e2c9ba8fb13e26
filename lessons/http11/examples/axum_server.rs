//! The production way: the lesson's small server again, on axum (over hyper and tokio).
//!
//! The same routes as `cargo run -p http11 -- serve`: `GET` and `HEAD` of the files under a
//! root folder, `GET /echo` answering with the request head as text, `POST /echo` answering
//! with the body, within a body limit and a request timeout. Plain HTTP/1.1 only: axum is
//! built without its `http2` feature, and there is no TLS.
//!
//! Run it: `cargo run -p http11 --example axum_server` (it listens on 127.0.0.1:8001), then
//! in a second terminal `curl -i http://127.0.0.1:8001/echo`. Ctrl-C stops it.

use std::future::{Future, IntoFuture};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri, Version};
use axum::routing::get;
use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

// ANCHOR: settings
/// What the server serves, and what bounds one request.
pub struct Settings {
    /// The folder served: `/` is `root/index.html`.
    pub root: PathBuf,
    /// The longest request body `POST /echo` reads; a longer one gets `413`.
    pub body_limit: usize,
    /// A request not answered within this long gets `408`: the clock starts once the
    /// head is parsed, so it covers reading the body, not the head.
    pub request_timeout: Duration,
    /// After Ctrl-C, how long the requests under way may take before we stop anyway.
    pub drain: Duration,
}
// ANCHOR_END: settings

impl Settings {
    /// The defaults, serving `root`: the same limits as the lesson's server.
    pub fn new(root: impl Into<PathBuf>) -> Settings {
        Settings {
            root: root.into(),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(5),
        }
    }
}

// ANCHOR: app
/// The routes: `/echo` for GET (and so HEAD) and POST, every other path a file.
pub fn app(settings: &Settings) -> Router {
    Router::new()
        .route("/echo", get(echo_head).post(echo_body))
        .fallback_service(ServeDir::new(&settings.root))
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
}
// ANCHOR_END: app

// ANCHOR: echo
/// `GET /echo`: the request head as hyper parsed it, as text.
async fn echo_head(method: Method, uri: Uri, version: Version, headers: HeaderMap) -> String {
    let mut text = format!("{method} {uri} {version:?}\n");
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        text.push_str(&format!("{name}: {value}\n"));
    }
    text
}

/// `POST /echo`: the body, read whole (up to the body limit) before this runs.
async fn echo_body(body: Bytes) -> Bytes {
    body
}
// ANCHOR_END: echo

// ANCHOR: serve
/// Serves on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests under way finish, for at most `settings.drain`, and returns.
pub async fn serve(
    listener: TcpListener,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let stopping = Arc::new(Notify::new());
    let signal = {
        let stopping = Arc::clone(&stopping);
        async move {
            shutdown.await;
            stopping.notify_one();
        }
    };
    let server = axum::serve(listener, app(settings)).with_graceful_shutdown(signal);
    // axum waits for every open connection to finish, without a deadline: add one.
    let deadline = async {
        stopping.notified().await;
        tokio::time::sleep(settings.drain).await;
    };
    tokio::select! {
        done = server.into_future() => done,
        () = deadline => {
            eprintln!("stopped waiting for open connections after {:?}", settings.drain);
            Ok(())
        }
    }
}
// ANCHOR_END: serve

#[derive(Parser)]
#[command(
    about = "The lesson's server on axum: static files, GET /echo and POST /echo",
    after_help = "Example: cargo run -p http11 --example axum_server -- --addr 127.0.0.1:8001"
)]
struct Cli {
    /// Where to listen. Port 0 lets the OS choose a free port.
    #[arg(long, default_value = "127.0.0.1:8001")]
    addr: String,
    /// The folder to serve [default: the lesson's www/ folder]
    #[arg(long)]
    root: Option<PathBuf>,
}

// ANCHOR: main
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    let root = cli
        .root
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("www"));
    if !root.is_dir() {
        eprintln!("error: {} is not a folder", root.display());
        eprintln!("hint: give --root a folder that exists, such as lessons/http11/www");
        return ExitCode::FAILURE;
    }
    let listener = match TcpListener::bind(&cli.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: could not listen on {}: {e}", cli.addr);
            eprintln!("hint: is another server on that port? try --addr 127.0.0.1:0");
            return ExitCode::FAILURE;
        }
    };
    let stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: could not install the Ctrl-C handler: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("listening on {addr}");
        let _ = io::stdout().flush(); // a script or test waits for this line
    }
    match serve(listener, &Settings::new(root), stop).await {
        Ok(()) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main

/// Completes on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed now, before the
/// server says it listens, so that a signal sent right after that line is not lost.
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
