//! A chat room on Tokio: every line a client sends goes to every other client.
//!
//! The worked example of shared state in the async model. Try it with `nc`:
//! `cargo run -p concurrency -- chat`, then `nc 127.0.0.1 9000` in two more terminals.
//!
//! The protocol is lines of text:
//! - On connect a client hears `welcome, you are guest-N (K others here)`, and the others
//!   hear `* guest-N joined`.
//! - Each line it sends goes to every other client as `guest-N: text`. Bytes that are not
//!   UTF-8 become `�`, and so do control characters (a terminal escape sent by one client
//!   must not reach the others' terminals).
//! - `/name NEW` renames it (1 to 20 of `A-Z a-z 0-9 _ -`, not taken, not `guest-...`);
//!   `/quit` leaves. When it leaves, the others hear `* guest-N left`.
//! - A line longer than [`ChatConfig::max_line`] gets `line too long (max 1024 bytes)` and
//!   the client is disconnected; so does a full room: `room full, try again later`.
//!
//! # One sender, many receivers
//!
//! Each client runs as one task. A line it sends goes into a [`tokio::sync::broadcast`]
//! channel, which every client's task reads from and writes to its own socket. The channel
//! is what keeps one slow client from stalling the room: sending never waits. The channel
//! keeps the last [`ChatConfig::backlog`] messages, and a receiver that has not read an old
//! message when a new one would push it out just loses it; its next read says how many it
//! missed (`RecvError::Lagged`). A client that lags like that, or whose socket does not
//! take our writes for [`ChatConfig::write_timeout`] (it stopped reading and its buffers
//! filled), is disconnected with a log line such as
//! `guest-3: disconnected: fell 12 messages behind`. Everyone else goes on.
//!
//! Compare the naive room: a list of sockets, and a loop that writes each line to each of
//! them. One client that stops reading fills its socket's buffers, the loop's write to it
//! waits, and so does every other client.
//!
//! A sender that never waits has its own danger: one client that pastes 5,000 lines fills
//! the channel in a moment, faster than the other tasks can write, and every other client
//! falls behind and is disconnected (we saw exactly that before the fix). So each client
//! has a pace, [`ChatConfig::lines_per_second`]: a client that sends faster waits, and
//! while it waits we do not read its socket, so TCP's flow control slows it down at the
//! source.
//!
//! # Shared state
//!
//! The names in the room are shared by every task: a `Mutex<BTreeMap>` inside an `Arc`. It
//! is a std lock, locked only inside small functions of `Room` that are not async: they
//! lock, read or update the map, and unlock before they return, so no task ever holds the
//! lock across an `.await` (see [`crate::state`] for why that matters).

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};

use crate::Shutdown;
use crate::models::reachable;

// ANCHOR: config
/// The limits that bound what one client can cost the room.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Clients in the room at once; one more is told `room full, try again later`.
    pub max_clients: usize,
    /// The longest line a client may send, in bytes, without its line end. A longer one
    /// disconnects the client: the room never buffers more than this for a line.
    pub max_line: usize,
    /// How many messages a client may fall behind before it is disconnected: the
    /// broadcast channel's capacity (Tokio rounds it up to a power of two).
    pub backlog: usize,
    /// A client whose socket does not take a line within this long (it does not read, and
    /// its buffers are full) is disconnected.
    pub write_timeout: Duration,
    /// How many lines a second a client may say, after a burst of as many (at most a
    /// quarter of the backlog). A client that sends faster waits, and so does its input.
    pub lines_per_second: u32,
}
// ANCHOR_END: config

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            max_clients: 100,
            max_line: 1024,
            backlog: 64,
            write_timeout: Duration::from_secs(5),
            lines_per_second: 10,
        }
    }
}

/// On shutdown: how long the clients' tasks get to say goodbye before they are stopped.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// The last words to a client we disconnect, and the wait for its end of the connection,
/// are bounded by this (see [`close`]).
const LINGER: Duration = Duration::from_millis(500);

