//! Exercise 3: Broadcast to the room.
//!
//! A chat room on Tokio. `serve` accepts clients on `listener` forever; the clients are
//! named `guest-1`, `guest-2`, ... in the order they connect.
//!
//! - When a client has joined, the server sends it `welcome, guest-N\n` (its own name).
//!   Join it to the room before you send that line: from its welcome on, the client hears
//!   every line the others send.
//! - Each line a client sends (it ends with `\n`; it may be up to 1 KiB long) goes to every
//!   *other* client in the room as `guest-N: the line\n`, N being the sender's number. The
//!   sender does not get its own line back. Lines from one sender arrive in the order sent.
//! - A client that leaves, politely or not, leaves the room; the others carry on.
//! - A client that never reads what it is sent must not stop the others from chatting.
//!   Its socket's buffers fill up and a write to it waits forever: the room must not wait
//!   with it, nor keep every line for it in memory without a bound.
//!
//! Check your work: `cargo exercise concurrency ex3`.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Runs the room for every client of `listener`, until the process ends.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let room = Room::new();
    let mut joined = 0;
    loop {
        let (stream, _) = listener.accept().await?;
        joined += 1;
        // A task per client: one that is slow to read or write holds up only its own task.
        tokio::spawn(chat(stream, joined, room.clone()));
    }
}

/// What every client's task shares, so that a line one client sends reaches the others.
#[derive(Clone)]
struct Room {
    // Add the fields you need.
}

impl Room {
    fn new() -> Room {
        todo!("make what the clients' tasks share")
    }
}

/// One client's life in the room: its welcome, then its lines, until it leaves.
async fn chat(stream: TcpStream, number: u64, room: Room) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    writer
        .write_all(format!("welcome, guest-{number}\n").as_bytes())
        .await?;
    let mut lines = BufReader::new(reader).lines();
    while let Some(line) = lines.next_line().await? {
        // Only the sender hears this. Send the line to the room instead, and write to this
        // client what the others say.
        writer
            .write_all(format!("guest-{number}: {line}\n").as_bytes())
            .await?;
    }
    Ok(())
}
