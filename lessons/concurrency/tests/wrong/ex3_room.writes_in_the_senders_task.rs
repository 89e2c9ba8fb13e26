//! Wrong on purpose, exercise 3: the room as a locked list of the clients' write halves, and
//! each sender's task writing its line to every other client in turn. A client that never reads
//! fills its buffers, a write to it waits forever, and the sender (holding the lock) waits with
//! it, so the whole room stalls; and a write to a client that left ends the sender's task.
//!
//! Must fail: a_client_that_never_reads_does_not_stall_the_room, a_client_leaving_does_not_break_the_room

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

type Room = Arc<Mutex<HashMap<u64, OwnedWriteHalf>>>;

pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let room: Room = Arc::default();
    let mut joined = 0;
    loop {
        let (stream, _) = listener.accept().await?;
        joined += 1;
        tokio::spawn(chat(stream, joined, Arc::clone(&room)));
    }
}

async fn chat(stream: TcpStream, number: u64, room: Room) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    {
        let mut clients = room.lock().await;
        let welcome = format!("welcome, guest-{number}\n");
        writer.write_all(welcome.as_bytes()).await?;
        clients.insert(number, writer);
    }
    let mut lines = BufReader::new(reader).lines();
    while let Some(line) = lines.next_line().await? {
        let text = format!("guest-{number}: {line}\n");
        let mut clients = room.lock().await;
        for (other, writer) in clients.iter_mut() {
            if *other != number {
                writer.write_all(text.as_bytes()).await?;
            }
        }
    }
    room.lock().await.remove(&number);
    Ok(())
}