// ANCHOR: message
/// One line for the room: who sent it, so that the sender's own task skips it, and the
/// line as it goes on the wire. `Arc<str>`: each receiver gets a copy of the pointer, not of
/// the text.
#[derive(Debug, Clone)]
struct Message {
    from: u64,
    line: Arc<str>,
}
// ANCHOR_END: message

// ANCHOR: room
/// What every client's task shares: the names in the room and the sending end of the
/// broadcast channel. No method is async, and each one unlocks before it returns.
struct Room {
    names: Mutex<BTreeMap<u64, String>>,
    sender: broadcast::Sender<Message>,
    max_clients: usize,
    /// Set at shutdown: clients leaving then are not announced, the room is closing.
    closing: AtomicBool,
}

/// A client let in: its name, how many were there before it, and its end of the channel.
struct Joined {
    name: String,
    others: usize,
    receiver: broadcast::Receiver<Message>,
}

impl Room {
    /// The map, locked. A task that panicked while holding the lock leaves the map whole
    /// (every update is one insert or remove), so a poisoned lock is taken anyway.
    fn names(&self) -> MutexGuard<'_, BTreeMap<u64, String>> {
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets client `id` in as `guest-<id>`, unless the room is full, and tells the others.
    /// It subscribes under the lock: from the moment it counts as here, it receives every
    /// message.
    fn join(&self, id: u64) -> Option<Joined> {
        let mut names = self.names();
        if names.len() >= self.max_clients {
            return None;
        }
        let name = format!("guest-{id}");
        let others = names.len();
        names.insert(id, name.clone());
        let receiver = self.sender.subscribe();
        // Announced here, in the order clients join: a later client never hears of an
        // earlier one joining.
        self.say(id, format!("* {name} joined\n"));
        Some(Joined {
            name,
            others,
            receiver,
        })
    }

    /// Client `id`'s name now.
    fn name(&self, id: u64) -> String {
        self.names().get(&id).cloned().unwrap_or_default()
    }

    /// Renames client `id`; returns its old name, or the reply that says why not.
    fn rename(&self, id: u64, new: &str) -> Result<String, String> {
        if !valid_name(new) {
            return Err("bad name: use 1 to 20 letters, digits, _ or -".into());
        }
        if new.starts_with("guest-") {
            return Err(format!("{new}: names guest-... are given by the room"));
        }
        let mut names = self.names();
        if names.values().any(|name| name == new) {
            return Err(format!("{new}: that name is taken"));
        }
        let name = names.get_mut(&id).ok_or("you are not in the room")?;
        Ok(std::mem::replace(name, new.to_owned()))
    }

    /// Removes client `id`; returns the name it had.
    fn leave(&self, id: u64) -> Option<String> {
        self.names().remove(&id)
    }

    /// Sends a line to every client in the room (the sender's task skips it). Never waits:
    /// a full channel drops its oldest message, which the slowest receiver then misses.
    fn say(&self, from: u64, line: String) {
        // An error means that nobody is listening, which is no error for a chat room.
        let _ = self.sender.send(Message {
            from,
            line: line.into(),
        });
    }
}
// ANCHOR_END: room

/// 1 to 20 characters, each an ASCII letter, digit, `_` or `-`.
fn valid_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

// ANCHOR: member
/// A client's place in the room. Dropping it takes the client out and tells the others
/// (unless the room is closing), however its task ended: a return, a panic, an abort.
struct Member {
    id: u64,
    room: Arc<Room>,
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some(name) = self.room.leave(self.id)
            && !self.room.closing.load(Ordering::SeqCst)
        {
            self.room.say(self.id, format!("* {name} left\n"));
        }
    }
}
// ANCHOR_END: member

