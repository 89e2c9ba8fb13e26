//! The async model (the `async` model): a task per connection, on Tokio's multi-threaded
//! runtime.
//!
//! The code reads like the thread-per-connection model: a loop that reads, answers, writes,
//! with `.await` where a thread would block. But an `async fn` compiles to a state machine,
//! the same kind of struct the readiness loop keeps by hand for each connection, and a task
//! is that struct on the heap. When a task would block, it returns to the runtime instead,
//! which runs other tasks on the same few threads; Tokio's reactor (a `mio` loop, as in the
//! `poll` model) wakes the task when its socket is ready, and its timer wheel when a
//! deadline passes.
//!
//! What it costs: a runtime (its threads, its build time), and rules a thread does not have:
//! a task must not block its thread (no `std::thread::sleep`, no blocking reads, no long
//! computation without `spawn_blocking`), and a `std::sync::Mutex` must not be held across
//! an `.await` (the task could move on while holding it, and another task on that thread wait
//! for it for ever).
//!
//! When it is right: many connections, most of them waiting, on all the cores, written as
//! straight-line code. An idle connection costs a few KiB (its task, its read buffer), not a
//! thread's stack; the ten-thousand-connection benchmark measures it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinError, JoinSet};
use tokio::time::{self, Instant};

use super::{is_disconnect, reachable};
use crate::responder::{self, Flow, Responder};
use crate::{Config, Shutdown};

/// Each connection's read buffer. Small, because every idle connection keeps one.
const READ_BUF: usize = 4 * 1024;

/// After our last response, how long we read (and throw away) what the client still sends
/// before we close: closing a socket with unread input sends a reset, which can destroy the
/// response on its way.
const LINGER: Duration = Duration::from_secs(1);

/// After a failed `accept` (a full file table), wait this long before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

// ANCHOR: run
/// Serves HTTP on `listener` with a task per connection until `shutdown` is triggered, then
/// lets the requests under way finish (within [`Config::drain_timeout`]) and returns.
pub fn run(listener: std::net::TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_io()
        .enable_time()
        .build()?;
    // Tokio's listener needs a non-blocking socket: it waits in the reactor, not in accept.
    listener.set_nonblocking(true)?;
    runtime.block_on(accept_loop(listener, shutdown, config))
}
// ANCHOR_END: run

// ANCHOR: accept_loop
/// Accepts connections and spawns a task for each, while a permit is free; then stops them.
async fn accept_loop(
    listener: std::net::TcpListener,
    shutdown: Shutdown,
    config: Config,
) -> io::Result<()> {
    let addr = reachable(listener.local_addr()?);
    let listener = TcpListener::from_std(listener)?;
    shutdown.wake_by_connecting_to(addr);
    let config = Arc::new(config);
    // One permit per connection: a task holds its permit until it ends, even by a panic.
    let permits = Arc::new(Semaphore::new(
        config.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();

    while !shutdown.is_triggered() {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Collect finished tasks as they end, so the set does not grow, and report a
            // task that panicked.
            Some(done) = tasks.join_next() => {
                report(done);
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // A full file table (EMFILE), or a client that gave up in the queue.
                eprintln!("accept failed: {e}");
                time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // that was the wake-up connection
        }
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            let max = config.max_connections;
            eprintln!("{peer}: turned away with 503, {max} connections already");
            turn_away(stream);
            continue;
        };
        let config = Arc::clone(&config);
        tasks.spawn(connection(stream, peer, config, stopped.clone(), permit));
    }

    drop(listener); // new connections are refused from here on
    stop.send_replace(true);
    let drain = async {
        while let Some(done) = tasks.join_next().await {
            report(done);
        }
    };
    if time::timeout(config.drain_timeout, drain).await.is_err() {
        eprintln!(
            "{} connections still busy at the drain timeout; closed",
            tasks.len()
        );
        tasks.shutdown().await; // cancels them: each task's socket closes as it drops
    }
    Ok(())
}
// ANCHOR_END: accept_loop

/// A task ended. Tokio caught its panic, if any (the `/panic` route): the task's socket was
/// dropped, so that connection is closed, and the server goes on.
fn report(done: Result<(), JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        eprintln!("a connection's task panicked; its connection was closed");
    }
}

/// Answers a connection there is no room for with `503` and closes it, without making the
/// accept loop wait, as the threads model does, on the std socket: Tokio's `try_write` says
/// `WouldBlock` until the reactor has seen the socket writable once.
fn turn_away(stream: TcpStream) {
    if let Ok(stream) = stream.into_std() {
        let _ = stream.set_nodelay(true);
        super::threads::turn_away(stream);
    }
}

