//! `cargo run -p concurrency -- <subcommand>`: the Concurrency lesson on the command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(
    max_term_width = 80,
    version,
    about = "One HTTP responder served five ways, a chat room, and a load generator",
    after_help = "Example: cargo run -p concurrency -- serve --model async\n  \
                  then, in a second terminal: cargo run -p concurrency -- load --connections 64"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve `GET /` (Hello, world!) over HTTP/1.1 with one of five server models, until
    /// Ctrl-C.
    #[command(after_help = "Example: cargo run -p concurrency -- serve --model pool")]
    Serve(cli::serve::Args),
    /// Show, in one process, what a slow client does to a fast one under a model.
    #[command(after_help = "Example: cargo run -p concurrency -- demo slow-client --model threads")]
    Demo(cli::demo::Args),
    /// Load a server with N keep-alive connections; print requests per second and latency
    /// percentiles.
    #[command(
        after_help = "Example: cargo run -p concurrency -- load --connections 64 \
                            --duration 5"
    )]
    Load(cli::load::Args),
    /// A chat room: every line a client sends goes to every other client (try it with nc).
    #[command(after_help = "Example: cargo run -p concurrency -- chat\n  \
                            then, in two more terminals: nc 127.0.0.1 9000")]
    Chat(cli::chat::Args),
    /// Count with many threads: a counter behind a lock, an atomic, and a channel to one owner.
    #[command(after_help = "Example: cargo run -p concurrency -- state --threads 8")]
    State(cli::state::Args),
}

// ANCHOR: main
fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with code 2 on a usage error
    let (result, hints): (_, cli::Hints) = match cli.command {
        Command::Serve(args) => (cli::serve::run(args), cli::serve::hint),
        Command::Demo(args) => (cli::demo::run(args), cli::no_hints),
        Command::Load(args) => (cli::load::run(args), cli::load::hint),
        Command::Chat(args) => (cli::chat::run(args), cli::chat::hint),
        Command::State(args) => (cli::state::run(args), cli::no_hints),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = cli::hint_for(&err, hints) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: main