// ANCHOR: run
/// Runs the chat room on `listener` until `shutdown` is triggered; then every client hears
/// goodbye and is disconnected, and `run` returns within about a second.
pub fn run(
    listener: std::net::TcpListener,
    shutdown: Shutdown,
    config: ChatConfig,
) -> io::Result<()> {
    shutdown.wake_by_connecting_to(reachable(listener.local_addr()?));
    listener.set_nonblocking(true)?; // Tokio's listener waits for readiness, not in accept
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chat")
        .build()?;
    runtime.block_on(serve(listener, shutdown, config))
}
// ANCHOR_END: run

// ANCHOR: serve
/// The accept loop: each client that fits in the room gets a task of its own.
async fn serve(
    listener: std::net::TcpListener,
    shutdown: Shutdown,
    config: ChatConfig,
) -> io::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    let (sender, _) = broadcast::channel(config.backlog.max(1));
    let room = Arc::new(Room {
        names: Mutex::default(),
        sender,
        max_clients: config.max_clients,
        closing: AtomicBool::new(false),
    });
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for id in 1u64.. {
        if shutdown.is_triggered() {
            break;
        }
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // A connection that died in the queue, or a full file table: not fatal.
            Err(e) => {
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // that was the wake-up connection
        }
        while let Some(ended) = tasks.try_join_next() {
            report(ended);
        }
        let Some(joined) = room.join(id) else {
            eprintln!("{peer}: turned away, the room is full");
            tasks.spawn(turn_away(stream, config.write_timeout));
            continue;
        };
        let member = Member {
            id,
            room: Arc::clone(&room),
        };
        tasks.spawn(client(
            stream,
            member,
            joined,
            stopping.clone(),
            config.clone(),
        ));
    }

    // Every task sees the stop, says goodbye and closes; those that take too long (a write
    // to a client that does not read) are aborted.
    room.closing.store(true, Ordering::SeqCst); // before any task can see the stop
    let _ = stop.send(true);
    let all_ended = timeout(STOP_WAIT, async {
        while let Some(ended) = tasks.join_next().await {
            report(ended);
        }
    });
    if all_ended.await.is_err() {
        tasks.shutdown().await;
    }
    Ok(())
}
// ANCHOR_END: serve

/// A task that panicked is a bug worth a line; the room goes on without that client.
fn report(ended: Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended
        && e.is_panic()
    {
        eprintln!("a client's task panicked: {e}");
    }
}

/// Why we ended a client's connection (a client that closes or says `/quit` just leaves).
#[derive(Debug)]
enum End {
    /// The room is closing.
    Stopped,
    /// It sent a line longer than `max_line`.
    TooLong,
    /// It fell this many messages behind the room.
    Lagged(u64),
    /// Its socket did not take a whole line within the write timeout (the part it took
    /// arrives: the client's last line is cut short).
    NotReading(Duration),
    /// Its connection failed (a reset, for example).
    Io(io::Error),
}

// ANCHOR: client
/// One client, from welcome to goodbye.
async fn client(
    stream: TcpStream,
    member: Member,
    joined: Joined,
    mut stopping: watch::Receiver<bool>,
    config: ChatConfig,
) {
    let (mut reader, mut writer) = stream.into_split();
    let ended = talk(
        &mut reader,
        &mut writer,
        &member,
        joined,
        &mut stopping,
        &config,
    )
    .await;
    let name = member.room.name(member.id);
    drop(member); // out of the room now: the others hear it left
    let Err(end) = ended else {
        return close(reader, writer).await; // it closed, or said /quit
    };
    let last_words = match &end {
        End::Stopped => "* the room is closing, goodbye\n".to_owned(),
        End::TooLong => format!("line too long (max {} bytes)\n", config.max_line),
        End::Lagged(missed) => format!("you fell {missed} messages behind, goodbye\n"),
        End::NotReading(_) | End::Io(_) => String::new(), // it would not hear them
    };
    match &end {
        End::Stopped => {}
        End::TooLong => eprintln!("{name}: disconnected: line too long"),
        End::Lagged(missed) => eprintln!("{name}: disconnected: fell {missed} messages behind"),
        End::NotReading(waited) => {
            eprintln!("{name}: disconnected: not reading (a write waited {waited:?})")
        }
        End::Io(e) => eprintln!("{name}: disconnected: {e}"),
    }
    if !last_words.is_empty() {
        let _ = send(&mut writer, &last_words, config.write_timeout.min(LINGER)).await;
    }
    close(reader, writer).await;
}
// ANCHOR_END: client

