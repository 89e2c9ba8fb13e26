//! The production way: the lesson's `get` again, on reqwest (over hyper and tokio).
//!
//! One request, then the status line, the header fields (with `-i`) and the body, as
//! `cargo run -p http11 -- get` prints them. A redirect is printed, not followed. Plain HTTP
//! only: reqwest is built without default features, so without TLS, HTTP/2 or proxies.
//!
//! Run it: `cargo run -p http11 --example reqwest_client -- http://127.0.0.1:8001/echo -i`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use reqwest::redirect::Policy;
use reqwest::{Client, Method};

// ANCHOR: client
/// A client that behaves like ours: no redirect followed, a time limit on the whole
/// exchange, and straight to the server (no proxy from the environment).
pub fn client(timeout: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .redirect(Policy::none())
        .timeout(timeout)
        .no_proxy()
        .build()
}
// ANCHOR_END: client

#[derive(Parser)]
#[command(
    about = "The lesson's get on reqwest: one request, then the response",
    after_help = "Example: cargo run -p http11 --example reqwest_client -- \
                  http://127.0.0.1:8001/echo -i"
)]
struct Cli {
    /// The URL to request (http:// only).
    #[arg(default_value = "http://127.0.0.1:8001/")]
    url: String,
    /// The request method.
    #[arg(short = 'X', long, default_value = "GET")]
    method: String,
    /// A request body.
    #[arg(short = 'd', long, default_value = "")]
    data: String,
    /// Print the status line and header fields (all but Date) before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

// ANCHOR: fetch
/// Sends the request and prints the response: its head with `include`, then the body.
async fn fetch(cli: Cli) -> anyhow::Result<()> {
    let method = Method::from_bytes(cli.method.as_bytes())?;
    let client = client(Duration::from_secs(cli.timeout))?;
    let mut request = client.request(method, &cli.url);
    if !cli.data.is_empty() {
        request = request.body(cli.data);
    }
    let response = request.send().await?;
    let (status, version) = (response.status(), response.version());
    let head = response.headers().clone();
    let body = response.bytes().await?; // by Content-Length, chunked or to the close
    let mut out = io::stdout().lock();
    if cli.include {
        writeln!(out, "{version:?} {status}")?;
        for (name, value) in head.iter().filter(|(name, _)| *name != "date") {
            writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
        }
        writeln!(out)?;
    }
    out.write_all(&body)?;
    if std::str::from_utf8(&body).is_ok() && !body.is_empty() && !body.ends_with(b"\n") {
        writeln!(out)?;
    }
    out.flush()?;
    if status.is_redirection() {
        let location = head.get("location").and_then(|v| v.to_str().ok());
        let location = location.unwrap_or("(no Location field)");
        eprintln!("{status}: redirect to {location} (not followed)");
    }
    Ok(())
}
// ANCHOR_END: fetch

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    match fetch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            let connect = err
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect);
            if connect {
                eprintln!("hint: is the server running? start it with:");
                eprintln!("      cargo run -p http11 --example axum_server");
            }
            ExitCode::FAILURE
        }
    }
}
