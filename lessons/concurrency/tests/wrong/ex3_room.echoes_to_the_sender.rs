//! Wrong on purpose, exercise 3: the starter with a room that does nothing: each client's line
//! goes back to it alone, and nobody else hears it.
//!
//! Must fail: sends_a_line_to_every_other_client, names_guests_in_the_order_they_join, does_not_echo_a_line_to_its_sender, keeps_the_order_of_a_senders_lines, a_line_sent_in_pieces_arrives_whole, a_guest_who_joins_later_hears_later_lines, a_client_that_never_reads_does_not_stall_the_room, a_client_leaving_does_not_break_the_room

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let room = Room::new();
    let mut joined = 0;
    loop {
        let (stream, _) = listener.accept().await?;
        joined += 1;
        tokio::spawn(chat(stream, joined, room.clone()));
    }
}

#[derive(Clone)]
struct Room {}

impl Room {
    fn new() -> Room {
        Room {}
    }
}

async fn chat(stream: TcpStream, number: u64, _room: Room) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    writer
        .write_all(format!("welcome, guest-{number}\n").as_bytes())
        .await?;
    let mut lines = BufReader::new(reader).lines();
    while let Some(line) = lines.next_line().await? {
        writer
            .write_all(format!("guest-{number}: {line}\n").as_bytes())
            .await?;
    }
    Ok(())
}