// ANCHOR: talk
/// The client's loop: whichever comes first, the room closing, a message from the room
/// (written to the client), the end of a rest (when it sent faster than its pace), or the
/// client's own input (said to the room). Returns `Ok` when the client leaves by itself.
async fn talk(
    reader: &mut OwnedReadHalf,
    writer: &mut OwnedWriteHalf,
    member: &Member,
    joined: Joined,
    stopping: &mut watch::Receiver<bool>,
    config: &ChatConfig,
) -> Result<(), End> {
    let Joined {
        name,
        others,
        mut receiver,
    } = joined;
    let (id, room) = (member.id, &member.room);
    let here = match others {
        1 => "1 other here".to_owned(),
        n => format!("{n} others here"),
    };
    let welcome = format!("welcome, you are {name} ({here})\n");
    send(writer, &welcome, config.write_timeout).await?;
    send(
        writer,
        "/name NEW renames you, /quit leaves\n",
        config.write_timeout,
    )
    .await?;

    let mut lines = Lines::new(config.max_line);
    let mut pace = Pace::new(config, Instant::now());
    let mut buf = vec![0; 4096];
    loop {
        // The whole lines that came, one per token of the client's pace. Out of tokens, the
        // rest wait, and we stop reading: its input waits in the socket, and TCP slows the
        // client down. The room's messages still go out to it meanwhile.
        let mut resting = None;
        while lines.has_line() {
            if let Err(until) = pace.take(Instant::now()) {
                resting = Some(until);
                break;
            }
            let Some(line) = lines.next_line().map_err(|TooLong| End::TooLong)? else {
                break;
            };
            if !act(&line, id, room, writer, config).await? {
                return Ok(()); // it said /quit
            }
        }
        tokio::select! {
            biased; // in this order: stopping, the room, then the client
            _ = stopping.changed() => return Err(End::Stopped),
            message = receiver.recv() => match message {
                Ok(message) if message.from == id => {} // its own line, or its own notice
                Ok(message) => send(writer, &message.line, config.write_timeout).await?,
                Err(RecvError::Lagged(missed)) => return Err(End::Lagged(missed)),
                Err(RecvError::Closed) => return Err(End::Stopped),
            },
            () = sleep_until(resting.unwrap_or_else(Instant::now)), if resting.is_some() => {}
            read = reader.read(&mut buf), if resting.is_none() => match read {
                Ok(0) => return Ok(()), // the client closed its end
                Ok(n) => lines.push(&buf[..n]).map_err(|TooLong| End::TooLong)?,
                Err(e) => return Err(End::Io(e)),
            },
        }
    }
}
// ANCHOR_END: talk

// ANCHOR: act
/// Does what a line says: a command, or words for the room. `Ok(false)` after `/quit`.
async fn act(
    line: &str,
    id: u64,
    room: &Room,
    writer: &mut OwnedWriteHalf,
    config: &ChatConfig,
) -> Result<bool, End> {
    let reply = match line.split_once(' ').unwrap_or((line, "")) {
        ("", "") => return Ok(true), // an empty line says nothing
        ("/quit", _) => {
            send(writer, "bye\n", config.write_timeout).await?;
            return Ok(false);
        }
        ("/name", new) => match room.rename(id, new.trim()) {
            Ok(old) => {
                let new = room.name(id);
                room.say(id, format!("* {old} is now {new}\n"));
                format!("you are now {new}\n")
            }
            Err(why) => format!("{why}\n"),
        },
        (command, _) if command.starts_with('/') => {
            format!("unknown command {command}: try /name NEW or /quit\n")
        }
        _ => {
            let name = room.name(id); // locks and unlocks: no guard lives past this line
            room.say(id, format!("{name}: {line}\n"));
            return Ok(true);
        }
    };
    send(writer, &reply, config.write_timeout).await?;
    Ok(true)
}
// ANCHOR_END: act

