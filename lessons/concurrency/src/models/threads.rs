//! The threads model: a new thread for every connection.
//!
//! The accept loop hands each connection to a thread of its own, which runs the iterative
//! model's connection loop ([`serve_connection`]) unchanged, and goes straight back to
//! `accept`. A slow or idle client now holds only its own thread; the others go on.
//!
//! **Cost.** Each connection costs a thread: a stack (Rust reserves 2 MiB of address space
//! for it, of which only the pages touched become memory, typically a few dozen KiB), a
//! kernel task for the scheduler, and a context switch each time it wakes. Hundreds or a
//! few thousand are fine. Without a limit, though, whoever opens connections decides how
//! many threads you start: so at most [`Config::max_connections`] run at once, and the
//! accept loop answers more with `503 Service Unavailable` and `Retry-After` at once,
//! without starting a thread.
//!
//! **Right for.** Moderate numbers of connections, and code that blocks (a database
//! driver, file IO) that you would rather not rewrite. It is what most servers did for
//! decades, and it is still the simplest model that serves many clients.
//!
//! **Panics.** A panic in one connection's code unwinds that thread only: its socket
//! closes, its place among the `max_connections` is given back (by [`Slot`]'s `drop`), and
//! the other threads never notice. No `catch_unwind` is needed: a thread is the boundary.
//!
//! **Shutdown.** Each connection's reads look at the shutdown flag every
//! [`TICK`](super::iterative::TICK), as in the iterative model: idle connections close
//! within a tick, requests under way get the drain timeout. The accept loop stops, closes
//! the listener (new clients are refused rather than left waiting), and joins every thread
//! before `run` returns.

use std::io::{self, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::iterative::{accept_failed, serve_connection};
use super::reachable;
use crate::responder;
use crate::{Config, Shutdown};

// ANCHOR: run
/// Serves HTTP on `listener`, each connection on a thread of its own, until `shutdown` is
/// triggered; then waits for every connection's thread.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    shutdown.wake_by_connecting_to(reachable(listener.local_addr()?));
    let open = Arc::new(AtomicUsize::new(0)); // connections being served
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    while !shutdown.is_triggered() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e);
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // the wake-up connection, or a client that came too late
        }
        threads.retain(|thread| !thread.is_finished()); // forget the threads that ended
        if open.load(Ordering::SeqCst) >= config.max_connections {
            let max = config.max_connections;
            eprintln!("{peer}: turned away with 503, {max} connections already");
            turn_away(stream);
            continue;
        }
        let slot = Slot::take(&open, peer);
        let (shutdown, config) = (shutdown.clone(), config.clone());
        let spawned = thread::Builder::new()
            .name(format!("client {peer}")) // a panic message names the thread
            .spawn(move || {
                let _slot = slot; // given back when the thread ends, by a return or a panic
                serve_connection(stream, peer, &shutdown, &config);
            });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(e) => eprintln!("{peer}: could not start a thread: {e}"),
        }
    }
    drop(listener); // from now on a new client is refused, not left waiting
    for thread in threads {
        let _ = thread.join(); // a thread that panicked has said so already
    }
    Ok(())
}
// ANCHOR_END: run

// ANCHOR: slot
/// A place among the `max_connections`: taken before a connection's thread starts, and
/// given back when the thread ends, whether it returns or panics.
struct Slot {
    open: Arc<AtomicUsize>,
    peer: SocketAddr,
}

impl Slot {
    fn take(open: &Arc<AtomicUsize>, peer: SocketAddr) -> Slot {
        open.fetch_add(1, Ordering::SeqCst);
        Slot {
            open: Arc::clone(open),
            peer,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if thread::panicking() {
            let peer = self.peer;
            eprintln!("{peer}: panicked; connection closed, the others go on");
        }
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: slot

// ANCHOR: turn_away
/// Answers a connection the server has no room for with `503` and closes it, without
/// making the accept loop wait: it reads (and discards) only what the client has already
/// sent, so that the close does not reset the connection and destroy the answer.
pub(crate) fn turn_away(mut stream: TcpStream) {
    // A fresh connection's send buffer is empty: this write does not block.
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let _ = stream.write_all(&responder::busy());
    let _ = stream.shutdown(Direction::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
}
// ANCHOR_END: turn_away
