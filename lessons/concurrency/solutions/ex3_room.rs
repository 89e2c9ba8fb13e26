//! Exercise 3: Broadcast to the room (solution).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};

// ANCHOR: solution
/// How many lines the room keeps for a client that is behind. A client further behind
/// than this misses lines (its receiver is told how many) instead of the room waiting for
/// it or keeping every line for it: memory stays bounded whoever stops reading.
const BACKLOG: usize = 256;
/// The longest line a client may send; a longer one ends its connection.
const MAX_LINE: u64 = 4 * 1024;
/// A client that takes this long to accept one line is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A line said in the room: who said it (so the sender can skip its own), and the text
/// every other client is sent. `Arc` makes each receiver's copy a pointer, not the text.
#[derive(Clone)]
struct Said {
    from: u64,
    text: Arc<str>,
}

/// Runs the room for every client of `listener`, until the process ends.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    // One sender for everyone; each client gets its own receiver.
    let (room, _) = broadcast::channel::<Said>(BACKLOG);
    let mut joined = 0;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(client) => client,
            Err(e) => {
                eprintln!("room: accept failed: {e}");
                continue;
            }
        };
        joined += 1;
        tokio::spawn(chat(stream, joined, room.clone()));
    }
}

/// One client's life in the room: its welcome, then its lines, until it leaves.
async fn chat(stream: TcpStream, number: u64, room: broadcast::Sender<Said>) {
    let (reader, writer) = stream.into_split();
    // Subscribed before the welcome: every line sent after the welcome reaches it.
    let inbox = room.subscribe();
    // Two halves, two tasks: hearing waits on this client's socket, speaking on the room.
    let hearing = tokio::spawn(hear(inbox, writer, number));
    if let Err(e) = speak(reader, number, &room).await {
        eprintln!("room: guest-{number}: {e}");
    }
    // The client left: stop writing to it. Dropping its receiver leaves the room.
    hearing.abort();
}

/// Sends each line the client writes to the room.
async fn speak(
    reader: OwnedReadHalf,
    number: u64,
    room: &broadcast::Sender<Said>,
) -> io::Result<()> {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await?;
        // 0: the client closed. No `\n`: the line was too long, or cut off by the close.
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\n').trim_end_matches('\r');
        let said = Said {
            from: number,
            text: format!("guest-{number}: {text}\n").into(),
        };
        // `send` never waits: it fails only when nobody listens, which is fine.
        let _ = room.send(said);
    }
}

/// Writes the welcome, then every line the others say, to the client.
async fn hear(mut inbox: broadcast::Receiver<Said>, mut writer: OwnedWriteHalf, number: u64) {
    let welcome = format!("welcome, guest-{number}\n");
    if write(&mut writer, welcome.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let said = match inbox.recv().await {
            Ok(said) => said,
            // Too far behind: the oldest lines are gone. Carry on with the next one.
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        if said.from != number && write(&mut writer, said.text.as_bytes()).await.is_err() {
            return; // gone, or too slow: this task ends and its receiver leaves the room
        }
    }
}

async fn write(writer: &mut OwnedWriteHalf, bytes: &[u8]) -> io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}
// ANCHOR_END: solution