/// Writes a whole line to the client, within `limit`.
async fn send(writer: &mut OwnedWriteHalf, line: &str, limit: Duration) -> Result<(), End> {
    match timeout(limit, writer.write_all(line.as_bytes())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(End::Io(e)),
        Err(_) => Err(End::NotReading(limit)),
    }
}

/// A client that finds the room full hears why, and is disconnected.
async fn turn_away(stream: TcpStream, write_timeout: Duration) {
    let (reader, mut writer) = stream.into_split();
    let _ = send(
        &mut writer,
        "room full, try again later\n",
        write_timeout.min(LINGER),
    )
    .await;
    close(reader, writer).await;
}

// ANCHOR: close
/// Closes a connection so that our last lines arrive. A socket closed with unread input
/// makes the kernel send a reset (RFC 1122 §4.2.2.13), and a reset can destroy data the
/// peer has not read yet, such as our last line. So: send our FIN (the client reads to the
/// end, then sees end-of-stream), then read and discard what the client still sends until
/// it closes too, for at most [`LINGER`].
async fn close(mut reader: OwnedReadHalf, mut writer: OwnedWriteHalf) {
    let _ = timeout(LINGER, writer.shutdown()).await;
    let _ = timeout(LINGER, drain(&mut reader)).await;
}
// ANCHOR_END: close

/// Reads until the end of the stream or an error.
async fn drain(reader: &mut (impl AsyncRead + Unpin)) {
    let mut buf = [0; 4096];
    while let Ok(1..) = reader.read(&mut buf).await {}
}

// ANCHOR: pace
/// A client's pace, a token bucket: it may say a burst of lines at once, then
/// `lines_per_second`. One client pasting thousands of lines could otherwise fill the
/// channel faster than the others' tasks can write, and make every one of them lag.
struct Pace {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Pace {
    fn new(config: &ChatConfig, now: Instant) -> Pace {
        let per_second = config.lines_per_second.max(1);
        let burst = (per_second as usize).min(config.backlog / 4).max(1) as f64;
        Pace {
            per_second: per_second.into(),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes the token for one line at `now`, or says when the next token comes.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let earned = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - self.tokens) / self.per_second; // under a second
        Err(now + Duration::from_secs_f64(wait))
    }
}
// ANCHOR_END: pace

// ANCHOR: lines
/// A line that went past the limit before its end came.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLong;

/// Splits a byte stream into lines, holding at most `max` bytes of a line: sans-IO, so
/// testable without a socket. A line ends with `\n` (an `\r` before it is dropped: `nc`
/// and telnet may send `\r\n`).
#[derive(Debug)]
pub struct Lines {
    buf: Vec<u8>,
    max: usize,
}

impl Lines {
    pub fn new(max: usize) -> Lines {
        Lines {
            buf: Vec::new(),
            max,
        }
    }

    /// Adds what a read brought. `Err(TooLong)`: the line under way is already longer
    /// than `max`, without waiting for its end.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), TooLong> {
        self.buf.extend_from_slice(bytes);
        let start = self
            .buf
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let tail = &self.buf[start..];
        let tail = tail.strip_suffix(b"\r").unwrap_or(tail);
        if tail.len() > self.max {
            return Err(TooLong);
        }
        Ok(())
    }

    /// Whether a whole line is here.
    pub fn has_line(&self) -> bool {
        self.buf.contains(&b'\n')
    }

