//! `chat`: the chat room, until Ctrl-C.

use std::fmt;
use std::io;

use anyhow::{Context, Result};
use concurrency::chat::{self, ChatConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Where to listen. Port 0 lets the OS choose a free port.
    #[arg(long, env = "CONCURRENCY_ADDR", default_value = "127.0.0.1:9000")]
    addr: String,
    /// Clients in the room at once; one more is told the room is full.
    #[arg(long, default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    max_clients: u32,
    /// How many messages a client may fall behind before it is disconnected.
    #[arg(long, default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    backlog: u32,
}

/// The room stopped with an error (not while starting to listen).
#[derive(Debug)]
struct RoomFailed;

impl fmt::Display for RoomFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the chat room failed")
    }
}

// ANCHOR: run
pub fn run(args: Args) -> Result<()> {
    let config = ChatConfig {
        max_clients: args.max_clients as usize,
        backlog: args.backlog as usize,
        ..ChatConfig::default()
    };
    let (listener, shutdown) = super::listen(&args.addr)?;
    chat::run(listener, shutdown, config).context(RoomFailed)?;
    eprintln!("stopped");
    Ok(())
}
// ANCHOR_END: run

/// A hint for the errors of the room itself; `listen`'s (a busy port, a bad address) have
/// their hints in `cli::hint_for`.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.downcast_ref::<RoomFailed>()?;
    let io = err.chain().find_map(|e| e.downcast_ref::<io::Error>())?;
    // EMFILE: each client is a file descriptor, and so is each of the runtime's own.
    (io.raw_os_error() == Some(24)).then(|| {
        "out of file descriptors: raise the limit (ulimit -n 4096) or lower --max-clients"
            .to_owned()
    })
}
