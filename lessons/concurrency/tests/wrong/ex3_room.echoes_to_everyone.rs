//! Wrong on purpose, exercise 3: a broadcast room that sends each line to every client, the
//! sender included, which then reads its own words back.
//!
//! Must fail: does_not_echo_a_line_to_its_sender, a_client_leaving_does_not_break_the_room

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::broadcast::{self, error::RecvError};

pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let (room, _) = broadcast::channel::<String>(256);
    let mut joined = 0;
    loop {
        let (stream, _) = listener.accept().await?;
        joined += 1;
        let number = joined;
        let room = room.clone();
        tokio::spawn(async move {
            let (reader, mut writer) = stream.into_split();
            let mut inbox = room.subscribe();
            let hearing = tokio::spawn(async move {
                let welcome = format!("welcome, guest-{number}\n");
                writer.write_all(welcome.as_bytes()).await?;
                loop {
                    match inbox.recv().await {
                        Ok(line) => writer.write_all(line.as_bytes()).await?,
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return Ok::<_, io::Error>(()),
                    }
                }
            });
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = room.send(format!("guest-{number}: {line}\n"));
            }
            hearing.abort();
        });
    }
}