    /// The next whole line, as text: invalid UTF-8 and control characters become `�`.
    /// `Ok(None)`: no whole line yet. `Err(TooLong)`: it is longer than `max`.
    pub fn next_line(&mut self) -> Result<Option<String>, TooLong> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line: Vec<u8> = self.buf.drain(..=end).collect();
        let line = &line[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max {
            return Err(TooLong);
        }
        let text = String::from_utf8_lossy(line);
        Ok(Some(text.chars().map(printable).collect()))
    }
}

/// A control character (an escape sequence's start, a backspace, a bell) is shown as `�`:
/// one client's bytes must not drive another's terminal. Tabs stay.
fn printable(c: char) -> char {
    if c.is_control() && c != '\t' {
        char::REPLACEMENT_CHARACTER
    } else {
        c
    }
}
// ANCHOR_END: lines

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(max: usize, chunks: &[&[u8]]) -> Vec<Result<String, TooLong>> {
        let mut lines = Lines::new(max);
        let mut found = Vec::new();
        for chunk in chunks {
            if let Err(e) = lines.push(chunk) {
                found.push(Err(e));
                return found;
            }
            loop {
                match lines.next_line() {
                    Ok(Some(line)) => found.push(Ok(line)),
                    Ok(None) => break,
                    Err(e) => {
                        found.push(Err(e));
                        return found;
                    }
                }
            }
        }
        found
    }

    #[test]
    fn lines_split_across_and_within_reads() {
        let found = lines_of(10, &[b"he", b"llo\nwor", b"ld\r\n\nx"]);
        let want = ["hello", "world", ""].map(|s| Ok(s.to_owned()));
        assert_eq!(found, want);
    }

    #[test]
    fn a_line_may_be_max_bytes_long_and_no_longer() {
        assert_eq!(lines_of(5, &[b"12345\r\n"]), [Ok("12345".to_owned())]);
        assert_eq!(lines_of(5, &[b"123456\n"]), [Err(TooLong)]);
        // Without waiting for the end of the line: the buffer never holds more than max.
        assert_eq!(lines_of(5, &[b"12345"]), []);
        assert_eq!(lines_of(5, &[b"12345\r"]), []);
        assert_eq!(lines_of(5, &[b"123", b"456"]), [Err(TooLong)]);
    }

    #[test]
    fn bad_bytes_and_control_characters_become_replacement_characters() {
        let found = lines_of(100, &[b"caf\xe9 \x1b[31mred\x07\tok\n"]);
        assert_eq!(
            found,
            [Ok("caf\u{fffd} \u{fffd}[31mred\u{fffd}\tok".to_owned())]
        );
    }

    #[test]
    fn the_pace_allows_a_burst_then_lines_per_second() {
        let config = ChatConfig {
            lines_per_second: 4,
            ..ChatConfig::default()
        };
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut pace = Pace::new(&config, start);
        for _ in 0..4 {
            assert_eq!(pace.take(start), Ok(()));
        }
        assert_eq!(pace.take(start), Err(at(250)), "the burst is spent");
        assert_eq!(pace.take(at(250)), Ok(()));
        assert_eq!(pace.take(at(300)), Err(at(500)));
        // After a long pause, a burst again, not 40 lines.
        for _ in 0..4 {
            assert_eq!(pace.take(at(10_300)), Ok(()));
        }
        assert!(pace.take(at(10_300)).is_err());
        // The burst is at most a quarter of the backlog.
        let config = ChatConfig {
            lines_per_second: 1000,
            backlog: 16,
            ..ChatConfig::default()
        };
        let mut pace = Pace::new(&config, start);
        assert_eq!((0..10).filter(|_| pace.take(start).is_ok()).count(), 4);
    }

    #[test]
    fn names_are_short_and_plain() {
        for good in ["a", "alice", "Bob_2", "x-y", "12345678901234567890"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "two words", "émile", "a/b", "123456789012345678901"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