// ANCHOR: connection
/// One connection's task. The permit goes back when the task ends, however it ends.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    config: Arc<Config>,
    stopped: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    // Each response leaves in one write; Nagle's algorithm would hold a small write back
    // until the client's ACK of the previous one, and the client delays its ACKs: the 40 ms
    // stall. Our writes are whole responses, so there is nothing to coalesce.
    let _ = stream.set_nodelay(true);
    if let Err(e) = serve(&mut stream, &config, stopped).await
        && !is_disconnect(&e)
    {
        eprintln!("{peer}: {e}");
    }
}
// ANCHOR_END: connection

// ANCHOR: serve
/// Serves one connection until the client closes it, asks to close, errs, times out, or
/// the server stops. Like the thread model's loop, with `.await` where it would block, and
/// `select!` to wait for whichever comes first: bytes, a deadline, or the stop signal.
async fn serve(
    stream: &mut TcpStream,
    config: &Config,
    stopped: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut buf = vec![0u8; READ_BUF];
    let mut out = Vec::new();
    let mut responder = Responder::new(config);
    let mut stopping = false;
    // Resolves once, when the server stops (or is gone): it wakes a task that waits.
    let mut waiter = stopped.clone();
    let stop = async move {
        let _ = waiter.wait_for(|&stop| stop).await;
    };
    tokio::pin!(stop);
    // The deadlines, and one timer that rings at or before the nearest of them (see below).
    let mut idle_until = Instant::now() + config.idle_timeout;
    let mut request_until: Option<Instant> = None;
    let timer = time::sleep_until(idle_until);
    tokio::pin!(timer);

    loop {
        let n = tokio::select! {
            // In this order: bytes that have arrived are read before the stop signal is
            // heeded (they may be a request under way), and before a deadline.
            biased;
            read = stream.read(&mut buf) => read?,
            () = &mut stop, if !stopping => {
                stopping = true; // the next response says `Connection: close`
                if responder.in_progress() {
                    continue; // let the request under way finish
                }
                return Ok(()); // nothing under way: close now
            }
            () = &mut timer => {
                let due = request_until.unwrap_or(idle_until);
                if Instant::now() < due {
                    timer.as_mut().reset(due); // the deadline moved later since we set it
                    continue;
                }
                if request_until.is_none() {
                    return Ok(()); // idle too long: just close
                }
                let timeout = config.header_timeout;
                write(stream, &responder::timed_out(), config).await?;
                linger(stream, &mut buf).await;
                let why = format!("408: request not complete in {timeout:?}");
                return Err(io::Error::new(io::ErrorKind::TimedOut, why));
            }
        };
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        // The signal may have come with these bytes, before this task heard it; from then
        // on every response says `Connection: close`. (An atomic load: no lock.)
        stopping = stopping || stopped.has_changed().unwrap_or(true);
        let was_in_progress = responder.in_progress();
        let flow = responder.feed(&buf[..n], &mut out, stopping);
        let answered = !out.is_empty();
        if answered {
            write(stream, &out, config).await?; // every response of this read, one write
            out.clear();
        }
        if flow == Flow::Close || (stopping && !responder.in_progress()) {
            linger(stream, &mut buf).await;
            return Ok(());
        }
        // Restart the clocks: the request clock from a request's first byte; the idle
        // clock when no request is under way.
        let now = Instant::now();
        if !responder.in_progress() {
            request_until = None;
            idle_until = now + config.idle_timeout;
        } else if !was_in_progress || answered {
            request_until = Some(now + config.header_timeout);
        }
        // The timer moves only when a deadline comes earlier than it. After each response
        // the idle deadline moves later, and the timer stays: when it rings, the branch
        // above files it again. A busy connection resets its timer once per idle timeout,
        // not once per request.
        let due = request_until.unwrap_or(idle_until);
        if due < timer.deadline() {
            timer.as_mut().reset(due);
        }
    }
}
// ANCHOR_END: serve

/// Writes all of `bytes`, or fails if the client does not read them within
/// [`Config::write_timeout`].
///
/// Most writes fit in the socket's send buffer and complete at once, so it tries that
/// first, without a timer; only a write that has to wait starts the clock.
async fn write(stream: &mut TcpStream, bytes: &[u8], config: &Config) -> io::Result<()> {
    let rest = match stream.try_write(bytes) {
        Ok(n) if n == bytes.len() => return Ok(()),
        Ok(n) => &bytes[n..],
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => bytes,
        Err(e) => return Err(e),
    };
    match time::timeout(config.write_timeout, stream.write_all(rest)).await {
        Ok(written) => written,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "not reading our responses (write timed out)",
        )),
    }
}

/// The last response is out: send FIN, then read (and discard) until the client's, for at
/// most [`LINGER`] and 64 KiB.
async fn linger(stream: &mut TcpStream, buf: &mut [u8]) {
    let _ = stream.shutdown().await;
    let discard = async {
        let mut total = 0;
        while total < 64 * 1024 {
            match stream.read(buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
        }
    };
    let _ = time::timeout(LINGER, discard).await;
}
